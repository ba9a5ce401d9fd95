//! The server's tenancy state: tenant files, the accounts built from them,
//! the user directory and the system account. Built at start and rebuilt on
//! reload; connections take an `Arc` snapshot when they log in.

use super::account::{Account, SYSTEM_ACCOUNT};
use super::registry::{Accounts, build_accounts};
use crate::auth::UserDirectory;
use crate::config::ServerConfig;
use crate::config::tenant::TenantFile;
use crate::config::tenants::{load_dir, validate};
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
}

pub struct Tenancy {
    pub accounts: Accounts,
    /// `None` when the server runs without tenants.
    pub users: Option<UserDirectory>,
    /// Where `$SYS.ACCOUNT.*` events are published.
    pub system: Arc<Account>,
    pub tenants: Vec<TenantFile>,
}

impl Tenancy {
    /// No tenants: everyone shares the global account.
    pub fn without_tenants() -> Tenancy {
        Tenancy {
            accounts: Accounts::default(),
            users: None,
            system: Account::new(SYSTEM_ACCOUNT),
            tenants: Vec::new(),
        }
    }

    /// Loads and validates the tenants named by `config`, reusing the
    /// accounts of `previous` so live connections keep their indexes.
    pub fn load(config: &ServerConfig, previous: &Tenancy) -> Result<Tenancy, TenancyError> {
        let Some(dir) = &config.tenants else {
            return Ok(Tenancy::without_tenants());
        };
        let join = |issues: Vec<String>| issues.join("\n");
        let files = load_dir(dir).map_err(|issues| {
            TenancyError::Tenants(join(issues.iter().map(ToString::to_string).collect()))
        })?;
        let issues = validate(&files);
        if !issues.is_empty() {
            return Err(TenancyError::Tenants(join(
                issues.iter().map(ToString::to_string).collect(),
            )));
        }
        let tenants: Vec<TenantFile> = files.into_iter().map(|(_, t)| t).collect();
        let users = UserDirectory::new(&tenants, config.no_auth_user.as_deref())
            .map_err(|e| TenancyError::Users(e.to_string()))?;
        if let Some(name) = &config.system_account
            && !tenants.iter().any(|t| &t.name == name)
        {
            return Err(TenancyError::UnknownSystemAccount(name.clone()));
        }
        let accounts = build_accounts(&tenants, &previous.accounts)
            .map_err(|errors| TenancyError::Tenants(errors.join("\n")))?;
        let system = match &config.system_account {
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
        })
    }

    pub fn auth_required(&self) -> bool {
        self.users.as_ref().is_some_and(|u| !u.is_empty())
    }

    pub fn nonce_required(&self) -> bool {
        self.users
            .as_ref()
            .is_some_and(UserDirectory::nonce_required)
    }
}
