//! Lambda entry point of the push-dispatch function: wiring only.

use lambda_http::{service_fn, Error, Request};
use offpush::config::{init_tracing, Config};
use offpush::Context;

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let config = Config::from_env()?;
    let ctx = Context::from_config(&config).await;
    let ctx = &ctx;
    lambda_http::run(service_fn(move |req: Request| async move {
        Ok::<_, Error>(push_dispatch::handle(ctx, req).await)
    }))
    .await
}
