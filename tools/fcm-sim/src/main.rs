//! `fcm-sim [--listen 127.0.0.1:9707] [--port N] [--service-account FILE]...
//! [--scope-check token|send] [--payload-measure message|content]`
//!
//! `--listen` (env `FCM_SIM_LISTEN`, default 127.0.0.1:9707) and `--port`
//! (env `FCM_SIM_PORT`, replacing the port of `--listen`) are sim-kit's.
//! `--service-account` (alias `--app`) registers the service account of a
//! JSON key file (env `FCM_SIM_SERVICE_ACCOUNTS`, comma-separated paths); `POST
//! /_sim/apps` registers more. A flag given on the command line replaces
//! its environment variable. FCM has no receipts, so the kit's receipt
//! flags are not offered.

use std::net::SocketAddr;

use clap::Parser;
use fcm_sim::{PayloadMeasure, ScopeCheck, Settings, SimApp, SimConfig, Simulator};
use sim_kit::cli::{self, ListenArgs};

/// Where the binary listens unless told otherwise.
const DEFAULT_LISTEN: ([u8; 4], u16) = ([127, 0, 0, 1], 9707);

/// A strict simulator of Firebase Cloud Messaging HTTP v1 and Google's
/// OAuth2 token endpoint, for tests and local runs.
#[derive(Parser)]
#[command(name = "fcm-sim", version)]
struct Args {
    #[command(flatten)]
    listen: ListenArgs,

    /// A service-account JSON key file; repeat for more (env: comma-separated).
    #[arg(long = "service-account", alias = "app", env = "FCM_SIM_SERVICE_ACCOUNTS", value_delimiter = ',', value_parser = read_service_account)]
    apps: Vec<SimApp>,

    /// Where a token without the firebase.messaging scope is refused: token or send.
    #[arg(long, env = "FCM_SIM_SCOPE_CHECK", default_value = "token", value_parser = parse_scope_check)]
    scope_check: ScopeCheck,

    /// What the payload limit measures: message or content.
    #[arg(long, env = "FCM_SIM_PAYLOAD_MEASURE", default_value = "message", value_parser = parse_payload_measure)]
    payload_measure: PayloadMeasure,
}

fn read_service_account(path: &str) -> Result<SimApp, String> {
    let text = std::fs::read_to_string(path.trim()).map_err(|e| format!("{path}: {e}"))?;
    SimApp::from_service_account_json(&text).map_err(|e| format!("{path}: {e}"))
}

fn parse_scope_check(text: &str) -> Result<ScopeCheck, String> {
    match text {
        "token" => Ok(ScopeCheck::Token),
        "send" => Ok(ScopeCheck::Send),
        _ => Err("expected token or send".to_owned()),
    }
}

fn parse_payload_measure(text: &str) -> Result<PayloadMeasure, String> {
    match text {
        "message" => Ok(PayloadMeasure::Message),
        "content" => Ok(PayloadMeasure::Content),
        _ => Err("expected message or content".to_owned()),
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    cli::init_logging();

    let args: Args = cli::parse("FCM_SIM");
    let projects: Vec<String> = args.apps.iter().map(|a| a.project_id.clone()).collect();
    let addr = args.listen.addr(SocketAddr::from(DEFAULT_LISTEN));
    let sim = Simulator::start_on(addr, SimConfig { apps: args.apps }).await?;
    tracing::info!(?projects, "service accounts configured");
    sim.set_settings(Settings {
        scope_check: args.scope_check,
        payload_measure: args.payload_measure,
        ..Settings::default()
    });

    cli::announce_and_wait("fcm-sim", &sim.base_url()).await?;
    tracing::info!("stopping");
    sim.shutdown().await;
    Ok(())
}
