//! `POST /server/v1/auth`, the token's lifetime and how it is sent.

use oppo_sim::{
    CreateTime, Settings, SimClock, AUTH_PATH, SAVE_MESSAGE_PATH, TOKEN_LIFETIME_MS, UNICAST_PATH,
};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn a_signed_auth_answers_a_token_and_its_create_time() {
    let sim = start_at_noon().await;
    let answer = call(&sim, AUTH_PATH, &auth_form(APP_KEY, NOON, MASTER)).await;
    assert_eq!(answer["code"], 0);
    assert_eq!(answer["message"], "success");
    let token = answer["data"]["auth_token"].as_str().unwrap();
    assert!(token.len() >= 16, "{answer}");
    assert_eq!(answer["data"]["create_time"], json!(NOON));
    let tokens = sim.tokens();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].auth_token, token);
    assert_eq!(tokens[0].app_key, APP_KEY);
    assert_eq!(tokens[0].create_time, NOON);

    // The doc example's reading: create_time as a string.
    sim.set_settings(Settings {
        create_time: CreateTime::String,
        ..Settings::default()
    })
    .unwrap();
    let answer = call(&sim, AUTH_PATH, &auth_form(APP_KEY, NOON, MASTER)).await;
    assert_eq!(answer["data"]["create_time"], json!(NOON.to_string()));
}

#[tokio::test]
async fn missing_fields_answer_their_codes_in_order() {
    let sim = start_at_noon().await;
    let full = auth_form(APP_KEY, NOON, MASTER);
    assert_eq!(code(&sim, AUTH_PATH, &form(&[])).await, 15);
    assert_eq!(
        code(&sim, AUTH_PATH, &without(full.clone(), "app_key")).await,
        15
    );
    assert_eq!(
        code(&sim, AUTH_PATH, &with(full.clone(), "app_key", "")).await,
        15
    );
    assert_eq!(
        code(&sim, AUTH_PATH, &without(full.clone(), "timestamp")).await,
        18
    );
    assert_eq!(
        code(&sim, AUTH_PATH, &without(full.clone(), "sign")).await,
        17
    );
    assert_eq!(
        code(&sim, AUTH_PATH, &form(&[("timestamp", "x"), ("sign", "y")])).await,
        15,
        "the app key is checked first"
    );
    assert_eq!(
        code(
            &sim,
            AUTH_PATH,
            &form(&[("app_key", "nobody"), ("sign", "y")])
        )
        .await,
        18
    );
    assert_eq!(
        code(&sim, AUTH_PATH, &with(full.clone(), "app_key", "nobody")).await,
        14
    );
    assert!(sim.tokens().is_empty());
}

#[tokio::test]
async fn the_sign_is_lowercase_sha256_of_key_timestamp_and_master_secret() {
    let sim = start_at_noon().await;
    let ts = NOON.to_string();
    let right = signature(APP_KEY, &ts, MASTER);
    assert_eq!(right, oppo_sim::sign(APP_KEY, &ts, MASTER));
    let base = auth_form(APP_KEY, NOON, MASTER);
    assert_eq!(code(&sim, AUTH_PATH, &base).await, 0);
    for bad in [
        right.to_uppercase(),
        signature(APP_KEY, &ts, OTHER_MASTER),
        signature(&ts, APP_KEY, MASTER),
        signature(APP_KEY, &(NOON - 1).to_string(), MASTER),
        format!("{right} "),
        "0".repeat(64),
    ] {
        assert_eq!(
            code(&sim, AUTH_PATH, &with(base.clone(), "sign", &bad)).await,
            16,
            "{bad}"
        );
    }
    // Another app's key with its own secret works; with ours it does not.
    assert_eq!(
        code(&sim, AUTH_PATH, &auth_form(OTHER_KEY, NOON, OTHER_MASTER)).await,
        0
    );
    assert_eq!(
        code(&sim, AUTH_PATH, &auth_form(OTHER_KEY, NOON, MASTER)).await,
        16
    );
    assert_eq!(sim.tokens().len(), 2);
}

#[tokio::test]
async fn the_timestamp_is_13_digits_within_the_last_10_minutes() {
    let sim = start_at_noon().await;
    let window = 10 * 60 * 1000;
    for (stamp, expected) in [
        (NOON, 0),
        (NOON - window, 0),
        (NOON - window - 1, 19),
        (NOON + 1, 19),
        (NOON - 86_400_000, 19),
    ] {
        assert_eq!(
            code(&sim, AUTH_PATH, &auth_form(APP_KEY, stamp, MASTER)).await,
            expected,
            "{stamp}"
        );
    }
    for text in [
        "1717214400",
        "01717214400000",
        "1717214400000.0",
        "abc",
        "-171721440000",
    ] {
        let signed = form(&[
            ("app_key", APP_KEY),
            ("timestamp", text),
            ("sign", &signature(APP_KEY, text, MASTER)),
        ]);
        assert_eq!(code(&sim, AUTH_PATH, &signed).await, 19, "{text}");
    }

    // A future allowance is a setting.
    let skew = Settings {
        future_skew_ms: 600_000,
        ..Settings::default()
    };
    sim.set_settings(skew).unwrap();
    assert_eq!(
        code(&sim, AUTH_PATH, &auth_form(APP_KEY, NOON + 600_000, MASTER)).await,
        0
    );
    assert_eq!(
        code(&sim, AUTH_PATH, &auth_form(APP_KEY, NOON + 600_001, MASTER)).await,
        19
    );
}

#[tokio::test]
async fn tokens_live_24_hours_by_the_simulators_clock_and_several_are_valid() {
    let sim = start_at_noon().await;
    let first = token(&sim).await;
    sim.set_clock(SimClock::Fixed(NOON + 3_600_000));
    let second = token(&sim).await;
    assert_ne!(first, second);
    assert_eq!(unicast(&sim, &first, &message("r1")).await["code"], 0);
    assert_eq!(unicast(&sim, &second, &message("r1")).await["code"], 0);

    sim.set_clock(SimClock::Fixed(NOON + TOKEN_LIFETIME_MS - 1));
    assert_eq!(unicast(&sim, &first, &message("r1")).await["code"], 0);
    sim.set_clock(SimClock::Fixed(NOON + TOKEN_LIFETIME_MS));
    let expired = unicast(&sim, &first, &message("r1")).await;
    assert_eq!(expired, json!({"code": 11, "message": "Invalid AuthToken"}));
    assert_eq!(unicast(&sim, &second, &message("r1")).await["code"], 0);
    sim.set_clock(SimClock::Fixed(NOON + 3_600_000 + TOKEN_LIFETIME_MS));
    assert_eq!(unicast(&sim, &second, &message("r1")).await["code"], 11);
    assert_eq!(sim.deliveries().len(), 4);
}

#[tokio::test]
async fn a_missing_token_is_29_and_an_unknown_one_11() {
    let sim = start().await;
    let body = form(&[("message", &message("r1").to_string())]);
    let answer = call(&sim, UNICAST_PATH, &body).await;
    assert_eq!(answer, json!({"code": 29, "message": "Missing auth_token"}));
    assert_eq!(
        code(&sim, UNICAST_PATH, &with(body.clone(), "auth_token", "")).await,
        29
    );
    assert_eq!(
        code(&sim, UNICAST_PATH, &with(body, "auth_token", "not-a-token")).await,
        11
    );
    assert!(sim.deliveries().is_empty());
}

#[tokio::test]
async fn the_token_may_come_in_a_header_unless_the_setting_says_no() {
    let sim = start().await;
    let token = token(&sim).await;
    let body = form(&[("message", &message("r1").to_string())]);
    let (status, answer) = post_with(&sim, UNICAST_PATH, &[("auth_token", &token)], &body).await;
    assert_eq!((status, &answer["code"]), (200, &json!(0)), "{answer}");
    // The form field wins over the header.
    let (_, answer) = post_with(
        &sim,
        UNICAST_PATH,
        &[("auth_token", "stale")],
        &with(body.clone(), "auth_token", &token),
    )
    .await;
    assert_eq!(answer["code"], 0);

    // The client that reads it so sends it as a header to save_message_content.
    let saved = form(&[("title", "T"), ("content", "C")]);
    let (_, answer) = post_with(&sim, SAVE_MESSAGE_PATH, &[("auth_token", &token)], &saved).await;
    assert_eq!(answer["code"], 0, "{answer}");

    sim.set_settings(Settings {
        header_token: false,
        ..Settings::default()
    })
    .unwrap();
    let (_, answer) = post_with(&sim, UNICAST_PATH, &[("auth_token", &token)], &body).await;
    assert_eq!(answer["code"], 29);
    let (_, answer) = post_with(&sim, SAVE_MESSAGE_PATH, &[("auth_token", &token)], &saved).await;
    assert_eq!(answer["code"], 29);
    assert_eq!(sim.deliveries().len(), 2);
}

#[tokio::test]
async fn tokens_are_invalidated_on_command() {
    let sim = start().await;
    let mine = token(&sim).await;
    let also_mine = token(&sim).await;
    let theirs = token_of(&sim, OTHER_KEY, OTHER_MASTER).await;
    assert!(sim.invalidate_token(&also_mine));
    assert!(!sim.invalidate_token(&also_mine), "already invalid");
    assert_eq!(unicast(&sim, &also_mine, &message("r1")).await["code"], 11);
    assert_eq!(unicast(&sim, &mine, &message("r1")).await["code"], 0);
    assert_eq!(sim.invalidate_tokens(Some(APP_KEY)), 1);
    assert_eq!(unicast(&sim, &mine, &message("r1")).await["code"], 11);
    assert_eq!(unicast(&sim, &theirs, &message("r1")).await["code"], 0);
    assert_eq!(sim.invalidate_tokens(None), 1);
    assert_eq!(unicast(&sim, &theirs, &message("r1")).await["code"], 11);
    let fresh = token(&sim).await;
    assert_eq!(unicast(&sim, &fresh, &message("r1")).await["code"], 0);
    let listed: Vec<bool> = sim.tokens().iter().map(|t| t.invalidated).collect();
    assert_eq!(listed, [true, true, true, false]);
}

#[tokio::test]
async fn each_token_sends_for_its_own_app() {
    let sim = start().await;
    let theirs = token_of(&sim, OTHER_KEY, OTHER_MASTER).await;
    let answer = unicast(&sim, &theirs, &message("r1")).await;
    let id = answer["data"]["messageId"].as_str().unwrap();
    assert!(id.starts_with(&format!("{OTHER_ID}-1-1-")), "{id}");
    assert_eq!(sim.deliveries()[0].app_key, OTHER_KEY);
}
