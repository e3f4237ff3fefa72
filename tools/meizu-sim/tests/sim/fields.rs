//! `messageJson` (§15.4), `restrictedPackageNames` and repeated fields.

use meizu_sim::{Settings, SimApp, Simulator};
use serde_json::{json, Value};

use crate::common::*;

fn set(sim: &Simulator, change: impl FnOnce(&mut Settings)) {
    let mut settings = sim.settings();
    change(&mut settings);
    sim.set_settings(settings);
}

#[tokio::test]
async fn title_and_content_are_limited_in_characters_at_32_and_100() {
    let sim = start().await;
    let cjk = |n: usize| "你".repeat(n);
    for (title, content, want) in [
        (cjk(32), cjk(100), "200"),
        (cjk(33), cjk(100), "1005"),
        (cjk(32), cjk(101), "1005"),
        ("a".repeat(33), "b".to_owned(), "1005"),
    ] {
        let got = code_of(&sim, |m| {
            m["noticeBarInfo"]["title"] = json!(title);
            m["noticeBarInfo"]["content"] = json!(content);
        })
        .await;
        assert_eq!(got, want, "{title} / {content}");
    }
    let answer = send(&sim, &{
        let mut m = message_json();
        m["noticeBarInfo"]["title"] = json!(cjk(33));
        form_for("pid-a", &m)
    })
    .await;
    assert_eq!(answer["message"], "参数错误：标题或内容长度超过限制");
}

#[tokio::test]
async fn the_over_long_text_code_and_message_are_settings() {
    let sim = start().await;
    set(&sim, |s| {
        s.text_too_long_code = "110004".to_owned();
        s.text_too_long_message = "too long".to_owned();
    });
    let mut m = message_json();
    m["noticeBarInfo"]["content"] = json!("x".repeat(101));
    let answer = send(&sim, &form_for("pid-a", &m)).await;
    assert_eq!(answer["code"], "110004");
    assert_eq!(answer["message"], "too long");
}

#[tokio::test]
async fn title_content_and_the_bar_are_required() {
    let sim = start().await;
    for (field, value) in [("title", Value::Null), ("content", json!(""))] {
        let got = code_of(&sim, |m| m["noticeBarInfo"][field] = value).await;
        assert_eq!(got, "110004", "{field}");
    }
    let got = code_of(&sim, |m| {
        m.as_object_mut().unwrap().remove("noticeBarInfo");
    })
    .await;
    assert_eq!(got, "110004");
    assert_eq!(
        code_of(&sim, |m| m["noticeBarInfo"]["title"] = json!(5)).await,
        "1005"
    );
    assert_eq!(
        code_of(&sim, |m| m["noticeBarInfo"] = json!("x")).await,
        "1005"
    );
}

#[tokio::test]
async fn message_json_must_be_a_json_object() {
    let sim = start().await;
    for text in ["", "{", "[1]", "\"x\""] {
        let form = signed_with(
            with(unsigned("pid-a", &message_json()), "messageJson", text),
            SECRET,
        );
        let want = if text.is_empty() { "110004" } else { "1005" };
        assert_eq!(code(&sim, &form).await, want, "{text:?}");
    }
}

#[tokio::test]
async fn notice_types_take_their_documented_values() {
    let sim = start().await;
    for (field, good, bad) in [
        ("noticeMsgType", vec![0, 1], vec![2, -1]),
        ("noticeBarType", vec![0, 1, 2], vec![3]),
    ] {
        for n in good {
            assert_eq!(
                code_of(&sim, |m| m["noticeBarInfo"][field] = json!(n)).await,
                "200"
            );
        }
        for n in bad {
            assert_eq!(
                code_of(&sim, |m| m["noticeBarInfo"][field] = json!(n)).await,
                "1005"
            );
        }
    }
    let deliveries = sim.deliveries();
    assert_eq!(deliveries[0].notice_msg_type, 0);
    assert_eq!(deliveries[1].notice_msg_type, 1);
}

#[tokio::test]
async fn integers_are_json_numbers_unless_digit_strings_are_allowed() {
    let sim = start().await;
    let stringly = |m: &mut Value| m["pushTimeInfo"]["validTime"] = json!("12");
    assert_eq!(code_of(&sim, stringly).await, "1005");
    set(&sim, |s| s.numeric_strings = true);
    assert_eq!(code_of(&sim, stringly).await, "200");
    assert_eq!(sim.deliveries()[0].valid_time, 12);
    assert_eq!(
        code_of(&sim, |m| m["pushTimeInfo"]["validTime"] = json!(1.5)).await,
        "1005"
    );
}

#[tokio::test]
async fn each_click_type_needs_its_field() {
    let sim = start().await;
    let click = |value: Value| move |m: &mut Value| m["clickTypeInfo"] = value;
    let cases = [
        (json!({"clickType": 0}), "200"),
        (
            json!({"clickType": 1, "activity": "com.example.im.ChatActivity"}),
            "200",
        ),
        (json!({"clickType": 1}), "110004"),
        (json!({"clickType": 1, "activity": "ChatActivity"}), "1005"),
        (
            json!({"clickType": 2, "url": "https://example.com/c/1"}),
            "200",
        ),
        (
            json!({"clickType": 2, "url": "intent://chat#Intent;end"}),
            "200",
        ),
        (json!({"clickType": 2}), "110004"),
        (json!({"clickType": 2, "url": "example.com/c/1"}), "1005"),
        (
            json!({"clickType": 3, "customAttribute": "x".repeat(1000)}),
            "200",
        ),
        (
            json!({"clickType": 3, "customAttribute": "x".repeat(1001)}),
            "1005",
        ),
        (json!({"clickType": 3}), "110004"),
        (json!({"clickType": 4}), "1005"),
        (json!({"clickType": 0, "parameters": "ext=1"}), "1005"),
        (json!({"clickType": 0, "parameters": {"ext": "1"}}), "200"),
        (json!("open"), "1005"),
    ];
    for (value, want) in cases {
        assert_eq!(code_of(&sim, click(value.clone())).await, want, "{value}");
    }
    let last = sim.deliveries().pop().unwrap();
    assert_eq!(last.parameters, json!({"ext": "1"}));
    assert_eq!(last.click_type, 0);
}

#[tokio::test]
async fn custom_clicks_can_be_refused() {
    let sim = start().await;
    set(&sim, |s| s.refuse_custom_click = true);
    let custom =
        |m: &mut Value| m["clickTypeInfo"] = json!({"clickType": 3, "customAttribute": "x"});
    assert_eq!(code_of(&sim, custom).await, "1005");
}

#[tokio::test]
async fn push_time_info_is_checked_at_its_bounds() {
    let sim = start().await;
    for (off_line, valid_time, want) in [
        (json!(1), json!(1), "200"),
        (json!(1), json!(72), "200"),
        (json!(0), json!(24), "200"),
        (json!(1), json!(0), "1005"),
        (json!(1), json!(73), "1005"),
        (json!(2), json!(24), "1005"),
    ] {
        let got = code_of(&sim, |m| {
            m["pushTimeInfo"] = json!({"offLine": off_line, "validTime": valid_time});
        })
        .await;
        assert_eq!(got, want, "{off_line} {valid_time}");
    }
    // Defaults: offline delivery for 24 hours.
    let got = code_of(&sim, |m| {
        m.as_object_mut().unwrap().remove("pushTimeInfo");
    })
    .await;
    assert_eq!(got, "200");
    let last = sim.deliveries().pop().unwrap();
    assert_eq!((last.off_line, last.valid_time), (1, 24));
}

#[tokio::test]
async fn advance_info_flags_and_notify_key_are_checked() {
    let sim = start().await;
    let advance = |value: Value| move |m: &mut Value| m["advanceInfo"] = value;
    let cases = [
        (
            json!({"suspend": 0, "clearNoticeBar": 1, "notificationType": {"vibrate": 0, "lights": 1, "sound": 1}}),
            "200",
        ),
        (json!({"suspend": 2}), "1005"),
        (json!({"clearNoticeBar": -1}), "1005"),
        (json!({"notificationType": {"sound": 2}}), "1005"),
        (json!({"notificationType": 1}), "1005"),
        (json!({"notifyKey": "abcd_-78"}), "200"),
        (json!({"notifyKey": "abcd_-789"}), "1005"),
        (json!({"notifyKey": "ab.c"}), "1005"),
        (json!({"notifyKey": "会话"}), "1005"),
    ];
    for (value, want) in cases {
        assert_eq!(code_of(&sim, advance(value.clone())).await, want, "{value}");
    }
    assert_eq!(
        sim.deliveries().pop().unwrap().notify_key.as_deref(),
        Some("abcd_-78")
    );
}

#[tokio::test]
async fn timed_display_needs_both_times_in_order() {
    let sim = start().await;
    let advance = |value: Value| move |m: &mut Value| m["advanceInfo"] = value;
    let start_at = "2026-01-01 08:00:00";
    let end_at = "2026-01-01 20:00:00";
    let cases = [
        (
            json!({"fixDisplay": 1, "fixStartDisplayTime": start_at, "fixEndDisplayTime": end_at}),
            "200",
        ),
        // The doc's end key with its stray trailing space (§15.4).
        (
            json!({"fixDisplay": 1, "fixStartDisplayTime": start_at, "fixEndDisplayTime ": end_at}),
            "200",
        ),
        (
            json!({"fixDisplay": 1, "fixStartDisplayTime": start_at}),
            "110004",
        ),
        (
            json!({"fixDisplay": 1, "fixEndDisplayTime": end_at}),
            "110004",
        ),
        (
            json!({"fixDisplay": 1, "fixStartDisplayTime": end_at, "fixEndDisplayTime": start_at}),
            "1005",
        ),
        (
            json!({"fixDisplay": 0, "fixStartDisplayTime": "2026-01-01T08:00:00"}),
            "1005",
        ),
        (json!({"fixDisplay": 2}), "1005"),
    ];
    for (value, want) in cases {
        assert_eq!(code_of(&sim, advance(value.clone())).await, want, "{value}");
    }
}

#[tokio::test]
async fn vip_only_fields_need_a_vip_app() {
    let sim = start().await;
    let vip_info = |m: &mut Value| {
        m["vipInfo"] = json!({"subtitle": "一二三四五六七八九十一二三四五六", "timeTop": 1800})
    };
    let big_image = |m: &mut Value| {
        m["noticeExpandInfo"] =
            json!({"noticeExpandType": 2, "noticeExpandImgUrl": "https://img.example/x.png"});
    };
    assert_eq!(code_of(&sim, vip_info).await, "1005");
    assert_eq!(code_of(&sim, big_image).await, "1005");
    sim.add_app(SimApp { vip: true, ..app() });
    assert_eq!(code_of(&sim, vip_info).await, "200");
    assert_eq!(code_of(&sim, big_image).await, "200");
    let long_subtitle = |m: &mut Value| m["vipInfo"] = json!({"subtitle": "x".repeat(17)});
    assert_eq!(code_of(&sim, long_subtitle).await, "1005");
    for time_top in [1799, 7201] {
        let got = code_of(&sim, |m| m["vipInfo"] = json!({"timeTop": time_top})).await;
        assert_eq!(got, "1005", "{time_top}");
    }
    assert_eq!(
        code_of(&sim, |m| m["vipInfo"] = json!({"timeTop": 7200})).await,
        "200"
    );
}

#[tokio::test]
async fn expanded_text_needs_its_content() {
    let sim = start().await;
    let expand = |value: Value| move |m: &mut Value| m["noticeExpandInfo"] = value;
    assert_eq!(
        code_of(&sim, expand(json!({"noticeExpandType": 1}))).await,
        "110004"
    );
    let text = json!({"noticeExpandType": 1, "noticeExpandContent": "long text"});
    assert_eq!(code_of(&sim, expand(text)).await, "200");
    assert_eq!(
        code_of(&sim, expand(json!({"noticeExpandType": 3}))).await,
        "1005"
    );
    // A big image needs its URL before the VIP check.
    assert_eq!(
        code_of(&sim, expand(json!({"noticeExpandType": 2}))).await,
        "110004"
    );
}

#[tokio::test]
async fn unknown_keys_are_ignored_unless_set_to_be_refused() {
    let sim = start().await;
    let top = |m: &mut Value| m["futureField"] = json!(1);
    let nested = |m: &mut Value| m["noticeBarInfo"]["subTitle"] = json!("x");
    assert_eq!(code_of(&sim, top).await, "200");
    assert_eq!(code_of(&sim, nested).await, "200");
    set(&sim, |s| s.reject_unknown_keys = true);
    assert_eq!(code_of(&sim, top).await, "1005");
    assert_eq!(code_of(&sim, nested).await, "1005");
    // extra and parameters are the app's: any keys.
    let app_keys = |m: &mut Value| {
        m["extra"] = json!({"anything": "1"});
        m["clickTypeInfo"]["parameters"] = json!({"whatever": "2"});
    };
    assert_eq!(code_of(&sim, app_keys).await, "200");
}

#[tokio::test]
async fn the_callback_fields_are_checked() {
    let sim = start().await;
    let extra = |value: Value| move |m: &mut Value| m["extra"] = value;
    let url_128 = format!("https://r.example/{}", "a".repeat(128 - 18));
    assert_eq!(url_128.len(), 128);
    let cases = [
        (json!({"callback": url_128}), "200"),
        (json!({"callback": format!("{url_128}a")}), "1005"),
        (json!({"callback": "ftp://r.example/x"}), "1005"),
        (json!({"callback": "https:///x"}), "1005"),
        (
            json!({"callback": "https://r.example/x", "callback.param": "p".repeat(64)}),
            "200",
        ),
        (
            json!({"callback": "https://r.example/x", "callback.param": "p".repeat(65)}),
            "1005",
        ),
        (
            json!({"callback": "https://r.example/x", "callback.type": "3"}),
            "200",
        ),
        (
            json!({"callback": "https://r.example/x", "callback.type": 1}),
            "200",
        ),
        (
            json!({"callback": "https://r.example/x", "callback.type": "2"}),
            "200",
        ),
        (
            json!({"callback": "https://r.example/x", "callback.type": 4}),
            "1005",
        ),
        (
            json!({"callback": "https://r.example/x", "callback.type": "both"}),
            "1005",
        ),
        (json!({"callback": 7}), "1005"),
        (json!("callback"), "1005"),
    ];
    for (value, want) in cases {
        assert_eq!(code_of(&sim, extra(value.clone())).await, want, "{value}");
    }
}

#[tokio::test]
async fn a_callback_must_be_registered_when_the_app_registers_any() {
    let sim = start().await;
    sim.add_app(SimApp {
        callback_urls: vec!["https://r.example/meizu".to_owned()],
        ..app()
    });
    let to = |url: &'static str| move |m: &mut Value| m["extra"] = json!({ "callback": url });
    assert_eq!(code_of(&sim, to("https://r.example/meizu")).await, "200");
    assert_eq!(code_of(&sim, to("https://r.example/other")).await, "1005");
}

#[tokio::test]
async fn restricted_package_names_must_be_the_apps() {
    let sim = start().await;
    let packages =
        |list: &str| signed_with(with(form("pid-a"), "restrictedPackageNames", list), SECRET);
    assert_eq!(code(&sim, &packages(PACKAGE)).await, "200");
    let answer = send(&sim, &packages(OTHER_PACKAGE)).await;
    assert_eq!(answer["code"], "110031");
    assert_eq!(code(&sim, &packages(&format!("{PACKAGE},"))).await, "1005");
    // Up to 50 entries, all the app's.
    sim.add_app(SimApp {
        package_names: (0..51).map(|i| format!("com.example.p{i}")).collect(),
        ..app()
    });
    let list = |n: usize| {
        (0..n)
            .map(|i| format!("com.example.p{i}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    assert_eq!(code(&sim, &packages(&list(50))).await, "200");
    assert_eq!(code(&sim, &packages(&list(51))).await, "1005");
    // No package registered: any passes.
    sim.add_app(SimApp {
        package_names: Vec::new(),
        ..app()
    });
    assert_eq!(code(&sim, &packages("com.any.thing")).await, "200");
}

#[tokio::test]
async fn the_bad_package_code_follows_the_110019_110031_reading() {
    let sim = start().await;
    set(&sim, |s| s.swap_110019_110031 = true);
    let form = signed_with(
        with(form("pid-a"), "restrictedPackageNames", OTHER_PACKAGE),
        SECRET,
    );
    assert_eq!(code(&sim, &form).await, "110019");
}

#[tokio::test]
async fn a_field_given_twice_is_a_parameter_error() {
    let sim = start().await;
    let mut twice = form("pid-a");
    twice.push(("pushIds".to_owned(), "pid-b".to_owned()));
    let twice = signed_with(twice, SECRET);
    assert_eq!(code(&sim, &twice).await, "1005");
    assert!(sim.deliveries().is_empty());
}

#[tokio::test]
async fn deliveries_keep_what_the_app_sent() {
    let sim = start().await;
    let mut m = message_json();
    m["extra"] = json!({"callback.param": "p-1", "ext": "x"});
    let answer = send(&sim, &form_for("pid-a", &m)).await;
    let d = sim.deliveries().pop().unwrap();
    assert_eq!(d.msg_id, answer["msgId"]);
    assert_eq!(d.app_id, APP_ID);
    assert_eq!(d.push_id, "pid-a");
    assert_eq!(d.title, "Alice");
    assert_eq!(d.content, "Hi, are you free tonight?");
    assert_eq!(d.notice_msg_type, 1);
    assert_eq!(d.parameters, json!({"ext": "{\"conv\":\"c2c_alice\"}"}));
    assert_eq!(d.extra, json!({"callback.param": "p-1", "ext": "x"}));
    assert_eq!(d.message, m);
    assert_eq!(d.fields["appId"], APP_ID);
    assert!(d.fields.contains_key("sign"));
}
