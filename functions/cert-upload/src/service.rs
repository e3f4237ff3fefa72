//! Certificate use cases. Every call is scoped to the caller's app: keys are
//! built from it, so another app's certificates cannot even be named.

use offpush::clock::now_ms;
use offpush::domain::{
    AppId, Certificate, CertificateId, CertificateInput, ReceiptSecret, Receipts, Secret,
};
use offpush::store::certificates::ReceiptChange;
use offpush::vendor::{ReceiptStyle, Vendor};
use offpush::{Context, ServiceError};
use time::OffsetDateTime;

/// A saved certificate, and the receipt URL secret when this call set a
/// new one (shown once, in this answer only).
pub struct Saved {
    pub cert: Certificate,
    pub new_receipt_secret: Option<ReceiptSecret>,
}

/// What a create or edit asks for, for one platform: `base_url` is where
/// this API is reached (for the receipt URL).
pub struct Upload<'a> {
    pub input: CertificateInput,
    pub verify: bool,
    pub base_url: &'a str,
}

/// Whether receipts are on, and under which console receipt ID, as the
/// platform's style allows: `receipt_id` for vendors whose console holds the
/// address, `receipts: true` for vendors whose messages carry it.
fn receipts_wanted(
    vendor: &dyn Vendor,
    input: &CertificateInput,
) -> Result<Option<Option<String>>, ServiceError> {
    let platform = vendor.platform();
    match (vendor.receipt_style(), &input.receipt_id, input.receipts) {
        (ReceiptStyle::Console, Some(id), None | Some(true)) => Ok(Some(Some(id.clone()))),
        (ReceiptStyle::Console, Some(_), Some(false)) => Err(ServiceError::invalid(
            "receipts",
            "is false while receipt_id turns receipts on: give one or the other",
        )),
        (ReceiptStyle::Console, None, Some(true)) => Err(ServiceError::invalid(
            "receipts",
            format!("{platform} posts receipts to the address registered in its console: give that receipt's receipt_id instead"),
        )),
        (ReceiptStyle::PerMessage, Some(_), _) => Err(ServiceError::invalid(
            "receipt_id",
            format!("{platform} messages carry the receipt address themselves: use \"receipts\": true"),
        )),
        (ReceiptStyle::PerMessage, None, Some(true)) => Ok(Some(None)),
        (ReceiptStyle::None, Some(_), _) => Err(ServiceError::invalid(
            "receipt_id",
            format!("{platform} sends no delivery receipts"),
        )),
        (ReceiptStyle::None, None, Some(true)) => Err(ServiceError::invalid(
            "receipts",
            format!("{platform} sends no delivery receipts"),
        )),
        (_, None, None | Some(false)) => Ok(None),
    }
}

/// The receipt settings an input asks for, given the stored ones: a new
/// secret when receipts are switched on or the caller rotates it, the kept
/// one otherwise. Vendors whose messages carry the URL keep the secret.
fn receipts(
    vendor: &dyn Vendor,
    input: &CertificateInput,
    stored: Option<&Receipts>,
) -> Result<(Option<Receipts>, Option<ReceiptSecret>), ServiceError> {
    let Some(receipt_id) = receipts_wanted(vendor, input)? else {
        return Ok((None, None));
    };
    let carried = vendor.receipt_style() == ReceiptStyle::PerMessage;
    Ok(match stored {
        Some(r) if !input.rotate_receipt_url && (!carried || r.secret.is_some()) => (
            Some(Receipts {
                receipt_id,
                secret_hash: r.secret_hash.clone(),
                secret: r.secret.clone().filter(|_| carried),
            }),
            None,
        ),
        _ => {
            let secret = ReceiptSecret::generate();
            (
                Some(Receipts {
                    receipt_id,
                    secret_hash: secret.hash(),
                    secret: carried.then(|| Secret::new(secret.expose())),
                }),
                Some(secret),
            )
        }
    })
}

/// The certificate an upload describes, under `id`, with the vendor's
/// parse of its credentials and options (`stored`: an edit's certificate).
fn certificate(
    vendor: &dyn Vendor,
    id: CertificateId,
    up: &mut Upload<'_>,
    stored: Option<&Certificate>,
) -> Result<(Certificate, Option<ReceiptSecret>), ServiceError> {
    let input = &mut up.input;
    let empty = || offpush::domain::input::parse_body(b"{}").expect("an empty object parses");
    let raw = std::mem::replace(&mut input.credentials, empty());
    let credentials = vendor.parse_credentials(raw, stored.map(|c| &c.credentials))?;
    let options = vendor.parse_options(input.vendor_options.take(), stored.map(|c| &c.options))?;
    vendor.check_click(&input.click_action, "click_action")?;
    if input.push_mode == offpush::domain::PushMode::Test && !vendor.has_test_mode() {
        return Err(ServiceError::invalid(
            "push_mode",
            format!(
                "{} has no test mode: use production (test with the vendor's own test devices)",
                input.platform
            ),
        ));
    }
    let (receipt, secret) = receipts(vendor, input, stored.and_then(|c| c.receipt.as_ref()))?;
    let now = OffsetDateTime::now_utc();
    let cert = Certificate {
        id,
        platform: input.platform,
        name: input
            .name
            .clone()
            .unwrap_or_else(|| vendor.default_name(&credentials)),
        credentials,
        options,
        click_action: input.click_action.clone(),
        category: input.category,
        push_mode: input.push_mode,
        default_title: input.default_title.clone(),
        receipt,
        created_at: stored.map_or(now, |c| c.created_at),
        updated_at: now,
    };
    if let (Some(r), Some(secret)) = (&cert.receipt, &secret) {
        let url = offpush::http::receipt_url(up.base_url, cert.platform, secret.expose());
        let most = vendor.max_receipt_url().filter(|_| r.secret.is_some());
        if let Some(most) = most.filter(|m| url.len() > *m) {
            return Err(ServiceError::invalid(
                "receipts",
                format!(
                    "the receipt URL would be {} bytes, over the {most} a {} message may carry: serve the API from a shorter PUBLIC_BASE_URL",
                    url.len(),
                    cert.platform
                ),
            ));
        }
    }
    Ok((cert, secret))
}

/// Checks the certificate's credentials with its vendor, unless told not
/// to. Verify first: refused credentials store nothing, not even an id.
async fn verify(vendor: &dyn Vendor, cert: &Certificate, verify: bool) -> Result<(), ServiceError> {
    if verify {
        vendor.verify(cert).await?;
    }
    Ok(())
}

fn not_found(id: CertificateId) -> ServiceError {
    ServiceError::NotFound(format!("certificate {id} not found"))
}

pub async fn create(ctx: &Context, app: &AppId, mut up: Upload<'_>) -> Result<Saved, ServiceError> {
    let vendor = ctx.vendor(up.input.platform)?;
    let unallocated = CertificateId::new(1).expect("1 is a valid id");
    let (mut cert, new_receipt_secret) = certificate(vendor, unallocated, &mut up, None)?;
    verify(vendor, &cert, up.verify).await?;
    cert.id = ctx.store.allocate_certificate_id(app).await?;
    let id = cert.id;
    ctx.store.put_new_certificate(app, &cert).await?;
    tracing::info!(app = %app, certificate = %id, platform = %cert.platform, verified = up.verify, receipts = cert.receipt.is_some(), "certificate created");
    Ok(Saved {
        cert,
        new_receipt_secret,
    })
}

pub async fn list(ctx: &Context, app: &AppId) -> Result<Vec<Certificate>, ServiceError> {
    Ok(ctx.store.list_certificates(app).await?)
}

pub async fn get(
    ctx: &Context,
    app: &AppId,
    id: CertificateId,
) -> Result<Certificate, ServiceError> {
    ctx.store
        .get_certificate(app, id)
        .await?
        .ok_or_else(|| not_found(id))
}

/// Replaces a certificate. Secrets the body omits keep their stored
/// values, and the merged credentials are what gets verified. The platform
/// never changes.
pub async fn replace(
    ctx: &Context,
    app: &AppId,
    id: CertificateId,
    mut up: Upload<'_>,
) -> Result<Saved, ServiceError> {
    let existing = get(ctx, app, id).await?;
    if existing.platform != up.input.platform {
        return Err(ServiceError::invalid(
            "platform",
            format!(
                "a certificate's platform never changes (this one is {}); create a new certificate",
                existing.platform
            ),
        ));
    }
    let vendor = ctx.vendor(existing.platform)?;
    let (cert, new_receipt_secret) = certificate(vendor, id, &mut up, Some(&existing))?;
    verify(vendor, &cert, up.verify).await?;
    let change = ReceiptChange {
        drop: existing.receipt.as_ref().map(|r| r.secret_hash.as_str()),
        put: new_receipt_secret.is_some(),
    };
    if !ctx.store.replace_certificate(app, &cert, change).await? {
        return Err(not_found(id));
    }
    tracing::info!(app = %app, certificate = %id, verified = up.verify, receipts = cert.receipt.is_some(), receipt_url_changed = new_receipt_secret.is_some(), "certificate replaced");
    Ok(Saved {
        cert,
        new_receipt_secret,
    })
}

/// The answer's view of a certificate, masked by its vendor.
pub fn view(ctx: &Context, cert: &Certificate) -> offpush::domain::CertificateView {
    match ctx.vendors.get(cert.platform) {
        Some(v) => offpush::domain::CertificateView::new(
            cert,
            v.view_credentials(&cert.credentials),
            v.view_options(&cert.options),
        ),
        // Never stored through this API (it refuses such platforms), and
        // nothing is shown of credentials no adapter can mask.
        None => offpush::domain::CertificateView::new(cert, serde_json::Value::Null, None),
    }
}

pub async fn delete(ctx: &Context, app: &AppId, id: CertificateId) -> Result<(), ServiceError> {
    if !ctx.store.delete_certificate(app, id, now_ms()).await? {
        return Err(not_found(id));
    }
    tracing::info!(app = %app, certificate = %id, "certificate deleted");
    Ok(())
}
