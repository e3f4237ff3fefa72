//! HTTP for push dispatch and delivery visibility: `POST /v1/push`,
//! `GET /v1/pushes/{request_id}`, `GET /v1/stats`,
//! `GET /v1/users/{user_id}/push-log` (admin token), and
//! `POST /v1/receipts/{platform}/{receipt_secret}` (no JWT: the secret in
//! the path authenticates the vendor).

use crate::{service, visibility};
use offpush::domain::{CertificateId, PushRequest, UserId};
use offpush::http::{self, Body, Request, Response};
use offpush::visibility::{self as views, QUERY};
use offpush::{access, Context, ServiceError};
use std::time::Instant;

pub async fn handle(ctx: &Context, req: Request) -> Response<Body> {
    http::respond("push-dispatch", &req, Box::pin(route(ctx, &req))).await
}

async fn route(ctx: &Context, req: &Request) -> Result<Response<Body>, ServiceError> {
    let started = Instant::now();
    let segments: Vec<&str> = http::path(req).trim_start_matches('/').split('/').collect();
    if let ["v1", "receipts", platform, secret] = segments.as_slice() {
        if req.method() != "POST" {
            return Err(http::route_not_found());
        }
        let answer = visibility::receipt(
            ctx,
            platform,
            secret,
            http::header(req, "content-type"),
            &|name: &str| http::header(req, name).map(str::to_string),
            http::body_bytes(req),
        )
        .await?;
        return Ok(http::json_response(200, &answer));
    }
    let (caller, app) =
        access::authenticate(&ctx.store, http::header(req, "authorization")).await?;
    caller.require_admin()?;
    match (req.method().as_str(), segments.as_slice()) {
        ("POST", ["v1", "push"]) => {
            http::query_params(req, &[])?;
            let push = PushRequest::parse(http::json_body(req)?)?;
            // After the input is checked (a bad push is 400 whatever the
            // rate), before anything is read or sent.
            let limit = app.settings.push_rate_limit(ctx.app_push_rate_limit);
            ctx.push_rate.admit(&ctx.store, &app.id, limit).await?;
            let base = http::public_base_url(req);
            let report = service::push(ctx, &app, push, started, &base).await?;
            Ok(http::json_response(200, &report))
        }
        ("GET", ["v1", "pushes", raw]) => {
            http::query_params(req, &[])?;
            http::no_body(req)?;
            let request_id = http::path_segment("request_id", raw)?;
            offpush::domain::push::check_request_id(&request_id)?;
            let record = views::push_record(&ctx.store, &app.id, &request_id).await?;
            Ok(http::json_response(200, &record))
        }
        ("GET", ["v1", "stats"]) => {
            let params = http::query_params(req, &["from", "to", "certificate_id"])?;
            http::no_body(req)?;
            let cert = http::query_param(&params, "certificate_id")
                .map(|c| CertificateId::parse_path("certificate_id", &c))
                .transpose()?;
            let from = http::query_param(&params, "from");
            let to = http::query_param(&params, "to");
            let stats = views::stats(
                &ctx.store,
                &app.id,
                from.as_deref(),
                to.as_deref(),
                cert,
                &QUERY,
            )
            .await?;
            Ok(http::json_response(200, &stats))
        }
        ("GET", ["v1", "users", raw_user, "push-log"]) => {
            let params = http::query_params(req, &["limit", "before"])?;
            http::no_body(req)?;
            let user = UserId::parse("user_id", &http::path_segment("user_id", raw_user)?)?;
            let limit = views::parse_limit(http::query_param(&params, "limit"), &QUERY)?;
            let before = http::query_param(&params, "before");
            let log = views::push_log(&ctx.store, &app.id, &user, limit, before.as_deref(), &QUERY)
                .await?;
            Ok(http::json_response(200, &log))
        }
        _ => Err(http::route_not_found()),
    }
}
