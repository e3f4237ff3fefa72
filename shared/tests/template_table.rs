//! template.yaml and `store::schema` describe the same table: a change to
//! one without the other fails here.

use offpush::store::schema;
use serde_yaml::Value;

fn table() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
    let text = std::fs::read_to_string(path).expect("template.yaml at the repository root");
    let doc: Value = serde_yaml::from_str(&text).expect("template.yaml parses");
    doc["Resources"]["Table"].clone()
}

fn pairs(list: &Value, a: &str, b: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = list
        .as_sequence()
        .expect("a list")
        .iter()
        .map(|e| {
            (
                e[a].as_str().unwrap().to_string(),
                e[b].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn sorted(list: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = list
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    out.sort();
    out
}

#[test]
fn template_table_matches_the_shared_definition() {
    let t = table();
    assert_eq!(t["Type"].as_str(), Some("AWS::DynamoDB::Table"));
    let p = &t["Properties"];
    assert_eq!(p["BillingMode"].as_str(), Some(schema::BILLING_MODE));
    assert_eq!(
        pairs(&p["AttributeDefinitions"], "AttributeName", "AttributeType"),
        sorted(schema::ATTRIBUTES)
    );
    assert_eq!(
        pairs(&p["KeySchema"], "AttributeName", "KeyType"),
        sorted(schema::KEY_SCHEMA)
    );
    assert_eq!(
        p["TimeToLiveSpecification"]["AttributeName"].as_str(),
        Some(schema::TTL_ATTRIBUTE)
    );
    assert_eq!(
        p["TimeToLiveSpecification"]["Enabled"].as_bool(),
        Some(true)
    );
    assert!(
        p["GlobalSecondaryIndexes"].is_null(),
        "the schema has no GSI"
    );
}

#[test]
fn template_table_is_protected() {
    let t = table();
    let p = &t["Properties"];
    assert_eq!(
        p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"].as_bool(),
        Some(true)
    );
    assert_eq!(p["SSESpecification"]["SSEEnabled"].as_bool(), Some(true));
    assert_eq!(t["DeletionPolicy"].as_str(), Some("Retain"));
}
