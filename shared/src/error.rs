//! The one service error type, and its HTTP meaning (API.md "Errors").

use std::time::Duration;

/// A source error kept as a chain for the log, never shown to callers.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// 400: one input field (or the body as a whole, `field` = None) is wrong.
    #[error("{message}")]
    InvalidArgument {
        field: Option<String>,
        message: String,
    },
    /// 401: no usable credentials. The message never echoes the token.
    #[error("{0}")]
    Unauthenticated(String),
    /// 403: authenticated, but not allowed.
    #[error("{0}")]
    PermissionDenied(String),
    /// 404
    #[error("{0}")]
    NotFound(String),
    /// 409
    #[error("{0}")]
    Conflict(String),
    /// 413
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 422: the vendor refused the certificate's credentials.
    #[error("{message}")]
    InvalidCredentials {
        field: Option<String>,
        message: String,
    },
    /// 429 with Retry-After.
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after: Duration,
    },
    /// 502 (or 503 when `unavailable`): the vendor could not be reached or answered nonsense.
    #[error("{message}")]
    VendorUnavailable { message: String, unavailable: bool },
    /// 500: the message shown is generic; the chain goes to the log only.
    #[error("internal error: {context}")]
    Internal {
        context: &'static str,
        #[source]
        source: BoxError,
    },
}

impl ServiceError {
    pub fn invalid(field: impl Into<String>, message: impl std::fmt::Display) -> Self {
        let field = field.into();
        ServiceError::InvalidArgument {
            message: format!("{field}: {message}"),
            field: Some(field),
        }
    }

    pub fn invalid_body(message: impl Into<String>) -> Self {
        ServiceError::InvalidArgument {
            field: None,
            message: message.into(),
        }
    }

    pub fn internal(context: &'static str, source: impl Into<BoxError>) -> Self {
        ServiceError::Internal {
            context,
            source: source.into(),
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            ServiceError::InvalidArgument { .. } => 400,
            ServiceError::Unauthenticated(_) => 401,
            ServiceError::PermissionDenied(_) => 403,
            ServiceError::NotFound(_) => 404,
            ServiceError::Conflict(_) => 409,
            ServiceError::PayloadTooLarge(_) => 413,
            ServiceError::InvalidCredentials { .. } => 422,
            ServiceError::RateLimited { .. } => 429,
            ServiceError::VendorUnavailable { unavailable, .. } => {
                if *unavailable {
                    503
                } else {
                    502
                }
            }
            ServiceError::Internal { .. } => 500,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::InvalidArgument { .. } => "invalid_argument",
            ServiceError::Unauthenticated(_) => "unauthenticated",
            ServiceError::PermissionDenied(_) => "permission_denied",
            ServiceError::NotFound(_) => "not_found",
            ServiceError::Conflict(_) => "conflict",
            ServiceError::PayloadTooLarge(_) => "payload_too_large",
            ServiceError::InvalidCredentials { .. } => "invalid_credentials",
            ServiceError::RateLimited { .. } => "rate_limited",
            ServiceError::VendorUnavailable { .. } => "vendor_unavailable",
            ServiceError::Internal { .. } => "internal",
        }
    }

    /// What the caller may read. Internal errors say nothing about internals.
    pub fn public_message(&self) -> String {
        match self {
            ServiceError::Internal { .. } => "internal error".to_string(),
            other => other.to_string(),
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            ServiceError::InvalidArgument { field, .. }
            | ServiceError::InvalidCredentials { field, .. } => field.as_deref(),
            _ => None,
        }
    }
}

/// The full source chain of an error, for the log.
pub fn chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}
