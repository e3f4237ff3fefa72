//! The whole story at TRACE, through the functions' own log filter
//! (`offpush::logs`: the dependencies that print raw events, DynamoDB items
//! or HTTP traffic stay pinned at info), with every log line captured: no
//! vendor secret (vivo AppSecret, Xiaomi AppSecret), signing secret, JWT,
//! vivo authToken, receipt URL secret or whole push token may appear in any
//! of them.

use serde_json::json;
use std::io::Write;
use std::sync::{Arc, Mutex};
use testkit::*;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

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

#[tokio::test]
async fn no_secret_reaches_a_log_line() {
    let capture = Capture::default();
    let writer = capture.clone();
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(move || writer.clone())
                .with_filter(offpush::logs::filter("trace").unwrap()),
        )
        .init();
    let env = TestEnv::new("secrets").await;
    let admin = env.app.admin_token();
    let user = env.app.user_token("alice");
    let token = "regid-0123456789-secret-part";

    let cert = json!({"platform": "vivo", "credentials": {"app_id": VIVO_APP_ID.to_string(), "app_key": VIVO_APP_KEY, "app_secret": VIVO_APP_SECRET}});
    let (s, _) = read(
        cert_upload::handle(
            &env.ctx,
            request("POST", "/v1/certificates", Some(&admin), Some(&cert)),
        )
        .await,
    );
    assert_eq!(s, 201);
    let mut wrong = cert.clone();
    wrong["credentials"]["app_secret"] = json!("another-secret-that-vivo-refuses");
    assert_eq!(
        read(
            cert_upload::handle(
                &env.ctx,
                request("POST", "/v1/certificates", Some(&admin), Some(&wrong))
            )
            .await
        )
        .0,
        422
    );
    let report = json!({"certificate_id": 1, "token": token, "device_id": "phone"});
    assert_eq!(
        read(
            token_report::handle(
                &env.ctx,
                request("PUT", "/v1/push-token", Some(&user), Some(&report))
            )
            .await
        )
        .0,
        200
    );
    env.sim
        .set_reg_id(token, RegIdVerdict::Invalid { status: 2 });
    let (s, r) = read(
        push_dispatch::handle(
            &env.ctx,
            request(
                "POST",
                "/v1/push",
                Some(&admin),
                Some(&json!({"to": ["alice"], "desc": "hi"})),
            ),
        )
        .await,
    );
    assert_eq!(s, 200);
    assert_eq!(r["summary"]["token_invalid"], 1);
    let bad_jwt = format!("{admin}x");
    assert_eq!(
        read(
            push_dispatch::handle(
                &env.ctx,
                request(
                    "POST",
                    "/v1/push",
                    Some(&bad_jwt),
                    Some(&json!({"to": ["a"], "desc": "d"}))
                )
            )
            .await
        )
        .0,
        401
    );
    assert_eq!(
        read(
            token_report::handle(
                &env.ctx,
                request(
                    "DELETE",
                    &format!("/v1/push-token?token={token}"),
                    Some(&user),
                    None
                )
            )
            .await
        )
        .0,
        204
    );
    // Receipts: a certificate answer with its receipt URL, a receipt from
    // vivo, the push record and the push log. The URL's secret is a secret.
    let mut with_receipts = cert.clone();
    with_receipts["receipt_id"] = json!("5001");
    let (s, created) = read(
        cert_upload::handle(
            &env.ctx,
            request(
                "POST",
                "/v1/certificates",
                Some(&admin),
                Some(&with_receipts),
            ),
        )
        .await,
    );
    assert_eq!(s, 201, "{created}");
    let receipt_secret = created["receipt_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let receipt =
        json!({"t1": {"param": "op1.20261201.0123456789abcdef0123456789abcdef", "targets": token}});
    let (s, _) = read(
        push_dispatch::handle(
            &env.ctx,
            request(
                "POST",
                &format!("/v1/receipts/vivo/{receipt_secret}"),
                None,
                Some(&receipt),
            ),
        )
        .await,
    );
    assert_eq!(s, 200);
    for uri in ["/v1/stats", "/v1/users/alice/push-log"] {
        let (s, body) =
            read(push_dispatch::handle(&env.ctx, request("GET", uri, Some(&admin), None)).await);
        assert_eq!(s, 200);
        assert!(
            !body.to_string().contains(token),
            "{uri} shows a whole token"
        );
    }

    // Xiaomi: its AppSecret travels in every call's Authorization header,
    // and its messages carry the receipt URL.
    let xm = json!({"platform": "xiaomi", "credentials": {"app_secret": XIAOMI_APP_SECRET, "package_name": XIAOMI_PACKAGE}, "vendor_options": {"channel_id": XIAOMI_CHANNEL}, "receipts": true});
    let (s, xm_created) = read(
        cert_upload::handle(
            &env.ctx,
            request("POST", "/v1/certificates", Some(&admin), Some(&xm)),
        )
        .await,
    );
    assert_eq!(s, 201, "{xm_created}");
    let xm_receipt_secret = xm_created["receipt_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let mut xm_wrong = xm.clone();
    xm_wrong["credentials"]["app_secret"] = json!("xiaomi-secret-that-xiaomi-refuses");
    let (s, _) = read(
        cert_upload::handle(
            &env.ctx,
            request("POST", "/v1/certificates", Some(&admin), Some(&xm_wrong)),
        )
        .await,
    );
    assert_eq!(s, 422);
    let bob = env.app.user_token("bob");
    let xm_token = "xm-regid-0123456789-secret-tail";
    let xm_cert = xm_created["id"].as_u64().unwrap();
    let report = json!({"certificate_id": xm_cert, "token": xm_token});
    assert_eq!(
        read(
            token_report::handle(
                &env.ctx,
                request("PUT", "/v1/push-token", Some(&bob), Some(&report))
            )
            .await
        )
        .0,
        200
    );
    let (s, r) = read(
        push_dispatch::handle(
            &env.ctx,
            request(
                "POST",
                "/v1/push",
                Some(&admin),
                Some(&json!({"to": ["bob"], "desc": "hi"})),
            ),
        )
        .await,
    );
    assert_eq!((s, r["summary"]["sent"].as_u64()), (200, Some(1)), "{r}");

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("push dispatched"), "logs were captured");
    assert!(logs.contains("****part"), "tokens appear masked");
    let auth_tokens: Vec<String> = env
        .sim
        .requests_to("/message/auth")
        .iter()
        .filter_map(|r| r.response["authToken"].as_str().map(str::to_string))
        .collect();
    assert!(!auth_tokens.is_empty());
    let mut secrets = vec![
        VIVO_APP_SECRET.to_string(),
        "another-secret-that-vivo-refuses".into(),
        env.app.secret.expose().to_string(),
        admin.clone(),
        user.clone(),
        token.to_string(),
        receipt_secret.clone(),
        XIAOMI_APP_SECRET.to_string(),
        "xiaomi-secret-that-xiaomi-refuses".into(),
        xm_token.to_string(),
        xm_receipt_secret.clone(),
        bob.clone(),
    ];
    secrets.extend(auth_tokens);
    for s in &secrets {
        assert!(
            !logs.contains(s.as_str()),
            "a secret reached the logs: {}…",
            &s[..6]
        );
    }
    // The JWT's signature part alone must not appear either.
    let sig = admin.rsplit('.').next().unwrap();
    assert!(!logs.contains(sig));
}
