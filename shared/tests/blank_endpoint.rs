//! `sam local` hands the functions declared-but-unset variables as empty
//! strings; an empty AWS_ENDPOINT_URL_DYNAMODB must mean AWS's endpoint,
//! not a broken one. (Own test binary: it sets process environment.)

use offpush::store::Store;

#[tokio::test]
async fn a_blank_endpoint_variable_means_aws() {
    std::env::set_var("AWS_ENDPOINT_URL_DYNAMODB", "");
    std::env::set_var("AWS_REGION", "eu-west-1");
    let store = Store::from_env("t").await;
    assert_eq!(store.endpoint_url(), None);
    std::env::set_var("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:1");
    let store = Store::from_env("t").await;
    assert_eq!(store.endpoint_url(), Some("http://127.0.0.1:1"));
}
