//! Why a login failed, coarsely: the label of the auth-failure metric.

use crate::auth::AuthError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// Unknown user, wrong password, token, nkey or signature, or none given.
    Credentials,
    /// A user JWT that is malformed, expired, or not issued by a known account.
    Jwt,
    Revoked,
    /// The user may not connect from the client's address.
    Source,
    /// The tenant's connection limit was reached.
    AccountLimit,
    /// No CONNECT within `auth_timeout`.
    Timeout,
    /// Refused unchecked: too many logins in progress (`max_pending_logins`
    /// or `max_pending_logins_per_ip`).
    Busy,
}

impl AuthFailure {
    pub const ALL: [AuthFailure; 7] = [
        AuthFailure::Credentials,
        AuthFailure::Jwt,
        AuthFailure::Revoked,
        AuthFailure::Source,
        AuthFailure::AccountLimit,
        AuthFailure::Timeout,
        AuthFailure::Busy,
    ];

    pub fn label(self) -> &'static str {
        match self {
            AuthFailure::Credentials => "credentials",
            AuthFailure::Jwt => "jwt",
            AuthFailure::Revoked => "revoked",
            AuthFailure::Source => "source",
            AuthFailure::AccountLimit => "account_limit",
            AuthFailure::Timeout => "timeout",
            AuthFailure::Busy => "busy",
        }
    }

    pub fn of(e: &AuthError) -> AuthFailure {
        match e {
            AuthError::BadJwt { .. }
            | AuthError::UnknownAccount { .. }
            | AuthError::NotIssuedByAccount { .. }
            | AuthError::BearerNotAllowed { .. }
            | AuthError::NoOperator => AuthFailure::Jwt,
            AuthError::Revoked { .. } => AuthFailure::Revoked,
            AuthError::SourceNotAllowed { .. } => AuthFailure::Source,
            _ => AuthFailure::Credentials,
        }
    }

    pub fn slot(self) -> usize {
        self as usize
    }
}
