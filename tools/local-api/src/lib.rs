//! local-api: the functions' handlers behind one native HTTP server, for
//! machines without Docker (`scripts/run-local.sh`).
//!
//! Each request goes through what API Gateway (the REST API of template.yaml,
//! Lambda proxy payload 1.0) and the Lambda runtime would do to it, and no more:
//!
//! 1. [`route`]: the route table of template.yaml / API.md picks the function
//!    (method and path; anything else is a 404 `not_found`, the body
//!    template.yaml's gateway responses give a method and path no route has).
//! 2. The body is read whole, at most [`MAX_BODY_BYTES`] (more is a 413
//!    `payload_too_large`).
//! 3. [`to_lambda_request`]: the same `lambda_http::Request` lambda_http
//!    builds from an API Gateway event: method, `http://host/path?query`,
//!    headers (a repeated one by its last value, as a REST API passes it), the body as
//!    `Text`/`Binary`/`Empty`, and the extensions (raw path, query string and
//!    path parameters, a REST API request context).
//! 4. The function's own `handle` runs (a panic becomes the documented 500
//!    `internal`, as the functions' runtime loop, `offpush::http::run`, answers it).
//! 5. [`from_lambda_response`]: status, headers and body go back unchanged.

use std::collections::HashMap;
use std::net::IpAddr;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{ConnectInfo, State};
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use http::{HeaderMap, Method};
use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayProxyRequestContext, ApiGatewayRequestIdentity,
};
use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt};
use offpush::{Context, ServiceError};

/// The largest request body accepted; a larger one is answered 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The Lambda functions of template.yaml.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Function {
    CertUpload,
    TokenReport,
    /// `POST /v1/push`.
    PushDispatch,
    /// Receipts and the read routes: push-dispatch's binary deployed as a
    /// function of its own (template.yaml's `PushVisibilityFunction`).
    PushVisibility,
}

impl Function {
    /// Every function, in template.yaml's order.
    pub const ALL: [Function; 4] = [
        Function::CertUpload,
        Function::TokenReport,
        Function::PushDispatch,
        Function::PushVisibility,
    ];

    /// The function's name: its `FunctionName` in template.yaml is the
    /// stack's name, `-`, and this.
    pub fn name(self) -> &'static str {
        match self {
            Function::CertUpload => "cert-upload",
            Function::TokenReport => "token-report",
            Function::PushDispatch => "push-dispatch",
            Function::PushVisibility => "push-visibility",
        }
    }

    /// The binary (crate) that runs it, as in the handlers' log lines:
    /// template.yaml's `BuildProperties: Binary`.
    pub fn binary(self) -> &'static str {
        match self {
            Function::PushVisibility => "push-dispatch",
            other => other.name(),
        }
    }

    /// Its SAM logical id in template.yaml.
    pub fn logical_id(self) -> &'static str {
        match self {
            Function::CertUpload => "CertUploadFunction",
            Function::TokenReport => "TokenReportFunction",
            Function::PushDispatch => "PushDispatchFunction",
            Function::PushVisibility => "PushVisibilityFunction",
        }
    }
}

/// The API's routes (API.md; template.yaml's `Api` events):
/// method, path template, function.
pub const ROUTES: &[(&str, &str, Function)] = &[
    ("POST", "/v1/certificates", Function::CertUpload),
    ("GET", "/v1/certificates", Function::CertUpload),
    ("GET", "/v1/certificates/{id}", Function::CertUpload),
    ("PUT", "/v1/certificates/{id}", Function::CertUpload),
    ("DELETE", "/v1/certificates/{id}", Function::CertUpload),
    ("PUT", "/v1/push-token", Function::TokenReport),
    ("DELETE", "/v1/push-token", Function::TokenReport),
    ("POST", "/v1/users/{user_id}/logout", Function::TokenReport),
    ("GET", "/v1/users/{user_id}/devices", Function::TokenReport),
    ("POST", "/v1/push", Function::PushDispatch),
    ("GET", "/v1/pushes/{request_id}", Function::PushVisibility),
    ("GET", "/v1/stats", Function::PushVisibility),
    (
        "GET",
        "/v1/users/{user_id}/push-log",
        Function::PushVisibility,
    ),
    (
        "POST",
        "/v1/receipts/{platform}/{receipt_secret}",
        Function::PushVisibility,
    ),
];

/// A matched route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub function: Function,
    /// The route as method and resource, e.g. `GET /v1/certificates/{id}`.
    pub route_key: String,
    /// The `{name}` segments, percent-decoded, e.g. `[("id", "6")]`.
    pub path_parameters: Vec<(String, String)>,
}

impl Route {
    /// The REST API resource of the route, e.g. `/v1/certificates/{id}`.
    pub fn resource_path(&self) -> &str {
        self.route_key
            .split_once(' ')
            .map_or(self.route_key.as_str(), |(_, p)| p)
    }
}

/// The route for a method and a URI path (a trailing slash is ignored, as
/// the handlers' `offpush::http::path` does); `None` is a 404.
pub fn route(method: &Method, path: &str) -> Option<Route> {
    ROUTES.iter().find_map(|&(m, template, function)| {
        if m != method.as_str() {
            return None;
        }
        Some(Route {
            function,
            route_key: format!("{m} {template}"),
            path_parameters: match_template(template, path)?,
        })
    })
}

/// The function serving a path, whatever the method (`None`: no route at all).
pub fn function_for(path: &str) -> Option<Function> {
    ROUTES
        .iter()
        .find(|(_, template, _)| match_template(template, path).is_some())
        .map(|&(_, _, function)| function)
}

/// The `{name}` segments' values when `path` matches `template`: a `{name}`
/// is one non-empty segment, anything else must be equal.
fn match_template(template: &str, path: &str) -> Option<Vec<(String, String)>> {
    let path = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    let wanted: Vec<&str> = template.split('/').collect();
    let segments: Vec<&str> = path.split('/').collect();
    if wanted.len() != segments.len() {
        return None;
    }
    let mut params = Vec::new();
    for (want, got) in wanted.iter().zip(&segments) {
        match want.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
            Some(name) if !got.is_empty() => {
                let value = offpush::http::percent_decode_with(got, false)
                    .unwrap_or_else(|| (*got).to_string());
                params.push((name.to_string(), value));
            }
            Some(_) => return None,
            None if want == got => {}
            None => return None,
        }
    }
    Some(params)
}

/// The query string as lambda_http's `query_string_parameters()` shows it
/// (WHATWG form decoding; an undecodable piece is kept as it is).
fn query_map(query: &str) -> HashMap<String, Vec<String>> {
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = offpush::http::percent_decode_with(k, true).unwrap_or_else(|| k.to_string());
        let v = offpush::http::percent_decode_with(v, true).unwrap_or_else(|| v.to_string());
        map.entry(k).or_default().push(v);
    }
    map
}

/// Headers as a REST API passes them to a function through lambda_http: one
/// value per name, the last one of a repeated header (the event's `headers`;
/// lambda_http lets them replace `multiValueHeaders`).
fn merge_headers(headers: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::with_capacity(headers.keys_len());
    for name in headers.keys() {
        let last = headers
            .get_all(name)
            .iter()
            .next_back()
            .expect("a key has a value");
        out.insert(name.clone(), last.clone());
    }
    out
}

/// `Body::Empty`, `Body::Text` for UTF-8, `Body::Binary` otherwise.
pub fn lambda_body(bytes: Vec<u8>) -> Body {
    if bytes.is_empty() {
        return Body::Empty;
    }
    match String::from_utf8(bytes) {
        Ok(text) => Body::Text(text),
        Err(e) => Body::Binary(e.into_bytes()),
    }
}

fn request_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    format!("local-{ms:x}-{n}")
}

/// The `lambda_http::Request` the function would get from API Gateway for
/// this request: same method, URI (path and raw query), headers and body.
pub fn to_lambda_request(
    parts: &http::request::Parts,
    body: Vec<u8>,
    route: &Route,
    source_ip: Option<IpAddr>,
) -> lambda_http::Request {
    let path = parts.uri.path();
    let query = parts.uri.query();
    let path_and_query = match query {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    };
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()))
        .unwrap_or("localhost");
    let uri = http::Uri::builder()
        .scheme("http")
        .authority(host)
        .path_and_query(path_and_query.as_str())
        .build()
        .or_else(|_| path_and_query.parse::<http::Uri>())
        .unwrap_or_else(|_| http::Uri::from_static("/"));

    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let domain = host.split(':').next().unwrap_or(host).to_string();
    let mut identity = ApiGatewayRequestIdentity::default();
    identity.source_ip = source_ip.map(|ip| ip.to_string());
    identity.user_agent = parts
        .headers
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut context = ApiGatewayProxyRequestContext::default();
    context.account_id = Some("000000000000".to_string());
    // Served at the root, as a custom domain mapped without a base path is:
    // `requestContext.path` is the event's path (no stage in front).
    context.stage = Some("local".to_string());
    context.path = Some(path.to_string());
    context.resource_path = Some(route.resource_path().to_string());
    context.http_method = parts.method.clone();
    context.protocol = Some(format!("{:?}", parts.version));
    context.request_id = Some(request_id());
    context.apiid = Some("local".to_string());
    context.domain_prefix = Some(domain.split('.').next().unwrap_or("").to_string());
    context.domain_name = Some(domain);
    context.request_time_epoch = now;
    context.identity = identity;

    let path_parameters: HashMap<String, String> = route.path_parameters.iter().cloned().collect();
    let mut req = http::Request::builder()
        .method(parts.method.clone())
        .uri(uri)
        .body(lambda_body(body))
        .expect("method and uri are valid")
        .with_raw_http_path(path)
        .with_query_string_parameters(query_map(query.unwrap_or("")))
        .with_path_parameters(path_parameters)
        .with_request_context(RequestContext::ApiGatewayV1(context));
    *req.headers_mut() = merge_headers(&parts.headers);
    req
}

/// The function's response as the HTTP answer: status, headers, body.
pub fn from_lambda_response(resp: lambda_http::Response<Body>) -> axum::response::Response {
    let (parts, body) = resp.into_parts();
    let bytes: Vec<u8> = match body {
        Body::Empty => Vec::new(),
        Body::Text(s) => s.into_bytes(),
        Body::Binary(b) => b,
        _ => Vec::new(),
    };
    axum::response::Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// Runs one function's handler on a converted request.
pub type Dispatch = Arc<
    dyn Fn(Function, lambda_http::Request) -> BoxFuture<'static, lambda_http::Response<Body>>
        + Send
        + Sync,
>;

/// The real handlers, sharing one warm [`Context`]. Push dispatch and push
/// visibility are one binary, hence one handler.
pub fn handlers(ctx: Arc<Context>) -> Dispatch {
    Arc::new(move |function, req| {
        let ctx = ctx.clone();
        async move {
            match function {
                Function::CertUpload => cert_upload::handle(&ctx, req).await,
                Function::TokenReport => token_report::handle(&ctx, req).await,
                Function::PushDispatch | Function::PushVisibility => {
                    push_dispatch::handle(&ctx, req).await
                }
            }
        }
        .boxed()
    })
}

/// The HTTP server's routes: everything goes through [`serve_one`].
/// Serve it with `into_make_service_with_connect_info::<SocketAddr>()`.
pub fn router(dispatch: Dispatch) -> axum::Router {
    axum::Router::new().fallback(serve_one).with_state(dispatch)
}

fn error(e: &ServiceError) -> axum::response::Response {
    from_lambda_response(offpush::http::error_response(e))
}

async fn read_body(body: axum::body::Body) -> Result<Vec<u8>, ServiceError> {
    let too_large =
        || ServiceError::PayloadTooLarge(format!("request body: at most {MAX_BODY_BYTES} bytes"));
    let mut stream = body.into_data_stream();
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|_| ServiceError::invalid_body("request body: could not be read"))?;
        if out.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(too_large());
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

async fn serve_one(
    State(dispatch): State<Dispatch>,
    req: axum::extract::Request,
) -> axum::response::Response {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let method = parts.method.clone();
    let path = offpush::http::mask_path(parts.uri.path());
    let Some(route) = route(&parts.method, parts.uri.path()) else {
        tracing::info!(%method, %path, status = 404, "no such route");
        return error(&offpush::http::route_not_found());
    };
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let body = match declared {
        Some(n) if n > MAX_BODY_BYTES as u64 => Err(ServiceError::PayloadTooLarge(format!(
            "request body: at most {MAX_BODY_BYTES} bytes"
        ))),
        _ => read_body(body).await,
    };
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            tracing::info!(%method, %path, status = e.status(), code = e.code(), "request body refused");
            return error(&e);
        }
    };
    let function = route.function;
    // Present when served with `into_make_service_with_connect_info`.
    let source_ip = parts
        .extensions
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let lambda_req = to_lambda_request(&parts, body, &route, source_ip);
    match AssertUnwindSafe(dispatch(function, lambda_req))
        .catch_unwind()
        .await
    {
        Ok(resp) => from_lambda_response(resp),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            let ms = started.elapsed().as_millis() as u64;
            tracing::error!(function = function.name(), %method, %path, ms, panic = %what, "handler panicked");
            error(&ServiceError::internal(
                "handler panicked",
                std::io::Error::other(what),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;

    fn m(s: &str) -> Method {
        Method::from_bytes(s.as_bytes()).unwrap()
    }

    #[test]
    fn every_api_route_maps_to_its_function() {
        use Function::*;
        let cases = [
            (
                "POST",
                "/v1/certificates",
                CertUpload,
                "POST /v1/certificates",
            ),
            (
                "GET",
                "/v1/certificates",
                CertUpload,
                "GET /v1/certificates",
            ),
            (
                "GET",
                "/v1/certificates/6666",
                CertUpload,
                "GET /v1/certificates/{id}",
            ),
            (
                "PUT",
                "/v1/certificates/6666",
                CertUpload,
                "PUT /v1/certificates/{id}",
            ),
            (
                "DELETE",
                "/v1/certificates/6666",
                CertUpload,
                "DELETE /v1/certificates/{id}",
            ),
            ("PUT", "/v1/push-token", TokenReport, "PUT /v1/push-token"),
            (
                "DELETE",
                "/v1/push-token",
                TokenReport,
                "DELETE /v1/push-token",
            ),
            (
                "POST",
                "/v1/users/alice/logout",
                TokenReport,
                "POST /v1/users/{user_id}/logout",
            ),
            (
                "GET",
                "/v1/users/alice/devices",
                TokenReport,
                "GET /v1/users/{user_id}/devices",
            ),
            ("POST", "/v1/push", PushDispatch, "POST /v1/push"),
            (
                "GET",
                "/v1/pushes/msg-1",
                PushVisibility,
                "GET /v1/pushes/{request_id}",
            ),
            ("GET", "/v1/stats", PushVisibility, "GET /v1/stats"),
            (
                "GET",
                "/v1/users/alice/push-log",
                PushVisibility,
                "GET /v1/users/{user_id}/push-log",
            ),
            (
                "POST",
                "/v1/receipts/vivo/abc",
                PushVisibility,
                "POST /v1/receipts/{platform}/{receipt_secret}",
            ),
            (
                "POST",
                "/v1/receipts/xiaomi/abc",
                PushVisibility,
                "POST /v1/receipts/{platform}/{receipt_secret}",
            ),
        ];
        for (method, path, function, key) in cases {
            let r = route(&m(method), path).unwrap_or_else(|| panic!("{method} {path}"));
            assert_eq!(r.function, function, "{method} {path}");
            assert_eq!(r.route_key, key);
            assert_eq!(function_for(path), Some(function), "{path}");
        }
        // Every entry of the table is reachable by the cases above (the
        // receipt route twice: two platforms).
        assert_eq!(ROUTES.len(), cases.len() - 1);
    }

    /// ROUTES is template.yaml's `Api` events, no more, no less.
    #[test]
    fn route_table_is_the_templates() {
        let template = include_str!("../../../template.yaml");
        let mut function = None;
        let mut from_template = Vec::new();
        for line in template.lines() {
            if let Some(name) = line
                .strip_prefix("  ")
                .filter(|l| !l.starts_with(' '))
                .and_then(|l| l.strip_suffix(':'))
            {
                function = Function::ALL.into_iter().find(|f| f.logical_id() == name);
            }
            let Some(rest) = line.split_once(", Method: ").map(|(_, r)| r) else {
                continue;
            };
            let (method, rest) = rest.split_once(',').expect("Method: X, Path: Y");
            let path = rest
                .split_once("Path: ")
                .expect("a Path after the Method")
                .1
                .trim_end_matches('}')
                .trim()
                .trim_matches('"');
            let f = function.expect("an Api event outside a known function");
            from_template.push((method.trim().to_string(), path.to_string(), f));
        }
        let mut ours: Vec<(String, String, Function)> = ROUTES
            .iter()
            .map(|&(m, p, f)| (m.to_string(), p.to_string(), f))
            .collect();
        let key = |r: &(String, String, Function)| (r.1.clone(), r.0.clone());
        from_template.sort_by_key(key);
        ours.sort_by_key(key);
        assert_eq!(ours, from_template);
    }

    /// `Function` is template.yaml's functions, no more, no less: each
    /// one's logical id, `FunctionName` and binary (push dispatch and push
    /// visibility: the one push-dispatch binary).
    #[test]
    fn functions_are_the_templates() {
        let template: serde_yaml::Value =
            serde_yaml::from_str(include_str!("../../../template.yaml")).unwrap();
        let resources = template["Resources"].as_mapping().unwrap();
        let mut in_template: Vec<&str> = resources
            .iter()
            .filter(|(_, r)| r["Type"].as_str() == Some("AWS::Serverless::Function"))
            .map(|(k, _)| k.as_str().unwrap())
            .collect();
        let mut ours: Vec<&str> = Function::ALL.iter().map(|f| f.logical_id()).collect();
        in_template.sort_unstable();
        ours.sort_unstable();
        assert_eq!(ours, in_template);
        for f in Function::ALL {
            let r = &template["Resources"][f.logical_id()];
            assert_eq!(
                r["Metadata"]["BuildProperties"]["Binary"].as_str(),
                Some(f.binary()),
                "{f:?}"
            );
            let serde_yaml::Value::Tagged(name) = &r["Properties"]["FunctionName"] else {
                panic!("{f:?}: FunctionName is a !Sub");
            };
            assert_eq!(name.tag, "Sub", "{f:?}");
            assert_eq!(
                name.value.as_str(),
                Some(format!("${{AWS::StackName}}-{}", f.name()).as_str()),
                "{f:?}"
            );
        }
    }

    #[test]
    fn path_parameters_are_extracted_and_decoded() {
        let r = route(&m("GET"), "/v1/certificates/42").unwrap();
        assert_eq!(r.path_parameters, vec![("id".into(), "42".into())]);
        let r = route(&m("POST"), "/v1/users/al%20ice/logout").unwrap();
        assert_eq!(r.path_parameters, vec![("user_id".into(), "al ice".into())]);
        // A trailing slash is tolerated, as the handlers' path() trims it.
        assert!(route(&m("GET"), "/v1/certificates/").is_some());
        assert!(route(&m("POST"), "/v1/push/").is_some());
    }

    #[test]
    fn unknown_paths_and_methods_have_no_route() {
        for (method, path) in [
            ("GET", "/"),
            ("GET", "/v1"),
            ("GET", "/v2/certificates"),
            ("GET", "/v1/certificates/1/extra"),
            ("GET", "/v1/users/alice"),
            ("GET", "/v1/users//devices"),
            ("POST", "/v1/users/alice/devices"),
            ("GET", "/v1/push"),
            ("PATCH", "/v1/certificates/1"),
            ("POST", "/v1/pushes"),
            ("GET", "/_sim/deliveries"),
        ] {
            assert_eq!(route(&m(method), path), None, "{method} {path}");
        }
        assert_eq!(function_for("/nope"), None);
        assert_eq!(function_for("/v1/users/alice"), None);
    }

    fn parts(method: &str, uri: &str, headers: &[(&str, &str)]) -> http::request::Parts {
        let mut b = http::Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap().into_parts().0
    }

    #[test]
    fn conversion_keeps_method_uri_query_headers_and_body() {
        let p = parts(
            "DELETE",
            "/v1/push-token?device_id=a%20b&token=x%2By",
            &[
                ("host", "127.0.0.1:3000"),
                ("authorization", "Bearer abc.def.ghi"),
                ("x-multi", "1"),
                ("x-multi", "2"),
                ("content-type", "application/json"),
            ],
        );
        let r = route(&p.method, p.uri.path()).unwrap();
        let req = to_lambda_request(&p, b"{\"a\":1}".to_vec(), &r, "127.0.0.1".parse().ok());
        assert_eq!(req.method(), Method::DELETE);
        assert_eq!(req.uri().path(), "/v1/push-token");
        assert_eq!(req.uri().query(), Some("device_id=a%20b&token=x%2By"));
        assert_eq!(
            req.uri().to_string(),
            "http://127.0.0.1:3000/v1/push-token?device_id=a%20b&token=x%2By"
        );
        assert_eq!(req.headers()["authorization"], "Bearer abc.def.ghi");
        assert_eq!(req.headers()["content-type"], "application/json");
        assert_eq!(req.headers()["x-multi"], "2");
        assert!(matches!(req.body(), Body::Text(t) if t == "{\"a\":1}"));

        // What the handlers read through offpush::http.
        assert_eq!(offpush::http::path(&req), "/v1/push-token");
        let q = offpush::http::query_params(&req, &["device_id", "token"]).unwrap();
        assert_eq!(offpush::http::query_param(&q, "device_id").unwrap(), "a b");
        assert_eq!(offpush::http::query_param(&q, "token").unwrap(), "x+y");
        assert_eq!(
            offpush::http::header(&req, "authorization"),
            Some("Bearer abc.def.ghi")
        );
        assert_eq!(offpush::http::body_bytes(&req), b"{\"a\":1}");

        // And what lambda_http's RequestExt would give a handler.
        let qs = req.query_string_parameters();
        assert_eq!(qs.first("device_id"), Some("a b"));
        assert_eq!(qs.first("token"), Some("x+y"));
        assert_eq!(req.raw_http_path(), "/v1/push-token");
        let RequestContext::ApiGatewayV1(ctx) = req.request_context() else {
            panic!("not an API Gateway REST API context")
        };
        assert_eq!(ctx.resource_path.as_deref(), Some("/v1/push-token"));
        assert_eq!(ctx.path.as_deref(), Some("/v1/push-token"));
        assert_eq!(ctx.http_method, Method::DELETE);
        assert_eq!(ctx.identity.source_ip.as_deref(), Some("127.0.0.1"));
    }

    #[test]
    fn conversion_sets_path_parameters_and_body_kinds() {
        let p = parts("GET", "/v1/users/bob/devices", &[]);
        let r = route(&p.method, p.uri.path()).unwrap();
        let req = to_lambda_request(&p, Vec::new(), &r, None);
        assert_eq!(req.path_parameters().first("user_id"), Some("bob"));
        assert!(matches!(req.body(), Body::Empty));
        assert_eq!(req.uri().query(), None);
        assert_eq!(req.uri().host(), Some("localhost"));

        let req = to_lambda_request(&p, vec![0xff, 0x00, 0xfe], &r, None);
        assert!(matches!(req.body(), Body::Binary(b) if b == &[0xff, 0x00, 0xfe]));
        let req = to_lambda_request(&p, "héllo".as_bytes().to_vec(), &r, None);
        assert!(matches!(req.body(), Body::Text(t) if t == "héllo"));
    }

    #[test]
    fn a_repeated_header_passes_its_last_value() {
        let p = parts(
            "GET",
            "/v1/certificates",
            &[
                ("cookie", "a=1"),
                ("cookie", "b=2"),
                ("accept", "text/plain"),
            ],
        );
        let r = route(&p.method, p.uri.path()).unwrap();
        let req = to_lambda_request(&p, Vec::new(), &r, None);
        assert_eq!(req.headers()["cookie"], "b=2");
        assert_eq!(req.headers().get_all("cookie").iter().count(), 1);
        assert_eq!(req.headers()["accept"], "text/plain");
    }

    #[test]
    fn response_conversion_keeps_status_headers_and_body() {
        let resp = offpush::http::json_response(201, &serde_json::json!({"id": 1}));
        let mut resp = resp;
        resp.headers_mut().insert(
            "location",
            http::HeaderValue::from_static("/v1/certificates/1"),
        );
        let out = from_lambda_response(resp);
        assert_eq!(out.status(), StatusCode::CREATED);
        assert_eq!(out.headers()["content-type"], "application/json");
        assert_eq!(out.headers()["location"], "/v1/certificates/1");
        let out = from_lambda_response(offpush::http::no_content());
        assert_eq!(out.status(), StatusCode::NO_CONTENT);
    }
}
