//! Certificate use cases. Every call is scoped to the caller's app: keys are
//! built from it, so another app's certificates cannot even be named.

use offpush::clock::now_ms;
use offpush::domain::{
    AppId, Certificate, CertificateId, CertificateInput, ReceiptSecret, Receipts, VivoCredentials,
};
use offpush::store::certificates::ReceiptChange;
use offpush::{Context, ServiceError};
use time::OffsetDateTime;

/// A saved certificate, and the receipt URL secret when this call set a
/// new one (shown once, in this answer only).
pub struct Saved {
    pub cert: Certificate,
    pub new_receipt_secret: Option<ReceiptSecret>,
}

/// The receipt settings an input asks for, given the stored ones: a new
/// secret when receipts are switched on or the caller rotates it, the kept
/// one otherwise.
fn receipts(
    input: &CertificateInput,
    stored: Option<&Receipts>,
) -> (Option<Receipts>, Option<ReceiptSecret>) {
    let Some(receipt_id) = input.receipt_id.clone() else {
        return (None, None);
    };
    match stored {
        Some(r) if !input.rotate_receipt_url => (
            Some(Receipts {
                receipt_id,
                secret_hash: r.secret_hash.clone(),
            }),
            None,
        ),
        _ => {
            let secret = ReceiptSecret::generate();
            (
                Some(Receipts {
                    receipt_id,
                    secret_hash: secret.hash(),
                }),
                Some(secret),
            )
        }
    }
}

/// The certificate an input describes, under `id`, with `credentials`
/// (the input's secret or the kept one) and its creation time.
fn certificate(
    id: CertificateId,
    input: CertificateInput,
    credentials: VivoCredentials,
    receipt: Option<Receipts>,
    created_at: OffsetDateTime,
) -> Certificate {
    Certificate {
        id,
        name: input.name,
        credentials,
        click_action: input.click_action,
        category: input.category,
        push_mode: input.push_mode,
        default_title: input.default_title,
        receipt,
        created_at,
        updated_at: OffsetDateTime::now_utc(),
    }
}

/// Verify first: refused credentials store nothing, not even an id.
async fn verify(ctx: &Context, cert: &Certificate, verify: bool) -> Result<(), ServiceError> {
    if verify {
        ctx.channel(cert).verify(cert).await?;
    }
    Ok(())
}

fn not_found(id: CertificateId) -> ServiceError {
    ServiceError::NotFound(format!("certificate {id} not found"))
}

pub async fn create(
    ctx: &Context,
    app: &AppId,
    input: CertificateInput,
    verify_first: bool,
) -> Result<Saved, ServiceError> {
    let secret = input
        .app_secret
        .clone()
        .ok_or_else(|| ServiceError::invalid("credentials.app_secret", "is required"))?;
    let credentials = VivoCredentials {
        app_id: input.vivo_app_id,
        app_key: input.app_key.clone(),
        app_secret: secret,
    };
    let unallocated = CertificateId::new(1).expect("1 is a valid id");
    let (receipt, new_receipt_secret) = receipts(&input, None);
    let mut cert = certificate(
        unallocated,
        input,
        credentials,
        receipt,
        OffsetDateTime::now_utc(),
    );
    verify(ctx, &cert, verify_first).await?;
    cert.id = ctx.store.allocate_certificate_id(app).await?;
    let id = cert.id;
    ctx.store.put_new_certificate(app, &cert).await?;
    tracing::info!(app = %app, certificate = %id, vivo_app_id = cert.credentials.app_id, verified = verify_first, receipts = cert.receipt.is_some(), "certificate created");
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

/// Replaces a certificate. Without `app_secret` the stored secret is kept,
/// and the merged credentials are what gets verified.
pub async fn replace(
    ctx: &Context,
    app: &AppId,
    id: CertificateId,
    input: CertificateInput,
    verify_first: bool,
) -> Result<Saved, ServiceError> {
    let existing = get(ctx, app, id).await?;
    let app_secret = match &input.app_secret {
        Some(s) => s.clone(),
        None => existing.credentials.app_secret.clone(),
    };
    let credentials = VivoCredentials {
        app_id: input.vivo_app_id,
        app_key: input.app_key.clone(),
        app_secret,
    };
    let (receipt, new_receipt_secret) = receipts(&input, existing.receipt.as_ref());
    let cert = certificate(id, input, credentials, receipt, existing.created_at);
    verify(ctx, &cert, verify_first).await?;
    let change = ReceiptChange {
        drop: existing.receipt.as_ref().map(|r| r.secret_hash.as_str()),
        put: new_receipt_secret.is_some(),
    };
    if !ctx.store.replace_certificate(app, &cert, change).await? {
        return Err(not_found(id));
    }
    tracing::info!(app = %app, certificate = %id, verified = verify_first, receipts = cert.receipt.is_some(), receipt_url_changed = new_receipt_secret.is_some(), "certificate replaced");
    Ok(Saved {
        cert,
        new_receipt_secret,
    })
}

pub async fn delete(ctx: &Context, app: &AppId, id: CertificateId) -> Result<(), ServiceError> {
    if !ctx.store.delete_certificate(app, id, now_ms()).await? {
        return Err(not_found(id));
    }
    tracing::info!(app = %app, certificate = %id, "certificate deleted");
    Ok(())
}
