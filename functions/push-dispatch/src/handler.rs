//! HTTP for the push-dispatch routes.

use offpush::http::{self, Body, Request, Response};
use offpush::{access, Context, ServiceError};

pub async fn handle(ctx: &Context, req: Request) -> Response<Body> {
    http::respond("push-dispatch", &req, route(ctx, &req)).await
}

async fn route(ctx: &Context, req: &Request) -> Result<Response<Body>, ServiceError> {
    let (_caller, _app) =
        access::authenticate(&ctx.store, http::header(req, "authorization")).await?;
    Err(http::route_not_found())
}
