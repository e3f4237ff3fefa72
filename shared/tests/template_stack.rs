//! template.yaml's operational settings: a log group with a retention per
//! function, push dispatch's reserved concurrency, the API's throttling, the
//! `$default` route and the log level, each from its parameter.

use serde_yaml::Value;

fn template() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
    let text = std::fs::read_to_string(path).expect("template.yaml at the repository root");
    serde_yaml::from_str(&text).expect("template.yaml parses")
}

/// `!Tag value` as (tag without the `!`, value).
fn tagged(v: &Value) -> Option<(String, &Value)> {
    match v {
        Value::Tagged(t) => Some((
            t.tag.to_string().trim_start_matches('!').to_string(),
            &t.value,
        )),
        _ => None,
    }
}

fn reference(v: &Value) -> Option<&str> {
    match tagged(v) {
        Some((tag, target)) if tag == "Ref" => target.as_str(),
        _ => None,
    }
}

fn sub(v: &Value) -> Option<&str> {
    match tagged(v) {
        Some((tag, text)) if tag == "Sub" => text.as_str(),
        _ => None,
    }
}

fn resources_of_type<'a>(doc: &'a Value, ty: &str) -> Vec<(String, &'a Value)> {
    doc["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some(ty))
        .map(|(k, r)| (k.as_str().unwrap().to_string(), r))
        .collect()
}

fn functions(doc: &Value) -> Vec<(String, &Value)> {
    let fns = resources_of_type(doc, "AWS::Serverless::Function");
    assert_eq!(fns.len(), 3, "three functions");
    fns
}

fn number(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("{v:?} is a number"))
}

#[test]
fn each_function_logs_to_its_own_group_with_the_retention_parameter() {
    let doc = template();
    let param = &doc["Parameters"]["LogRetentionDays"];
    assert_eq!(number(&param["Default"]), 30);
    let allowed: Vec<i64> = param["AllowedValues"]
        .as_sequence()
        .expect("LogRetentionDays has AllowedValues")
        .iter()
        .map(number)
        .collect();
    assert!(allowed.contains(&30) && allowed.contains(&3653) && !allowed.contains(&0));

    let groups = resources_of_type(&doc, "AWS::Logs::LogGroup");
    assert_eq!(groups.len(), 3, "one log group per function");
    let mut used = Vec::new();
    for (name, f) in functions(&doc) {
        let binary = f["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap();
        let p = &f["Properties"];
        assert_eq!(
            sub(&p["FunctionName"]),
            Some(format!("${{AWS::StackName}}-{binary}").as_str()),
            "{name}: FunctionName"
        );
        let group = reference(&p["LoggingConfig"]["LogGroup"])
            .unwrap_or_else(|| panic!("{name}: LoggingConfig.LogGroup is a !Ref"));
        let g = &doc["Resources"][group];
        assert_eq!(g["Type"].as_str(), Some("AWS::Logs::LogGroup"), "{name}");
        assert_eq!(
            sub(&g["Properties"]["LogGroupName"]),
            Some(format!("/aws/lambda/${{AWS::StackName}}-{binary}").as_str()),
            "{group}: named after its function"
        );
        assert_eq!(
            reference(&g["Properties"]["RetentionInDays"]),
            Some("LogRetentionDays"),
            "{group}"
        );
        used.push(group.to_string());
    }
    used.sort();
    used.dedup();
    assert_eq!(used.len(), 3, "no two functions share a group");
}

#[test]
fn push_dispatch_has_reserved_concurrency_from_its_parameter() {
    let doc = template();
    let param = &doc["Parameters"]["PushReservedConcurrency"];
    assert_eq!(number(&param["Default"]), 10);
    assert_eq!(number(&param["MinValue"]), -1);

    let p = &doc["Resources"]["PushDispatchFunction"]["Properties"];
    let (tag, args) = tagged(&p["ReservedConcurrentExecutions"]).expect("an !If");
    assert_eq!(tag, "If");
    let args = args.as_sequence().unwrap();
    assert_eq!(args[0].as_str(), Some("PushConcurrencyReserved"));
    assert_eq!(reference(&args[1]), Some("PushReservedConcurrency"));
    assert_eq!(reference(&args[2]), Some("AWS::NoValue"));

    // The condition: reserved unless the parameter is -1.
    let (not, inner) = tagged(&doc["Conditions"]["PushConcurrencyReserved"]).unwrap();
    assert_eq!(not, "Not");
    let (equals, pair) = tagged(&inner.as_sequence().unwrap()[0]).unwrap();
    assert_eq!(equals, "Equals");
    let pair = pair.as_sequence().unwrap();
    assert_eq!(reference(&pair[0]), Some("PushReservedConcurrency"));
    assert_eq!(pair[1].as_str(), Some("-1"));

    // The other two functions have no ceiling of their own.
    for (name, f) in functions(&doc) {
        if name != "PushDispatchFunction" {
            assert!(
                f["Properties"]["ReservedConcurrentExecutions"].is_null(),
                "{name}"
            );
        }
    }
}

#[test]
fn api_throttling_comes_from_parameters() {
    let doc = template();
    let settings = &doc["Resources"]["HttpApi"]["Properties"]["DefaultRouteSettings"];
    for (property, param, default) in [
        ("ThrottlingRateLimit", "ApiThrottlingRateLimit", 100),
        ("ThrottlingBurstLimit", "ApiThrottlingBurstLimit", 200),
    ] {
        assert_eq!(reference(&settings[property]), Some(param), "{property}");
        let p = &doc["Parameters"][param];
        assert_eq!(p["Type"].as_str(), Some("Number"));
        assert_eq!(number(&p["Default"]), default, "{param}");
        assert!(
            number(&p["MinValue"]) >= 1,
            "{param}: 0 would close the API"
        );
    }
}

#[test]
fn the_default_route_goes_to_token_report() {
    let doc = template();
    let mut catch_all = Vec::new();
    for (name, f) in functions(&doc) {
        let Some(events) = f["Properties"]["Events"].as_mapping() else {
            continue;
        };
        for (event, e) in events {
            if e["Type"].as_str() != Some("HttpApi") {
                continue;
            }
            let p = &e["Properties"];
            assert_eq!(reference(&p["ApiId"]), Some("HttpApi"), "{name}");
            match (p["Method"].is_null(), p["Path"].is_null()) {
                (true, true) => catch_all.push(format!("{name}.{}", event.as_str().unwrap())),
                (false, false) => {}
                _ => panic!("{name}: an HttpApi event has both Method and Path, or neither"),
            }
        }
    }
    assert_eq!(catch_all, vec!["TokenReportFunction.Unrouted".to_string()]);
}

#[test]
fn log_level_is_one_of_the_levels() {
    let doc = template();
    let p = &doc["Parameters"]["LogLevel"];
    let allowed: Vec<&str> = p["AllowedValues"]
        .as_sequence()
        .expect("LogLevel has AllowedValues")
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(allowed, ["error", "warn", "info", "debug", "trace"]);
    assert!(allowed.contains(&p["Default"].as_str().unwrap()));
    for level in allowed {
        offpush::logs::filter::<tracing_subscriber::Registry>(level)
            .unwrap_or_else(|e| panic!("{level}: {e}"));
    }
    let env = &doc["Globals"]["Function"]["Environment"]["Variables"];
    assert_eq!(reference(&env["RUST_LOG"]), Some("LogLevel"));
}
