//! The bad-input corpus (`tests/corpus/bad_input.json`): every case is
//! delivered as API Gateway (REST API, Lambda proxy payload 1.0) would deliver it, as an
//! event turned into a request by lambda_http itself (so `isBase64Encoded`
//! bodies are decoded exactly as on Lambda), to the function local-api's
//! route table picks, on a table seeded with an app, a certificate and a
//! binding. Each case must answer its 4xx with its error code and `field`,
//! and leave every item of the table byte for byte as it was, with nothing
//! sent to vivo.
//!
//! Case format (see the file's `about`): `name`, `method`, `path` (with
//! the query), `token` (`admin`, `user` = alice, or `none`), optional
//! `headers` (a `null` value removes a default header), one of `body` (JSON,
//! serialized), `body_raw` (sent as written) or `body_base64` (the event's
//! base64 body as written), optional `base64: true` (the event carries the
//! body base64-encoded), then `status`, `code`, `field` (`null`: the body as
//! a whole is at fault, and the message then names the request body) and
//! optional `message` (a substring of the error message).
//!
//! In strings, `{{rep N TEXT}}` stands for TEXT repeated N times; a body
//! string that is exactly `{{users N}}` stands for an array of N distinct
//! user ids.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use local_api::ROUTES;
use offpush::domain::{ClickAction, PushMode};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;
use std::sync::Arc;
use testkit::*;

const CORPUS: &str = include_str!("corpus/bad_input.json");
/// What acceptance asks of the corpus at least.
const MIN_CASES: usize = 100;

/// `{{rep N TEXT}}` expanded.
fn expand(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(at) = rest.find("{{rep ") {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 6..];
        let end = tail.find("}}").expect("{{rep N TEXT}} is closed");
        let (n, text) = tail[..end].split_once(' ').expect("{{rep N TEXT}}");
        out.push_str(&text.repeat(n.parse().expect("N is a number")));
        rest = &tail[end + 2..];
    }
    out.push_str(rest);
    out
}

fn expand_value(v: &Value) -> Value {
    match v {
        Value::String(s) => match s
            .strip_prefix("{{users ")
            .and_then(|r| r.strip_suffix("}}"))
        {
            Some(n) => {
                let n: usize = n.parse().expect("{{users N}}");
                Value::Array((0..n).map(|i| json!(format!("user-{i:04}"))).collect())
            }
            None => Value::String(expand(s)),
        },
        Value::Array(a) => Value::Array(a.iter().map(expand_value).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (expand(k), expand_value(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

struct Case {
    name: String,
    method: String,
    path: String,
    token: String,
    headers: Map<String, Value>,
    /// The event's body and its isBase64Encoded.
    body: Option<(String, bool)>,
    status: u16,
    code: String,
    field: Option<String>,
    message: Option<String>,
}

fn cases() -> Vec<Case> {
    let file: Value = serde_json::from_str(CORPUS).expect("the corpus is JSON");
    let list = file["cases"].as_array().expect("a cases array");
    list.iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().map(str::to_string);
            let name = s("name").expect("a name");
            let base64 = c["base64"].as_bool().unwrap_or(false);
            let body = match (c.get("body"), s("body_raw"), s("body_base64")) {
                (Some(v), None, None) => Some((expand_value(v).to_string(), base64)),
                (None, Some(raw), None) => Some((expand(&raw), base64)),
                (None, None, Some(b64)) => Some((b64, true)),
                (None, None, None) => None,
                _ => panic!("{name}: at most one of body, body_raw, body_base64"),
            };
            let body = body.map(|(text, b64)| {
                if b64 && c.get("body_base64").is_none() {
                    (STANDARD.encode(text.as_bytes()), true)
                } else {
                    (text, b64)
                }
            });
            Case {
                method: s("method").expect("a method"),
                path: expand(&s("path").expect("a path")),
                token: s("token").unwrap_or_else(|| "admin".into()),
                headers: c["headers"].as_object().cloned().unwrap_or_default(),
                body,
                status: c["status"].as_u64().expect("a status") as u16,
                code: s("code").expect("a code"),
                field: s("field"),
                message: s("message"),
                name,
            }
        })
        .collect()
}

/// Whether every key and value of a query string percent-decodes to UTF-8.
fn percent_decodes(query: &str) -> bool {
    query
        .split(['&', '='])
        .all(|piece| offpush::http::percent_decode_with(piece, true).is_some())
}

/// The API Gateway REST API event of a case, as lambda_http reads it on Lambda.
fn event(case: &Case, app: &TestApp, route: &local_api::Route, n: usize) -> String {
    let (path, query) = case.path.split_once('?').unwrap_or((&case.path, ""));
    let mut headers = Map::new();
    headers.insert("host".into(), json!("api.offpush.local"));
    headers.insert("user-agent".into(), json!("corpus"));
    match case.token.as_str() {
        "admin" => {
            headers.insert(
                "authorization".into(),
                json!(format!("Bearer {}", app.admin_token())),
            );
        }
        "user" => {
            headers.insert(
                "authorization".into(),
                json!(format!("Bearer {}", app.user_token("alice"))),
            );
        }
        "none" => {}
        other => panic!("{}: unknown token kind {other}", case.name),
    }
    if case.body.is_some() {
        headers.insert("content-type".into(), json!("application/json"));
    }
    for (k, v) in &case.headers {
        match v {
            Value::Null => {
                headers.remove(k);
            }
            v => {
                headers.insert(k.clone(), json!(expand(v.as_str().expect("header text"))));
            }
        }
    }
    let path_parameters: Map<String, Value> = route
        .path_parameters
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let request_id = format!("corpus-{n}");
    rest_api_event(&RestEvent {
        method: &case.method,
        path,
        query,
        headers,
        path_parameters,
        resource: route.resource_path(),
        body: case.body.as_ref().map(|(b, b64)| (b.as_str(), *b64)),
        request_id: &request_id,
    })
    .to_string()
}

#[tokio::test]
async fn every_bad_input_is_a_4xx_naming_its_field_and_changes_nothing() {
    let env = TestEnv::new("corpus").await;
    let cert = env
        .add_certificate(ClickAction::OpenApp, PushMode::Production)
        .await;
    env.bind(
        cert.get(),
        "alice",
        "regid-alice-0123456789abcdef",
        Some("phone-1"),
    )
    .await;
    let dispatch = local_api::handlers(Arc::new(env.ctx.clone()));
    let mut before = env.table_items().await;
    let mut vivo_calls = 0;
    assert!(
        before.len() >= 4,
        "app, certificate, user and token owner are seeded"
    );

    let cases = cases();
    assert!(
        cases.len() >= MIN_CASES,
        "{} cases, at least {MIN_CASES}",
        cases.len()
    );
    let mut names = BTreeSet::new();
    let mut covered = BTreeSet::new();
    let mut failures = Vec::new();
    for (n, case) in cases.iter().enumerate() {
        assert!(names.insert(&case.name), "{}: name used twice", case.name);
        let method: http::Method = case.method.parse().unwrap();
        let path = case.path.split('?').next().unwrap();
        let route = local_api::route(&method, path)
            .unwrap_or_else(|| panic!("{}: {} {path} is no route", case.name, case.method));
        covered.insert(route.route_key.clone());
        let mut req = lambda_http::request::from_str(&event(case, &env.app, &route, n))
            .unwrap_or_else(|e| panic!("{}: the event does not parse: {e}", case.name));
        if let Some((_, query)) = case.path.split_once('?') {
            if !percent_decodes(query) {
                // API Gateway answers a query string that does not decode with a
                // 400 of its own (DEFAULT_4XX: the error body, no field) before any
                // function sees it. The functions refuse it too, naming the
                // parameter, as the local runner hands it to them: as sent.
                *req.uri_mut() = format!("https://api.offpush.local{path}?{query}")
                    .parse()
                    .unwrap();
            }
        }
        let (status, body) = read(dispatch(route.function, req).await);
        let err = &body["error"];
        let mut wrong = Vec::new();
        if status != case.status {
            wrong.push(format!("status {status}, expected {}", case.status));
        }
        if err["code"] != case.code.as_str() {
            wrong.push(format!("code {}, expected {}", err["code"], case.code));
        }
        let field = err.get("field").and_then(Value::as_str).map(str::to_string);
        if field != case.field {
            wrong.push(format!("field {field:?}, expected {:?}", case.field));
        }
        let message = err["message"].as_str().unwrap_or("");
        if let Some(m) = &case.message {
            if !message.contains(m.as_str()) {
                wrong.push(format!("message {message:?} lacks {m:?}"));
            }
        }
        if case.field.is_none() && status == 400 && !message.starts_with("request body") {
            wrong.push(format!(
                "a refusal without a field names the request body: {message:?}"
            ));
        }
        let now = env.table_items().await;
        if now != before {
            wrong.push("the table changed".into());
            // Later cases are judged against the table as it is now.
            before = now;
        }
        let calls = env.sim.requests().len();
        if calls != vivo_calls {
            wrong.push("vivo was called".into());
            vivo_calls = calls;
        }
        if !wrong.is_empty() {
            failures.push(format!("{}: {} (body {body})", case.name, wrong.join("; ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Every route of the API has cases (a new route fails here until it has some).
    let routes: BTreeSet<String> = ROUTES.iter().map(|(m, p, _)| format!("{m} {p}")).collect();
    let missing: Vec<&String> = routes.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "routes without a bad-input case: {missing:?}"
    );
}

/// The README states the corpus's size; it must be this file's.
#[test]
fn the_readme_counts_the_cases() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let at = readme
        .find("**bad-input corpus**")
        .expect("a README paragraph on the bad-input corpus");
    let paragraph: String = readme[at..].chars().take(300).collect();
    let count = cases().len();
    assert!(
        paragraph.contains(&format!("**{count} cases**")),
        "README says {paragraph:?}; the corpus has {count} cases"
    );
}
