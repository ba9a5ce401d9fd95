//! The real binary: `switchyard serve` on port 0 states its address, reloads
//! tenants on SIGHUP, exits cleanly on SIGTERM, and after lame-duck mode on
//! SIGUSR2.

use crate::common;

use common::TenantDir;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("kill runs")
        .success();
    assert!(ok, "kill {sig} {pid}");
}

/// Starts `switchyard serve` on a free loopback port with `extra` flags;
/// returns the child and the address its log states.
fn spawn_serve(extra: &[&std::ffi::OsStr]) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args([
            "--log-level",
            "info",
            "serve",
            "--addr",
            "127.0.0.1",
            "--port",
            "0",
        ])
        .args(extra)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let addr = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("log line with the bound address");
        if let Some(rest) = line.split("addr=").nth(1) {
            let addr: String = rest
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '\u{1b}')
                .collect();
            break addr;
        }
    };
    (child, addr)
}

#[tokio::test]
async fn serve_reloads_on_sighup_and_stops_on_sigterm() {
    let dir = TenantDir::new(&[(
        "acme",
        "name = \"acme\"\n[[users]]\nuser = \"a\"\npassword = \"a\"\n",
    )]);
    let (mut child, addr) = spawn_serve(&["--tenants".as_ref(), dir.dir.path().as_os_str()]);
    let url = format!("nats://{addr}");
    let login = |user: &'static str| {
        let url = url.clone();
        async move {
            async_nats::ConnectOptions::with_user_and_password(user.into(), user.into())
                .connect(url)
                .await
        }
    };
    let a = login("a").await.expect("user a");
    assert!(login("b").await.is_err(), "b does not exist yet");

    dir.write("acme", "name = \"acme\"\n[[users]]\nuser = \"a\"\npassword = \"a\"\n[[users]]\nuser = \"b\"\npassword = \"b\"\n");
    signal(child.id(), "-HUP");
    let mut b = None;
    for _ in 0..50 {
        if let Ok(client) = login("b").await {
            b = Some(client);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(b.is_some(), "b can log in after SIGHUP");
    a.flush().await.expect("a kept its connection");

    signal(child.id(), "-TERM");
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("join")
        .expect("wait");
    assert!(status.success(), "clean exit on SIGTERM: {status}");
}

#[tokio::test]
async fn lame_duck_on_sigusr2_tells_clients_closes_them_and_exits() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("switchyard.toml");
    std::fs::write(
        &config,
        "lame_duck_duration = \"1s\"\nlame_duck_grace_period = \"200ms\"\n",
    )
    .expect("write config");
    let (mut child, addr) = spawn_serve(&["--config".as_ref(), config.as_os_str()]);
    let (tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let client = async_nats::ConnectOptions::new()
        .event_callback(move |event| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(event);
            }
        })
        .connect(format!("nats://{addr}"))
        .await
        .expect("client connects");
    client.flush().await.expect("flush");

    signal(child.id(), "-USR2");
    let told = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(event) = events.recv().await {
            if matches!(event, async_nats::Event::LameDuckMode) {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(told, Ok(true), "client told of lame-duck mode");
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("join")
        .expect("wait");
    assert!(
        status.success(),
        "clean exit after lame-duck mode: {status}"
    );
}
