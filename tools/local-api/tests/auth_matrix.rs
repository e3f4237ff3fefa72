//! The auth matrix: every kind of refused credential against every route of
//! the API, through the function local-api's route table picks. Each
//! request is one that the right caller would have succeeded with (the
//! positive controls at the end prove it), so a refusal is the credential's
//! doing: 401 or 403 as API.md says, no `field`, the token never echoed, the
//! table byte for byte as it was and nothing sent to vivo. An unknown app
//! and a bad signature answer byte for byte alike (status, headers, body).
//! Another app's valid token reaches only its own, empty, namespace.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use lambda_http::{Body, Request, Response};
use local_api::{Dispatch, ROUTES};
use offpush::auth::{mint, mint_for, new_signing_secret, sign, Claims};
use offpush::domain::{ClickAction, PushMode, Secret};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;
use testkit::*;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    /// Routes that take an admin token.
    Admin,
    /// Routes that take a user token (alice's own devices).
    User,
}

struct Call {
    method: &'static str,
    path: &'static str,
    body: Option<Value>,
    kind: Kind,
}

/// One request per route, each one that succeeds for the right caller.
fn calls() -> Vec<Call> {
    let cert = json!({
        "platform": "vivo",
        "credentials": {"app_id": VIVO_APP_ID.to_string(), "app_key": VIVO_APP_KEY, "app_secret": VIVO_APP_SECRET},
    });
    let c = |method, path, body, kind| Call {
        method,
        path,
        body,
        kind,
    };
    vec![
        c("GET", "/v1/certificates", None, Kind::Admin),
        c("GET", "/v1/certificates/1", None, Kind::Admin),
        c("GET", "/v1/users/alice/devices", None, Kind::Admin),
        c("GET", "/v1/stats", None, Kind::Admin),
        c("GET", "/v1/users/alice/push-log", None, Kind::Admin),
        c(
            "PUT",
            "/v1/certificates/1?verify=false",
            Some(cert.clone()),
            Kind::Admin,
        ),
        c(
            "PUT",
            "/v1/push-token",
            Some(
                json!({"certificate_id": 1, "token": "regid-alice-new-0123456789", "device_id": "phone-2"}),
            ),
            Kind::User,
        ),
        c(
            "POST",
            "/v1/push",
            Some(json!({"to": ["alice"], "title": "通知", "desc": "你好", "request_id": "msg-1"})),
            Kind::Admin,
        ),
        c("GET", "/v1/pushes/msg-1", None, Kind::Admin),
        c(
            "DELETE",
            "/v1/push-token?device_id=phone-1",
            None,
            Kind::User,
        ),
        c("POST", "/v1/users/alice/logout", None, Kind::Admin),
        c(
            "POST",
            "/v1/certificates?verify=false",
            Some(cert),
            Kind::Admin,
        ),
        c("DELETE", "/v1/certificates/1", None, Kind::Admin),
    ]
}

fn request(call: &Call, authorization: Option<&str>) -> Request {
    let mut b = lambda_http::http::Request::builder()
        .method(call.method)
        .uri(format!("https://api.offpush.local{}", call.path));
    if let Some(a) = authorization {
        b = b.header("authorization", a);
    }
    let body = match &call.body {
        Some(v) => {
            b = b.header("content-type", "application/json");
            Body::Text(v.to_string())
        }
        None => Body::Empty,
    };
    b.body(body).unwrap()
}

async fn send(dispatch: &Dispatch, call: &Call, authorization: Option<&str>) -> Response<Body> {
    let method: http::Method = call.method.parse().unwrap();
    let path = call.path.split('?').next().unwrap();
    let route = local_api::route(&method, path).expect("a route");
    dispatch(route.function, request(call, authorization)).await
}

/// Status, every header, and the body, exactly (as text: both are JSON or
/// ASCII here, and a failing comparison then reads well).
fn exact(resp: &Response<Body>) -> (u16, Vec<(String, String)>, String) {
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = match resp.body() {
        Body::Text(t) => t.clone(),
        Body::Binary(b) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    };
    (resp.status().as_u16(), headers, body)
}

fn b64(v: &str) -> String {
    URL_SAFE_NO_PAD.encode(v)
}

/// Claims JSON for `iss`, `sub` (alice for user routes, ops for admin ones).
fn claims(iss: &str, kind: Kind, exp: i64) -> Claims {
    Claims {
        iss: iss.into(),
        sub: if kind == Kind::Admin { "ops" } else { "alice" }.into(),
        exp,
        nbf: None,
        iat: Some(now()),
        role: (kind == Kind::Admin).then(|| "admin".into()),
    }
}

fn raw_claims(kind: Kind, edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v = serde_json::to_value(claims("demo", kind, now() + 600)).unwrap();
    edit(&mut v);
    serde_json::to_vec(&v).unwrap()
}

const HS256: &[u8] = br#"{"alg":"HS256","typ":"JWT"}"#;

/// One refused credential: a name, the Authorization header for a route of
/// `kind` (None: no header), the status it must get, and the kinds of
/// route it applies to.
type Credential<'a> = (
    &'a str,
    Box<dyn Fn(Kind) -> Option<String> + 'a>,
    u16,
    &'a [Kind],
);
/// Two tokens alike but for their app: this one's, and one that does not exist.
type TokenPair<'a> = Box<dyn Fn(Kind) -> (String, String) + 'a>;
const ALL: &[Kind] = &[Kind::Admin, Kind::User];

#[tokio::test]
async fn every_refused_credential_on_every_route_is_401_or_403_and_changes_nothing() {
    let env = TestEnv::new("auth-matrix").await;
    env.add_certificate(ClickAction::OpenApp, PushMode::Production)
        .await;
    env.bind(1, "alice", "regid-alice-0123456789abcdef", Some("phone-1"))
        .await;
    let rival = env.other_app("rival").await;
    let dispatch = local_api::handlers(Arc::new(env.ctx.clone()));
    let demo = env.app.clone();
    let stranger = new_signing_secret();
    let ghost_secret = new_signing_secret();

    // Every route of the API is in `calls`.
    // All but vivo's receipt route, which takes no JWT: the secret in its
    // path authenticates (push-dispatch tests/visibility.rs refuses others).
    let routes: BTreeSet<String> = ROUTES
        .iter()
        .map(|(m, p, _)| format!("{m} {p}"))
        .filter(|r| !r.starts_with("POST /v1/receipts/"))
        .collect();
    let called: BTreeSet<String> = calls()
        .iter()
        .map(|c| {
            let m: http::Method = c.method.parse().unwrap();
            local_api::route(&m, c.path.split('?').next().unwrap())
                .unwrap()
                .route_key
        })
        .collect();
    assert_eq!(called, routes, "every route has a call in the matrix");

    let good = |kind: Kind| mint(&demo.secret, &claims("demo", kind, now() + 600));
    let bearer = |t: String| Some(format!("Bearer {t}"));
    let signed = |secret: &Secret, header: &[u8], payload: Vec<u8>| sign(secret, header, &payload);
    let with_header = |kind: Kind, header: &str| {
        let t = good(kind);
        let (_, rest) = t.split_once('.').unwrap();
        format!("{}.{rest}", b64(header))
    };
    let credentials: Vec<Credential> = vec![
        ("no Authorization header", Box::new(|_| None), 401, ALL),
        (
            "Basic scheme",
            Box::new(|_| Some("Basic b3BzOnNlY3JldA==".into())),
            401,
            ALL,
        ),
        (
            "another scheme around a valid token",
            Box::new(|k| Some(format!("Token {}", good(k)))),
            401,
            ALL,
        ),
        (
            "a valid token without a scheme",
            Box::new(|k| Some(good(k))),
            401,
            ALL,
        ),
        (
            "Bearer without a token",
            Box::new(|_| Some("Bearer".into())),
            401,
            ALL,
        ),
        (
            "Bearer and blanks",
            Box::new(|_| Some("Bearer    ".into())),
            401,
            ALL,
        ),
        (
            "not a JWT",
            Box::new(|_| bearer("not-a-jwt".into())),
            401,
            ALL,
        ),
        ("two parts", Box::new(|_| bearer("a.b".into())), 401, ALL),
        (
            "four parts",
            Box::new(|_| bearer("a.b.c.d".into())),
            401,
            ALL,
        ),
        (
            "not base64url",
            Box::new(|_| bearer("!!!.###.$$$".into())),
            401,
            ALL,
        ),
        (
            "payload not JSON",
            Box::new(|_| {
                bearer(format!(
                    "{}.{}.c2ln",
                    b64("{\"alg\":\"HS256\"}"),
                    b64("nope")
                ))
            }),
            401,
            ALL,
        ),
        (
            "over 4096 characters",
            Box::new(|_| bearer("x".repeat(5000))),
            401,
            ALL,
        ),
        (
            "alg none, no signature",
            Box::new(|k| {
                let t = with_header(k, r#"{"alg":"none","typ":"JWT"}"#);
                bearer(format!("{}.", t.rsplit_once('.').unwrap().0))
            }),
            401,
            ALL,
        ),
        (
            "alg none, signature kept",
            Box::new(|k| bearer(with_header(k, r#"{"alg":"none","typ":"JWT"}"#))),
            401,
            ALL,
        ),
        (
            "alg RS256, HMAC-signed with the app's secret",
            Box::new(|k| {
                bearer(signed(
                    &demo.secret,
                    br#"{"alg":"RS256","typ":"JWT"}"#,
                    serde_json::to_vec(&claims("demo", k, now() + 600)).unwrap(),
                ))
            }),
            401,
            ALL,
        ),
        (
            "alg HS512",
            Box::new(|k| bearer(with_header(k, r#"{"alg":"HS512","typ":"JWT"}"#))),
            401,
            ALL,
        ),
        (
            "no alg",
            Box::new(|k| bearer(with_header(k, r#"{"typ":"JWT"}"#))),
            401,
            ALL,
        ),
        (
            "signed with another secret",
            Box::new(|k| bearer(mint(&stranger, &claims("demo", k, now() + 600)))),
            401,
            ALL,
        ),
        (
            "payload changed after signing",
            Box::new(|k| {
                let t = good(k);
                let parts: Vec<&str> = t.split('.').collect();
                let forged = serde_json::to_vec(&claims("demo", k, now() + 99_999)).unwrap();
                bearer(format!(
                    "{}.{}.{}",
                    parts[0],
                    URL_SAFE_NO_PAD.encode(forged),
                    parts[2]
                ))
            }),
            401,
            ALL,
        ),
        (
            "signature truncated",
            Box::new(|k| {
                let t = good(k);
                bearer(t[..t.len() - 4].to_string())
            }),
            401,
            ALL,
        ),
        (
            "expired beyond the skew",
            Box::new(|k| bearer(mint(&demo.secret, &claims("demo", k, now() - 120)))),
            401,
            ALL,
        ),
        (
            "nbf an hour ahead",
            Box::new(|k| {
                let mut c = claims("demo", k, now() + 7200);
                c.nbf = Some(now() + 3600);
                bearer(mint(&demo.secret, &c))
            }),
            401,
            ALL,
        ),
        (
            "exp missing",
            Box::new(|k| {
                bearer(signed(
                    &demo.secret,
                    HS256,
                    raw_claims(k, |v| {
                        v.as_object_mut().unwrap().remove("exp");
                    }),
                ))
            }),
            401,
            ALL,
        ),
        (
            "exp a string",
            Box::new(|k| {
                bearer(signed(
                    &demo.secret,
                    HS256,
                    raw_claims(k, |v| v["exp"] = json!("9999999999")),
                ))
            }),
            401,
            ALL,
        ),
        (
            "iss missing",
            Box::new(|k| {
                bearer(signed(
                    &demo.secret,
                    HS256,
                    raw_claims(k, |v| {
                        v.as_object_mut().unwrap().remove("iss");
                    }),
                ))
            }),
            401,
            ALL,
        ),
        (
            "iss not an app id",
            Box::new(|k| bearer(mint(&demo.secret, &claims("de mo", k, now() + 600)))),
            401,
            ALL,
        ),
        (
            "sub missing",
            Box::new(|k| {
                bearer(signed(
                    &demo.secret,
                    HS256,
                    raw_claims(k, |v| {
                        v.as_object_mut().unwrap().remove("sub");
                    }),
                ))
            }),
            401,
            ALL,
        ),
        (
            "sub with NUL",
            Box::new(|k| {
                let mut c = claims("demo", k, now() + 600);
                c.sub = "ali\u{0}ce".into();
                bearer(mint(&demo.secret, &c))
            }),
            401,
            ALL,
        ),
        (
            "sub over 128 bytes",
            Box::new(|k| {
                let mut c = claims("demo", k, now() + 600);
                c.sub = "用".repeat(43);
                bearer(mint(&demo.secret, &c))
            }),
            401,
            ALL,
        ),
        (
            "role neither admin nor absent",
            Box::new(|k| {
                let mut c = claims("demo", k, now() + 600);
                c.role = Some("root".into());
                bearer(mint(&demo.secret, &c))
            }),
            401,
            ALL,
        ),
        (
            "unknown app",
            Box::new(|k| bearer(mint(&ghost_secret, &claims("ghost", k, now() + 600)))),
            401,
            ALL,
        ),
        (
            "another app's iss, signed with this app's secret",
            Box::new(|k| bearer(mint(&demo.secret, &claims("rival", k, now() + 600)))),
            401,
            ALL,
        ),
        (
            "this app's iss, signed with another app's secret",
            Box::new(|k| bearer(mint(&rival.secret, &claims("demo", k, now() + 600)))),
            401,
            ALL,
        ),
        (
            "a user token on an admin route",
            Box::new(|_| bearer(good(Kind::User))),
            403,
            &[Kind::Admin],
        ),
        (
            "another user (bob) acting on alice through the admin routes",
            Box::new(|_| bearer(mint_for(&demo.secret, &demo.id, "bob", false, now(), 600))),
            403,
            &[Kind::Admin],
        ),
        (
            "an admin token on a user route",
            Box::new(|_| bearer(good(Kind::Admin))),
            403,
            &[Kind::User],
        ),
    ];

    let before = env.table_items().await;
    let mut failures = Vec::new();
    let mut cells = 0;
    for (name, credential, want, applies) in &credentials {
        for call in calls().into_iter().filter(|c| applies.contains(&c.kind)) {
            let auth = credential(call.kind);
            let resp = send(&dispatch, &call, auth.as_deref()).await;
            let (status, body) = read(resp);
            let want = *want;
            let code = if want == 401 {
                "unauthenticated"
            } else {
                "permission_denied"
            };
            let mut wrong = Vec::new();
            if status != want || body["error"]["code"] != code {
                wrong.push(format!("{status} {}", body["error"]["code"]));
            }
            if body["error"].get("field").is_some() {
                wrong.push("names a field".into());
            }
            if let Some(a) = &auth {
                let token = a.rsplit(' ').next().unwrap_or(a);
                if token.len() > 8 && body.to_string().contains(token) {
                    wrong.push("echoes the token".into());
                }
            }
            if env.table_items().await != before {
                wrong.push("the table changed".into());
            }
            if !env.sim.requests().is_empty() {
                wrong.push("vivo was called".into());
            }
            if !wrong.is_empty() {
                failures.push(format!(
                    "{name} on {} {}: {} (body {body})",
                    call.method,
                    call.path,
                    wrong.join("; ")
                ));
            }
            cells += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(cells > 300, "{cells} cells");

    // An unknown app and a bad signature: byte for byte the same answer, on
    // every route, whatever else is wrong with the token.
    let pairs: Vec<(&str, TokenPair)> = vec![
        (
            "bad signature / unknown app",
            Box::new(|k| {
                (
                    mint(&stranger, &claims("demo", k, now() + 600)),
                    mint(&ghost_secret, &claims("ghost", k, now() + 600)),
                )
            }),
        ),
        (
            "expired with a wrong key",
            Box::new(|k| {
                (
                    mint(&stranger, &claims("demo", k, now() - 3600)),
                    mint(&ghost_secret, &claims("ghost", k, now() - 3600)),
                )
            }),
        ),
        (
            "alg none",
            Box::new(|k| {
                let none = |iss: &str| {
                    format!(
                        "{}.{}.c2ln",
                        b64(r#"{"alg":"none"}"#),
                        URL_SAFE_NO_PAD
                            .encode(serde_json::to_vec(&claims(iss, k, now() + 600)).unwrap())
                    )
                };
                (none("demo"), none("ghost"))
            }),
        ),
    ];
    for (name, pair) in &pairs {
        for call in calls() {
            let (known, unknown) = pair(call.kind);
            let a = exact(&send(&dispatch, &call, Some(&format!("Bearer {known}"))).await);
            let b = exact(&send(&dispatch, &call, Some(&format!("Bearer {unknown}"))).await);
            assert_eq!(a.0, 401, "{name} on {} {}", call.method, call.path);
            assert_eq!(a, b, "{name} on {} {}", call.method, call.path);
        }
    }
    assert_eq!(env.table_items().await, before);

    // Another app's valid tokens reach only that app's own namespace:
    // nothing of this app is read or changed.
    let theirs = |kind: Kind| match kind {
        Kind::Admin => format!("Bearer {}", rival.admin_token()),
        Kind::User => format!("Bearer {}", rival.user_token("alice")),
    };
    let ours = |items: Vec<Item>| -> Vec<Item> {
        items
            .into_iter()
            .filter(|i| {
                ![
                    "APP#rival",
                    "CERT#rival",
                    "USER#rival#",
                    "TOKEN#rival#",
                    "PUSH#rival#",
                    "STATS#rival",
                ]
                .iter()
                .any(|p| item_pk(i).starts_with(p))
            })
            .collect()
    };
    let expected_cross: [(u16, &str); 13] = [
        (200, r#""certificates":[]"#),
        (404, "not_found"),
        (200, r#""devices":[]"#),
        (200, r#""pushes":0"#),
        (200, r#""entries":[]"#),
        (404, "not_found"),
        (404, "not_found"),
        (200, "no_device"),
        (200, "no_device"),
        (204, ""),
        (204, ""),
        (201, ""),
        (204, ""),
    ];
    for (call, (status, text)) in calls().iter().zip(expected_cross) {
        if call.method == "POST" && call.path.starts_with("/v1/certificates") {
            // Creating its own certificate 1 is the rival's right; its delete is next.
            let resp = send(&dispatch, call, Some(&theirs(call.kind))).await;
            assert_eq!(resp.status().as_u16(), status);
            continue;
        }
        let (s, body) = read(send(&dispatch, call, Some(&theirs(call.kind))).await);
        assert_eq!(s, status, "rival on {} {}: {body}", call.method, call.path);
        assert!(
            body.to_string().contains(text) || body.is_null(),
            "rival on {} {}: {body}",
            call.method,
            call.path
        );
        assert_eq!(
            ours(env.table_items().await),
            ours(before.clone()),
            "rival on {} {} touched this app's items",
            call.method,
            call.path
        );
    }
    assert!(env.sim.requests().is_empty(), "nothing was sent to vivo");

    // Positive controls: each request of the matrix succeeds for the right caller.
    for call in calls() {
        let t = match call.kind {
            Kind::Admin => demo.admin_token(),
            Kind::User => demo.user_token("alice"),
        };
        let (s, body) = read(send(&dispatch, &call, Some(&format!("Bearer {t}"))).await);
        assert!(
            (200..300).contains(&s),
            "{} {} with the right token: {s} {body}",
            call.method,
            call.path
        );
        if call.path == "/v1/push" {
            assert_eq!(body["summary"]["sent"], 1, "{body}");
        }
    }
}
