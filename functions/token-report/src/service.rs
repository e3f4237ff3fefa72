//! Binding use cases: report, device logout, user logout, listing. The
//! rules themselves live in `offpush::bindings`, shared with push
//! dispatch's dead-token cleanup.

pub use offpush::bindings::{list_devices, logout_device, logout_user, report, ReportOutcome};
pub use offpush::clock::now_ms;
pub use offpush::domain::binding::{DeviceSelector, Report};
