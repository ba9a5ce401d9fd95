//! What a nats-server harness waits for: log lines in nats-server's format
//! (`[PID] DATE TIME [INF] Listening for client connections on HOST:PORT`,
//! `... [INF] Server is ready`), the pid file and the ports file.

use crate::config::ServerConfig;
use crate::config::natsmap::ProcessSettings;
use crate::protocol::NATS_SERVER_VERSION;
use crate::server::Server;
use anyhow::Context;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// `nats-server --version`: the release matched, then Switchyard's own.
pub fn version_line() -> String {
    format!(
        "nats-server: v{NATS_SERVER_VERSION} (Switchyard {})",
        env!("CARGO_PKG_VERSION")
    )
}

/// What the configuration file said that the log should repeat.
pub struct Report {
    pub config_file: Option<String>,
    /// The nats-server file SIGHUP reads again (not a `.toml` file, whose
    /// tenants reload as `switchyard serve`'s do).
    pub nats_file: Option<std::path::PathBuf>,
    pub ignored: Vec<String>,
    pub notes: Vec<String>,
}

/// nats-server's log line format, to stderr or the `-l` file.
pub(super) struct NatsLog {
    sink: parking_lot::Mutex<Box<dyn Write + Send>>,
    time: bool,
    pid: u32,
}

impl NatsLog {
    pub fn open(process: &ProcessSettings, time: bool) -> anyhow::Result<NatsLog> {
        let sink: Box<dyn Write + Send> = match &process.log_file {
            Some(path) => Box::new(append(path)?),
            None => Box::new(std::io::stderr()),
        };
        Ok(NatsLog {
            sink: parking_lot::Mutex::new(sink),
            time,
            pid: std::process::id(),
        })
    }

    /// Switchyard's own log (tracing) to the same place, at `-D`/`-V` levels.
    pub fn start_tracing(&self, process: &ProcessSettings) {
        let level = if process.trace {
            "trace"
        } else if process.debug {
            "debug"
        } else {
            "info"
        };
        let filter = tracing_subscriber::EnvFilter::new(level);
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_target(false)
            .with_ansi(false);
        let _ = match process.log_file.as_deref().map(append) {
            Some(Ok(file)) => builder.with_writer(std::sync::Mutex::new(file)).try_init(),
            _ => builder.with_writer(std::io::stderr).try_init(),
        };
    }

    fn line(&self, level: &str, message: &str) {
        let mut text = format!("[{}] ", self.pid);
        if self.time {
            let now = jiff::Timestamp::now();
            text.push_str(&now.strftime("%Y/%m/%d %H:%M:%S%.6f ").to_string());
        }
        text.push_str(&format!("[{level}] {message}\n"));
        let mut sink = self.sink.lock();
        // A log that cannot be written must not stop the server.
        let _ = sink.write_all(text.as_bytes());
        let _ = sink.flush();
    }

    pub fn info(&self, message: &str) {
        self.line("INF", message);
    }

    pub fn warn(&self, message: &str) {
        self.line("WRN", message);
    }
}

fn append(path: &Path) -> anyhow::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open the log file {}", path.display()))
}

/// Starts the broker, announces it as nats-server does, serves until a
/// signal stops it, then removes the ports file.
pub(super) async fn serve(
    config: ServerConfig,
    process: ProcessSettings,
    report: Report,
    log: NatsLog,
    program: &str,
) -> anyhow::Result<()> {
    log.info(&format!(
        "Starting nats-server (Switchyard {})",
        env!("CARGO_PKG_VERSION")
    ));
    log.info(&format!("  Version:  {}", version_line()));
    if let Some(file) = &report.config_file {
        log.info(&format!("Using configuration file: {file}"));
    }
    for note in &report.notes {
        log.info(note);
    }
    for ignored in &report.ignored {
        log.warn(&format!("Unsupported: {ignored}"));
    }
    let server = Server::start(config).await?;
    let info = server.observer().summary();
    log.info(&format!("  Name:     {}", info.server_name));
    log.info(&format!("  ID:       {}", info.server_id));
    if let Some(pid_file) = &process.pid_file {
        std::fs::write(pid_file, std::process::id().to_string())
            .with_context(|| format!("cannot write the pid file {}", pid_file.display()))?;
    }
    if let Some(http) = server.http_addr() {
        log.info(&format!("Starting http monitor on {http}"));
    }
    log.info(&format!(
        "Listening for client connections on {}",
        server.local_addr()
    ));
    let ports_file = match &process.ports_file_dir {
        Some(dir) => Some(write_ports_file(dir, program, &server)?),
        None => None,
    };
    log.info("Server is ready");
    let stopped = crate::cli::serve::run_until_stopped(&server, report.nats_file.as_deref()).await;
    log.info("Initiating Shutdown...");
    server.shutdown().await;
    if let Some(path) = ports_file {
        let _ = std::fs::remove_file(path);
    }
    log.info("Server Exiting..");
    stopped
}

/// `<dir>/<executable name>_<pid>.ports`, JSON as nats-server writes it:
/// `{"nats":["nats://HOST:PORT"],"monitoring":["http://HOST:PORT"]}`.
fn write_ports_file(dir: &Path, program: &str, server: &Server) -> anyhow::Result<PathBuf> {
    let exe = Path::new(program).file_name().map_or_else(
        || "nats-server".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    let path = dir.join(format!("{exe}_{}.ports", std::process::id()));
    let mut ports = serde_json::Map::new();
    ports.insert(
        "nats".into(),
        serde_json::json!(listen_urls("nats", server.local_addr())),
    );
    if let Some(http) = server.http_addr() {
        ports.insert(
            "monitoring".into(),
            serde_json::json!(listen_urls("http", http)),
        );
    }
    let json = serde_json::Value::Object(ports).to_string();
    std::fs::write(&path, json)
        .with_context(|| format!("cannot write the ports file {}", path.display()))?;
    Ok(path)
}

/// `scheme://host:port` for each address `addr` accepts connections on,
/// as nats-server's ports file lists them: a listener on every interface
/// gives every interface address of its family (`0.0.0.0` is IPv4 only
/// here), loopback included, in interface order.
fn listen_urls(scheme: &str, addr: SocketAddr) -> Vec<String> {
    let url = |ip: std::net::IpAddr| format!("{scheme}://{}", SocketAddr::new(ip, addr.port()));
    if !addr.ip().is_unspecified() {
        return vec![url(addr.ip())];
    }
    let mut ips = crate::server::interface_ips(addr.ip());
    if ips.is_empty() {
        ips.push(std::net::Ipv4Addr::LOCALHOST.into());
    }
    ips.into_iter().map(url).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ports_file_lists_every_address_a_listener_accepts_on() {
        let one: SocketAddr = "10.0.0.5:4222".parse().expect("addr");
        assert_eq!(listen_urls("nats", one), ["nats://10.0.0.5:4222"]);
        let v6: SocketAddr = "[2001:db8::1]:8222".parse().expect("addr");
        assert_eq!(listen_urls("http", v6), ["http://[2001:db8::1]:8222"]);
        // Every interface: this machine's IPv4 addresses, loopback among
        // them, and no IPv6 one (a 0.0.0.0 listener does not accept those).
        let any: SocketAddr = "0.0.0.0:4222".parse().expect("addr");
        let urls = listen_urls("nats", any);
        assert!(
            urls.contains(&"nats://127.0.0.1:4222".to_string()),
            "{urls:?}"
        );
        assert!(urls.iter().all(|u| !u.contains('[')), "{urls:?}");
    }
}
