//! HTTP for `POST /v1/push` (admin token).

use crate::service;
use offpush::domain::PushRequest;
use offpush::http::{self, Body, Request, Response};
use offpush::{access, Context, ServiceError};
use std::time::Instant;

pub async fn handle(ctx: &Context, req: Request) -> Response<Body> {
    http::respond("push-dispatch", &req, route(ctx, &req)).await
}

async fn route(ctx: &Context, req: &Request) -> Result<Response<Body>, ServiceError> {
    let started = Instant::now();
    let (caller, app) =
        access::authenticate(&ctx.store, http::header(req, "authorization")).await?;
    caller.require_admin()?;
    let segments: Vec<&str> = http::path(req).trim_start_matches('/').split('/').collect();
    match (req.method().as_str(), segments.as_slice()) {
        ("POST", ["v1", "push"]) => {
            http::query_params(req, &[])?;
            let push = PushRequest::parse(http::json_body(req)?)?;
            let report = service::push(ctx, &app, push, started).await?;
            Ok(http::json_response(200, &report))
        }
        _ => Err(http::route_not_found()),
    }
}
