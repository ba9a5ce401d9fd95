//! The envelope every NATS JWT shares: the registered claims (`iss`, `sub`,
//! `iat`, ...) and a `nats` object whose shape depends on the claim type.
//!
//! Field order and omission follow nats-io/jwt's Go structs (`ClaimsData`
//! and its `omitempty` tags), because the `jti` is a hash of exactly that
//! JSON: a different order or an extra zero field would give another `jti`.

use nkeys::KeyPairType;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt;

use super::account::Account;
use super::activation::Activation;
use super::operator::Operator;
use super::permissions::nullable;
use super::user::User;
use super::{JwtError, is_zero_u32};

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

pub(crate) fn is_zero(n: &i64) -> bool {
    *n == 0
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

pub type OperatorClaims = Claims<Operator>;
pub type AccountClaims = Claims<Account>;
pub type UserClaims = Claims<User>;
pub type ActivationClaims = Claims<Activation>;

/// The `nats` part of one claim type. Implemented by [`Operator`],
/// [`Account`], [`User`] and [`Activation`]; the codec is generic over it.
pub trait NatsClaim: Serialize + DeserializeOwned + Clone {
    const TYPE: ClaimType;

    /// Sets `type` and `version`, as nats-io/jwt does on every encode.
    fn stamp(&mut self);

    /// Last changes before signing (accounts sort their exports and imports).
    fn normalize(&mut self) {}

    fn wrap(claims: Claims<Self>) -> Decoded;

    /// The claims, if `decoded` holds this type.
    fn unwrap(decoded: Decoded) -> Option<Claims<Self>>;
}

/// Implements [`NatsClaim`] for a claim type whose `ClaimType` and
/// `Decoded` variants share its name; `normalize = f` adds a pre-signing step.
macro_rules! nats_claim {
    ($name:ident $(, normalize = $normalize:path)?) => {
        impl $crate::auth::jwt::claims::NatsClaim for $name {
            const TYPE: $crate::auth::jwt::claims::ClaimType =
                $crate::auth::jwt::claims::ClaimType::$name;

            fn stamp(&mut self) {
                self.generic.claim_type = Self::TYPE.as_str().to_string();
                self.generic.version = $crate::auth::jwt::JWT_VERSION;
            }

            $(fn normalize(&mut self) {
                $normalize(self)
            })?

            fn wrap(claims: $crate::auth::jwt::claims::Claims<Self>) -> $crate::auth::jwt::claims::Decoded {
                $crate::auth::jwt::claims::Decoded::$name(claims)
            }

            fn unwrap(
                decoded: $crate::auth::jwt::claims::Decoded,
            ) -> Option<$crate::auth::jwt::claims::Claims<Self>> {
                match decoded {
                    $crate::auth::jwt::claims::Decoded::$name(c) => Some(c),
                    _ => None,
                }
            }
        }
    };
}
pub(crate) use nats_claim;

/// A verified JWT of any claim type.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    Operator(OperatorClaims),
    Account(AccountClaims),
    User(UserClaims),
    Activation(ActivationClaims),
}

impl Decoded {
    pub fn claim_type(&self) -> ClaimType {
        match self {
            Decoded::Operator(_) => ClaimType::Operator,
            Decoded::Account(_) => ClaimType::Account,
            Decoded::User(_) => ClaimType::User,
            Decoded::Activation(_) => ClaimType::Activation,
        }
    }

    /// The registered claims (`iss`, `sub`, `iat`, ...).
    pub fn data(&self) -> &ClaimsData {
        match self {
            Decoded::Operator(c) => &c.data,
            Decoded::Account(c) => &c.data,
            Decoded::User(c) => &c.data,
            Decoded::Activation(c) => &c.data,
        }
    }

    /// The claims as type `N`, or [`JwtError::WrongClaimType`]: a user JWT
    /// presented where an account JWT is expected is refused here.
    pub fn into_claims<N: NatsClaim>(self) -> Result<Claims<N>, JwtError> {
        let found = self.claim_type();
        N::unwrap(self).ok_or(JwtError::WrongClaimType {
            expected: N::TYPE,
            found,
        })
    }
}
