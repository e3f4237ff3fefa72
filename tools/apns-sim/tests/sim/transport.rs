//! HTTP/2 with prior knowledge, HTTP/1.1, and what the front adds.

use apns_sim::{Settings, CONNECTION_HEADER, GENERATED_ID_HEADER, VERSION_HEADER};

use crate::common::*;

#[tokio::test]
async fn pushes_are_served_over_http2_with_prior_knowledge() {
    let ctx = ctx().await;
    let answer = ctx.send(&ctx.push()).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.version, reqwest::Version::HTTP_2);
    let recorded = &ctx.sim.requests()[0];
    assert_eq!(recorded.headers[VERSION_HEADER], "HTTP/2.0");
    assert!(recorded.headers.contains_key(CONNECTION_HEADER));
    assert_eq!(
        recorded.headers[GENERATED_ID_HEADER],
        answer.apns_id.unwrap(),
        "the generated id is recorded"
    );
    assert_eq!(recorded.status, 200);
}

#[tokio::test]
async fn http1_is_refused_unless_accepted_by_a_setting() {
    let ctx = ctx().await;
    let client = h1();
    let answer = send_with(&client, &ctx.sim.base_url(), &ctx.push()).await;
    assert_eq!(answer.version, reqwest::Version::HTTP_11);
    assert_eq!(answer.status, 505);
    assert!(answer.text.contains("HTTP/2"), "{}", answer.text);
    assert!(ctx.sim.deliveries().is_empty());
    assert_eq!(ctx.sim.requests()[0].headers[VERSION_HEADER], "HTTP/1.1");
    // Control calls are served over HTTP/1.1.
    assert_eq!(control(&ctx.sim, "health", None).await.0, 200);
    ctx.sim.set_settings(Settings {
        refuse_http1: false,
        ..Settings::default()
    });
    let answer = send_with(&client, &ctx.sim.base_url(), &ctx.push()).await;
    assert_eq!(answer.status, 200);
    assert!(answer.apns_id.is_some());
    assert_eq!(ctx.sim.deliveries().len(), 1);
}

#[tokio::test]
async fn control_calls_work_over_http2_and_get_no_apns_id() {
    let ctx = ctx().await;
    let response = ctx
        .client
        .get(format!("{}/_sim/health", ctx.sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("apns-id").is_none());
    let unknown = ctx
        .client
        .get(format!("{}/_sim/nothing", ctx.sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn a_client_cannot_spoof_the_front_s_headers() {
    let ctx = ctx().await;
    let push = ctx
        .push()
        .with(VERSION_HEADER, "HTTP/1.1")
        .with(CONNECTION_HEADER, "999999")
        .with(GENERATED_ID_HEADER, "spoofed");
    let answer = ctx.send(&push).await;
    assert_eq!(answer.status, 200);
    assert_ne!(answer.apns_id.as_deref(), Some("spoofed"));
    assert_ne!(ctx.sim.deliveries()[0].connection, Some(999_999));
}

#[tokio::test]
async fn many_concurrent_pushes_share_one_http2_connection() {
    let ctx = ctx().await;
    let pushes = (0..20u8).map(|n| {
        let push = ctx.push().to(&token(n));
        let client = ctx.client.clone();
        let base = ctx.sim.base_url();
        async move { send_with(&client, &base, &push).await.status }
    });
    let statuses = futures_join(pushes).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let deliveries = ctx.sim.deliveries();
    assert_eq!(deliveries.len(), 20);
    assert!(deliveries
        .iter()
        .all(|d| d.connection == deliveries[0].connection));
}

async fn futures_join<F: std::future::Future<Output = u16> + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<u16> {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}

#[tokio::test]
async fn shutdown_stops_the_front() {
    let ctx = ctx().await;
    ctx.accepted(&ctx.push()).await;
    let base = ctx.sim.base_url();
    ctx.sim.shutdown().await;
    let fresh = h2();
    let result = fresh.get(format!("{base}/_sim/health")).send().await;
    assert!(result.is_err(), "{result:?}");
}
