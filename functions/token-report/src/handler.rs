//! HTTP for token reporting:
//! PUT/DELETE `/v1/push-token` (the caller's own devices),
//! POST `/v1/users/{user_id}/logout` and GET `/v1/users/{user_id}/devices` (admin).
//! A request for anything else is a 404 `not_found`, before any authentication:
//! the answer API Gateway itself gives a method and path no route has
//! (template.yaml's gateway responses), should such a request reach it.

use crate::service::{self, DeviceSelector, Report, ReportOutcome};
use offpush::domain::{BindingView, DeviceId, PushToken, UserId};
use offpush::http::{self, Body, Request, Response};
use offpush::{access, Context, ServiceError};
use serde_json::json;

pub async fn handle(ctx: &Context, req: Request) -> Response<Body> {
    http::respond("token-report", &req, Box::pin(route(ctx, &req))).await
}

async fn route(ctx: &Context, req: &Request) -> Result<Response<Body>, ServiceError> {
    let started_ms = service::now_ms();
    let segments: Vec<&str> = http::path(req).trim_start_matches('/').split('/').collect();
    let method = req.method().as_str();
    if !is_route(method, &segments) {
        return Err(http::route_not_found());
    }
    let (caller, app) =
        access::authenticate(&ctx.store, http::header(req, "authorization")).await?;
    match (method, segments.as_slice()) {
        ("PUT", ["v1", "push-token"]) => {
            caller.require_user()?;
            http::query_params(req, &[])?;
            let report = Report::parse(http::json_body(req)?)?;
            match service::report(ctx, &app, &caller.sub, report, started_ms).await? {
                ReportOutcome::Bound { binding, kicked } => {
                    let view = BindingView {
                        // Extension: how many devices this login ended, for the client's UX.
                        kicked_devices: Some(kicked.len()),
                        ..BindingView::from(&binding)
                    };
                    Ok(http::json_response(200, &view))
                }
                ReportOutcome::Removed => Ok(http::no_content()),
            }
        }
        ("DELETE", ["v1", "push-token"]) => {
            caller.require_user()?;
            let params = http::query_params(req, &["device_id", "token"])?;
            http::no_body(req)?;
            let which = match (
                http::query_param(&params, "device_id"),
                http::query_param(&params, "token"),
            ) {
                (Some(d), None) => DeviceSelector::DeviceId(DeviceId::parse("device_id", &d)?),
                (None, Some(t)) => DeviceSelector::Token(PushToken::parse("token", &t)?),
                (Some(_), Some(_)) => {
                    return Err(ServiceError::invalid(
                        "token",
                        "give device_id or token, not both",
                    ))
                }
                (None, None) => {
                    return Err(ServiceError::invalid("device_id", "is required (or token)"))
                }
            };
            service::logout_device(ctx, &app, &caller.sub, which).await?;
            Ok(http::no_content())
        }
        ("POST", ["v1", "users", raw_user, "logout"]) => {
            caller.require_admin()?;
            http::query_params(req, &[])?;
            http::no_body(req)?;
            let user = user_in_path(raw_user)?;
            service::logout_user(ctx, &app, &user).await?;
            Ok(http::no_content())
        }
        ("GET", ["v1", "users", raw_user, "devices"]) => {
            caller.require_admin()?;
            http::query_params(req, &[])?;
            http::no_body(req)?;
            let user = user_in_path(raw_user)?;
            let devices = service::list_devices(ctx, &app, &user).await?;
            let views: Vec<BindingView> = devices.iter().map(BindingView::from).collect();
            Ok(http::json_response(
                200,
                &json!({"user_id": user, "devices": views}),
            ))
        }
        _ => Err(http::route_not_found()),
    }
}

/// The routes below (template.yaml's events of this function).
fn is_route(method: &str, segments: &[&str]) -> bool {
    matches!(
        (method, segments),
        ("PUT" | "DELETE", ["v1", "push-token"])
            | ("POST", ["v1", "users", _, "logout"])
            | ("GET", ["v1", "users", _, "devices"])
    )
}

fn user_in_path(raw: &str) -> Result<UserId, ServiceError> {
    UserId::parse("user_id", &http::path_segment("user_id", raw)?)
}
