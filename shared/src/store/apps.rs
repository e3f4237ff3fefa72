//! App items: a tenant's signing secret, settings and certificate-id counter.

use super::item::{conditional, get_n, get_s, get_ts, key, n, opt_n, s, sdk_err, ts};
use super::keys as k;
use super::{Store, StoreError};
use crate::domain::{App, AppId, AppSettings, CertificateId, Secret};
use aws_sdk_dynamodb::types::ReturnValue;

impl Store {
    /// Creates an app; false when the id is taken (nothing is overwritten).
    pub async fn create_app(&self, app: &App) -> Result<bool, StoreError> {
        let mut req = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(key(k::app_pk(&app.id), k::APP_SK)))
            .item(k::APP_SECRET, s(app.signing_secret.expose()))
            .item(k::APP_MAX_DEVICES, n(app.settings.max_devices_per_user));
        if let Some(days) = app.settings.binding_ttl_days {
            req = req.item(k::APP_TTL_DAYS, n(days));
        }
        if let Some(limit) = app.settings.push_rate_limit {
            req = req.item(k::APP_PUSH_RATE_LIMIT, n(limit));
        }
        let res = req
            .item(k::CREATED_AT, ts(app.created_at))
            // Protects: an app id is created once; its secret is never replaced by a re-run.
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", k::PK)
            .send()
            .await;
        conditional(res, "PutItem app")
    }

    /// The app as [`Store::get_app`] reads it, from this instance's memory
    /// for up to [`super::cache::APP_CACHE_TTL`]; with the age of what
    /// was served (zero: read just now).
    pub async fn get_app_cached(
        &self,
        app: &AppId,
    ) -> Result<(Option<App>, std::time::Duration), StoreError> {
        if let Some(hit) = self.cache.app(app) {
            return Ok(hit);
        }
        let read = self.get_app(app).await?;
        self.cache.put_app(app, read.clone());
        Ok((read, std::time::Duration::ZERO))
    }

    /// Drops the cached app, so the next request reads it.
    pub fn forget_cached_app(&self, app: &AppId) {
        self.cache.forget_app(app);
    }

    pub async fn get_app(&self, app: &AppId) -> Result<Option<App>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(k::app_pk(app), k::APP_SK)))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_err("GetItem app"))?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        Ok(Some(App {
            id: app.clone(),
            signing_secret: Secret::new(get_s(&item, k::APP_SECRET)?),
            settings: AppSettings {
                max_devices_per_user: get_n(&item, k::APP_MAX_DEVICES)?,
                binding_ttl_days: opt_n(&item, k::APP_TTL_DAYS)?,
                push_rate_limit: opt_n(&item, k::APP_PUSH_RATE_LIMIT)?,
            },
            created_at: get_ts(&item, k::CREATED_AT)?,
        }))
    }

    /// Changes settings of an existing app; false when there is no such app.
    pub async fn update_app_settings(
        &self,
        app: &AppId,
        max_devices_per_user: Option<u32>,
        binding_ttl_days: Option<u32>,
    ) -> Result<bool, StoreError> {
        let mut sets = Vec::new();
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(k::app_pk(app), k::APP_SK)))
            .expression_attribute_names("#pk", k::PK);
        if let Some(v) = max_devices_per_user {
            sets.push("#md = :md");
            req = req
                .expression_attribute_names("#md", k::APP_MAX_DEVICES)
                .expression_attribute_values(":md", n(v));
        }
        if let Some(v) = binding_ttl_days {
            sets.push("#td = :td");
            req = req
                .expression_attribute_names("#td", k::APP_TTL_DAYS)
                .expression_attribute_values(":td", n(v));
        }
        if sets.is_empty() {
            return Ok(self.get_app(app).await?.is_some());
        }
        let res = req
            .update_expression(format!("SET {}", sets.join(", ")))
            // Protects: settings never create a half app without a secret.
            .condition_expression("attribute_exists(#pk)")
            .send()
            .await;
        conditional(res, "UpdateItem app settings")
    }

    /// Sets the app's push rate limit (`Some(0)`: no limit), or removes it
    /// (None: the deployment's default); false when there is no such app.
    pub async fn set_app_push_rate_limit(
        &self,
        app: &AppId,
        limit: Option<u32>,
    ) -> Result<bool, StoreError> {
        let req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(k::app_pk(app), k::APP_SK)))
            .expression_attribute_names("#pk", k::PK)
            .expression_attribute_names("#rl", k::APP_PUSH_RATE_LIMIT);
        let req = match limit {
            Some(v) => req
                .update_expression("SET #rl = :rl")
                .expression_attribute_values(":rl", n(v)),
            None => req.update_expression("REMOVE #rl"),
        };
        // Protects: settings never create a half app without a secret.
        let res = req
            .condition_expression("attribute_exists(#pk)")
            .send()
            .await;
        conditional(res, "UpdateItem app push rate limit")
    }

    /// The next certificate id of the app. An atomic ADD on the app's
    /// counter item (`CERT#{app}`, `#COUNTER`): two concurrent creates
    /// always get different ids, and ids are never reused after a delete
    /// (a stale client report can't hit a new cert). Callers have read the
    /// app (authentication), so the counter never belongs to a missing app.
    pub async fn allocate_certificate_id(&self, app: &AppId) -> Result<CertificateId, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(k::certs_pk(app), k::CERT_COUNTER_SK)))
            .update_expression("ADD #next :one")
            .expression_attribute_names("#next", k::APP_NEXT_CERT_ID)
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(sdk_err("UpdateItem certificate counter"))?;
        let attrs = out.attributes.unwrap_or_default();
        let id: u64 = get_n(&attrs, k::APP_NEXT_CERT_ID)?;
        CertificateId::new(id)
            .ok_or_else(|| StoreError::Corrupt("certificate id out of range".into()))
    }
}
