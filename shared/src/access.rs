//! Authentication of a request: the bearer JWT is checked against its app's
//! signing secret from the table before anything else is touched.

use crate::auth::{self, Caller};
use crate::domain::App;
use crate::error::ServiceError;
use crate::store::Store;

pub async fn authenticate(
    store: &Store,
    authorization: Option<&str>,
) -> Result<(Caller, App), ServiceError> {
    let jwt = auth::bearer(authorization)?;
    let app_id = auth::peek_issuer(jwt)?;
    let app = store
        .get_app(&app_id)
        .await?
        // An unknown app is indistinguishable from a bad signature to the caller.
        .ok_or_else(|| ServiceError::Unauthenticated("unknown app or bad signature".into()))?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let caller = auth::verify(jwt, &app.id, &app.signing_secret, now)?;
    Ok((caller, app))
}
