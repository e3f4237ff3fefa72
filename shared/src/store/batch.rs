//! Many-item requests: BatchGetItem and BatchWriteItem within DynamoDB's
//! limits (100 keys, 25 writes per request; the emulator enforces neither),
//! retrying unprocessed items with backoff, TransactWriteItems, and a
//! Query read to its last page.

use super::item::{sdk_err, Item};
use super::{Store, StoreError};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{KeysAndAttributes, PutRequest, TransactWriteItem, WriteRequest};
use std::time::Duration;

/// DynamoDB's BatchGetItem limit.
pub const BATCH_GET_MAX: usize = 100;
/// DynamoDB's BatchWriteItem limit.
pub const BATCH_WRITE_MAX: usize = 25;
/// Rounds of unprocessed items before giving up.
const MAX_ROUNDS: u32 = 8;

/// Backoff before retrying unprocessed items (DynamoDB asks for it).
async fn backoff(round: u32) {
    if round > 0 {
        let ms = 20u64 << round.min(6);
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
}

impl Store {
    /// Every item of the partition `pk` (eventually consistent).
    pub(crate) async fn query_partition(
        &self,
        pk: String,
        op: &'static str,
    ) -> Result<Vec<Item>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", super::keys::PK)
            .expression_attribute_values(":pk", super::item::s(pk));
        self.query_all(query, op).await
    }

    /// Every item a Query matches, page after page (DynamoDB pages at 1 MB).
    pub(crate) async fn query_all(
        &self,
        query: QueryFluentBuilder,
        op: &'static str,
    ) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = query
                .clone()
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(sdk_err(op))?;
            out.extend(page.items.unwrap_or_default());
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(out),
            }
        }
    }

    /// Reads `keys` (strongly consistent), optionally projected; answers
    /// the items found and the number of requests made.
    pub(crate) async fn batch_get_counted(
        &self,
        keys: Vec<Item>,
        projection: Option<String>,
    ) -> Result<(Vec<Item>, usize), StoreError> {
        let mut found = Vec::new();
        let mut requests = 0;
        for chunk in keys.chunks(BATCH_GET_MAX) {
            let mut left: Vec<Item> = chunk.to_vec();
            let mut round = 0u32;
            while !left.is_empty() {
                backoff(round).await;
                round += 1;
                if round > MAX_ROUNDS {
                    return Err(StoreError::Corrupt(
                        "BatchGetItem kept returning unprocessed keys".into(),
                    ));
                }
                let ka = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut left)))
                    .consistent_read(true)
                    .set_projection_expression(projection.clone())
                    .build()
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                requests += 1;
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, ka)
                    .send()
                    .await
                    .map_err(sdk_err("BatchGetItem"))?;
                found.extend(
                    out.responses
                        .and_then(|mut r| r.remove(&self.table))
                        .unwrap_or_default(),
                );
                if let Some(ka) = out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)) {
                    left = ka.keys;
                }
            }
        }
        Ok((found, requests))
    }

    pub(crate) async fn batch_get(
        &self,
        keys: Vec<Item>,
        projection: Option<String>,
    ) -> Result<Vec<Item>, StoreError> {
        Ok(self.batch_get_counted(keys, projection).await?.0)
    }

    /// Puts `items` (unconditional), 25 per request, `concurrency` requests
    /// at a time. Answers the number of requests made.
    pub(crate) async fn batch_put(
        &self,
        items: Vec<Item>,
        concurrency: usize,
    ) -> Result<usize, StoreError> {
        use futures::StreamExt;
        let chunks: Vec<Vec<Item>> = items
            .chunks(BATCH_WRITE_MAX)
            .map(<[Item]>::to_vec)
            .collect();
        let results: Vec<Result<usize, StoreError>> = futures::stream::iter(chunks)
            .map(|chunk| self.batch_put_chunk(chunk))
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
        results.into_iter().sum()
    }

    async fn batch_put_chunk(&self, chunk: Vec<Item>) -> Result<usize, StoreError> {
        let mut left: Vec<WriteRequest> = chunk
            .into_iter()
            .map(|item| {
                PutRequest::builder()
                    .set_item(Some(item))
                    .build()
                    .map(|p| WriteRequest::builder().put_request(p).build())
                    .map_err(|e| StoreError::Corrupt(e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        let mut requests = 0;
        let mut round = 0u32;
        while !left.is_empty() {
            backoff(round).await;
            round += 1;
            if round > MAX_ROUNDS {
                return Err(StoreError::Corrupt(
                    "BatchWriteItem kept returning unprocessed items".into(),
                ));
            }
            requests += 1;
            let out = self
                .client
                .batch_write_item()
                .request_items(&self.table, std::mem::take(&mut left))
                .send()
                .await
                .map_err(sdk_err("BatchWriteItem"))?;
            if let Some(rest) = out
                .unprocessed_items
                .and_then(|mut u| u.remove(&self.table))
            {
                left = rest;
            }
        }
        Ok(requests)
    }
}

/// How [`Store::transact_exact`] ended.
#[derive(Debug, PartialEq)]
pub(crate) enum Exact {
    /// Applied, exactly once.
    Applied,
    /// Cancelled because a condition failed: nothing was written. The
    /// cancellation reasons, in item order.
    ConditionFailed(Vec<Option<String>>),
}

/// Why a TransactWriteItems did not apply, as [`Store::transact_exact`]
/// acts on it.
enum TxError {
    /// Cancelled with a failed condition (maybe with others): nothing written.
    Condition(Vec<Option<String>>),
    /// Cancelled only for conflicts with other in-flight requests or for
    /// an item's throughput: nothing written, the writes may be rebuilt
    /// (another statistics shard) and sent under a new token.
    Contended,
    /// Throttled as a whole, or the same token still in progress: nothing
    /// known to be written; the same writes go again under the same token.
    Again,
    /// No answer (timeout, I/O, 5xx): it may have been applied. Only the
    /// same writes under the same token may go again (DynamoDB answers a
    /// repeat of an applied token as applied, for 10 minutes).
    Unknown,
    /// Anything else: a real error.
    Fatal,
}

fn tx_error<R>(
    e: &aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
        R,
    >,
) -> TxError {
    use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError as E;
    match e {
        SdkError::ServiceError(s) => match s.err() {
            E::TransactionCanceledException(tc) => {
                let reasons: Vec<Option<String>> = tc
                    .cancellation_reasons()
                    .iter()
                    .map(|r| r.code().map(str::to_string))
                    .collect();
                let code = |r: &Option<String>| r.as_deref().unwrap_or("None").to_string();
                if reasons.iter().any(|r| code(r) == "ConditionalCheckFailed") {
                    TxError::Condition(reasons)
                } else if reasons.iter().any(|r| code(r) != "None")
                    && reasons.iter().all(|r| {
                        matches!(
                            code(r).as_str(),
                            "None"
                                | "TransactionConflict"
                                | "ThrottlingError"
                                | "ProvisionedThroughputExceeded"
                        )
                    })
                {
                    TxError::Contended
                } else {
                    TxError::Fatal
                }
            }
            E::TransactionInProgressException(_) => TxError::Again,
            E::ProvisionedThroughputExceededException(_) | E::RequestLimitExceeded(_) => {
                TxError::Again
            }
            E::InternalServerError(_) => TxError::Unknown,
            other => match other.code() {
                Some("ThrottlingException") => TxError::Again,
                Some("TransactionConflictException") => TxError::Contended,
                _ => TxError::Fatal,
            },
        },
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            TxError::Unknown
        }
        _ => TxError::Fatal,
    }
}

impl Store {
    /// A TransactWriteItems that applies exactly once by `deadline`, for
    /// writes that must never count twice (statistics) or be lost (a push's
    /// record). `build(round)` gives the writes and their ClientRequestToken
    /// (at most 36 characters): a new round after a cancellation for
    /// conflicts or throughput (nothing written: the caller may pick other
    /// items, e.g. another statistics shard, under a new token); the very
    /// same writes and token again after an answer that never came (the
    /// write may have committed: DynamoDB answers a repeated token as
    /// applied for 10 minutes, applying nothing twice) or a throttled
    /// request. Backoff between attempts; past the deadline, an error.
    pub(crate) async fn transact_exact<F>(
        &self,
        op: &'static str,
        deadline: std::time::Instant,
        mut build: F,
    ) -> Result<Exact, StoreError>
    where
        F: FnMut(u32) -> Result<(Vec<TransactWriteItem>, String), StoreError>,
    {
        let mut round = 0u32;
        let mut attempt = 0u32;
        let (mut items, mut token) = build(round)?;
        loop {
            let send = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .client_request_token(&token)
                .send();
            let e = match tokio::time::timeout_at(deadline.into(), send).await {
                Ok(Ok(_)) => return Ok(Exact::Applied),
                Ok(Err(e)) => e,
                Err(_) => {
                    return Err(StoreError::Corrupt(format!(
                        "{op}: no answer within its time budget"
                    )))
                }
            };
            let kind = tx_error(&e);
            if let TxError::Condition(reasons) = kind {
                return Ok(Exact::ConditionFailed(reasons));
            }
            if matches!(kind, TxError::Fatal) {
                return Err(sdk_err(op)(e));
            }
            attempt += 1;
            let pause = Duration::from_millis((10u64 << attempt.min(7)).min(1000));
            let jitter = Duration::from_millis(rand::random::<u64>() % 10);
            if std::time::Instant::now() + pause + jitter >= deadline {
                return Err(sdk_err(op)(e));
            }
            tokio::time::sleep(pause + jitter).await;
            if matches!(kind, TxError::Contended) {
                round += 1;
                tracing::debug!(
                    op,
                    round,
                    "transaction cancelled by contention; sending it again"
                );
                (items, token) = build(round)?;
            } else {
                tracing::debug!(
                    op,
                    attempt,
                    "transaction unanswered or throttled; repeating it under its token"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::error::SdkError;
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;

    fn cancelled(
        codes: &[&str],
    ) -> SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
        Response,
    > {
        use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
        use aws_sdk_dynamodb::types::error::TransactionCanceledException;
        use aws_sdk_dynamodb::types::CancellationReason;
        let reasons = codes
            .iter()
            .map(|c| CancellationReason::builder().code(*c).build())
            .collect();
        let err = TransactWriteItemsError::TransactionCanceledException(
            TransactionCanceledException::builder()
                .set_cancellation_reasons(Some(reasons))
                .build(),
        );
        let raw = Response::new(StatusCode::try_from(400).unwrap(), SdkBody::empty());
        SdkError::service_error(err, raw)
    }

    fn kind(codes: &[&str]) -> &'static str {
        match tx_error(&cancelled(codes)) {
            TxError::Condition(_) => "condition",
            TxError::Contended => "contended",
            TxError::Again => "again",
            TxError::Unknown => "unknown",
            TxError::Fatal => "fatal",
        }
    }

    #[test]
    fn cancellations_for_conflicts_or_an_items_throughput_are_sent_again_and_conditions_are_answered(
    ) {
        assert_eq!(kind(&["None", "TransactionConflict"]), "contended");
        assert_eq!(
            kind(&["TransactionConflict", "TransactionConflict"]),
            "contended"
        );
        // A hot item's throughput cancels the transaction the same way:
        // nothing was written, and it goes again.
        assert_eq!(kind(&["ThrottlingError", "None"]), "contended");
        assert_eq!(
            kind(&["ThrottlingError", "TransactionConflict"]),
            "contended"
        );
        assert_eq!(kind(&["None", "ConditionalCheckFailed"]), "condition");
        assert_eq!(
            kind(&["TransactionConflict", "ConditionalCheckFailed"]),
            "condition"
        );
        assert_eq!(kind(&["ProvisionedThroughputExceeded"]), "contended");
        for codes in [&["TransactionConflict", "ValidationError"][..], &["None"]] {
            assert_eq!(kind(codes), "fatal", "{codes:?}");
        }
    }
}
