//! Logging a connection in: checking its credentials, binding it to its
//! tenant's account (with the account's limits), announcing it on the
//! system account, and re-checking all of that after a reload.

use super::Shared;
use super::account::{AccountRules, GLOBAL_ACCOUNT};
use super::client_info::ClientMeta;
use super::close::CloseReason;
use super::connection::{Connection, sub_violation};
use super::deliver::publish_internal;
use super::events::{
    CONNECT_TYPE, ClientEvent, ClientRef, DISCONNECT_TYPE, DataStats, ServerRef, event_id, rfc3339,
};
use super::stats::AuthFailure;
use super::tenancy::Tenancy;
use crate::auth::verify_nonce_signature;
use crate::auth::{AuthError, Identity, TlsPeer, new_nonce};
use crate::plugin::{AuthPlugin, AuthRequest};
use crate::protocol::ConnectOptions;
use crate::tenant::permissions::{CompiledPermissions, PublishCheckCache};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::Poll;
use std::time::SystemTime;

/// What a connection knows about its login.
pub(super) struct LoginState {
    /// Sent in INFO when some user logs in with an nkey.
    pub nonce: Option<String>,
    pub identity: Option<Identity>,
    /// The auth plugin that let this client in, if one did.
    pub auth_plugin: Option<Arc<AuthPlugin>>,
    /// The verified client certificate's identity (TLS with `verify`).
    pub tls_peer: Option<Arc<TlsPeer>>,
    /// Counted in its account's `connections`.
    bound: bool,
    /// When the login's credentials expire (a user JWT's `exp`).
    pub expires: Option<tokio::time::Instant>,
    /// Subscriptions allowed on this connection (account and user limits).
    pub max_subscriptions: Option<usize>,
    /// A CONNECT whose credentials are being checked (boxed: most
    /// connections hold none for most of their life).
    pub pending: Option<Box<PendingLogin>>,
    started: SystemTime,
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

impl LoginState {
    pub fn new(server: &Shared) -> LoginState {
        LoginState {
            nonce: server.tenancy().nonce_required().then(new_nonce),
            identity: None,
            auth_plugin: None,
            tls_peer: None,
            bound: false,
            expires: None,
            max_subscriptions: None,
            pending: None,
            started: SystemTime::now(),
        }
    }
}

/// What a credentials check ends with: `None` if the check itself failed
/// (it panicked).
type Checked = Option<Result<(Identity, Option<Arc<AuthPlugin>>), AuthError>>;

/// A CONNECT whose credentials are being checked on the login pool. The
/// connection reads nothing more until the check ends.
pub(super) struct PendingLogin {
    pub opts: ConnectOptions,
    tenancy: Arc<Tenancy>,
    check: Pin<Box<dyn Future<Output = Checked> + Send>>,
}

impl PendingLogin {
    /// Completes when the check does; `None` if it panicked.
    pub fn finished(pending: &mut Option<Box<PendingLogin>>) -> impl Future<Output = Checked> + '_ {
        std::future::poll_fn(move |cx| match pending {
            Some(p) => p.check.as_mut().poll(cx),
            None => Poll::Pending,
        })
    }
}

/// Whether a login finished at once or waits for its check.
pub(super) enum LoginStart {
    Done,
    Pending(Box<PendingLogin>),
}

/// Everything a credentials check reads, owned, so it can run on a
/// blocking thread.
struct Credentials {
    tenancy: Arc<Tenancy>,
    opts: ConnectOptions,
    nonce: Option<String>,
    peer: SocketAddr,
    tls_peer: Option<Arc<TlsPeer>>,
}

impl Credentials {
    /// The tenant users, JWT or certificate first; auth plugins for a
    /// client those do not know. Slow (bcrypt, ed25519, plugin calls):
    /// runs on the login pool only.
    /// Returns the identity and, when an auth plugin let the client in,
    /// that plugin (a reload keeps the grant while it is unchanged).
    fn check(&self) -> Result<(Identity, Option<Arc<AuthPlugin>>), AuthError> {
        let tenancy = &self.tenancy;
        tenancy
            .authenticate(
                &self.opts,
                self.nonce.as_deref(),
                self.peer.ip(),
                self.tls_peer.as_deref(),
            )
            .map(|identity| (identity, None))
            .or_else(|e| {
                if e.is_unknown_client() && !tenancy.auth_plugins.is_empty() {
                    let remote = self.peer.to_string();
                    tenancy
                        .authenticate_with_plugins(&self.auth_request(&remote))
                        .map(|(identity, plugin)| (identity, Some(plugin)))
                } else {
                    Err(e)
                }
            })
    }

    /// What an auth plugin is told about this client.
    fn auth_request<'a>(&'a self, remote: &'a str) -> AuthRequest<'a> {
        let opts = &self.opts;
        let nkey_verified = match (&opts.nkey, &opts.sig, &self.nonce) {
            (Some(nkey), Some(sig), Some(nonce)) => verify_nonce_signature(nkey, nonce, sig),
            _ => false,
        };
        AuthRequest {
            user: opts.user.as_deref(),
            password: opts.pass.as_deref(),
            token: opts.auth_token.as_deref(),
            jwt: opts.jwt.as_deref(),
            nkey: opts.nkey.as_deref(),
            nkey_verified,
            client_name: opts.name.as_deref(),
            client_lang: opts.lang.as_deref(),
            client_version: opts.version.as_deref(),
            remote_addr: remote,
            tls_peer: self.tls_peer.as_deref(),
        }
    }
}

impl Connection {
    /// Starts checking the CONNECT credentials. The server-wide
    /// authorization (constant-time compares) is checked here; tenant
    /// users, JWTs and auth plugins on the login pool (see `login_gate`),
    /// if the server and this address have room for one more login.
    pub(super) fn start_login(&mut self, opts: &ConnectOptions) -> Result<LoginStart, CloseReason> {
        let tenancy = self.server.tenancy();
        if tenancy.users.is_none() {
            if !self.server.authorize(opts) {
                self.server.stats.auth_failed(AuthFailure::Credentials);
                tracing::info!(cid = self.handle.id, peer = %self.peer, "authorization failed");
                return Err(CloseReason::AuthViolation);
            }
            return Ok(LoginStart::Done);
        }
        let ticket = self.server.logins.admit(self.peer.ip()).map_err(|busy| {
            self.server.stats.auth_failed(AuthFailure::Busy);
            tracing::warn!(cid = self.handle.id, peer = %self.peer, ?busy, "too many logins in progress; refused");
            CloseReason::TooManyLogins
        })?;
        let credentials = Credentials {
            tenancy: tenancy.clone(),
            opts: opts.clone(),
            nonce: self.login.nonce.clone(),
            peer: self.peer,
            tls_peer: self.login.tls_peer.clone(),
        };
        Ok(LoginStart::Pending(Box::new(PendingLogin {
            opts: opts.clone(),
            tenancy,
            check: Box::pin(ticket.run(move || credentials.check())),
        })))
    }

    /// A CONNECT: its options checked, then the login started (or, if
    /// it is done at once or not needed, the CONNECT accepted).
    pub(super) fn on_connect(&mut self, json: &[u8]) -> Result<(), CloseReason> {
        let Some(opts) = ConnectOptions::from_json(json) else {
            return Err(CloseReason::ProtocolViolation);
        };
        if !(0..=1).contains(&opts.protocol) {
            return Err(CloseReason::BadClientProtocol);
        }
        if opts.no_responders && !opts.headers {
            return Err(CloseReason::NoRespondersNeedsHeaders);
        }
        if !self.connected
            && let LoginStart::Pending(pending) = self.start_login(&opts)?
        {
            // Accepted once the check ends (`finish_pending_login`).
            self.login.pending = Some(pending);
            return Ok(());
        }
        self.accept_connect(opts);
        Ok(())
    }

    /// Takes a CONNECT whose login (if any) succeeded: its options apply
    /// from here on.
    pub(super) fn accept_connect(&mut self, opts: ConnectOptions) {
        self.handle.set_headers(opts.headers);
        self.handle.set_async_info(opts.protocol >= 1);
        self.opts = opts;
        self.handle.set_meta(ClientMeta {
            name: self.opts.name.clone(),
            lang: self.opts.lang.clone(),
            version: self.opts.version.clone(),
            account: self.account.name.clone(),
            user: self.login.identity.as_ref().map(|i| i.user.to_string()),
        });
        if !self.connected {
            self.connected = true;
            self.account
                .traffic
                .total_connections
                .fetch_add(1, Ordering::Relaxed);
            self.emit_client_event(None);
        }
        self.ok();
    }

    /// Binds the connection to the account its checked credentials name
    /// (`checked` is `None` when the check itself failed).
    fn finish_login(&mut self, tenancy: &Tenancy, checked: Checked) -> Result<(), CloseReason> {
        let Some(checked) = checked else {
            tracing::error!(cid = self.handle.id, peer = %self.peer, "credentials check panicked; login refused");
            self.server.stats.auth_failed(AuthFailure::Credentials);
            return Err(CloseReason::AuthViolation);
        };
        let (identity, auth_plugin) = checked.map_err(|e| {
            self.server.stats.auth_failed(AuthFailure::of(&e));
            tracing::info!(cid = self.handle.id, peer = %self.peer, error = %e, "authorization failed");
            CloseReason::AuthViolation
        })?;
        let Some(account) = tenancy.accounts.get(&*identity.tenant).cloned() else {
            return Err(CloseReason::AuthViolation);
        };
        let rules = account.rules();
        let open = account.connections.fetch_add(1, Ordering::AcqRel);
        if rules.max_connections.is_some_and(|max| open >= max) {
            account.connections.fetch_sub(1, Ordering::AcqRel);
            self.server.stats.auth_failed(AuthFailure::AccountLimit);
            return Err(CloseReason::MaxAccountConnections);
        }
        self.login.bound = true;
        self.apply_limits(&rules, &identity);
        // A JWT limit of 0 leaves no room for a single subscription;
        // nats-server tells the client and closes at once.
        if self.login.max_subscriptions == Some(0) {
            return Err(CloseReason::MaxSubscriptions);
        }
        tracing::debug!(cid = self.handle.id, tenant = %identity.tenant, user = %identity.user, "logged in");
        self.set_permissions(&identity)?;
        self.account = account;
        self.rules = rules;
        self.login.expires = identity.expires.and_then(expiry_instant);
        self.login.identity = Some(identity);
        self.login.auth_plugin = auth_plugin;
        Ok(())
    }

    /// Ends a pending login: binds on success, then accepts its CONNECT.
    pub(super) fn finish_pending_login(
        &mut self,
        pending: Box<PendingLogin>,
        checked: Checked,
    ) -> Result<(), CloseReason> {
        self.finish_login(&pending.tenancy, checked)?;
        self.accept_connect(pending.opts);
        Ok(())
    }

    /// The smallest of the server's, the account's and the user's limits
    /// (nats-server's `applyAccountLimits`).
    fn apply_limits(&mut self, rules: &AccountRules, identity: &Identity) {
        let smallest = |limits: [Option<usize>; 2]| limits.into_iter().flatten().min();
        self.limits.max_payload = smallest([rules.max_payload, identity.max_payload])
            .map_or(self.server.config.max_payload, |m| {
                m.min(self.server.config.max_payload)
            });
        self.login.max_subscriptions =
            smallest([rules.max_subscriptions, identity.max_subscriptions]);
    }

    pub(super) fn unbind(&mut self) {
        if std::mem::take(&mut self.login.bound) {
            self.account.connections.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// After a reload: logs in again with the same credentials. A removed
    /// user or tenant is disconnected; otherwise the new rules apply and
    /// stream-import shadows are rebuilt. A client an auth plugin let in
    /// keeps its grant while that plugin is unchanged, and is asked about
    /// again (through the new plugins) only if it changed.
    pub(super) fn on_reload(&mut self) -> Result<(), CloseReason> {
        let Some(old) = self.login.identity.clone() else {
            return Ok(());
        };
        let tenancy = self.server.tenancy();
        if tenancy.users.is_none() {
            return Err(CloseReason::AuthViolation);
        }
        let relogin = match &self.login.auth_plugin {
            Some(previous) => match tenancy.same_auth_plugin(previous) {
                Some(same) => Ok((old.clone(), Some(same.clone()))),
                None => {
                    let credentials = Credentials {
                        tenancy: tenancy.clone(),
                        opts: self.opts.clone(),
                        nonce: self.login.nonce.clone(),
                        peer: self.peer,
                        tls_peer: self.login.tls_peer.clone(),
                    };
                    let remote = self.peer.to_string();
                    tenancy
                        .authenticate_with_plugins(&credentials.auth_request(&remote))
                        .map(|(identity, plugin)| (identity, Some(plugin)))
                }
            },
            None => tenancy
                .reauthenticate(
                    &self.opts,
                    self.login.nonce.as_deref(),
                    self.peer.ip(),
                    self.login.tls_peer.as_deref(),
                    &old,
                )
                .map(|identity| (identity, None)),
        };
        let (identity, auth_plugin) = relogin.map_err(|e| {
            tracing::info!(cid = self.handle.id, error = %e, "login no longer valid after reload");
            match e {
                AuthError::Revoked { .. } => CloseReason::AuthRevoked,
                _ => CloseReason::AuthViolation,
            }
        })?;
        let same_account = tenancy
            .accounts
            .get(&*identity.tenant)
            .is_some_and(|a| Arc::ptr_eq(a, &self.account));
        if identity.tenant != old.tenant || !same_account {
            return Err(CloseReason::AuthViolation);
        }
        self.rules = self.account.rules();
        self.apply_limits(&self.rules.clone(), &identity);
        // A limit lowered below what this connection already holds ends it
        // (nats-server also ends one that is exactly at the new limit).
        if let Some(max) = self.login.max_subscriptions
            && (max == 0 || self.subs.len() > max)
        {
            return Err(CloseReason::MaxSubscriptions);
        }
        self.set_permissions(&identity)?;
        self.login.expires = identity.expires.and_then(expiry_instant);
        self.login.identity = Some(identity);
        self.login.auth_plugin = auth_plugin;
        self.refresh_subscriptions();
        Ok(())
    }

    fn set_permissions(&mut self, identity: &Identity) -> Result<(), CloseReason> {
        let perms = match &identity.permissions {
            None => None,
            Some(p) => Some(Arc::new(CompiledPermissions::compile(p).map_err(|e| {
                // Validation rejects such files; refuse rather than run unrestricted.
                tracing::error!(cid = self.handle.id, error = %e, "invalid permissions");
                CloseReason::AuthViolation
            })?)),
        };
        self.handle.set_permissions(perms.clone());
        self.perms = perms;
        self.pub_cache = PublishCheckCache::new();
        Ok(())
    }

    /// Drops subscriptions the current permissions refuse (with the
    /// nats-server error) and rebuilds the import shadows of the rest.
    fn refresh_subscriptions(&mut self) {
        let sids: Vec<_> = self.subs.keys().cloned().collect();
        for sid in sids {
            let Some(mut entry) = self.subs.remove(&sid) else {
                continue;
            };
            if let Some(p) = &self.perms {
                let sub = &entry.sub;
                if !p.can_subscribe(&sub.subject, sub.queue.as_deref()) {
                    self.send_err(&sub_violation(&sub.subject, sub.queue.as_deref()));
                    self.unindex(&entry);
                    continue;
                }
                let filter = p.sub_needs_delivery_filter(&sub.subject);
                sub.needs_filter.store(filter, Ordering::Relaxed);
            } else {
                entry.sub.needs_filter.store(false, Ordering::Relaxed);
            }
            for shadow in std::mem::take(&mut entry.shadows) {
                shadow.remove_shadow();
            }
            entry.shadows = self.shadows_for(&entry.sub);
            self.subs.insert(sid, entry);
        }
    }

    /// Publishes `$SYS.ACCOUNT.<tenant>.CONNECT` (reason `None`) or `.DISCONNECT`.
    pub(super) fn emit_client_event(&self, reason: Option<CloseReason>) {
        let tenancy = self.server.tenancy();
        let system = &tenancy.system;
        if system.index.is_empty() {
            return;
        }
        let account = self
            .login
            .identity
            .as_ref()
            .map_or(GLOBAL_ACCOUNT, |i| &*i.tenant);
        let now = SystemTime::now();
        let info = &self.server.info;
        let (out_msgs, out_bytes) = self.handle.outbound.totals();
        let event = ClientEvent {
            kind: if reason.is_some() {
                DISCONNECT_TYPE
            } else {
                CONNECT_TYPE
            },
            id: event_id(),
            timestamp: rfc3339(now),
            server: ServerRef {
                name: info.server_name.clone(),
                host: info.host.clone(),
                id: info.server_id.clone(),
                ver: info.version.clone(),
                seq: self.server.next_event_seq(),
                time: rfc3339(now),
            },
            client: ClientRef {
                start: rfc3339(self.login.started),
                host: self.peer.ip().to_string(),
                id: self.handle.id,
                acc: account.to_string(),
                user: self.login.identity.as_ref().map(|i| i.user.to_string()),
                name: self.opts.name.clone(),
                lang: self.opts.lang.clone(),
                ver: self.opts.version.clone(),
                server: info.server_name.clone(),
                kind: "Client",
                client_type: "nats",
            },
            sent: reason.map(|_| DataStats {
                msgs: out_msgs,
                bytes: out_bytes,
            }),
            received: reason.map(|_| DataStats {
                msgs: self.handle.counters.in_msgs.load(Ordering::Relaxed),
                bytes: self.handle.counters.in_bytes.load(Ordering::Relaxed),
            }),
            reason: reason.map(|r| r.event_text().to_string()),
        };
        let suffix = if reason.is_some() {
            "DISCONNECT"
        } else {
            "CONNECT"
        };
        let subject = format!("$SYS.ACCOUNT.{account}.{suffix}");
        match serde_json::to_vec(&event) {
            Ok(json) => publish_internal(&self.server, system, subject.as_bytes(), &json),
            Err(e) => tracing::warn!(error = %e, "cannot encode client event"),
        }
    }
}
