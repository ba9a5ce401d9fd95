//! Authentication: who a connection is, from its CONNECT credentials.
//!
//! This module owns the checks (passwords and tokens, plain or bcrypt; nkey
//! signatures over the server's nonce), the NATS JWT codec ([`jwt`]), the
//! operator directory that `switchyard auth` writes ([`store`]), and the
//! [`UserDirectory`] that maps credentials to an [`Identity`]: a tenant, a
//! user and its permissions. It does not read configuration files, send
//! `-ERR`, or enforce permissions; `login`, `tenant` and the server do
//! those with what this module returns.
//!
//! May use: `protocol`, `subject`, `config`.

pub mod activation;
mod connect_times;
mod error;
pub mod jwt;
pub mod jwt_login;
mod nkey;
mod nonce;
pub mod operator;
mod password;
pub mod store;
mod tls_peer;
mod users;

pub use error::{AuthConfigError, AuthConfigIssue, AuthError};
pub use nkey::verify_nonce_signature;
pub use nonce::new_nonce;
pub(crate) use password::constant_time_eq;
pub use password::{is_bcrypt, verify_secret};
pub use tls_peer::TlsPeer;
pub use users::{CheckedSecret, Identity, UserDirectory};
