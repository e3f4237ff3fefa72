//! `local-api [--listen 127.0.0.1:3000]`: the three function handlers behind
//! one local HTTP server (see the library docs). Configuration is the
//! functions' own environment: TABLE_NAME, VIVO_API_BASE_URL,
//! AWS_ENDPOINT_URL_DYNAMODB, AWS_REGION, ...

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use axum::serve::ListenerExt;
use clap::Parser;
use offpush::config::{init_tracing, Config};
use offpush::Context;

/// Serves the offpush HTTP API locally with the Lambda functions' own handlers.
#[derive(Parser)]
#[command(name = "local-api", version)]
struct Args {
    /// Address to listen on (host:port; port 0 picks a free one).
    #[arg(long, env = "LOCAL_API_LISTEN", default_value = "127.0.0.1:3000")]
    listen: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    init_tracing();
    // As on Lambda: a panic is logged without its message.
    offpush::http::install_panic_hook();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("local-api: {e}");
            return ExitCode::from(2);
        }
    };
    let store = offpush::store::Store::from_env(config.table_name.clone()).await;
    let vendors = match offpush_registry::RegistryConfig::from_env(&config) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("local-api: {e}");
            return ExitCode::from(2);
        }
    };
    let hosts: Vec<String> = offpush_registry::ENTRIES
        .iter()
        .filter_map(|e| {
            offpush_registry::Registry::base_url(&vendors, e.platform)
                .map(|u| format!("{}={u}", e.platform))
        })
        .collect();
    let registry = offpush_registry::Registry::new(&store, &vendors);
    let ctx = Arc::new(Context::new(store, &config, Arc::new(registry)));
    let listener = match tokio::net::TcpListener::bind(&args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("local-api: cannot listen on {}: {e}", args.listen);
            return ExitCode::from(1);
        }
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("local-api: {e}");
            return ExitCode::from(1);
        }
    };
    tracing::info!(
        table = %config.table_name,
        vendors = %hosts.join(" "),
        dynamodb = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").unwrap_or_default(),
        "configured"
    );
    {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "local-api listening on http://{addr}");
        let _ = stdout.flush();
    }

    let app = local_api::router(local_api::handlers(ctx))
        .into_make_service_with_connect_info::<SocketAddr>();
    let served = axum::serve(listener.tap_io(vivo_sim::nodelay), app)
        .with_graceful_shutdown(async {
            // The simulator binary stops on the same signals.
            vivo_sim::shutdown_signal().await;
            tracing::info!("stopping");
        })
        .await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("local-api: {e}");
            ExitCode::from(1)
        }
    }
}
