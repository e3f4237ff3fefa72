//! App identity and the §15.2 sign.

use meizu_sim::{sign, SimApp, SimClock};
use serde_json::json;

use crate::common::*;

#[test]
fn the_sign_is_md5_of_the_sorted_raw_pairs_and_the_secret() {
    // Worked out by hand (python hashlib): the values are raw, not
    // URL-encoded, and the pairs have no separator.
    let message = r#"{"noticeBarInfo":{"title":"标题 a","content":"x&y=z"}}"#;
    let fields = [
        ("pushIds", "RA50c,J0476"),
        ("sign", "ignored"),
        ("messageJson", message),
        ("appId", "10000"),
    ];
    assert_eq!(
        sign(fields, "appSecretX"),
        "8ffbec816e4fb53d182db7c15f1e48ac"
    );
}

#[tokio::test]
async fn a_signed_call_is_accepted_in_the_documented_envelope() {
    let sim = start().await;
    let answer = send(&sim, &form("pid-a")).await;
    assert_eq!(answer["code"], "200", "{answer}");
    assert_eq!(answer["message"], "");
    assert_eq!(answer["value"], json!({}));
    let msg_id = answer["msgId"].as_str().unwrap();
    assert_eq!(msg_id.len(), 32);
    assert!(msg_id
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    assert_eq!(sim.deliveries().len(), 1);
}

#[tokio::test]
async fn a_wrong_sign_is_refused_with_1006() {
    let sim = start().await;
    let good = form("pid-a");
    let answer = send(
        &sim,
        &with(good.clone(), "sign", "0123456789abcdef0123456789abcdef"),
    )
    .await;
    assert_eq!(answer["code"], "1006");
    assert_eq!(answer["message"], "签名认证失败");
    // Signed with another app's secret, or with a field added afterwards.
    let other = signed_with(without(good.clone(), "sign"), OTHER_SECRET);
    assert_eq!(code(&sim, &other).await, "1006");
    let added = with(good.clone(), "restrictedPackageNames", PACKAGE);
    assert_eq!(code(&sim, &added).await, "1006");
    // URL-encoded values signed instead of raw ones.
    let mut encoded = without(good.clone(), "sign");
    let raw_sign = {
        let escaped: Form = encoded
            .iter()
            .map(|(n, v)| (n.clone(), sim_kit::form::escape(v)))
            .collect();
        sign_of(&escaped, SECRET)
    };
    encoded.push(("sign".to_owned(), raw_sign));
    assert_eq!(code(&sim, &encoded).await, "1006");
    assert!(sim.deliveries().is_empty());
    assert_eq!(code(&sim, &good).await, "200");
}

#[tokio::test]
async fn the_sign_is_lowercase_unless_set_otherwise() {
    let sim = start().await;
    let good = form("pid-a");
    let upper = good
        .iter()
        .find(|(n, _)| n == "sign")
        .unwrap()
        .1
        .to_ascii_uppercase();
    let shouted = with(good, "sign", &upper);
    assert_eq!(code(&sim, &shouted).await, "1006");
    sim.set_settings(meizu_sim::Settings {
        sign_any_case: true,
        ..sim.settings()
    });
    assert_eq!(code(&sim, &shouted).await, "200");
}

#[tokio::test]
async fn empty_fields_are_signed_too() {
    let sim = start().await;
    let signed = signed_with(
        with(
            unsigned("pid-a", &message_json()),
            "restrictedPackageNames",
            "",
        ),
        SECRET,
    );
    assert_eq!(code(&sim, &signed).await, "200");
    // The same body with the sign made without the empty field.
    let unsigned_empty = with(form("pid-a"), "restrictedPackageNames", "");
    assert_eq!(code(&sim, &unsigned_empty).await, "1006");
}

#[tokio::test]
async fn the_app_id_must_be_given_and_known() {
    let sim = start().await;
    let no_id = signed_with(without(form("pid-a"), "appId"), SECRET);
    assert_eq!(code(&sim, &no_id).await, "110004");
    let empty_id = signed_with(with(form("pid-a"), "appId", ""), SECRET);
    assert_eq!(code(&sim, &empty_id).await, "110004");
    let unknown = signed_with(with(form("pid-a"), "appId", "999"), SECRET);
    let answer = send(&sim, &unknown).await;
    assert_eq!(answer["code"], "110000");
    // The other app's id with this app's secret.
    let swapped = signed_with(with(form("pid-a"), "appId", OTHER_APP_ID), SECRET);
    assert_eq!(code(&sim, &swapped).await, "1006");
    let other = signed_with(with(form("pid-a"), "appId", OTHER_APP_ID), OTHER_SECRET);
    assert_eq!(code(&sim, &other).await, "200");
}

#[tokio::test]
async fn a_missing_sign_is_an_empty_parameter() {
    let sim = start().await;
    assert_eq!(code(&sim, &without(form("pid-a"), "sign")).await, "110004");
    assert_eq!(code(&sim, &with(form("pid-a"), "sign", "")).await, "110004");
}

#[tokio::test]
async fn a_blacklisted_app_is_refused_with_110009_after_the_sign() {
    let sim = start().await;
    sim.add_app(SimApp {
        blacklisted: true,
        ..app()
    });
    assert_eq!(code(&sim, &form("pid-a")).await, "110009");
    assert_eq!(code(&sim, &with(form("pid-a"), "sign", "x")).await, "1006");
}

#[tokio::test]
async fn signed_requests_never_expire_and_can_be_replayed() {
    // No timestamp or nonce (§15.2): the same body a year later still passes.
    let sim = start().await;
    let once = form("pid-a");
    sim.set_clock(SimClock::Fixed(1_717_214_400_000));
    assert_eq!(code(&sim, &once).await, "200");
    sim.set_clock(SimClock::Fixed(1_717_214_400_000 + 365 * 86_400_000));
    assert_eq!(code(&sim, &once).await, "200");
    assert_eq!(code(&sim, &once).await, "200");
    let deliveries = sim.deliveries();
    assert_eq!(deliveries.len(), 3);
    assert_ne!(deliveries[1].msg_id, deliveries[2].msg_id);
}
