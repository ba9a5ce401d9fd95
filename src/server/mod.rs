//! The broker: the listener, connection set-up and TLS, a client
//! connection's read loop (`connection`) and writer task (`writer`), how
//! it ends (`cleanup`), lame duck, reloads, system events and claims
//! requests, and the `Observer` monitoring reads it through (`observe`).
//! Login is `crate::login`, delivery `crate::route`, outbound buffers and
//! close reasons `crate::client`, the account model `crate::tenant`.
//!
//! `Server::start` binds, spawns the accept loop and returns a handle that
//! reports the bound address and stops the server gracefully.
//!
//! May use: every layer below it (`protocol`, `subject`, `config`, `auth`,
//! `plugin`, `client`, `tenant`, `login`, `route`, `monitor`).

mod advertise;
mod announce;
mod claims;
mod cleanup;
mod closed;
mod cluster;
mod connection;
mod error;
mod events;
mod frame_pool;
mod lame_duck;
mod leaf;
mod listener;
mod login;
mod observe;
mod outlet;
mod peer_first;
mod peer_link;
mod plugins;
mod reader;
mod setup;
mod shared;
mod stats;
mod subs;
mod subscribe;
mod system_requests;
mod tls;
mod writer;

pub use crate::client::CloseReason;
pub use crate::tenant::Traffic;
pub use advertise::interface_ips;
pub use error::ServerError;
pub use events::rfc3339;
pub use observe::ServerView;
pub use plugins::PluginInfo;
pub use stats::StatsSnapshot;
pub use tls::TlsError;

use crate::config::ServerConfig;
use crate::login::LoginGate;
use crate::plugin::PluginStats;
use crate::plugin::engine::RuntimeSlot;
use crate::protocol::ServerInfo;
use crate::tenant::Tenancy;
use crate::tenant::{Account, GLOBAL_ACCOUNT};
use dashmap::DashMap;
use parking_lot::RwLock;
use plugins::loaded_plugins;
use shared::Shared;
use stats::ServerStats;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};
use tls::ServerTls;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

/// Loads and validates the tenants `config` names exactly as `Server::start`
/// does, without starting anything.
pub fn check_tenancy(config: &ServerConfig) -> Result<(), ServerError> {
    config
        .validate()
        .map_err(|errs| ServerError::Config(errs.join("\n")))?;
    let plugins = RuntimeSlot::new(config.plugin_cache_dir.clone(), config.plugin_output);
    Tenancy::load(config, &Tenancy::without_tenants(), &plugins)?;
    config.tls.as_ref().map(ServerTls::load).transpose()?;
    leaf_tls(config)?;
    route_tls(config)?;
    Ok(())
}

/// TLS for the route port, if `cluster.tls` is set. Peers always verify
/// each other's certificate against `ca_file`, as nats-server forces for
/// routes: a peer is both a server and a client of the cluster.
fn route_tls(config: &ServerConfig) -> Result<Option<ServerTls>, ServerError> {
    let tls = config.cluster.as_ref().and_then(|c| c.tls.as_ref());
    let strict = tls.map(|t| crate::config::TlsConfig {
        verify: true,
        ..t.clone()
    });
    Ok(strict.as_ref().map(ServerTls::load).transpose()?)
}

/// TLS for the leaf node port, if `leafnodes.tls` is set.
fn leaf_tls(config: &ServerConfig) -> Result<Option<ServerTls>, ServerError> {
    let tls = config.leafnodes.as_ref().and_then(|l| l.tls.as_ref());
    Ok(tls.map(ServerTls::load).transpose()?)
}

/// A running broker.
pub struct Server {
    shared: Arc<Shared>,
    local_addr: SocketAddr,
    accept: JoinHandle<()>,
    /// The leaf node port's accept loop, when there is one.
    leaf_accept: Option<JoinHandle<()>>,
    /// The route port's accept loop, in a cluster.
    route_accept: Option<JoinHandle<()>>,
    http_addr: Option<SocketAddr>,
}

impl Server {
    /// Binds the configured address (port 0 picks a free one) and starts serving.
    pub async fn start(config: ServerConfig) -> Result<Server, ServerError> {
        config
            .validate()
            .map_err(|errs| ServerError::Config(errs.join("\n")))?;
        let addr = format!("{}:{}", config.host, config.port);
        let listener = TcpListener::bind(&addr)
            .await
            .map_err(|source| ServerError::Bind {
                addr: addr.clone(),
                source,
            })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| ServerError::Bind { addr, source })?;

        let plugins = RuntimeSlot::new(config.plugin_cache_dir.clone(), config.plugin_output);
        let tenancy = Tenancy::load(&config, &Tenancy::without_tenants(), &plugins)?;
        let tls = config.tls.as_ref().map(ServerTls::load).transpose()?;
        let leaf_tls = leaf_tls(&config)?;
        let leaf_listener = match config
            .leafnodes
            .as_ref()
            .and_then(|l| l.port.map(|p| (l, p)))
        {
            Some((leaf, port)) => {
                let host = leaf.host.as_deref().unwrap_or(&config.host);
                let addr = format!("{host}:{port}");
                let bound = TcpListener::bind(&addr)
                    .await
                    .map_err(|source| ServerError::Bind { addr, source })?;
                Some(bound)
            }
            None => None,
        };
        let route_tls = route_tls(&config)?;
        let route_listener = match &config.cluster {
            Some(cluster) => {
                let host = cluster.host.as_deref().unwrap_or(&config.host);
                let addr = format!("{host}:{}", cluster.port);
                let bound = TcpListener::bind(&addr)
                    .await
                    .map_err(|source| ServerError::Bind { addr, source })?;
                Some(bound)
            }
            None => None,
        };
        if config.tenants.is_some() {
            tracing::info!(tenants = tenancy.tenants.len(), "tenants loaded");
        }
        let server_id = nkeys::KeyPair::new_server().public_key();
        let info = ServerInfo {
            server_name: config
                .server_name
                .clone()
                .unwrap_or_else(|| server_id.clone()),
            server_id,
            version: crate::protocol::NATS_SERVER_VERSION.to_string(),
            switchyard_version: Some(env!("CARGO_PKG_VERSION").to_string()),
            proto: 1,
            go: concat!("switchyard-", env!("CARGO_PKG_VERSION")).to_string(),
            host: config.host.clone(),
            port: local_addr.port(),
            headers: true,
            max_payload: config.max_payload,
            auth_required: config.authorization.is_some() || tenancy.auth_required(),
            tls_required: tls.is_some(),
            tls_verify: tls.as_ref().is_some_and(|t| t.settings.verifies_clients()),
            ..ServerInfo::default()
        };
        let (shutdown, _) = watch::channel(false);
        let logins = LoginGate::new(
            config.max_pending_logins,
            config.max_pending_logins_per_ip,
            crate::login::login_workers(),
        );
        let sources = Arc::new(config.clone());
        let shared = Arc::new(Shared {
            client_urls: advertise::listener_urls(&config.host, local_addr),
            config,
            info,
            stats: ServerStats::default(),
            global: Account::new(GLOBAL_ACCOUNT),
            next_id: AtomicU64::new(1),
            shutdown,
            clients: DashMap::new(),
            closed: closed::ClosedClients::default(),
            all_closed: Notify::new(),
            tenancy: RwLock::new(Arc::new(tenancy)),
            reloading: parking_lot::Mutex::new(sources),
            lame_duck: std::sync::atomic::AtomicBool::new(false),
            event_seq: AtomicU64::new(0),
            plugins,
            started: SystemTime::now(),
            config_loaded: parking_lot::Mutex::new(SystemTime::now()),
            http_port: parking_lot::Mutex::new(0),
            http_requests: parking_lot::Mutex::new(std::collections::BTreeMap::new()),
            tls,
            logins,
            leaves: DashMap::new(),
            leaf_retired: Default::default(),
            leaf_tls,
            leaf_addr: parking_lot::Mutex::new(
                leaf_listener.as_ref().and_then(|l| l.local_addr().ok()),
            ),
            cluster: Default::default(),
            route_tls,
            route_addr: parking_lot::Mutex::new(
                route_listener.as_ref().and_then(|l| l.local_addr().ok()),
            ),
        });
        let monitor = match shared.config.http_port {
            Some(port) => {
                let host = shared
                    .config
                    .http_host
                    .as_deref()
                    .unwrap_or(&shared.config.host);
                let bound = crate::monitor::bind(host, port).await?;
                *shared.http_port.lock() = bound.local_addr().port();
                Some(bound)
            }
            None => None,
        };
        tokio::spawn(sweep_responses(shared.clone()));
        tokio::spawn(expire_activations(shared.clone()));
        tracing::info!(addr = %local_addr, server_id = %shared.info.server_id, "listening for client connections");
        let accept = tokio::spawn(listener::accept_loop(listener, shared.clone()));
        let leaf_accept = leaf_listener.map(|l| {
            tracing::info!(addr = %shared.leaf_url(), "listening for leafnode connections");
            tokio::spawn(leaf::accept_loop(l, shared.clone()))
        });
        let remotes = shared
            .config
            .leafnodes
            .iter()
            .flat_map(|l| l.remotes.clone());
        for remote in remotes {
            tokio::spawn(leaf::run_remote(shared.clone(), remote));
        }
        let route_accept = route_listener.map(|l| {
            let addr = shared.route_addr.lock().map(|a| a.to_string());
            tracing::info!(
                addr = addr.unwrap_or_default(),
                "listening for route connections"
            );
            tokio::spawn(cluster::accept_loop(l, shared.clone()))
        });
        if shared.config.cluster.is_some() {
            tokio::spawn(cluster::learner(shared.clone()));
        }
        let seeds = shared.config.cluster.iter().flat_map(|c| c.routes.clone());
        for seed in seeds {
            tokio::spawn(cluster::run_seed(shared.clone(), seed));
        }
        let http_addr = monitor.map(|m| {
            let addr = m.local_addr();
            m.serve(
                Arc::new(ServerView::new(shared.clone())),
                shared.shutdown.subscribe(),
            );
            addr
        });
        Ok(Server {
            shared,
            local_addr,
            accept,
            leaf_accept,
            route_accept,
            http_addr,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The leaf node port's address, when `[leafnodes]` has a port.
    pub fn leaf_addr(&self) -> Option<SocketAddr> {
        *self.shared.leaf_addr.lock()
    }

    /// Live leaf node connections (both ways).
    pub fn leaf_count(&self) -> usize {
        self.shared.leaves.len()
    }

    /// The route port's address, in a cluster.
    pub fn route_addr(&self) -> Option<SocketAddr> {
        *self.shared.route_addr.lock()
    }

    /// Live routes: one per peer server.
    pub fn route_count(&self) -> usize {
        self.shared.cluster.routes.lock().len()
    }

    /// A `nats://` URL for clients on this machine.
    pub fn client_url(&self) -> String {
        let ip = if self.local_addr.ip().is_unspecified() {
            "127.0.0.1".to_string()
        } else {
            self.local_addr.ip().to_string()
        };
        format!("nats://{ip}:{}", self.local_addr.port())
    }

    /// Where the monitoring endpoints listen, when `http_port` is set.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http_addr
    }

    /// A read-only view for monitoring.
    pub fn observer(&self) -> Arc<dyn crate::monitor::Observer> {
        Arc::new(ServerView::new(self.shared.clone()))
    }

    pub fn stats(&self) -> StatsSnapshot {
        self.shared.stats.snapshot()
    }

    /// Every loaded plugin with its counters: tenant (`None` for auth
    /// plugins), name, kind and statistics.
    pub fn plugins(&self) -> Vec<PluginInfo> {
        loaded_plugins(&self.shared)
    }

    /// The counters of one plugin: `tenant` `None` for an auth plugin.
    pub fn plugin_stats(&self, tenant: Option<&str>, plugin: &str) -> Option<Arc<PluginStats>> {
        self.plugins()
            .into_iter()
            .find(|p| p.tenant.as_deref() == tenant && p.name == plugin)
            .map(|p| p.stats)
    }

    /// Connections currently open.
    pub fn connections(&self) -> usize {
        self.shared.clients.len()
    }

    /// Subscriptions currently registered (all accounts, including
    /// service-import and stream-import entries).
    pub fn subscriptions(&self) -> usize {
        let tenancy = self.shared.tenancy();
        self.shared.global.index.len()
            + tenancy
                .accounts
                .values()
                .map(|a| a.index.len())
                .sum::<usize>()
    }

    /// Open connections bound to `tenant`.
    pub fn tenant_connections(&self, tenant: &str) -> usize {
        let tenancy = self.shared.tenancy();
        tenancy
            .accounts
            .get(tenant)
            .map_or(0, |a| a.connections.load(Ordering::Relaxed))
    }

    /// Service responses `tenant` still owes to requesters in other tenants.
    pub fn pending_responses(&self, tenant: &str) -> usize {
        let tenancy = self.shared.tenancy();
        tenancy
            .accounts
            .get(tenant)
            .map_or(0, |a| a.responses.len())
    }

    /// Re-reads the tenant files. On success, live connections re-check
    /// their login and permissions: removed users and tenants are
    /// disconnected, and subscriptions no longer permitted are dropped.
    /// On error nothing changes.
    pub async fn reload(&self) -> Result<(), ServerError> {
        let shared = self.shared.clone();
        // Loading reads files and may check bcrypt hashes: keep it off the
        // async workers.
        tokio::task::spawn_blocking(move || shared.reload_now())
            .await
            .unwrap_or_else(|e| Err(ServerError::Config(format!("reload task failed: {e}"))))
    }

    /// Re-reads tenants as `reload` does, but with the accounts and users
    /// of `file`, a nats-server configuration file translated again
    /// (`config::natsmap`): what SIGHUP does for a server started from
    /// one. The file's other settings need a restart.
    pub async fn reload_accounts_from(&self, file: ServerConfig) -> Result<(), ServerError> {
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || shared.reload_accounts_from(file))
            .await
            .unwrap_or_else(|e| Err(ServerError::Config(format!("reload task failed: {e}"))))
    }

    /// Stops accepting, lets every connection flush what is queued, and
    /// waits (up to `write_deadline`) for them to close.
    pub async fn shutdown(mut self) {
        let _ = self.shared.shutdown.send(true);
        self.accept.abort();
        // Awaited, so the ports are free once this returns (a restart on
        // the same ports must not find them bound).
        let _ = (&mut self.accept).await;
        for task in [self.leaf_accept.take(), self.route_accept.take()]
            .into_iter()
            .flatten()
        {
            task.abort();
            let _ = task.await;
        }
        self.wait_all_closed().await;
        let deadline = tokio::time::Instant::now() + self.shared.config.write_deadline;
        while (!self.shared.leaves.is_empty() || self.route_count() > 0)
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tracing::info!("server stopped");
    }

    /// Waits (up to `write_deadline` and a second) until every connection
    /// has closed.
    async fn wait_all_closed(&self) {
        let deadline = self.shared.config.write_deadline + Duration::from_secs(1);
        let _ = tokio::time::timeout(deadline, async {
            while !self.shared.clients.is_empty() {
                let wait = self.shared.all_closed.notified();
                if self.shared.clients.is_empty() {
                    break;
                }
                let _ = tokio::time::timeout(Duration::from_millis(50), wait).await;
            }
        })
        .await;
    }
}

/// Forgets service responses that passed their threshold.
async fn sweep_responses(server: Arc<Shared>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut shutdown = server.shutdown.subscribe();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => return,
        }
        let now = std::time::Instant::now();
        for account in server.tenancy().accounts.values() {
            account.responses.sweep(now);
        }
    }
}

/// Reloads when an activation token in use expires, so that its import
/// stops (nats-server arms a timer per token; a once-a-second look at the
/// earliest expiry does the same for us). One attempt per expiry: a reload
/// that fails is logged and not retried every second.
async fn expire_activations(server: Arc<Shared>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut shutdown = server.shutdown.subscribe();
    let mut attempted = None;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => return,
        }
        let Some(expiry) = server.tenancy().activation_expiry else {
            continue;
        };
        if expiry > crate::tenant::tenancy::unix_now() || attempted == Some(expiry) {
            continue;
        }
        attempted = Some(expiry);
        let shared = server.clone();
        match tokio::task::spawn_blocking(move || shared.reload_now()).await {
            Ok(Ok(())) => tracing::info!(expiry, "activation expired, tenants reloaded"),
            Ok(Err(e)) => tracing::warn!(error = %e, "reload after an activation expired failed"),
            Err(e) => tracing::warn!(error = %e, "reload task failed"),
        }
    }
}
