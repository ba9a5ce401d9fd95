//! Operator JWTs: the root of trust, self-signed by the operator's key.

use serde::{Deserialize, Serialize};

use super::claims::{Claims, ClaimsData, GenericFields};
use super::fields::{is_false, nullable};

/// The `nats` object of an operator JWT, in nats-io/jwt's field order
/// (its `identity` list is not modelled and is ignored when read).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operator {
    /// Other operator keys (`O...`) allowed to sign account JWTs.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub signing_keys: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub account_server_url: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub operator_service_urls: Vec<String>,
    /// Public key of the system account.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub system_account: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub assert_server_version: String,
    /// Accounts must be signed by a signing key, never by the identity key.
    #[serde(default, skip_serializing_if = "is_false")]
    pub strict_signing_key_usage: bool,
    #[serde(flatten)]
    pub generic: GenericFields,
}

impl Claims<Operator> {
    /// Claims for the operator `subject` (an `O...` key).
    pub fn new(subject: impl Into<String>) -> Self {
        Claims {
            data: ClaimsData {
                sub: subject.into(),
                ..Default::default()
            },
            nats: Operator::default(),
        }
    }

    /// Whether `key` may sign account JWTs for this operator: one of its
    /// signing keys, or its identity key unless `strict_signing_key_usage`.
    pub fn is_signer(&self, key: &str) -> bool {
        (key == self.data.sub && !self.nats.strict_signing_key_usage)
            || self.nats.signing_keys.iter().any(|k| k == key)
    }
}
