//! The test-only `nats-server` crate async-nats' own tests call, written for
//! Switchyard's client-suite runner (`scripts/client-suites.sh`).
//!
//! The published async-nats crate strips its helper, so the suites cannot
//! run from crates.io as they are. This crate offers the same public API the
//! tests use (`run_server`, `run_server_with_port`, `run_basic_server`,
//! `run_cluster`, `set_lame_duck_mode`, `Server::client_url`,
//! `client_port`, `restart`, ...) and starts a server the way a harness
//! starts nats-server: `nats-server [-c FILE] -p -1 -l LOG -P PID
//! --ports_file_dir DIR`. Which binary runs is the runner's choice:
//! `CLIENT_SUITES_SERVER` names it (Switchyard through a symlink called
//! `nats-server`, or a real nats-server), else `nats-server` on `PATH`.
//!
//! Starting a server waits until it reports its bound port: from the ports
//! file the server writes, falling back to the `Listening for client
//! connections on HOST:PORT` log line. A server that exits before it
//! listens fails the test with its log, not with a long wait.
//!
//! This is test scaffolding: a server that cannot start is a failed test,
//! so errors panic with what went wrong.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use std::{env, fs, thread};

/// How long a server may take to report its port.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// The server binary to run: `CLIENT_SUITES_SERVER`, else `nats-server`.
fn server_binary() -> String {
    env::var("CLIENT_SUITES_SERVER").unwrap_or_else(|_| "nats-server".to_string())
}

/// A running server, stopped (and its files removed) on drop.
pub struct Server {
    cfg: String,
    /// The port asked for on the command line; `None` means `-p -1`.
    port: Option<String>,
    /// Extra flags (cluster nodes' routes and names), kept for `restart`.
    extra: Vec<String>,
    dir: PathBuf,
    child: Child,
    /// The port the server bound for clients.
    bound: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        if thread::panicking() {
            eprintln!(
                "nats-server helper: server files kept in {}",
                self.dir.display()
            );
        } else {
            fs::remove_dir_all(&self.dir).ok();
        }
    }
}

impl Server {
    fn start(cfg: &str, port: Option<&str>, extra: Vec<String>) -> Server {
        let dir = fresh_dir();
        let child = spawn(&dir, cfg, port, &extra);
        let mut server = Server {
            cfg: cfg.to_string(),
            port: port.map(str::to_string),
            extra,
            dir,
            child,
            bound: 0,
        };
        server.bound = server.wait_for_port();
        server
    }

    fn stop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }

    /// Stops the server and starts it again on the same fixed port with the
    /// same configuration. A server started with a dynamic port cannot be
    /// restarted: its clients would not find it.
    pub fn restart(&mut self) {
        let port = self
            .port
            .clone()
            .expect("can't restart a server started with a dynamic port");
        self.stop();
        // The new process writes new log, pid and ports files.
        fs::remove_dir_all(&self.dir).ok();
        fs::create_dir_all(self.dir.join("ports")).expect("create the server's directory");
        self.child = spawn(&self.dir, &self.cfg, Some(&port), &self.extra);
        self.bound = self.wait_for_port();
    }

    /// `nats://localhost:PORT`, or `tls://...` when the server requires TLS
    /// (read from its INFO).
    pub fn client_url(&self) -> String {
        let port = self.client_port();
        let scheme = if self.tls_required(port) {
            "tls"
        } else {
            "nats"
        };
        format!("{scheme}://localhost:{port}")
    }

    /// The port the server bound for clients.
    pub fn client_port(&self) -> u16 {
        self.bound
    }

    /// The client URL with a user and password in it.
    pub fn client_url_with(&self, user: &str, pass: &str) -> String {
        let mut url = url::Url::parse(&self.client_url()).expect("parse the client URL");
        url.set_username(user).ok();
        url.set_password(Some(pass)).ok();
        url.to_string()
    }

    /// The client URL with a token in it.
    pub fn client_url_with_token(&self, token: &str) -> String {
        let mut url = url::Url::parse(&self.client_url()).expect("parse the client URL");
        url.set_username(token).ok();
        url.to_string()
    }

    /// The server's process id, from the pid file it wrote.
    pub fn client_pid(&self) -> usize {
        let text = fs::read_to_string(self.dir.join("server.pid")).expect("read the pid file");
        text.trim().parse().expect("the pid file holds a number")
    }

    fn tls_required(&self, port: u16) -> bool {
        // `localhost`: a configuration may listen on it, which can be ::1.
        let stream = TcpStream::connect(("localhost", port)).expect("connect to the server");
        stream.set_read_timeout(Some(Duration::from_secs(5))).ok();
        let mut line = String::new();
        // A server that waits for a TLS handshake first sends no INFO.
        if BufReader::new(stream).read_line(&mut line).is_err() {
            return true;
        }
        let info = line.strip_prefix("INFO ").unwrap_or("{}");
        let info: serde_json::Value = serde_json::from_str(info).unwrap_or_default();
        info["tls_required"].as_bool().unwrap_or(false)
    }

    /// Waits until the server reports its port: the original helper
    /// returned at once and left tests to race the server's start.
    fn wait_for_port(&mut self) -> u16 {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(port) = port_from_ports_file(&self.dir.join("ports"))
                .or_else(|| port_from_log(&self.dir.join("server.log")))
            {
                return port;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the server exited ({status}) before listening\n{}",
                    self.logs()
                );
            }
            if Instant::now() > deadline {
                panic!(
                    "the server did not report a client port within {START_TIMEOUT:?}\n{}",
                    self.logs()
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn logs(&self) -> String {
        let read = |name: &str| fs::read_to_string(self.dir.join(name)).unwrap_or_default();
        format!(
            "--- log ---\n{}--- stderr ---\n{}",
            read("server.log"),
            read("stderr.log")
        )
    }
}

/// Puts the server in lame duck mode, as `nats-server --signal ldm=PID`.
pub fn set_lame_duck_mode(s: &Server) {
    let status = Command::new(server_binary())
        .arg("--signal")
        .arg(format!("ldm={}", s.client_pid()))
        .status()
        .expect("run nats-server --signal");
    assert!(
        status.success(),
        "nats-server --signal ldm failed: {status}"
    );
}

/// Starts a server with the configuration file `cfg` ("" for none) on a
/// free port.
pub fn run_server(cfg: &str) -> Server {
    run_server_with_port(cfg, None)
}

/// Starts a server with no configuration file on a free port.
pub fn run_basic_server() -> Server {
    run_server("")
}

/// Starts a server with the configuration file `cfg` ("" for none) on
/// `port` (`None`: a free one).
pub fn run_server_with_port(cfg: &str, port: Option<&str>) -> Server {
    Server::start(cfg, port, Vec::new())
}

/// Whether nothing listens on `port` of 127.0.0.1.
pub fn is_port_available(port: usize) -> bool {
    u16::try_from(port).is_ok_and(|port| TcpListener::bind(("127.0.0.1", port)).is_ok())
}

/// One configuration file for every node of a cluster, or one per node.
pub struct Config<'a>([&'a str; 3]);

/// What `run_cluster` accepts: a file name or three.
pub trait IntoConfig<'a> {
    fn into_config(self) -> Config<'a>;
}

impl<'a> IntoConfig<'a> for &'a str {
    fn into_config(self) -> Config<'a> {
        Config([self, self, self])
    }
}

impl<'a> IntoConfig<'a> for [&'a str; 3] {
    fn into_config(self) -> Config<'a> {
        Config(self)
    }
}

/// Three servers routed to each other (`--routes`, `--cluster`,
/// `--cluster_name`, `-n`), each with its client port fixed.
pub struct Cluster {
    pub servers: Vec<Server>,
}

impl Cluster {
    pub fn client_url(&self) -> String {
        self.servers[0].client_url()
    }
}

/// Starts a three-node cluster with `cfg`. Switchyard refuses the cluster
/// flags, so against it the nodes fail to start and the test fails.
pub fn run_cluster<'a, C: IntoConfig<'a>>(cfg: C) -> Cluster {
    let Config(cfgs) = cfg.into_config();
    let clients: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let routes: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let servers = (0..3)
        .map(|i| {
            let others: Vec<String> = (0..3)
                .filter(|&j| j != i)
                .map(|j| format!("nats://127.0.0.1:{}", routes[j]))
                .collect();
            let extra = vec![
                "--routes".to_string(),
                others.join(","),
                "--cluster".to_string(),
                format!("nats://127.0.0.1:{}", routes[i]),
                "--cluster_name".to_string(),
                "cluster".to_string(),
                "-n".to_string(),
                format!("node{}", i + 1),
            ];
            Server::start(cfgs[i], Some(&clients[i].to_string()), extra)
        })
        .collect();
    // Routes connect and exchange INFO within a second or two.
    thread::sleep(Duration::from_secs(2));
    Cluster { servers }
}

/// A port nothing listens on now (the OS's choice for port 0).
fn free_port() -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind a free port");
    listener.local_addr().expect("read the bound port").port()
}

/// A new directory for one server's log, pid and ports files.
fn fresh_dir() -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = env::temp_dir().join(format!(
        "client-suites-{}-{}-{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    fs::create_dir_all(dir.join("ports")).expect("create the server's directory");
    dir
}

fn spawn(dir: &Path, cfg: &str, port: Option<&str>, extra: &[String]) -> Child {
    let binary = server_binary();
    let mut cmd = Command::new(&binary);
    cmd.arg("-p").arg(port.unwrap_or("-1"));
    cmd.arg("-l").arg(dir.join("server.log"));
    cmd.arg("-P").arg(dir.join("server.pid"));
    cmd.arg("--ports_file_dir").arg(dir.join("ports"));
    // JetStream tests need a store of their own; Switchyard has no
    // JetStream and refuses the flag, so the runner asks for it only when
    // the server is nats-server.
    if env::var_os("CLIENT_SUITES_STORE_DIR").is_some() {
        cmd.arg("--store_dir").arg(dir.join("store"));
    }
    cmd.args(extra);
    if !cfg.is_empty() {
        cmd.arg("-c").arg(cfg);
    }
    let stderr = fs::File::create(dir.join("stderr.log")).expect("create the stderr file");
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr);
    cmd.spawn()
        .unwrap_or_else(|e| panic!("cannot run `{binary}` (CLIENT_SUITES_SERVER): {e}"))
}

/// The port in `<dir>/*.ports`: `{"nats":["nats://HOST:PORT"],...}`.
fn port_from_ports_file(dir: &Path) -> Option<u16> {
    let entry = fs::read_dir(dir)
        .ok()?
        .flatten()
        .find(|e| e.path().extension().is_some_and(|x| x == "ports"))?;
    let text = fs::read_to_string(entry.path()).ok()?;
    let ports: serde_json::Value = serde_json::from_str(&text).ok()?;
    let url = ports["nats"].get(0)?.as_str()?;
    url.rsplit(':').next()?.parse().ok()
}

/// The port in the log line `Listening for client connections on HOST:PORT`.
fn port_from_log(log: &Path) -> Option<u16> {
    const MARK: &str = "client connections on ";
    let text = fs::read_to_string(log).ok()?;
    let rest = &text[text.find(MARK)? + MARK.len()..];
    let addr = rest.split_whitespace().next()?;
    addr.rsplit(':').next()?.parse().ok()
}
