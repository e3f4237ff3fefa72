//! openapi.yaml (the repository root) against template.yaml and the code:
//! the same routes as the REST API's events, the error answers every
//! operation must declare, and the limits the parsers enforce.

use offpush::domain::certificate::{Category, MAX_CREDENTIAL_LEN, MAX_NAME_LEN, MAX_SKIP_CONTENT};
use offpush::domain::ids::{
    MAX_CERTIFICATE_ID, MAX_DEVICE_ID_BYTES, MAX_TOKEN_BYTES, MAX_USER_ID_BYTES,
};
use offpush::domain::input::MAX_BODY_BYTES;
use offpush::domain::push::{
    DEFAULT_TITLE, DEFAULT_TTL_SECS, MAX_DESC_CHARS, MAX_EXT_BYTES, MAX_RECIPIENTS,
    MAX_REQUEST_ID_CHARS, MAX_TITLE_CHARS, MAX_TTL_SECS, MIN_TTL_SECS,
};
use offpush::domain::DeliveryStatus;
use offpush::ServiceError;
use serde_yaml::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

const HTTP_METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The routes API.md reserves to admin tokens (`role: "admin"`).
const ADMIN_ROUTES: &[(&str, &str)] = &[
    ("POST", "/v1/certificates"),
    ("GET", "/v1/certificates"),
    ("GET", "/v1/certificates/{id}"),
    ("PUT", "/v1/certificates/{id}"),
    ("DELETE", "/v1/certificates/{id}"),
    ("POST", "/v1/users/{user_id}/logout"),
    ("GET", "/v1/users/{user_id}/devices"),
    ("POST", "/v1/push"),
    ("GET", "/v1/pushes/{request_id}"),
    ("GET", "/v1/stats"),
    ("GET", "/v1/users/{user_id}/push-log"),
];

type Route = (String, String);

fn repo_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(name)
}

fn load(name: &str) -> Value {
    let path = repo_file(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_yaml::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", path.display()))
}

fn spec() -> Value {
    load("openapi.yaml")
}

/// A JSON pointer (`/components/schemas/Error`) into a YAML document.
fn pointer<'a>(doc: &'a Value, ptr: &str) -> Option<&'a Value> {
    let mut node = doc;
    for raw in ptr.trim_start_matches('/').split('/') {
        let key = raw.replace("~1", "/").replace("~0", "~");
        node = match node {
            Value::Mapping(m) => m.get(key.as_str())?,
            Value::Sequence(s) => s.get(key.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}

fn at<'a>(doc: &'a Value, ptr: &str) -> &'a Value {
    pointer(doc, ptr).unwrap_or_else(|| panic!("openapi.yaml has nothing at {ptr}"))
}

fn ref_of(v: &Value) -> Option<&str> {
    v.get("$ref").and_then(Value::as_str)
}

/// Follows `$ref`s (local ones only) to the object they name.
fn resolve<'a>(doc: &'a Value, mut v: &'a Value) -> &'a Value {
    for _ in 0..16 {
        match ref_of(v) {
            Some(r) => {
                let ptr = r
                    .strip_prefix('#')
                    .unwrap_or_else(|| panic!("only local references are expected, not {r}"));
                v = at(doc, ptr);
            }
            None => return v,
        }
    }
    panic!("reference chain too long")
}

/// Operations authenticated by a secret in their path (`x-authenticated-by: path-secret`).
fn path_secret(op: &Value) -> bool {
    op.get("x-authenticated-by").map(str_of).as_deref() == Some("path-secret")
}

fn str_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Tagged(t) => str_of(&t.value),
        other => panic!("expected a string, found {other:?}"),
    }
}

/// Every operation: (METHOD, path, operation object).
fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let paths = at(doc, "/paths").as_mapping().expect("paths is a mapping");
    let mut out = Vec::new();
    for (path, item) in paths {
        let path = str_of(path);
        let item = item.as_mapping().expect("a path item is a mapping");
        for (key, op) in item {
            let key = str_of(key);
            if HTTP_METHODS.contains(&key.as_str()) {
                out.push((key.to_uppercase(), path.clone(), op));
            }
        }
    }
    out
}

fn spec_routes(doc: &Value) -> Vec<Route> {
    operations(doc)
        .into_iter()
        .map(|(m, p, _)| (m, p))
        .collect()
}

/// `Resources.*.Properties.Events.*` of type Api (the REST API's routes):
/// (Method, Path).
fn template_routes() -> Vec<Route> {
    let template = load("template.yaml");
    let resources = template
        .get("Resources")
        .and_then(Value::as_mapping)
        .expect("template.yaml has Resources");
    let mut out = Vec::new();
    for (_, resource) in resources {
        let Some(events) = resource
            .get("Properties")
            .and_then(|p| p.get("Events"))
            .and_then(Value::as_mapping)
        else {
            continue;
        };
        for (name, event) in events {
            if event.get("Type").map(str_of).as_deref() != Some("Api") {
                continue;
            }
            let props = event
                .get("Properties")
                .unwrap_or_else(|| panic!("event {name:?} has no Properties"));
            let method = props
                .get("Method")
                .map(str_of)
                .unwrap_or_else(|| panic!("event {name:?} has no Method"));
            let path = props
                .get("Path")
                .map(str_of)
                .unwrap_or_else(|| panic!("event {name:?} has no Path"));
            out.push((method.to_uppercase(), path));
        }
    }
    out
}

fn responses<'a>(op: &'a Value, method: &str, path: &str) -> &'a serde_yaml::Mapping {
    op.get("responses")
        .and_then(Value::as_mapping)
        .unwrap_or_else(|| panic!("{method} {path} has no responses"))
}

fn status_codes(op: &Value, method: &str, path: &str) -> BTreeSet<String> {
    responses(op, method, path).keys().map(str_of).collect()
}

fn show(routes: &BTreeSet<Route>) -> String {
    routes
        .iter()
        .map(|(m, p)| format!("{m} {p}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
fn routes_are_the_templates_api_events() {
    let doc = spec();
    let ours = spec_routes(&doc);
    let theirs = template_routes();
    assert!(!theirs.is_empty(), "no Api event found in template.yaml");
    let ours_set: BTreeSet<Route> = ours.iter().cloned().collect();
    let theirs_set: BTreeSet<Route> = theirs.iter().cloned().collect();
    assert_eq!(
        theirs.len(),
        theirs_set.len(),
        "template.yaml declares a route twice"
    );
    let missing: BTreeSet<Route> = theirs_set.difference(&ours_set).cloned().collect();
    let extra: BTreeSet<Route> = ours_set.difference(&theirs_set).cloned().collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "openapi.yaml and template.yaml disagree.\n  in template.yaml, not in openapi.yaml: [{}]\n  in openapi.yaml, not in template.yaml: [{}]",
        show(&missing),
        show(&extra)
    );
}

#[test]
fn every_operation_is_authenticated_and_errors_use_the_error_schema() {
    let doc = spec();
    let scheme = at(&doc, "/components/securitySchemes/bearerAuth");
    assert_eq!(scheme.get("type").map(str_of).as_deref(), Some("http"));
    assert_eq!(scheme.get("scheme").map(str_of).as_deref(), Some("bearer"));
    assert_eq!(
        scheme.get("bearerFormat").map(str_of).as_deref(),
        Some("JWT")
    );
    let global = at(&doc, "/security")
        .as_sequence()
        .expect("top-level security is a list");
    assert!(
        global.iter().any(|s| s.get("bearerAuth").is_some()),
        "the top-level security must require bearerAuth"
    );
    let mut problems = Vec::new();
    for (method, path, op) in operations(&doc) {
        if path_secret(op) {
            // vivo's receipts: no JWT; the secret in the path authenticates,
            // and an unknown secret is 404 (vivo sees no difference between
            // a wrong and a rotated URL).
            let open = op
                .get("security")
                .and_then(Value::as_sequence)
                .is_some_and(|s| s.is_empty());
            if !open || !status_codes(op, &method, &path).contains("404") {
                problems.push(format!(
                    "{method} {path}: a path-secret route has security: [] and a 404"
                ));
            }
            continue;
        }
        if let Some(sec) = op.get("security") {
            let ok = sec
                .as_sequence()
                .is_some_and(|s| !s.is_empty() && s.iter().all(|r| r.get("bearerAuth").is_some()));
            if !ok {
                problems.push(format!(
                    "{method} {path}: overrides security without bearerAuth"
                ));
            }
        }
        let codes = status_codes(op, &method, &path);
        if !codes.contains("401") {
            problems.push(format!("{method} {path}: no 401 response"));
        }
        if !codes.iter().any(|c| c.starts_with('2')) {
            problems.push(format!("{method} {path}: no 2xx response"));
        }
        for (status, response) in responses(op, &method, &path) {
            let status = str_of(status);
            if !(status.starts_with('4') || status.starts_with('5')) {
                continue;
            }
            let response = resolve(&doc, response);
            let schema = pointer(response, "/content/application~1json/schema");
            let schema_ref = schema.and_then(ref_of);
            if schema_ref != Some("#/components/schemas/Error") {
                problems.push(format!(
                    "{method} {path} {status}: the application/json schema must be $ref '#/components/schemas/Error', found {schema_ref:?}"
                ));
            }
            if status == "429" && pointer(response, "/headers/Retry-After").is_none() {
                problems.push(format!("{method} {path} 429: no Retry-After header"));
            }
        }
        if let Some(created) = responses(op, &method, &path).get("201") {
            if pointer(resolve(&doc, created), "/headers/Location").is_none() {
                problems.push(format!("{method} {path} 201: no Location header"));
            }
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn bodies_declare_400_and_admin_routes_declare_403() {
    let doc = spec();
    let admin: BTreeSet<Route> = ADMIN_ROUTES
        .iter()
        .map(|&(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let mut problems = Vec::new();
    let mut marked_admin = BTreeSet::new();
    for (method, path, op) in operations(&doc) {
        let codes = status_codes(op, &method, &path);
        let route = (method.clone(), path.clone());
        if op.get("requestBody").is_some() {
            if !codes.contains("400") {
                problems.push(format!("{method} {path}: has a request body but no 400"));
            }
            if !codes.contains("413") {
                problems.push(format!("{method} {path}: has a request body but no 413"));
            }
            let body = resolve(&doc, at(op, "/requestBody"));
            let schema = resolve(&doc, at(body, "/content/application~1json/schema"));
            // A vendor's callback body is taken tolerantly (unknown shapes are
            // kept raw), so it alone may allow unknown properties.
            if !path_secret(op) && schema.get("additionalProperties") != Some(&Value::Bool(false)) {
                problems.push(format!(
                    "{method} {path}: the request schema must have additionalProperties: false"
                ));
            }
        }
        if op.get("x-required-role").map(str_of).as_deref() == Some("admin") {
            marked_admin.insert(route.clone());
        }
        if admin.contains(&route) {
            if !codes.contains("403") {
                problems.push(format!("{method} {path}: admin-only but no 403"));
            }
        } else if op.get("x-required-role").map(str_of).as_deref() == Some("user") {
            // The device routes refuse admin tokens (their sub is an operator).
            if !codes.contains("403") {
                problems.push(format!("{method} {path}: user-only but no 403"));
            }
        } else if codes.contains("403") {
            problems.push(format!(
                "{method} {path}: open to any token, yet declares 403"
            ));
        }
        // Every {name} of the path is a declared, required path parameter.
        let item = at(&doc, "/paths").get(path.as_str()).expect("path item");
        let params: Vec<&Value> = item
            .get("parameters")
            .into_iter()
            .chain(op.get("parameters"))
            .filter_map(Value::as_sequence)
            .flatten()
            .map(|p| resolve(&doc, p))
            .collect();
        for seg in path.split('/') {
            let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
                continue;
            };
            let declared = params.iter().any(|p| {
                p.get("in").map(str_of).as_deref() == Some("path")
                    && p.get("name").map(str_of).as_deref() == Some(name)
                    && p.get("required") == Some(&Value::Bool(true))
            });
            if !declared {
                problems.push(format!(
                    "{method} {path}: path parameter {name} is not declared (in: path, required: true)"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    assert_eq!(
        marked_admin, admin,
        "x-required-role: admin must mark exactly the admin routes of API.md"
    );
}

fn int(doc: &Value, ptr: &str) -> u64 {
    at(doc, ptr)
        .as_u64()
        .unwrap_or_else(|| panic!("{ptr} is not an unsigned integer"))
}

fn enum_of(doc: &Value, ptr: &str) -> Vec<String> {
    at(doc, ptr)
        .as_sequence()
        .unwrap_or_else(|| panic!("{ptr} is not a list"))
        .iter()
        .map(str_of)
        .collect()
}

#[test]
fn limits_and_enums_are_the_codes() {
    let doc = spec();
    let s = "/components/schemas";
    let push = format!("{s}/PushRequest/properties");
    let checks: Vec<(String, u64)> = vec![
        (format!("{push}/to/maxItems"), MAX_RECIPIENTS as u64),
        (format!("{push}/title/maxLength"), MAX_TITLE_CHARS as u64),
        (format!("{push}/desc/maxLength"), MAX_DESC_CHARS as u64),
        (format!("{push}/ext/maxLength"), MAX_EXT_BYTES as u64),
        (format!("{push}/ttl_seconds/minimum"), MIN_TTL_SECS as u64),
        (format!("{push}/ttl_seconds/maximum"), MAX_TTL_SECS as u64),
        (
            format!("{push}/ttl_seconds/default"),
            u64::from(DEFAULT_TTL_SECS),
        ),
        (
            format!("{push}/request_id/maxLength"),
            MAX_REQUEST_ID_CHARS as u64,
        ),
        (format!("{push}/notify_id/maximum"), i32::MAX as u64),
        (format!("{s}/UserId/maxLength"), MAX_USER_ID_BYTES as u64),
        (
            format!("{s}/DeviceId/maxLength"),
            MAX_DEVICE_ID_BYTES as u64,
        ),
        (
            format!("{s}/TokenReport/properties/token/maxLength"),
            MAX_TOKEN_BYTES as u64,
        ),
        (format!("{s}/CertificateId/maximum"), MAX_CERTIFICATE_ID),
        (
            format!("{s}/CertificateName/maxLength"),
            MAX_NAME_LEN as u64,
        ),
        (
            format!("{s}/CredentialText/maxLength"),
            MAX_CREDENTIAL_LEN as u64,
        ),
        (
            format!("{s}/OpenUrl/properties/url/maxLength"),
            MAX_SKIP_CONTENT as u64,
        ),
        (
            format!("{s}/OpenPage/properties/intent_uri/maxLength"),
            MAX_SKIP_CONTENT as u64,
        ),
    ];
    let wrong: Vec<String> = checks
        .iter()
        .filter(|(ptr, want)| int(&doc, ptr) != *want)
        .map(|(ptr, want)| {
            format!(
                "{ptr}: {} in openapi.yaml, {want} in the code",
                int(&doc, ptr)
            )
        })
        .collect();
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
    assert_eq!(
        str_of(at(&doc, &format!("{push}/title/default"))),
        DEFAULT_TITLE
    );
    assert!(
        str_of(at(
            &doc,
            "/components/responses/PayloadTooLarge/description"
        ))
        .contains(&MAX_BODY_BYTES.to_string()),
        "the 413 description must give the body limit ({MAX_BODY_BYTES} bytes)"
    );

    let categories: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(enum_of(&doc, &format!("{s}/Category/enum")), categories);

    let statuses: Vec<&str> = DeliveryStatus::ALL.iter().map(|d| d.as_str()).collect();
    assert_eq!(enum_of(&doc, &format!("{s}/DeliveryStatus/enum")), statuses);
    let summary: Vec<String> = at(&doc, &format!("{s}/Summary/properties"))
        .as_mapping()
        .expect("Summary properties")
        .keys()
        .map(str_of)
        .collect();
    assert_eq!(summary, statuses, "Summary counts every status, in order");

    // Every error the code can answer, with its status and code.
    let errors = [
        ServiceError::invalid("f", "x"),
        ServiceError::Unauthenticated("x".into()),
        ServiceError::PermissionDenied("x".into()),
        ServiceError::NotFound("x".into()),
        ServiceError::Conflict("x".into()),
        ServiceError::PayloadTooLarge("x".into()),
        ServiceError::InvalidCredentials {
            field: None,
            message: "x".into(),
        },
        ServiceError::RateLimited {
            message: "x".into(),
            retry_after: Duration::from_secs(1),
        },
        ServiceError::VendorUnavailable {
            message: "x".into(),
            unavailable: false,
        },
        ServiceError::internal("x", std::io::Error::other("x")),
    ];
    let codes: Vec<&str> = errors.iter().map(|e| e.code()).collect();
    assert_eq!(enum_of(&doc, &format!("{s}/ErrorCode/enum")), codes);
    // Each status an operation declares for an error is one the code uses.
    let statuses: BTreeSet<String> = errors.iter().map(|e| e.status().to_string()).collect();
    for (method, path, op) in operations(&doc) {
        for code in status_codes(op, &method, &path) {
            if code.starts_with('4') || code.starts_with('5') {
                assert!(
                    statuses.contains(&code),
                    "{method} {path} declares {code}, which no ServiceError answers"
                );
            }
        }
    }
}

#[test]
fn servers_include_the_local_runner() {
    let doc = spec();
    assert_eq!(str_of(at(&doc, "/openapi")), "3.0.3");
    let urls: Vec<String> = at(&doc, "/servers")
        .as_sequence()
        .expect("servers is a list")
        .iter()
        .map(|s| str_of(at(s, "/url")))
        .collect();
    assert!(
        urls.iter().any(|u| u == "http://127.0.0.1:3000"),
        "servers must list the local runner, found {urls:?}"
    );
    assert!(
        urls.iter().any(|u| u.contains("execute-api")),
        "servers must list the API Gateway URL, found {urls:?}"
    );
}

/// The masks responses carry (a device's token, a certificate's app_secret)
/// match the patterns openapi.yaml declares for them, whatever characters
/// the masked tail holds: a token is opaque (API.md: no charset check beyond
/// 1-512 bytes), so its last characters may be a line break, a NUL, CJK or
/// an emoji. regex-lite's `.` does not match `\n`, as in JSON Schema's
/// ECMA-262 dialect, so a `.` in either pattern fails here.
#[test]
fn masked_values_match_their_declared_patterns() {
    use offpush::domain::certificate::Secret;
    use offpush::domain::PushToken;
    let doc = spec();
    let pattern = |ptr: &str| {
        let p = str_of(at(&doc, ptr));
        regex_lite::Regex::new(&p).unwrap_or_else(|e| panic!("{ptr}: {p:?}: {e}"))
    };
    let token_re = pattern("/components/schemas/Binding/properties/token/pattern");
    let secret_re = pattern(
        "/components/schemas/Certificate/properties/credentials/properties/app_secret/pattern",
    );
    let tails = [
        "pQ9x",
        "ab\ncd",
        "abc\n",
        "\r\n\t\0",
        "a\u{2028}b\u{2029}",
        "令牌尾部",
        "🔔🔕📱📲",
        "x",
    ];
    for tail in tails {
        for head_len in [0usize, 3, 15, 64] {
            let raw = format!("{}{tail}", "r".repeat(head_len));
            let token = PushToken::parse("token", &raw).expect("a token is opaque");
            let shown = token.masked();
            assert!(
                token_re.is_match(&shown),
                "Binding.token pattern {token_re} refuses the mask {shown:?}"
            );
            let secret = Secret::new(raw.clone()).masked();
            assert!(
                secret_re.is_match(&secret),
                "app_secret pattern {secret_re} refuses the mask {secret:?}"
            );
        }
    }
    // The patterns still refuse what no mask is: a longer tail, no stars.
    assert!(!token_re.is_match("****abcde"));
    assert!(!token_re.is_match("abcd"));
    assert!(!secret_re.is_match("****abcd"));
}
