//! Lambda entry point of the push-dispatch function: wiring only.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    offpush::http::serve(push_dispatch::handle).await
}
