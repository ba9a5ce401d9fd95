//! Operator mode: trust one operator, accept the account JWTs it signed,
//! and turn them into the same tenant model the TOML files produce.
//!
//! Reads the directory that `switchyard auth` writes:
//! `D/operator.jwt` and `D/accounts/<NAME>/account.jwt`. An account is a
//! tenant named by its public key (`A...`), so imports name accounts the way
//! JWTs do. Users are not listed anywhere: they present user JWTs signed by
//! their account (see `jwt_login`).

use super::activation;
use super::jwt::{
    self, AccountClaims, ExportType, JwtError, OperatorClaims, ResponseType, UserClaims,
};
use super::store::{JWT_MODE, OperatorStore, StoreError, write_atomic};
use crate::config::tenant::{
    AllowResponses, ExportEntry, ImportEntry, ImportSource, MappingEntry, Permissions,
    ResponseLimits, ResponseType as TenantResponseType, SubjectRules, TenantFile, TenantLimits,
    TenantSource, WeightedDestination,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum OperatorError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Jwt { path: String, source: JwtError },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "{what}: issued by `{issuer}`, which is not the trusted operator or one of its signing keys"
    )]
    NotTrusted { what: String, issuer: String },
    #[error("{what}: {}", issues.join("; "))]
    Limits {
        what: String,
        issues: Vec<&'static str>,
    },
    #[error("account JWT for `{expected}` has subject `{found}`")]
    WrongSubject { expected: String, found: String },
}

/// A user JWT whose signature verified, and the user's key to check nonces with.
#[derive(Debug)]
pub struct VerifiedUser {
    pub claims: UserClaims,
    pub key: nkeys::KeyPair,
}

/// One account JWT the operator signed.
#[derive(Debug, Clone)]
pub struct TrustedAccount {
    /// The account's display name (its directory name when read from disk).
    pub name: String,
    pub jwt: String,
    pub claims: AccountClaims,
    pub path: PathBuf,
}

/// The trusted operator and the accounts it vouches for.
#[derive(Debug)]
pub struct OperatorTrust {
    pub dir: PathBuf,
    pub operator: OperatorClaims,
    /// Keyed by account public key.
    pub accounts: BTreeMap<String, TrustedAccount>,
    /// User JWTs whose signature already verified, with the user's decoded
    /// public key, so a client that reconnects with the same `.creds` costs
    /// one ed25519 check (its nonce signature) instead of two plus a point
    /// decompression. Built anew with every reload.
    pub(crate) verified_users:
        parking_lot::Mutex<rustc_hash::FxHashMap<Box<str>, std::sync::Arc<VerifiedUser>>>,
}

impl OperatorTrust {
    pub fn load(dir: &Path) -> Result<OperatorTrust, OperatorError> {
        // A trust built in memory has no directory: a claims update, which
        // re-reads the directory before storing, must not read (or later
        // write) whatever lies in the current directory.
        if dir.as_os_str().is_empty() {
            return Err(OperatorError::Io {
                path: "resolver: MEMORY".into(),
                source: std::io::Error::other(
                    "accounts preloaded from the configuration file cannot be updated",
                ),
            });
        }
        let store = OperatorStore::new(dir);
        let (_, operator) = store.load_operator()?;
        let mut trust = OperatorTrust {
            dir: dir.to_path_buf(),
            operator,
            accounts: BTreeMap::new(),
            verified_users: Default::default(),
        };
        for (name, token) in store.list_accounts()? {
            let path = store.account_jwt_path(&name);
            let account = trust.verify_account(&token, &path.display().to_string())?;
            trust.accounts.insert(
                account.data.sub.clone(),
                TrustedAccount {
                    name,
                    jwt: token,
                    claims: account,
                    path,
                },
            );
        }
        Ok(trust)
    }

    /// Trust in the operator JWT `operator_jwt` and the account JWTs it
    /// signed, held in memory: a nats-server file's `operator`,
    /// `resolver: MEMORY` and `resolver_preload`. Nothing is read from or
    /// written to disk; claims updates are refused (see [`Self::load`]).
    pub fn from_memory(
        operator_jwt: &str,
        account_jwts: &[String],
    ) -> Result<OperatorTrust, OperatorError> {
        let operator: OperatorClaims = jwt::decode_verified(operator_jwt)
            .and_then(jwt::Decoded::into_claims::<jwt::Operator>)
            .map_err(|source| OperatorError::Jwt {
                path: "operator".into(),
                source,
            })?;
        if operator.data.iss != operator.data.sub {
            return Err(OperatorError::NotTrusted {
                what: "operator JWT (must be self-signed)".into(),
                issuer: operator.data.iss.clone(),
            });
        }
        let mut trust = OperatorTrust {
            dir: PathBuf::new(),
            operator,
            accounts: BTreeMap::new(),
            verified_users: Default::default(),
        };
        for token in account_jwts {
            let account = trust.verify_account(token, "resolver_preload")?;
            let key = account.data.sub.clone();
            trust.accounts.insert(
                key.clone(),
                TrustedAccount {
                    name: key,
                    jwt: token.clone(),
                    claims: account,
                    path: PathBuf::new(),
                },
            );
        }
        Ok(trust)
    }

    /// Decodes an account JWT and checks the trusted operator signed it.
    pub fn verify_account(&self, token: &str, what: &str) -> Result<AccountClaims, OperatorError> {
        let claims: AccountClaims =
            jwt::decode(token)
                .and_then(|d| d.into_claims())
                .map_err(|source| OperatorError::Jwt {
                    path: what.to_string(),
                    source,
                })?;
        if !self.is_operator_key(&claims.data.iss) {
            return Err(OperatorError::NotTrusted {
                what: what.to_string(),
                issuer: claims.data.iss.clone(),
            });
        }
        let issues = claims.nats.limit_violations();
        if !issues.is_empty() {
            return Err(OperatorError::Limits {
                what: what.to_string(),
                issues,
            });
        }
        Ok(claims)
    }

    fn is_operator_key(&self, key: &str) -> bool {
        key == self.operator.data.sub || self.operator.nats.signing_keys.iter().any(|k| k == key)
    }

    /// The system account's public key, if the operator names one.
    pub fn system_account(&self) -> Option<&str> {
        Some(self.operator.nats.system_account.as_str()).filter(|s| !s.is_empty())
    }

    /// Where an account's JWT is stored: where it was read from, or
    /// `D/accounts/<public key>/account.jwt` for a new account.
    fn update_path(&self, account: &str) -> PathBuf {
        match self.accounts.get(account) {
            Some(existing) => existing.path.clone(),
            None => OperatorStore::new(&self.dir).account_jwt_path(account),
        }
    }

    /// Puts an updated account JWT (already verified) in place of the one
    /// in this trust, in memory only: the result is checked as a whole
    /// before [`OperatorTrust::store_update`] writes anything.
    pub fn with_update(mut self, claims: AccountClaims, token: &str) -> OperatorTrust {
        let key = claims.data.sub.clone();
        let path = self.update_path(&key);
        let name = self
            .accounts
            .get(&key)
            .map_or_else(|| key.clone(), |a| a.name.clone());
        self.accounts.insert(
            key,
            TrustedAccount {
                name,
                jwt: token.to_string(),
                claims,
                path,
            },
        );
        self
    }

    /// Stores an updated account JWT (already verified) where `load` reads
    /// it, replacing the file atomically.
    pub fn store_update(
        &self,
        claims: &AccountClaims,
        token: &str,
    ) -> Result<PathBuf, OperatorError> {
        let path = self.update_path(&claims.data.sub);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| OperatorError::Io {
                path: parent.display().to_string(),
                source,
            })?;
        }
        write_atomic(&path, token, JWT_MODE)?;
        Ok(path)
    }

    /// The accounts as tenant files, for the shared validation and build,
    /// at unix time `now`.
    ///
    /// An import of an export that needs an activation token is kept only
    /// if its token checks out (nats-server skips the import, with a log
    /// line, and loads the rest of the account); such an export is granted
    /// to exactly the importers whose tokens did.
    pub fn tenants(&self, now: i64) -> OperatorTenants {
        let mut grants: BTreeMap<(&str, usize), Vec<String>> = BTreeMap::new();
        let mut skipped: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        let mut expires: Option<i64> = None;
        for (importer, account) in &self.accounts {
            for (i, import) in account.claims.nats.imports.iter().enumerate() {
                let Some(exporter) = self.accounts.get(&import.account) else {
                    continue;
                };
                let Some(export) = activation::export_for(&exporter.claims, import) else {
                    continue;
                };
                if !export.token_req {
                    continue;
                }
                let index = exporter
                    .claims
                    .nats
                    .exports
                    .iter()
                    .position(|e| std::ptr::eq(e, export))
                    .unwrap_or_default();
                match activation::check(import, importer, &exporter.claims, export, now) {
                    Ok(exp) => {
                        if exp > 0 {
                            expires = Some(expires.map_or(exp, |e| e.min(exp)));
                        }
                        grants
                            .entry((import.account.as_str(), index))
                            .or_default()
                            .push(importer.clone());
                    }
                    Err(e) => {
                        tracing::warn!(
                            account = %account.name,
                            import = %import.subject,
                            from = %exporter.name,
                            error = %e,
                            "import skipped"
                        );
                        skipped.entry(importer.as_str()).or_default().push(i);
                    }
                }
            }
        }
        let files = self
            .accounts
            .iter()
            .map(|(key, a)| {
                let skip = skipped.get(key.as_str()).map_or(&[][..], Vec::as_slice);
                let granted = |index: usize| {
                    grants
                        .get(&(key.as_str(), index))
                        .cloned()
                        .unwrap_or_default()
                };
                (a.path.clone(), to_tenant(&a.claims, skip, granted))
            })
            .collect();
        OperatorTenants {
            files,
            activation_expiry: expires,
        }
    }
}

/// The operator's accounts in the tenant model.
pub struct OperatorTenants {
    pub files: Vec<(PathBuf, TenantFile)>,
    /// The first moment (unix seconds) an activation token in use expires:
    /// the tenants must be rebuilt then, to drop its import.
    pub activation_expiry: Option<i64>,
}

/// A JWT limit as a bound, read as nats-server reads it: -1 (any negative)
/// is unlimited and every other value is taken literally, so 0 (also what
/// an absent field decodes to) allows none. nats-io/jwt's constructors
/// write -1 for everything they leave unlimited.
pub(crate) fn jwt_limit(n: i64) -> Option<usize> {
    usize::try_from(n).ok()
}

/// JWT permissions in the tenant-file shape; `None` when they restrict nothing.
pub fn to_permissions(p: &jwt::Permissions) -> Option<Permissions> {
    let rules = |r: &jwt::Permission| {
        (!r.allow.is_empty() || !r.deny.is_empty()).then(|| SubjectRules {
            allow: r.allow.clone(),
            deny: r.deny.clone(),
        })
    };
    let publish = rules(&p.publish);
    let subscribe = rules(&p.subscribe);
    let allow_responses = p.resp.map(|r| {
        AllowResponses::Limits(ResponseLimits {
            max: u32::try_from(r.max).ok().filter(|&m| m > 0).unwrap_or(1),
            ttl: if r.ttl > 0 {
                Duration::from_nanos(r.ttl as u64)
            } else {
                Duration::from_secs(120)
            },
        })
    });
    (publish.is_some() || subscribe.is_some() || allow_responses.is_some()).then_some(Permissions {
        publish,
        subscribe,
        allow_responses,
    })
}

/// `a` as a tenant file, without the imports at the indexes in `skip`;
/// `granted(i)` lists the importers whose activation tokens admit them to
/// export `i` when it needs one.
fn to_tenant(
    a: &AccountClaims,
    skip: &[usize],
    granted: impl Fn(usize) -> Vec<String>,
) -> TenantFile {
    let n = &a.nats;
    let exports = n
        .exports
        .iter()
        .enumerate()
        .map(|(index, e)| {
            let service = e.kind == Some(ExportType::Service);
            let accounts = if e.token_req {
                let importers = granted(index);
                // An empty list means "every tenant"; naming only the
                // exporter itself (which cannot import from itself) means
                // "no other tenant".
                if importers.is_empty() {
                    vec![a.data.sub.clone()]
                } else {
                    importers
                }
            } else {
                Vec::new()
            };
            ExportEntry {
                stream: (!service).then(|| e.subject.clone()),
                service: service.then(|| e.subject.clone()),
                accounts,
                response_type: service.then_some(match e.response_type {
                    Some(ResponseType::Stream) => TenantResponseType::Stream,
                    Some(ResponseType::Chunked) => TenantResponseType::Chunked,
                    _ => TenantResponseType::Singleton,
                }),
                response_threshold: (service && e.response_threshold > 0)
                    .then(|| Duration::from_nanos(e.response_threshold as u64)),
                transform: None,
            }
        })
        .collect();
    let imports = n
        .imports
        .iter()
        .enumerate()
        .filter(|(index, _)| !skip.contains(index))
        .map(|(_, i)| {
            let source = ImportSource {
                account: i.account.clone(),
                subject: i.subject.clone(),
            };
            let local = if !i.local_subject.is_empty() {
                Some(i.local_subject.clone())
            } else {
                Some(i.to.clone()).filter(|t| !t.is_empty())
            };
            if i.kind == Some(ExportType::Service) {
                ImportEntry {
                    service: Some(source),
                    to: local,
                    ..ImportEntry::default()
                }
            } else {
                ImportEntry {
                    stream: Some(source),
                    to: local,
                    ..ImportEntry::default()
                }
            }
        })
        .collect();
    let mappings = n
        .mappings
        .iter()
        .map(|(source, dests)| MappingEntry {
            source: source.clone(),
            to: None,
            destinations: dests
                .iter()
                .map(|d| WeightedDestination {
                    subject: d.subject.clone(),
                    weight: if d.weight == 0 { 100 } else { d.weight },
                })
                .collect(),
        })
        .collect();
    TenantFile {
        name: a.data.sub.clone(),
        users: Vec::new(),
        default_permissions: to_permissions(&n.default_permissions),
        limits: TenantLimits {
            max_connections: jwt_limit(n.limits.conn),
            max_subscriptions: jwt_limit(n.limits.subs),
            max_payload: jwt_limit(n.limits.payload),
            max_subscription_bytes: None,
        },
        exports,
        imports,
        mappings,
        plugins: Vec::new(),
        source: TenantSource::AccountJwt,
    }
}
