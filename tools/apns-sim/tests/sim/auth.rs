//! Provider tokens: the JWT's shape, key, signature, claims, age, and how
//! often it may change.

use apns_sim::{Settings, SimClock, TokenScope};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::json;

use crate::common::*;

const T0_MS: i64 = 1_750_000_000_000;
const T0: i64 = T0_MS / 1000;

#[tokio::test]
async fn an_accepted_push_is_200_with_an_empty_body_an_apns_id_and_a_delivery() {
    let ctx = ctx().await;
    let answer = ctx.send(&ctx.push()).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.text, "");
    assert_eq!(answer.content_type, None);
    let id = answer.apns_id.unwrap();
    assert_eq!(id.len(), 36);
    assert_eq!(id, id.to_uppercase(), "generated ids are upper-case UUIDs");
    let deliveries = ctx.sim.deliveries();
    assert_eq!(deliveries.len(), 1);
    let delivery = &deliveries[0];
    assert_eq!(delivery.apns_id, id);
    assert_eq!(delivery.device_token, token(1));
    assert_eq!(delivery.topic, BUNDLE);
    assert_eq!(delivery.team_id, TEAM);
    assert_eq!(delivery.key_id, KID);
    assert_eq!(delivery.push_type.as_deref(), Some("alert"));
    assert_eq!(delivery.priority, Some(10));
    assert_eq!(delivery.expiration, Some(0));
    assert_eq!(delivery.collapse_id.as_deref(), Some("c2c_alice"));
    assert_eq!(delivery.payload, alert_payload());
}

#[tokio::test]
async fn a_given_apns_id_is_answered_back() {
    let ctx = ctx().await;
    let id = "123e4567-e89b-12d3-a456-4266554400a0";
    let answer = ctx.send(&ctx.push().with("apns-id", id)).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.apns_id.as_deref(), Some(id));
    assert_eq!(ctx.sim.deliveries()[0].apns_id, id);
    let refused = ctx
        .send(&ctx.push().with("apns-id", id).without("apns-topic"))
        .await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.apns_id.as_deref(), Some(id), "errors carry it too");
}

#[tokio::test]
async fn a_missing_authorization_is_missing_provider_token() {
    let ctx = ctx().await;
    let reason = ctx.reason(&ctx.push().without("authorization")).await;
    assert_eq!(reason, "MissingProviderToken");
    assert!(ctx.sim.deliveries().is_empty());
}

#[tokio::test]
async fn the_bearer_scheme_is_read_in_any_case() {
    let ctx = ctx().await;
    for scheme in ["bearer", "Bearer", "BEARER"] {
        let auth = format!("{scheme} {}", ctx.jwt);
        ctx.accepted(&ctx.push().with("authorization", &auth)).await;
    }
}

#[tokio::test]
async fn malformed_or_forged_tokens_are_invalid_provider_token() {
    let ctx = ctx().await;
    let now = ctx.sim.now_ms() / 1000;
    let good = ctx.jwt.clone();
    let parts: Vec<&str> = good.split('.').collect();
    let claims =
        |claims: serde_json::Value| sign(&json!({"alg":"ES256","kid":KID}), &claims, key());
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(json!({"iss": TEAM, "iat": now + 1}).to_string()),
        parts[2]
    );
    let cases = [
        format!("Basic {good}"),
        "bearer".to_owned(),
        format!("bearer{good}"),
        format!("bearer {}.{}", parts[0], parts[1]),
        format!("bearer {good}.x"),
        format!("bearer {good}="),
        format!("bearer {tampered}"),
        // Signed by another key under this kid.
        format!("bearer {}", jwt_of(KID, TEAM, now, other_key())),
        // An unknown kid.
        format!("bearer {}", jwt_of("NOSUCHKEY0", TEAM, now, key())),
        // The key's team is not the iss.
        format!("bearer {}", jwt_of(KID, OTHER_TEAM, now, key())),
        format!(
            "bearer {}",
            sign(
                &json!({"alg":"ES384","kid":KID}),
                &json!({"iss":TEAM,"iat":now}),
                key()
            )
        ),
        format!(
            "bearer {}",
            sign(
                &json!({"alg":"ES256"}),
                &json!({"iss":TEAM,"iat":now}),
                key()
            )
        ),
        format!(
            "bearer {}",
            sign(&json!({"kid":KID}), &json!({"iss":TEAM,"iat":now}), key())
        ),
        format!("bearer {}", claims(json!({"iss": TEAM}))),
        format!(
            "bearer {}",
            claims(json!({"iss": TEAM, "iat": now.to_string()}))
        ),
        format!(
            "bearer {}",
            claims(json!({"iss": TEAM, "iat": now as f64 + 0.5}))
        ),
        format!("bearer {}", claims(json!({"iat": now}))),
        format!("bearer {}", claims(json!([TEAM, now]))),
    ];
    for auth in &cases {
        let reason = ctx.reason(&ctx.push().with("authorization", auth)).await;
        assert_eq!(reason, "InvalidProviderToken", "{auth}");
    }
    assert!(ctx.sim.deliveries().is_empty());
}

#[tokio::test]
async fn a_token_expires_after_one_hour() {
    let ctx = ctx().await;
    let jwt = jwt(T0);
    let push = ctx.push().with("authorization", &format!("bearer {jwt}"));
    ctx.sim.set_clock(SimClock::Fixed(T0_MS + 3600 * 1000));
    ctx.accepted(&push).await;
    ctx.sim.set_clock(SimClock::Fixed(T0_MS + 3601 * 1000));
    assert_eq!(ctx.reason(&push).await, "ExpiredProviderToken");
}

#[tokio::test]
async fn iat_may_be_at_most_a_minute_ahead() {
    let ctx = ctx().await;
    ctx.sim.set_clock(SimClock::Fixed(T0_MS));
    let ahead = |secs: i64| {
        let jwt = jwt(T0 + secs);
        ctx.push().with("authorization", &format!("bearer {jwt}"))
    };
    ctx.accepted(&ahead(60)).await;
    // A second connection: a new token on the first would be an update.
    let second = Ctx {
        sim: ctx.sim.clone(),
        client: h2(),
        jwt: String::new(),
    };
    assert_eq!(second.reason(&ahead(61)).await, "InvalidProviderToken");
}

#[tokio::test]
async fn a_key_of_another_team_cannot_push_to_this_team_s_topic() {
    let ctx = ctx().await;
    let now = ctx.sim.now_ms() / 1000;
    let auth = format!("bearer {}", jwt_of(OTHER_KID, OTHER_TEAM, now, other_key()));
    let push = ctx.push().with("authorization", &auth);
    assert_eq!(ctx.reason(&push).await, "TopicDisallowed");
    let fresh = Ctx {
        sim: ctx.sim.clone(),
        client: h2(),
        jwt: String::new(),
    };
    fresh.accepted(&push.with("apns-topic", OTHER_BUNDLE)).await;
}

fn with_token(push: Push, jwt: &str) -> Push {
    push.with("authorization", &format!("bearer {jwt}"))
}

#[tokio::test]
async fn a_new_token_on_a_connection_within_20_minutes_is_too_many_updates() {
    let ctx = ctx().await;
    ctx.sim.set_clock(SimClock::Fixed(T0_MS));
    let first = jwt(T0);
    let second = jwt(T0 + 1);
    ctx.accepted(&with_token(ctx.push(), &first)).await;
    ctx.sim.set_clock(SimClock::Fixed(T0_MS + 1_199_999));
    let (status, reason) = ctx.outcome(&with_token(ctx.push(), &second)).await;
    assert_eq!(
        (status, reason.as_str()),
        (429, "TooManyProviderTokenUpdates")
    );
    // The current token still works on that connection.
    ctx.accepted(&with_token(ctx.push(), &first)).await;
    // Another connection may use another token.
    let other = Ctx {
        sim: ctx.sim.clone(),
        client: h2(),
        jwt: String::new(),
    };
    other.accepted(&with_token(ctx.push(), &second)).await;
    // At 20 minutes the change is accepted and the new token is current.
    ctx.sim.set_clock(SimClock::Fixed(T0_MS + 1_200_000));
    ctx.accepted(&with_token(ctx.push(), &second)).await;
    assert_eq!(
        ctx.reason(&with_token(ctx.push(), &first)).await,
        "TooManyProviderTokenUpdates"
    );
    let connections: Vec<_> = ctx.sim.deliveries().iter().map(|d| d.connection).collect();
    assert_eq!(connections[0], connections[1]);
    assert_ne!(connections[0], connections[2]);
    assert_eq!(connections[0], connections[3]);
}

#[tokio::test]
async fn the_team_scope_counts_updates_across_connections_and_keys() {
    let ctx = ctx().await;
    ctx.sim.set_settings(Settings {
        token_update_scope: TokenScope::Team,
        ..Settings::default()
    });
    ctx.sim.set_clock(SimClock::Fixed(T0_MS));
    ctx.accepted(&with_token(ctx.push(), &jwt(T0))).await;
    let other = Ctx {
        sim: ctx.sim.clone(),
        client: h2(),
        jwt: String::new(),
    };
    let second_key = jwt_of(KID2, TEAM, T0, key2());
    assert_eq!(
        other.reason(&with_token(ctx.push(), &second_key)).await,
        "TooManyProviderTokenUpdates"
    );
    // Another team is another scope.
    let other_team = jwt_of(OTHER_KID, OTHER_TEAM, T0, other_key());
    other
        .accepted(&with_token(ctx.push(), &other_team).with("apns-topic", OTHER_BUNDLE))
        .await;
}

#[tokio::test]
async fn the_team_key_scope_counts_updates_per_key() {
    let ctx = ctx().await;
    ctx.sim.set_settings(Settings {
        token_update_scope: TokenScope::TeamKey,
        ..Settings::default()
    });
    ctx.sim.set_clock(SimClock::Fixed(T0_MS));
    ctx.accepted(&with_token(ctx.push(), &jwt(T0))).await;
    let other = Ctx {
        sim: ctx.sim.clone(),
        client: h2(),
        jwt: String::new(),
    };
    other
        .accepted(&with_token(ctx.push(), &jwt_of(KID2, TEAM, T0, key2())))
        .await;
    assert_eq!(
        other.reason(&with_token(ctx.push(), &jwt(T0 + 1))).await,
        "TooManyProviderTokenUpdates"
    );
}

#[tokio::test]
async fn a_key_that_is_not_p256_pkcs8_is_refused() {
    let sim = start().await;
    let bad = apns_sim::SimKey::new("BADKEY0000", TEAM, "not a pem");
    assert!(sim.add_key(bad.clone()).is_err());
    let mut config = config();
    config.keys.push(bad);
    let error = apns_sim::Simulator::start(config).await.err().unwrap();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
}
