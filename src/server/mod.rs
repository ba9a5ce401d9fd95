//! The broker: listener, connection lifecycle, outbound buffers, slow
//! consumers and shutdown.
//!
//! `Server::start` binds, spawns the accept loop and returns a handle that
//! reports the bound address and stops the server gracefully.

mod account;
mod claims;
mod cleanup;
mod client_info;
mod close;
mod closed;
mod connection;
mod deliver;
mod events;
mod handle;
mod lame_duck;
mod listener;
mod login;
mod login_gate;
mod observe;
mod outbound;
mod plugin_stage;
mod registry;
mod responses;
mod setup;
mod stats;
mod sysreq;
mod tenancy;
mod tls;

pub use account::Traffic;
pub use close::CloseReason;
pub use events::rfc3339;
pub use observe::{
    AccountSnapshot, ConnSnapshot, ExportSummary, ImportSummary, IndexTotals, Observer,
    ServerSummary, SubSnapshot,
};
pub use stats::StatsSnapshot;
pub use sysreq::SystemRequest;
pub use tls::TlsError;

use crate::auth::constant_time_eq;
use crate::config::ServerConfig;
use crate::config::tenant::PluginKind;
use crate::plugin::PluginStats;
use crate::plugin::engine::RuntimeSlot;
use crate::protocol::{ConnectOptions, ServerInfo};
use account::{Account, GLOBAL_ACCOUNT};
use dashmap::DashMap;
use handle::ClientHandle;
use parking_lot::RwLock;
use stats::ServerStats;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};
use tenancy::{Tenancy, TenancyError};
use thiserror::Error;
use tls::ServerTls;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

#[derive(Debug, Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("invalid configuration:\n{0}")]
    Config(String),
    #[error(transparent)]
    Tenancy(#[from] TenancyError),
    #[error(transparent)]
    Monitor(#[from] crate::monitor::MonitorError),
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// State shared by the listener and every connection.
pub(crate) struct Shared {
    config: ServerConfig,
    info: ServerInfo,
    stats: ServerStats,
    global: Arc<Account>,
    next_id: AtomicU64,
    shutdown: watch::Sender<bool>,
    clients: DashMap<u64, Arc<ClientHandle>>,
    /// The last closed connections, for `/connz?state=closed`.
    closed: closed::ClosedClients,
    all_closed: Notify,
    /// Replaced whole on reload; read when a client logs in.
    tenancy: RwLock<Arc<Tenancy>>,
    /// Serialises reloads.
    reloading: parking_lot::Mutex<()>,
    /// Set once lame-duck mode has begun.
    lame_duck: std::sync::atomic::AtomicBool,
    event_seq: AtomicU64,
    /// The WebAssembly runtime, made when a tenant first needs it.
    plugins: RuntimeSlot,
    started: SystemTime,
    /// When the configuration and tenants were last loaded (start or reload).
    config_loaded: parking_lot::Mutex<SystemTime>,
    /// The monitoring listener's bound port; 0 when it is off.
    http_port: parking_lot::Mutex<u16>,
    /// Monitoring requests served, by endpoint path (known paths only).
    http_requests: parking_lot::Mutex<std::collections::BTreeMap<String, u64>>,
    /// The plugin host's report to monitoring, once it registers one.
    plugin_reporter: RwLock<Option<Arc<dyn crate::monitor::PluginReporter>>>,
    /// Set when `[tls]` is configured: every client must use TLS.
    tls: Option<ServerTls>,
    /// Where credentials are checked, off the async workers, and how many
    /// logins may wait for that.
    logins: Arc<login_gate::LoginGate>,
}

impl Shared {
    fn auth_required(&self) -> bool {
        self.config.authorization.is_some() || self.tenancy.read().auth_required()
    }

    /// Rebuilds the tenancy from the configured files and tells every
    /// connection to re-check its login. One reload at a time.
    fn reload_now(&self) -> Result<(), ServerError> {
        self.reload_with(|previous| Ok(Tenancy::load(&self.config, previous, &self.plugins)?))
    }

    /// Installs the tenancy `next` builds from the one in force, holding
    /// the reload lock throughout, so `next` may also write what it has
    /// checked (a claims update stores its JWT) without another reload
    /// interleaving. Everything is read and checked before anything is
    /// swapped, so a bad file changes nothing.
    fn reload_with<E: From<TlsError>>(
        &self,
        next: impl FnOnce(&Tenancy) -> Result<Tenancy, E>,
    ) -> Result<(), E> {
        let _one_at_a_time = self.reloading.lock();
        let previous = self.tenancy();
        let acceptor = self
            .tls
            .as_ref()
            .map(ServerTls::prepare_reload)
            .transpose()?;
        let next = next(&previous)?;
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
        tracing::info!(tenants, "tenants reloaded");
        Ok(())
    }

    fn next_event_seq(&self) -> u64 {
        self.event_seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn tenancy(&self) -> Arc<Tenancy> {
        self.tenancy.read().clone()
    }

    /// Checks CONNECT credentials against the server-wide authorization.
    fn authorize(&self, opts: &ConnectOptions) -> bool {
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

    fn forget(&self, id: u64) {
        self.clients.remove(&id);
        if self.clients.is_empty() {
            self.all_closed.notify_waiters();
        }
    }
}

/// Loads and validates the tenants `config` names exactly as `Server::start`
/// does, without starting anything.
pub fn check_tenancy(config: &ServerConfig) -> Result<(), ServerError> {
    config
        .validate()
        .map_err(|errs| ServerError::Config(errs.join("\n")))?;
    let plugins = RuntimeSlot::new(config.plugin_cache_dir.clone());
    Tenancy::load(config, &Tenancy::without_tenants(), &plugins)?;
    config.tls.as_ref().map(ServerTls::load).transpose()?;
    Ok(())
}

fn loaded_plugins(shared: &Shared) -> Vec<PluginInfo> {
    let tenancy = shared.tenancy();
    let mut out = Vec::new();
    for (name, account) in &tenancy.accounts {
        let Some(plugins) = account.rules().plugins.clone() else {
            continue;
        };
        for t in plugins
            .transforms
            .iter()
            .chain(plugins.export_transforms.iter().map(|t| &**t))
        {
            out.push(PluginInfo {
                tenant: Some(name.to_string()),
                name: t.name.clone(),
                kind: PluginKind::Transform,
                subjects: t.registered.subjects.clone(),
                failure_policy: policy_name(t.policy),
                stats: t.pool.stats.clone(),
            });
        }
        for r in &plugins.routers {
            out.push(PluginInfo {
                tenant: Some(name.to_string()),
                name: r.name.clone(),
                kind: PluginKind::Routing,
                subjects: r.registered.subjects.clone(),
                failure_policy: policy_name(r.policy),
                stats: r.pool.stats.clone(),
            });
        }
    }
    for a in &tenancy.auth_plugins {
        out.push(PluginInfo {
            tenant: None,
            name: a.name.clone(),
            kind: PluginKind::Auth,
            subjects: Vec::new(),
            failure_policy: policy_name(a.policy),
            stats: a.pool.stats.clone(),
        });
    }
    out.sort_by(|a, b| (&a.tenant, &a.name).cmp(&(&b.tenant, &b.name)));
    out
}

fn policy_name(policy: crate::config::tenant::FailurePolicy) -> String {
    match policy {
        crate::config::tenant::FailurePolicy::FailClosed => "fail-closed".into(),
        crate::config::tenant::FailurePolicy::FailOpen => "fail-open".into(),
    }
}

/// One loaded plugin, for monitoring.
pub struct PluginInfo {
    pub tenant: Option<String>,
    pub name: String,
    pub kind: PluginKind,
    /// What it is called for; empty for auth plugins.
    pub subjects: Vec<String>,
    /// `fail-closed` or `fail-open`.
    pub failure_policy: String,
    pub stats: Arc<PluginStats>,
}

/// A running broker.
pub struct Server {
    shared: Arc<Shared>,
    local_addr: SocketAddr,
    accept: JoinHandle<()>,
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

        let plugins = RuntimeSlot::new(config.plugin_cache_dir.clone());
        let tenancy = Tenancy::load(&config, &Tenancy::without_tenants(), &plugins)?;
        let tls = config.tls.as_ref().map(ServerTls::load).transpose()?;
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
        let logins = login_gate::LoginGate::new(
            config.max_pending_logins,
            config.max_pending_logins_per_ip,
            login_gate::login_workers(),
        );
        let shared = Arc::new(Shared {
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
            reloading: parking_lot::Mutex::new(()),
            lame_duck: std::sync::atomic::AtomicBool::new(false),
            event_seq: AtomicU64::new(0),
            plugins,
            started: SystemTime::now(),
            config_loaded: parking_lot::Mutex::new(SystemTime::now()),
            http_port: parking_lot::Mutex::new(0),
            http_requests: parking_lot::Mutex::new(std::collections::BTreeMap::new()),
            plugin_reporter: RwLock::new(None),
            tls,
            logins,
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
        let http_addr = monitor.map(|m| {
            let addr = m.local_addr();
            m.serve(Observer::new(shared.clone()), shared.shutdown.subscribe());
            addr
        });
        Ok(Server {
            shared,
            local_addr,
            accept,
            http_addr,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
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

    /// Lets the plugin host report its plugins and their counters to
    /// `/accountz` and `/metrics`; replaces an earlier reporter.
    pub fn set_plugin_reporter(&self, reporter: Arc<dyn crate::monitor::PluginReporter>) {
        *self.shared.plugin_reporter.write() = Some(reporter);
    }

    /// A read-only view for monitoring.
    pub fn observer(&self) -> Observer {
        Observer::new(self.shared.clone())
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

    /// Stops accepting, lets every connection flush what is queued, and
    /// waits (up to `write_deadline`) for them to close.
    pub async fn shutdown(self) {
        let _ = self.shared.shutdown.send(true);
        self.accept.abort();
        self.wait_all_closed().await;
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
        if expiry > tenancy::unix_now() || attempted == Some(expiry) {
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

/// Drains a connection's outbound buffer to its socket. A write that takes
/// longer than `write_deadline` marks the client a slow consumer.
async fn write_loop<W: AsyncWrite + Unpin>(
    mut wr: W,
    handle: Arc<ClientHandle>,
    server: Arc<Shared>,
) {
    let deadline = server.config.write_deadline;
    while let Some(batch) = handle.outbound.next_batch().await {
        match tokio::time::timeout(deadline, wr.write_all(&batch)).await {
            Ok(Ok(())) => handle.outbound.recycle(batch),
            Ok(Err(_)) => {
                handle.kill(CloseReason::WriteError);
                return;
            }
            Err(_) => {
                if handle.kill(CloseReason::SlowConsumer) {
                    tracing::warn!(
                        cid = handle.id,
                        "slow consumer: write deadline exceeded, closing"
                    );
                }
                return;
            }
        }
    }
    let _ = wr.shutdown().await;
}
