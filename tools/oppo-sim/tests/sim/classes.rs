//! Classification (§2.5, §11): categories, notify_level, approved private
//! channels, private templates; and the camelCase key reading (§2.4).

use oppo_sim::{MessageClass, Settings, SimApp, TemplateRule};
use serde_json::{json, Value};

use crate::common::*;

fn classified(category: Option<&str>, level: Option<i64>) -> Value {
    let mut m = message("r1");
    if let Some(category) = category {
        m["notification"]["category"] = json!(category);
    }
    if let Some(level) = level {
        m["notification"]["notify_level"] = json!(level);
    }
    m
}

#[tokio::test]
async fn categories_and_notify_levels() {
    let sim = start().await;
    let token = token(&sim).await;
    for category in [
        "IM",
        "ACCOUNT",
        "TODO",
        "DEVICE_REMINDER",
        "ORDER",
        "SUBSCRIPTION",
    ] {
        assert_eq!(
            unicast(&sim, &token, &classified(Some(category), Some(2))).await["code"],
            0
        );
    }
    for category in ["NEWS", "CONTENT", "MARKETING", "SOCIAL"] {
        assert_eq!(
            unicast(&sim, &token, &classified(Some(category), Some(1))).await["code"],
            0
        );
    }
    let classes: Vec<MessageClass> = sim.deliveries().iter().map(|d| d.class).collect();
    assert_eq!(classes[..6], [MessageClass::Service; 6]);
    assert_eq!(classes[6..], [MessageClass::Public; 4]);
    for (m, expected) in [
        (classified(None, None), 0),
        (classified(Some("im"), None), 67),
        (classified(Some("CHAT"), None), 67),
        (classified(None, Some(2)), 67),
        (classified(Some("IM"), Some(3)), 67),
        (classified(Some("IM"), Some(16)), 67),
        (classified(Some("IM"), Some(0)), 67),
    ] {
        let answer = unicast(&sim, &token, &m).await;
        assert_eq!(answer["code"], expected, "{m}: {answer}");
    }
    assert_eq!(
        sim.deliveries().last().unwrap().class,
        MessageClass::Public,
        "no category"
    );
    // The strong reminder once approved.
    sim.add_app(SimApp {
        strong_reminder: true,
        ..app()
    });
    assert_eq!(
        unicast(&sim, &token, &classified(Some("IM"), Some(16))).await["code"],
        0
    );
}

#[tokio::test]
async fn service_categories_need_an_approved_private_channel_when_the_app_has_some() {
    let sim = start().await;
    sim.add_app(SimApp {
        service_channels: vec!["im_private".to_owned()],
        ..app()
    });
    let token = token(&sim).await;
    let on = |channel: Option<&str>, category: &str| {
        let mut m = classified(Some(category), None);
        match channel {
            Some(id) => m["notification"]["channel_id"] = json!(id),
            None => {
                m["notification"]
                    .as_object_mut()
                    .unwrap()
                    .remove("channel_id");
            }
        }
        m
    };
    for (m, expected) in [
        (on(Some("im_private"), "IM"), 0),
        (on(Some("im_messages"), "IM"), 67),
        (on(None, "ORDER"), 67),
        (on(Some("anything"), "NEWS"), 0),
        (on(None, "MARKETING"), 0),
    ] {
        assert_eq!(unicast(&sim, &token, &m).await["code"], expected, "{m}");
    }
}

#[tokio::test]
async fn private_templates_follow_the_apps_rule() {
    let sim = start().await;
    let token = token(&sim).await;
    let templated = |category: &str, template: Option<&str>| {
        let mut m = classified(Some(category), None);
        if let Some(id) = template {
            m["notification"]["private_msg_template_id"] = json!(id);
            m["notification"]["private_title_parameters"] = json!("{\"name\":\"Alice\"}");
            m["notification"]["private_content_parameters"] = json!("{\"count\":\"3\"}");
        }
        m
    };
    // Off (the default): not required, checked when given.
    assert_eq!(
        unicast(&sim, &token, &templated("IM", None)).await["code"],
        0
    );
    assert_eq!(
        unicast(&sim, &token, &templated("IM", Some("tpl-1"))).await["code"],
        0
    );
    let mut bad = templated("IM", Some("tpl-1"));
    bad["notification"]["private_title_parameters"] = json!({"name": "Alice"});
    assert_eq!(unicast(&sim, &token, &bad).await["code"], 41);
    bad["notification"]["private_title_parameters"] = json!("{\"name\":1}");
    assert_eq!(unicast(&sim, &token, &bad).await["code"], 41);

    sim.add_app(SimApp {
        template_rule: TemplateRule::Im,
        templates: vec!["tpl-1".to_owned()],
        ..app()
    });
    for (m, expected) in [
        (templated("IM", None), 67),
        (templated("IM", Some("tpl-1")), 0),
        (templated("IM", Some("tpl-2")), 41),
        (templated("ORDER", None), 0),
        (templated("NEWS", None), 0),
    ] {
        assert_eq!(unicast(&sim, &token, &m).await["code"], expected, "{m}");
    }
    sim.add_app(SimApp {
        template_rule: TemplateRule::Service,
        ..app()
    });
    for (m, expected) in [
        (templated("ORDER", None), 67),
        (templated("ORDER", Some("any-id")), 0),
        (templated("NEWS", None), 0),
    ] {
        assert_eq!(unicast(&sim, &token, &m).await["code"], expected, "{m}");
    }
}

#[tokio::test]
async fn camel_case_keys_are_read_only_when_the_setting_says_so() {
    let sim = start().await;
    let token = token(&sim).await;
    let camel = json!({
        "target_type": 2,
        "target_value": "r1",
        "notification": {
            "title": "Alice",
            "content": "Hi",
            "clickActionType": 4,
            "clickActionActivity": "com.example.im.ChatActivity",
            "offLineTtl": 3600,
            "channelId": "im_messages",
        },
    });
    // snake_case required by default: camelCase keys are unknown (ignored),
    // so the click action is the default and the channel absent.
    assert_eq!(unicast(&sim, &token, &camel).await["code"], 0);
    let d = sim.deliveries().pop().unwrap();
    assert_eq!(d.channel_id, None);
    assert!(d.notification.get("click_action_type").is_none());
    let mut needs_url = camel.clone();
    needs_url["notification"]["clickActionType"] = json!(2);
    assert_eq!(unicast(&sim, &token, &needs_url).await["code"], 0);

    sim.set_settings(Settings {
        camel_case: true,
        ..Settings::default()
    })
    .unwrap();
    assert_eq!(unicast(&sim, &token, &camel).await["code"], 0);
    let d = sim.deliveries().pop().unwrap();
    assert_eq!(d.channel_id.as_deref(), Some("im_messages"));
    assert_eq!(d.off_line_ttl, Some(3600));
    assert_eq!(d.notification["click_action_type"], json!(4));
    assert_eq!(
        unicast(&sim, &token, &needs_url).await["code"],
        40,
        "now read: needs a URL"
    );
    // snake_case still works, and wins when both are given.
    let mut both = camel.clone();
    both["notification"]["click_action_type"] = json!(0);
    assert_eq!(unicast(&sim, &token, &both).await["code"], 0);
    assert_eq!(
        sim.deliveries().pop().unwrap().notification["click_action_type"],
        json!(0)
    );
}
