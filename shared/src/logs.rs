//! Log lines: the `RUST_LOG` filter (template.yaml's `LogLevel`) for the
//! service's own code, with the dependencies that print raw traffic pinned
//! below the level where they do so, whatever that filter says.
//!
//! What those dependencies print, and from which level (their sources, at the
//! versions in Cargo.lock):
//!
//! - `lambda_runtime`: the whole raw invocation event ("raw JSON event received
//!   from Lambda": headers, JWTs, push tokens, certificate secrets) at TRACE;
//! - `aws_smithy_runtime`: every DynamoDB request and response, items included,
//!   at TRACE; `aws_sigv4`: the canonical request and string to sign at TRACE;
//! - `hyper`, `h2`, `rustls`, `reqwest`: connection and frame detail at DEBUG
//!   and TRACE (the vivo calls carry authTokens and AppSecret-derived signs).
//!
//! None of them prints payloads at INFO or above, so [`PINNED`] caps them at
//! INFO. The cap is not a directive added to the user's filter: a more
//! specific directive (`lambda_runtime::layers=trace`) beats a less specific
//! one, so an appended `lambda_runtime=info` could be undone by the filter
//! it was appended to.
//! Instead every event passes two filters, the user's and [`pins`]: an event
//! is written only if both let it through. The user's filter can lower a
//! pinned target further (`LogLevel=warn` quiets them too), never raise it.
//!
//! Off Lambda the lines are text, and every field value is written through
//! `escape_controls`: a value that comes from a request (an opaque push
//! token's masked tail) or from a vendor (an error's text) cannot break or
//! colour a line. On Lambda they are JSON, which escapes them itself.

use std::borrow::Cow;
use std::fmt;
use tracing::field::Field;
use tracing::level_filters::LevelFilter;
use tracing::Subscriber;
use tracing_subscriber::field::delimited::Delimited;
use tracing_subscriber::field::MakeExt;
use tracing_subscriber::filter::combinator::And;
use tracing_subscriber::filter::{FilterExt, ParseError, Targets};
use tracing_subscriber::fmt::format::{debug_fn, Compact, FieldFn, Format, Writer};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// Target prefixes (a target matches when it starts with one) and the most
/// verbose level each may log at.
pub const PINNED: &[(&str, LevelFilter)] = &[
    // lambda_runtime_api_client too (a prefix match).
    ("lambda_runtime", LevelFilter::INFO),
    ("lambda_http", LevelFilter::INFO),
    // hyper_util and hyper_rustls too.
    ("hyper", LevelFilter::INFO),
    ("h2", LevelFilter::INFO),
    ("rustls", LevelFilter::INFO),
    ("tokio_rustls", LevelFilter::INFO),
    ("reqwest", LevelFilter::INFO),
    ("tower", LevelFilter::INFO),
    ("aws_config", LevelFilter::INFO),
    ("aws_credential_types", LevelFilter::INFO),
    ("aws_runtime", LevelFilter::INFO),
    // aws_sdk_dynamodb and any other service crate.
    ("aws_sdk", LevelFilter::INFO),
    ("aws_sigv4", LevelFilter::INFO),
    // aws_smithy_runtime, aws_smithy_http_client, aws_smithy_types, ...
    ("aws_smithy", LevelFilter::INFO),
    ("aws_types", LevelFilter::INFO),
];

/// The caps of [`PINNED`]; every other target passes (the user's filter
/// decides for it).
pub fn pins() -> Targets {
    Targets::new()
        .with_default(LevelFilter::TRACE)
        .with_targets(PINNED.iter().copied())
}

/// The filter of the functions' log lines: `spec` and the [`pins`]. `spec`
/// is `RUST_LOG`'s syntax by target: a level and `target=level` pairs,
/// comma-separated (`info`, `debug,offpush=trace`); span and field
/// directives are not read (a target filter needs no regex engine in the
/// binary: BENCHMARKS.md, "Release profile").
pub fn filter<S>(spec: &str) -> Result<And<Targets, Targets, S>, ParseError>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    Ok(spec.parse::<Targets>()?.and(pins()))
}

/// [`filter`] of `spec`, or of `info` when `spec` is blank or unreadable
/// (then also true).
pub fn filter_or_info<S>(spec: &str) -> (And<Targets, Targets, S>, bool)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let spec = spec.trim();
    match filter(if spec.is_empty() { "info" } else { spec }) {
        Ok(f) => (f, false),
        Err(_) => (filter("info").expect("a level is a filter"), true),
    }
}

/// `s` with its control characters and U+2028/U+2029 escaped (`\n`,
/// `\u{1b}`), every other character as it is.
fn escape_controls(s: &str) -> Cow<'_, str> {
    let escaped = |c: char| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}');
    if !s.chars().any(escaped) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if escaped(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// One field of a text line: `name=value` (the message bare), the value
/// through [`escape_controls`].
fn write_field(w: &mut Writer<'_>, field: &Field, value: &dyn fmt::Debug) -> fmt::Result {
    let text = format!("{value:?}");
    match field.name() {
        "message" => w.write_str(&escape_controls(&text)),
        name => write!(w, "{name}={}", escape_controls(&text)),
    }
}

type WriteField = fn(&mut Writer<'_>, &Field, &dyn fmt::Debug) -> fmt::Result;
type TextLayer<S, W> = tracing_subscriber::fmt::Layer<
    S,
    Delimited<&'static str, FieldFn<WriteField>>,
    Format<Compact>,
    W,
>;

/// The text lines written off Lambda (the local runner), to `writer`.
fn text_layer<S, W>(writer: W) -> TextLayer<S, W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    tracing_subscriber::fmt::layer()
        .compact()
        .with_target(false)
        .fmt_fields(debug_fn(write_field as WriteField).delimited(" "))
        .with_writer(writer)
}

/// Logs as JSON lines on Lambda (CloudWatch), compact text elsewhere; the
/// level from `RUST_LOG` (default info; an unreadable value is info too,
/// said once in the log), through [`filter`].
pub fn init_tracing() {
    let (filter, unreadable) = filter_or_info(&std::env::var("RUST_LOG").unwrap_or_default());
    let layer = if std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some() {
        tracing_subscriber::fmt::layer()
            .json()
            .without_time()
            .with_target(false)
            .boxed()
    } else {
        text_layer(std::io::stdout).boxed()
    };
    let installed = tracing_subscriber::registry()
        .with(layer.with_filter(filter))
        .try_init()
        .is_ok();
    if installed && unreadable {
        tracing::warn!("RUST_LOG is not a valid log filter: logging at info");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};
    use tracing::Level;

    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Targets the dependencies really log under, one per pinned prefix
    /// (plus the deepest ones a hostile filter names).
    const DEPENDENCY_TARGETS: &[&str] = &[
        "lambda_runtime::layers::api_response",
        "lambda_runtime_api_client",
        "lambda_http::request",
        "hyper::proto::h1::io",
        "hyper_util::client::legacy::connect::http",
        "h2::codec::framed_read",
        "rustls::client::hs",
        "tokio_rustls",
        "reqwest::connect",
        "tower::buffer::worker",
        "aws_config::meta::credentials::chain",
        "aws_credential_types::provider",
        "aws_runtime::service_clock_skew",
        "aws_sdk_dynamodb::config",
        "aws_sigv4::http_request::sign",
        "aws_smithy_runtime::client::orchestrator",
        "aws_smithy_http_client::hyper_014",
        "aws_types::region",
    ];

    /// Every log line written under `spec` while one event per (target,
    /// level) is emitted, as "target level" words found in the output.
    fn written(spec: &str, targets: &[&str]) -> Vec<(String, Level)> {
        let capture = Capture::default();
        let writer = capture.clone();
        let layer = tracing_subscriber::fmt::layer()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .without_time()
            .with_target(false)
            .with_filter(filter_or_info(spec).0);
        let subscriber = tracing_subscriber::registry().with(layer);
        let levels = [
            Level::TRACE,
            Level::DEBUG,
            Level::INFO,
            Level::WARN,
            Level::ERROR,
        ];
        tracing::subscriber::with_default(subscriber, || {
            for target in targets {
                for level in levels {
                    // `tracing`'s macros need a literal target: one callsite
                    // per level, the target named in a field.
                    emit(target, level);
                }
            }
        });
        let text = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
        let mut out = Vec::new();
        for line in text.lines() {
            let mark = line.split("mark=").nth(1).expect("every line is marked");
            let (target, level) = mark.split_once('@').unwrap();
            out.push((target.to_string(), level.parse().unwrap()));
        }
        out
    }

    /// One event at `level` whose metadata target is `target` (as if logged
    /// from that crate's module).
    fn emit(target: &str, level: Level) {
        macro_rules! ev {
            ($t:literal) => {
                match level {
                    Level::TRACE => tracing::trace!(target: $t, mark = %format!("{target}@TRACE"), "x"),
                    Level::DEBUG => tracing::debug!(target: $t, mark = %format!("{target}@DEBUG"), "x"),
                    Level::INFO => tracing::info!(target: $t, mark = %format!("{target}@INFO"), "x"),
                    Level::WARN => tracing::warn!(target: $t, mark = %format!("{target}@WARN"), "x"),
                    Level::ERROR => tracing::error!(target: $t, mark = %format!("{target}@ERROR"), "x"),
                }
            };
        }
        match target {
            "lambda_runtime::layers::api_response" => ev!("lambda_runtime::layers::api_response"),
            "lambda_runtime_api_client" => ev!("lambda_runtime_api_client"),
            "lambda_http::request" => ev!("lambda_http::request"),
            "hyper::proto::h1::io" => ev!("hyper::proto::h1::io"),
            "hyper_util::client::legacy::connect::http" => {
                ev!("hyper_util::client::legacy::connect::http")
            }
            "h2::codec::framed_read" => ev!("h2::codec::framed_read"),
            "rustls::client::hs" => ev!("rustls::client::hs"),
            "tokio_rustls" => ev!("tokio_rustls"),
            "reqwest::connect" => ev!("reqwest::connect"),
            "tower::buffer::worker" => ev!("tower::buffer::worker"),
            "aws_config::meta::credentials::chain" => ev!("aws_config::meta::credentials::chain"),
            "aws_credential_types::provider" => ev!("aws_credential_types::provider"),
            "aws_runtime::service_clock_skew" => ev!("aws_runtime::service_clock_skew"),
            "aws_sdk_dynamodb::config" => ev!("aws_sdk_dynamodb::config"),
            "aws_sigv4::http_request::sign" => ev!("aws_sigv4::http_request::sign"),
            "aws_smithy_runtime::client::orchestrator" => {
                ev!("aws_smithy_runtime::client::orchestrator")
            }
            "aws_smithy_http_client::hyper_014" => ev!("aws_smithy_http_client::hyper_014"),
            "aws_types::region" => ev!("aws_types::region"),
            "offpush::vendor::kit::account" => ev!("offpush::vendor::kit::account"),
            "push_dispatch::service" => ev!("push_dispatch::service"),
            other => panic!("no callsite for target {other}"),
        }
    }

    fn most_verbose(lines: &[(String, Level)], target: &str) -> Option<Level> {
        // tracing orders levels by verbosity: TRACE is the greatest.
        lines
            .iter()
            .filter(|(t, _)| t == target)
            .map(|(_, l)| *l)
            .max()
    }

    #[test]
    fn every_dependency_target_falls_under_a_pin() {
        for target in DEPENDENCY_TARGETS {
            assert!(
                PINNED.iter().any(|(p, _)| target.starts_with(p)),
                "{target} is not pinned"
            );
        }
        // And every pin is exercised by a target above.
        for (prefix, _) in PINNED {
            assert!(
                DEPENDENCY_TARGETS.iter().any(|t| t.starts_with(prefix)),
                "{prefix} has no test target"
            );
        }
    }

    #[test]
    fn trace_everywhere_still_caps_the_dependencies_at_info() {
        let mut targets = DEPENDENCY_TARGETS.to_vec();
        targets.push("offpush::vendor::kit::account");
        targets.push("push_dispatch::service");
        let lines = written("trace", &targets);
        for target in DEPENDENCY_TARGETS {
            assert_eq!(
                most_verbose(&lines, target),
                Some(Level::INFO),
                "{target} under RUST_LOG=trace"
            );
        }
        // The service's own code logs at the level asked for.
        assert_eq!(
            most_verbose(&lines, "offpush::vendor::kit::account"),
            Some(Level::TRACE)
        );
        assert_eq!(
            most_verbose(&lines, "push_dispatch::service"),
            Some(Level::TRACE)
        );
    }

    #[test]
    fn filters_naming_the_dependencies_cannot_lift_the_cap() {
        let hostile = [
            "lambda_runtime=trace",
            "trace,lambda_runtime=trace,aws_smithy_runtime=trace,hyper=trace,h2=trace",
            "info,lambda_runtime::layers::api_response=trace",
            "aws_smithy_runtime::client::orchestrator=trace,aws_sigv4::http_request::sign=trace",
            "[{body}]=trace",
            "[]=trace",
            "trace,[]=trace",
        ];
        for spec in hostile {
            let lines = written(spec, DEPENDENCY_TARGETS);
            for target in DEPENDENCY_TARGETS {
                let got = most_verbose(&lines, target);
                assert!(
                    got.is_none_or(|l| l <= Level::INFO),
                    "{target} logged at {got:?} under RUST_LOG={spec}"
                );
            }
        }
        // The first one does enable lambda_runtime, up to the cap.
        let lines = written("lambda_runtime=trace", DEPENDENCY_TARGETS);
        assert_eq!(
            most_verbose(&lines, "lambda_runtime::layers::api_response"),
            Some(Level::INFO)
        );
    }

    #[test]
    fn a_quieter_level_quiets_the_dependencies_too() {
        let mut targets = DEPENDENCY_TARGETS.to_vec();
        targets.push("offpush::vendor::kit::account");
        let lines = written("warn", &targets);
        for target in &targets {
            assert_eq!(most_verbose(&lines, target), Some(Level::WARN), "{target}");
        }
        let lines = written("error", &targets);
        for target in &targets {
            assert_eq!(most_verbose(&lines, target), Some(Level::ERROR), "{target}");
        }
    }

    #[test]
    fn the_level_hint_is_the_users_level() {
        // The subscriber's hint (what the callsites' fast path checks) is the
        // user's level: the pins only remove, per target.
        use tracing_subscriber::layer::Filter;
        type R = tracing_subscriber::Registry;
        let hint = |spec: &str| Filter::<R>::max_level_hint(&filter::<R>(spec).unwrap());
        assert_eq!(hint("trace"), Some(LevelFilter::TRACE));
        assert_eq!(hint("warn"), Some(LevelFilter::WARN));
        let raw_event = "lambda_runtime::layers::api_response";
        assert!(pins().would_enable(raw_event, &Level::INFO));
        assert!(!pins().would_enable(raw_event, &Level::DEBUG));
        assert!(pins().would_enable("offpush::http", &Level::TRACE));
    }

    #[test]
    fn an_unreadable_filter_is_refused() {
        assert!(filter::<tracing_subscriber::Registry>("lambda_runtime=loud").is_err());
    }

    /// Through the text layer `init_tracing` installs off Lambda: a token
    /// whose masked tail holds control or line-separator characters, shown
    /// (`%`) or debugged (`?`), and an error text with a line break, each
    /// stay on one line with those characters escaped.
    #[test]
    fn no_value_breaks_or_colours_a_text_line() {
        use crate::domain::PushToken;
        let cases = [
            ("b\ncd", "****b\\ncd"),
            ("\r\n\t\0", "****\\r\\n\\t\\u{0}"),
            ("\u{1b}[2J", "****\\u{1b}[2J"),
            ("a\u{2028}b\u{85}", "****a\\u{2028}b\\u{85}"),
            ("令牌🔔x", "****令牌🔔x"),
        ];
        let capture = Capture::default();
        let writer = capture.clone();
        // Without the layer's own colours (the local runner sets NO_COLOR),
        // so that any control character left is a value's.
        let layer = text_layer(move || writer.clone())
            .with_ansi(false)
            .with_filter(filter_or_info("info").0);
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
            for (tail, _) in cases {
                let t = PushToken::parse("token", &format!("{}{tail}", "r".repeat(16))).unwrap();
                // Responses keep the characters themselves.
                assert_eq!(t.masked(), format!("****{tail}"));
                tracing::info!(user = %"alice", token = %t, n = 3, "binding ended");
                tracing::info!(token = ?t, "debugged");
            }
            tracing::error!(error = %"vivo said:\nline two\u{7}", "request failed");
        });
        let text = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2 * cases.len() + 1, "{text}");
        for (i, (tail, shown)) in cases.iter().enumerate() {
            let (shown_line, debug_line) = (lines[2 * i], lines[2 * i + 1]);
            assert!(
                shown_line.ends_with(&format!("binding ended user=alice token={shown} n=3")),
                "{tail:?}: {shown_line}"
            );
            assert!(
                debug_line.ends_with(&format!("debugged token=PushToken({shown})")),
                "{tail:?}: {debug_line}"
            );
        }
        assert!(
            lines[2 * cases.len()].ends_with("request failed error=vivo said:\\nline two\\u{7}"),
            "{text}"
        );
        let raw = |c: char| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}');
        assert!(
            !lines.iter().any(|l| l.chars().any(raw)),
            "a raw control character in {text:?}"
        );
    }
}
