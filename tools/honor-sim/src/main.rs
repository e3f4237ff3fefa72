//! `honor-sim [--listen 127.0.0.1:9705] [--port N] [--app APPID:CLIENTID:SECRET]...
//! [--receipt-url APPID=URL]... [--response-shape code200|huawei]
//! [--errors-http-200] [--timestamp-unit either|millis|seconds]
//! [--timestamp-window-ms N] [--token-ttl-secs N] [--receipt-delay-ms N]
//! [--receipt-redeliver] [--receipt-delivered-status N]`
//!
//! `--listen` (env `HONOR_SIM_LISTEN`, default 127.0.0.1:9705) and `--port`
//! (env `HONOR_SIM_PORT`, replacing the port of `--listen`) are sim-kit's.
//! `--app` registers an app (env `HONOR_SIM_APPS`, comma-separated);
//! `--receipt-url` gives one its receipt address (env
//! `HONOR_SIM_RECEIPT_URLS`, comma-separated); `POST /_sim/apps` registers
//! richer ones. Every other flag has the env variable `HONOR_SIM_<FLAG>`
//! (upper case, `_` for `-`). A flag given on the command line replaces its
//! environment variable. `--timestamp-window-ms 0` turns the window off.

use std::net::SocketAddr;

use clap::Parser;
use honor_sim::{ResponseShape, Settings, SimApp, SimConfig, Simulator, TimestampUnit};
use sim_kit::cli::{self, ListenArgs, ReceiptArgs};

/// Where the binary listens unless told otherwise.
const DEFAULT_LISTEN: ([u8; 4], u16) = ([127, 0, 0, 1], 9705);

/// A strict simulator of Honor Push's server API, for tests and local runs.
#[derive(Parser)]
#[command(name = "honor-sim", version)]
struct Args {
    #[command(flatten)]
    listen: ListenArgs,

    /// An app as APPID:CLIENTID:SECRET; repeat for more (env: comma-separated).
    #[arg(long = "app", env = "HONOR_SIM_APPS", value_delimiter = ',', value_parser = parse_app, hide_env_values = true)]
    apps: Vec<SimApp>,

    /// An app's receipt address as APPID=URL; repeat for more.
    #[arg(long = "receipt-url", env = "HONOR_SIM_RECEIPT_URLS", value_delimiter = ',', value_parser = parse_receipt_url)]
    receipt_urls: Vec<(String, String)>,

    /// The send answer's shape: code200 or huawei.
    #[arg(long, env = "HONOR_SIM_RESPONSE_SHAPE", default_value = "code200", value_parser = parse_shape)]
    response_shape: ResponseShape,

    /// Answer errors with HTTP 200 (the code only in the body).
    #[arg(long, env = "HONOR_SIM_ERRORS_HTTP_200")]
    errors_http_200: bool,

    /// The `timestamp` header's unit: either, millis or seconds.
    #[arg(long, env = "HONOR_SIM_TIMESTAMP_UNIT", default_value = "either", value_parser = parse_unit)]
    timestamp_unit: TimestampUnit,

    /// How far the `timestamp` may be from the clock, ms (0: any).
    #[arg(long, env = "HONOR_SIM_TIMESTAMP_WINDOW_MS", default_value_t = honor_sim::TIMESTAMP_WINDOW_MS)]
    timestamp_window_ms: u64,

    /// `expires_in` of access tokens, seconds.
    #[arg(long, env = "HONOR_SIM_TOKEN_TTL_SECS", default_value_t = honor_sim::TOKEN_TTL_SECS, value_parser = clap::value_parser!(u64).range(1..))]
    token_ttl_secs: u64,

    #[command(flatten)]
    receipt_flags: ReceiptArgs,

    /// The receipt status of a delivered token.
    #[arg(long, env = "HONOR_SIM_RECEIPT_DELIVERED_STATUS", default_value_t = 0)]
    receipt_delivered_status: i64,
}

/// APPID:CLIENTID:SECRET, split on the first two `:` (the secret may hold more).
fn parse_app(text: &str) -> Result<SimApp, String> {
    const SHAPE: &str = "expected APPID:CLIENTID:SECRET";
    let mut parts = text.trim().splitn(3, ':');
    let (Some(app_id), Some(client_id), Some(secret)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(SHAPE.to_owned());
    };
    if app_id.is_empty() || client_id.is_empty() || secret.is_empty() {
        return Err(SHAPE.to_owned());
    }
    Ok(SimApp::new(app_id, client_id, secret))
}

/// APPID=URL.
fn parse_receipt_url(text: &str) -> Result<(String, String), String> {
    match text.trim().split_once('=') {
        Some((app_id, url)) if !app_id.is_empty() && reqwest::Url::parse(url).is_ok() => {
            Ok((app_id.to_owned(), url.to_owned()))
        }
        _ => Err("expected APPID=URL".to_owned()),
    }
}

fn parse_shape(text: &str) -> Result<ResponseShape, String> {
    match text {
        "code200" => Ok(ResponseShape::Code200),
        "huawei" => Ok(ResponseShape::Huawei),
        _ => Err("expected code200 or huawei".to_owned()),
    }
}

fn parse_unit(text: &str) -> Result<TimestampUnit, String> {
    match text {
        "either" => Ok(TimestampUnit::Either),
        "millis" => Ok(TimestampUnit::Millis),
        "seconds" => Ok(TimestampUnit::Seconds),
        _ => Err("expected either, millis or seconds".to_owned()),
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    cli::init_logging();

    let args: Args = cli::parse("HONOR_SIM");
    let mut apps = args.apps;
    for (app_id, url) in &args.receipt_urls {
        match apps.iter_mut().find(|app| &app.app_id == app_id) {
            Some(app) => app.receipt_url = Some(url.clone()),
            None => tracing::warn!(%app_id, "--receipt-url for an unknown app ignored"),
        }
    }
    let app_ids: Vec<String> = apps.iter().map(|a| a.app_id.clone()).collect();
    let settings = Settings {
        response_shape: args.response_shape,
        errors_http_200: args.errors_http_200,
        timestamp_unit: args.timestamp_unit,
        timestamp_window_ms: Some(args.timestamp_window_ms).filter(|&ms| ms > 0),
        token_ttl_secs: args.token_ttl_secs,
        receipt_delivered_status: args.receipt_delivered_status,
        ..Settings::default()
    };
    let addr = args.listen.addr(SocketAddr::from(DEFAULT_LISTEN));
    let sim = Simulator::start_on(addr, SimConfig { apps, settings }).await?;
    tracing::info!(?app_ids, "apps configured");
    sim.set_receipt_settings(args.receipt_flags.apply(sim.receipt_settings()));

    cli::announce_and_wait("honor-sim", &sim.base_url()).await?;
    tracing::info!("stopping");
    sim.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{parse_app, parse_receipt_url};

    #[test]
    fn apps_split_on_the_first_two_colons() {
        let app = parse_app("104:client-1:sec:ret==").unwrap();
        assert_eq!(app.app_id, "104");
        assert_eq!(app.client_id, "client-1");
        assert_eq!(app.client_secret, "sec:ret==");
        for bad in ["", "104", "104:client", ":c:s", "104::s", "104:c:"] {
            assert!(parse_app(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn receipt_urls_split_on_the_first_equals() {
        assert_eq!(
            parse_receipt_url("104=http://127.0.0.1:1/r?a=b").unwrap(),
            ("104".to_owned(), "http://127.0.0.1:1/r?a=b".to_owned())
        );
        for bad in ["104", "=http://x", "104=not a url"] {
            assert!(parse_receipt_url(bad).is_err(), "{bad:?}");
        }
    }
}
