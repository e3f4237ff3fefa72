//! lambda_http glue: request parts in, JSON out, and the one mapping from
//! [`ServiceError`] to an HTTP response (API.md "Errors").

use crate::config::{init_tracing, Config};
use crate::error::{chain, ServiceError};
use crate::Context;
pub use lambda_http::{Body, Request, Response};
use serde::Serialize;
use serde_json::json;
use std::future::Future;
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

/// The path without any trailing slash (`/v1/certificates/`, `/v1/certificates`).
pub fn path(req: &Request) -> &str {
    let p = req.uri().path();
    if p.len() > 1 {
        p.trim_end_matches('/')
    } else {
        p
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

/// Runs one request's future and turns its outcome into a response, with a
/// single log line: method, path, status, latency (never headers, query
/// strings or bodies: they hold tokens). 5xx log the whole error chain.
pub async fn respond<F>(function: &'static str, req: &Request, fut: F) -> Response<Body>
where
    F: Future<Output = Result<Response<Body>, ServiceError>>,
{
    let started = Instant::now();
    let method = req.method().to_string();
    let path = path(req).to_string();
    let result = fut.await;
    let ms = started.elapsed().as_millis() as u64;
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
/// Lambda runtime loop calling `handle` per request.
pub async fn serve<H, Fut>(handle: H) -> Result<(), lambda_http::Error>
where
    H: Fn(&'static Context, Request) -> Fut,
    Fut: Future<Output = Response<Body>> + Send,
{
    init_tracing();
    let config = Config::from_env()?;
    let ctx: &'static Context = Box::leak(Box::new(Context::from_config(&config).await));
    lambda_http::run(lambda_http::service_fn(move |req: Request| {
        let fut = handle(ctx, req);
        async move { Ok::<_, lambda_http::Error>(fut.await) }
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(uri: &str) -> Request {
        http::Request::builder().uri(uri).body(Body::Empty).unwrap()
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
