//! Item helpers shared by every item kind: attribute constructors and
//! readers, SDK error wrapping, and the one conditional-write outcome.

use super::StoreError;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;
use time::OffsetDateTime;

pub type Item = HashMap<String, AttributeValue>;

pub(crate) fn sdk_err<E, R>(op: &'static str) -> impl FnOnce(SdkError<E, R>) -> StoreError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    move |e| StoreError::Sdk {
        op,
        source: Box::new(e),
    }
}

/// True when a write lost a race: its ConditionExpression failed, or an
/// in-flight transaction held the item (TransactionConflictException).
/// Either way the caller re-reads and decides again; nothing was written.
pub(crate) fn lost_race<E, R>(e: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata,
{
    e.as_service_error()
        .and_then(|s| s.code())
        .is_some_and(|c| {
            matches!(
                c,
                "ConditionalCheckFailedException" | "TransactionConflictException"
            )
        })
}

/// True when a TransactWriteItems lost a race: cancelled because one of
/// its conditions failed or another transaction held an item, and for no
/// other reason (a cancellation for validation or throughput is a real
/// error). Nothing was written; the caller re-reads and decides again.
pub(crate) fn transaction_lost_race<R>(
    e: &SdkError<aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError, R>,
) -> bool {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    let by_race = match e.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(tc)) => {
            let reasons = tc.cancellation_reasons();
            reasons.iter().any(|r| {
                matches!(
                    r.code(),
                    Some("ConditionalCheckFailed") | Some("TransactionConflict")
                )
            }) && reasons.iter().all(|r| {
                matches!(
                    r.code(),
                    None | Some("None")
                        | Some("ConditionalCheckFailed")
                        | Some("TransactionConflict")
                )
            })
        }
        _ => false,
    };
    by_race || lost_race(e)
}

/// The outcome of a conditional write: Ok(true) written, Ok(false) lost
/// the race (see [`lost_race`]), Err for anything else.
pub(crate) fn conditional<T, E, R>(
    res: Result<T, SdkError<E, R>>,
    op: &'static str,
) -> Result<bool, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match res {
        Ok(_) => Ok(true),
        Err(e) if lost_race(&e) => Ok(false),
        Err(e) => Err(sdk_err(op)(e)),
    }
}

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn n(v: impl std::fmt::Display) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub(crate) fn get_s<'a>(item: &'a Item, name: &str) -> Result<&'a str, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Ok(v),
        _ => Err(StoreError::Corrupt(format!(
            "attribute {name} missing or not a string"
        ))),
    }
}

pub(crate) fn opt_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Some(v),
        _ => None,
    }
}

pub(crate) fn get_n<T: std::str::FromStr>(item: &Item, name: &str) -> Result<T, StoreError> {
    match item.get(name) {
        Some(AttributeValue::N(v)) => v
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("attribute {name} is not a valid number"))),
        _ => Err(StoreError::Corrupt(format!(
            "attribute {name} missing or not a number"
        ))),
    }
}

/// A number attribute that may be absent.
pub(crate) fn opt_n<T: std::str::FromStr>(
    item: &Item,
    name: &str,
) -> Result<Option<T>, StoreError> {
    match item.get(name) {
        None => Ok(None),
        Some(_) => get_n(item, name).map(Some),
    }
}

pub(crate) fn ts(t: OffsetDateTime) -> AttributeValue {
    n(t.unix_timestamp())
}

pub(crate) fn get_ts(item: &Item, name: &str) -> Result<OffsetDateTime, StoreError> {
    let secs: i64 = get_n(item, name)?;
    OffsetDateTime::from_unix_timestamp(secs)
        .map_err(|_| StoreError::Corrupt(format!("attribute {name} is not a timestamp")))
}

/// The (pk, sk) key of an item.
pub(crate) fn key(pk: String, sk: &str) -> Item {
    HashMap::from([
        (super::keys::PK.to_string(), s(pk)),
        (super::keys::SK.to_string(), s(sk)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::error::ErrorMetadata;
    use aws_sdk_dynamodb::operation::put_item::PutItemError;
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;

    fn service_error(code: &str) -> SdkError<PutItemError, Response> {
        let err = PutItemError::generic(ErrorMetadata::builder().code(code).build());
        let raw = Response::new(StatusCode::try_from(400).unwrap(), SdkBody::empty());
        SdkError::service_error(err, raw)
    }

    #[test]
    fn a_write_that_loses_to_a_condition_or_a_transaction_is_a_lost_race() {
        for code in [
            "ConditionalCheckFailedException",
            "TransactionConflictException",
        ] {
            let res: Result<(), _> = Err(service_error(code));
            assert!(!conditional(res, "PutItem").unwrap(), "{code}");
        }
        for code in [
            "ProvisionedThroughputExceededException",
            "ValidationException",
        ] {
            let res: Result<(), _> = Err(service_error(code));
            assert!(conditional(res, "PutItem").is_err(), "{code} is no race");
        }
        assert!(conditional(Ok::<(), SdkError<PutItemError, Response>>(()), "PutItem").unwrap());
    }
}
