//! HTTP for the certificate routes (admin token only):
//! POST/GET `/v1/certificates`, GET/PUT/DELETE `/v1/certificates/{id}`.

use crate::service;
use offpush::domain::{CertificateId, CertificateInput, CertificateView};
use offpush::http::{self, Body, Request, Response};
use offpush::{access, Context, ServiceError};
use serde_json::json;

/// The answer's view: with the receipt URL when this call set a new secret.
fn view(ctx: &Context, req: &Request, saved: &service::Saved) -> CertificateView {
    let mut v = service::view(ctx, &saved.cert);
    v.receipt_url = saved.new_receipt_secret.as_ref().map(|secret| {
        http::receipt_url(
            &http::public_base_url(req),
            saved.cert.platform,
            secret.expose(),
        )
    });
    v
}

/// A create or edit body, parsed for the platforms this function serves.
fn upload<'a>(
    ctx: &Context,
    req: &Request,
    base_url: &'a str,
) -> Result<service::Upload<'a>, ServiceError> {
    let params = http::query_params(req, &["verify"])?;
    let verify = http::query_bool(&params, "verify", true)?;
    let input = CertificateInput::parse(http::json_body(req)?, &ctx.vendors.platforms())?;
    Ok(service::Upload {
        input,
        verify,
        base_url,
    })
}

pub async fn handle(ctx: &Context, req: Request) -> Response<Body> {
    http::respond("cert-upload", &req, Box::pin(route(ctx, &req))).await
}

async fn route(ctx: &Context, req: &Request) -> Result<Response<Body>, ServiceError> {
    // The JWT is checked before anything else, whatever the route.
    let (caller, app) =
        access::authenticate(&ctx.store, http::header(req, "authorization")).await?;
    caller.require_admin()?;
    let app = &app.id;
    let segments: Vec<&str> = http::path(req).trim_start_matches('/').split('/').collect();
    let method = req.method().as_str();
    match segments.as_slice() {
        ["v1", "certificates"] => match method {
            "POST" => {
                let base = http::public_base_url(req);
                let saved = service::create(ctx, app, upload(ctx, req, &base)?).await?;
                let mut resp = http::json_response(201, &view(ctx, req, &saved));
                let location = format!("/v1/certificates/{}", saved.cert.id);
                resp.headers_mut()
                    .insert("location", location.parse().expect("ascii path"));
                Ok(resp)
            }
            "GET" => {
                http::query_params(req, &[])?;
                http::no_body(req)?;
                let certs = service::list(ctx, app).await?;
                let views: Vec<CertificateView> =
                    certs.iter().map(|c| service::view(ctx, c)).collect();
                Ok(http::json_response(200, &json!({ "certificates": views })))
            }
            _ => Err(http::route_not_found()),
        },
        ["v1", "certificates", raw_id] => {
            let id = CertificateId::parse_path("id", raw_id)?;
            match method {
                "GET" => {
                    http::query_params(req, &[])?;
                    http::no_body(req)?;
                    let cert = service::get(ctx, app, id).await?;
                    Ok(http::json_response(200, &service::view(ctx, &cert)))
                }
                "PUT" => {
                    let base = http::public_base_url(req);
                    let saved = service::replace(ctx, app, id, upload(ctx, req, &base)?).await?;
                    Ok(http::json_response(200, &view(ctx, req, &saved)))
                }
                "DELETE" => {
                    http::query_params(req, &[])?;
                    http::no_body(req)?;
                    service::delete(ctx, app, id).await?;
                    Ok(http::no_content())
                }
                _ => Err(http::route_not_found()),
            }
        }
        _ => Err(http::route_not_found()),
    }
}
