//! The provider token through the vendor kit's [`Accounts`]
//! (VENDORS_API.md 6, 12): minted here (no auth endpoint), shared through
//! the table per team and key, refreshed by one instance at a time about
//! every 50 minutes (Apple: no more often than every 20 minutes, no less
//! often than every 60; changing it too often is 429
//! TooManyProviderTokenUpdates), re-minted once on 403
//! ExpiredProviderToken / InvalidProviderToken.
//!
//! [`Accounts`]: offpush::vendor::kit::Accounts

use crate::codes;
use crate::credentials::ApnsCredentials;
use crate::jwt::Signer;
use offpush::clock::now_secs;
use offpush::vendor::kit::rules::credentials;
use offpush::vendor::kit::{self, Authenticator, Fresh, TokenPolicy};
use std::time::{Duration, Instant};

/// APNs refuses a token whose `iat` is over an hour old (6: 403
/// ExpiredProviderToken).
pub const TOKEN_VALID_SECS: i64 = 3600;
/// 12: mint once every ~50 minutes.
pub const TOKEN_REFRESH_SECS: i64 = 50 * 60;

pub const POLICY: TokenPolicy = TokenPolicy {
    refresh_after_secs: TOKEN_REFRESH_SECS,
    // Minting is local: the spacing only keeps a burst of re-mints apart.
    spacing: Duration::from_millis(200),
    // Used until 55 minutes: a call in flight never carries an hour-old
    // token (clock skew included).
    expiry_margin_secs: 300,
};

/// The account's token source.
pub struct ApnsAuth<'a> {
    pub creds: &'a ApnsCredentials,
}

impl ApnsAuth<'_> {
    /// A token minted now, or why the key cannot sign (the certificate's
    /// private_key).
    pub fn mint(&self) -> Result<String, &'static str> {
        Signer::new(self.creds)?.mint(now_secs())
    }
}

impl Authenticator for ApnsAuth<'_> {
    fn authenticate(
        &self,
        _deadline: Instant,
    ) -> futures::future::BoxFuture<'_, Result<Fresh, kit::Refusal>> {
        Box::pin(async move {
            self.mint()
                .map(|value| Fresh {
                    value,
                    valid_secs: TOKEN_VALID_SECS,
                })
                .map_err(|why| {
                    let rule = credentials(
                        Some("credentials.private_key"),
                        "the APNs private key cannot sign provider tokens",
                    );
                    kit::Refusal::new(rule, format!("apns: {}: private_key {why}", rule.meaning))
                        .vendor_code("bad_key")
                })
        })
    }
}

/// The meaning of a paused code (for [`kit::Accounts`]).
pub fn meaning(code: i64) -> &'static str {
    codes::meaning(code)
}
