//! template.yaml's IAM policies, read as data: each function's granted
//! actions, to compare with the actions its code sent through a recording
//! store (`TestEnv::actions`, `offpush::store::actions`).
//!
//! Only explicit statements are understood (`Policies: - Statement: ...`); a
//! managed policy name or a SAM policy template in a function's `Policies`
//! fails the comparison rather than being skipped.

use serde_yaml::Value;
use std::collections::BTreeSet;

fn template() -> Value {
    let path = crate::repo_root().join("template.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::from_str(&text).expect("template.yaml parses")
}

/// `!GetAtt Table.Arn` (either spelling) as "Table.Arn".
fn get_att(v: &Value) -> Option<String> {
    let Value::Tagged(t) = v else { return None };
    if t.tag != "GetAtt" {
        return None;
    }
    match &t.value {
        Value::String(s) => Some(s.clone()),
        Value::Sequence(parts) => Some(
            parts
                .iter()
                .map(|p| p.as_str().unwrap_or("?"))
                .collect::<Vec<_>>()
                .join("."),
        ),
        _ => None,
    }
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Sequence(items) => items
            .iter()
            .map(|i| i.as_str().expect("an action is a string").to_string())
            .collect(),
        other => panic!("unexpected Action {other:?}"),
    }
}

/// The `dynamodb:LeadingKeys` patterns of a statement (`APP#*` -> `APP#`).
/// Every statement must carry them: no function may reach every partition.
fn leading_keys(function: &str, st: &Value) -> Vec<String> {
    let cond = &st["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"];
    let patterns = strings(cond);
    assert!(
        !patterns.is_empty(),
        "{function}: every statement is narrowed with ForAllValues:StringLike dynamodb:LeadingKeys: {st:?}"
    );
    patterns
        .into_iter()
        .map(|p| {
            p.strip_suffix('*')
                .filter(|k| k.ends_with('#') && !k.contains('*'))
                .unwrap_or_else(|| {
                    panic!("{function}: a LeadingKeys pattern is PREFIX#*, found {p}")
                })
                .to_string()
        })
        .collect()
}

/// Every (action, partition key prefix) the policies of `function` (a
/// logical id, e.g. `PushDispatchFunction`) allow. Each statement must be
/// an Allow on the table itself (`!GetAtt Table.Arn`), narrowed by
/// `dynamodb:LeadingKeys`.
pub fn granted(function: &str) -> BTreeSet<(String, String)> {
    let doc = template();
    let f = &doc["Resources"][function];
    assert_eq!(
        f["Type"].as_str(),
        Some("AWS::Serverless::Function"),
        "{function} is a function of template.yaml"
    );
    let policies = f["Properties"]["Policies"]
        .as_sequence()
        .unwrap_or_else(|| panic!("{function} has a Policies list"));
    let mut out = BTreeSet::new();
    for policy in policies {
        let statements = policy["Statement"].as_sequence().unwrap_or_else(|| {
            panic!("{function}: only explicit Statement policies are compared, found {policy:?}")
        });
        for st in statements {
            assert_eq!(st["Effect"].as_str(), Some("Allow"), "{function}: {st:?}");
            assert_eq!(
                get_att(&st["Resource"]).as_deref(),
                Some("Table.Arn"),
                "{function}: a statement on something else than the table"
            );
            let keys = leading_keys(function, st);
            for a in strings(&st["Action"]) {
                for k in &keys {
                    out.insert((a.clone(), k.clone()));
                }
            }
        }
    }
    out
}

/// Every action the policies of `function` allow, whatever the keys.
pub fn granted_actions(function: &str) -> BTreeSet<String> {
    granted(function).into_iter().map(|(a, _)| a).collect()
}

/// Asserts that `function`'s policy grants exactly the (action, partition
/// key prefix) pairs `used` (what a scenario covering every path of the
/// function sent), naming the difference both ways.
#[track_caller]
pub fn assert_policy_matches(function: &str, used: &BTreeSet<(String, String)>) {
    let granted = granted(function);
    let missing: Vec<String> = used
        .difference(&granted)
        .map(|(a, k)| format!("{a} on {k}*"))
        .collect();
    let unused: Vec<String> = granted
        .difference(used)
        .map(|(a, k)| format!("{a} on {k}*"))
        .collect();
    assert!(
        missing.is_empty() && unused.is_empty(),
        "{function}: template.yaml's policy and the code's requests differ\n  \
         sent but not granted (add to the policy): {missing:?}\n  \
         granted but never sent (drop from the policy, or cover the path in the scenario): {unused:?}"
    );
}

/// The actions that change an item.
pub const WRITE_ACTIONS: [&str; 5] = [
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:PartiQLUpdate",
];

/// Asserts that `function` may write no app item (`APP#`: the signing
/// secret and settings), which only the operator's tool writes.
#[track_caller]
pub fn assert_no_app_writes(function: &str) {
    let writes: Vec<(String, String)> = granted(function)
        .into_iter()
        .filter(|(a, k)| WRITE_ACTIONS.contains(&a.as_str()) && k == "APP#")
        .collect();
    assert!(
        writes.is_empty(),
        "{function} may write app items (signing secrets): {writes:?}"
    );
}
