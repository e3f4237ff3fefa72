//! Lambda entry point of the push-dispatch function: wiring only.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    offpush::http::serve(offpush_registry::from_env, push_dispatch::handle).await
}
