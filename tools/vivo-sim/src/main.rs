//! `vivo-sim --listen 127.0.0.1:9701 [--app APPID:APPKEY:APPSECRET]...`

use std::io::Write;
use std::net::SocketAddr;

use clap::Parser;
use tracing_subscriber::EnvFilter;
use vivo_sim::{shutdown_signal, SimApp, SimConfig, Simulator};

/// A strict simulator of vivo Push's server API, for tests and local runs.
#[derive(Parser)]
#[command(name = "vivo-sim", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "VIVO_SIM_LISTEN", default_value = "127.0.0.1:9701")]
    listen: SocketAddr,

    /// An app as APPID:APPKEY:APPSECRET; repeat for more (env: comma-separated).
    #[arg(long = "app", env = "VIVO_SIM_APPS", value_delimiter = ',', value_parser = parse_app, hide_env_values = true)]
    apps: Vec<SimApp>,
}

fn parse_app(text: &str) -> Result<SimApp, String> {
    const SHAPE: &str = "expected APPID:APPKEY:APPSECRET";
    let (app_id, rest) = text.trim().split_once(':').ok_or(SHAPE)?;
    let (app_key, app_secret) = rest.rsplit_once(':').ok_or(SHAPE)?;
    let app_id = app_id
        .parse()
        .map_err(|_| format!("{SHAPE}: APPID must be a number"))?;
    if app_key.is_empty() || app_secret.is_empty() {
        return Err(SHAPE.to_owned());
    }
    Ok(SimApp {
        app_id,
        app_key: app_key.to_owned(),
        app_secret: app_secret.to_owned(),
    })
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();

    let args = Args::parse();
    let app_ids: Vec<u64> = args.apps.iter().map(|app| app.app_id).collect();
    let sim = Simulator::start_on(args.listen, SimConfig { apps: args.apps }).await?;
    tracing::info!(?app_ids, "apps configured");

    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "vivo-sim listening on {}", sim.base_url())?;
    stdout.flush()?;
    drop(stdout);

    shutdown_signal().await;
    tracing::info!("stopping");
    sim.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_app;

    #[test]
    fn app_triples_split_on_the_first_and_last_colon() {
        let app = parse_app("10004:key:with:colons:secret").unwrap();
        assert_eq!(app.app_id, 10004);
        assert_eq!(app.app_key, "key:with:colons");
        assert_eq!(app.app_secret, "secret");
        for bad in [
            "",
            "10004",
            "10004:key",
            "abc:key:secret",
            "10004::secret",
            "10004:key:",
        ] {
            assert!(parse_app(bad).is_err(), "{bad:?}");
        }
    }
}
