//! Why the operator directory could not be read or written. Messages name
//! the file and the reason; never a seed.

use std::io;
use std::path::PathBuf;
use thiserror::Error;

use crate::auth::jwt::JwtError;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("cannot read `{}`: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write `{}`: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("no operator in `{}`: `{}` not found (create one with `switchyard auth init`)", dir.display(), path.display())]
    NoOperator { dir: PathBuf, path: PathBuf },
    #[error("account `{name}` not found in {}", dir.display())]
    AccountNotFound { name: String, dir: PathBuf },
    #[error("user `{name}` not found in account `{account}` ({})", dir.display())]
    UserNotFound {
        account: String,
        name: String,
        dir: PathBuf,
    },
    #[error("invalid {what} name `{name}`: {reason}")]
    InvalidName {
        what: &'static str,
        name: String,
        reason: &'static str,
    },
    #[error("`{}`: {source}", path.display())]
    Jwt { path: PathBuf, source: JwtError },
    #[error("`{}`: not a valid nkey seed", path.display())]
    BadSeed { path: PathBuf },
    #[error("`{}`: expected {expected} seed, found {found} seed", path.display())]
    WrongSeedKind {
        path: PathBuf,
        expected: &'static str,
        found: &'static str,
    },
    #[error("`{}` holds the seed of `{key}`, but `{}` is about `{subject}`", seed.display(), jwt.display())]
    KeyMismatch {
        seed: PathBuf,
        key: String,
        jwt: PathBuf,
        subject: String,
    },
    #[error("`{}`: an operator JWT must be self-signed, but it was issued by `{issuer}`", path.display())]
    NotSelfSigned { path: PathBuf, issuer: String },
}
