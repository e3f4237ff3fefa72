//! `vivo-sim [--listen 127.0.0.1:9701] [--port N] [--app APPID:APPKEY:APPSECRET]...
//! [--receipt APPID:RECEIPTID=URL]... [--receipt-delay-ms N] [--receipt-redeliver]`
//!
//! `--listen` (env `VIVO_SIM_LISTEN`, default 127.0.0.1:9701) and `--port`
//! (env `VIVO_SIM_PORT`, replacing the port of `--listen`) are sim-kit's.
//!
//! `--receipt` registers a delivery receipt URL as vivo's console does: sends
//! of app APPID whose `extra["callback.id"]` is RECEIPTID get their receipts
//! POSTed to URL (env `VIVO_SIM_RECEIPTS`, comma-separated). Receipts are sent
//! `--receipt-delay-ms` after the first one queued (default 1000, 0 at once;
//! env `VIVO_SIM_RECEIPT_DELAY_MS`); `--receipt-redeliver` sends every
//! accepted receipt POST twice (env `VIVO_SIM_RECEIPT_REDELIVER=true`). A
//! flag given on the command line replaces its environment variable (all
//! `--receipt`s replace all of `VIVO_SIM_RECEIPTS`, as `--app` does
//! `VIVO_SIM_APPS`). The `/_sim/receipt*` control endpoints change all of
//! these at run time.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use sim_kit::cli::{self, ListenArgs};
use vivo_sim::{SimApp, SimConfig, Simulator};

/// Where the binary listens unless told otherwise.
const DEFAULT_LISTEN: ([u8; 4], u16) = ([127, 0, 0, 1], 9701);

/// A strict simulator of vivo Push's server API, for tests and local runs.
#[derive(Parser)]
#[command(name = "vivo-sim", version)]
struct Args {
    #[command(flatten)]
    listen: ListenArgs,

    /// An app as APPID:APPKEY:APPSECRET; repeat for more (env: comma-separated).
    #[arg(long = "app", env = "VIVO_SIM_APPS", value_delimiter = ',', value_parser = parse_app, hide_env_values = true)]
    apps: Vec<SimApp>,

    /// A receipt URL as APPID:RECEIPTID=URL; repeat for more (env: comma-separated).
    #[arg(long = "receipt", env = "VIVO_SIM_RECEIPTS", value_delimiter = ',', value_parser = parse_receipt)]
    receipts: Vec<Receipt>,

    /// Milliseconds from the first receipt queued to the POST that sends it.
    #[arg(long, env = "VIVO_SIM_RECEIPT_DELAY_MS", default_value_t = 1000)]
    receipt_delay_ms: u64,

    /// Send every accepted receipt POST a second time, as vivo may.
    #[arg(long, env = "VIVO_SIM_RECEIPT_REDELIVER")]
    receipt_redeliver: bool,
}

#[derive(Clone, Debug)]
struct Receipt {
    app_id: u64,
    receipt_id: String,
    url: String,
}

/// APPID:RECEIPTID=URL: split on the first `:`, then the first `=`.
fn parse_receipt(text: &str) -> Result<Receipt, String> {
    const SHAPE: &str = "expected APPID:RECEIPTID=URL";
    let (app_id, rest) = text.trim().split_once(':').ok_or(SHAPE)?;
    let (receipt_id, url) = rest.split_once('=').ok_or(SHAPE)?;
    let app_id = app_id
        .parse()
        .map_err(|_| format!("{SHAPE}: APPID must be a number"))?;
    if receipt_id.is_empty() || url.is_empty() {
        return Err(SHAPE.to_owned());
    }
    Ok(Receipt {
        app_id,
        receipt_id: receipt_id.to_owned(),
        url: url.to_owned(),
    })
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
    cli::init_logging();

    let args: Args = cli::parse("VIVO_SIM");
    let app_ids: Vec<u64> = args.apps.iter().map(|app| app.app_id).collect();
    let addr = args.listen.addr(SocketAddr::from(DEFAULT_LISTEN));
    let sim = Simulator::start_on(addr, SimConfig { apps: args.apps }).await?;
    tracing::info!(?app_ids, "apps configured");
    let mut settings = sim.receipt_settings();
    settings.delay = Duration::from_millis(args.receipt_delay_ms);
    settings.redeliver = args.receipt_redeliver;
    sim.set_receipt_settings(settings);
    for receipt in &args.receipts {
        if let Err(error) = sim.set_receipt_url(receipt.app_id, &receipt.receipt_id, &receipt.url) {
            sim.shutdown().await;
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "--receipt {}:{}: {error}",
                    receipt.app_id, receipt.receipt_id
                ),
            ));
        }
        tracing::info!(app_id = receipt.app_id, receipt_id = %receipt.receipt_id, url = %receipt.url, "receipt URL registered");
    }

    cli::announce_and_wait("vivo-sim", &sim.base_url()).await?;
    tracing::info!("stopping");
    sim.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{parse_app, parse_receipt};

    #[test]
    fn receipts_split_on_the_first_colon_and_the_first_equals_sign() {
        let receipt = parse_receipt("10004:77=http://127.0.0.1:8080/vivo?a=b").unwrap();
        assert_eq!(receipt.app_id, 10004);
        assert_eq!(receipt.receipt_id, "77");
        assert_eq!(receipt.url, "http://127.0.0.1:8080/vivo?a=b");
        for bad in [
            "",
            "10004",
            "10004:77",
            "x:77=http://h",
            "10004:=http://h",
            "10004:77=",
        ] {
            assert!(parse_receipt(bad).is_err(), "{bad:?}");
        }
    }

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
