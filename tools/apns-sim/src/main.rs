//! `apns-sim [--listen 127.0.0.1:9706] [--port N] [--key KEY_ID:TEAM_ID:P8_PATH]...
//! [--app TEAM_ID:BUNDLE_ID]... [--environment production|sandbox]
//! [--accept-http1] [--token-scope connection|team|team_key]`
//!
//! `--listen` (env `APNS_SIM_LISTEN`, default 127.0.0.1:9706) and `--port`
//! (env `APNS_SIM_PORT`, replacing the port of `--listen`) are sim-kit's.
//! `--key` registers a signing key from a `.p8` file (env `APNS_SIM_KEYS`,
//! comma-separated); `--app` a bundle id of a team (env `APNS_SIM_APPS`);
//! `--environment` (env `APNS_SIM_ENVIRONMENT`), `--accept-http1` (env
//! `APNS_SIM_ACCEPT_HTTP1`) and `--token-scope` (env `APNS_SIM_TOKEN_SCOPE`)
//! set the corresponding settings. `POST /_sim/keys`, `/_sim/apps`,
//! `/_sim/settings` do the same at run time. A flag given on the command
//! line replaces its environment variable. APNs has no receipts, so the
//! kit's receipt flags are not offered.

use std::net::SocketAddr;

use apns_sim::{Environment, Settings, SimApp, SimConfig, SimKey, Simulator, TokenScope};
use clap::Parser;
use sim_kit::cli::{self, ListenArgs};

/// Where the binary listens unless told otherwise.
const DEFAULT_LISTEN: ([u8; 4], u16) = ([127, 0, 0, 1], 9706);

/// A strict simulator of APNs' token-based HTTP/2 provider API, for tests and local runs.
#[derive(Parser)]
#[command(name = "apns-sim", version)]
struct Args {
    #[command(flatten)]
    listen: ListenArgs,

    /// A signing key as KEY_ID:TEAM_ID:PATH (PATH: the .p8 file); repeat for more (env: comma-separated).
    #[arg(long = "key", env = "APNS_SIM_KEYS", value_delimiter = ',', value_parser = parse_key)]
    keys: Vec<SimKey>,

    /// An app as TEAM_ID:BUNDLE_ID; repeat for more (env: comma-separated).
    #[arg(long = "app", env = "APNS_SIM_APPS", value_delimiter = ',', value_parser = parse_app)]
    apps: Vec<SimApp>,

    /// The host simulated: production or sandbox.
    #[arg(long, env = "APNS_SIM_ENVIRONMENT", default_value = "production", value_parser = parse_environment)]
    environment: Environment,

    /// Serve vendor calls over HTTP/1.1 too (APNs does not).
    #[arg(long, env = "APNS_SIM_ACCEPT_HTTP1")]
    accept_http1: bool,

    /// Where provider-token changes are counted: connection, team or team_key.
    #[arg(long, env = "APNS_SIM_TOKEN_SCOPE", default_value = "connection", value_parser = parse_scope)]
    token_scope: TokenScope,
}

/// KEY_ID:TEAM_ID:PATH, the key read from PATH (split on the first two `:`).
fn parse_key(text: &str) -> Result<SimKey, String> {
    const SHAPE: &str = "expected KEY_ID:TEAM_ID:PATH";
    let mut parts = text.trim().splitn(3, ':');
    let (Some(key_id), Some(team_id), Some(path)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(SHAPE.to_owned());
    };
    if key_id.is_empty() || team_id.is_empty() || path.is_empty() {
        return Err(SHAPE.to_owned());
    }
    let pem = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    Ok(SimKey::new(key_id, team_id, pem))
}

/// TEAM_ID:BUNDLE_ID.
fn parse_app(text: &str) -> Result<SimApp, String> {
    const SHAPE: &str = "expected TEAM_ID:BUNDLE_ID";
    let (team, bundle) = text.trim().split_once(':').ok_or(SHAPE)?;
    if team.is_empty() || bundle.is_empty() || bundle.contains(':') {
        return Err(SHAPE.to_owned());
    }
    Ok(SimApp::new(team, bundle))
}

fn parse_environment(text: &str) -> Result<Environment, String> {
    match text {
        "production" => Ok(Environment::Production),
        "sandbox" => Ok(Environment::Sandbox),
        _ => Err("expected production or sandbox".to_owned()),
    }
}

fn parse_scope(text: &str) -> Result<TokenScope, String> {
    match text {
        "connection" => Ok(TokenScope::Connection),
        "team" => Ok(TokenScope::Team),
        "team_key" => Ok(TokenScope::TeamKey),
        _ => Err("expected connection, team or team_key".to_owned()),
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    cli::init_logging();

    let args: Args = cli::parse("APNS_SIM");
    let key_ids: Vec<String> = args.keys.iter().map(|k| k.key_id.clone()).collect();
    let addr = args.listen.addr(SocketAddr::from(DEFAULT_LISTEN));
    let settings = Settings {
        environment: args.environment,
        refuse_http1: !args.accept_http1,
        token_update_scope: args.token_scope,
        ..Settings::default()
    };
    let sim = Simulator::start_on(
        addr,
        SimConfig {
            keys: args.keys,
            apps: args.apps,
            settings,
        },
    )
    .await?;
    tracing::info!(?key_ids, "keys configured");

    cli::announce_and_wait("apns-sim", &sim.base_url()).await?;
    tracing::info!("stopping");
    sim.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{parse_app, parse_key};

    #[test]
    fn apps_and_keys_are_split_on_colons() {
        let app = parse_app("TEAM123456:com.example.im").unwrap();
        assert_eq!(app.team_id, "TEAM123456");
        assert_eq!(app.bundle_id, "com.example.im");
        for bad in ["", "TEAM", ":com.example", "TEAM:", "A:b:c"] {
            assert!(parse_app(bad).is_err(), "{bad:?}");
        }
        for bad in [
            "",
            "KEY",
            "KEY:TEAM",
            "KEY:TEAM:",
            ":TEAM:/x",
            "KEY:TEAM:/no/such/file",
        ] {
            assert!(parse_key(bad).is_err(), "{bad:?}");
        }
    }
}
