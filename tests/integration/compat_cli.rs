//! The nats-server-compatible command line: the binary invoked as
//! `nats-server` (a symlink, as a harness would install it) starts from a
//! nats-server config file and flags, announces itself with the log lines
//! harnesses wait for, writes the pid and ports files, reports nats-server
//! 2.15.1 in INFO, and stops on `--signal quit=PID`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A `nats-server` symlink to the switchyard binary in `dir`.
fn nats_server_link(dir: &Path) -> PathBuf {
    let link = dir.join("nats-server");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_switchyard"), &link).expect("symlink");
    link
}

/// Reads stderr lines until `Server is ready`; returns them all and the
/// port from `Listening for client connections on HOST:PORT`.
fn wait_ready(child: &mut Child) -> (Vec<String>, u16, std::sync::mpsc::Receiver<String>) {
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Keeps draining after the test stops listening, so the server
        // never writes to a closed pipe.
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut lines = Vec::new();
    let mut port = None;
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("no `Server is ready` in:\n{}", lines.join("\n")));
        if let Some((_, addr)) = line.split_once("Listening for client connections on ") {
            port = addr.rsplit(':').next().and_then(|p| p.trim().parse().ok());
        }
        let ready = line.ends_with("[INF] Server is ready");
        lines.push(line);
        if ready {
            break;
        }
    }
    (lines, port.expect("a listening line with the port"), rx)
}

#[tokio::test]
async fn starts_as_nats_server_from_a_config_file_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("server.conf");
    std::fs::write(
        &conf,
        "listen: 127.0.0.1:4222\nauthorization { user: alice, password: s3cr3t }\njetstream {}\n",
    )
    .unwrap();
    let pid_file = dir.path().join("server.pid");
    let bin = nats_server_link(dir.path());
    let mut child = Command::new(&bin)
        .arg("-c")
        .arg(&conf)
        .args(["-p", "-1", "--name=compat-1", "-DV", "--ports_file_dir"])
        .arg(dir.path())
        .arg("-P")
        .arg(&pid_file)
        .stderr(Stdio::piped())
        .spawn()
        .expect("start nats-server symlink");
    let (lines, port, rest) = wait_ready(&mut child);
    let log = lines.join("\n");
    assert_ne!(
        port, 4222,
        "-p -1 overrides the file's port with a free one"
    );
    assert!(
        log.contains("[WRN] Unsupported: ")
            && log.contains("jetstream: JetStream is not supported"),
        "{log}"
    );
    assert!(
        log.contains("Version:  nats-server: v2.15.1 (Switchyard "),
        "{log}"
    );
    let pid = child.id();
    assert_eq!(std::fs::read_to_string(&pid_file).unwrap(), pid.to_string());
    let ports_file = dir.path().join(format!("nats-server_{pid}.ports"));
    let ports: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&ports_file).unwrap()).unwrap();
    assert_eq!(ports["nats"][0], format!("nats://127.0.0.1:{port}"));

    let url = format!("nats://127.0.0.1:{port}");
    let client =
        async_nats::ConnectOptions::with_user_and_password("alice".into(), "s3cr3t".into())
            .connect(&url)
            .await
            .expect("the config file's user logs in");
    let info = client.server_info();
    assert_eq!(info.version, "2.15.1");
    assert_eq!(info.server_name, "compat-1");
    assert!(
        async_nats::connect(&url).await.is_err(),
        "credentials required"
    );

    let signal = Command::new(&bin)
        .arg("--signal")
        .arg(format!("quit={pid}"))
        .status()
        .expect("send signal");
    assert!(signal.success());
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    let rest: Vec<String> = rest.try_iter().collect();
    assert!(
        status.success(),
        "quit ends the server cleanly: {status}\n{}",
        rest.join("\n")
    );
    assert!(!ports_file.exists(), "the ports file is removed on exit");
}

#[test]
fn version_help_test_and_refused_flags() {
    let dir = tempfile::tempdir().unwrap();
    let bin = nats_server_link(dir.path());
    let run = |args: &[&str]| Command::new(&bin).args(args).output().expect("run");

    let out = run(&["--version"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("nats-server: v2.15.1 (Switchyard "),
        "{stdout}"
    );
    let out = run(&["-h"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("--ports_file_dir"));

    let out = run(&["-js"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("-js: JetStream is not supported by Switchyard")
    );

    let conf = dir.path().join("bad.conf");
    std::fs::write(&conf, "port: 4222\nprot: 1\n").unwrap();
    let out = run(&["-t", "-c", conf.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.conf:2:1: prot: unknown field"));
    std::fs::write(&conf, "port: 4222\n").unwrap();
    let out = run(&["-t", "-c", conf.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("is valid"));

    // The same command line through `switchyard compat`.
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["compat", "-v"])
        .output()
        .expect("run switchyard compat");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("nats-server: v2.15.1"));
}

/// Waits until stderr has had a line containing each of `texts`, in any
/// order.
fn wait_lines(rx: &std::sync::mpsc::Receiver<String>, texts: &[&str]) {
    let mut missing: Vec<&str> = texts.to_vec();
    let mut seen = Vec::new();
    while !missing.is_empty() {
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("no {missing:?} in:\n{}", seen.join("\n")));
        missing.retain(|text| !line.contains(text));
        seen.push(line);
    }
}

async fn login(url: &str, user: &str) -> Result<async_nats::Client, async_nats::ConnectError> {
    async_nats::ConnectOptions::with_user_and_password(user.into(), "pw".into())
        .connect(url)
        .await
}

/// SIGHUP (`--signal reload=PID`) reads the nats-server file again: its
/// accounts and users replace those in force, as nats-server's reload
/// does; a removed user's connection is closed.
#[tokio::test]
async fn reload_reads_the_nats_server_file_again() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("server.conf");
    let accounts =
        |users: &str| format!("listen: 127.0.0.1:-1\naccounts {{ APP {{ users [ {users} ] }} }}\n");
    std::fs::write(&conf, accounts("{user: a, password: pw}")).unwrap();
    let bin = nats_server_link(dir.path());
    let mut child = Command::new(&bin)
        .arg("-c")
        .arg(&conf)
        .stderr(Stdio::piped())
        .spawn()
        .expect("start nats-server symlink");
    let (_, port, rest) = wait_ready(&mut child);
    let url = format!("nats://127.0.0.1:{port}");
    let a = login(&url, "a").await.expect("a logs in");
    assert!(login(&url, "b").await.is_err(), "b is not a user yet");

    std::fs::write(&conf, accounts("{user: b, password: pw}")).unwrap();
    let pid = child.id();
    let signal = Command::new(&bin)
        .arg("--signal")
        .arg(format!("reload={pid}"))
        .status()
        .expect("send signal");
    assert!(signal.success());
    // a's live connection is closed when it checks its login again.
    wait_lines(
        &rest,
        &[
            "Reloaded server configuration",
            "login no longer valid after reload",
        ],
    );

    let b = login(&url, "b").await.expect("b logs in after the reload");
    b.flush().await.expect("b's connection works");
    assert!(login(&url, "a").await.is_err(), "a was removed");
    drop((a, b));

    // A file that no longer parses changes nothing.
    std::fs::write(&conf, "listen: 127.0.0.1:-1\naccounts { APP { users [ \n").unwrap();
    let signal = Command::new(&bin)
        .arg("--signal")
        .arg(format!("reload={pid}"))
        .status()
        .expect("send signal");
    assert!(signal.success());
    wait_lines(&rest, &["reload failed"]);
    login(&url, "b").await.expect("b still logs in");

    let _ = Command::new(&bin)
        .arg("--signal")
        .arg(format!("quit={pid}"))
        .status();
    let _ = tokio::task::spawn_blocking(move || child.wait()).await;
}
