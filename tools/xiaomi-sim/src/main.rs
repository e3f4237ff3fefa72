//! `xiaomi-sim [--listen 127.0.0.1:9702] [--port N] [--app PACKAGE:SECRET]...
//! [--receipt-delay-ms N] [--receipt-redeliver] [--receipt-body form|json]
//! [--bad-regids-key bad_regids|bad_regIds]`
//!
//! `--listen` (env `XIAOMI_SIM_LISTEN`, default 127.0.0.1:9702) and `--port`
//! (env `XIAOMI_SIM_PORT`, replacing the port of `--listen`) are sim-kit's.
//! `--app` registers an app with no channels and no template rule (env
//! `XIAOMI_SIM_APPS`, comma-separated); `POST /_sim/apps` registers richer
//! ones. A flag given on the command line replaces its environment variable.

use std::net::SocketAddr;

use clap::Parser;
use sim_kit::cli::{self, ListenArgs, ReceiptArgs};
use xiaomi_sim::{BadRegIdsKey, ReceiptBody, Settings, SimApp, SimConfig, Simulator};

/// Where the binary listens unless told otherwise.
const DEFAULT_LISTEN: ([u8; 4], u16) = ([127, 0, 0, 1], 9702);

/// A strict simulator of Xiaomi MiPush's server API, for tests and local runs.
#[derive(Parser)]
#[command(name = "xiaomi-sim", version)]
struct Args {
    #[command(flatten)]
    listen: ListenArgs,

    /// An app as PACKAGE:SECRET; repeat for more (env: comma-separated).
    #[arg(long = "app", env = "XIAOMI_SIM_APPS", value_delimiter = ',', value_parser = parse_app, hide_env_values = true)]
    apps: Vec<SimApp>,

    #[command(flatten)]
    receipt_flags: ReceiptArgs,

    /// Receipt POST bodies: form (`data=<json>`) or json.
    #[arg(long, env = "XIAOMI_SIM_RECEIPT_BODY", default_value = "form", value_parser = parse_receipt_body)]
    receipt_body: ReceiptBody,

    /// The key of the invalid regIds in a partial success: bad_regids or bad_regIds.
    #[arg(long, env = "XIAOMI_SIM_BAD_REGIDS_KEY", default_value = "bad_regids", value_parser = parse_bad_regids_key)]
    bad_regids_key: BadRegIdsKey,
}

/// PACKAGE:SECRET, split on the first `:` (a package name has none).
fn parse_app(text: &str) -> Result<SimApp, String> {
    const SHAPE: &str = "expected PACKAGE:SECRET";
    let (package, secret) = text.trim().split_once(':').ok_or(SHAPE)?;
    if package.is_empty() || secret.is_empty() {
        return Err(SHAPE.to_owned());
    }
    Ok(SimApp::new(secret, package))
}

fn parse_receipt_body(text: &str) -> Result<ReceiptBody, String> {
    match text {
        "form" => Ok(ReceiptBody::Form),
        "json" => Ok(ReceiptBody::Json),
        _ => Err("expected form or json".to_owned()),
    }
}

fn parse_bad_regids_key(text: &str) -> Result<BadRegIdsKey, String> {
    match text {
        "bad_regids" => Ok(BadRegIdsKey::Lower),
        "bad_regIds" => Ok(BadRegIdsKey::Camel),
        _ => Err("expected bad_regids or bad_regIds".to_owned()),
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    cli::init_logging();

    let args: Args = cli::parse("XIAOMI_SIM");
    let packages: Vec<String> = args.apps.iter().map(|a| a.package_name.clone()).collect();
    let addr = args.listen.addr(SocketAddr::from(DEFAULT_LISTEN));
    let sim = Simulator::start_on(addr, SimConfig { apps: args.apps }).await?;
    tracing::info!(?packages, "apps configured");
    sim.set_receipt_settings(args.receipt_flags.apply(sim.receipt_settings()));
    sim.set_settings(Settings {
        bad_regids_key: args.bad_regids_key,
        receipt_body: args.receipt_body,
    });

    cli::announce_and_wait("xiaomi-sim", &sim.base_url()).await?;
    tracing::info!("stopping");
    sim.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_app;

    #[test]
    fn apps_split_on_the_first_colon() {
        let app = parse_app("com.example.im:sec:ret==").unwrap();
        assert_eq!(app.package_name, "com.example.im");
        assert_eq!(app.app_secret, "sec:ret==");
        for bad in ["", "com.example", ":secret", "com.example:"] {
            assert!(parse_app(bad).is_err(), "{bad:?}");
        }
    }
}
