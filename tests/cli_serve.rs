//! The real binary: `switchyard serve` on port 0 states its address, reloads
//! tenants on SIGHUP and exits cleanly on SIGTERM.

mod common;

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

#[tokio::test]
async fn serve_reloads_on_sighup_and_stops_on_sigterm() {
    let dir = TenantDir::new(&[(
        "acme",
        "name = \"acme\"\n[[users]]\nuser = \"a\"\npassword = \"a\"\n",
    )]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args([
            "--log-level",
            "info",
            "serve",
            "--addr",
            "127.0.0.1",
            "--port",
            "0",
            "--tenants",
        ])
        .arg(dir.dir.path())
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
