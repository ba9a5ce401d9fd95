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
use crate::plugin::engine::RuntimeSlot;
use crate::plugin::load::load_auth;
use crate::plugin::{AuthPlugin, AuthRefusal, AuthRequest, TenantPlugins};
use crate::protocol::ConnectOptions;
use rustc_hash::FxHashMap;
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
    #[error("plugins:\n{0}")]
    Plugins(String),
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
    /// Asked, in order, about clients the users above do not recognise.
    pub auth_plugins: Vec<Arc<AuthPlugin>>,
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
            auth_plugins: Vec::new(),
            activation_expiry: None,
            map_certificates: false,
        }
    }

    /// Loads and validates the tenants named by `config`, reusing the
    /// accounts of `previous` so live connections keep their indexes.
    pub fn load(
        config: &ServerConfig,
        previous: &Tenancy,
        runtime: &RuntimeSlot,
    ) -> Result<Tenancy, TenancyError> {
        Tenancy::load_with(config, previous, runtime, None)
    }

    /// As [`Tenancy::load`], with `operator` in place of what the operator
    /// directory holds: a claims update is checked this way before its JWT
    /// is written.
    pub fn load_with(
        config: &ServerConfig,
        previous: &Tenancy,
        runtime: &RuntimeSlot,
        operator: Option<OperatorTrust>,
    ) -> Result<Tenancy, TenancyError> {
        if !config.has_tenants() {
            return Ok(Tenancy::without_tenants());
        }
        let join = |issues: Vec<String>| issues.join("\n");
        let mut files = match &config.tenants {
            Some(dir) => load_dir(dir).map_err(|issues| {
                TenancyError::Tenants(join(issues.iter().map(ToString::to_string).collect()))
            })?,
            None => Vec::new(),
        };
        files.extend(config.inline_tenants.iter().cloned());
        let operator = match (operator, &config.operator_dir, &config.inline_operator) {
            (Some(trust), _, _) => Some(trust),
            (None, Some(dir), _) => {
                Some(OperatorTrust::load(dir).map_err(|e| TenancyError::Operator(e.to_string()))?)
            }
            (None, None, Some(jwts)) => Some(
                OperatorTrust::from_memory(&jwts.operator_jwt, &jwts.account_jwts)
                    .map_err(|e| TenancyError::Operator(e.to_string()))?,
            ),
            (None, None, None) => None,
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
        let (plugins, auth_plugins) = load_plugins(config, &tenants, runtime)?;
        let accounts = build_accounts(&tenants, &previous.accounts, &plugins)
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
            auth_plugins,
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
        self.login(opts, nonce, peer, tls, None)
    }

    /// As [`Tenancy::authenticate`], after a reload, for a connection logged
    /// in as `previous`: a password checked against a stored secret that
    /// did not change is not checked again (see `CheckedSecret`).
    pub fn reauthenticate(
        &self,
        opts: &ConnectOptions,
        nonce: Option<&str>,
        peer: IpAddr,
        tls: Option<&TlsPeer>,
        previous: &Identity,
    ) -> Result<Identity, AuthError> {
        self.login(opts, nonce, peer, tls, Some(previous))
    }

    fn login(
        &self,
        opts: &ConnectOptions,
        nonce: Option<&str>,
        peer: IpAddr,
        tls: Option<&TlsPeer>,
        previous: Option<&Identity>,
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
            Some(users) => match previous {
                Some(previous) => users.reauthenticate(opts, nonce, previous),
                None => users.authenticate(opts, nonce),
            },
            None => Err(AuthError::MissingCredentials),
        }
    }

    /// Asks the auth plugins, in order, about a client the tenant users did
    /// not recognise: the first grant wins; a denial, or a plugin failure
    /// (auth plugins fail closed), passes to the next plugin. Returns the
    /// plugin that granted, so a reload can tell whether it changed.
    pub fn authenticate_with_plugins(
        &self,
        request: &AuthRequest<'_>,
    ) -> Result<(Identity, Arc<AuthPlugin>), AuthError> {
        let mut refusal = AuthError::MissingCredentials;
        for plugin in &self.auth_plugins {
            let refused = |reason: String| AuthError::PluginRefused {
                plugin: plugin.name.clone(),
                reason,
            };
            match plugin.authenticate(request) {
                Ok(grant) if self.accounts.contains_key(grant.tenant.as_str()) => {
                    let identity = Identity {
                        tenant: grant.tenant.into(),
                        user: grant.user.into(),
                        permissions: Some(grant.permissions),
                        expires: grant.expires,
                        max_payload: None,
                        max_subscriptions: None,
                        checked_secret: None,
                    };
                    return Ok((identity, plugin.clone()));
                }
                Ok(grant) => {
                    refusal = refused(format!("granted unknown tenant `{}`", grant.tenant));
                }
                Err(AuthRefusal::Denied(reason)) => refusal = refused(reason),
                Err(AuthRefusal::TenantNotAllowed(tenant)) => {
                    refusal = refused(format!(
                        "granted tenant `{tenant}`, which it may not bind users to"
                    ));
                }
                Err(AuthRefusal::Failed(e)) => refusal = refused(e.to_string()),
            }
        }
        Err(refusal)
    }

    /// The auth plugin of this tenancy that is `previous` unchanged (same
    /// component, same configuration), if any: after a reload, the clients
    /// `previous` let in stay without asking it again.
    pub fn same_auth_plugin(&self, previous: &AuthPlugin) -> Option<&Arc<AuthPlugin>> {
        self.auth_plugins
            .iter()
            .find(|p| p.name == previous.name && p.source == previous.source)
    }

    pub fn auth_required(&self) -> bool {
        self.operator.is_some()
            || !self.auth_plugins.is_empty()
            || self.users.as_ref().is_some_and(|u| !u.is_empty())
    }

    pub fn nonce_required(&self) -> bool {
        self.operator.is_some()
            || !self.auth_plugins.is_empty()
            || self
                .users
                .as_ref()
                .is_some_and(UserDirectory::nonce_required)
    }
}

type LoadedPlugins = (FxHashMap<String, Arc<TenantPlugins>>, Vec<Arc<AuthPlugin>>);

/// Loads every tenant's message plugins and the server's auth plugins, all
/// before anything is applied, so a reload with a broken plugin changes
/// nothing.
fn load_plugins(
    config: &ServerConfig,
    tenants: &[TenantFile],
    runtime: &RuntimeSlot,
) -> Result<LoadedPlugins, TenancyError> {
    let mut by_tenant = FxHashMap::default();
    let mut auth = Vec::new();
    let wanted = tenants.iter().any(|t| !t.plugins.is_empty()) || !config.auth_plugins.is_empty();
    if !wanted {
        return Ok((by_tenant, auth));
    }
    let runtime = runtime.get().map_err(TenancyError::Plugins)?;
    let mut errors = Vec::new();
    for t in tenants.iter().filter(|t| !t.plugins.is_empty()) {
        let for_exports: Vec<&str> = t
            .exports
            .iter()
            .filter_map(|e| e.transform.as_deref())
            .collect();
        match TenantPlugins::load(&runtime, &t.name, &t.plugins, &for_exports) {
            Ok(plugins) => {
                by_tenant.insert(t.name.clone(), Arc::new(plugins));
            }
            Err(e) => errors.push(format!("tenant `{}`: {e}", t.name)),
        }
    }
    for entry in &config.auth_plugins {
        for tenant in &entry.tenants {
            if !tenants.iter().any(|t| &t.name == tenant) {
                errors.push(format!(
                    "auth plugin {}: tenant `{tenant}` does not exist",
                    entry.path.display()
                ));
            }
        }
        match load_auth(&runtime, entry) {
            Ok(plugin) => auth.push(Arc::new(plugin)),
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() {
        Ok((by_tenant, auth))
    } else {
        Err(TenancyError::Plugins(errors.join("\n")))
    }
}

/// Unix seconds now, the clock JWTs are written in.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
