//! `harmony-sim [--listen 127.0.0.1:9708] [--port N] [--app KEY_FILE]...
//! [--approved-categories IM,VOIP] [--receipt PROJECT:RECEIPTID=URL]...
//! [--receipt-auth PROJECT:RECEIPTID=USER:SECRET]... [--receipt-key base64|utf8]
//! [--receipt-delay-ms N] [--receipt-redeliver] [--receipt-batch N]
//! [--unapproved-category marketing|reject] [--missing-category marketing|reject]
//! [--ttl-over-max reject|clamp] [--accept-rs256]`
//!
//! `--listen` (env `HARMONY_SIM_LISTEN`, default 127.0.0.1:9708) and `--port`
//! (env `HARMONY_SIM_PORT`, replacing the port of `--listen`) are sim-kit's.
//! `--app` reads a service-account key file (JSON with `project_id`,
//! `key_id`, `sub_account`, `private_key`) and registers its project with
//! the defaults of `SimApp::new` (several files of one project add accounts;
//! env `HARMONY_SIM_APPS`, comma-separated paths). `--receipt` adds a
//! receipt configuration to a project (the first of a project is its
//! default; env `HARMONY_SIM_RECEIPTS`), `--receipt-auth` its user name and
//! secret (env `HARMONY_SIM_RECEIPT_AUTH`), read as `--receipt-key` says
//! (env `HARMONY_SIM_RECEIPT_KEY`). Every other flag has the env variable
//! `HARMONY_SIM_<FLAG>`. `POST /_sim/apps` registers richer projects. A flag
//! given on the command line replaces its environment variable.

use std::net::SocketAddr;

use clap::Parser;
use harmony_sim::{
    CategoryPolicy, ReceiptConfig, ReceiptKey, ServiceAccount, Settings, SimApp, SimConfig,
    Simulator, TtlOverMax,
};
use sim_kit::cli::{self, ListenArgs, ReceiptArgs};

/// Where the binary listens unless told otherwise.
const DEFAULT_LISTEN: ([u8; 4], u16) = ([127, 0, 0, 1], 9708);

/// A strict simulator of Huawei Push Kit's HarmonyOS 5+ scenario API (v3),
/// for tests and local runs.
#[derive(Parser)]
#[command(name = "harmony-sim", version)]
struct Args {
    #[command(flatten)]
    listen: ListenArgs,

    /// A service-account key file (JSON); repeat for more (env: comma-separated).
    #[arg(long = "app", env = "HARMONY_SIM_APPS", value_delimiter = ',')]
    apps: Vec<std::path::PathBuf>,

    /// The categories with the self-classification right, for every project.
    #[arg(
        long,
        env = "HARMONY_SIM_APPROVED_CATEGORIES",
        value_delimiter = ',',
        default_value = "IM"
    )]
    approved_categories: Vec<String>,

    /// A receipt configuration as PROJECT:RECEIPTID=URL; the first of a
    /// project is its default (env: comma-separated).
    #[arg(long = "receipt", env = "HARMONY_SIM_RECEIPTS", value_delimiter = ',', value_parser = parse_receipt)]
    receipts: Vec<(String, ReceiptConfig)>,

    /// A receipt configuration's user name and secret as
    /// PROJECT:RECEIPTID=USER:SECRET (env: comma-separated).
    #[arg(long = "receipt-auth", env = "HARMONY_SIM_RECEIPT_AUTH", value_delimiter = ',', value_parser = parse_auth, hide_env_values = true)]
    receipt_auth: Vec<(String, String, String, String)>,

    /// How receipt secrets become HMAC keys: base64 (decoded) or utf8.
    #[arg(long, env = "HARMONY_SIM_RECEIPT_KEY", default_value = "base64", value_parser = parse_key)]
    receipt_key: ReceiptKey,

    #[command(flatten)]
    receipt_flags: ReceiptArgs,

    /// Receipt statuses per POST, 1..=100.
    #[arg(long, env = "HARMONY_SIM_RECEIPT_BATCH", default_value_t = 100, value_parser = clap::value_parser!(u16).range(1..=100))]
    receipt_batch: u16,

    /// A category without the self-classification right: marketing or reject.
    #[arg(long, env = "HARMONY_SIM_UNAPPROVED_CATEGORY", default_value = "marketing", value_parser = parse_policy)]
    unapproved_category: CategoryPolicy,

    /// A notification without category: marketing or reject.
    #[arg(long, env = "HARMONY_SIM_MISSING_CATEGORY", default_value = "marketing", value_parser = parse_policy)]
    missing_category: CategoryPolicy,

    /// A pushOptions.ttl over 1296000: reject or clamp.
    #[arg(long, env = "HARMONY_SIM_TTL_OVER_MAX", default_value = "reject", value_parser = parse_ttl_over_max)]
    ttl_over_max: TtlOverMax,

    /// Also accept RS256 JWTs.
    #[arg(long, env = "HARMONY_SIM_ACCEPT_RS256")]
    accept_rs256: bool,
}

/// PROJECT:RECEIPTID=URL.
fn parse_receipt(text: &str) -> Result<(String, ReceiptConfig), String> {
    const SHAPE: &str = "expected PROJECT:RECEIPTID=URL";
    let (key, url) = text.trim().split_once('=').ok_or(SHAPE)?;
    let (project, id) = key.split_once(':').ok_or(SHAPE)?;
    if project.is_empty() || id.is_empty() || url.is_empty() {
        return Err(SHAPE.to_owned());
    }
    Ok((project.to_owned(), ReceiptConfig::new(id, url)))
}

/// PROJECT:RECEIPTID=USER:SECRET.
fn parse_auth(text: &str) -> Result<(String, String, String, String), String> {
    const SHAPE: &str = "expected PROJECT:RECEIPTID=USER:SECRET";
    let (key, auth) = text.trim().split_once('=').ok_or(SHAPE)?;
    let (project, id) = key.split_once(':').ok_or(SHAPE)?;
    let (user, secret) = auth.split_once(':').ok_or(SHAPE)?;
    if project.is_empty() || id.is_empty() || secret.is_empty() {
        return Err(SHAPE.to_owned());
    }
    Ok((project.into(), id.into(), user.into(), secret.into()))
}

fn parse_key(text: &str) -> Result<ReceiptKey, String> {
    match text {
        "base64" => Ok(ReceiptKey::Base64Decoded),
        "utf8" => Ok(ReceiptKey::Utf8),
        _ => Err("expected base64 or utf8".to_owned()),
    }
}

fn parse_policy(text: &str) -> Result<CategoryPolicy, String> {
    match text {
        "marketing" => Ok(CategoryPolicy::Marketing),
        "reject" => Ok(CategoryPolicy::Reject),
        _ => Err("expected marketing or reject".to_owned()),
    }
}

fn parse_ttl_over_max(text: &str) -> Result<TtlOverMax, String> {
    match text {
        "reject" => Ok(TtlOverMax::Reject),
        "clamp" => Ok(TtlOverMax::Clamp),
        _ => Err("expected reject or clamp".to_owned()),
    }
}

/// The projects of the key files, with their receipt configurations.
fn apps(args: &Args) -> Result<Vec<SimApp>, String> {
    let mut apps: Vec<SimApp> = Vec::new();
    for path in &args.apps {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let (project_id, account) =
            ServiceAccount::from_key_file(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        match apps.iter_mut().find(|app| app.project_id == project_id) {
            Some(app) => app.accounts.push(account),
            None => {
                let mut app = SimApp::new(project_id, account);
                app.approved_categories
                    .clone_from(&args.approved_categories);
                apps.push(app);
            }
        }
    }
    for (project_id, config) in &args.receipts {
        let app = apps
            .iter_mut()
            .find(|app| &app.project_id == project_id)
            .ok_or_else(|| format!("--receipt names an unknown project {project_id}"))?;
        let mut config = config.clone();
        config.default = app.receipts.is_empty();
        config.key = args.receipt_key;
        app.receipts.push(config);
    }
    for (project_id, id, user, secret) in &args.receipt_auth {
        let config = apps
            .iter_mut()
            .filter(|app| &app.project_id == project_id)
            .flat_map(|app| app.receipts.iter_mut())
            .find(|config| &config.id == id)
            .ok_or_else(|| format!("--receipt-auth names an unknown receipt {project_id}:{id}"))?;
        config.username.clone_from(user);
        config.secret = Some(secret.clone());
    }
    Ok(apps)
}

fn fail(error: impl std::fmt::Display) -> ! {
    eprintln!("harmony-sim: {error}");
    std::process::exit(2);
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    cli::init_logging();

    let args: Args = cli::parse("HARMONY_SIM");
    let apps = apps(&args).unwrap_or_else(|error| fail(error));
    let ids: Vec<String> = apps.iter().map(|a| a.project_id.clone()).collect();
    let addr = args.listen.addr(SocketAddr::from(DEFAULT_LISTEN));
    let sim = match Simulator::start_on(addr, SimConfig { apps }).await {
        Ok(sim) => sim,
        Err(error) if error.kind() == std::io::ErrorKind::InvalidInput => fail(error),
        Err(error) => return Err(error),
    };
    tracing::info!(projects = ?ids, "projects configured");
    sim.set_receipt_settings(args.receipt_flags.apply(sim.receipt_settings()));
    let settings = Settings {
        receipt_batch: usize::from(args.receipt_batch),
        unapproved_category: args.unapproved_category,
        missing_category: args.missing_category,
        ttl_over_max: args.ttl_over_max,
        accept_rs256: args.accept_rs256,
        ..Settings::default()
    };
    if let Err(error) = sim.set_settings(settings) {
        fail(error);
    }

    cli::announce_and_wait("harmony-sim", &sim.base_url()).await?;
    tracing::info!("stopping");
    sim.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{parse_auth, parse_receipt};

    #[test]
    fn flags_split_where_they_should() {
        let (project, config) = parse_receipt("388:r1=http://127.0.0.1:9/hw?a=b").unwrap();
        assert_eq!(project, "388");
        assert_eq!(config.id, "r1");
        assert_eq!(config.url, "http://127.0.0.1:9/hw?a=b");
        assert!(parse_receipt("388=http://x").is_err());
        assert!(parse_receipt(":r=http://x").is_err());
        assert_eq!(
            parse_auth("388:r1=user:s:e==").unwrap(),
            ("388".into(), "r1".into(), "user".into(), "s:e==".into())
        );
        assert!(parse_auth("388:r1=user").is_err());
    }
}
