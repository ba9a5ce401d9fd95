//! A decoded JWT of any of the four kinds, and the trait that ties each
//! kind's `nats` object to its claim type. This file names every kind;
//! the kinds name only the shared envelope (`claims`).

use super::account::Account;
use super::activation::Activation;
use super::claims::{ClaimType, Claims, ClaimsData};
use super::error::JwtError;
use super::operator::Operator;
use super::user::User;
use serde::Serialize;
use serde::de::DeserializeOwned;

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
        impl $crate::auth::jwt::decoded::NatsClaim for $name {
            const TYPE: $crate::auth::jwt::claims::ClaimType =
                $crate::auth::jwt::claims::ClaimType::$name;

            fn stamp(&mut self) {
                self.generic.claim_type = Self::TYPE.as_str().to_string();
                self.generic.version = $crate::auth::jwt::claims::JWT_VERSION;
            }

            $(fn normalize(&mut self) {
                $normalize(self)
            })?

            fn wrap(claims: $crate::auth::jwt::claims::Claims<Self>) -> $crate::auth::jwt::decoded::Decoded {
                $crate::auth::jwt::decoded::Decoded::$name(claims)
            }

            fn unwrap(
                decoded: $crate::auth::jwt::decoded::Decoded,
            ) -> Option<$crate::auth::jwt::claims::Claims<Self>> {
                match decoded {
                    $crate::auth::jwt::decoded::Decoded::$name(c) => Some(c),
                    _ => None,
                }
            }
        }
    };
}

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

nats_claim!(Account, normalize = Account::sort_for_signing);
nats_claim!(Activation);
nats_claim!(Operator);
nats_claim!(User);
