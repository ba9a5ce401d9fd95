//! The operator directory: where `switchyard auth` keeps the keys and JWTs
//! of an operator, its accounts and their users, and where
//! `serve --operator-dir` reads them back.
//!
//! ```text
//! D/operator.jwt                          operator JWT (self-signed)
//! D/operator.nk                           operator seed (SO...), mode 0600
//! D/accounts/<NAME>/account.jwt           account JWT signed by the operator
//! D/accounts/<NAME>/account.nk            account seed (SA...), mode 0600
//! D/accounts/<NAME>/users/<USER>.jwt      user JWT signed by the account
//! D/accounts/<NAME>/users/<USER>.nk       user seed (SU...), mode 0600
//! ```
//!
//! JWT and seed files hold the bare token or seed, without a trailing
//! newline (as `nsc` writes them); readers trim whitespace. Every file is
//! replaced atomically (written beside it, then renamed), so a server
//! reloading while `revoke-user` rewrites an account JWT reads the old
//! token or the new one, never half of each.
//!
//! This module owns paths, file modes and the checks that a seed belongs to
//! the JWT beside it. Loading verifies signatures and key kinds, as
//! nats-io/jwt's `Decode` does; validity periods and whether the operator
//! trusts an account are for the caller, which knows the time it cares
//! about and holds the operator. It knows nothing of the command line.

use nkeys::{KeyPair, KeyPairType};
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::jwt::{self, AccountClaims, NatsClaim, OperatorClaims, UserClaims};

mod error;

pub use error::StoreError;

/// Mode of seed files: readable by their owner only.
pub const SEED_MODE: u32 = 0o600;
/// Mode of JWT files: JWTs are signed, not secret.
pub const JWT_MODE: u32 = 0o644;

/// An operator directory; see the module doc for its layout.
#[derive(Debug, Clone)]
pub struct OperatorStore {
    pub dir: PathBuf,
}

impl OperatorStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        OperatorStore { dir: dir.into() }
    }

    // Paths. Names must have passed `check_name`: they become path
    // components, and the loaders and savers below check them first.

    pub fn operator_jwt_path(&self) -> PathBuf {
        self.dir.join("operator.jwt")
    }

    pub fn operator_seed_path(&self) -> PathBuf {
        self.dir.join("operator.nk")
    }

    pub fn accounts_dir(&self) -> PathBuf {
        self.dir.join("accounts")
    }

    pub fn account_dir(&self, account: &str) -> PathBuf {
        self.accounts_dir().join(account)
    }

    pub fn account_jwt_path(&self, account: &str) -> PathBuf {
        self.account_dir(account).join("account.jwt")
    }

    pub fn account_seed_path(&self, account: &str) -> PathBuf {
        self.account_dir(account).join("account.nk")
    }

    pub fn users_dir(&self, account: &str) -> PathBuf {
        self.account_dir(account).join("users")
    }

    pub fn user_jwt_path(&self, account: &str, user: &str) -> PathBuf {
        self.users_dir(account).join(format!("{user}.jwt"))
    }

    pub fn user_seed_path(&self, account: &str, user: &str) -> PathBuf {
        self.users_dir(account).join(format!("{user}.nk"))
    }

    /// Whether `D/operator.jwt` exists.
    pub fn has_operator(&self) -> bool {
        self.operator_jwt_path().exists()
    }

    pub fn has_account(&self, account: &str) -> bool {
        check_name("account", account).is_ok() && self.account_jwt_path(account).exists()
    }

    pub fn has_user(&self, account: &str, user: &str) -> bool {
        check_name("account", account).is_ok()
            && check_name("user", user).is_ok()
            && self.user_jwt_path(account, user).exists()
    }

    /// The operator JWT and its claims, signature checked and self-signed.
    pub fn load_operator(&self) -> Result<(String, OperatorClaims), StoreError> {
        let path = self.operator_jwt_path();
        if !path.exists() {
            return Err(StoreError::NoOperator {
                dir: self.dir.clone(),
                path,
            });
        }
        let (token, claims) = load_jwt::<jwt::Operator>(&path)?;
        if claims.data.iss != claims.data.sub {
            return Err(StoreError::NotSelfSigned {
                path,
                issuer: claims.data.iss,
            });
        }
        Ok((token, claims))
    }

    /// Every account as `(name, account JWT)`, sorted by name, the tokens
    /// as stored (the caller verifies them against the operator). Hidden
    /// entries and plain files in `D/accounts` are skipped; a directory
    /// without a readable `account.jwt` is an error, not silently absent.
    pub fn list_accounts(&self) -> Result<Vec<(String, String)>, StoreError> {
        let dir = self.accounts_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(StoreError::Read { path: dir, source }),
        };
        let mut accounts = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| StoreError::Read {
                path: dir.clone(),
                source,
            })?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !entry.path().is_dir() {
                continue;
            }
            check_name("account", &name)?;
            let token = read_trimmed(&self.account_jwt_path(&name))?;
            accounts.push((name, token));
        }
        accounts.sort();
        Ok(accounts)
    }

    /// The account JWT of `account` and its claims, signature checked.
    pub fn load_account(&self, account: &str) -> Result<(String, AccountClaims), StoreError> {
        check_name("account", account)?;
        let path = self.account_jwt_path(account);
        if !path.exists() {
            return Err(StoreError::AccountNotFound {
                name: account.to_string(),
                dir: self.accounts_dir(),
            });
        }
        load_jwt::<jwt::Account>(&path)
    }

    /// The user JWT of `user` in `account` and its claims, signature checked.
    pub fn load_user(&self, account: &str, user: &str) -> Result<(String, UserClaims), StoreError> {
        check_name("account", account)?;
        check_name("user", user)?;
        let path = self.user_jwt_path(account, user);
        if !path.exists() {
            return Err(StoreError::UserNotFound {
                account: account.to_string(),
                name: user.to_string(),
                dir: self.users_dir(account),
            });
        }
        load_jwt::<jwt::User>(&path)
    }

    /// The operator's key pair, checked to be the operator JWT's subject.
    pub fn operator_key(&self) -> Result<KeyPair, StoreError> {
        let (_, claims) = self.load_operator()?;
        load_key(
            &self.operator_seed_path(),
            KeyPairType::Operator,
            &self.operator_jwt_path(),
            &claims.data.sub,
        )
    }

    /// The account's key pair, checked to be the account JWT's subject.
    pub fn account_key(&self, account: &str) -> Result<KeyPair, StoreError> {
        let (_, claims) = self.load_account(account)?;
        load_key(
            &self.account_seed_path(account),
            KeyPairType::Account,
            &self.account_jwt_path(account),
            &claims.data.sub,
        )
    }

    /// Writes the operator JWT and, when given, its seed.
    pub fn save_operator(&self, token: &str, seed: Option<&str>) -> Result<(), StoreError> {
        create_dir(&self.dir)?;
        if let Some(seed) = seed {
            write_atomic(&self.operator_seed_path(), seed, SEED_MODE)?;
        }
        write_atomic(&self.operator_jwt_path(), token, JWT_MODE)
    }

    /// Writes an account JWT and, when given, its seed (the seed first, so
    /// an account JWT on disk always has its seed beside it).
    pub fn save_account(
        &self,
        account: &str,
        token: &str,
        seed: Option<&str>,
    ) -> Result<(), StoreError> {
        check_name("account", account)?;
        create_dir(&self.account_dir(account))?;
        if let Some(seed) = seed {
            write_atomic(&self.account_seed_path(account), seed, SEED_MODE)?;
        }
        write_atomic(&self.account_jwt_path(account), token, JWT_MODE)
    }

    /// Writes a user's JWT and seed under its account.
    pub fn save_user(
        &self,
        account: &str,
        user: &str,
        token: &str,
        seed: &str,
    ) -> Result<(), StoreError> {
        check_name("account", account)?;
        check_name("user", user)?;
        create_dir(&self.users_dir(account))?;
        write_atomic(&self.user_seed_path(account, user), seed, SEED_MODE)?;
        write_atomic(&self.user_jwt_path(account, user), token, JWT_MODE)
    }
}

/// Account and user names become file names, so they are kept to
/// `[A-Za-z0-9_.-]`, at most 64 characters, not starting with `.` (which
/// rules out `..` and hidden files).
pub fn check_name(what: &'static str, name: &str) -> Result<(), StoreError> {
    let reason = if name.is_empty() {
        Some("it is empty")
    } else if name.len() > 64 {
        Some("it is longer than 64 characters")
    } else if name.starts_with('.') {
        Some("it starts with `.`")
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    {
        Some("use only letters, digits, `_`, `-` and `.`")
    } else {
        None
    };
    match reason {
        None => Ok(()),
        Some(reason) => Err(StoreError::InvalidName {
            what,
            name: name.to_string(),
            reason,
        }),
    }
}

/// Writes `contents` to `path` with `mode` by way of a hidden file beside
/// it and a rename. The mode is set again after opening because `mode()`
/// only applies to a file the open creates, and a stale temporary file
/// from a crashed run could have any mode.
pub fn write_atomic(path: &Path, contents: &str, mode: u32) -> Result<(), StoreError> {
    let write_err = |source| StoreError::Write {
        path: path.to_path_buf(),
        source,
    };
    let file_name = path
        .file_name()
        .map_or_else(|| "file".to_string(), |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{file_name}.tmp"));
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .map_err(write_err)?;
    file.set_permissions(fs::Permissions::from_mode(mode))
        .map_err(write_err)?;
    file.write_all(contents.as_bytes()).map_err(write_err)?;
    file.sync_all().map_err(write_err)?;
    fs::rename(&tmp, path).map_err(write_err)
}

fn create_dir(dir: &Path) -> Result<(), StoreError> {
    fs::create_dir_all(dir).map_err(|source| StoreError::Write {
        path: dir.to_path_buf(),
        source,
    })
}

fn read_trimmed(path: &Path) -> Result<String, StoreError> {
    fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .map_err(|source| StoreError::Read {
            path: path.to_path_buf(),
            source,
        })
}

/// Reads and verifies a JWT of claim type `N` (signature and key kinds;
/// not the validity period, see the module doc).
fn load_jwt<N: NatsClaim>(path: &Path) -> Result<(String, jwt::Claims<N>), StoreError> {
    let token = read_trimmed(path)?;
    let claims = jwt::decode_verified(&token)
        .and_then(jwt::Decoded::into_claims::<N>)
        .map_err(|source| StoreError::Jwt {
            path: path.to_path_buf(),
            source,
        })?;
    Ok((token, claims))
}

/// The key pair in the seed file `seed`, which must be of kind `expected`
/// and the `subject` of the JWT at `jwt`.
fn load_key(
    seed: &Path,
    expected: KeyPairType,
    jwt: &Path,
    subject: &str,
) -> Result<KeyPair, StoreError> {
    let text = read_trimmed(seed)?;
    let key = KeyPair::from_seed(&text).map_err(|_| StoreError::BadSeed {
        path: seed.to_path_buf(),
    })?;
    if key.key_pair_type() != expected {
        return Err(StoreError::WrongSeedKind {
            path: seed.to_path_buf(),
            expected: kind_name(&expected),
            found: kind_name(&key.key_pair_type()),
        });
    }
    if key.public_key() != subject {
        return Err(StoreError::KeyMismatch {
            seed: seed.to_path_buf(),
            key: key.public_key(),
            jwt: jwt.to_path_buf(),
            subject: subject.to_string(),
        });
    }
    Ok(key)
}

fn kind_name(kind: &KeyPairType) -> &'static str {
    match kind {
        KeyPairType::Operator => "an operator",
        KeyPairType::Account => "an account",
        KeyPairType::User => "a user",
        _ => "a non-identity",
    }
}

#[cfg(test)]
mod tests;
