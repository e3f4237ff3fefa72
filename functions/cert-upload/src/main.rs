//! Lambda entry point of the cert-upload function: wiring only.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    offpush::http::serve(offpush_registry::from_env, cert_upload::handle).await
}
