use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use crate::common;
use crate::common::*;
use serde_json::{json, Value};
use vivo_sim::{SimConfig, Simulator};

/// The answer of the binary at `base` to an auth call signed now.
async fn auth_result(base: &str, app_id: u64, app_key: &str, app_secret: &str) -> Value {
    vivo_sim::http_client()
        .post(format!("{base}{AUTH}"))
        .json(&auth_body(app_id, app_key, app_secret, now_ms()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_control_endpoints_drive_the_simulator_over_http() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let url = sim.base_url();
    assert!(url.starts_with("http://127.0.0.1:") && !url.ends_with('/'));

    assert_eq!(
        control(&sim, "health", None).await,
        (200, json!({"status": "ok"}))
    );
    let app = json!({"app_id": APP_ID, "app_key": APP_KEY, "app_secret": APP_SECRET});
    assert_eq!(control(&sim, "apps", Some(app)).await.0, 200);
    let token = token(&sim).await;

    let verdict = json!({"reg_id": "dead", "status": 2});
    assert_eq!(control(&sim, "regids", Some(verdict)).await.0, 200);
    let (_, answer) = send(&sim, &token, "dead").await;
    assert_eq!(
        answer["invalidUser"],
        json!({"status": 2, "userid": "dead"})
    );
    let revived = json!({"reg_id": "dead", "status": 0});
    assert_eq!(control(&sim, "regids", Some(revived)).await.0, 200);
    assert_eq!(send(&sim, &token, "dead").await.1["result"], 0);
    let bad = json!({"reg_id": "x", "status": 5});
    assert_eq!(control(&sim, "regids", Some(bad)).await.0, 400);

    let device = json!({"app_id": APP_ID, "reg_id": "tester"});
    assert_eq!(control(&sim, "test-devices", Some(device)).await.0, 200);
    let test_push = with(message("tester"), "pushMode", json!(1));
    let (_, answer) = post(&sim, SEND, Some(&token), &test_push).await;
    assert_eq!(answer["result"], 0, "{answer}");

    let scripts = [
        json!({"path": "/message/send", "next": true, "action": {"result": 10073, "desc": "quota", "extra": {"x": 1}}}),
        json!({"path": "/message/send", "next": true, "action": {"http_status": 500}}),
        json!({"path": "/message/send", "next": true, "action": {"delay_ms": 10}}),
        json!({"path": "/message/send", "next": true, "action": {"garbage": true}}),
        json!({"path": "/message/send", "next": true, "action": {"expire_token": true}}),
    ];
    for script in scripts {
        assert_eq!(control(&sim, "script", Some(script)).await.0, 200);
    }
    assert_eq!(
        send(&sim, &token, "a").await,
        (200, json!({"result": 10073, "desc": "quota", "x": 1}))
    );
    assert_eq!(
        send(&sim, &token, "a").await,
        (500, json!("Internet server error!"))
    );
    assert_eq!(send(&sim, &token, "a").await.1["result"], 0);
    let (status, garbage) = send(&sim, &token, "a").await;
    assert_eq!(status, 200);
    assert!(garbage.is_string());
    assert_eq!(send(&sim, &token, "a").await.1["result"], 10000);

    let token = common::token(&sim).await;
    let sticky = json!({"path": "/message/send", "next": false, "action": {"http_status": 503}});
    assert_eq!(control(&sim, "script", Some(sticky)).await.0, 200);
    assert_eq!(send(&sim, &token, "a").await.0, 503);
    assert_eq!(send(&sim, &token, "a").await.0, 503);
    let clear = json!({"path": "/message/send", "next": false, "action": null});
    assert_eq!(control(&sim, "script", Some(clear)).await.0, 200);
    assert_eq!(send(&sim, &token, "a").await.1["result"], 0);
    for bad in [
        json!({"path": "/message/send", "next": true, "action": null}),
        json!({"path": "/message/send", "action": {"teapot": true}}),
        json!({"path": "/message/send", "action": {"http_status": 500, "delay_ms": 5}}),
    ] {
        assert_eq!(control(&sim, "script", Some(bad)).await.0, 400);
    }

    let (status, requests) = control(&sim, "requests", None).await;
    assert_eq!(status, 200);
    let requests = requests.as_array().unwrap().clone();
    assert_eq!(requests.len(), sim.requests().len());
    assert!(requests
        .iter()
        .all(|r| !r["path"].as_str().unwrap().starts_with("/_sim")));
    assert_eq!(requests[0]["path"], "/message/auth");
    assert_eq!(requests[0]["status"], 200);
    assert!(requests[0]["response"]["authToken"].is_string());
    let (received, answered) = (&requests[0]["received_ms"], &requests[0]["answered_ms"]);
    assert!(received.as_i64().unwrap() <= answered.as_i64().unwrap());
    assert_eq!(received.as_i64(), Some(sim.requests()[0].received_ms));

    let (_, deliveries) = control(&sim, "deliveries", None).await;
    let deliveries = deliveries.as_array().unwrap().clone();
    assert_eq!(deliveries.len(), sim.deliveries().len());
    assert_eq!(deliveries[0]["reg_id"], "dead");
    assert_eq!(deliveries[0]["via"], "send");
    assert_eq!(deliveries[0]["app_id"], APP_ID);

    assert_eq!(control(&sim, "expire-tokens", Some(json!({}))).await.0, 200);
    assert_eq!(send(&sim, &token, "a").await.1["result"], 10000);

    assert_eq!(control(&sim, "reset", Some(json!({}))).await.0, 200);
    assert_eq!(control(&sim, "requests", None).await.1, json!([]));
    assert_eq!(control(&sim, "deliveries", None).await.1, json!([]));
}

#[test]
fn the_binary_prints_its_address_serves_and_stops_on_sigterm() {
    let secret = "binary-secret-do-not-log";
    let mut child = Command::new(env!("CARGO_BIN_EXE_vivo-sim"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--app",
            &format!("{APP_ID}:{APP_KEY}:{secret}"),
        ])
        .env(
            "VIVO_SIM_APPS",
            format!("{OTHER_APP_ID}:{OTHER_APP_KEY}:{OTHER_APP_SECRET}"),
        )
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");

    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let base = line
        .trim()
        .strip_prefix("vivo-sim listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = vivo_sim::http_client();
        let health = client
            .get(format!("{base}/_sim/health"))
            .send()
            .await
            .unwrap();
        assert!(health.status().is_success());
        let auth = auth_result(&base, APP_ID, APP_KEY, secret).await;
        assert_eq!(auth["result"], 0, "--app is used when given: {auth}");
    });

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    assert!(
        !logs.contains(secret),
        "the secret leaked into the logs: {logs}"
    );
    assert!(logs.contains("vivo call"), "{logs}");
}

#[test]
fn the_binary_reads_apps_from_the_environment() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vivo-sim"))
        .args(["--listen", "127.0.0.1:0"])
        .env(
            "VIVO_SIM_APPS",
            format!(
                "{OTHER_APP_ID}:{OTHER_APP_KEY}:{OTHER_APP_SECRET},{APP_ID}:{APP_KEY}:{APP_SECRET}"
            ),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .trim_start_matches("vivo-sim listening on ")
        .to_owned();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let results = runtime.block_on(async {
        let mut results = Vec::new();
        for (id, key, secret) in [
            (APP_ID, APP_KEY, APP_SECRET),
            (OTHER_APP_ID, OTHER_APP_KEY, OTHER_APP_SECRET),
        ] {
            let answer = auth_result(&base, id, key, secret).await;
            results.push(answer["result"].clone());
        }
        results
    });
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    assert!(child.wait().unwrap().success());
    assert_eq!(results, [json!(0), json!(0)]);
}
