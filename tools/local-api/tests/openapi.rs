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

/// Refuses unknown properties: `additionalProperties: false`, or a oneOf
/// whose every branch has it. (An allOf would not do: each of its parts
/// refuses the properties of the others.)
fn closed(doc: &Value, schema: &Value) -> bool {
    if schema.get("additionalProperties") == Some(&Value::Bool(false)) {
        return true;
    }
    schema
        .get("oneOf")
        .and_then(Value::as_sequence)
        .is_some_and(|branches| {
            !branches.is_empty()
                && branches.iter().all(|b| {
                    resolve(doc, b).get("additionalProperties") == Some(&Value::Bool(false))
                })
        })
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
            // kept raw), so it alone may allow unknown properties. A body with
            // one shape per platform is a oneOf whose every branch is closed.
            if !path_secret(op) && !closed(&doc, schema) {
                problems.push(format!(
                    "{method} {path}: the request schema must have additionalProperties: false (or be a oneOf of such schemas)"
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
    let secret_re = pattern("/components/schemas/MaskedSecret/pattern");
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

/// The local runner routes exactly the spec's operations (its table is the
/// one `cargo run -p local-api` and the tests serve).
#[test]
fn routes_are_the_local_runners() {
    let doc = spec();
    let ours: BTreeSet<Route> = spec_routes(&doc).into_iter().collect();
    let runner: BTreeSet<Route> = local_api::ROUTES
        .iter()
        .map(|&(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    let missing: BTreeSet<Route> = runner.difference(&ours).cloned().collect();
    let extra: BTreeSet<Route> = ours.difference(&runner).cloned().collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "openapi.yaml and local_api::ROUTES disagree.\n  in ROUTES, not in openapi.yaml: [{}]\n  in openapi.yaml, not in ROUTES: [{}]",
        show(&missing),
        show(&extra)
    );
}

// ---------------------------------------------------------------------
// Per platform: the certificate schemas against the registry's adapters.
// ---------------------------------------------------------------------

use offpush::domain::input::parse_body;
use offpush::domain::{
    Certificate, CertificateId, CertificateInput, CertificateView, ClickAction, Delivery,
    DeliveryOutcome, NoDeviceReason, Platform, PushMode, Receipts, Secret, UserId, VendorData,
};
use offpush::vendor::{ReceiptStyle, Vendor, Vendors};
use offpush_registry::{Registry, RegistryConfig, ENTRIES};
use serde_json::{json, Map, Value as Json};

/// The unions whose branches are per platform, by `platform`.
const PLATFORM_UNIONS: &[&str] = &["CertificateCreate", "CertificateEdit", "Certificate"];
const REQUEST_UNIONS: &[&str] = &["CertificateCreate", "CertificateEdit"];

/// Every adapter of the registry; the store is never called.
async fn registry() -> Registry {
    let store = offpush::store::Store::for_endpoint("http://127.0.0.1:9", "us-east-1", "t").await;
    Registry::new(&store, &RegistryConfig::default())
}

fn implemented() -> Vec<&'static str> {
    ENTRIES.iter().map(|e| e.platform.as_str()).collect()
}

fn schema<'a>(doc: &'a Value, name: &str) -> &'a Value {
    at(doc, &format!("/components/schemas/{name}"))
}

fn ptr_of_ref(r: &str) -> &str {
    r.strip_prefix('#')
        .unwrap_or_else(|| panic!("only local references are expected, not {r}"))
}

/// The branch of a per-platform union for `platform` (its discriminator's mapping).
fn branch<'a>(doc: &'a Value, union: &str, platform: &str) -> &'a Value {
    let r = pointer(
        schema(doc, union),
        &format!("/discriminator/mapping/{platform}"),
    )
    .map(str_of)
    .unwrap_or_else(|| panic!("{union}: no discriminator mapping for {platform}"));
    at(doc, ptr_of_ref(&r))
}

/// A property of an object schema, `$ref`s followed.
fn prop<'a>(doc: &'a Value, obj: &'a Value, name: &str) -> Option<&'a Value> {
    obj.get("properties")
        .and_then(|p| p.get(name))
        .map(|p| resolve(doc, p))
}

fn prop_names(obj: &Value) -> BTreeSet<String> {
    obj.get("properties")
        .and_then(Value::as_mapping)
        .map(|m| m.keys().map(str_of).collect())
        .unwrap_or_default()
}

fn required_of(obj: &Value) -> BTreeSet<String> {
    obj.get("required")
        .and_then(Value::as_sequence)
        .map(|s| s.iter().map(str_of).collect())
        .unwrap_or_default()
}

/// Properties marked `writeOnly: true` (the secrets a request carries).
fn write_only(obj: &Value) -> BTreeSet<String> {
    obj.get("properties")
        .and_then(Value::as_mapping)
        .map(|m| {
            m.iter()
                .filter(|(_, v)| v.get("writeOnly") == Some(&Value::Bool(true)))
                .map(|(k, _)| str_of(k))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether an object holding exactly `keys` meets the presence rules of
/// `schema`: its `required`, and those under its `allOf`, `anyOf`, `oneOf`
/// and `not` (how the spec says a field needs another, e.g. Xiaomi's
/// `template_id` needing `channel_id`).
fn presence_ok(doc: &Value, schema: &Value, keys: &BTreeSet<String>) -> bool {
    let schema = resolve(doc, schema);
    let list = |k: &str| schema.get(k).and_then(Value::as_sequence);
    required_of(schema).is_subset(keys)
        && list("allOf").is_none_or(|s| s.iter().all(|x| presence_ok(doc, x, keys)))
        && list("anyOf").is_none_or(|s| s.iter().any(|x| presence_ok(doc, x, keys)))
        && list("oneOf").is_none_or(|s| s.iter().filter(|x| presence_ok(doc, x, keys)).count() == 1)
        && schema.get("not").is_none_or(|n| !presence_ok(doc, n, keys))
}

fn to_json(v: &Value) -> Json {
    serde_json::to_value(v).expect("openapi.yaml converts to JSON")
}

/// An object schema's `example`, which must give every property (it is
/// the valid body the parsers are tried with).
fn full_example(obj: &Value, what: &str) -> Map<String, Json> {
    let ex = match obj.get("example").map(to_json) {
        Some(Json::Object(m)) => m,
        other => panic!("{what}: needs an object example, found {other:?}"),
    };
    let keys: BTreeSet<String> = ex.keys().cloned().collect();
    assert_eq!(
        keys,
        prop_names(obj),
        "{what}: the example must give every property"
    );
    ex
}

/// `(key, value)` subsets of an object, every one.
fn subsets(m: &Map<String, Json>) -> Vec<Map<String, Json>> {
    let items: Vec<(&String, &Json)> = m.iter().collect();
    assert!(items.len() < 12, "too many properties to try every subset");
    (0..1usize << items.len())
        .map(|bits| {
            items
                .iter()
                .enumerate()
                .filter(|(i, _)| bits & (1 << i) != 0)
                .map(|(_, (k, v))| ((*k).clone(), (*v).clone()))
                .collect()
        })
        .collect()
}

/// The vendor's parse of a `credentials` (or `vendor_options`) object, as
/// a create (`stored` None) or an edit body holds it.
fn parse_part(
    vendor: &dyn Vendor,
    field: &str,
    body: &Map<String, Json>,
    stored: Option<&VendorData>,
) -> Result<VendorData, offpush::ServiceError> {
    let text = json!({ field: body }).to_string();
    let mut obj = parse_body(text.as_bytes()).expect("a JSON object");
    match field {
        "credentials" => vendor.parse_credentials(obj.req_obj(field).unwrap(), stored),
        "vendor_options" => vendor.parse_options(obj.opt_obj(field).unwrap(), stored),
        other => unreachable!("{other}"),
    }
}

/// The allowed names an unknown-field error lists (`… (allowed: a, b)`).
fn allowed_in(e: &offpush::ServiceError) -> BTreeSet<String> {
    let m = e.to_string();
    let list = m
        .split_once("(allowed: ")
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("an unknown field's error lists the allowed ones: {m:?}"));
    list.split(", ")
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

const UNKNOWN: &str = "zz_not_a_field";

/// The parser refuses an unknown key, naming it, and accepts exactly the
/// schema's properties.
fn accepts_exactly(
    vendor: &dyn Vendor,
    field: &str,
    obj: &Value,
    example: &Map<String, Json>,
    stored: Option<&VendorData>,
    what: &str,
) {
    let mut body = example.clone();
    body.insert(UNKNOWN.into(), json!("x"));
    let e = parse_part(vendor, field, &body, stored)
        .expect_err(&format!("{what}: an unknown key must be refused"));
    assert_eq!(
        e.field(),
        Some(format!("{field}.{UNKNOWN}").as_str()),
        "{what}: {e}"
    );
    assert_eq!(
        allowed_in(&e),
        prop_names(obj),
        "{what}: the parser accepts other names than the schema's properties"
    );
}

/// Every subset of the example's keys is accepted exactly when the schema's
/// presence rules say so; a refusal names a property the subset lacks.
fn subsets_match(
    doc: &Value,
    vendor: &dyn Vendor,
    field: &str,
    obj: &Value,
    example: &Map<String, Json>,
    stored: Option<&VendorData>,
    what: &str,
) {
    for body in subsets(example) {
        let keys: BTreeSet<String> = body.keys().cloned().collect();
        let want = presence_ok(doc, obj, &keys);
        match parse_part(vendor, field, &body, stored) {
            Ok(_) => assert!(
                want,
                "{what}: {keys:?} is accepted by the parser but not by the schema"
            ),
            Err(e) => {
                assert!(
                    !want,
                    "{what}: {keys:?} meets the schema but the parser refuses it: {e}"
                );
                let named = e.field().unwrap_or_default();
                let lacking: Vec<String> = prop_names(obj)
                    .difference(&keys)
                    .map(|k| format!("{field}.{k}"))
                    .collect();
                assert!(
                    lacking.iter().any(|l| l == named),
                    "{what}: {keys:?} is refused naming {named:?}, not a missing property ({lacking:?}): {e}"
                );
            }
        }
    }
}

#[test]
fn the_platform_enum_is_the_registry_and_every_union_has_a_branch_per_platform() {
    let doc = spec();
    let platforms = implemented();
    assert_eq!(
        enum_of(&doc, "/components/schemas/Platform/enum"),
        platforms,
        "Platform must list offpush_registry::ENTRIES, in order"
    );
    let description = str_of(at(&doc, "/components/schemas/Platform/description"));
    for p in Platform::ALL {
        assert!(
            description.contains(&format!("`{p}`")),
            "the Platform description names every platform of API.md; `{p}` is missing"
        );
    }
    for union in PLATFORM_UNIONS {
        let u = schema(&doc, union);
        assert_eq!(
            u.get("discriminator")
                .and_then(|d| d.get("propertyName"))
                .map(str_of)
                .as_deref(),
            Some("platform"),
            "{union}: discriminator.propertyName"
        );
        let mapping: Vec<(String, String)> = at(u, "/discriminator/mapping")
            .as_mapping()
            .expect("a mapping")
            .iter()
            .map(|(k, v)| (str_of(k), str_of(v)))
            .collect();
        let keys: Vec<&str> = mapping.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys, platforms,
            "{union}: one mapping per implemented platform"
        );
        let one_of: Vec<String> = at(u, "/oneOf")
            .as_sequence()
            .expect("oneOf is a list")
            .iter()
            .map(|b| ref_of(b).expect("oneOf branches are $refs").to_string())
            .collect();
        let targets: Vec<String> = mapping.iter().map(|(_, v)| v.clone()).collect();
        assert_eq!(one_of, targets, "{union}: oneOf is the mapping's schemas");
        for (p, _) in &mapping {
            let b = branch(&doc, union, p);
            let platform = b
                .get("properties")
                .and_then(|ps| ps.get("platform"))
                .unwrap_or_else(|| panic!("{union}/{p}: no platform property"));
            assert_eq!(
                enum_of(platform, "/enum"),
                [p.as_str()],
                "{union}/{p}: platform is exactly {p}"
            );
            assert!(required_of(b).contains("platform"), "{union}/{p}");
        }
    }
    let list = at(
        &doc,
        "/components/schemas/CertificateList/properties/certificates/items",
    );
    assert_eq!(ref_of(list), Some("#/components/schemas/Certificate"));
    // The receipt route takes any implemented platform.
    let receipt = at(&doc, "/paths")
        .get("/v1/receipts/{platform}/{receipt_secret}")
        .expect("the receipt route is per platform");
    let param = receipt
        .get("parameters")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .map(|p| resolve(&doc, p))
        .find(|p| p.get("name").map(str_of).as_deref() == Some("platform"))
        .expect("the platform path parameter");
    assert_eq!(
        param.get("schema").and_then(ref_of),
        Some("#/components/schemas/Platform")
    );
}

/// For each implemented platform: the request branches take the fields
/// `CertificateInput` takes (receipt fields as the vendor's receipt style
/// allows), the credential and option schemas are what the vendor's
/// parsers require and accept, its secrets are what its view masks, and
/// the answer branch is what `CertificateView` writes.
#[tokio::test]
async fn certificate_schemas_are_each_vendors_parsers_and_views() {
    let doc = spec();
    let registry = registry().await;
    assert_eq!(
        registry
            .platforms()
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>(),
        implemented()
    );
    // The body fields every platform's body may hold (the shared parser's list).
    let e = CertificateInput::parse(
        parse_body(br#"{"platform":"vivo","zz_not_a_field":1}"#).unwrap(),
        &registry.platforms(),
    )
    .expect_err("an unknown body field is refused");
    let body_fields = allowed_in(&e);
    let name_doc = str_of(at(&doc, "/components/schemas/CertificateName/description"));
    let secret_re = regex_lite::Regex::new(&str_of(at(
        &doc,
        "/components/schemas/MaskedSecret/pattern",
    )))
    .unwrap();
    let mut shared: Option<(String, Value)> = None;

    for entry in ENTRIES {
        let p = entry.platform;
        let vendor = registry.get(p).expect("the registry serves its entries");
        let style = vendor.receipt_style();

        // Request branches: the shared fields, and the receipt fields the style takes.
        for union in REQUEST_UNIONS {
            let b = branch(&doc, union, p.as_str());
            assert_eq!(
                b.get("additionalProperties"),
                Some(&Value::Bool(false)),
                "{union}/{p}"
            );
            let mut want: BTreeSet<String> = body_fields.clone();
            want.insert("platform".into());
            if style != ReceiptStyle::Console {
                want.remove("receipt_id");
            }
            if style == ReceiptStyle::None {
                want.remove("receipts");
            }
            assert_eq!(
                prop_names(b),
                want,
                "{union}/{p}: the body fields ({style:?} receipts)"
            );
            assert_eq!(
                required_of(b),
                ["credentials", "platform"]
                    .map(String::from)
                    .into_iter()
                    .collect(),
                "{union}/{p}"
            );
            // Fields not owned by the vendor are the same schema in every branch.
            let mut common = b
                .get("properties")
                .and_then(Value::as_mapping)
                .unwrap()
                .clone();
            for own in [
                "platform",
                "credentials",
                "vendor_options",
                "receipts",
                "receipt_id",
            ] {
                common.remove(own);
            }
            let common = Value::Mapping(common);
            match &shared {
                None => shared = Some((format!("{union}/{p}"), common)),
                Some((first, v)) => assert_eq!(
                    v, &common,
                    "{union}/{p}: the shared fields differ from {first}'s"
                ),
            }
        }

        // Credentials.
        let create = branch(&doc, "CertificateCreate", p.as_str());
        let edit = branch(&doc, "CertificateEdit", p.as_str());
        let answer = branch(&doc, "Certificate", p.as_str());
        let c_create = prop(&doc, create, "credentials").expect("credentials");
        let c_edit = prop(&doc, edit, "credentials").expect("credentials");
        let c_answer = prop(&doc, answer, "credentials").expect("credentials");
        for (what, s) in [("create", c_create), ("edit", c_edit)] {
            assert_eq!(
                s.get("additionalProperties"),
                Some(&Value::Bool(false)),
                "{p} credentials ({what})"
            );
        }
        assert_eq!(
            prop_names(c_create),
            prop_names(c_edit),
            "{p}: create and edit take the same credential fields"
        );
        let example = full_example(c_create, &format!("{p} credentials"));
        let full = parse_part(vendor, "credentials", &example, None)
            .unwrap_or_else(|e| panic!("{p}: the credentials example is refused: {e}"));
        accepts_exactly(
            vendor,
            "credentials",
            c_create,
            &example,
            None,
            &format!("{p} credentials"),
        );
        subsets_match(
            &doc,
            vendor,
            "credentials",
            c_create,
            &example,
            None,
            &format!("{p} credentials (create)"),
        );
        subsets_match(
            &doc,
            vendor,
            "credentials",
            c_edit,
            &example,
            Some(&full),
            &format!("{p} credentials (edit)"),
        );
        if let Some(ex) = c_edit.get("example").map(to_json) {
            let ex = ex.as_object().cloned().expect("an object example");
            parse_part(vendor, "credentials", &ex, Some(&full))
                .unwrap_or_else(|e| panic!("{p}: the edit credentials example is refused: {e}"));
        }

        // Secrets: what the view masks, declared writeOnly and answered masked.
        let view = vendor.view_credentials(&full);
        let view = view
            .as_object()
            .unwrap_or_else(|| panic!("{p}: the credentials view is an object"));
        assert_eq!(
            view.keys().cloned().collect::<BTreeSet<_>>(),
            prop_names(c_answer),
            "{p}: the answer's credentials are the view's"
        );
        let mut secrets = BTreeSet::new();
        for (k, given) in &example {
            let shown = &view[k.as_str()];
            let Some(given) = given.as_str() else {
                continue;
            };
            let masked = Secret::new(given).masked();
            if shown.as_str() == Some(given) {
                continue;
            }
            assert_eq!(
                shown.as_str(),
                Some(masked.as_str()),
                "{p}: credentials.{k} is answered neither as given nor masked"
            );
            secrets.insert(k.clone());
            let shape = prop(&doc, c_answer, k).unwrap();
            let re = regex_lite::Regex::new(
                &shape
                    .get("pattern")
                    .map(str_of)
                    .unwrap_or_else(|| panic!("{p}: answered credentials.{k} has no pattern")),
            )
            .unwrap();
            assert!(
                re.is_match(&masked) && secret_re.is_match(&masked),
                "{p}: credentials.{k}: {masked:?} does not match its pattern"
            );
        }
        for k in prop_names(c_answer).difference(&secrets) {
            let shape = prop(&doc, c_answer, k).unwrap();
            assert!(
                shape
                    .get("pattern")
                    .map(str_of)
                    .is_none_or(|pat| !pat.starts_with(r"^\*\*\*\*")),
                "{p}: credentials.{k} is answered in full, yet declared masked"
            );
        }
        assert_eq!(
            write_only(c_create),
            secrets,
            "{p}: writeOnly (create) marks exactly the masked credentials"
        );
        assert_eq!(
            write_only(c_edit),
            secrets,
            "{p}: writeOnly (edit) marks exactly the masked credentials"
        );
        assert_eq!(
            required_of(c_edit),
            required_of(c_create)
                .difference(&secrets)
                .cloned()
                .collect(),
            "{p}: an edit may omit exactly the secrets"
        );
        // The fewest credentials: every answered field still shows.
        let least: Map<String, Json> = example
            .iter()
            .filter(|(k, _)| required_of(c_create).contains(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let least = parse_part(vendor, "credentials", &least, None).unwrap();
        let least_view = vendor.view_credentials(&least);
        assert_eq!(
            least_view
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect::<BTreeSet<_>>(),
            required_of(c_answer),
            "{p}: the answer's required credentials are those always shown"
        );
        let default_name = vendor.default_name(&least);
        assert!(
            name_doc.contains(&format!("`{default_name}`")),
            "CertificateName's description must give {p}'s default name `{default_name}`"
        );

        // vendor_options.
        let o_create = prop(&doc, create, "vendor_options").expect("vendor_options");
        let o_edit = prop(&doc, edit, "vendor_options").expect("vendor_options");
        assert_eq!(
            o_create.get("additionalProperties"),
            Some(&Value::Bool(false)),
            "{p} vendor_options"
        );
        // Write-only options (Huawei's receipt callback) are like secret
        // credentials: an edit may give part of them and keep the stored
        // rest, so the edit schema may say less than the create one; both
        // declare the same options.
        assert_eq!(
            prop_names(o_create),
            prop_names(o_edit),
            "{p}: vendor_options on create and edit"
        );
        let o_example = full_example(o_create, &format!("{p} vendor_options"));
        let options = parse_part(vendor, "vendor_options", &o_example, None)
            .unwrap_or_else(|e| panic!("{p}: the vendor_options example is refused: {e}"));
        accepts_exactly(
            vendor,
            "vendor_options",
            o_create,
            &o_example,
            None,
            &format!("{p} vendor_options"),
        );
        for (schema, stored, what) in [
            (o_create, None, "create"),
            (o_edit, Some(&options), "edit over the example"),
        ] {
            subsets_match(
                &doc,
                vendor,
                "vendor_options",
                schema,
                &o_example,
                stored,
                &format!("{p} vendor_options ({what})"),
            );
        }
        match (
            vendor.view_options(&options),
            prop(&doc, answer, "vendor_options"),
        ) {
            (None, None) => {}
            (Some(v), Some(shape)) => assert_eq!(
                v.as_object()
                    .expect("an object")
                    .keys()
                    .cloned()
                    .collect::<BTreeSet<_>>(),
                prop_names(shape),
                "{p}: the answer's vendor_options are the view's"
            ),
            (v, shape) => panic!(
                "{p}: vendor_options answered {v:?}, declared {:?}",
                shape.is_some()
            ),
        }

        // The answer branch is what CertificateView writes: always-present
        // fields required, every field it can write declared.
        let now = std::time::SystemTime::now();
        let cert = |credentials: &VendorData, options: &VendorData, most: bool| Certificate {
            id: CertificateId::new(6666).unwrap(),
            platform: p,
            name: vendor.default_name(credentials),
            credentials: credentials.clone(),
            options: options.clone(),
            click_action: ClickAction::OpenApp,
            category: offpush::domain::Category::Im,
            push_mode: PushMode::Production,
            default_title: most.then(|| "你有一条新消息".to_string()),
            receipt: (most && style != ReceiptStyle::None).then(|| Receipts {
                receipt_id: (style == ReceiptStyle::Console).then(|| "5001".to_string()),
                secret_hash: "0".repeat(64),
                secret: None,
            }),
            created_at: now.into(),
            updated_at: now.into(),
        };
        let answered = |c: &Certificate, receipt_url: bool| -> BTreeSet<String> {
            let mut v = CertificateView::new(
                c,
                vendor.view_credentials(&c.credentials),
                vendor.view_options(&c.options),
            );
            if receipt_url {
                v.receipt_url = Some(format!("https://example.com/v1/receipts/{p}/secret"));
            }
            let v = serde_json::to_value(&v).unwrap();
            assert_eq!(v["platform"], p.as_str());
            v.as_object().unwrap().keys().cloned().collect()
        };
        let fewest = answered(&cert(&least, &VendorData::new(), false), false);
        let most = answered(&cert(&full, &options, true), style != ReceiptStyle::None);
        assert_eq!(
            required_of(answer),
            fewest,
            "Certificate/{p}: required is what every answer holds"
        );
        assert_eq!(
            prop_names(answer),
            most,
            "Certificate/{p}: the properties are what an answer can hold"
        );
    }
}

/// A delivery line and a no-device reason declare every field the code writes.
#[test]
fn delivery_lines_declare_every_field_the_code_writes() {
    let doc = spec();
    let user = UserId::parse("user_id", "alice").unwrap();
    let mut delivery = Delivery::failed("vivo 10302 invalidUser.status=2: app uninstalled");
    delivery.vendor_task_id = Some("716238591038283776".into());
    delivery.retry_after_s = Some(1);
    delivery.vendor_code = Some("10302".into());
    let mut line = DeliveryOutcome::device(
        &user,
        CertificateId::new(6666).unwrap(),
        Some(&offpush::domain::DeviceId::parse("device_id", "d1").unwrap()),
        delivery,
    );
    line.reason = Some(NoDeviceReason::never_reported());
    line.delivery_state = Some("sent".into());
    let written: BTreeSet<String> = serde_json::to_value(&line)
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(
        prop_names(schema(&doc, "DeliveryOutcome")),
        written,
        "DeliveryOutcome's properties are the fields a line can hold"
    );
    let reason = NoDeviceReason {
        code: "kicked".into(),
        at: Some("2026-11-26T10:53:46Z".into()),
        by: Some("admin".into()),
        device_id: Some("d2".into()),
        certificate_id: Some(6666),
    };
    let written: BTreeSet<String> = serde_json::to_value(&reason)
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(prop_names(schema(&doc, "NoDeviceReason")), written);
}
