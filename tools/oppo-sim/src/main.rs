//! `oppo-sim [--listen 127.0.0.1:9703] [--port N] [--app APP_ID:APP_KEY:MASTER_SECRET]...
//! [--receipt-delay-ms N] [--receipt-redeliver] [--create-time number|string]
//! [--no-header-token] [--camel-case] [--future-skew-ms N] [--receipt-targets N]`
//!
//! `--listen` (env `OPPO_SIM_LISTEN`, default 127.0.0.1:9703) and `--port`
//! (env `OPPO_SIM_PORT`, replacing the port of `--listen`) are sim-kit's.
//! `--app` registers an app with no approved channels, no strong reminder
//! and no template rule (env `OPPO_SIM_APPS`, comma-separated);
//! `POST /_sim/apps` registers richer ones. The other flags set the
//! simulator's `Settings` (kept across resets) and receipt settings. A flag
//! given on the command line replaces its environment variable.

use std::net::SocketAddr;

use clap::Parser;
use oppo_sim::{CreateTime, Settings, SimApp, SimConfig, Simulator};
use sim_kit::cli::{self, ListenArgs, ReceiptArgs};

/// Where the binary listens unless told otherwise.
const DEFAULT_LISTEN: ([u8; 4], u16) = ([127, 0, 0, 1], 9703);

/// A strict simulator of OPPO Push (OPUSH)'s server API, for tests and local runs.
#[derive(Parser)]
#[command(name = "oppo-sim", version)]
struct Args {
    #[command(flatten)]
    listen: ListenArgs,

    /// An app as APP_ID:APP_KEY:MASTER_SECRET; repeat for more (env: comma-separated).
    #[arg(long = "app", env = "OPPO_SIM_APPS", value_delimiter = ',', value_parser = parse_app, hide_env_values = true)]
    apps: Vec<SimApp>,

    #[command(flatten)]
    receipt_flags: ReceiptArgs,

    /// How the auth answer writes create_time: number or string.
    #[arg(long, env = "OPPO_SIM_CREATE_TIME", default_value = "number", value_parser = parse_create_time)]
    create_time: CreateTime,

    /// Refuse an auth_token sent as an HTTP header (take it from the form only).
    #[arg(long, env = "OPPO_SIM_NO_HEADER_TOKEN")]
    no_header_token: bool,

    /// Also read camelCase notification keys.
    #[arg(long, env = "OPPO_SIM_CAMEL_CASE")]
    camel_case: bool,

    /// How far (ms) an auth timestamp may be ahead of the simulator's clock.
    #[arg(long, env = "OPPO_SIM_FUTURE_SKEW_MS", default_value_t = 0)]
    future_skew_ms: u64,

    /// At most this many registration ids per receipt item (1..=1000).
    #[arg(long, env = "OPPO_SIM_RECEIPT_TARGETS", default_value_t = oppo_sim::DEFAULT_RECEIPT_TARGETS)]
    receipt_targets: usize,
}

/// APP_ID:APP_KEY:MASTER_SECRET, split on the first two `:` (ids and keys
/// have none).
fn parse_app(text: &str) -> Result<SimApp, String> {
    const SHAPE: &str = "expected APP_ID:APP_KEY:MASTER_SECRET";
    let mut parts = text.trim().splitn(3, ':');
    let (Some(id), Some(key), Some(secret)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(SHAPE.to_owned());
    };
    if id.is_empty() || key.is_empty() || secret.is_empty() {
        return Err(SHAPE.to_owned());
    }
    Ok(SimApp::new(id, key, secret))
}

fn parse_create_time(text: &str) -> Result<CreateTime, String> {
    match text {
        "number" => Ok(CreateTime::Number),
        "string" => Ok(CreateTime::String),
        _ => Err("expected number or string".to_owned()),
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    cli::init_logging();

    let args: Args = cli::parse("OPPO_SIM");
    let keys: Vec<String> = args.apps.iter().map(|a| a.app_key.clone()).collect();
    let settings = Settings {
        create_time: args.create_time,
        header_token: !args.no_header_token,
        camel_case: args.camel_case,
        future_skew_ms: args.future_skew_ms,
        receipt_targets: args.receipt_targets,
    };
    if let Err(error) = settings.check() {
        eprintln!("oppo-sim: {error}");
        std::process::exit(2);
    }
    let addr = args.listen.addr(SocketAddr::from(DEFAULT_LISTEN));
    let sim = Simulator::start_on(
        addr,
        SimConfig {
            apps: args.apps,
            settings,
        },
    )
    .await?;
    tracing::info!(?keys, "apps configured");
    sim.set_receipt_settings(args.receipt_flags.apply(sim.receipt_settings()));

    cli::announce_and_wait("oppo-sim", &sim.base_url()).await?;
    tracing::info!("stopping");
    sim.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_app;

    #[test]
    fn apps_split_on_the_first_two_colons() {
        let app = parse_app("30012345:key-a:sec:ret").unwrap();
        assert_eq!(app.app_id, "30012345");
        assert_eq!(app.app_key, "key-a");
        assert_eq!(app.master_secret, "sec:ret");
        for bad in [
            "",
            "30012345",
            "30012345:key",
            ":key:secret",
            "id::secret",
            "id:key:",
        ] {
            assert!(parse_app(bad).is_err(), "{bad:?}");
        }
    }
}
