//! Channels (27001) and templates (§1.6).

use serde_json::json;
use xiaomi_sim::{Channel, SimApp, Template, TemplateRule};

use crate::common::*;

fn channel_app(rule: TemplateRule, templates: Vec<Template>) -> SimApp {
    SimApp {
        channels: vec![Channel::public("pub-1"), Channel::private("im-1")],
        template_rule: rule,
        templates,
        ..app()
    }
}

fn on(channel: &str) -> Form {
    with(message("reg-a"), "extra.channel_id", channel)
}

fn templated(form: Form, id: &str, param: &str) -> Form {
    with(
        with(form, "extra.template_id", id),
        "extra.template_param",
        param,
    )
}

#[tokio::test]
async fn without_channels_any_channel_id_passes() {
    let sim = start().await;
    assert_eq!(code(&sim, &message("reg-a")).await, 0);
    assert_eq!(code(&sim, &on("anything")).await, 0);
}

#[tokio::test]
async fn an_app_with_channels_needs_one_of_them() {
    let sim = start().await;
    sim.add_app(channel_app(TemplateRule::Off, vec![]));
    assert_eq!(code(&sim, &message("reg-a")).await, 27001);
    assert_eq!(code(&sim, &on("pub-2")).await, 27001);
    assert_eq!(code(&sim, &on("PUB-1")).await, 27001);
    assert_eq!(code(&sim, &on("pub-1")).await, 0);
    assert_eq!(code(&sim, &on("im-1")).await, 0);
    let deliveries = sim.deliveries();
    assert_eq!(deliveries[1].channel_id.as_deref(), Some("im-1"));
}

#[tokio::test]
async fn private_channels_need_a_template_under_the_2026_rule() {
    let sim = start().await;
    sim.add_app(channel_app(TemplateRule::PrivateChannels, vec![]));
    let param = r#"{"name":"Alice","text":"你好"}"#;
    assert_eq!(code(&sim, &on("im-1")).await, 10016);
    assert_eq!(code(&sim, &on("pub-1")).await, 0);
    assert_eq!(code(&sim, &templated(on("im-1"), "tpl-1", param)).await, 0);
    let missing_param = with(on("im-1"), "extra.template_id", "tpl-1");
    assert_eq!(code(&sim, &missing_param).await, 10016);
    let missing_id = with(on("im-1"), "extra.template_param", param);
    assert_eq!(code(&sim, &missing_id).await, 10016);
    let delivery = sim.deliveries().pop().unwrap();
    assert_eq!(delivery.template_id.as_deref(), Some("tpl-1"));
    assert_eq!(delivery.template_param.as_deref(), Some(param));

    sim.add_app(channel_app(TemplateRule::Always, vec![]));
    assert_eq!(code(&sim, &on("pub-1")).await, 10016);
    assert_eq!(code(&sim, &templated(on("pub-1"), "tpl-1", param)).await, 0);
}

#[tokio::test]
async fn template_params_follow_the_variable_rules() {
    let sim = start().await;
    let nine: serde_json::Map<_, _> = (0..9).map(|i| (format!("v{i}"), json!("x"))).collect();
    let ten: serde_json::Map<_, _> = (0..10).map(|i| (format!("v{i}"), json!("x"))).collect();
    let value = |text: &str| json!({ "name": text }).to_string();
    let cases = [
        (json!(nine).to_string(), 0),
        (json!(ten).to_string(), 10017),
        (value(&"a".repeat(128)), 0),
        (value(&"文".repeat(128)), 0),
        (value(&"a".repeat(129)), 10017),
        (value(""), 10017),
        (value("   "), 10017),
        (value("Hi 😀"), 10017),
        (value("I ❤ you"), 10017),
        (value("☎ call"), 10017),
        (value("©2026"), 10017),
        (value("ok\u{FE0F}"), 10017),
        (value("你好，Alice！"), 0),
        (json!({ "name": 5 }).to_string(), 10017),
        (json!({ "name": null }).to_string(), 10017),
        (json!(["Alice"]).to_string(), 10017),
        ("not json".to_owned(), 10017),
    ];
    for (param, expected) in cases {
        let form = templated(message("reg-a"), "tpl-1", &param);
        assert_eq!(code(&sim, &form).await, expected, "{param}");
    }
}

#[tokio::test]
async fn known_templates_fix_the_ids_and_variables() {
    let sim = start().await;
    let templates = vec![Template {
        id: "tpl-chat".to_owned(),
        variables: vec!["sender".to_owned(), "preview".to_owned()],
    }];
    sim.add_app(channel_app(TemplateRule::PrivateChannels, templates));
    let right = r#"{"sender":"Alice","preview":"在吗"}"#;
    assert_eq!(
        code(&sim, &templated(on("im-1"), "tpl-chat", right)).await,
        0
    );
    assert_eq!(
        code(&sim, &templated(on("im-1"), "tpl-other", right)).await,
        10017
    );
    for wrong in [
        r#"{"sender":"Alice"}"#,
        r#"{"sender":"Alice","preview":"在吗","extra":"x"}"#,
        r#"{"from":"Alice","preview":"在吗"}"#,
    ] {
        assert_eq!(
            code(&sim, &templated(on("im-1"), "tpl-chat", wrong)).await,
            10017,
            "{wrong}"
        );
    }
}

#[tokio::test]
async fn channels_and_templates_can_be_registered_over_http() {
    let sim = start().await;
    let app = json!({
        "app_secret": SECRET,
        "package_name": PACKAGE,
        "channels": [{"id": "im-1", "private": true}, {"id": "pub-1"}],
        "template_rule": "private_channels",
        "templates": [{"id": "tpl-chat", "variables": ["sender"]}],
    });
    assert_eq!(control(&sim, "apps", Some(app)).await.0, 200);
    assert_eq!(code(&sim, &message("reg-a")).await, 27001);
    assert_eq!(code(&sim, &on("im-1")).await, 10016);
    let form = templated(on("im-1"), "tpl-chat", r#"{"sender":"Alice"}"#);
    assert_eq!(code(&sim, &form).await, 0);
    assert_eq!(code(&sim, &on("pub-1")).await, 0);
    for bad in [
        json!({"app_secret": SECRET}),
        json!({"app_secret": SECRET, "package_name": PACKAGE, "template_rule": "sometimes"}),
        json!({"app_secret": SECRET, "package_name": PACKAGE, "channels": [{"name": "x"}]}),
        json!({"app_secret": SECRET, "package_name": PACKAGE, "colour": "red"}),
    ] {
        assert_eq!(
            control(&sim, "apps", Some(bad.clone())).await.0,
            400,
            "{bad}"
        );
    }
}
