//! template.yaml's operational settings: a log group with a retention per
//! function, push dispatch's reserved concurrency (on POST /v1/push alone:
//! push visibility, the same binary, serves receipts and the read routes
//! without one), the API's throttling and the log level, each from its
//! parameter; the one REST API every route is on, and its gateway responses,
//! which answer with the functions' error body.

use std::time::Duration;

use offpush::ServiceError;
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
    assert_eq!(fns.len(), 4, "four functions");
    fns
}

/// A function's name after the stack's: its logical id without
/// `Function`, in kebab case (`PushVisibilityFunction` -> `push-visibility`).
fn function_name(logical_id: &str) -> String {
    let base = logical_id
        .strip_suffix("Function")
        .unwrap_or_else(|| panic!("{logical_id} ends in Function"));
    let mut out = String::new();
    for c in base.chars() {
        if c.is_ascii_uppercase() && !out.is_empty() {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// The (method, path) of a function's Api events, sorted.
fn routes_of(f: &Value) -> Vec<(String, String)> {
    let mut routes: Vec<(String, String)> = f["Properties"]["Events"]
        .as_mapping()
        .expect("Events")
        .values()
        .map(|e| {
            let p = &e["Properties"];
            (
                p["Method"].as_str().unwrap().to_string(),
                p["Path"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    routes.sort();
    routes
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
    assert_eq!(groups.len(), 4, "one log group per function");
    let mut used = Vec::new();
    for (name, f) in functions(&doc) {
        // The binary's name, but for push visibility (push dispatch's binary).
        let binary = f["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap();
        let fname = function_name(&name);
        if name == "PushVisibilityFunction" {
            assert_eq!(binary, "push-dispatch");
        } else {
            assert_eq!(binary, fname, "{name}: named after its binary");
        }
        let p = &f["Properties"];
        assert_eq!(
            sub(&p["FunctionName"]),
            Some(format!("${{AWS::StackName}}-{fname}").as_str()),
            "{name}: FunctionName"
        );
        let group = reference(&p["LoggingConfig"]["LogGroup"])
            .unwrap_or_else(|| panic!("{name}: LoggingConfig.LogGroup is a !Ref"));
        let g = &doc["Resources"][group];
        assert_eq!(g["Type"].as_str(), Some("AWS::Logs::LogGroup"), "{name}");
        assert_eq!(
            sub(&g["Properties"]["LogGroupName"]),
            Some(format!("/aws/lambda/${{AWS::StackName}}-{fname}").as_str()),
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
    assert_eq!(used.len(), 4, "no two functions share a group");
}

#[test]
fn push_dispatch_has_reserved_concurrency_from_its_parameter() {
    let doc = template();
    let param = &doc["Parameters"]["PushReservedConcurrency"];
    // No reservation by default: Lambda refuses one that leaves the account
    // less than 100 unreserved, and a new account's quota can be 10.
    assert_eq!(number(&param["Default"]), -1);
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

    // The reservation caps pushes alone: push dispatch serves nothing else.
    assert_eq!(
        routes_of(&doc["Resources"]["PushDispatchFunction"]),
        [("POST".to_string(), "/v1/push".to_string())]
    );
    // The other functions, push visibility included, have no ceiling of
    // their own (nor a reservation taking from the account's pool).
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
fn push_visibility_is_push_dispatchs_binary_on_the_visibility_routes() {
    let doc = template();
    let dispatch = &doc["Resources"]["PushDispatchFunction"];
    let visibility = &doc["Resources"]["PushVisibilityFunction"];
    // One binary, one build: the same code, build metadata and environment
    // (sam build builds a definition shared by two functions once).
    assert_eq!(visibility["Metadata"], dispatch["Metadata"]);
    for key in ["CodeUri", "Runtime", "Handler", "Environment"] {
        assert_eq!(
            visibility["Properties"][key], dispatch["Properties"][key],
            "{key}"
        );
    }
    assert!(
        !dispatch["Properties"]["Environment"]["Variables"].is_null(),
        "push dispatch's own variables, which push visibility needs too"
    );
    let routes: Vec<(String, String)> = [
        ("GET", "/v1/pushes/{request_id}"),
        ("GET", "/v1/stats"),
        ("GET", "/v1/users/{user_id}/push-log"),
        ("POST", "/v1/receipts/{platform}/{receipt_secret}"),
    ]
    .iter()
    .map(|(m, p)| (m.to_string(), p.to_string()))
    .collect();
    assert_eq!(routes_of(visibility), routes);
}

fn api(doc: &Value) -> &Value {
    let apis = resources_of_type(doc, "AWS::Serverless::Api");
    assert_eq!(apis.len(), 1, "one REST API");
    assert!(
        resources_of_type(doc, "AWS::Serverless::HttpApi").is_empty(),
        "no HTTP API: it has no gateway responses"
    );
    &doc["Resources"]["Api"]
}

#[test]
fn api_throttling_comes_from_parameters() {
    let doc = template();
    let settings = api(&doc)["Properties"]["MethodSettings"]
        .as_sequence()
        .expect("MethodSettings");
    assert_eq!(settings.len(), 1, "one setting for every route");
    let settings = &settings[0];
    assert_eq!(settings["ResourcePath"].as_str(), Some("/*"));
    assert_eq!(settings["HttpMethod"].as_str(), Some("*"));
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
fn the_waf_rate_rule_per_source_ip_is_opt_in_and_guards_the_apis_stage() {
    let doc = template();
    let p = &doc["Parameters"]["ApiRateLimitPerIp"];
    assert_eq!(
        number(&p["Default"]),
        0,
        "off by default: it costs more than the API at low volume"
    );
    // WAF's rate-based rules take 10 at least.
    assert!(number(&p["MinValue"]) == 0);
    let acl = &doc["Resources"]["ApiWebAcl"];
    let assoc = &doc["Resources"]["ApiWebAclAssociation"];
    for r in [acl, assoc] {
        assert_eq!(r["Condition"].as_str(), Some("HasIpRateLimit"));
    }
    let rules = acl["Properties"]["Rules"].as_sequence().expect("rules");
    assert_eq!(rules.len(), 1);
    let rate = &rules[0]["Statement"]["RateBasedStatement"];
    assert_eq!(reference(&rate["Limit"]), Some("ApiRateLimitPerIp"));
    assert_eq!(rate["AggregateKeyType"].as_str(), Some("IP"));
    assert!(rules[0]["Action"]["Block"].is_mapping());
    assert_eq!(acl["Properties"]["Scope"].as_str(), Some("REGIONAL"));
    let arn = sub(&assoc["Properties"]["ResourceArn"]).expect("a !Sub ARN");
    assert!(
        arn.ends_with("/restapis/${Api}/stages/${Api.Stage}"),
        "the association names the API's own stage resource: {arn}"
    );
}

#[test]
fn every_route_is_an_event_of_the_one_api_on_its_stage() {
    let doc = template();
    let a = &api(&doc)["Properties"];
    assert_eq!(reference(&a["StageName"]), Some("Stage"));
    let mut routes = 0;
    for (name, f) in functions(&doc) {
        let events = f["Properties"]["Events"]
            .as_mapping()
            .unwrap_or_else(|| panic!("{name} has events"));
        for (event, e) in events {
            let event = event.as_str().unwrap();
            assert_eq!(e["Type"].as_str(), Some("Api"), "{name}.{event}");
            let p = &e["Properties"];
            assert_eq!(reference(&p["RestApiId"]), Some("Api"), "{name}.{event}");
            assert!(
                p["Method"].as_str().is_some() && p["Path"].as_str().is_some(),
                "{name}.{event}: a method and a path"
            );
            routes += 1;
        }
    }
    assert_eq!(routes, 14, "the 14 routes of API.md");
    let url = sub(&doc["Outputs"]["ApiUrl"]["Value"]).expect("ApiUrl is a !Sub");
    assert!(url.ends_with("/${Stage}"), "{url}: the stage is in the URL");
}

/// The body and status a function answers `e` with.
fn function_answer(e: &ServiceError) -> (u16, String, Option<String>) {
    let resp = offpush::http::error_response(e);
    let retry_after = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    let body = match resp.body() {
        lambda_http::Body::Text(t) => t.clone(),
        other => panic!("an error body is text: {other:?}"),
    };
    (resp.status().as_u16(), body, retry_after)
}

/// A gateway response as (status, application/json template, Retry-After).
fn gateway_answer(responses: &Value, kind: &str) -> (u16, String, Option<String>) {
    let r = &responses[kind];
    assert!(!r.is_null(), "gateway response {kind}");
    let status = number(&r["StatusCode"]) as u16;
    let body = r["ResponseTemplates"]["application/json"]
        .as_str()
        .unwrap_or_else(|| panic!("{kind}: an application/json template"))
        .to_string();
    // A static header value is quoted in single quotes.
    let retry_after = r["ResponseParameters"]["Headers"]["Retry-After"]
        .as_str()
        .map(|v| {
            v.strip_prefix('\'')
                .and_then(|v| v.strip_suffix('\''))
                .unwrap_or_else(|| panic!("{kind}: Retry-After {v} is a quoted static value"))
                .to_string()
        });
    (status, body, retry_after)
}

#[test]
fn api_gateways_own_answers_carry_the_error_body() {
    let doc = template();
    let responses = &api(&doc)["Properties"]["GatewayResponses"];
    let rate_limited = || ServiceError::RateLimited {
        message: "too many requests: retry later".into(),
        retry_after: Duration::from_secs(1),
    };
    let cases: Vec<(&str, ServiceError)> = vec![
        // No route has the method and path: what the functions answer a
        // request they do not serve, byte for byte.
        (
            "MISSING_AUTHENTICATION_TOKEN",
            offpush::http::route_not_found(),
        ),
        ("RESOURCE_NOT_FOUND", offpush::http::route_not_found()),
        ("THROTTLED", rate_limited()),
        ("QUOTA_EXCEEDED", rate_limited()),
        // Lambda throttled the function (push dispatch's reserved concurrency).
        ("INTEGRATION_FAILURE", rate_limited()),
        (
            "REQUEST_TOO_LARGE",
            ServiceError::PayloadTooLarge("request body: too large".into()),
        ),
        (
            "INTEGRATION_TIMEOUT",
            ServiceError::internal("gateway", std::io::Error::other("timeout")),
        ),
        (
            "DEFAULT_5XX",
            ServiceError::internal("gateway", std::io::Error::other("x")),
        ),
    ];
    let mut kinds: Vec<&str> = vec!["DEFAULT_4XX"];
    for (kind, e) in &cases {
        assert_eq!(
            gateway_answer(responses, kind),
            function_answer(e),
            "{kind}"
        );
        kinds.push(kind);
    }
    // Any other refusal: API Gateway's message, a JSON string in the body.
    let (status, template, retry_after) = gateway_answer(responses, "DEFAULT_4XX");
    assert_eq!((status, retry_after), (400, None));
    let message = "Invalid request body";
    let body = template.replace("$context.error.messageString", &format!("{message:?}"));
    assert_eq!(
        (status, body, None),
        function_answer(&ServiceError::invalid_body(message))
    );

    let mut declared: Vec<&str> = responses
        .as_mapping()
        .expect("GatewayResponses")
        .keys()
        .map(|k| k.as_str().unwrap())
        .collect();
    declared.sort();
    kinds.sort();
    assert_eq!(declared, kinds, "every gateway response is checked above");

    // Every 429 says when to come back, as the functions' own 429s do.
    let (_, body, retry_after) = gateway_answer(responses, "THROTTLED");
    assert!(body.contains("\"rate_limited\"") && retry_after.as_deref() == Some("1"));
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
