//! A simulator binary's plumbing: where it listens, logging, the start-up
//! line on stdout.
//!
//! ```text
//! #[derive(clap::Parser)]
//! struct Args {
//!     #[command(flatten)]
//!     listen: sim_kit::cli::ListenArgs,
//!     // the vendor's own flags
//! }
//! let args: Args = sim_kit::cli::parse("XIAOMI_SIM");
//! sim_kit::cli::init_logging();
//! let sim = Simulator::start_on(args.listen.addr(DEFAULT), config).await?;
//! sim_kit::cli::announce("xiaomi-sim", &sim.base_url())?;
//! sim_kit::shutdown_signal().await;
//! sim.shutdown().await;
//! ```

use std::io::Write;
use std::net::SocketAddr;

use clap::Parser;
use tracing_subscriber::EnvFilter;

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

/// Parses the command line into `A` (which flattens [`ListenArgs`]), with
/// `--listen` and `--port` also read from `<env_prefix>_LISTEN` and
/// `<env_prefix>_PORT`; exits with clap's message on a mistake.
pub fn parse<A: Parser>(env_prefix: &str) -> A {
    let listen_env: &'static str = Box::leak(format!("{env_prefix}_LISTEN").into_boxed_str());
    let port_env: &'static str = Box::leak(format!("{env_prefix}_PORT").into_boxed_str());
    let command = A::command()
        .mut_arg("listen", |arg| arg.env(listen_env))
        .mut_arg("port", |arg| arg.env(port_env));
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
