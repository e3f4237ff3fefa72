//! A simulator binary's plumbing: where it listens, the receipt flags,
//! logging, the start-up line on stdout, waiting for a stop signal.
//!
//! ```text
//! #[derive(clap::Parser)]
//! struct Args {
//!     #[command(flatten)]
//!     listen: sim_kit::cli::ListenArgs,
//!     #[command(flatten)]
//!     receipt_flags: sim_kit::cli::ReceiptArgs,
//!     // the vendor's own flags
//! }
//! let args: Args = sim_kit::cli::parse("XIAOMI_SIM");
//! sim_kit::cli::init_logging();
//! let sim = Simulator::start_on(args.listen.addr(DEFAULT), config).await?;
//! sim.set_receipt_settings(args.receipt_flags.apply(sim.receipt_settings()));
//! sim_kit::cli::announce_and_wait("xiaomi-sim", &sim.base_url()).await?;
//! tracing::info!("stopping");
//! sim.shutdown().await;
//! ```

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::ReceiptSettings;

/// `--listen HOST:PORT` and `--port PORT`, flattened into a binary's
/// arguments; [`parse`] gives them the environment variables
/// `<PREFIX>_LISTEN` and `<PREFIX>_PORT`.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct ListenArgs {
    /// Address to listen on (HOST:PORT); default 127.0.0.1 and the
    /// simulator's own port.
    #[arg(long)]
    pub listen: Option<SocketAddr>,

    /// Port to listen on, replacing the port of --listen (0 picks a free one).
    #[arg(long)]
    pub port: Option<u16>,
}

impl ListenArgs {
    /// `--listen` or `default`, with its port replaced by `--port` if given.
    pub fn addr(&self, default: SocketAddr) -> SocketAddr {
        let mut addr = self.listen.unwrap_or(default);
        if let Some(port) = self.port {
            addr.set_port(port);
        }
        addr
    }
}

/// `--receipt-delay-ms MS` and `--receipt-redeliver`, flattened into a
/// binary's arguments; [`parse`] gives them the environment variables
/// `<PREFIX>_RECEIPT_DELAY_MS` and `<PREFIX>_RECEIPT_REDELIVER`.
#[derive(clap::Args, Clone, Debug)]
pub struct ReceiptArgs {
    /// Milliseconds from the first receipt queued to the POST that sends it.
    #[arg(long, default_value_t = 1000)]
    pub receipt_delay_ms: u64,

    /// Send every accepted receipt POST a second time.
    #[arg(long)]
    pub receipt_redeliver: bool,
}

impl ReceiptArgs {
    /// `settings` with the delay and redelivery of these flags.
    pub fn apply(&self, mut settings: ReceiptSettings) -> ReceiptSettings {
        settings.delay = Duration::from_millis(self.receipt_delay_ms);
        settings.redeliver = self.receipt_redeliver;
        settings
    }
}

/// Parses the command line into `A` (which flattens [`ListenArgs`], and may
/// flatten [`ReceiptArgs`]), with each of their flags also read from
/// `<env_prefix>_<FLAG>` (e.g. `<env_prefix>_LISTEN`); exits with clap's
/// message on a mistake.
pub fn parse<A: Parser>(env_prefix: &str) -> A {
    let mut command = A::command();
    for id in ["listen", "port", "receipt_delay_ms", "receipt_redeliver"] {
        // `mut_arg` panics on an unknown id, and `ReceiptArgs` is optional.
        if !command.get_arguments().any(|arg| arg.get_id() == id) {
            continue;
        }
        let name: &'static str =
            Box::leak(format!("{env_prefix}_{}", id.to_ascii_uppercase()).into_boxed_str());
        command = command.mut_arg(id, |arg| arg.env(name));
    }
    let matches = command.get_matches();
    A::from_arg_matches(&matches).unwrap_or_else(|error| error.exit())
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`).
pub fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
}

/// Prints `<name> listening on <base_url>` as the first line on stdout (what
/// scripts and tests wait for) and flushes it.
pub fn announce(name: &str, base_url: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{name} listening on {base_url}")?;
    stdout.flush()
}

/// [`announce`]s the simulator, then waits for SIGINT or SIGTERM. The caller
/// logs that it stops (under its own target) and shuts its simulator down.
pub async fn announce_and_wait(name: &str, base_url: &str) -> std::io::Result<()> {
    announce(name, base_url)?;
    crate::shutdown_signal().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, FromArgMatches};

    #[derive(Parser)]
    struct Args {
        #[command(flatten)]
        listen: ListenArgs,
    }

    #[test]
    fn port_replaces_the_port_of_listen() {
        let default = SocketAddr::from(([127, 0, 0, 1], 9702));
        let parse = |args: &[&str]| {
            let command = Args::command().no_binary_name(true);
            let matches = command.try_get_matches_from(args).unwrap();
            Args::from_arg_matches(&matches)
                .unwrap()
                .listen
                .addr(default)
        };
        assert_eq!(parse(&[]), default);
        assert_eq!(parse(&["--port", "0"]).to_string(), "127.0.0.1:0");
        assert_eq!(
            parse(&["--listen", "0.0.0.0:80", "--port", "81"]).to_string(),
            "0.0.0.0:81"
        );
        assert_eq!(parse(&["--listen", "[::1]:80"]).to_string(), "[::1]:80");
    }
}
