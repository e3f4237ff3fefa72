//! Lambda entry point of the token-report function: wiring only. It
//! neither pushes nor verifies, so it holds no vendor.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    offpush::http::serve(
        |_, _| Ok(std::sync::Arc::new(offpush::vendor::NoVendors) as _),
        token_report::handle,
    )
    .await
}
