//! The server's tenancy state: tenant files, the accounts built from them,
//! the user directory and the system account. Built at start and rebuilt on
//! reload; connections take an `Arc` snapshot when they log in.

use super::account::{Account, SYSTEM_ACCOUNT};
use super::registry::{Accounts, build_accounts};
use crate::auth::AuthError;
use crate::auth::jwt_login::authenticate_jwt;
use crate::auth::operator::OperatorTrust;
use crate::auth::{Identity, TlsPeer, UserDirectory};
use crate::config::ServerConfig;
use crate::config::tenant::TenantFile;
use crate::config::tenants::{load_dir, validate_for};
use crate::protocol::ConnectOptions;
use std::net::IpAddr;
use std::sync::Arc;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum TenancyError {
    #[error("invalid tenants:\n{0}")]
    Tenants(String),
    #[error("invalid users: {0}")]
    Users(String),
    #[error("system_account `{0}` is not a tenant")]
    UnknownSystemAccount(String),
    #[error("operator: {0}")]
    Operator(String),
}

pub struct Tenancy {
    pub accounts: Accounts,
    /// `None` when the server runs without tenants.
    pub users: Option<UserDirectory>,
    /// Where `$SYS.ACCOUNT.*` events are published.
    pub system: Arc<Account>,
    pub tenants: Vec<TenantFile>,
    /// Operator mode: the trusted operator and its accounts.
    pub operator: Option<OperatorTrust>,
    /// When the first activation token in use expires (unix seconds); the
    /// server reloads then so that its import stops.
    pub activation_expiry: Option<i64>,
    /// TLS `verify_and_map`: client certificates name the user.
    map_certificates: bool,
}

impl Tenancy {
    /// No tenants: everyone shares the global account.
    pub fn without_tenants() -> Tenancy {
        Tenancy {
            accounts: Accounts::default(),
            users: None,
            system: Account::new(SYSTEM_ACCOUNT),
            tenants: Vec::new(),
            operator: None,
            activation_expiry: None,
            map_certificates: false,
        }
    }

    /// Loads and validates the tenants named by `config`, reusing the
    /// accounts of `previous` so live connections keep their indexes.
    pub fn load(config: &ServerConfig, previous: &Tenancy) -> Result<Tenancy, TenancyError> {
        if config.tenants.is_none() && config.operator_dir.is_none() {
            return Ok(Tenancy::without_tenants());
        }
        let join = |issues: Vec<String>| issues.join("\n");
        let mut files = match &config.tenants {
            Some(dir) => load_dir(dir).map_err(|issues| {
                TenancyError::Tenants(join(issues.iter().map(ToString::to_string).collect()))
            })?,
            None => Vec::new(),
        };
        let operator = match &config.operator_dir {
            Some(dir) => {
                Some(OperatorTrust::load(dir).map_err(|e| TenancyError::Operator(e.to_string()))?)
            }
            None => None,
        };
        let mut activation_expiry = None;
        if let Some(trust) = &operator {
            let jwt_tenants = trust.tenants(unix_now());
            files.extend(jwt_tenants.files);
            activation_expiry = jwt_tenants.activation_expiry;
        }
        let map_certificates = config.tls.as_ref().is_some_and(|t| t.verify_and_map);
        let issues = validate_for(&files, map_certificates);
        if !issues.is_empty() {
            return Err(TenancyError::Tenants(join(
                issues.iter().map(ToString::to_string).collect(),
            )));
        }
        let tenants: Vec<TenantFile> = files.into_iter().map(|(_, t)| t).collect();
        let no_auth_user = config.no_auth_user.as_deref();
        let users = if map_certificates {
            UserDirectory::with_certificate_users(&tenants, no_auth_user)
        } else {
            UserDirectory::new(&tenants, no_auth_user)
        }
        .map_err(|e| TenancyError::Users(e.to_string()))?;
        let system_name = config.system_account.clone().or_else(|| {
            operator
                .as_ref()
                .and_then(|o| o.system_account().map(str::to_string))
        });
        if let Some(name) = &system_name
            && !tenants.iter().any(|t| &t.name == name)
        {
            return Err(TenancyError::UnknownSystemAccount(name.clone()));
        }
        let accounts = build_accounts(&tenants, &previous.accounts)
            .map_err(|errors| TenancyError::Tenants(errors.join("\n")))?;
        let system = match &system_name {
            Some(name) => accounts
                .get(name.as_str())
                .cloned()
                .unwrap_or_else(|| previous.system.clone()),
            None => previous.system.clone(),
        };
        Ok(Tenancy {
            accounts,
            users: Some(users),
            system,
            tenants,
            operator,
            activation_expiry,
            map_certificates,
        })
    }

    /// Logs a connection in: a user JWT in operator mode, else the users of
    /// the tenant files, by client certificate under `verify_and_map`
    /// (unless the client signs with an nkey, which nats-server checks first).
    pub fn authenticate(
        &self,
        opts: &ConnectOptions,
        nonce: Option<&str>,
        peer: IpAddr,
        tls: Option<&TlsPeer>,
    ) -> Result<Identity, AuthError> {
        if opts.jwt.as_deref().is_some_and(|j| !j.is_empty()) {
            let Some(trust) = &self.operator else {
                return Err(AuthError::NoOperator);
            };
            return authenticate_jwt(trust, opts, nonce, peer, unix_now());
        }
        let signs_with_nkey = opts.nkey.as_deref().is_some_and(|k| !k.is_empty());
        match &self.users {
            Some(users) if self.map_certificates && !signs_with_nkey => {
                users.authenticate_certificate(tls)
            }
            Some(users) => users.authenticate(opts, nonce),
            None => Err(AuthError::MissingCredentials),
        }
    }

    pub fn auth_required(&self) -> bool {
        self.operator.is_some() || self.users.as_ref().is_some_and(|u| !u.is_empty())
    }

    pub fn nonce_required(&self) -> bool {
        self.operator.is_some()
            || self
                .users
                .as_ref()
                .is_some_and(UserDirectory::nonce_required)
    }
}

/// Unix seconds now, the clock JWTs are written in.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
