//! NATS JWT v2 (`alg: ed25519-nkey`), byte-compatible with nats-io/jwt:
//! the claim types (operator, account, user, activation), issuing and
//! verifying tokens, and `.creds` files.
//!
//! This module checks what a token says about itself: its signature, that
//! its issuer and subject are the right kinds of nkey for its claim type,
//! and its validity period. Whether the issuer is *trusted* (the operator is
//! configured, the account lists the signing key, the user is not revoked)
//! is for the caller that holds the operator and account JWTs; the claim
//! types offer the lookups it needs (`OperatorClaims::is_signer`,
//! `AccountClaims::is_signer`, `AccountClaims::is_revoked`).
//!
//! Serialization mirrors nats-io/jwt's Go structs field by field (order,
//! and `omitempty` as `skip_serializing_if`), so a JWT issued here carries
//! the same `jti` nats-io/jwt would compute for the same claims. Fields of
//! the Go structs that a broker without JetStream has no use for are not
//! modelled; they are ignored when a token is read.
//!
//! May use: nothing in the crate outside `auth::jwt`.

mod account;
mod activation;
mod claims;
mod codec;
mod creds;
mod decoded;
mod error;
mod exports;
mod fields;
mod operator;
mod permissions;
mod user;

#[cfg(test)]
mod golden_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod vector_tests;

pub use account::{
    Account, AccountLimits, ExternalAuthorization, REVOKE_ALL, SigningKey, USER_SCOPE, UserScope,
    WeightedMapping, is_revoked,
};
pub use activation::Activation;
pub use claims::{ClaimType, Claims, ClaimsData, GenericFields, JWT_VERSION};
pub use codec::{decode, decode_at, encode, encode_at, hash_id};
pub use decoded::{
    AccountClaims, ActivationClaims, Decoded, NatsClaim, OperatorClaims, UserClaims,
};
// Signature and key-kind checks without the clock, for the operator
// directory (`auth::store`), which leaves validity periods to its callers.
pub(crate) use codec::decode_verified;
pub use creds::{format_creds, parse_creds};
pub use error::JwtError;
pub use exports::{Export, ExportType, Import, LatencySampling, ResponseType, ServiceLatency};
pub use operator::Operator;
pub use permissions::{
    Permission, Permissions, ResponsePermission, TimeRange, UserPermissionLimits,
};
pub use user::User;
