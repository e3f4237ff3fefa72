//! The aws-sdk-dynamodb client: construction from the environment and the
//! table's lifecycle. Each item kind's requests live in its own module
//! (apps, certificates, bindings, pushes, vendor), mirroring `keys`.

use super::item::sdk_err;
use super::schema;
use super::StoreError;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::Client;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The store: one table, one client. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) client: Client,
    pub(crate) table: String,
    /// A non-AWS endpoint (emulator), when one is configured.
    endpoint: Option<String>,
    /// Hot reads kept by this instance (shared by the store's clones).
    pub(crate) cache: Arc<super::cache::Cache>,
}

/// The SDK's HTTP client: reqwest (hyper 1, rustls + ring, proxies from
/// the environment), the client the vivo calls use, so the binary holds
/// one HTTP and TLS stack (the SDK's own hyper client would add h2, tower
/// and a second connection layer: BENCHMARKS.md, "Release profile").
/// Nothing is built before the first request: the SDK's own client builds
/// its connector (and loads every system TLS root) when a client is
/// constructed, which every cold start paid for before its first response,
/// even one that never reaches DynamoDB (a refused request). Measured by
/// scripts/bench-lambda.sh (cold start, case a).
pub fn https_client() -> SharedHttpClient {
    SharedHttpClient::new(ReqwestHttp::default())
}

type Timeouts = (Option<Duration>, Option<Duration>);

/// One connector per timeout setting the SDK asks for (in practice one).
#[derive(Debug, Default)]
struct ReqwestHttp {
    connectors: Mutex<HashMap<Timeouts, SharedHttpConnector>>,
}

impl HttpClient for ReqwestHttp {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let key = (settings.connect_timeout(), settings.read_timeout());
        let mut connectors = self.connectors.lock().unwrap_or_else(|p| p.into_inner());
        connectors
            .entry(key)
            .or_insert_with(|| SharedHttpConnector::new(ReqwestConnector::new(key)))
            .clone()
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        Some(ConnectorMetadata::new("reqwest", None))
    }
}

#[derive(Debug)]
struct ReqwestConnector {
    client: Arc<reqwest::Client>,
}

impl ReqwestConnector {
    fn new((connect, read): Timeouts) -> Self {
        let mut b = crate::tls::client_builder().pool_idle_timeout(Duration::from_secs(50));
        if let Some(t) = connect {
            b = b.connect_timeout(t);
        }
        if let Some(t) = read {
            b = b.read_timeout(t);
        }
        ReqwestConnector {
            client: Arc::new(
                b.build()
                    .expect("reqwest client builds with static settings"),
            ),
        }
    }
}

impl HttpConnector for ReqwestConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let client = self.client.clone();
        HttpConnectorFuture::new(async move {
            let request = request
                .try_into_http1x()
                .map_err(|e| ConnectorError::user(e.into()))?;
            let (parts, body) = request.into_parts();
            // DynamoDB's requests are JSON documents held in memory.
            let body = body
                .bytes()
                .ok_or_else(|| ConnectorError::user("a streaming request body".into()))?
                .to_vec();
            let response = client
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await
                .map_err(connector_error)?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.bytes().await.map_err(connector_error)?;
            let mut out = http::Response::new(SdkBody::from(body));
            *out.status_mut() = status;
            *out.headers_mut() = headers;
            HttpResponse::try_from(out).map_err(|e| ConnectorError::other(e.into(), None))
        })
    }
}

/// What the SDK's retry strategy needs to know: a timeout, or an I/O
/// failure (connect refused or reset, a response cut short: retried as
/// transient), or something else.
fn connector_error(e: reqwest::Error) -> ConnectorError {
    if e.is_timeout() {
        ConnectorError::timeout(e.into())
    } else if e.is_connect() || e.is_request() || e.is_body() || e.is_decode() {
        ConnectorError::io(e.into())
    } else {
        ConnectorError::other(e.into(), None)
    }
}

/// Each DynamoDB attempt may take [`ATTEMPT_TIMEOUT`], a request with its
/// retries [`OPERATION_TIMEOUT`]: no request holds a function past the
/// REST API's 29 s (DynamoDB answers in milliseconds; a stuck connection
/// must not cost the push's answer).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(4);

/// The emulator applies one request at a time, so under a loaded test run
/// a request may wait its turn for seconds: an emulator endpoint gets
/// these instead (what DynamoDB's own figures are for does not apply).
const EMULATOR_TIMEOUT: Duration = Duration::from_secs(60);

fn timeouts(emulator: bool) -> aws_smithy_types::timeout::TimeoutConfig {
    let (attempt, operation) = if emulator {
        (EMULATOR_TIMEOUT, EMULATOR_TIMEOUT)
    } else {
        (ATTEMPT_TIMEOUT, OPERATION_TIMEOUT)
    };
    aws_smithy_types::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .operation_attempt_timeout(attempt)
        .operation_timeout(operation)
        .build()
}

/// Static credentials from the environment as Lambda (and `sam local`)
/// sets them: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`. The functions need no other credential source, so
/// they carry no profile, SSO or STS code (tools/offpush-admin builds its
/// store from a full AWS configuration: [`Store::from_sdk_config`]).
fn env_credentials() -> Option<Credentials> {
    let var = |n: &str| std::env::var(n).ok().filter(|v| !v.trim().is_empty());
    Some(Credentials::new(
        var("AWS_ACCESS_KEY_ID")?,
        var("AWS_SECRET_ACCESS_KEY")?,
        var("AWS_SESSION_TOKEN"),
        None,
        "environment",
    ))
}

/// The emulator endpoint from `AWS_ENDPOINT_URL_DYNAMODB` (else
/// `AWS_ENDPOINT_URL`). `sam local` passes declared-but-unset variables as
/// empty strings, and an empty endpoint URL would be taken as an endpoint
/// (then fail on first use): blank means "use AWS's own endpoint".
fn env_endpoint() -> Option<String> {
    let var = |name: &str| std::env::var(name).ok().map(|v| v.trim().to_string());
    match (var("AWS_ENDPOINT_URL_DYNAMODB"), var("AWS_ENDPOINT_URL")) {
        (Some(v), _) if v.is_empty() => None,
        (Some(v), _) => Some(v),
        (None, Some(v)) if v.is_empty() => None,
        (None, v) => v,
    }
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Store {
            client,
            table: table.into(),
            endpoint: None,
            cache: Arc::default(),
        }
    }

    /// A store from the Lambda environment: region (`AWS_REGION`, else
    /// `AWS_DEFAULT_REGION`), credentials ([`env_credentials`]; none: every
    /// request fails with a credentials error, logged), and
    /// `AWS_ENDPOINT_URL_DYNAMODB` for a local emulator.
    pub async fn from_env(table: impl Into<String>) -> Self {
        let var = |n: &str| std::env::var(n).ok().filter(|v| !v.trim().is_empty());
        let region = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION"));
        let endpoint = env_endpoint();
        let mut conf = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .timeout_config(timeouts(endpoint.is_some()))
            .http_client(https_client());
        conf.set_region(region.map(Region::new));
        conf.set_endpoint_url(endpoint.clone());
        if let Some(c) = env_credentials() {
            conf = conf.credentials_provider(c);
        }
        Store {
            endpoint,
            ..Store::new(Client::from_conf(conf.build()), table)
        }
    }

    /// A store from a full AWS configuration (profiles, SSO, assumed roles:
    /// the operator's tool), with the environment's emulator endpoint when
    /// one is set. Load it with [`https_client`] as its HTTP client.
    pub fn from_sdk_config(sdk: &aws_types::SdkConfig, table: impl Into<String>) -> Self {
        let endpoint = env_endpoint();
        let mut conf = aws_sdk_dynamodb::config::Builder::from(sdk);
        let named = ["AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL"]
            .iter()
            .any(|n| std::env::var_os(n).is_some());
        if named {
            conf.set_endpoint_url(endpoint.clone());
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
        let creds = Credentials::new("local", "local", None, None, "offpush-local");
        let conf = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .timeout_config(timeouts(true))
            .http_client(https_client())
            .endpoint_url(endpoint)
            .region(Region::new(region.to_string()))
            .credentials_provider(creds)
            .build();
        Store {
            endpoint: Some(endpoint.to_string()),
            ..Store::new(Client::from_conf(conf), table)
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
