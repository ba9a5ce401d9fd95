//! User JWTs: who may connect to an account, with which permissions.

use serde::{Deserialize, Serialize};

use super::claims::{Claims, ClaimsData, GenericFields};
use super::permissions::UserPermissionLimits;

/// The `nats` object of a user JWT.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    #[serde(flatten)]
    pub limits: UserPermissionLimits,
    /// Set when a signing key of this account issued the JWT (then `iss` is
    /// the signing key and this is the account's identity key).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub issuer_account: String,
    #[serde(flatten)]
    pub generic: GenericFields,
}

impl Claims<User> {
    /// Claims for the user `subject` (a `U...` key), unlimited like
    /// nats-io/jwt's `NewUserClaims`.
    pub fn new(subject: impl Into<String>) -> Self {
        Claims {
            data: ClaimsData {
                sub: subject.into(),
                ..Default::default()
            },
            nats: User {
                limits: UserPermissionLimits::unlimited(),
                ..Default::default()
            },
        }
    }

    /// The account this user belongs to: `issuer_account` when a signing key
    /// issued the JWT, otherwise the issuer itself.
    pub fn account(&self) -> &str {
        if self.nats.issuer_account.is_empty() {
            &self.data.iss
        } else {
            &self.nats.issuer_account
        }
    }
}
