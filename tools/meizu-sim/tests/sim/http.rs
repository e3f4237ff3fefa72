//! HTTP-level answers: path, method, content type, form syntax, size.

use meizu_sim::PATH;

use crate::common::*;

const FORM: &str = "application/x-www-form-urlencoded;charset=UTF-8";

#[tokio::test]
async fn other_paths_and_methods_are_refused() {
    let sim = start().await;
    let body = encode(&form("a"));
    let (status, _) = raw(
        &sim,
        "POST",
        "/garcia/api/server/push/varnished/pushByAlias",
        &[("content-type", FORM)],
        body.clone(),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = raw(&sim, "GET", PATH, &[], String::new()).await;
    assert_eq!(status, 405);
    let (status, _) = raw(&sim, "PUT", PATH, &[("content-type", FORM)], body).await;
    assert_eq!(status, 405);
    assert!(sim.deliveries().is_empty());
    assert_eq!(sim.requests().len(), 3);
}

#[tokio::test]
async fn the_body_must_be_a_utf8_form() {
    let sim = start().await;
    let body = encode(&form("a"));
    for content_type in [
        "application/x-www-form-urlencoded",
        "Application/X-WWW-Form-URLEncoded; charset=\"utf-8\"",
    ] {
        let (status, text) = raw(
            &sim,
            "POST",
            PATH,
            &[("content-type", content_type)],
            body.clone(),
        )
        .await;
        assert_eq!(status, 200, "{content_type}: {text}");
    }
    for content_type in [
        "application/json",
        "application/x-www-form-urlencoded; charset=GBK",
        "text/plain",
    ] {
        let (status, _) = raw(
            &sim,
            "POST",
            PATH,
            &[("content-type", content_type)],
            body.clone(),
        )
        .await;
        assert_eq!(status, 415, "{content_type}");
    }
    let (status, _) = raw(&sim, "POST", PATH, &[], body).await;
    assert_eq!(status, 415);
    let (status, _) = raw(
        &sim,
        "POST",
        PATH,
        &[("content-type", FORM)],
        "appId=%zz".to_owned(),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = raw(
        &sim,
        "POST",
        PATH,
        &[("content-type", FORM)],
        "x".repeat(5 * 1024 * 1024),
    )
    .await;
    assert_eq!(status, 413);
    assert_eq!(sim.deliveries().len(), 2);
}

#[tokio::test]
async fn calls_are_recorded_with_their_fields() {
    let sim = start().await;
    let sent = form("a");
    send(&sim, &sent).await;
    let recorded = sim.requests_to(PATH);
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].body["appId"], APP_ID);
    assert_eq!(recorded[0].body["pushIds"], "a");
    assert_eq!(recorded[0].response["code"], "200");
}
