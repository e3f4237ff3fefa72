//! Lambda entry point of the cert-upload function: wiring only.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    offpush::http::serve(cert_upload::handle).await
}
