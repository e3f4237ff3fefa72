//! The aws-sdk-dynamodb adapter: item <-> domain mapping and every request
//! the product makes. Conditions say which invariant they protect.

use super::keys::{self as k};
use super::schema;
use super::StoreError;
use crate::domain::{
    App, AppId, AppSettings, Category, Certificate, CertificateId, ClickAction, PushMode, Secret,
    VivoCredentials,
};
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use aws_sdk_dynamodb::Client;
use std::collections::HashMap;
use time::OffsetDateTime;

pub type Item = HashMap<String, AttributeValue>;

/// The store: one table, one client. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) client: Client,
    pub(crate) table: String,
    /// A non-AWS endpoint (emulator), when one is configured.
    endpoint: Option<String>,
}

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

/// True when the error is a failed ConditionExpression.
pub(crate) fn is_condition_failed<E, R>(e: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata,
{
    e.as_service_error()
        .and_then(|s| s.code())
        .is_some_and(|c| c == "ConditionalCheckFailedException")
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

pub(crate) fn ts(t: OffsetDateTime) -> AttributeValue {
    n(t.unix_timestamp())
}

pub(crate) fn get_ts(item: &Item, name: &str) -> Result<OffsetDateTime, StoreError> {
    let secs: i64 = get_n(item, name)?;
    OffsetDateTime::from_unix_timestamp(secs)
        .map_err(|_| StoreError::Corrupt(format!("attribute {name} is not a timestamp")))
}

pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Store {
            client,
            table: table.into(),
            endpoint: None,
        }
    }

    /// A store from the standard AWS environment (region, credentials,
    /// `AWS_ENDPOINT_URL_DYNAMODB` for a local emulator).
    pub async fn from_env(table: impl Into<String>) -> Self {
        Store::from_env_in(table, None).await
    }

    /// As [`Store::from_env`], with an explicit region when given.
    pub async fn from_env_in(table: impl Into<String>, region: Option<&str>) -> Self {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(r) = region {
            loader = loader.region(aws_config::Region::new(r.to_string()));
        }
        let sdk = loader.load().await;
        let mut conf = aws_sdk_dynamodb::config::Builder::from(&sdk);
        // `sam local` passes declared-but-unset variables as empty strings,
        // and the SDK takes an empty endpoint URL as an endpoint (then fails
        // on first use): blank means "use AWS's own endpoint".
        let var = |name: &str| std::env::var(name).ok().map(|v| v.trim().to_string());
        let endpoint = match (var("AWS_ENDPOINT_URL_DYNAMODB"), var("AWS_ENDPOINT_URL")) {
            (Some(v), _) if v.is_empty() => None,
            (Some(v), _) => Some(v),
            (None, Some(v)) if v.is_empty() => None,
            (None, v) => v,
        };
        let blank = [var("AWS_ENDPOINT_URL_DYNAMODB"), var("AWS_ENDPOINT_URL")]
            .iter()
            .any(|v| v.as_deref() == Some(""));
        if endpoint.is_none() && blank {
            conf.set_endpoint_url(None);
        }
        Store {
            endpoint,
            ..Store::new(Client::from_conf(conf.build()), table)
        }
    }

    /// The endpoint in use when it is not AWS's own.
    pub fn endpoint_url(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    /// A store on an explicit endpoint with static dummy credentials: for
    /// the local emulator (tests, the admin tool's `--endpoint-url`).
    pub async fn for_endpoint(endpoint: &str, region: &str, table: impl Into<String>) -> Self {
        let creds = aws_sdk_dynamodb::config::Credentials::new(
            "local",
            "local",
            None,
            None,
            "offpush-local",
        );
        let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(aws_config::Region::new(region.to_string()))
            .credentials_provider(creds)
            .load()
            .await;
        Store {
            endpoint: Some(endpoint.to_string()),
            ..Store::new(Client::new(&conf), table)
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Creates the table from [`schema`] and turns TTL on. For local runs and
    /// tests; deployed stacks get the table from template.yaml.
    pub async fn create_table(&self) -> Result<(), StoreError> {
        use aws_sdk_dynamodb::types::{
            AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
            TimeToLiveSpecification,
        };
        let mut req = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::from(schema::BILLING_MODE));
        for (name, ty) in schema::ATTRIBUTES {
            req = req.attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(*name)
                    .attribute_type(ScalarAttributeType::from(*ty))
                    .build()
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            );
        }
        for (name, ty) in schema::KEY_SCHEMA {
            req = req.key_schema(
                KeySchemaElement::builder()
                    .attribute_name(*name)
                    .key_type(KeyType::from(*ty))
                    .build()
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            );
        }
        match req.send().await {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .and_then(|s| s.code())
                    .is_some_and(|c| c == "ResourceInUseException") => {}
            Err(e) => return Err(sdk_err("CreateTable")(e)),
        }
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .enabled(true)
                    .attribute_name(schema::TTL_ATTRIBUTE)
                    .build()
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            )
            .send()
            .await
            .map_err(sdk_err("UpdateTimeToLive"))?;
        Ok(())
    }

    pub async fn delete_table(&self) -> Result<(), StoreError> {
        self.client
            .delete_table()
            .table_name(&self.table)
            .send()
            .await
            .map_err(sdk_err("DeleteTable"))?;
        Ok(())
    }

    // ---- apps -------------------------------------------------------------

    /// Creates an app; false when the id is taken (nothing is overwritten).
    pub async fn create_app(&self, app: &App) -> Result<bool, StoreError> {
        let mut req = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(k::PK, s(k::app_pk(&app.id)))
            .item(k::SK, s(k::APP_SK))
            .item(k::APP_SECRET, s(app.signing_secret.expose()))
            .item(k::APP_MAX_DEVICES, n(app.settings.max_devices_per_user));
        if let Some(days) = app.settings.binding_ttl_days {
            req = req.item(k::APP_TTL_DAYS, n(days));
        }
        let res = req
            .item(k::APP_NEXT_CERT_ID, n(0))
            .item(k::CREATED_AT, ts(app.created_at))
            // Protects: an app id is created once; its secret is never replaced by a re-run.
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", k::PK)
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failed(&e) => Ok(false),
            Err(e) => Err(sdk_err("PutItem app")(e)),
        }
    }

    pub async fn get_app(&self, app: &AppId) -> Result<Option<App>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(k::PK, s(k::app_pk(app)))
            .key(k::SK, s(k::APP_SK))
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
                binding_ttl_days: match item.get(k::APP_TTL_DAYS) {
                    None => None,
                    Some(_) => Some(get_n(&item, k::APP_TTL_DAYS)?),
                },
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
            .key(k::PK, s(k::app_pk(app)))
            .key(k::SK, s(k::APP_SK))
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
        match res {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failed(&e) => Ok(false),
            Err(e) => Err(sdk_err("UpdateItem app settings")(e)),
        }
    }

    // ---- certificates -----------------------------------------------------

    /// The next certificate id of the app. An atomic ADD on the app item:
    /// two concurrent creates always get different ids, and ids are never
    /// reused after a delete (a stale client report can't hit a new cert).
    pub async fn allocate_certificate_id(&self, app: &AppId) -> Result<CertificateId, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(k::PK, s(k::app_pk(app)))
            .key(k::SK, s(k::APP_SK))
            .update_expression("ADD #next :one")
            // Protects: the counter lives only on a real app item.
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#next", k::APP_NEXT_CERT_ID)
            .expression_attribute_names("#pk", k::PK)
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
        match res {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failed(&e) => Ok(false),
            Err(e) => Err(sdk_err("PutItem certificate replace")(e)),
        }
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
            .key(k::PK, s(k::app_pk(app)))
            .key(k::SK, s(k::cert_sk(id)))
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
            .key(k::PK, s(k::app_pk(app)))
            .key(k::SK, s(k::cert_sk(id)))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(sdk_err("DeleteItem certificate"))?;
        Ok(out.attributes.is_some_and(|a| !a.is_empty()))
    }

    // ---- vivo auth token cache ------------------------------------------------

    /// The shared vivo authToken for a credential set, if one is stored and
    /// has not passed `expires_at`.
    pub async fn get_vivo_auth(
        &self,
        key: &str,
        now_secs: i64,
    ) -> Result<Option<(String, i64)>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(k::PK, s(key))
            .key(k::SK, s(k::VIVO_AUTH_SK))
            .send()
            .await
            .map_err(sdk_err("GetItem vivo auth"))?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let expires: i64 = get_n(&item, k::EXPIRES_AT)?;
        if expires <= now_secs {
            return Ok(None);
        }
        Ok(Some((
            get_s(&item, k::VIVO_AUTH_TOKEN)?.to_string(),
            get_n(&item, k::VIVO_AUTH_OBTAINED_AT)?,
        )))
    }

    pub async fn put_vivo_auth(
        &self,
        key: &str,
        token: &str,
        obtained_at: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item(k::PK, s(key))
            .item(k::SK, s(k::VIVO_AUTH_SK))
            .item(k::VIVO_AUTH_TOKEN, s(token))
            .item(k::VIVO_AUTH_OBTAINED_AT, n(obtained_at))
            .item(k::EXPIRES_AT, n(expires_at))
            .send()
            .await
            .map_err(sdk_err("PutItem vivo auth"))?;
        Ok(())
    }

    /// Forgets a token vivo refused (result 10000), unless another instance
    /// already replaced it.
    pub async fn drop_vivo_auth(&self, key: &str, token: &str) -> Result<(), StoreError> {
        let res = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(k::PK, s(key))
            .key(k::SK, s(k::VIVO_AUTH_SK))
            // Protects: a fresh token stored by another instance is not dropped.
            .condition_expression("#t = :t")
            .expression_attribute_names("#t", k::VIVO_AUTH_TOKEN)
            .expression_attribute_values(":t", s(token))
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failed(&e) => Ok(()),
            Err(e) => Err(sdk_err("DeleteItem vivo auth")(e)),
        }
    }
}
