//! lambda_http glue: request parts in, JSON out, and the one mapping from
//! [`ServiceError`] to an HTTP response (API.md "Errors").

use crate::config::{init_tracing, Config};
use crate::domain::input::{parse_body, Obj, MAX_BODY_BYTES};
use crate::error::{chain, ServiceError};
use crate::store::Store;
use crate::vendor::Vendors;
use crate::Context;
use futures::FutureExt;
pub use lambda_http::{Body, Request, Response};
use serde::Serialize;
use serde_json::json;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

pub fn body_bytes(req: &Request) -> &[u8] {
    match req.body() {
        Body::Empty => &[],
        Body::Text(s) => s.as_bytes(),
        Body::Binary(b) => b,
        _ => &[],
    }
}

pub fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// A body that is more than whitespace (and not over the size limit, which
/// `parse_body` answers 413 first) must be declared JSON.
///
/// API.md: every body is JSON (`content-type: application/json`, UTF-8). A
/// body declared as anything else (`text/plain`, a form, no content-type at
/// all) is refused even when its bytes happen to be JSON: a client sending
/// the wrong type is mistaken somewhere, and "typos never pass silently".
/// It is a 400 `invalid_argument` naming `content-type` rather than a 415,
/// since 415 is not among API.md's codes and clients handle those codes only.
/// Parameters may follow (`; charset=utf-8`); a charset other than UTF-8 is
/// refused too.
fn check_json_content_type(req: &Request) -> Result<(), ServiceError> {
    let body = body_bytes(req);
    if body.len() > MAX_BODY_BYTES || body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let bad = || ServiceError::invalid("content-type", "must be application/json");
    let value = header(req, "content-type").ok_or_else(bad)?;
    let mut parts = value.split(';');
    let media = parts.next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case("application/json") {
        return Err(bad());
    }
    for param in parts {
        let (name, v) = param.split_once('=').unwrap_or((param, ""));
        let v = v.trim().trim_matches('"');
        if name.trim().eq_ignore_ascii_case("charset")
            && !v.eq_ignore_ascii_case("utf-8")
            && !v.eq_ignore_ascii_case("utf8")
        {
            return Err(ServiceError::invalid(
                "content-type",
                "charset must be utf-8",
            ));
        }
    }
    Ok(())
}

/// The request's JSON object body (API.md: all bodies are JSON), each
/// refusal naming what is at fault: 413 over the size limit, 400
/// `content-type` when not declared JSON, 400 for anything but an object.
pub fn json_body(req: &Request) -> Result<Obj, ServiceError> {
    check_json_content_type(req)?;
    parse_body(body_bytes(req))
}

/// Routes that take no body accept none, or an empty JSON object: a body
/// with fields in it is refused naming the first one, as unknown fields are
/// anywhere else (a client putting `device_id` in a DELETE body instead of
/// the query must hear about it).
pub fn no_body(req: &Request) -> Result<(), ServiceError> {
    if body_bytes(req).iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    json_body(req)?.deny_unknown(&[])
}

/// The path without any trailing slash (`/v1/certificates/`, `/v1/certificates`).
///
/// It is the path of the API Gateway event (`path`: what follows the stage),
/// whatever the stage is called and whether or not lambda_http put the stage
/// in front of the URI's path; a request built without an event (the local
/// runner, tests) has no raw path and is routed on its URI's path.
pub fn path(req: &Request) -> &str {
    use lambda_http::RequestExt;
    let raw = req.raw_http_path();
    let p = if raw.starts_with('/') {
        raw
    } else {
        req.uri().path()
    };
    if p.len() > 1 {
        p.trim_end_matches('/')
    } else {
        p
    }
}

/// The receipt routes' prefix (`/v1/receipts/{platform}/{secret}`): what
/// follows the platform is a secret.
pub const RECEIPT_PATH_PREFIX: &str = "/v1/receipts/";

/// The receipt URL of a certificate of `platform` whose secret is
/// `secret`, under `base_url` ([`public_base_url`]).
pub fn receipt_url(base_url: &str, platform: crate::domain::Platform, secret: &str) -> String {
    format!("{base_url}{RECEIPT_PATH_PREFIX}{platform}/{secret}")
}

/// The path as logs may show it: a receipt URL's secret is masked.
pub fn loggable_path(req: &Request) -> String {
    mask_path(path(req))
}

/// `p` with a receipt URL's secret masked (whatever the platform segment).
pub fn mask_path(p: &str) -> String {
    match p.strip_prefix(RECEIPT_PATH_PREFIX) {
        Some(rest) => match rest.split_once('/') {
            Some((platform, _)) => format!("{RECEIPT_PATH_PREFIX}{platform}/****"),
            None => p.to_string(),
        },
        None => p.to_string(),
    }
}

/// Where this API is reached from outside, for URLs the API hands out
/// (the receipt URL): `PUBLIC_BASE_URL` when set (a custom domain), else
/// the request's host and scheme, followed by what API Gateway put in front
/// of the route's path: the REST API's stage on its execute-api host
/// (`requestContext.path` is `/{stage}/v1/...` there, the event's `path`
/// is `/v1/...`). Where the two do not differ that way (a local server,
/// `sam local`, whose `requestContext.path` is the route template) nothing
/// is put in front.
pub fn public_base_url(req: &Request) -> String {
    if let Ok(base) = std::env::var("PUBLIC_BASE_URL") {
        if !base.trim().is_empty() {
            return base.trim().trim_end_matches('/').to_string();
        }
    }
    let host = header(req, "host").unwrap_or("localhost");
    let local = host.starts_with("localhost") || host.starts_with("127.0.0.1");
    let scheme = header(req, "x-forwarded-proto").unwrap_or(if local { "http" } else { "https" });
    format!("{scheme}://{host}{}", gateway_prefix(req))
}

/// What API Gateway's URL has in front of the route's path (see
/// [`public_base_url`]): `/{stage}`, or nothing.
fn gateway_prefix(req: &Request) -> String {
    use lambda_http::RequestExt;
    let Some(lambda_http::request::RequestContext::ApiGatewayV1(c)) = req.request_context_ref()
    else {
        return String::new();
    };
    let (Some(full), raw) = (c.path.as_deref(), req.raw_http_path()) else {
        return String::new();
    };
    match full.strip_suffix(raw) {
        Some(prefix)
            if !raw.is_empty() && prefix.starts_with('/') && !prefix.contains(['?', '#']) =>
        {
            prefix.trim_end_matches('/').to_string()
        }
        _ => String::new(),
    }
}

/// A decoded path segment (`%2F` etc.; `+` stays a plus in paths).
pub fn path_segment(field: &str, raw: &str) -> Result<String, ServiceError> {
    percent_decode_with(raw, false)
        .ok_or_else(|| ServiceError::invalid(field, "bad percent-encoding"))
}

fn percent_decode(s: &str) -> Option<String> {
    percent_decode_with(s, true)
}

/// Percent-decoding of a URL part (`+` is a space in query strings only);
/// None for bad escapes or non-UTF-8 results.
pub fn percent_decode_with(s: &str, plus_is_space: bool) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' if plus_is_space => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let v = u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
                out.push(v);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Every query parameter, decoded. A parameter outside `allowed`, a repeated
/// one, or bad percent-encoding is a 400 naming it.
pub fn query_params(
    req: &Request,
    allowed: &[&str],
) -> Result<Vec<(String, String)>, ServiceError> {
    let mut out: Vec<(String, String)> = Vec::new();
    let Some(q) = req.uri().query() else {
        return Ok(out);
    };
    for pair in q.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = percent_decode(k)
            .ok_or_else(|| ServiceError::invalid_body("query string: bad percent-encoding"))?;
        if k.is_empty() {
            return Err(ServiceError::invalid_body(
                "query string: a parameter without a name",
            ));
        }
        if !allowed.contains(&k.as_str()) {
            return Err(ServiceError::invalid(k, "unknown query parameter"));
        }
        let v = percent_decode(v)
            .ok_or_else(|| ServiceError::invalid(k.clone(), "bad percent-encoding"))?;
        if out.iter().any(|(seen, _)| *seen == k) {
            return Err(ServiceError::invalid(k, "given more than once"));
        }
        out.push((k, v));
    }
    Ok(out)
}

pub fn query_param(params: &[(String, String)], name: &str) -> Option<String> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

/// An optional `true`/`false` query parameter.
pub fn query_bool(
    params: &[(String, String)],
    name: &str,
    default: bool,
) -> Result<bool, ServiceError> {
    match query_param(params, name).as_deref() {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(_) => Err(ServiceError::invalid(name, "must be true or false")),
    }
}

pub fn json_response<T: Serialize>(status: u16, body: &T) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::Text(
            serde_json::to_string(body).expect("response serializes"),
        ))
        .expect("static response parts")
}

pub fn no_content() -> Response<Body> {
    Response::builder()
        .status(204)
        .body(Body::Empty)
        .expect("static response parts")
}

/// The error body of API.md; 429 carries Retry-After.
pub fn error_response(e: &ServiceError) -> Response<Body> {
    let mut err = json!({"code": e.code(), "message": e.public_message()});
    if let Some(f) = e.field() {
        err["field"] = json!(f);
    }
    let mut resp = json_response(e.status(), &json!({ "error": err }));
    if let ServiceError::RateLimited { retry_after, .. } = e {
        let secs = retry_after.as_secs().max(1).to_string();
        resp.headers_mut().insert(
            "retry-after",
            secs.parse().expect("digits are a header value"),
        );
    }
    resp
}

pub fn route_not_found() -> ServiceError {
    ServiceError::NotFound("no such route".into())
}

/// The documented 500 of a request whose handler panicked.
fn panicked() -> Response<Body> {
    error_response(&ServiceError::internal(
        "handler panicked",
        std::io::Error::other("panic"),
    ))
}

/// Runs one request's future and turns its outcome into a response, with a
/// single log line: method, path, status, latency (never headers, query
/// strings or bodies: they hold tokens). 5xx log the whole error chain.
///
/// A panic in the future is caught here and answered with the documented
/// 500 `internal` body; the warm instance goes on serving. The log line
/// names the route, not the panic's message, which may quote request data
/// (the panic hook of [`run`] logs where it happened).
///
/// The route's future comes boxed: a route's state (the push path's most of
/// all) is large in unoptimised builds, and held inline it would sit on the
/// stack of whatever awaits the handler, the Lambda runtime or a test.
pub async fn respond(
    function: &'static str,
    req: &Request,
    fut: Pin<Box<dyn Future<Output = Result<Response<Body>, ServiceError>> + Send + '_>>,
) -> Response<Body> {
    let started = Instant::now();
    let method = req.method().to_string();
    let path = loggable_path(req);
    let result = AssertUnwindSafe(fut).catch_unwind().await;
    let ms = started.elapsed().as_millis() as u64;
    let Ok(result) = result else {
        tracing::error!(function, %method, %path, status = 500, ms, "handler panicked");
        return panicked();
    };
    match result {
        Ok(resp) => {
            tracing::info!(function, %method, %path, status = resp.status().as_u16(), ms, "request");
            resp
        }
        Err(e) => {
            let status = e.status();
            if status >= 500 {
                tracing::error!(function, %method, %path, status, ms, error = %chain(&e), "request failed");
            } else {
                tracing::info!(function, %method, %path, status, ms, code = e.code(), "request refused");
            }
            error_response(&e)
        }
    }
}

/// A function's whole `main`: logs, configuration read once, the context
/// built once per cold start (it lives as long as the instance), then the
/// Lambda runtime loop ([`run`]) calling `handle` per request.
/// `vendors`: the function's vendors, built once per cold start from the
/// store and the environment (the registry's `from_env`, or none).
pub async fn serve<V, H, Fut>(vendors: V, handle: H) -> Result<(), lambda_http::Error>
where
    V: FnOnce(&Store, &Config) -> Result<Arc<dyn Vendors>, crate::config::ConfigError>,
    H: Fn(&'static Context, Request) -> Fut,
    Fut: Future<Output = Response<Body>> + Send,
{
    init_tracing();
    let config = Config::from_env()?;
    let store = Store::from_env(config.table_name.clone()).await;
    let vendors = vendors(&store, &config)?;
    let ctx: &'static Context = Box::leak(Box::new(Context::new(store, &config, vendors)));
    run(move |req| handle(ctx, req)).await
}

/// The Lambda runtime loop (`lambda_http::run`) over `handle`. Every
/// request gets a response: one whose handler panics, even outside
/// [`respond`], gets the documented 500 `internal` body instead of
/// lambda_runtime's error report (which API Gateway would turn into a
/// body of its own), and the loop goes on with the next request.
pub async fn run<H, Fut>(handle: H) -> Result<(), lambda_http::Error>
where
    H: Fn(Request) -> Fut,
    Fut: Future<Output = Response<Body>> + Send,
{
    install_panic_hook();
    lambda_http::run(lambda_http::service_fn(move |req: Request| {
        let fut = std::panic::catch_unwind(AssertUnwindSafe(|| handle(req)));
        async move {
            let resp = match fut {
                Ok(fut) => AssertUnwindSafe(fut).catch_unwind().await.ok(),
                Err(_) => None,
            };
            Ok::<_, lambda_http::Error>(resp.unwrap_or_else(|| {
                tracing::error!(
                    status = 500,
                    "request panicked outside its handler's respond"
                );
                panicked()
            }))
        }
    }))
    .await
}

/// Replaces the default panic hook (which prints the panic's message to
/// stderr, hence to the function's logs) with one log line that says where
/// the panic happened and nothing of its message: a message may quote
/// request data (a token, a body), which must never reach a log line.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
            .unwrap_or_default();
        let thread = std::thread::current().name().unwrap_or("").to_string();
        tracing::error!(at = %at, thread = %thread, "panic (its message is not logged)");
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(uri: &str) -> Request {
        http::Request::builder().uri(uri).body(Body::Empty).unwrap()
    }

    fn with_host(host: &str, proto: Option<&str>) -> Request {
        let mut b = http::Request::builder()
            .uri("/v1/certificates")
            .header("host", host);
        if let Some(p) = proto {
            b = b.header("x-forwarded-proto", p);
        }
        b.body(Body::Empty).unwrap()
    }

    #[test]
    fn handed_out_urls_use_the_callers_host_and_scheme() {
        assert_eq!(
            public_base_url(&with_host("abc.execute-api.eu-west-1.amazonaws.com", None)),
            "https://abc.execute-api.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            public_base_url(&with_host("localhost:3000", None)),
            "http://localhost:3000"
        );
        assert_eq!(
            public_base_url(&with_host("push.example.com", Some("http"))),
            "http://push.example.com"
        );
    }

    /// A REST API event's request as lambda_http builds it: the event's
    /// `path` as the raw path, `requestContext.path` as given.
    fn from_rest_api(host: &str, event_path: &str, context_path: &str) -> Request {
        use lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequestContext;
        use lambda_http::RequestExt;
        let mut ctx = ApiGatewayProxyRequestContext::default();
        ctx.stage = Some("prod".into());
        ctx.path = Some(context_path.into());
        http::Request::builder()
            .uri(format!("https://{host}/prod{event_path}"))
            .header("host", host)
            .body(Body::Empty)
            .unwrap()
            .with_raw_http_path(event_path)
            .with_request_context(lambda_http::request::RequestContext::ApiGatewayV1(ctx))
    }

    #[test]
    fn rest_api_requests_are_routed_and_addressed_past_their_stage() {
        // The execute-api host: the URL has the stage in front of the route.
        let r = from_rest_api(
            "abc.execute-api.eu-west-1.amazonaws.com",
            "/v1/certificates/",
            "/prod/v1/certificates/",
        );
        assert_eq!(path(&r), "/v1/certificates");
        assert_eq!(
            public_base_url(&r),
            "https://abc.execute-api.eu-west-1.amazonaws.com/prod"
        );
        // sam local start-api: requestContext.path is the route template.
        let r = from_rest_api(
            "127.0.0.1:3000",
            "/v1/certificates/7",
            "/v1/certificates/{id}",
        );
        assert_eq!(path(&r), "/v1/certificates/7");
        assert_eq!(public_base_url(&r), "http://127.0.0.1:3000");
        // A custom domain mapped at its root: nothing in front.
        let r = from_rest_api("push.example.com", "/v1/certificates", "/v1/certificates");
        assert_eq!(public_base_url(&r), "https://push.example.com");
    }

    #[test]
    fn receipt_secrets_never_reach_a_log_line() {
        assert_eq!(
            mask_path("/v1/receipts/vivo/AbCdEfGh"),
            "/v1/receipts/vivo/****"
        );
        assert_eq!(
            mask_path("/v1/receipts/xiaomi/AbCdEfGh/x"),
            "/v1/receipts/xiaomi/****"
        );
        assert_eq!(mask_path("/v1/push"), "/v1/push");
    }

    #[test]
    fn query_params_are_decoded_and_checked() {
        let r = req("https://x/v1/push-token?device_id=a%20b&token=x%2By");
        let p = query_params(&r, &["device_id", "token"]).unwrap();
        assert_eq!(query_param(&p, "device_id").unwrap(), "a b");
        assert_eq!(query_param(&p, "token").unwrap(), "x+y");
        let e = query_params(&req("https://x/a?verify=1&evil=2"), &["verify"]).unwrap_err();
        assert_eq!(e.field(), Some("evil"));
        assert!(query_params(&req("https://x/a?verify=1&verify=2"), &["verify"]).is_err());
        assert!(query_params(&req("https://x/a?verify=%zz"), &["verify"]).is_err());
    }

    fn with_body(content_type: Option<&str>, body: &str) -> Request {
        let mut b = http::Request::builder()
            .method("POST")
            .uri("https://x/v1/push");
        if let Some(ct) = content_type {
            b = b.header("content-type", ct);
        }
        b.body(Body::Text(body.to_string())).unwrap()
    }

    #[test]
    fn a_body_must_be_declared_json() {
        for ct in [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            "application/json;charset=\"UTF-8\"",
            "application/json; charset=utf8; foo=bar",
        ] {
            assert!(
                json_body(&with_body(Some(ct), r#"{"a": 1}"#)).is_ok(),
                "{ct}"
            );
        }
        for ct in [
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("application/jsonp"),
            Some("application/json, text/plain"),
            Some("application/json; charset=iso-8859-1"),
            None,
        ] {
            let e = json_body(&with_body(ct, r#"{"a": 1}"#)).err().unwrap();
            assert_eq!(
                (e.status(), e.field()),
                (400, Some("content-type")),
                "{ct:?}"
            );
        }
        // With nothing to read, the body's absence is what is wrong.
        let e = json_body(&with_body(None, " ")).err().unwrap();
        assert_eq!(e.field(), None);
        // Over the size limit is 413, whatever it is declared as.
        let big = "a".repeat(MAX_BODY_BYTES + 1);
        assert_eq!(
            json_body(&with_body(None, &big)).err().unwrap().status(),
            413
        );
    }

    #[test]
    fn routes_without_a_body_take_none_or_an_empty_object() {
        assert!(no_body(&with_body(None, "")).is_ok());
        assert!(no_body(&with_body(None, " \n")).is_ok());
        assert!(no_body(&with_body(Some("application/json"), "{}")).is_ok());
        let e = no_body(&with_body(
            Some("application/json"),
            r#"{"device_id": "x"}"#,
        ));
        assert_eq!(e.err().unwrap().field(), Some("device_id"));
        let e = no_body(&with_body(Some("text/plain"), "{}"));
        assert_eq!(e.err().unwrap().field(), Some("content-type"));
    }

    #[test]
    fn a_parameter_without_a_name_is_refused_as_the_query_string() {
        for uri in ["https://x/a?=1", "https://x/a?verify=true&="] {
            let e = query_params(&req(uri), &["verify"]).unwrap_err();
            assert_eq!((e.status(), e.field()), (400, None), "{uri}");
            assert!(e.to_string().contains("without a name"), "{uri}: {e}");
        }
        // Empty pairs are no parameters at all.
        assert!(query_params(&req("https://x/a?&&verify=true&"), &["verify"]).is_ok());
    }

    #[test]
    fn error_body_has_code_message_and_field() {
        let resp = error_response(&ServiceError::invalid("title", "at most 40 characters"));
        assert_eq!(resp.status(), 400);
        let Body::Text(t) = resp.body() else { panic!() };
        let v: serde_json::Value = serde_json::from_str(t).unwrap();
        assert_eq!(v["error"]["code"], "invalid_argument");
        assert_eq!(v["error"]["message"], "title: at most 40 characters");
        assert_eq!(v["error"]["field"], "title");
    }

    #[test]
    fn internal_errors_say_nothing_about_internals() {
        let e = ServiceError::internal("store", std::io::Error::other("table xyz missing"));
        let resp = error_response(&e);
        let Body::Text(t) = resp.body() else { panic!() };
        assert!(!t.contains("xyz"));
        assert_eq!(resp.status(), 500);
    }

    #[test]
    fn rate_limited_sets_retry_after() {
        let e = ServiceError::RateLimited {
            message: "slow down".into(),
            retry_after: std::time::Duration::from_secs(7),
        };
        assert_eq!(error_response(&e).headers()["retry-after"], "7");
    }
}
