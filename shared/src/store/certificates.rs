//! Certificate items: one vendor credential set and its click behaviour,
//! under the app's partition (`CERT#{id}`), listed with one Query. A
//! certificate with receipts also has a lookup item under its receipt
//! secret's hash, written in the same transaction. A deleted certificate
//! leaves a tombstone (id and deletion time, nothing else) for a while.

use super::item::{
    get_n, get_s, get_ts, key, n, opt_n, opt_s, s, sdk_err, transaction_lost_race, ts, Item,
};
use super::keys as k;
use super::{Store, StoreError};
use crate::domain::{
    AppId, Attr, Category, Certificate, CertificateId, ClickAction, Platform, PushMode, Receipts,
    VendorData,
};
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};
use std::collections::HashMap;

/// The certificates of an app as a push sees them: the live ones, and when
/// each recently deleted one went (ms).
#[derive(Clone, Debug, Default)]
pub struct CertificateSet {
    pub live: Vec<Certificate>,
    pub deleted: HashMap<CertificateId, i64>,
}

/// How long a rotated receipt URL keeps answering: a vendor whose console
/// registers the address may take up to about an hour to use a changed one
/// (the longest any vendor documents: docs/api.md), and receipts of pushes
/// sent before the rotation come to the old one meanwhile.
pub const RECEIPT_URL_GRACE_SECS: i64 = 3600;

/// How an edit changes the receipt lookup item.
pub struct ReceiptChange<'a> {
    /// The lookup to remove (the old secret's hash).
    pub drop: Option<&'a str>,
    /// Whether the certificate's (new) hash needs a lookup written.
    pub put: bool,
}

fn attr_value(v: &Attr) -> AttributeValue {
    match v {
        Attr::S(text) => s(text),
        Attr::N(num) => n(*num),
    }
}

fn attr(v: &AttributeValue) -> Option<Attr> {
    match v {
        AttributeValue::S(text) => Some(Attr::S(text.clone())),
        AttributeValue::N(num) => num.parse().ok().map(Attr::N),
        _ => None,
    }
}

impl Store {
    fn certificate_item(app: &AppId, c: &Certificate) -> Item {
        let (click_type, click_target) = match &c.click_action {
            ClickAction::OpenApp => ("open_app", None),
            ClickAction::OpenUrl { url } => ("open_url", Some(url.as_str())),
            ClickAction::OpenPage { intent_uri } => ("open_page", Some(intent_uri.as_str())),
        };
        let mut item: Item = HashMap::from([
            (k::PK.to_string(), s(k::certs_pk(app))),
            (k::SK.to_string(), s(k::cert_sk(c.id))),
            (k::CERT_ID.to_string(), n(c.id.get())),
            (k::CERT_PLATFORM.to_string(), s(c.platform.as_str())),
            (k::CERT_NAME.to_string(), s(&c.name)),
            (k::CERT_CLICK_TYPE.to_string(), s(click_type)),
            (k::CERT_CATEGORY.to_string(), s(c.category.as_str())),
            (k::CERT_PUSH_MODE.to_string(), s(c.push_mode.as_str())),
            (k::CREATED_AT.to_string(), ts(c.created_at)),
            (k::UPDATED_AT.to_string(), ts(c.updated_at)),
        ]);
        let prefix = format!("{}_", c.platform.as_str());
        for (name, v) in c.credentials.iter() {
            debug_assert!(name.starts_with(&prefix), "credential attribute {name}");
            item.insert(name.clone(), attr_value(v));
        }
        if !c.options.is_empty() {
            let map = c
                .options
                .iter()
                .map(|(name, v)| (name.clone(), attr_value(v)))
                .collect();
            item.insert(k::CERT_VENDOR_OPTIONS.to_string(), AttributeValue::M(map));
        }
        if let Some(t) = click_target {
            item.insert(k::CERT_CLICK_TARGET.to_string(), s(t));
        }
        if let Some(t) = &c.default_title {
            item.insert(k::CERT_DEFAULT_TITLE.to_string(), s(t));
        }
        if let Some(r) = &c.receipt {
            if let Some(id) = &r.receipt_id {
                item.insert(k::CERT_RECEIPT_ID.to_string(), s(id));
            }
            item.insert(k::CERT_RECEIPT_HASH.to_string(), s(&r.secret_hash));
            if let Some(secret) = &r.secret {
                item.insert(k::CERT_RECEIPT_SECRET.to_string(), s(secret.expose()));
            }
        }
        item
    }

    fn receipt_lookup_put(&self, app: &AppId, c: &Certificate, hash: &str) -> TransactWriteItem {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(key(k::receipt_pk(hash), k::RECEIPT_SK)))
            .item(k::RECEIPT_APP, s(app.as_str()))
            .item(k::CERT_ID, n(c.id.get()))
            .build()
            .expect("table and item set");
        TransactWriteItem::builder().put(put).build()
    }

    /// Bumps the version of the app's certificate set (see
    /// [`k::CERT_VERSION_SK`]).
    fn cert_version_bump(&self, app: &AppId) -> TransactWriteItem {
        let u = aws_sdk_dynamodb::types::Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(k::certs_pk(app), k::CERT_VERSION_SK)))
            .update_expression("ADD #v :one")
            .expression_attribute_names("#v", k::CERT_VERSION)
            .expression_attribute_values(":one", n(1))
            .build()
            .expect("table, key and expression set");
        TransactWriteItem::builder().update(u).build()
    }

    /// The version of the app's certificate set (0 before any write).
    async fn cert_version(&self, app: &AppId) -> Result<u64, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(k::certs_pk(app), k::CERT_VERSION_SK)))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_err("GetItem certificate version"))?;
        Ok(out
            .item
            .as_ref()
            .map(|i| opt_n(i, k::CERT_VERSION))
            .transpose()?
            .flatten()
            .unwrap_or(0))
    }

    /// The app's certificate set as [`Store::certificate_set`] reads it,
    /// from this instance's memory while the set's version is unchanged:
    /// one small strongly consistent read per push instead of a Query of
    /// every certificate (with its credentials) and tombstone.
    pub async fn certificate_set_current(&self, app: &AppId) -> Result<CertificateSet, StoreError> {
        let version = self.cert_version(app).await?;
        if let Some(set) = self.cache.certs(app, version) {
            return Ok(set);
        }
        // Read after the version: a write in between makes the next push
        // see a newer version and read again.
        let set = self.certificate_set(app).await?;
        self.cache.put_certs(app, version, set.clone());
        Ok(set)
    }

    /// Whether a live certificate `id` exists, without reading its
    /// credentials (token reporting needs no more).
    pub async fn certificate_exists(
        &self,
        app: &AppId,
        id: CertificateId,
    ) -> Result<bool, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(k::certs_pk(app), &k::cert_sk(id))))
            .projection_expression("#id, #del")
            .expression_attribute_names("#id", k::CERT_ID)
            .expression_attribute_names("#del", k::CERT_DELETED_AT)
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_err("GetItem certificate"))?;
        Ok(out
            .item
            .is_some_and(|i| !i.contains_key(k::CERT_DELETED_AT)))
    }

    fn receipt_lookup_retire(&self, app: &AppId, c: &Certificate, hash: &str) -> TransactWriteItem {
        let until = crate::clock::now_ms() / 1000 + RECEIPT_URL_GRACE_SECS;
        let u = aws_sdk_dynamodb::types::Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(k::receipt_pk(hash), k::RECEIPT_SK)))
            .update_expression("SET #g = :until, #exp = :until, #app = :app, #cert = :cert")
            .expression_attribute_names("#g", k::RECEIPT_GRACE_UNTIL)
            .expression_attribute_names("#exp", k::EXPIRES_AT)
            .expression_attribute_names("#app", k::RECEIPT_APP)
            .expression_attribute_names("#cert", k::CERT_ID)
            .expression_attribute_values(":until", n(until))
            .expression_attribute_values(":app", s(app.as_str()))
            .expression_attribute_values(":cert", n(c.id.get()))
            .build()
            .expect("table, key and expression set");
        TransactWriteItem::builder().update(u).build()
    }

    fn receipt_lookup_delete(&self, hash: &str) -> TransactWriteItem {
        let del = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(k::receipt_pk(hash), k::RECEIPT_SK)))
            .build()
            .expect("table and key set");
        TransactWriteItem::builder().delete(del).build()
    }

    /// Writes a certificate under `condition`, with its receipt lookup
    /// changes in the same transaction (a plain PutItem when there are none).
    async fn write_certificate(
        &self,
        app: &AppId,
        c: &Certificate,
        condition: &str,
        receipt: ReceiptChange<'_>,
    ) -> Result<bool, StoreError> {
        let mut extra = Vec::new();
        if let (true, Some(r)) = (receipt.put, &c.receipt) {
            extra.push(self.receipt_lookup_put(app, c, &r.secret_hash));
        }
        if let Some(old) = receipt.drop {
            match c.receipt.as_ref().map(|r| r.secret_hash.as_str()) {
                Some(new) if new == old => {}
                // Rotated: the old URL keeps answering for the vendor's
                // own propagation time (RECEIPT_URL_GRACE_SECS), then its
                // lookup expires.
                Some(_) => extra.push(self.receipt_lookup_retire(app, c, old)),
                // Receipts switched off: the URL ends at once.
                None => extra.push(self.receipt_lookup_delete(old)),
            }
        }
        // The set's version changes with it, in the same request.
        extra.push(self.cert_version_bump(app));
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(Self::certificate_item(app, c)))
            .condition_expression(condition)
            .expression_attribute_names("#pk", k::PK)
            .expression_attribute_names("#del", k::CERT_DELETED_AT)
            .build()
            .expect("table and item set");
        let mut items = vec![TransactWriteItem::builder().put(put).build()];
        items.extend(extra);
        let res = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            Err(e) if transaction_lost_race(&e) => Ok(false),
            Err(e) => Err(sdk_err("TransactWriteItems certificate")(e)),
        }
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
        let platform = Platform::from_name(get_s(item, k::CERT_PLATFORM)?)
            .ok_or_else(|| corrupt("platform"))?;
        let prefix = format!("{}_", platform.as_str());
        let mut credentials = VendorData::new();
        for (name, v) in item.iter().filter(|(name, _)| name.starts_with(&prefix)) {
            credentials.insert(name.clone(), attr(v).ok_or_else(|| corrupt(name))?);
        }
        let mut options = VendorData::new();
        if let Some(AttributeValue::M(map)) = item.get(k::CERT_VENDOR_OPTIONS) {
            for (name, v) in map {
                options.insert(name.clone(), attr(v).ok_or_else(|| corrupt(name))?);
            }
        }
        Ok(Certificate {
            id,
            platform,
            name: get_s(item, k::CERT_NAME)?.to_string(),
            credentials,
            options,
            click_action,
            category: Category::parse("category", get_s(item, k::CERT_CATEGORY)?)
                .map_err(|_| corrupt("category"))?,
            push_mode: PushMode::parse("push_mode", get_s(item, k::CERT_PUSH_MODE)?)
                .map_err(|_| corrupt("push mode"))?,
            default_title: opt_s(item, k::CERT_DEFAULT_TITLE).map(str::to_string),
            receipt: opt_s(item, k::CERT_RECEIPT_HASH).map(|hash| Receipts {
                receipt_id: opt_s(item, k::CERT_RECEIPT_ID).map(str::to_string),
                secret_hash: hash.to_string(),
                secret: opt_s(item, k::CERT_RECEIPT_SECRET).map(crate::domain::Secret::new),
            }),
            created_at: get_ts(item, k::CREATED_AT)?,
            updated_at: get_ts(item, k::UPDATED_AT)?,
        })
    }

    /// Stores a new certificate under a freshly allocated id (and its
    /// receipt lookup, when receipts are on).
    pub async fn put_new_certificate(
        &self,
        app: &AppId,
        c: &Certificate,
    ) -> Result<(), StoreError> {
        // Protects: an allocated id is used by exactly one certificate.
        let written = self
            .write_certificate(
                app,
                c,
                "attribute_not_exists(#pk) AND attribute_not_exists(#del)",
                ReceiptChange {
                    drop: None,
                    put: true,
                },
            )
            .await?;
        if written {
            Ok(())
        } else {
            Err(StoreError::Corrupt(format!(
                "certificate id {} was already in use",
                c.id
            )))
        }
    }

    /// Replaces an existing certificate; false when it does not exist (a
    /// concurrent delete wins: an edit never resurrects a deleted id).
    pub async fn replace_certificate(
        &self,
        app: &AppId,
        c: &Certificate,
        receipt: ReceiptChange<'_>,
    ) -> Result<bool, StoreError> {
        self.write_certificate(
            app,
            c,
            "attribute_exists(#pk) AND attribute_not_exists(#del)",
            receipt,
        )
        .await
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
            .set_key(Some(key(k::certs_pk(app), &k::cert_sk(id))))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_err("GetItem certificate"))?;
        out.item
            .as_ref()
            .filter(|item| !item.contains_key(k::CERT_DELETED_AT))
            .map(Self::certificate_from_item)
            .transpose()
    }

    /// All certificates of the app, by id.
    pub async fn list_certificates(&self, app: &AppId) -> Result<Vec<Certificate>, StoreError> {
        Ok(self.certificate_set(app).await?.live)
    }

    /// The app's live certificates and its recent deletions, in one Query.
    pub async fn certificate_set(&self, app: &AppId) -> Result<CertificateSet, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", k::PK)
            .expression_attribute_names("#sk", k::SK)
            .expression_attribute_values(":pk", s(k::certs_pk(app)))
            .expression_attribute_values(":prefix", s(k::CERT_SK_PREFIX))
            .consistent_read(true);
        let mut out = CertificateSet::default();
        for item in &self.query_all(query, "Query certificates").await? {
            match opt_n::<i64>(item, k::CERT_DELETED_AT)? {
                Some(at) => {
                    let id = CertificateId::new(get_n(item, k::CERT_ID)?)
                        .ok_or_else(|| StoreError::Corrupt("tombstone id".into()))?;
                    out.deleted.insert(id, at);
                }
                None => out.live.push(Self::certificate_from_item(item)?),
            }
        }
        Ok(out)
    }

    /// Deletes a certificate, leaving a tombstone with its id and the time
    /// (no credentials); false when it did not exist. Its receipt lookup
    /// goes in the same transaction, and the set's version changes.
    pub async fn delete_certificate(
        &self,
        app: &AppId,
        id: CertificateId,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        for _ in 0..8 {
            let Some(old) = self.get_certificate(app, id).await? else {
                return Ok(false);
            };
            let hash = old.receipt.as_ref().map(|r| r.secret_hash.clone());
            let mut tomb = Put::builder()
                .table_name(&self.table)
                .set_item(Some(key(k::certs_pk(app), &k::cert_sk(id))))
                .item(k::CERT_ID, n(id.get()))
                .item(k::CERT_DELETED_AT, n(now_ms))
                .item(k::EXPIRES_AT, n(now_ms / 1000 + k::CERT_TOMBSTONE_SECS))
                .expression_attribute_names("#pk", k::PK)
                .expression_attribute_names("#del", k::CERT_DELETED_AT)
                .expression_attribute_names("#rh", k::CERT_RECEIPT_HASH);
            // Still the certificate read: its receipt lookup is the one
            // this deletes.
            tomb = match &hash {
                Some(h) => tomb
                    .condition_expression(
                        "attribute_exists(#pk) AND attribute_not_exists(#del) AND #rh = :rh",
                    )
                    .expression_attribute_values(":rh", s(h.clone())),
                None => tomb.condition_expression(
                    "attribute_exists(#pk) AND attribute_not_exists(#del) AND attribute_not_exists(#rh)",
                ),
            };
            let mut items = vec![
                TransactWriteItem::builder()
                    .put(tomb.build().expect("table and item set"))
                    .build(),
                self.cert_version_bump(app),
            ];
            if let Some(h) = &hash {
                items.push(self.receipt_lookup_delete(h));
            }
            let res = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items))
                .send()
                .await;
            match res {
                Ok(_) => return Ok(true),
                // Changed or deleted meanwhile: read again.
                Err(e) if transaction_lost_race(&e) => continue,
                Err(e) => return Err(sdk_err("TransactWriteItems certificate delete")(e)),
            }
        }
        Err(StoreError::Corrupt(
            "certificate kept changing while being deleted".into(),
        ))
    }

    /// The app and certificate a receipt secret's hash names, if the
    /// certificate still holds that secret.
    pub async fn receipt_target(
        &self,
        secret_hash: &str,
    ) -> Result<Option<(AppId, Certificate)>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(k::receipt_pk(secret_hash), k::RECEIPT_SK)))
            .send()
            .await
            .map_err(sdk_err("GetItem receipt lookup"))?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let app = AppId::parse("app_id", get_s(&item, k::RECEIPT_APP)?)
            .map_err(|_| StoreError::Corrupt("receipt lookup app".into()))?;
        let id = CertificateId::new(get_n(&item, k::CERT_ID)?)
            .ok_or_else(|| StoreError::Corrupt("receipt lookup certificate".into()))?;
        // A rotated URL's lookup answers until its grace ends, for the
        // certificate as long as it still takes receipts.
        let grace = opt_n::<i64>(&item, k::RECEIPT_GRACE_UNTIL)?
            .is_some_and(|until| until > crate::clock::now_ms() / 1000);
        let cert = self.get_certificate(&app, id).await?;
        Ok(cert
            .filter(|c| {
                c.receipt
                    .as_ref()
                    .is_some_and(|r| r.secret_hash == secret_hash || grace)
            })
            .map(|c| (app, c)))
    }
}
