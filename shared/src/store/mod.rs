//! State in DynamoDB: key names ([`keys`]), the table shape ([`schema`]) and
//! the one adapter ([`dynamo::Store`]), with one module per item kind (apps,
//! certificates, [`bindings`], [`pushes`], [`vendor`] state) over shared
//! [`item`] helpers. Only this module touches the AWS SDK.

pub mod actions;
mod apps;
mod batch;
pub mod bindings;
pub mod cache;
pub mod certificates;
pub mod dynamo;
pub mod item;
pub mod keys;
pub mod pushes;
pub mod pushlog;
mod rate;
pub mod receipts;
pub mod schema;
pub mod stats;
pub mod vendor;

pub use dynamo::{https_client, Store};

use crate::error::ServiceError;

/// A store failure. Conditional-check failures are answered by the methods
/// themselves; what reaches here is an outage or a bug.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("DynamoDB request failed: {op}")]
    Sdk {
        op: &'static str,
        #[source]
        source: crate::error::BoxError,
    },
    #[error("stored item is malformed: {0}")]
    Corrupt(String),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        ServiceError::internal("store", e)
    }
}
