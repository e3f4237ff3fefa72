//! The aws-sdk-dynamodb client: construction from the environment and the
//! table's lifecycle. Each item kind's requests live in its own module
//! (apps, certificates, bindings, pushes, vendor), mirroring `keys`.

use super::item::sdk_err;
use super::schema;
use super::StoreError;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::Client;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

/// The store: one table, one client. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) client: Client,
    pub(crate) table: String,
    /// A non-AWS endpoint (emulator), when one is configured.
    endpoint: Option<String>,
}

/// The SDK's default HTTPS client (hyper 1, rustls + aws-lc, proxies from
/// the environment), except when its connector is built: the SDK builds it
/// (and loads the system's TLS roots, every file in /etc/ssl/certs on
/// Debian) when a client is constructed, so every cold start paid for it
/// before its first response, even one that never reaches DynamoDB (a
/// refused request). Here the connector comes with the first request.
/// Measured by scripts/bench-lambda.sh (cold start, case a).
fn https_client() -> SharedHttpClient {
    use aws_smithy_http_client::{proxy::ProxyConfig, tls, Builder, ConnectorBuilder};
    let client = Builder::new().build_with_connector_fn(|settings, components| {
        let mut conn = ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::AwsLc,
        ));
        conn.set_connector_settings(settings.cloned());
        if let Some(c) = components {
            conn.set_sleep_impl(c.sleep_impl());
        }
        conn.set_proxy_config(Some(ProxyConfig::from_env()));
        conn.build()
    });
    SharedHttpClient::new(FirstUse(client))
}

/// An HTTP client whose connector is made on first use: it forwards all
/// but `validate_base_client_config`, where the SDK's own client builds
/// its connector eagerly.
#[derive(Debug)]
struct FirstUse(SharedHttpClient);

impl HttpClient for FirstUse {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
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
        let mut loader =
            aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(https_client());
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
            .http_client(https_client())
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

    /// This store with a client of its own that records in `log` the IAM
    /// actions of every request it sends (same table, endpoint, region and
    /// credentials). For tests comparing a function's requests with its
    /// policy; deployed functions never record.
    pub fn recording(&self, log: &super::actions::ActionLog) -> Store {
        let conf = self
            .client
            .config()
            .to_builder()
            .interceptor(log.clone())
            .build();
        Store {
            client: Client::from_conf(conf),
            ..self.clone()
        }
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
}
