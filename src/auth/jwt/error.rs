//! Why a JWT could not be issued, read or trusted, and why a `.creds` file
//! could not be read.
//!
//! Messages name public keys and claim types (they help an operator) but
//! never a seed or a signature.

use thiserror::Error;

use super::claims::ClaimType;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum JwtError {
    #[error("JWT must have 3 dot-separated parts, found {parts}")]
    Malformed { parts: usize },
    #[error("JWT {part} is not base64url without padding")]
    Base64 { part: &'static str },
    #[error("JWT {part} is not valid JSON: {reason}")]
    Json { part: &'static str, reason: String },
    #[error("JWT header: unsupported type `{typ}` (expected JWT)")]
    UnsupportedType { typ: String },
    #[error("JWT header: unsupported algorithm `{alg}` (expected ed25519-nkey)")]
    UnsupportedAlgorithm { alg: String },
    #[error("JWT claims version {version} is not supported (only NATS JWT version 2)")]
    UnsupportedVersion { version: i64 },
    #[error("unknown claim type `{found}`")]
    UnknownClaimType { found: String },
    #[error("expected {expected} claims, found {found} claims")]
    WrongClaimType {
        expected: ClaimType,
        found: ClaimType,
    },
    #[error("{claim} JWT: issuer `{issuer}` is not a valid public nkey")]
    InvalidIssuer { claim: ClaimType, issuer: String },
    #[error(
        "{claim} JWT: issuer `{issuer}` is {found} key, but {claim} JWTs must be issued by {expected} key"
    )]
    WrongIssuerKind {
        claim: ClaimType,
        issuer: String,
        expected: &'static str,
        found: &'static str,
    },
    #[error("{claim} JWT: subject `{subject}` is not {expected} public key")]
    WrongSubjectKind {
        claim: ClaimType,
        subject: String,
        expected: &'static str,
    },
    #[error("JWT signature does not match its header and claims (issuer `{issuer}`)")]
    BadSignature { issuer: String },
    #[error("JWT expired at {exp} (unix seconds; now {now})")]
    Expired { exp: i64, now: i64 },
    #[error("JWT is not valid before {nbf} (unix seconds; now {now})")]
    NotYetValid { nbf: i64, now: i64 },
    #[error("cannot sign a JWT with a public key: the signer needs its seed")]
    SignerWithoutSeed,
    #[error("cannot serialize claims: {reason}")]
    Serialize { reason: String },
    #[error("creds: no JWT found")]
    CredsNoJwt,
    #[error("creds: no nkey seed found")]
    CredsNoSeed,
    #[error("creds: the nkey seed is not a valid operator, account or user seed")]
    CredsBadSeed,
    #[error("creds: a user creds file needs a user seed (SU...), found {found} seed")]
    CredsNotUserSeed { found: &'static str },
    #[error("creds: the seed's public key `{seed_key}` is not the JWT subject `{subject}`")]
    CredsSeedMismatch { seed_key: String, subject: String },
}
