//! What the listener, every connection and monitoring share: the
//! configuration, the tenancy (swapped whole on reload), the live and the
//! recently closed clients, counters, TLS and the login gate.

use super::closed::ClosedClients;
use super::error::ServerError;
use super::stats::ServerStats;
use super::tls::{ServerTls, TlsError};
use crate::auth::constant_time_eq;
use crate::client::ClientHandle;
use crate::config::ServerConfig;
use crate::login::LoginGate;
use crate::plugin::engine::RuntimeSlot;
use crate::protocol::{ConnectOptions, ServerInfo};
use crate::route::publish_internal;
use crate::tenant::{Account, Tenancy};
use dashmap::DashMap;
use parking_lot::RwLock;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;
use tokio::sync::{Notify, watch};

/// State shared by the listener and every connection.
/// Twenty-five fields, each one concern that the listener, the connections and
/// monitoring reach by name (`server.config`, `server.stats`, ...); nesting
/// them would add a level to those reads without making any one clearer.
pub(crate) struct Shared {
    pub(super) config: ServerConfig,
    pub(super) info: ServerInfo,
    /// `host:port` for clients on other machines (see `advertise`).
    pub(super) client_urls: Vec<String>,
    pub(super) stats: ServerStats,
    pub(super) global: Arc<Account>,
    pub(super) next_id: AtomicU64,
    pub(super) shutdown: watch::Sender<bool>,
    pub(super) clients: DashMap<u64, Arc<ClientHandle>>,
    /// The last closed connections, for `/connz?state=closed`.
    pub(super) closed: ClosedClients,
    pub(super) all_closed: Notify,
    /// Replaced whole on reload; read when a client logs in.
    pub(super) tenancy: RwLock<Arc<Tenancy>>,
    /// Serialises reloads, and holds the configuration tenants are loaded
    /// from: `config`, or `config` with the accounts of a nats-server file
    /// re-read since start (`reload_accounts_from`).
    pub(super) reloading: parking_lot::Mutex<Arc<ServerConfig>>,
    /// Set once lame-duck mode has begun.
    pub(super) lame_duck: std::sync::atomic::AtomicBool,
    pub(super) event_seq: AtomicU64,
    /// The WebAssembly runtime, made when a tenant first needs it.
    pub(super) plugins: RuntimeSlot,
    pub(super) started: SystemTime,
    /// When the configuration and tenants were last loaded (start or reload).
    pub(super) config_loaded: parking_lot::Mutex<SystemTime>,
    /// The monitoring listener's bound port; 0 when it is off.
    pub(super) http_port: parking_lot::Mutex<u16>,
    /// Monitoring requests served, by endpoint path (known paths only).
    pub(super) http_requests: parking_lot::Mutex<std::collections::BTreeMap<String, u64>>,
    /// Set when `[tls]` is configured: every client must use TLS.
    pub(super) tls: Option<ServerTls>,
    /// Where credentials are checked, off the async workers, and how many
    /// logins may wait for that.
    pub(super) logins: Arc<LoginGate>,
    /// Live leaf node connections, both ways, for monitoring.
    pub(super) leaves: DashMap<u64, Arc<super::leaf::state::LeafEntry>>,
    /// Traffic of closed leaf connections, so leaf counters never go back.
    pub(super) leaf_retired: super::leaf::state::LeafTotals,
    /// TLS on the leaf node port (`leafnodes.tls`).
    pub(super) leaf_tls: Option<ServerTls>,
    /// The leaf node port's bound address, once listening.
    pub(super) leaf_addr: parking_lot::Mutex<Option<std::net::SocketAddr>>,
    /// The cluster's routes and what they told.
    pub(super) cluster: super::cluster::state::ClusterState,
    /// TLS on the route port (`cluster.tls`).
    pub(super) route_tls: Option<ServerTls>,
    /// The route port's bound address, once listening.
    pub(super) route_addr: parking_lot::Mutex<Option<std::net::SocketAddr>>,
}

impl Shared {
    /// Publishes a message from the server itself into `account` and
    /// counts what it delivered.
    pub(super) fn publish(&self, account: &Arc<Account>, subject: &[u8], payload: &[u8]) {
        let mut stats = publish_internal(account, subject, payload);
        self.stats.absorb(&mut stats);
    }

    /// `host:port` of the leaf node port as leaves should dial it (INFO's
    /// `leafnode_urls`): nats-server's choice, the first address another
    /// machine could reach.
    pub(super) fn leaf_url(&self) -> String {
        match *self.leaf_addr.lock() {
            Some(addr) => {
                super::advertise::listener_urls(&addr.ip().to_string(), addr).swap_remove(0)
            }
            None => String::new(),
        }
    }

    /// The INFO for clients: the server's, with the cluster's client URLs
    /// when it is in one (unless `cluster.no_advertise`).
    pub(super) fn client_info(&self) -> ServerInfo {
        let mut info = self.info.clone();
        if let Some(cluster) = &self.config.cluster
            && !cluster.no_advertise
        {
            let peers = self.cluster.peer_client_urls();
            let mut urls = Vec::with_capacity(self.client_urls.len() + peers.len());
            if !self.lame_duck.load(Ordering::Relaxed) {
                urls.extend(self.client_urls.iter().cloned());
            }
            urls.extend(peers);
            info.connect_urls = urls;
        }
        info
    }

    pub(super) fn auth_required(&self) -> bool {
        self.config.authorization.is_some() || self.tenancy.read().auth_required()
    }

    /// Rebuilds the tenancy from the configured files and tells every
    /// connection to re-check its login. One reload at a time.
    pub(super) fn reload_now(&self) -> Result<(), ServerError> {
        self.reload_with(|previous, sources| Ok(Tenancy::load(sources, previous, &self.plugins)?))
    }

    /// Reloads with the accounts, users, operator, `no_auth_user` and
    /// `system_account` of `file` (a re-read nats-server file) in place of
    /// those in force; every other setting stays as the server started
    /// (a changed one is logged as needing a restart). Later reloads keep
    /// using these accounts.
    pub(super) fn reload_accounts_from(&self, file: ServerConfig) -> Result<(), ServerError> {
        self.reload_with(|previous, sources| {
            let mut next = (**sources).clone();
            next.inline_tenants = file.inline_tenants.clone();
            next.inline_operator = file.inline_operator.clone();
            next.no_auth_user = file.no_auth_user.clone();
            next.system_account = file.system_account.clone();
            let tenancy = Tenancy::load(&next, previous, &self.plugins)?;
            let mut rest = file;
            rest.inline_tenants = next.inline_tenants.clone();
            rest.inline_operator = next.inline_operator.clone();
            rest.no_auth_user = next.no_auth_user.clone();
            rest.system_account = next.system_account.clone();
            if rest != self.config {
                tracing::warn!(
                    "the configuration file changes settings other than accounts and users; \
                     they take effect at the next start"
                );
            }
            *sources = Arc::new(next);
            Ok(tenancy)
        })
    }

    /// Installs the tenancy `next` builds from the one in force, holding
    /// the reload lock throughout, so `next` may also write what it has
    /// checked (a claims update stores its JWT) without another reload
    /// interleaving. Everything is read and checked before anything is
    /// swapped, so a bad file changes nothing.
    pub(super) fn reload_with<E: From<TlsError>>(
        &self,
        next: impl FnOnce(&Tenancy, &mut Arc<ServerConfig>) -> Result<Tenancy, E>,
    ) -> Result<(), E> {
        let mut sources = self.reloading.lock();
        let previous = self.tenancy();
        let acceptor = self
            .tls
            .as_ref()
            .map(ServerTls::prepare_reload)
            .transpose()?;
        let next = next(&previous, &mut sources)?;
        let tenants = next.tenants.len();
        *self.tenancy.write() = Arc::new(next);
        *self.config_loaded.lock() = SystemTime::now();
        if let (Some(tls), Some(acceptor)) = (&self.tls, acceptor) {
            tls.install(acceptor);
            tracing::info!("TLS certificates reloaded");
        }
        for client in self.clients.iter() {
            client.request_reload();
        }
        for leaf in self.leaves.iter() {
            leaf.handle.request_reload();
        }
        for route in self.cluster.live() {
            route.handle.request_reload();
        }
        tracing::info!(tenants, "tenants reloaded");
        Ok(())
    }

    pub(super) fn next_event_seq(&self) -> u64 {
        self.event_seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub(super) fn tenancy(&self) -> Arc<Tenancy> {
        self.tenancy.read().clone()
    }

    /// Checks CONNECT credentials against the server-wide authorization.
    pub(super) fn authorize(&self, opts: &ConnectOptions) -> bool {
        let Some(auth) = &self.config.authorization else {
            return true;
        };
        if let Some(token) = &auth.token {
            return opts
                .auth_token
                .as_deref()
                .is_some_and(|t| constant_time_eq(t.as_bytes(), token.as_bytes()));
        }
        let user_ok = opts.user.as_deref() == auth.user.as_deref();
        let pass_ok = match (opts.pass.as_deref(), auth.password.as_deref()) {
            (Some(given), Some(want)) => constant_time_eq(given.as_bytes(), want.as_bytes()),
            _ => false,
        };
        user_ok & pass_ok
    }

    pub(super) fn forget(&self, id: u64) {
        self.clients.remove(&id);
        if self.clients.is_empty() {
            self.all_closed.notify_waiters();
        }
    }
}
