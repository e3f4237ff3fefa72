//! Test support for the function crates: a fresh table on the DynamoDB
//! emulator per test, an app with its signing secret, JWTs, a vivo
//! simulator per test, and `events/*.json` loaded as lambda_http requests;
//! [`iam`]: template.yaml's policies against the actions a function's code
//! sent.
//!
//! The emulator is the one `scripts/test.sh` starts; its address comes from
//! `AWS_ENDPOINT_URL_DYNAMODB`. Nothing here replaces the store: every test
//! talks to the real adapter over HTTP.

use lambda_http::{Body, Request, Response};
use offpush::auth;
use offpush::config::Config;
use offpush::domain::{App, AppId, AppSettings, Secret};
use offpush::store::actions::ActionLog;
use offpush::store::Store;
use offpush::Context;
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;
pub mod iam;

pub use vivo_sim::{CallAction, RegIdVerdict, SimApp, SimConfig, Simulator};
pub use xiaomi_sim;

/// The vivo credentials the simulator knows in every test (the published
/// sign example's values).
pub const VIVO_APP_ID: u64 = 10004;
pub const VIVO_APP_KEY: &str = "25509283-3767-4b9e-83fe-b6e55ac6243e";
pub const VIVO_APP_SECRET: &str = "7265f2a4-ebbb-44bf-88b9-b03e67dfdc21";

/// The simulator's vivo credentials.
pub fn vivo_credentials() -> offpush_vivo::credentials::VivoCredentials {
    offpush_vivo::credentials::VivoCredentials {
        app_id: VIVO_APP_ID,
        app_key: VIVO_APP_KEY.into(),
        app_secret: Secret::new(VIVO_APP_SECRET),
    }
}

/// The Xiaomi app the Xiaomi simulator knows in every test.
pub const XIAOMI_APP_SECRET: &str = "xiaomi-test-app-secret-0123456789";
pub const XIAOMI_PACKAGE: &str = "com.example.offpushtest";
/// The regid Xiaomi's credential check sends to: as at Xiaomi, no device's
/// (the simulators here are told so).
pub const XIAOMI_CHECK_REGID: &str = offpush_xiaomi::CREDENTIAL_CHECK_REGID;
/// Its private channel (the simulator requires one of its channels).
pub const XIAOMI_CHANNEL: &str = "im_private";

/// The Xiaomi simulator's app, as registered.
pub fn xiaomi_sim_app() -> xiaomi_sim::SimApp {
    xiaomi_sim::SimApp {
        channels: vec![
            xiaomi_sim::Channel::private(XIAOMI_CHANNEL),
            xiaomi_sim::Channel::public("news"),
        ],
        ..xiaomi_sim::SimApp::new(XIAOMI_APP_SECRET, XIAOMI_PACKAGE)
    }
}

/// The OPPO app the OPPO simulator knows in every test.
pub const OPPO_APP_ID: &str = "30012345";
pub const OPPO_APP_KEY: &str = "oppo-test-app-key";
pub const OPPO_MASTER_SECRET: &str = "oppo-test-master-secret-0123456789";
/// Its IM private channel (the simulator knows it as a service channel).
pub const OPPO_CHANNEL: &str = "im_private";

/// The simulator's OPPO credentials.
pub fn oppo_credentials() -> offpush_oppo::credentials::OppoCredentials {
    offpush_oppo::credentials::OppoCredentials {
        app_key: OPPO_APP_KEY.into(),
        master_secret: Secret::new(OPPO_MASTER_SECRET),
        region: offpush_oppo::credentials::Region::Cn,
    }
}

/// The Honor app the Honor simulator knows in every test.
pub const HONOR_APP_ID: &str = "104400001";
pub const HONOR_CLIENT_ID: &str = "honor-test-client";
pub const HONOR_CLIENT_SECRET: &str = "honor-test-client-secret-0123456789";

/// The simulator's Honor credentials.
pub fn honor_credentials() -> offpush_honor::credentials::HonorCredentials {
    offpush_honor::credentials::HonorCredentials {
        app_id: HONOR_APP_ID.into(),
        client_id: HONOR_CLIENT_ID.into(),
        client_secret: Secret::new(HONOR_CLIENT_SECRET),
    }
}

/// The Huawei app the Huawei simulator knows in every test: its OAuth 2.0
/// client is the app (AppGallery Connect's default), so the ids are one.
pub const HUAWEI_APP_ID: &str = "104400002";
pub const HUAWEI_CLIENT_SECRET: &str = "huawei-test-client-secret-0123456789";

/// The simulator's Huawei credentials.
pub fn huawei_credentials() -> offpush_huawei::credentials::HuaweiCredentials {
    offpush_huawei::credentials::HuaweiCredentials {
        app_id: HUAWEI_APP_ID.into(),
        client_id: HUAWEI_APP_ID.into(),
        client_secret: Secret::new(HUAWEI_CLIENT_SECRET),
    }
}

/// The Meizu app the Meizu simulator knows in every test.
pub const MEIZU_APP_ID: &str = "110099";
pub const MEIZU_APP_SECRET: &str = "meizu-test-app-secret-0123456789";
pub const MEIZU_PACKAGE: &str = "com.example.offpushtest";

/// The simulator's Meizu credentials.
pub fn meizu_credentials() -> offpush_meizu::credentials::MeizuCredentials {
    offpush_meizu::credentials::MeizuCredentials {
        app_id: MEIZU_APP_ID.into(),
        app_secret: Secret::new(MEIZU_APP_SECRET),
    }
}

/// The table partition of the Xiaomi simulator's app (its pauses).
pub fn xiaomi_account() -> String {
    offpush_xiaomi::credentials::XiaomiCredentials {
        app_secret: Secret::new(XIAOMI_APP_SECRET),
        package_name: XIAOMI_PACKAGE.into(),
        region: offpush_xiaomi::credentials::Region::Cn,
    }
    .account_key()
}

/// The table partition of the simulator's vivo app (its token, its pauses).
pub fn vivo_account() -> String {
    vivo_credentials().account_key()
}

/// A URL whose port refuses every connection, and the socket that holds
/// the port: bound but never listened on, for as long as it lives (a port
/// bound and dropped may be taken at once by another test's server).
pub fn refused_url() -> (String, tokio::net::TcpSocket) {
    let held = tokio::net::TcpSocket::new_v4().unwrap();
    held.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = held.local_addr().unwrap().port();
    (format!("http://127.0.0.1:{port}"), held)
}

pub fn endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL_DYNAMODB").unwrap_or_else(|_| {
        panic!(
            "AWS_ENDPOINT_URL_DYNAMODB is not set: run the tests with scripts/test.sh, \
             which starts the DynamoDB emulator"
        )
    })
}

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

pub fn now_ms() -> i64 {
    offpush::clock::now_ms()
}

/// A table item as [`TestEnv::table_items`] shows it.
pub type Item = std::collections::BTreeMap<String, aws_sdk_dynamodb::types::AttributeValue>;

/// An item's (partition key, sort key).
pub fn item_key(item: &Item) -> (String, String) {
    let s = |k: &str| {
        item.get(k)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default()
    };
    (s("pk"), s("sk"))
}

/// The partition key of an item.
pub fn item_pk(item: &Item) -> &str {
    item.get("pk")
        .and_then(|v| v.as_s().ok())
        .map_or("", |s| s.as_str())
}

pub struct TestEnv {
    /// The tests' own store (set-up and checks): not recorded in `actions`.
    pub store: Store,
    /// The vivo simulator.
    pub sim: Simulator,
    /// The Xiaomi simulator, with the app of [`XIAOMI_APP_SECRET`].
    pub xiaomi: xiaomi_sim::Simulator,
    /// The OPPO simulator, with the app of [`OPPO_APP_KEY`].
    pub oppo: oppo_sim::Simulator,
    /// The Honor simulator, with the app of [`HONOR_APP_ID`].
    pub honor: honor_sim::Simulator,
    /// The Huawei simulator (OAuth and push), with the app of [`HUAWEI_APP_ID`].
    pub huawei: huawei_sim::Simulator,
    /// The Meizu simulator, with the app of [`MEIZU_APP_ID`].
    pub meizu: meizu_sim::Simulator,
    /// The handlers' context: its store records in `actions`.
    pub ctx: Context,
    pub app: TestApp,
    /// The IAM actions of every DynamoDB request sent through `ctx` (the
    /// handlers', and the helpers that go through them such as `bind`).
    pub actions: ActionLog,
}

#[derive(Clone)]
pub struct TestApp {
    pub id: AppId,
    pub secret: Secret,
}

impl TestApp {
    pub fn admin_token(&self) -> String {
        auth::mint_for(&self.secret, &self.id, "ops", true, now(), 3600)
    }
    pub fn user_token(&self, user: &str) -> String {
        auth::mint_for(&self.secret, &self.id, user, false, now(), 3600)
    }
}

/// A DynamoDB client of the tests' own on the emulator, for reading or
/// writing items exactly (storage tests, injected faults).
pub async fn raw_client() -> aws_sdk_dynamodb::Client {
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(offpush::store::https_client())
        .endpoint_url(endpoint())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "local", "local", None, None, "testkit",
        ))
        .load()
        .await;
    aws_sdk_dynamodb::Client::new(&conf)
}

/// A table of its own on the emulator, named after the test.
pub async fn fresh_store(label: &str) -> Store {
    let clean: String = label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(60)
        .collect();
    let name = format!(
        "t-{clean}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let store = Store::for_endpoint(&endpoint(), "us-east-1", name).await;
    store
        .create_table()
        .await
        .expect("create table on the emulator");
    store
}

pub async fn create_app(store: &Store, id: &str, settings: AppSettings) -> TestApp {
    let app = App {
        id: AppId::parse("app", id).unwrap(),
        signing_secret: auth::new_signing_secret(),
        settings,
        created_at: time::OffsetDateTime::now_utc(),
    };
    assert!(
        store.create_app(&app).await.unwrap(),
        "app {id} already exists"
    );
    TestApp {
        id: app.id,
        secret: app.signing_secret,
    }
}

/// A test's configuration: the functions' own, and the host every vendor's
/// calls go to (a simulator's).
#[derive(Clone, Debug)]
pub struct TestConfig {
    pub config: Config,
    pub vendor_url: String,
    /// Per platform, a host other than `vendor_url`.
    pub vendor_urls: Vec<(offpush::domain::Platform, String)>,
}

impl std::ops::Deref for TestConfig {
    type Target = Config;
    fn deref(&self) -> &Config {
        &self.config
    }
}

impl std::ops::DerefMut for TestConfig {
    fn deref_mut(&mut self) -> &mut Config {
        &mut self.config
    }
}

impl TestConfig {
    pub fn registry(&self) -> offpush_registry::RegistryConfig {
        let mut r =
            offpush_registry::RegistryConfig::all_at(&self.vendor_url, self.config.vendor_timeout);
        for (p, url) in &self.vendor_urls {
            r = r.with(*p, url);
        }
        r
    }
}

/// A context on `store` whose vendors (the registry's) call `cfg`'s hosts.
pub fn context(store: Store, cfg: &TestConfig) -> Context {
    let vendors = offpush_registry::Registry::new(&store, &cfg.registry());
    Context::new(store, &cfg.config, std::sync::Arc::new(vendors))
}

pub fn config(table: &str, vendor_url: &str) -> TestConfig {
    TestConfig {
        config: base_config(table),
        vendor_url: vendor_url.to_string(),
        vendor_urls: Vec::new(),
    }
}

fn base_config(table: &str) -> Config {
    Config {
        table_name: table.to_string(),
        vendor_timeout: Duration::from_millis(1500),
        // Generous: the emulator's reads count against it on a loaded
        // machine; tests of the deadline itself set their own.
        push_deadline: Duration::from_secs(15),
        push_concurrency: 4,
        default_binding_ttl_days: 30,
        record_retention_days: offpush::config::DEFAULT_RECORD_RETENTION_DAYS,
        app_push_rate_limit: 0,
    }
}

/// Log lines go through libtest's capture (shown for failing tests only).
pub fn init_test_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_test_writer()
        .try_init();
}

impl TestEnv {
    /// A vivo certificate the simulator accepts, written straight to the
    /// store (for suites that test something else than certificate upload).
    pub async fn add_certificate(
        &self,
        click: offpush::domain::ClickAction,
        mode: offpush::domain::PushMode,
    ) -> offpush::domain::CertificateId {
        use offpush::domain::{Platform, VendorData};
        self.put_certificate(
            Platform::Vivo,
            vivo_credentials().to_data(),
            VendorData::new(),
            click,
            mode,
            None,
        )
        .await
    }

    /// A certificate written straight to the store under a fresh id.
    async fn put_certificate(
        &self,
        platform: offpush::domain::Platform,
        credentials: offpush::domain::VendorData,
        options: offpush::domain::VendorData,
        click_action: offpush::domain::ClickAction,
        push_mode: offpush::domain::PushMode,
        receipt: Option<offpush::domain::Receipts>,
    ) -> offpush::domain::CertificateId {
        let now = time::OffsetDateTime::now_utc();
        let id = self
            .store
            .allocate_certificate_id(&self.app.id)
            .await
            .unwrap();
        let cert = offpush::domain::Certificate {
            id,
            platform,
            name: platform.as_str().into(),
            credentials,
            options,
            click_action,
            category: offpush::domain::Category::Im,
            push_mode,
            default_title: None,
            receipt,
            created_at: now,
            updated_at: now,
        };
        self.store
            .put_new_certificate(&self.app.id, &cert)
            .await
            .unwrap();
        id
    }

    /// Changes certificate `id` in the store, as a saved edit would.
    pub async fn edit_certificate(
        &self,
        id: u64,
        edit: impl FnOnce(&mut offpush::domain::Certificate),
    ) {
        let id = offpush::domain::CertificateId::new(id).unwrap();
        let mut cert = self
            .store
            .get_certificate(&self.app.id, id)
            .await
            .unwrap()
            .unwrap();
        let old_hash = cert.receipt.as_ref().map(|r| r.secret_hash.clone());
        edit(&mut cert);
        let new_hash = cert.receipt.as_ref().map(|r| r.secret_hash.clone());
        let change = offpush::store::certificates::ReceiptChange {
            drop: old_hash.as_deref(),
            put: new_hash.is_some() && new_hash != old_hash,
        };
        assert!(self
            .store
            .replace_certificate(&self.app.id, &cert, change)
            .await
            .unwrap());
    }

    /// Turns vivo receipts on for certificate `id` (receipt ID 5001), as
    /// a saved edit would; the receipt URL's secret.
    pub async fn enable_vivo_receipts(&self, id: u64) -> offpush::domain::ReceiptSecret {
        let secret = offpush::domain::ReceiptSecret::generate();
        let hash = secret.hash();
        self.edit_certificate(id, |c| {
            c.receipt = Some(offpush::domain::Receipts {
                receipt_id: Some("5001".into()),
                secret: None,
                secret_hash: hash,
            })
        })
        .await;
        secret
    }

    /// The app as the store holds it (what handlers see).
    pub async fn app_record(&self) -> App {
        self.store.get_app(&self.app.id).await.unwrap().unwrap()
    }

    /// Binds `token` to `user` through certificate `cert`, as a report
    /// from the device would (the binding rules of `offpush::bindings`).
    pub async fn bind(&self, cert: u64, user: &str, token: &str, device: Option<&str>) {
        use offpush::domain::binding::Report;
        use offpush::domain::{CertificateId, DeviceId, PushToken, UserId};
        let report = Report {
            certificate_id: CertificateId::new(cert).unwrap(),
            token: Some(PushToken::parse("token", token).unwrap()),
            device_id: device.map(|d| DeviceId::parse("device_id", d).unwrap()),
        };
        let user = UserId::parse("user", user).unwrap();
        let app = self.app_record().await;
        offpush::bindings::report(&self.ctx, &app, &user, report, offpush::clock::now_ms())
            .await
            .unwrap_or_else(|e| panic!("binding {user}: {e}"));
    }

    /// `n` users `{prefix}-{i:05}` bound through certificate 1 with token
    /// `regid-{user}-{d}`, written straight to their records (16 at a
    /// time; fast enough for a thousand): the first user has
    /// `first_devices` devices, every other one.
    pub async fn seed_users(&self, n: usize, prefix: &str, first_devices: usize) -> Vec<String> {
        use futures::StreamExt;
        use offpush::domain::binding::device_key;
        use offpush::domain::{Binding, CertificateId, PushToken, UserBindings, UserId};
        use offpush::store::bindings::BindingWrite;
        let cert = CertificateId::new(1).unwrap();
        let users: Vec<String> = (0..n).map(|i| format!("{prefix}-{i:05}")).collect();
        let writes = users.iter().enumerate().map(|(i, u)| async move {
            let mut state = UserBindings::default();
            let devices = if i == 0 { first_devices } else { 1 };
            for d in 0..devices {
                let t = PushToken::parse("t", &format!("regid-{u}-{d}")).unwrap();
                state.devices.insert(
                    device_key(None, &t),
                    Binding {
                        certificate_id: cert,
                        token: t,
                        device_id: None,
                        reported_at_ms: d as i64,
                        expires_at: now() + 86_400,
                    },
                );
            }
            let w = vec![BindingWrite::PutUser {
                user: UserId::parse("u", u).unwrap(),
                state,
            }];
            assert!(self.store.commit_bindings(&self.app.id, w).await.unwrap());
        });
        futures::stream::iter(writes)
            .buffer_unordered(16)
            .collect::<Vec<_>>()
            .await;
        users
    }

    /// A fresh table, an app `demo`, and a simulator that knows the vivo
    /// credentials above.
    pub async fn new(label: &str) -> TestEnv {
        init_test_logs();
        let store = fresh_store(label).await;
        Self::with_store(store).await
    }

    /// As [`TestEnv::new`], with the table on the emulator's test front
    /// (`AWS_ENDPOINT_URL_DYNAMODB_FRONT`): configure it with
    /// [`front::configure`] on `env.store.table()`.
    pub async fn on_front(label: &str) -> TestEnv {
        init_test_logs();
        let name = format!(
            "t-{label}-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let store = Store::for_endpoint(&front::endpoint(), "us-east-1", name).await;
        store
            .create_table()
            .await
            .expect("create table on the emulator's front");
        Self::with_store(store).await
    }

    async fn with_store(store: Store) -> TestEnv {
        let app = create_app(&store, "demo", AppSettings::default()).await;
        let sim = Simulator::start(SimConfig {
            apps: vec![SimApp {
                app_id: VIVO_APP_ID,
                app_key: VIVO_APP_KEY.to_string(),
                app_secret: VIVO_APP_SECRET.to_string(),
            }],
        })
        .await
        .expect("simulator starts");
        let xiaomi = xiaomi_sim::Simulator::start(xiaomi_sim::SimConfig {
            apps: vec![xiaomi_sim_app()],
        })
        .await
        .expect("Xiaomi simulator starts");
        // As at Xiaomi, the credential check's made-up regid is no device's.
        xiaomi.set_reg_id(XIAOMI_CHECK_REGID, xiaomi_sim::RegIdVerdict::Invalid);
        let mut oppo_app = oppo_sim::SimApp::new(OPPO_APP_ID, OPPO_APP_KEY, OPPO_MASTER_SECRET);
        oppo_app.service_channels = vec![OPPO_CHANNEL.to_string()];
        let oppo = oppo_sim::Simulator::start(oppo_sim::SimConfig {
            apps: vec![oppo_app],
            settings: oppo_sim::Settings::default(),
        })
        .await
        .expect("OPPO simulator starts");
        let honor = honor_sim::Simulator::start(honor_sim::SimConfig {
            apps: vec![honor_sim::SimApp::new(
                HONOR_APP_ID,
                HONOR_CLIENT_ID,
                HONOR_CLIENT_SECRET,
            )],
            settings: honor_sim::Settings::default(),
        })
        .await
        .expect("Honor simulator starts");
        let huawei = huawei_sim::Simulator::start(huawei_sim::SimConfig {
            apps: vec![huawei_sim::SimApp::new(HUAWEI_APP_ID, HUAWEI_CLIENT_SECRET)],
        })
        .await
        .expect("Huawei simulator starts");
        let meizu = meizu_sim::Simulator::start(meizu_sim::SimConfig {
            apps: vec![meizu_sim::SimApp::new(
                MEIZU_APP_ID,
                MEIZU_APP_SECRET,
                MEIZU_PACKAGE,
            )],
            ..meizu_sim::SimConfig::default()
        })
        .await
        .expect("Meizu simulator starts");
        let actions = ActionLog::new();
        let mut cfg = config(store.table(), &sim.base_url());
        cfg.vendor_urls
            .push((offpush::domain::Platform::Xiaomi, xiaomi.base_url()));
        cfg.vendor_urls
            .push((offpush::domain::Platform::Oppo, oppo.base_url()));
        cfg.vendor_urls
            .push((offpush::domain::Platform::Honor, honor.base_url()));
        cfg.vendor_urls
            .push((offpush::domain::Platform::Huawei, huawei.base_url()));
        cfg.vendor_urls
            .push((offpush::domain::Platform::Meizu, meizu.base_url()));
        let ctx = context(store.recording(&actions), &cfg);
        TestEnv {
            store,
            sim,
            xiaomi,
            oppo,
            honor,
            huawei,
            meizu,
            ctx,
            app,
            actions,
        }
    }

    /// The configuration of this environment's context: each vendor at its
    /// simulator.
    pub fn config(&self) -> TestConfig {
        let mut cfg = config(self.store.table(), &self.sim.base_url());
        cfg.vendor_urls
            .push((offpush::domain::Platform::Xiaomi, self.xiaomi.base_url()));
        cfg.vendor_urls
            .push((offpush::domain::Platform::Oppo, self.oppo.base_url()));
        cfg.vendor_urls
            .push((offpush::domain::Platform::Honor, self.honor.base_url()));
        cfg.vendor_urls
            .push((offpush::domain::Platform::Huawei, self.huawei.base_url()));
        cfg.vendor_urls
            .push((offpush::domain::Platform::Meizu, self.meizu.base_url()));
        cfg
    }

    /// A Meizu certificate the simulator accepts, written straight to the
    /// store, with `receipts` when asked.
    pub async fn add_meizu_certificate(
        &self,
        click: offpush::domain::ClickAction,
        receipts: bool,
    ) -> offpush::domain::CertificateId {
        use offpush::domain::{Platform, PushMode, VendorData};
        let receipt = receipts.then(|| {
            let secret = offpush::domain::ReceiptSecret::generate();
            offpush::domain::Receipts {
                receipt_id: None,
                secret_hash: secret.hash(),
                secret: Some(Secret::new(secret.expose())),
            }
        });
        self.put_certificate(
            Platform::Meizu,
            meizu_credentials().to_data(),
            VendorData::new(),
            click,
            PushMode::Production,
            receipt,
        )
        .await
    }

    /// A Huawei certificate the simulator accepts, written straight to the
    /// store; receipts on with `receipt_id`, signed with `callback` (user
    /// name, secret) when given.
    pub async fn add_huawei_certificate(
        &self,
        click: offpush::domain::ClickAction,
        receipt_id: Option<&str>,
        callback: Option<(&str, &str)>,
    ) -> offpush::domain::CertificateId {
        use offpush::domain::{Platform, PushMode};
        let options = offpush_huawei::credentials::HuaweiOptions {
            callback_user: callback.map(|(u, _)| Secret::new(u)),
            callback_secret: callback.map(|(_, s)| Secret::new(s)),
        };
        let receipt = receipt_id.map(|id| {
            let secret = offpush::domain::ReceiptSecret::generate();
            offpush::domain::Receipts {
                receipt_id: Some(id.to_string()),
                secret_hash: secret.hash(),
                secret: None,
            }
        });
        self.put_certificate(
            Platform::Huawei,
            huawei_credentials().to_data(),
            options.to_data(),
            click,
            PushMode::Production,
            receipt,
        )
        .await
    }

    /// An OPPO certificate the simulator accepts, written straight to the
    /// store, with the IM private channel and `receipts` when asked.
    pub async fn add_oppo_certificate(
        &self,
        click: offpush::domain::ClickAction,
        receipts: bool,
    ) -> offpush::domain::CertificateId {
        use offpush::domain::{Platform, PushMode};
        let options = offpush_oppo::credentials::OppoOptions {
            channel_id: Some(OPPO_CHANNEL.into()),
            ..Default::default()
        };
        let receipt = receipts.then(|| {
            let secret = offpush::domain::ReceiptSecret::generate();
            offpush::domain::Receipts {
                receipt_id: None,
                secret_hash: secret.hash(),
                secret: Some(Secret::new(secret.expose())),
            }
        });
        self.put_certificate(
            Platform::Oppo,
            oppo_credentials().to_data(),
            options.to_data(),
            click,
            PushMode::Production,
            receipt,
        )
        .await
    }

    /// An Honor certificate the simulator accepts, written straight to the
    /// store; receipts on with `receipt_id`.
    pub async fn add_honor_certificate(
        &self,
        click: offpush::domain::ClickAction,
        receipt_id: Option<&str>,
    ) -> offpush::domain::CertificateId {
        use offpush::domain::{Platform, PushMode, VendorData};
        let receipt = receipt_id.map(|id| {
            let secret = offpush::domain::ReceiptSecret::generate();
            offpush::domain::Receipts {
                receipt_id: Some(id.to_string()),
                secret_hash: secret.hash(),
                secret: None,
            }
        });
        self.put_certificate(
            Platform::Honor,
            honor_credentials().to_data(),
            VendorData::new(),
            click,
            PushMode::Production,
            receipt,
        )
        .await
    }

    /// A Xiaomi certificate the simulator accepts, written straight to the
    /// store, with the private channel and `receipts` when asked.
    pub async fn add_xiaomi_certificate(
        &self,
        click: offpush::domain::ClickAction,
        receipts: bool,
    ) -> offpush::domain::CertificateId {
        use offpush::domain::{Platform, PushMode, VendorData};
        let creds = offpush_xiaomi::credentials::XiaomiCredentials {
            app_secret: Secret::new(XIAOMI_APP_SECRET),
            package_name: XIAOMI_PACKAGE.into(),
            region: offpush_xiaomi::credentials::Region::Cn,
        };
        let mut options = VendorData::new();
        options.set_s("channel_id", XIAOMI_CHANNEL);
        let receipt = receipts.then(|| {
            let secret = offpush::domain::ReceiptSecret::generate();
            offpush::domain::Receipts {
                receipt_id: None,
                secret_hash: secret.hash(),
                secret: Some(Secret::new(secret.expose())),
            }
        });
        self.put_certificate(
            Platform::Xiaomi,
            creds.to_data(),
            options,
            click,
            PushMode::Production,
            receipt,
        )
        .await
    }

    /// The pauses vivo imposed on the simulator's vivo app, as the table
    /// holds them: (scope, vivo code).
    pub async fn stored_pauses(&self) -> Vec<(String, i64)> {
        let state = self
            .store
            .vendor_state(&vivo_account(), now())
            .await
            .unwrap();
        let mut out: Vec<(String, i64)> = state
            .pauses
            .into_iter()
            .map(|p| (p.scope, p.code))
            .collect();
        out.sort();
        out
    }

    /// An item exactly as the table holds it (for tests of storage itself:
    /// TTL attributes, item sizes), through a client of its own.
    pub async fn raw_item(
        &self,
        pk: &str,
        sk: &str,
    ) -> Option<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        use aws_sdk_dynamodb::types::AttributeValue;
        raw_client()
            .await
            .get_item()
            .table_name(self.store.table())
            .key("pk", AttributeValue::S(pk.into()))
            .key("sk", AttributeValue::S(sk.into()))
            .consistent_read(true)
            .send()
            .await
            .expect("GetItem on the emulator")
            .item
    }

    /// Every item of the table exactly as stored, in key order: two
    /// snapshots are equal only if nothing at all was written in between.
    pub async fn table_items(&self) -> Vec<Item> {
        let pages: Vec<_> = raw_client()
            .await
            .scan()
            .table_name(self.store.table())
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .expect("Scan on the emulator");
        let mut items: Vec<std::collections::BTreeMap<_, _>> =
            pages.into_iter().map(|i| i.into_iter().collect()).collect();
        items.sort_by_key(item_key);
        items
    }

    /// Another app in the same table.
    pub async fn other_app(&self, id: &str) -> TestApp {
        create_app(&self.store, id, AppSettings::default()).await
    }
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `events/<name>` with its placeholders filled: `{{ADMIN_JWT}}`,
/// `{{USER_JWT}}` (user `alice`), `{{VIVO_APP_ID}}`, `{{VIVO_APP_KEY}}`,
/// `{{VIVO_APP_SECRET}}`, plus `extra` pairs.
pub fn event(name: &str, app: &TestApp, extra: &[(&str, &str)]) -> Request {
    let path = repo_root().join("events").join(name);
    let raw = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut text = raw
        .replace("{{ADMIN_JWT}}", &app.admin_token())
        .replace("{{USER_JWT}}", &app.user_token("alice"))
        .replace("{{VIVO_APP_ID}}", &VIVO_APP_ID.to_string())
        .replace("{{VIVO_APP_KEY}}", VIVO_APP_KEY)
        .replace("{{VIVO_APP_SECRET}}", VIVO_APP_SECRET)
        .replace("{{BOB_JWT}}", &app.user_token("bob"))
        .replace("{{XIAOMI_APP_SECRET}}", XIAOMI_APP_SECRET)
        .replace("{{XIAOMI_PACKAGE}}", XIAOMI_PACKAGE)
        .replace("{{XIAOMI_CHANNEL}}", XIAOMI_CHANNEL);
    for (k, v) in extra {
        text = text.replace(&format!("{{{{{k}}}}}"), v);
    }
    assert!(!text.contains("{{"), "{name}: unfilled placeholder");
    lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// What [`rest_api_event`] puts in an event.
pub struct RestEvent<'a> {
    pub method: &'a str,
    /// The path as the client sent it (percent-encoded, as a REST API
    /// passes it on), without the stage.
    pub path: &'a str,
    /// The raw query string, without the `?`.
    pub query: &'a str,
    /// Header name -> value (a REST API passes one value per name).
    pub headers: serde_json::Map<String, Value>,
    /// The route's `{name}` values.
    pub path_parameters: serde_json::Map<String, Value>,
    /// The route template, e.g. `/v1/certificates/{id}`.
    pub resource: &'a str,
    /// The body as the event carries it, and whether it is base64.
    pub body: Option<(&'a str, bool)>,
    pub request_id: &'a str,
}

/// The API Gateway REST API (Lambda proxy, payload 1.0) event of a request
/// on the `prod` stage of an execute-api host, as template.yaml deploys
/// it: `path` without the stage, `requestContext.path` with it, the query
/// as decoded `multiValueQueryStringParameters` (a piece that does not
/// decode is passed as it is).
pub fn rest_api_event(e: &RestEvent) -> Value {
    let mut query: serde_json::Map<String, Value> = serde_json::Map::new();
    let mut single: serde_json::Map<String, Value> = serde_json::Map::new();
    for pair in e.query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let decode =
            |s: &str| offpush::http::percent_decode_with(s, true).unwrap_or_else(|| s.to_string());
        let (k, v) = (decode(k), decode(v));
        single.insert(k.clone(), Value::String(v.clone()));
        match query.entry(k).or_insert_with(|| Value::Array(Vec::new())) {
            Value::Array(values) => values.push(Value::String(v)),
            _ => unreachable!("only arrays are inserted"),
        }
    }
    let multi_headers: serde_json::Map<String, Value> = e
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), Value::Array(vec![v.clone()])))
        .collect();
    let or_null = |m: serde_json::Map<String, Value>| {
        if m.is_empty() {
            Value::Null
        } else {
            Value::Object(m)
        }
    };
    let (body, base64) = match e.body {
        Some((b, b64)) => (Value::String(b.to_string()), b64),
        None => (Value::Null, false),
    };
    serde_json::json!({
        "resource": e.resource,
        "path": e.path,
        "httpMethod": e.method,
        "headers": e.headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": or_null(single),
        "multiValueQueryStringParameters": or_null(query),
        "pathParameters": or_null(e.path_parameters.clone()),
        "stageVariables": null,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "offpush",
            "resourceId": "abc123",
            "resourcePath": e.resource,
            "httpMethod": e.method,
            "path": format!("/prod{}", e.path),
            "stage": "prod",
            "domainName": "offpush.execute-api.eu-west-1.amazonaws.com",
            "domainPrefix": "offpush",
            "protocol": "HTTP/1.1",
            "requestId": e.request_id,
            "requestTime": "26/Nov/2026:10:00:00 +0000",
            "requestTimeEpoch": 1795600800000u64,
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "test"}
        },
        "isBase64Encoded": base64,
        "body": body,
    })
}

/// A request built in code, as API Gateway would deliver it.
pub fn request(method: &str, uri: &str, bearer: Option<&str>, body: Option<&Value>) -> Request {
    let mut b = http_request_builder(method, uri);
    if let Some(t) = bearer {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    let body = match body {
        Some(v) => {
            b = b.header("content-type", "application/json");
            Body::Text(v.to_string())
        }
        None => Body::Empty,
    };
    b.body(body).unwrap()
}

/// The same with a raw body string (for malformed JSON).
pub fn request_raw(method: &str, uri: &str, bearer: Option<&str>, body: &str) -> Request {
    let mut b = http_request_builder(method, uri).header("content-type", "application/json");
    if let Some(t) = bearer {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    b.body(Body::Text(body.to_string())).unwrap()
}

fn http_request_builder(method: &str, uri: &str) -> lambda_http::http::request::Builder {
    let uri = if uri.starts_with("http") {
        uri.to_string()
    } else {
        format!("https://api.local{uri}")
    };
    lambda_http::http::Request::builder()
        .method(method)
        .uri(uri)
}

/// Status and JSON body (Null when empty).
pub fn read(resp: Response<Body>) -> (u16, Value) {
    let status = resp.status().as_u16();
    let v = match resp.body() {
        Body::Empty => Value::Null,
        Body::Text(t) => serde_json::from_str(t).unwrap_or_else(|_| Value::String(t.clone())),
        Body::Binary(b) => serde_json::from_slice(b).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    (status, v)
}

/// Asserts an error response: status, code, and (when given) field.
#[track_caller]
pub fn assert_error(got: &(u16, Value), status: u16, code: &str, field: Option<&str>) {
    assert_eq!(got.0, status, "body: {}", got.1);
    assert_eq!(got.1["error"]["code"], code, "body: {}", got.1);
    match field {
        Some(f) => assert_eq!(got.1["error"]["field"], f, "body: {}", got.1),
        None => assert!(got.1["error"].get("field").is_none(), "body: {}", got.1),
    }
}

/// The emulator's test front (scripts/lib/dynamodb_emulator.py --front):
/// per-table DynamoDB behaviours the plain emulator lacks.
pub mod front {
    use serde_json::Value;
    use std::io::{Read, Write};
    use std::time::Duration;

    pub fn endpoint() -> String {
        match std::env::var("AWS_ENDPOINT_URL_DYNAMODB_FRONT") {
            Ok(v) if !v.trim().is_empty() => v.trim().trim_end_matches('/').to_string(),
            _ => panic!(
                "AWS_ENDPOINT_URL_DYNAMODB_FRONT is not set: run with scripts/test.sh \
                 (it starts the emulator with its test front)"
            ),
        }
    }

    /// One request to the front's control routes (plain HTTP/1.1).
    pub fn control(method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = endpoint();
        let addr = url
            .strip_prefix("http://")
            .expect("the front is served over plain http")
            .to_string();
        let mut s = std::net::TcpStream::connect(&addr).expect("the front accepts connections");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).unwrap();
        let (head, body) = resp.split_once("\r\n\r\n").expect("an HTTP response");
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .expect("a status line");
        let answer = serde_json::from_str(body).unwrap_or_else(|_| {
            panic!(
                "{method} {path}: HTTP {status}, not the front's JSON: is {url} the emulator \
                 started with --front (scripts/test.sh)? {body:.200}"
            )
        });
        (status, answer)
    }

    /// Sets `table`'s behaviours (the front's /_front/config settings).
    pub fn configure(table: &str, settings: Value) {
        let mut body = settings;
        body["table"] = Value::from(table);
        let (status, answer) = control("POST", "/_front/config", Some(body));
        assert_eq!(status, 200, "front config: {answer}");
    }

    /// `table`'s counters (conflicts, throttles, lost responses, requests).
    pub fn stats(table: &str) -> Value {
        let (status, answer) = control("GET", &format!("/_front/stats?table={table}"), None);
        assert_eq!(status, 200, "front stats: {answer}");
        answer
    }

    /// Forgets `table`'s settings and counters.
    pub fn reset(table: &str) {
        let body = serde_json::json!({ "table": table });
        let (status, answer) = control("POST", "/_front/reset", Some(body));
        assert_eq!(status, 200, "front reset: {answer}");
    }
}
