//! A connection's session: the tenant account it is bound to, with the
//! account's rules, the user's compiled permissions and the limits that
//! apply. Made by `Session::bind` from checked credentials, remade by
//! `Session::rebind` after a reload, and ended by `Session::unbind`.

use super::credentials::{Checked, Grant};
use super::failure::AuthFailure;
use crate::auth::{AuthError, Identity};
use crate::client::CloseReason;
use crate::plugin::AuthPlugin;
use crate::tenant::permissions::{CompiledPermissions, PublishCheckCache};
use crate::tenant::{Account, AccountRules, Tenancy};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

/// Who a connection is, and what its tenant lets it do.
pub struct Session {
    pub account: Arc<Account>,
    /// The account's rules as of binding or the last reload.
    pub rules: Arc<AccountRules>,
    /// `None`: unrestricted.
    pub perms: Option<Arc<CompiledPermissions>>,
    pub publish_cache: PublishCheckCache,
    /// `None` until a login binds the connection to a tenant user.
    pub identity: Option<Identity>,
    /// The auth plugin that let this client in, if one did.
    pub auth_plugin: Option<Arc<AuthPlugin>>,
    /// When the credentials expire (a user JWT's `exp`).
    pub expires: Option<tokio::time::Instant>,
    /// The smallest of the server's, the account's and the user's limits
    /// (nats-server's `applyAccountLimits`).
    pub max_payload: usize,
    pub max_subscriptions: Option<usize>,
    /// Counted in its account's `connections`.
    bound: bool,
}

/// Why a login was refused: what the client is told, and the metric label
/// (`None`: not counted as an auth failure).
#[derive(Debug)]
pub struct Refusal {
    pub reason: CloseReason,
    pub failure: Option<AuthFailure>,
}

impl Refusal {
    fn new(reason: CloseReason, failure: Option<AuthFailure>) -> Refusal {
        Refusal { reason, failure }
    }
}

impl Session {
    /// A connection that has not logged in (or needs no login): bound to
    /// `account` (the global one) without limits beyond the server's.
    pub fn unbound(account: Arc<Account>, max_payload: usize) -> Session {
        Session {
            rules: account.rules(),
            account,
            perms: None,
            publish_cache: PublishCheckCache::new(),
            identity: None,
            auth_plugin: None,
            expires: None,
            max_payload,
            max_subscriptions: None,
            bound: false,
        }
    }

    /// Binds checked credentials to their tenant's account, within the
    /// account's connection limit. `server_max_payload`: the server's own
    /// payload limit, the largest any session gets.
    pub fn bind(
        tenancy: &Tenancy,
        checked: Checked,
        server_max_payload: usize,
    ) -> Result<Session, Refusal> {
        let Some(checked) = checked else {
            tracing::error!("credentials check panicked; login refused");
            return Err(Refusal::new(
                CloseReason::AuthViolation,
                Some(AuthFailure::Credentials),
            ));
        };
        let (identity, auth_plugin) = checked.map_err(|e| {
            tracing::info!(error = %e, "authorization failed");
            Refusal::new(CloseReason::AuthViolation, Some(AuthFailure::of(&e)))
        })?;
        let Some(account) = tenancy.accounts.get(&*identity.tenant).cloned() else {
            return Err(Refusal::new(CloseReason::AuthViolation, None));
        };
        let rules = account.rules();
        let open = account.connections.fetch_add(1, Ordering::AcqRel);
        if rules.max_connections.is_some_and(|max| open >= max) {
            account.connections.fetch_sub(1, Ordering::AcqRel);
            return Err(Refusal::new(
                CloseReason::MaxAccountConnections,
                Some(AuthFailure::AccountLimit),
            ));
        }
        let mut session = Session {
            account,
            rules,
            perms: None,
            publish_cache: PublishCheckCache::new(),
            identity: None,
            auth_plugin: None,
            expires: None,
            max_payload: server_max_payload,
            max_subscriptions: None,
            bound: true,
        };
        // On refusal from here `session` drops its place in the count.
        session.apply(identity, auth_plugin, server_max_payload)?;
        // A JWT limit of 0 leaves no room for a single subscription;
        // nats-server tells the client and closes at once.
        if session.max_subscriptions == Some(0) {
            return Err(Refusal::new(CloseReason::MaxSubscriptions, None));
        }
        Ok(session)
    }

    /// After a reload: the same login checked again (`grant`, from
    /// `Credentials::recheck`), with the new rules. A login that names
    /// another tenant, or an account the reload replaced, is refused; so is
    /// one whose subscription limit fell below the `held` subscriptions.
    pub fn rebind(
        &mut self,
        tenancy: &Tenancy,
        grant: Result<Grant, AuthError>,
        server_max_payload: usize,
        held: usize,
    ) -> Result<(), CloseReason> {
        let (identity, auth_plugin) = grant.map_err(|e| {
            tracing::info!(error = %e, "login no longer valid after reload");
            match e {
                AuthError::Revoked { .. } => CloseReason::AuthRevoked,
                _ => CloseReason::AuthViolation,
            }
        })?;
        let old_tenant = self.identity.as_ref().map(|i| i.tenant.clone());
        let same_account = tenancy
            .accounts
            .get(&*identity.tenant)
            .is_some_and(|a| Arc::ptr_eq(a, &self.account));
        if old_tenant.as_deref() != Some(&*identity.tenant) || !same_account {
            return Err(CloseReason::AuthViolation);
        }
        self.rules = self.account.rules();
        let (max_payload, max_subscriptions) = limits(&self.rules, &identity, server_max_payload);
        // A limit lowered below what this connection already holds ends it
        // (nats-server also ends one that is exactly at the new limit).
        if let Some(max) = max_subscriptions
            && (max == 0 || held > max)
        {
            return Err(CloseReason::MaxSubscriptions);
        }
        self.max_payload = max_payload;
        self.max_subscriptions = max_subscriptions;
        self.apply(identity, auth_plugin, server_max_payload)
            .map_err(|refusal| refusal.reason)
    }

    /// Takes `identity`'s limits and compiled permissions.
    fn apply(
        &mut self,
        identity: Identity,
        auth_plugin: Option<Arc<AuthPlugin>>,
        server_max_payload: usize,
    ) -> Result<(), Refusal> {
        (self.max_payload, self.max_subscriptions) =
            limits(&self.rules, &identity, server_max_payload);
        self.perms = match &identity.permissions {
            None => None,
            Some(p) => Some(Arc::new(CompiledPermissions::compile(p).map_err(|e| {
                // Validation rejects such files; refuse rather than run unrestricted.
                tracing::error!(error = %e, "invalid permissions");
                Refusal::new(CloseReason::AuthViolation, None)
            })?)),
        };
        self.publish_cache = PublishCheckCache::new();
        self.expires = identity.expires.and_then(expiry_instant);
        self.identity = Some(identity);
        self.auth_plugin = auth_plugin;
        Ok(())
    }

    /// Gives back the connection's place in its account's count; once.
    pub fn unbind(&mut self) {
        if std::mem::take(&mut self.bound) {
            self.account.connections.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// The tenant user's name, for logs, events and plugins.
    pub fn user(&self) -> Option<&str> {
        self.identity.as_ref().map(|i| &*i.user)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.unbind();
    }
}

/// The smallest of the server's, the account's and the user's limits:
/// payload size and subscription count.
fn limits(
    rules: &AccountRules,
    identity: &Identity,
    server_max_payload: usize,
) -> (usize, Option<usize>) {
    let smallest = |limits: [Option<usize>; 2]| limits.into_iter().flatten().min();
    let max_payload = smallest([rules.max_payload, identity.max_payload])
        .map_or(server_max_payload, |m| m.min(server_max_payload));
    let max_subscriptions = smallest([rules.max_subscriptions, identity.max_subscriptions]);
    (max_payload, max_subscriptions)
}

/// The monotonic instant at which unix time `exp` (seconds) is reached;
/// `None` (no expiry timer) for an `exp` so far ahead that the clock
/// cannot hold it. On Linux any `i64` fits; where the monotonic clock is
/// narrower (macOS counts nanoseconds in a `u64`), a user JWT with `exp`
/// near `i64::MAX` would overflow `now + left` and panic.
fn expiry_instant(exp: i64) -> Option<tokio::time::Instant> {
    let now_unix = SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let left = (exp as f64 - now_unix).max(0.0);
    let left = std::time::Duration::try_from_secs_f64(left).ok()?;
    tokio::time::Instant::now().checked_add(left)
}
