//! Vendor state items, one partition per vendor account (for vivo: one
//! AppID with one credential set, see `keys::vendor_pk`): the shared auth
//! token (`#AUTH`) and the send pauses a vendor imposed (`PAUSE#{scope}`),
//! read together with one Query.

use super::item::{conditional, get_n, get_s, key, n, s, sdk_err};
use super::keys as k;
use super::{Store, StoreError};

/// A pause the vendor imposed on one scope of an account (a message class,
/// an endpoint): nothing in that scope is sent before `until`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PauseRecord {
    pub scope: String,
    /// The vendor's result code that caused it.
    pub code: i64,
    /// Epoch seconds.
    pub until: i64,
    pub set_at: i64,
}

/// An account's shared access token.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredToken {
    pub value: String,
    /// Epoch seconds.
    pub obtained: i64,
    /// Epoch seconds: when the vendor stops taking it (the item's TTL).
    pub expires_at: i64,
}

impl std::fmt::Debug for StoredToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredToken")
            .field("obtained", &self.obtained)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Everything stored for one vendor account that is still in force.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VendorState {
    pub auth: Option<StoredToken>,
    pub pauses: Vec<PauseRecord>,
}

impl Store {
    /// The account's auth token and pauses, expired ones left out (DynamoDB
    /// deletes lazily). One Query, eventually consistent: a pause set an
    /// instant ago elsewhere costs at most one more refused call.
    pub async fn vendor_state(
        &self,
        account: &str,
        now_secs: i64,
    ) -> Result<VendorState, StoreError> {
        let items = self
            .query_partition(account.to_string(), "Query vendor state")
            .await?;
        let mut state = VendorState::default();
        for item in &items {
            let expires: i64 = get_n(item, k::EXPIRES_AT)?;
            if expires <= now_secs {
                continue;
            }
            let sk = get_s(item, k::SK)?;
            if sk == k::VENDOR_AUTH_SK {
                state.auth = Some(StoredToken {
                    value: get_s(item, k::VENDOR_AUTH_TOKEN)?.to_string(),
                    obtained: get_n(item, k::VENDOR_AUTH_OBTAINED_AT)?,
                    expires_at: expires,
                });
            } else if let Some(scope) = sk.strip_prefix(k::VENDOR_PAUSE_SK_PREFIX) {
                state.pauses.push(PauseRecord {
                    scope: scope.to_string(),
                    code: get_n(item, k::PAUSE_CODE)?,
                    until: expires,
                    set_at: get_n(item, k::PAUSE_SET_AT)?,
                });
            }
        }
        Ok(state)
    }

    pub async fn put_vendor_auth(
        &self,
        account: &str,
        token: &str,
        obtained_at: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(key(account.to_string(), k::VENDOR_AUTH_SK)))
            .item(k::VENDOR_AUTH_TOKEN, s(token))
            .item(k::VENDOR_AUTH_OBTAINED_AT, n(obtained_at))
            .item(k::EXPIRES_AT, n(expires_at))
            .send()
            .await
            .map_err(sdk_err("PutItem vendor auth"))?;
        Ok(())
    }

    /// Claims the account's token refresh until `lease_until` (epoch
    /// seconds): true for the one caller whose conditional write wins while
    /// no unexpired claim stands, false for every other.
    pub async fn claim_vendor_refresh(
        &self,
        account: &str,
        now_secs: i64,
        lease_until: i64,
    ) -> Result<bool, StoreError> {
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(key(account.to_string(), k::VENDOR_REFRESH_SK)))
            .item(k::EXPIRES_AT, n(lease_until))
            // Protects: one instance at a time refreshes an account's token.
            .condition_expression("attribute_not_exists(#pk) OR #exp <= :now")
            .expression_attribute_names("#pk", k::PK)
            .expression_attribute_names("#exp", k::EXPIRES_AT)
            .expression_attribute_values(":now", n(now_secs))
            .send()
            .await;
        conditional(res, "PutItem vendor refresh lease")
    }

    /// Forgets a token the vendor refused, unless another instance already
    /// replaced it.
    pub async fn drop_vendor_auth(&self, account: &str, token: &str) -> Result<(), StoreError> {
        let res = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(account.to_string(), k::VENDOR_AUTH_SK)))
            // Protects: a fresh token stored by another instance is not dropped.
            .condition_expression("#t = :t")
            .expression_attribute_names("#t", k::VENDOR_AUTH_TOKEN)
            .expression_attribute_values(":t", s(token))
            .send()
            .await;
        conditional(res, "DeleteItem vendor auth").map(|_| ())
    }

    /// Records a pause of `scope` until `until` (epoch seconds, also the
    /// item's TTL). A later pause of the same scope replaces it.
    pub async fn put_pause(
        &self,
        account: &str,
        scope: &str,
        code: i64,
        until: i64,
        now_secs: i64,
    ) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(key(
                account.to_string(),
                &format!("{}{scope}", k::VENDOR_PAUSE_SK_PREFIX),
            )))
            .item(k::PAUSE_CODE, n(code))
            .item(k::PAUSE_SET_AT, n(now_secs))
            .item(k::EXPIRES_AT, n(until))
            .send()
            .await
            .map_err(sdk_err("PutItem vendor pause"))?;
        Ok(())
    }

    /// Lifts the account's pauses (all, or one scope); returns how many
    /// were in force.
    pub async fn clear_pauses(
        &self,
        account: &str,
        scope: Option<&str>,
        now_secs: i64,
    ) -> Result<usize, StoreError> {
        let state = self.vendor_state(account, now_secs).await?;
        let mut cleared = 0;
        for p in state
            .pauses
            .iter()
            .filter(|p| scope.is_none_or(|s| s == p.scope))
        {
            self.client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(key(
                    account.to_string(),
                    &format!("{}{}", k::VENDOR_PAUSE_SK_PREFIX, p.scope),
                )))
                .send()
                .await
                .map_err(sdk_err("DeleteItem vendor pause"))?;
            cleared += 1;
        }
        Ok(cleared)
    }
}
