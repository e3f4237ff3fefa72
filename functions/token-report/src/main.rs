//! Lambda entry point of the token-report function: wiring only.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    offpush::http::serve(token_report::handle).await
}
