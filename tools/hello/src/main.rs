//! A hello-world Lambda function: every request is answered 200
//! `{"hello":"world"}`. The baseline of scripts/bench-lambda.sh (size, cold
//! start, memory): the same lambda_http and tokio as the functions, nothing
//! else (no tracing setup, no AWS SDK).

use lambda_http::{service_fn, Body, Error, Request, Response};

async fn hello(_req: Request) -> Result<Response<Body>, Error> {
    Ok(Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(Body::Text(r#"{"hello":"world"}"#.to_string()))?)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::run(service_fn(hello)).await
}
