//! HTTP for token reporting:
//! PUT/DELETE `/v1/push-token` (the caller's own devices),
//! POST `/v1/users/{user_id}/logout` and GET `/v1/users/{user_id}/devices` (admin).

use crate::service::{self, DeviceSelector, Report, ReportOutcome};
use offpush::domain::ids::MAX_CERTIFICATE_ID;
use offpush::domain::input::parse_body;
use offpush::domain::{rfc3339, Binding, CertificateId, DeviceId, PushToken, UserId};
use offpush::http::{self, Body, Request, Response};
use offpush::{access, Context, ServiceError};
use serde_json::{json, Value};

pub async fn handle(ctx: &Context, req: Request) -> Response<Body> {
    http::respond("token-report", &req, route(ctx, &req)).await
}

/// The response shape of one binding: the token shows its last 4 characters.
pub fn binding_view(b: &Binding) -> Value {
    let at = |secs: i64| {
        time::OffsetDateTime::from_unix_timestamp(secs)
            .map(rfc3339)
            .unwrap_or_default()
    };
    json!({
        "certificate_id": b.certificate_id,
        "device_id": b.device_id,
        "token": b.token.masked(),
        "reported_at": at(b.reported_at_ms / 1000),
        "expires_at": at(b.expires_at),
    })
}

fn parse_report(body: &[u8]) -> Result<Report, ServiceError> {
    let mut obj = parse_body(body)?;
    obj.deny_unknown(&["certificate_id", "token", "device_id"])?;
    let id = obj
        .opt_int("certificate_id", 1, MAX_CERTIFICATE_ID as i64)?
        .ok_or_else(|| ServiceError::invalid("certificate_id", "is required"))?;
    let certificate_id = CertificateId::new(id as u64).expect("range checked");
    let token = obj.req_str("token")?;
    let token = if token.is_empty() {
        None
    } else {
        Some(PushToken::parse("token", &token)?)
    };
    let device_id = obj
        .opt_str("device_id")?
        .map(|d| DeviceId::parse("device_id", &d))
        .transpose()?;
    Ok(Report {
        certificate_id,
        token,
        device_id,
    })
}

async fn route(ctx: &Context, req: &Request) -> Result<Response<Body>, ServiceError> {
    let started_ms = service::now_ms();
    let (caller, app) =
        access::authenticate(&ctx.store, http::header(req, "authorization")).await?;
    let segments: Vec<&str> = http::path(req).trim_start_matches('/').split('/').collect();
    let method = req.method().as_str();
    match (method, segments.as_slice()) {
        ("PUT", ["v1", "push-token"]) => {
            caller.require_user()?;
            http::query_params(req, &[])?;
            let report = parse_report(http::body_bytes(req))?;
            match service::report(ctx, &app, &caller.sub, report, started_ms).await? {
                ReportOutcome::Bound { binding, kicked } => {
                    let mut view = binding_view(&binding);
                    // Extension: which devices this login ended, for the client's UX.
                    view["kicked_devices"] = json!(kicked.len());
                    Ok(http::json_response(200, &view))
                }
                ReportOutcome::Removed => Ok(http::no_content()),
            }
        }
        ("DELETE", ["v1", "push-token"]) => {
            caller.require_user()?;
            let params = http::query_params(req, &["device_id", "token"])?;
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
            let user = user_in_path(raw_user)?;
            service::logout_user(ctx, &app, &user).await?;
            Ok(http::no_content())
        }
        ("GET", ["v1", "users", raw_user, "devices"]) => {
            caller.require_admin()?;
            http::query_params(req, &[])?;
            let user = user_in_path(raw_user)?;
            let devices = service::list_devices(ctx, &app, &user).await?;
            let views: Vec<Value> = devices.iter().map(binding_view).collect();
            Ok(http::json_response(
                200,
                &json!({"user_id": user, "devices": views}),
            ))
        }
        _ => Err(http::route_not_found()),
    }
}

fn user_in_path(raw: &str) -> Result<UserId, ServiceError> {
    UserId::parse("user_id", &http::path_segment("user_id", raw)?)
}
