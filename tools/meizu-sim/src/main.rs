//! `meizu-sim [--listen 127.0.0.1:9709] [--port N] [--app APPID:SECRET[:PACKAGE]]...
//! [--receipt-delay-ms N] [--receipt-redeliver] [--receipt-body form|json]
//! [--max-push-ids N] [--swap-110019-110031]`
//!
//! `--listen` (env `MEIZU_SIM_LISTEN`, default 127.0.0.1:9709) and `--port`
//! (env `MEIZU_SIM_PORT`, replacing the port of `--listen`) are sim-kit's,
//! as are the receipt flags (`MEIZU_SIM_RECEIPT_DELAY_MS`,
//! `MEIZU_SIM_RECEIPT_REDELIVER`). `--app` registers an app (env
//! `MEIZU_SIM_APPS`, comma-separated); `POST /_sim/apps` registers richer
//! ones, `POST /_sim/settings` sets every other guess. A flag given on the
//! command line replaces its environment variable.

use std::net::SocketAddr;

use clap::Parser;
use meizu_sim::{ReceiptBody, Settings, SimApp, SimConfig, Simulator, MAX_PUSH_IDS};
use sim_kit::cli::{self, ListenArgs, ReceiptArgs};

/// Where the binary listens unless told otherwise.
const DEFAULT_LISTEN: ([u8; 4], u16) = ([127, 0, 0, 1], 9709);

/// A strict simulator of Meizu Flyme Push's server API, for tests and local runs.
#[derive(Parser)]
#[command(name = "meizu-sim", version)]
struct Args {
    #[command(flatten)]
    listen: ListenArgs,

    /// An app as APPID:SECRET or APPID:SECRET:PACKAGE (no package: any
    /// restrictedPackageNames pass); repeat for more (env: comma-separated).
    #[arg(long = "app", env = "MEIZU_SIM_APPS", value_delimiter = ',', value_parser = parse_app, hide_env_values = true)]
    apps: Vec<SimApp>,

    #[command(flatten)]
    receipt_flags: ReceiptArgs,

    /// Receipt POST bodies: form (`cb=<json>&access_token=..`) or json.
    #[arg(long, env = "MEIZU_SIM_RECEIPT_BODY", default_value = "form", value_parser = parse_receipt_body)]
    receipt_body: ReceiptBody,

    /// pushIds per call: 100 (since 2023-08) or 1000 (the older reading).
    #[arg(long, env = "MEIZU_SIM_MAX_PUSH_IDS", default_value_t = MAX_PUSH_IDS, value_parser = clap::value_parser!(usize))]
    max_push_ids: usize,

    /// Answer the daily push count with 110031 (and a bad package with
    /// 110019), as commit 2b84cb4 of Meizu's README had it.
    #[arg(long, env = "MEIZU_SIM_SWAP_110019_110031")]
    swap_110019_110031: bool,
}

/// APPID:SECRET[:PACKAGE]: the appId is digits, the secret has no `:`.
fn parse_app(text: &str) -> Result<SimApp, String> {
    const SHAPE: &str = "expected APPID:SECRET or APPID:SECRET:PACKAGE (APPID digits)";
    let mut parts = text.trim().splitn(3, ':');
    let app_id = parts.next().unwrap_or("");
    let secret = parts.next().unwrap_or("");
    let package = parts.next();
    if app_id.is_empty() || !app_id.bytes().all(|b| b.is_ascii_digit()) || secret.is_empty() {
        return Err(SHAPE.to_owned());
    }
    let mut app = SimApp::new(app_id, secret, package.unwrap_or(""));
    match package {
        Some("") => return Err(SHAPE.to_owned()),
        Some(_) => {}
        None => app.package_names.clear(),
    }
    Ok(app)
}

fn parse_receipt_body(text: &str) -> Result<ReceiptBody, String> {
    match text {
        "form" => Ok(ReceiptBody::Form),
        "json" => Ok(ReceiptBody::Json),
        _ => Err("expected form or json".to_owned()),
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    cli::init_logging();

    let args: Args = cli::parse("MEIZU_SIM");
    if args.max_push_ids == 0 {
        eprintln!("--max-push-ids must be at least 1");
        std::process::exit(2);
    }
    let app_ids: Vec<String> = args.apps.iter().map(|a| a.app_id.clone()).collect();
    let addr = args.listen.addr(SocketAddr::from(DEFAULT_LISTEN));
    let settings = Settings {
        receipt_body: args.receipt_body,
        max_push_ids: args.max_push_ids,
        swap_110019_110031: args.swap_110019_110031,
        ..Settings::default()
    };
    let config = SimConfig {
        apps: args.apps,
        settings,
    };
    let sim = Simulator::start_on(addr, config).await?;
    tracing::info!(?app_ids, "apps configured");
    sim.set_receipt_settings(args.receipt_flags.apply(sim.receipt_settings()));

    cli::announce_and_wait("meizu-sim", &sim.base_url()).await?;
    tracing::info!("stopping");
    sim.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_app;

    #[test]
    fn apps_split_on_colons() {
        let app = parse_app("100001:sec-ret:com.example.im").unwrap();
        assert_eq!(app.app_id, "100001");
        assert_eq!(app.app_secret, "sec-ret");
        assert_eq!(app.package_names, ["com.example.im"]);
        let app = parse_app("100001:secret").unwrap();
        assert!(app.package_names.is_empty());
        for bad in [
            "",
            "100001",
            "abc:secret",
            ":secret",
            "100001:",
            "100001:s:",
        ] {
            assert!(parse_app(bad).is_err(), "{bad:?}");
        }
    }
}
