//! offpush-admin: the operator's tool. It talks to the table directly with
//! the operator's own AWS credentials (IAM is the operator boundary).
//!
//!   offpush-admin --table T app create --app demo          # prints id and secret once
//!   offpush-admin --table T app show --app demo
//!   offpush-admin --table T app set --app demo --max-devices-per-user 3 --binding-ttl-days 14
//!   offpush-admin --table T token --app demo --sub alice [--admin] [--ttl 3600]
//!   offpush-admin --table T pause list --app demo         # vendor pauses of the app's certificates
//!   offpush-admin --table T pause clear --app demo --certificate 1 [--scope class:system]
//!   offpush-admin --table T push show --app demo --request-id m-1   # a push record
//!   offpush-admin --table T stats --app demo [--from D] [--to D] [--certificate 1]
//!   offpush-admin --table T push-log --app demo --user alice [--limit 50] [--before CURSOR]
//!   offpush-admin --table T receipts raw --app demo      # receipts that named no push of ours
//!   offpush-admin --table T table create                  # local emulator only
//!
//! `push show`, `stats` and `push-log` print what `GET /v1/pushes/{id}`,
//! `GET /v1/stats` and `GET /v1/users/{id}/push-log` answer (the same
//! builders, [`offpush::visibility`]), with the same defaults and limits.
//!
//! `--endpoint-url` (or AWS_ENDPOINT_URL_DYNAMODB) points it at a local emulator.

use clap::{Args, Parser, Subcommand};
use offpush::auth;
use offpush::domain::{App, AppId, AppSettings};
use offpush::store::Store;
use offpush::vendor::Vendors;
use offpush::visibility::{self as views, FLAGS};
use serde_json::json;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "offpush-admin", version, about = "offpush operator tool")]
struct Cli {
    /// The DynamoDB table (the stack's TableName output).
    #[arg(long, env = "TABLE_NAME", global = true)]
    table: Option<String>,
    /// A DynamoDB endpoint other than AWS's (a local emulator); uses dummy credentials.
    #[arg(long, global = true)]
    endpoint_url: Option<String>,
    /// Region (default: the AWS environment's, else us-east-1 for an endpoint).
    #[arg(long, env = "AWS_REGION", global = true)]
    region: Option<String>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Apps (tenants) and their settings.
    #[command(subcommand)]
    App(AppCmd),
    /// Mint a JWT (HS256) signed with the app's secret; prints only the token.
    Token(TokenArgs),
    /// Pauses a vendor imposed (daily quotas, list-body limits): per vendor
    /// app, shared by every certificate with the same credentials.
    #[command(subcommand)]
    Pause(PauseCmd),
    /// Push records (kept for the retention, 7 days unless changed).
    #[command(subcommand)]
    Push(PushCmd),
    /// Daily counters (UTC days), as `GET /v1/stats` answers them.
    Stats(StatsArgs),
    /// A user's last pushes with per-device outcomes (and for `no_device`,
    /// why), newest first, as `GET /v1/users/{user_id}/push-log` answers.
    PushLog(PushLogArgs),
    /// vivo's delivery receipts.
    #[command(subcommand)]
    Receipts(ReceiptsCmd),
    /// The table itself.
    #[command(subcommand)]
    Table(TableCmd),
}

#[derive(Subcommand)]
enum PauseCmd {
    /// The pauses in force for each certificate of the app.
    List {
        #[arg(long)]
        app: String,
    },
    /// Lifts the pauses of a certificate's vendor app (all, or one scope),
    /// e.g. after vivo raised the quota. Warm instances notice within 5 s.
    Clear {
        #[arg(long)]
        app: String,
        #[arg(long)]
        certificate: u64,
        /// One scope only (as `pause list` shows it, e.g. `class:system`).
        #[arg(long)]
        scope: Option<String>,
    },
}

#[derive(Subcommand)]
enum PushCmd {
    /// A push's stored result with each device's delivery state, as
    /// `GET /v1/pushes/{request_id}` answers it.
    Show {
        #[arg(long)]
        app: String,
        /// The request id the push was made with.
        #[arg(long)]
        request_id: String,
    },
}

#[derive(Args)]
struct StatsArgs {
    #[arg(long)]
    app: String,
    /// First day, YYYY-MM-DD (default: six days before --to).
    #[arg(long, value_name = "YYYY-MM-DD")]
    from: Option<String>,
    /// Last day, YYYY-MM-DD (default: today, UTC); at most 31 days after --from.
    #[arg(long, value_name = "YYYY-MM-DD")]
    to: Option<String>,
    /// One certificate's counters instead of the whole app's.
    #[arg(long)]
    certificate: Option<u64>,
}

#[derive(Args)]
struct PushLogArgs {
    #[arg(long)]
    app: String,
    /// The IM user id.
    #[arg(long)]
    user: String,
    /// Entries per page (1-100, default 50).
    #[arg(long)]
    limit: Option<String>,
    /// The `next` cursor of the previous page.
    #[arg(long, value_name = "CURSOR")]
    before: Option<String>,
}

#[derive(Subcommand)]
enum ReceiptsCmd {
    /// Receipts kept as received because they named no push of ours, in
    /// whole or in part (kept for the retention), newest first; regIds and
    /// any other device values in them are masked to their last characters.
    Raw {
        #[arg(long)]
        app: String,
    },
}

#[derive(Subcommand)]
enum AppCmd {
    /// Create an app; prints its id and signing secret (shown this once).
    Create {
        #[arg(long)]
        app: String,
        #[command(flatten)]
        settings: SettingsArgs,
    },
    /// Show an app's settings (never its secret).
    Show {
        #[arg(long)]
        app: String,
    },
    /// Change an app's settings.
    Set {
        #[arg(long)]
        app: String,
        #[command(flatten)]
        settings: SettingsArgs,
    },
}

#[derive(Args)]
struct SettingsArgs {
    /// Bound devices per user before the oldest is logged out (1-10, default 1).
    #[arg(long)]
    max_devices_per_user: Option<u32>,
    /// Days a binding lives without a re-report (1-365; unset: the
    /// deployment's DEFAULT_BINDING_TTL_DAYS, 30 unless changed).
    #[arg(long)]
    binding_ttl_days: Option<u32>,
    /// Pushes a second the app may start across the stack (0: no limit;
    /// `default`: the deployment's APP_PUSH_RATE_LIMIT, 0 unless changed).
    #[arg(long, value_parser = parse_rate_limit)]
    push_rate_limit: Option<RateLimitArg>,
}

/// `--push-rate-limit`: a number, or `default`.
#[derive(Clone, Copy, Debug)]
struct RateLimitArg(Option<u32>);

fn parse_rate_limit(raw: &str) -> Result<RateLimitArg, String> {
    if raw == "default" {
        return Ok(RateLimitArg(None));
    }
    let n: u32 = raw
        .parse()
        .map_err(|_| "a number of pushes a second, or `default`".to_string())?;
    AppSettings::check_push_rate_limit(n)
        .map(|n| RateLimitArg(Some(n)))
        .map_err(|e| e.to_string())
}

#[derive(Args)]
struct TokenArgs {
    #[arg(long)]
    app: String,
    /// The IM user id, or the operator's name for an admin token.
    #[arg(long)]
    sub: String,
    /// Mint an admin token (role "admin").
    #[arg(long)]
    admin: bool,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    ttl: i64,
}

#[derive(Subcommand)]
enum TableCmd {
    /// Create the table with TTL on (for a local emulator; stacks get theirs from template.yaml).
    Create,
}

fn rfc3339_secs(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .map(offpush::domain::rfc3339)
        .unwrap_or_default()
}

fn pretty(v: &serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(v).expect("json"));
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("offpush-admin: {msg}");
    ExitCode::from(2)
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => fail(msg),
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let table = cli
        .table
        .clone()
        .ok_or("--table (or TABLE_NAME) is required")?;
    let endpoint = cli
        .endpoint_url
        .clone()
        .or_else(|| std::env::var("AWS_ENDPOINT_URL_DYNAMODB").ok());
    let store = match &endpoint {
        Some(url) => {
            let region = cli.region.clone().unwrap_or_else(|| "us-east-1".into());
            Store::for_endpoint(url, &region, table).await
        }
        None => {
            // Profiles, SSO and assumed roles: the operator's credentials.
            let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
                .http_client(offpush::store::https_client());
            if let Some(r) = &cli.region {
                loader = loader.region(aws_config::Region::new(r.clone()));
            }
            Store::from_sdk_config(&loader.load().await, table)
        }
    };
    let err = |e: &dyn std::error::Error| offpush::error::chain(e);
    let parse_app = |s: &str| AppId::parse("--app", s).map_err(|e| e.to_string());
    let service_err = |e: offpush::ServiceError| offpush::error::chain(&e);
    // The app, which must exist (the API's routes only answer for one).
    let known_app = |s: String| {
        let store = &store;
        async move {
            let id = parse_app(&s)?;
            match store.get_app(&id).await {
                Ok(Some(_)) => Ok(id),
                Ok(None) => Err(format!("no app {id}")),
                Err(e) => Err(err(&e)),
            }
        }
    };
    match cli.cmd {
        Cmd::Table(TableCmd::Create) => {
            store.create_table().await.map_err(|e| err(&e))?;
            println!(
                "{}",
                json!({"table": store.table(), "ttl_attribute": offpush::store::schema::TTL_ATTRIBUTE})
            );
        }
        Cmd::App(AppCmd::Create { app, settings }) => {
            let defaults = AppSettings::default();
            let settings = AppSettings {
                max_devices_per_user: AppSettings::check_max_devices(
                    settings
                        .max_devices_per_user
                        .unwrap_or(defaults.max_devices_per_user),
                )
                .map_err(|e| e.to_string())?,
                binding_ttl_days: settings
                    .binding_ttl_days
                    .map(AppSettings::check_ttl_days)
                    .transpose()
                    .map_err(|e| e.to_string())?,
                push_rate_limit: settings.push_rate_limit.and_then(|l| l.0),
            };
            let app = App {
                id: parse_app(&app)?,
                signing_secret: auth::new_signing_secret(),
                settings,
                created_at: time::OffsetDateTime::now_utc(),
            };
            if !store.create_app(&app).await.map_err(|e| err(&e))? {
                return Err(format!(
                    "app {} already exists (its secret is unchanged)",
                    app.id
                ));
            }
            // The only place a signing secret is ever shown.
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({
                    "app_id": app.id.as_str(),
                    "signing_secret": app.signing_secret.expose(),
                    "max_devices_per_user": settings.max_devices_per_user,
                    "binding_ttl_days": settings.binding_ttl_days,
                    "push_rate_limit": settings.push_rate_limit,
                }))
                .expect("json")
            );
        }
        Cmd::App(AppCmd::Show { app }) => {
            let id = parse_app(&app)?;
            let app = store
                .get_app(&id)
                .await
                .map_err(|e| err(&e))?
                .ok_or_else(|| format!("no app {id}"))?;
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({
                    "app_id": app.id.as_str(),
                    "max_devices_per_user": app.settings.max_devices_per_user,
                    "binding_ttl_days": app.settings.binding_ttl_days,
                    "push_rate_limit": app.settings.push_rate_limit,
                    "created_at": offpush::domain::rfc3339(app.created_at),
                }))
                .expect("json")
            );
        }
        Cmd::App(AppCmd::Set { app, settings }) => {
            let id = parse_app(&app)?;
            let md = settings
                .max_devices_per_user
                .map(AppSettings::check_max_devices)
                .transpose()
                .map_err(|e| e.to_string())?;
            let td = settings
                .binding_ttl_days
                .map(AppSettings::check_ttl_days)
                .transpose()
                .map_err(|e| e.to_string())?;
            let rl = settings.push_rate_limit;
            if md.is_none() && td.is_none() && rl.is_none() {
                return Err(
                    "nothing to set: give --max-devices-per-user, --binding-ttl-days and/or --push-rate-limit".into(),
                );
            }
            if (md.is_some() || td.is_some())
                && !store
                    .update_app_settings(&id, md, td)
                    .await
                    .map_err(|e| err(&e))?
            {
                return Err(format!("no app {id}"));
            }
            if let Some(RateLimitArg(limit)) = rl {
                if !store
                    .set_app_push_rate_limit(&id, limit)
                    .await
                    .map_err(|e| err(&e))?
                {
                    return Err(format!("no app {id}"));
                }
            }
            let app = store
                .get_app(&id)
                .await
                .map_err(|e| err(&e))?
                .ok_or("app vanished")?;
            println!(
                "{}",
                json!({"app_id": id.as_str(), "max_devices_per_user": app.settings.max_devices_per_user, "binding_ttl_days": app.settings.binding_ttl_days, "push_rate_limit": app.settings.push_rate_limit})
            );
        }
        Cmd::Pause(PauseCmd::List { app }) => {
            let id = parse_app(&app)?;
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            let mut rows = Vec::new();
            let vendors = registry(&store);
            for cert in store.list_certificates(&id).await.map_err(|e| err(&e))? {
                let Some(account) = vendors.get(cert.platform).and_then(|v| v.account(&cert))
                else {
                    continue;
                };
                let state = store
                    .vendor_state(&account, now)
                    .await
                    .map_err(|e| err(&e))?;
                let pauses: Vec<_> = state
                    .pauses
                    .iter()
                    .map(|p| {
                        json!({
                            "scope": p.scope,
                            "vendor_code": p.code,
                            "until": rfc3339_secs(p.until),
                            "set_at": rfc3339_secs(p.set_at),
                        })
                    })
                    .collect();
                rows.push(json!({
                    "certificate_id": cert.id,
                    "platform": cert.platform.as_str(),
                    "pauses": pauses,
                }));
            }
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({"app_id": id.as_str(), "certificates": rows}))
                    .expect("json")
            );
        }
        Cmd::Pause(PauseCmd::Clear {
            app,
            certificate,
            scope,
        }) => {
            let id = parse_app(&app)?;
            let cert_id = offpush::domain::CertificateId::new(certificate)
                .ok_or("--certificate must be a positive integer")?;
            let cert = store
                .get_certificate(&id, cert_id)
                .await
                .map_err(|e| err(&e))?
                .ok_or_else(|| format!("no certificate {certificate} in app {id}"))?;
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            let account = registry(&store)
                .get(cert.platform)
                .and_then(|v| v.account(&cert))
                .ok_or_else(|| format!("certificate {certificate}'s credentials cannot be read"))?;
            let cleared = store
                .clear_pauses(&account, scope.as_deref(), now)
                .await
                .map_err(|e| err(&e))?;
            println!(
                "{}",
                json!({"app_id": id.as_str(), "certificate_id": certificate, "cleared": cleared})
            );
        }
        Cmd::Push(PushCmd::Show { app, request_id }) => {
            offpush::domain::push::check_request_id(&request_id).map_err(|e| {
                let msg = e.to_string();
                format!(
                    "--request-id{}",
                    msg.strip_prefix("request_id").unwrap_or(&msg)
                )
            })?;
            let id = known_app(app).await?;
            let record = views::push_record(&store, &id, &request_id)
                .await
                .map_err(service_err)?;
            pretty(&record);
        }
        Cmd::Stats(a) => {
            let cert = a
                .certificate
                .map(|c| {
                    offpush::domain::CertificateId::new(c)
                        .ok_or("--certificate must be a positive integer")
                })
                .transpose()?;
            let id = known_app(a.app).await?;
            let stats = views::stats(
                &store,
                &id,
                a.from.as_deref(),
                a.to.as_deref(),
                cert,
                &FLAGS,
            )
            .await
            .map_err(service_err)?;
            pretty(&stats);
        }
        Cmd::PushLog(a) => {
            let user =
                offpush::domain::UserId::parse("--user", &a.user).map_err(|e| e.to_string())?;
            let limit = views::parse_limit(a.limit, &FLAGS).map_err(service_err)?;
            let id = known_app(a.app).await?;
            let log = views::push_log(&store, &id, &user, limit, a.before.as_deref(), &FLAGS)
                .await
                .map_err(service_err)?;
            pretty(&log);
        }
        Cmd::Receipts(ReceiptsCmd::Raw { app }) => {
            let id = known_app(app).await?;
            let kept = views::raw_receipts(&store, &id)
                .await
                .map_err(service_err)?;
            pretty(&kept);
        }
        Cmd::Token(t) => {
            let id = parse_app(&t.app)?;
            offpush::domain::UserId::parse("--sub", &t.sub).map_err(|e| e.to_string())?;
            if !(1..=31 * 24 * 3600).contains(&t.ttl) {
                return Err("--ttl must be 1 to 2678400 seconds".into());
            }
            let app = store
                .get_app(&id)
                .await
                .map_err(|e| err(&e))?
                .ok_or_else(|| format!("no app {id}"))?;
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            println!(
                "{}",
                auth::mint_for(&app.signing_secret, &id, &t.sub, t.admin, now, t.ttl)
            );
        }
    }
    Ok(())
}

/// The vendors, for their account keys only (no vendor is called).
fn registry(store: &Store) -> offpush_registry::Registry {
    offpush_registry::Registry::new(store, &offpush_registry::RegistryConfig::default())
}
