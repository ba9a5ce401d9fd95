//! Why a login failed, and why a set of users could not be loaded.
//!
//! Both are for logs and operators: a client that fails to log in is only
//! ever told `Authorization Violation`.

use thiserror::Error;

/// A failed login. Secrets (passwords, tokens, signatures) never appear in
/// the message; user names and public keys do, since they help an operator
/// and are not secret.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AuthError {
    #[error("no credentials and no no_auth_user configured")]
    MissingCredentials,
    #[error("unknown user `{user}`")]
    UnknownUser { user: String },
    #[error("wrong or missing password for user `{user}`")]
    BadPassword { user: String },
    #[error("unknown token")]
    UnknownToken,
    #[error("unknown nkey `{nkey}`")]
    UnknownNkey { nkey: String },
    #[error("nkey `{nkey}`: no nonce was sent to this connection to sign")]
    NonceNotIssued { nkey: String },
    #[error("nkey `{nkey}`: CONNECT carries no signature")]
    SignatureMissing { nkey: String },
    #[error("nkey `{nkey}`: the signature does not match the nonce")]
    BadSignature { nkey: String },
    #[error("user JWT: {reason}")]
    BadJwt { reason: String },
    #[error("user JWT: account `{account}` is not known to the trusted operator")]
    UnknownAccount { account: String },
    #[error("user JWT: issuer `{issuer}` is not account `{account}` or one of its signing keys")]
    NotIssuedByAccount { issuer: String, account: String },
    #[error("user JWT for `{user}` is revoked")]
    Revoked { user: String },
    #[error("user JWT for `{user}` is a bearer token, which account `{account}` does not allow")]
    BearerNotAllowed { user: String, account: String },
    #[error("user `{user}` may not connect from {ip}")]
    SourceNotAllowed { user: String, ip: String },
    #[error("user JWT for `{user}`: {reason}")]
    OutsideConnectTimes { user: String, reason: String },
    #[error("user JWT for `{user}` allows only connection types {types:?}, not STANDARD")]
    ConnectionTypeNotAllowed { user: String, types: Vec<String> },
    #[error("user JWTs are only accepted in operator mode")]
    NoOperator,
    #[error("no verified client certificate to map to a user")]
    NoCertificate,
    #[error("client certificate `{subject}` maps to no certificate user")]
    CertificateNotMapped { subject: String },
    #[error("auth plugin `{plugin}` refused: {reason}")]
    PluginRefused { plugin: String, reason: String },
}

impl AuthError {
    /// Whether the broker's own users simply do not know this client, so
    /// an auth plugin may be asked (as opposed to a known user presenting
    /// wrong credentials).
    pub fn is_unknown_client(&self) -> bool {
        matches!(
            self,
            AuthError::MissingCredentials
                | AuthError::UnknownUser { .. }
                | AuthError::UnknownToken
                | AuthError::UnknownNkey { .. }
                | AuthError::NoOperator
        )
    }
}

/// One problem in the users of the tenant files. `user` is the user's name
/// in backquotes, or `#N` (1-based position in the file) when it has none.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AuthConfigIssue {
    #[error("tenant `{tenant}`: user {user}: needs one of password (with user), token or nkey")]
    NoCredential { tenant: String, user: String },
    #[error("tenant `{tenant}`: user {user}: has more than one of password, token and nkey")]
    SeveralCredentials { tenant: String, user: String },
    #[error("tenant `{tenant}`: user {user}: password needs a user name")]
    PasswordWithoutUser { tenant: String, user: String },
    #[error("tenant `{tenant}`: user {user}: {field} is empty")]
    EmptyField {
        tenant: String,
        user: String,
        field: &'static str,
    },
    #[error("tenant `{tenant}`: user {user}: {field} looks like bcrypt but is not a valid hash")]
    MalformedBcrypt {
        tenant: String,
        user: String,
        field: &'static str,
    },
    #[error("tenant `{tenant}`: user {user}: nkey `{nkey}` is not a user public key (U...)")]
    InvalidNkey {
        tenant: String,
        user: String,
        nkey: String,
    },
    #[error("tenant `{tenant}`: user name `{name}` is already used in tenant `{first_tenant}`")]
    DuplicateUser {
        tenant: String,
        name: String,
        first_tenant: String,
    },
    #[error(
        "tenant `{tenant}`: user {user}: same token as user {first_user} of tenant `{first_tenant}`"
    )]
    DuplicateToken {
        tenant: String,
        user: String,
        first_tenant: String,
        first_user: String,
    },
    /// A bcrypt token cannot be looked up, only tried, so every hashed
    /// token is one more bcrypt check for each unknown token a client
    /// sends. nats-server has one server-wide token; Switchyard allows one
    /// bcrypt-hashed token in the whole configuration (plain tokens are
    /// indexed and cost nothing to miss).
    #[error(
        "tenant `{tenant}`: user {user}: a second bcrypt-hashed token (the first is user {first_user} of tenant `{first_tenant}`); at most one token may be hashed, use plain tokens or user/password for the others"
    )]
    SecondBcryptToken {
        tenant: String,
        user: String,
        first_tenant: String,
        first_user: String,
    },
    #[error("tenant `{tenant}`: nkey `{nkey}` is already used in tenant `{first_tenant}`")]
    DuplicateNkey {
        tenant: String,
        nkey: String,
        first_tenant: String,
    },
    #[error("no_auth_user `{name}` is not a password or token user of any tenant")]
    UnknownNoAuthUser { name: String },
}

/// Every problem found in one pass, so an operator can fix them all at once.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{}", display_all(.issues))]
pub struct AuthConfigError {
    pub issues: Vec<AuthConfigIssue>,
}

fn display_all(issues: &[AuthConfigIssue]) -> String {
    issues
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}
