//! Many-item requests: BatchGetItem and BatchWriteItem within DynamoDB's
//! limits (100 keys, 25 writes per request; the emulator enforces neither),
//! retrying unprocessed items with backoff, TransactWriteItems, and a
//! Query read to its last page.

use super::item::{sdk_err, transaction_conflicted, Item};
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
/// Attempts of an unconditional transaction cancelled by conflicts.
const CONFLICT_ROUNDS: u32 = 4;

/// Backoff before retrying unprocessed items (DynamoDB asks for it).
async fn backoff(round: u32) {
    if round > 0 {
        let ms = 20u64 << round.min(6);
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
}

impl Store {
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

    /// One TransactWriteItems of unconditional writes (a plain request for
    /// a single Update).
    pub(crate) async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
        op: &'static str,
    ) -> Result<(), StoreError> {
        if items.len() > super::bindings::TRANSACT_MAX {
            return Err(StoreError::Corrupt(format!(
                "{} writes exceed one transaction",
                items.len()
            )));
        }
        if items.len() == 1 {
            if let Some(u) = items[0].update() {
                // One update needs no transaction (half the capacity).
                self.client
                    .update_item()
                    .table_name(u.table_name())
                    .set_key(Some(u.key().clone()))
                    .update_expression(u.update_expression())
                    .set_condition_expression(u.condition_expression().map(str::to_string))
                    .set_expression_attribute_names(u.expression_attribute_names().cloned())
                    .set_expression_attribute_values(u.expression_attribute_values().cloned())
                    .send()
                    .await
                    .map_err(sdk_err("UpdateItem"))?;
                return Ok(());
            }
        }
        // Unconditional writes only: cancelled by a conflict alone, nothing
        // was written and the same writes go again (bounded, with backoff).
        let mut round = 0u32;
        loop {
            backoff(round).await;
            round += 1;
            match self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await
            {
                Ok(_) => return Ok(()),
                Err(e) if round < CONFLICT_ROUNDS && transaction_conflicted(&e) => {
                    tracing::debug!(op, round, "transaction conflicted; sending it again");
                }
                Err(e) => return Err(sdk_err(op)(e)),
            }
        }
    }
}
