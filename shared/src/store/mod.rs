//! State in DynamoDB: key names ([`keys`]), the table shape ([`schema`]) and
//! the one adapter ([`dynamo::Store`]). Only `dynamo` and its submodules
//! touch the AWS SDK.

pub mod bindings;
pub mod dynamo;
pub mod keys;
pub mod pushes;
pub mod schema;

pub use dynamo::Store;

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
