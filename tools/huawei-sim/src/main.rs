//! `huawei-sim [--listen 127.0.0.1:9704] [--port N] [--app APPID:SECRET]...
//! [--receipt APPID:RECEIPTID=URL]... [--receipt-auth APPID:RECEIPTID=USER:SECRET]...
//! [--receipt-delay-ms N] [--receipt-redeliver] [--receipt-batch N]
//! [--unapproved-category marketing|reject] [--ttl-over-max reject|clamp]`
//!
//! `--listen` (env `HUAWEI_SIM_LISTEN`, default 127.0.0.1:9704) and `--port`
//! (env `HUAWEI_SIM_PORT`, replacing the port of `--listen`) are sim-kit's.
//! `--app` registers an app with the defaults of `SimApp::new` (env
//! `HUAWEI_SIM_APPS`, comma-separated); `--receipt` adds a receipt
//! configuration to an app (the first of an app is its default; env
//! `HUAWEI_SIM_RECEIPTS`), `--receipt-auth` its callback user name and secret
//! (env `HUAWEI_SIM_RECEIPT_AUTH`). `POST /_sim/apps` registers richer apps.
//! A flag given on the command line replaces its environment variable.

use std::net::SocketAddr;

use clap::Parser;
use huawei_sim::{
    ReceiptConfig, Settings, SimApp, SimConfig, Simulator, TtlOverMax, UnapprovedCategory,
};
use sim_kit::cli::{self, ListenArgs, ReceiptArgs};

/// Where the binary listens unless told otherwise.
const DEFAULT_LISTEN: ([u8; 4], u16) = ([127, 0, 0, 1], 9704);

/// A strict simulator of Huawei Push Kit's server API (Android / HarmonyOS
/// 4), for tests and local runs.
#[derive(Parser)]
#[command(name = "huawei-sim", version)]
struct Args {
    #[command(flatten)]
    listen: ListenArgs,

    /// An app as APPID:CLIENT_SECRET; repeat for more (env: comma-separated).
    #[arg(long = "app", env = "HUAWEI_SIM_APPS", value_delimiter = ',', value_parser = parse_app, hide_env_values = true)]
    apps: Vec<SimApp>,

    /// A receipt configuration as APPID:RECEIPTID=URL; the first of an app
    /// is its default (env: comma-separated).
    #[arg(long = "receipt", env = "HUAWEI_SIM_RECEIPTS", value_delimiter = ',', value_parser = parse_receipt)]
    receipts: Vec<(String, ReceiptConfig)>,

    /// A receipt configuration's callback user name and secret as
    /// APPID:RECEIPTID=USER:SECRET (env: comma-separated).
    #[arg(long = "receipt-auth", env = "HUAWEI_SIM_RECEIPT_AUTH", value_delimiter = ',', value_parser = parse_auth, hide_env_values = true)]
    receipt_auth: Vec<(String, String, String, String)>,

    #[command(flatten)]
    receipt_flags: ReceiptArgs,

    /// Receipt items per POST, 1..=1000 (100 current doc, 1000 archived doc).
    #[arg(long, env = "HUAWEI_SIM_RECEIPT_BATCH", default_value_t = 100, value_parser = clap::value_parser!(u16).range(1..=1000))]
    receipt_batch: u16,

    /// A category without the self-classification right: marketing or reject.
    #[arg(long, env = "HUAWEI_SIM_UNAPPROVED_CATEGORY", default_value = "marketing", value_parser = parse_unapproved)]
    unapproved_category: UnapprovedCategory,

    /// An android.ttl over 1296000s: reject or clamp.
    #[arg(long, env = "HUAWEI_SIM_TTL_OVER_MAX", default_value = "reject", value_parser = parse_ttl_over_max)]
    ttl_over_max: TtlOverMax,
}

/// APPID:SECRET, split on the first `:` (an app id has none).
fn parse_app(text: &str) -> Result<SimApp, String> {
    const SHAPE: &str = "expected APPID:CLIENT_SECRET";
    let (app_id, secret) = text.trim().split_once(':').ok_or(SHAPE)?;
    if app_id.is_empty() || secret.is_empty() {
        return Err(SHAPE.to_owned());
    }
    Ok(SimApp::new(app_id, secret))
}

/// APPID:RECEIPTID=URL.
fn parse_receipt(text: &str) -> Result<(String, ReceiptConfig), String> {
    const SHAPE: &str = "expected APPID:RECEIPTID=URL";
    let (key, url) = text.trim().split_once('=').ok_or(SHAPE)?;
    let (app_id, id) = key.split_once(':').ok_or(SHAPE)?;
    if app_id.is_empty() || id.is_empty() || url.is_empty() {
        return Err(SHAPE.to_owned());
    }
    Ok((app_id.to_owned(), ReceiptConfig::new(id, url)))
}

/// APPID:RECEIPTID=USER:SECRET.
fn parse_auth(text: &str) -> Result<(String, String, String, String), String> {
    const SHAPE: &str = "expected APPID:RECEIPTID=USER:SECRET";
    let (key, auth) = text.trim().split_once('=').ok_or(SHAPE)?;
    let (app_id, id) = key.split_once(':').ok_or(SHAPE)?;
    let (user, secret) = auth.split_once(':').ok_or(SHAPE)?;
    if app_id.is_empty() || id.is_empty() || secret.is_empty() {
        return Err(SHAPE.to_owned());
    }
    Ok((app_id.into(), id.into(), user.into(), secret.into()))
}

fn parse_unapproved(text: &str) -> Result<UnapprovedCategory, String> {
    match text {
        "marketing" => Ok(UnapprovedCategory::Marketing),
        "reject" => Ok(UnapprovedCategory::Reject),
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

/// The apps with their receipt configurations and callback credentials.
fn apps(args: &Args) -> Result<Vec<SimApp>, String> {
    let mut apps = args.apps.clone();
    for (app_id, config) in &args.receipts {
        let app = apps
            .iter_mut()
            .find(|app| &app.app_id == app_id)
            .ok_or_else(|| format!("--receipt names an unknown app {app_id}"))?;
        let mut config = config.clone();
        config.default = app.receipts.is_empty();
        app.receipts.push(config);
    }
    for (app_id, id, user, secret) in &args.receipt_auth {
        let config = apps
            .iter_mut()
            .filter(|app| &app.app_id == app_id)
            .flat_map(|app| app.receipts.iter_mut())
            .find(|config| &config.id == id)
            .ok_or_else(|| format!("--receipt-auth names an unknown receipt {app_id}:{id}"))?;
        config.username.clone_from(user);
        config.secret = Some(secret.clone());
    }
    Ok(apps)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    cli::init_logging();

    let args: Args = cli::parse("HUAWEI_SIM");
    let apps = match apps(&args) {
        Ok(apps) => apps,
        Err(error) => {
            eprintln!("huawei-sim: {error}");
            std::process::exit(2);
        }
    };
    let ids: Vec<String> = apps.iter().map(|a| a.app_id.clone()).collect();
    let addr = args.listen.addr(SocketAddr::from(DEFAULT_LISTEN));
    let sim = Simulator::start_on(addr, SimConfig { apps }).await?;
    tracing::info!(apps = ?ids, "apps configured");
    sim.set_receipt_settings(args.receipt_flags.apply(sim.receipt_settings()));
    let settings = Settings {
        receipt_batch: usize::from(args.receipt_batch),
        unapproved_category: args.unapproved_category,
        ttl_over_max: args.ttl_over_max,
        ..Settings::default()
    };
    if let Err(error) = sim.set_settings(settings) {
        eprintln!("huawei-sim: {error}");
        std::process::exit(2);
    }

    cli::announce_and_wait("huawei-sim", &sim.base_url()).await?;
    tracing::info!("stopping");
    sim.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{parse_app, parse_auth, parse_receipt};

    #[test]
    fn flags_split_where_they_should() {
        let app = parse_app("10086:sec:ret==").unwrap();
        assert_eq!(app.app_id, "10086");
        assert_eq!(app.client_secret, "sec:ret==");
        for bad in ["", "10086", ":secret", "10086:"] {
            assert!(parse_app(bad).is_err(), "{bad:?}");
        }
        let (app_id, config) = parse_receipt("10086:r1=http://127.0.0.1:9/hw?a=b").unwrap();
        assert_eq!(app_id, "10086");
        assert_eq!(config.id, "r1");
        assert_eq!(config.url, "http://127.0.0.1:9/hw?a=b");
        assert!(parse_receipt("10086=http://x").is_err());
        assert_eq!(
            parse_auth("10086:r1=user:s:e").unwrap(),
            ("10086".into(), "r1".into(), "user".into(), "s:e".into())
        );
        assert!(parse_auth("10086:r1=user").is_err());
    }
}
