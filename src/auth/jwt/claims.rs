//! The envelope every NATS JWT shares: the registered claims (`iss`, `sub`,
//! `iat`, ...) and a `nats` object whose shape depends on the claim type.
//!
//! Field order and omission follow nats-io/jwt's Go structs (`ClaimsData`
//! and its `omitempty` tags), because the `jti` is a hash of exactly that
//! JSON: a different order or an extra zero field would give another `jti`.

use nkeys::KeyPairType;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The version of the JWT format these claims are written in.
pub const JWT_VERSION: u32 = 2;

use super::fields::{is_zero, is_zero_u32, nullable};

/// What a JWT describes; the `nats.type` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClaimType {
    Operator,
    Account,
    User,
    Activation,
}

impl ClaimType {
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimType::Operator => "operator",
            ClaimType::Account => "account",
            ClaimType::User => "user",
            ClaimType::Activation => "activation",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<ClaimType> {
        match s {
            "operator" => Some(ClaimType::Operator),
            "account" => Some(ClaimType::Account),
            "user" => Some(ClaimType::User),
            "activation" => Some(ClaimType::Activation),
            _ => None,
        }
    }

    /// The kind of key that may sign this claim type. nats-io/jwt also lets
    /// an account sign its own account JWT and an operator sign an
    /// activation; a server trusts neither, so the codec refuses them.
    pub(crate) fn issuer_kind(self) -> KeyPairType {
        match self {
            ClaimType::Operator | ClaimType::Account => KeyPairType::Operator,
            ClaimType::User | ClaimType::Activation => KeyPairType::Account,
        }
    }

    /// The kind of key the claims are about (`sub`).
    pub(crate) fn subject_kind(self) -> KeyPairType {
        match self {
            ClaimType::Operator => KeyPairType::Operator,
            ClaimType::Account | ClaimType::Activation => KeyPairType::Account,
            ClaimType::User => KeyPairType::User,
        }
    }
}

impl fmt::Display for ClaimType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// "an operator", "a user": for error messages.
pub(crate) fn kind_name(kind: &KeyPairType) -> &'static str {
    match kind {
        KeyPairType::Server => "a server",
        KeyPairType::Cluster => "a cluster",
        KeyPairType::Operator => "an operator",
        KeyPairType::Account => "an account",
        KeyPairType::User => "a user",
        KeyPairType::Module => "a module",
        KeyPairType::Service => "a service",
        KeyPairType::Curve => "a curve",
    }
}

/// The registered claims, in nats-io/jwt's order. Zero values are left out
/// of the JSON, as Go's `omitempty` does.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimsData {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub aud: String,
    /// Expiry, unix seconds; 0 = never.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub exp: i64,
    /// Set by the encoder: a hash of these claims (see `codec::hash_id`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub jti: String,
    /// Issued at, unix seconds; set by the encoder.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub iat: i64,
    /// The signer's public key; set by the encoder.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub iss: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Not valid before, unix seconds; 0 = at once.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub nbf: i64,
    /// The public key the claims are about.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sub: String,
}

/// What every `nats` object ends with: nats-io/jwt's `GenericFields`
/// (tags, and the claim type and version the encoder stamps). Each claim
/// type flattens it after its own fields, where Go's struct embedding puts
/// it, so the signed JSON keeps nats-io/jwt's field order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenericFields {
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tags: Vec<String>,
    #[serde(rename = "type", default, skip_serializing_if = "String::is_empty")]
    pub claim_type: String,
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub version: u32,
}

/// A whole JWT payload: registered claims plus the type-specific `nats`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Claims<N> {
    #[serde(flatten)]
    pub data: ClaimsData,
    pub nats: N,
}
