//! Certificate items: one vendor credential set and its click behaviour,
//! under the app's partition (`CERT#{id}`), listed with one Query.

use super::item::{conditional, get_n, get_s, get_ts, key, n, opt_s, s, sdk_err, ts, Item};
use super::keys as k;
use super::{Store, StoreError};
use crate::domain::{
    AppId, Category, Certificate, CertificateId, ClickAction, PushMode, Secret, VivoCredentials,
};
use aws_sdk_dynamodb::types::ReturnValue;
use std::collections::HashMap;

impl Store {
    fn certificate_item(app: &AppId, c: &Certificate) -> Item {
        let (click_type, click_target) = match &c.click_action {
            ClickAction::OpenApp => ("open_app", None),
            ClickAction::OpenUrl { url } => ("open_url", Some(url.as_str())),
            ClickAction::OpenPage { intent_uri } => ("open_page", Some(intent_uri.as_str())),
        };
        let mut item: Item = HashMap::from([
            (k::PK.to_string(), s(k::app_pk(app))),
            (k::SK.to_string(), s(k::cert_sk(c.id))),
            (k::CERT_ID.to_string(), n(c.id.get())),
            (k::CERT_PLATFORM.to_string(), s("vivo")),
            (k::CERT_NAME.to_string(), s(&c.name)),
            (k::CERT_VIVO_APP_ID.to_string(), n(c.credentials.app_id)),
            (k::CERT_APP_KEY.to_string(), s(&c.credentials.app_key)),
            (
                k::CERT_APP_SECRET.to_string(),
                s(c.credentials.app_secret.expose()),
            ),
            (k::CERT_CLICK_TYPE.to_string(), s(click_type)),
            (k::CERT_CATEGORY.to_string(), s(c.category.as_str())),
            (k::CERT_PUSH_MODE.to_string(), s(c.push_mode.as_str())),
            (k::CREATED_AT.to_string(), ts(c.created_at)),
            (k::UPDATED_AT.to_string(), ts(c.updated_at)),
        ]);
        if let Some(t) = click_target {
            item.insert(k::CERT_CLICK_TARGET.to_string(), s(t));
        }
        if let Some(t) = &c.default_title {
            item.insert(k::CERT_DEFAULT_TITLE.to_string(), s(t));
        }
        item
    }

    pub(crate) fn certificate_from_item(item: &Item) -> Result<Certificate, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("certificate {what}"));
        let id = CertificateId::new(get_n(item, k::CERT_ID)?).ok_or_else(|| corrupt("id"))?;
        let target = || {
            opt_s(item, k::CERT_CLICK_TARGET)
                .map(str::to_string)
                .ok_or_else(|| corrupt("click target"))
        };
        let click_action = match get_s(item, k::CERT_CLICK_TYPE)? {
            "open_app" => ClickAction::OpenApp,
            "open_url" => ClickAction::OpenUrl { url: target()? },
            "open_page" => ClickAction::OpenPage {
                intent_uri: target()?,
            },
            _ => return Err(corrupt("click type")),
        };
        Ok(Certificate {
            id,
            name: get_s(item, k::CERT_NAME)?.to_string(),
            credentials: VivoCredentials {
                app_id: get_n(item, k::CERT_VIVO_APP_ID)?,
                app_key: get_s(item, k::CERT_APP_KEY)?.to_string(),
                app_secret: Secret::new(get_s(item, k::CERT_APP_SECRET)?),
            },
            click_action,
            category: Category::parse("category", get_s(item, k::CERT_CATEGORY)?)
                .map_err(|_| corrupt("category"))?,
            push_mode: PushMode::parse("push_mode", get_s(item, k::CERT_PUSH_MODE)?)
                .map_err(|_| corrupt("push mode"))?,
            default_title: opt_s(item, k::CERT_DEFAULT_TITLE).map(str::to_string),
            created_at: get_ts(item, k::CREATED_AT)?,
            updated_at: get_ts(item, k::UPDATED_AT)?,
        })
    }

    /// Stores a new certificate under a freshly allocated id.
    pub async fn put_new_certificate(
        &self,
        app: &AppId,
        c: &Certificate,
    ) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Self::certificate_item(app, c)))
            // Protects: an allocated id is used by exactly one certificate.
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", k::PK)
            .send()
            .await
            .map_err(sdk_err("PutItem certificate"))?;
        Ok(())
    }

    /// Replaces an existing certificate; false when it does not exist (a
    /// concurrent delete wins: an edit never resurrects a deleted id).
    pub async fn replace_certificate(
        &self,
        app: &AppId,
        c: &Certificate,
    ) -> Result<bool, StoreError> {
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Self::certificate_item(app, c)))
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", k::PK)
            .send()
            .await;
        conditional(res, "PutItem certificate replace")
    }

    pub async fn get_certificate(
        &self,
        app: &AppId,
        id: CertificateId,
    ) -> Result<Option<Certificate>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(k::app_pk(app), &k::cert_sk(id))))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_err("GetItem certificate"))?;
        out.item
            .as_ref()
            .map(Self::certificate_from_item)
            .transpose()
    }

    /// All certificates of the app, by id.
    pub async fn list_certificates(&self, app: &AppId) -> Result<Vec<Certificate>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#pk", k::PK)
                .expression_attribute_names("#sk", k::SK)
                .expression_attribute_values(":pk", s(k::app_pk(app)))
                .expression_attribute_values(":prefix", s(k::CERT_SK_PREFIX))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(sdk_err("Query certificates"))?;
            for item in page.items() {
                out.push(Self::certificate_from_item(item)?);
            }
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        Ok(out)
    }

    /// Deletes a certificate; false when it did not exist.
    pub async fn delete_certificate(
        &self,
        app: &AppId,
        id: CertificateId,
    ) -> Result<bool, StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(k::app_pk(app), &k::cert_sk(id))))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(sdk_err("DeleteItem certificate"))?;
        Ok(out.attributes.is_some_and(|a| !a.is_empty()))
    }
}
