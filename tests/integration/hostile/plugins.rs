//! Hostile-tenant attacks: plugins. A busy machine must not cost a
//! well-behaved plugin its messages; what a plugin answers is data, never
//! protocol; a reload does not cut off the clients an auth plugin let in.

use crate::common;

use common::plugins::{wasm, with_cache};
use common::{Raw, TenantDir, next_msg, user};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use switchyard::plugin::PluginStats;
use switchyard::{Server, ServerConfig};
use tokio::io::AsyncReadExt;

fn stats(server: &Server, tenant: &str, plugin: &str) -> Arc<PluginStats> {
    server
        .plugin_stats(Some(tenant), plugin)
        .expect("plugin loaded")
}

/// The noop plugins' failure counters, for a failed assertion.
fn failures(server: &Server) -> String {
    ["noop_transform", "noop_router"]
        .map(|plugin| {
            let s = stats(server, "acme", plugin);
            format!(
                "{plugin}: {} timeouts, {} failed messages",
                s.timeouts.load(Relaxed),
                s.failed_messages.load(Relaxed)
            )
        })
        .join("; ")
}

/// Threads that keep every core busy until dropped, so the broker's
/// threads are descheduled for milliseconds at a time, as on the loaded
/// 2-core machine of the issue.
struct CpuHogs {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl CpuHogs {
    fn start(n: usize) -> CpuHogs {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..n)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    while !stop.load(Relaxed) {
                        std::hint::spin_loop();
                    }
                })
            })
            .collect();
        CpuHogs { stop, threads }
    }
}

impl Drop for CpuHogs {
    fn drop(&mut self) {
        self.stop.store(true, Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// The loss: a no-op routing policy dropped 9% of messages under
/// load because calls missed a wall-clock deadline while their thread
/// waited for a CPU. Budgets now count CPU time, so with the default 10 ms
/// budget, shorter than the waits for a CPU these hogs cause, every
/// message of concurrent publishers still arrives, in order, and no call
/// timed out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_message_is_lost_through_noop_plugins_on_a_busy_machine() {
    let plugins = format!(
        "[[plugins]]\nkind = \"transform\"\npath = \"{}\"\nsubjects = [\"t.>\"]\n\
         [[plugins]]\nkind = \"routing\"\npath = \"{}\"\nsubjects = [\"r.>\"]\n",
        wasm("noop_transform"),
        wasm("noop_router"),
    );
    let acme =
        format!("name = \"acme\"\n[[users]]\nuser = \"acme-user\"\npassword = \"pw\"\n{plugins}");
    let dir = TenantDir::new(&[("acme", &acme)]);
    let server = common::start_with(with_cache(dir.config())).await;
    let subscriber = user(&server, "acme-user", "pw").await;
    let mut transformed = subscriber.subscribe("t.>").await.expect("sub");
    let mut routed = subscriber.subscribe("r.>").await.expect("sub");
    subscriber.flush().await.expect("flush");

    const PUBLISHERS: usize = 4;
    const EACH: usize = 2_500;
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let hogs = CpuHogs::start(4 * cores);
    let mut publishers = Vec::new();
    for p in 0..PUBLISHERS {
        let client = user(&server, "acme-user", "pw").await;
        publishers.push(tokio::spawn(async move {
            for i in 0..EACH {
                let payload = format!("{p}:{i}");
                client
                    .publish(format!("t.{p}"), payload.clone().into())
                    .await
                    .expect("pub");
                client
                    .publish(format!("r.{p}"), payload.into())
                    .await
                    .expect("pub");
            }
            client.flush().await.expect("flush");
            client
        }));
    }
    // Every message of every publisher, in each publisher's order.
    for sub in [&mut transformed, &mut routed] {
        let mut next = [0usize; PUBLISHERS];
        for _ in 0..PUBLISHERS * EACH {
            let m = next_msg(sub).await;
            let text = std::str::from_utf8(&m.payload).expect("utf8");
            let (p, i) = text.split_once(':').expect("p:i");
            let (p, i): (usize, usize) = (p.parse().expect("p"), i.parse().expect("i"));
            assert_eq!(
                i,
                next[p],
                "publisher {p}: a message was lost before {text} ({})",
                failures(&server)
            );
            assert_eq!(m.subject.as_str(), format!("{}.{p}", &m.subject[..1]));
            next[p] += 1;
        }
    }
    drop(hogs);
    for p in publishers {
        p.await.expect("publisher");
    }
    for plugin in ["noop_transform", "noop_router"] {
        let s = stats(&server, "acme", plugin);
        assert_eq!(s.timeouts.load(Relaxed), 0, "{plugin} timed out");
        assert_eq!(
            s.failed_messages.load(Relaxed),
            0,
            "{plugin} failed messages"
        );
        assert_eq!(
            s.messages.load(Relaxed),
            (PUBLISHERS * EACH) as u64,
            "{plugin} saw every message"
        );
    }
}

fn tenant(name: &str, plugins: &str) -> String {
    format!("name = \"{name}\"\n[[users]]\nuser = \"{name}-user\"\npassword = \"pw\"\n{plugins}")
}

/// A raw connection logged in as `user`, subscribed to everything.
async fn raw_subscriber(server: &Server, user: &str) -> Raw {
    let mut raw = Raw::connect(server).await;
    raw.send(
        format!(
            "CONNECT {{\"user\":\"{user}\",\"pass\":\"pw\",\"verbose\":false,\"headers\":true}}\r\n\
             SUB > 1\r\nPING\r\n"
        )
        .as_bytes(),
    )
    .await;
    assert_eq!(read_until(&mut raw, b"PONG\r\n").await, b"PONG\r\n");
    raw
}

/// Everything `raw` receives up to and including `end`; fails after 5 s.
async fn read_until(raw: &mut Raw, end: &[u8]) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.ends_with(end) {
        let n = tokio::time::timeout(Duration::from_secs(5), raw.stream.read(&mut buf))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "no {:?} in time; got {:?}",
                    String::from_utf8_lossy(end),
                    String::from_utf8_lossy(&got)
                )
            })
            .expect("read");
        assert!(n > 0, "closed; got {:?}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    got
}

/// A plugin that answers with `\r\nPUB other.tenant 5\r\nhello` in a
/// subject, a reply subject, a header name or value, or with a reply in
/// the broker's `_R_.` space, gets nothing onto the wire: fail-closed, the
/// message is dropped; no subscriber of its tenant (on any subject) or of
/// another receives anything before the publisher's next message; the
/// answer is counted as the plugin's error, not a trap or timeout.
#[tokio::test]
async fn plugin_answers_cannot_inject_protocol() {
    for mode in [
        "inject-subject",
        "inject-reply",
        "inject-header-name",
        "inject-header-value",
        "reserved-reply",
    ] {
        let hostile = format!(
            "[[plugins]]\nkind = \"transform\"\npath = \"{}\"\nsubjects = [\"bad.>\"]\nconfig = {{ mode = \"{mode}\" }}\n",
            wasm("hostile_output")
        );
        let dir = TenantDir::new(&[
            ("acme", &tenant("acme", &hostile)),
            ("other", &tenant("other", "")),
        ]);
        let server = common::start_with(with_cache(dir.config())).await;
        let mut same = raw_subscriber(&server, "acme-user").await;
        let mut other = raw_subscriber(&server, "other-user").await;
        let publisher = user(&server, "acme-user", "pw").await;
        publisher
            .publish("bad.x", "hello".into())
            .await
            .expect("pub");
        publisher
            .publish("marker", "done".into())
            .await
            .expect("pub");
        publisher.flush().await.expect("flush");
        // In order on the publisher's connection: whatever `bad.x` became
        // was queued before the marker.
        let marker = b"MSG marker 1 4\r\ndone\r\n";
        assert_eq!(
            String::from_utf8_lossy(&read_until(&mut same, marker).await),
            String::from_utf8_lossy(marker),
            "{mode}"
        );
        other.send(b"PING\r\n").await;
        assert_eq!(
            read_until(&mut other, b"PONG\r\n").await,
            b"PONG\r\n",
            "{mode}"
        );
        let s = stats(&server, "acme", "hostile_output");
        assert_eq!(s.errors.load(Relaxed), 1, "{mode}");
        assert_eq!(s.failed_messages.load(Relaxed), 1, "{mode}");
        assert_eq!(
            s.traps.load(Relaxed) + s.timeouts.load(Relaxed),
            0,
            "{mode}"
        );
    }
}

/// Fail-open, a refused answer delivers the message as published: the
/// plugin's headers never reach the wire.
#[tokio::test]
async fn fail_open_delivers_the_original_instead_of_an_injected_answer() {
    let hostile = format!(
        "[[plugins]]\nkind = \"transform\"\npath = \"{}\"\nsubjects = [\"bad.>\"]\n\
         failure_policy = \"fail-open\"\nconfig = {{ mode = \"inject-header-value\" }}\n",
        wasm("hostile_output")
    );
    let dir = TenantDir::new(&[("acme", &tenant("acme", &hostile))]);
    let server = common::start_with(with_cache(dir.config())).await;
    let mut same = raw_subscriber(&server, "acme-user").await;
    let publisher = user(&server, "acme-user", "pw").await;
    publisher
        .publish("bad.x", "hello".into())
        .await
        .expect("pub");
    publisher
        .publish("marker", "done".into())
        .await
        .expect("pub");
    publisher.flush().await.expect("flush");
    let expected = "MSG bad.x 1 5\r\nhello\r\nMSG marker 1 4\r\ndone\r\n";
    let got = read_until(&mut same, b"MSG marker 1 4\r\ndone\r\n").await;
    assert_eq!(String::from_utf8_lossy(&got), expected);
    let s = stats(&server, "acme", "hostile_output");
    assert_eq!(s.errors.load(Relaxed), 1);
    assert_eq!(s.failed_messages.load(Relaxed), 1);
}

/// `dir`'s configuration with the example `api_key_auth` plugin, allowed
/// to bind users to acme, knowing `keys` (key, entry) pairs.
fn with_api_keys(dir: &TenantDir, keys: &[(&str, &str)]) -> ServerConfig {
    with_auth_plugin(dir, &wasm("api_key_auth"), keys)
}

/// As `with_api_keys`, with the component at `path`.
fn with_auth_plugin(dir: &TenantDir, path: &str, keys: &[(&str, &str)]) -> ServerConfig {
    let sha256_hex = |key: &str| -> String {
        Sha256::digest(key.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let entries: Vec<String> = keys
        .iter()
        .map(|(key, entry)| format!("\"key.{}\" = \"{entry}\"", sha256_hex(key)))
        .collect();
    let toml = format!(
        "[[auth_plugins]]\nkind = \"auth\"\npath = \"{path}\"\ntenants = [\"acme\"]\nconfig = {{ {} }}\n",
        entries.join(", ")
    );
    let extra: ServerConfig = toml::from_str(&toml).expect("config");
    ServerConfig {
        auth_plugins: extra.auth_plugins,
        ..with_cache(dir.config())
    }
}

/// An auth plugin's grant is plugin output too: a user name with a
/// terminal escape, or a permission subject with a NUL (which the
/// subject syntax alone lets through), refuses the login and counts as
/// the plugin's error.
#[tokio::test]
async fn auth_plugin_grants_are_checked_before_use() {
    for entry in [
        "tenant=acme;user=svc\\u001b[2J",
        "tenant=acme;user=svc;pub=orders.\\u0000",
    ] {
        let dir = TenantDir::new(&[("acme", &tenant("acme", ""))]);
        let server = common::start_with(with_api_keys(&dir, &[("k", entry)])).await;
        let login = async_nats::ConnectOptions::with_token("k".into())
            .connect(server.client_url())
            .await;
        assert!(login.is_err(), "{entry}: logged in");
        assert_eq!(server.tenant_connections("acme"), 0, "{entry}");
        let s = server
            .plugin_stats(None, "api_key_auth")
            .expect("auth plugin loaded");
        assert_eq!(s.errors.load(Relaxed), 1, "{entry}");
    }
}

/// A raw client that logs in with API key `key` through the auth plugin
/// and subscribes to `orders.x`.
async fn api_key_subscriber(server: &Server) -> Raw {
    let mut raw = Raw::connect(server).await;
    raw.send(b"CONNECT {\"auth_token\":\"k\",\"verbose\":false}\r\nSUB orders.x 1\r\nPING\r\n")
        .await;
    assert_eq!(read_until(&mut raw, b"PONG\r\n").await, b"PONG\r\n");
    raw
}

/// After `server.reload()`, the client's task re-checks its login before
/// it reads anything more (its `select!` is biased to the reload), so a
/// PONG proves the login survived; a message proves it still receives.
async fn still_logged_in_and_receiving(server: &Server, raw: &mut Raw) {
    raw.send(b"PING\r\n").await;
    assert_eq!(read_until(raw, b"PONG\r\n").await, b"PONG\r\n");
    let publisher = user(server, "acme-user", "pw").await;
    publisher
        .publish("orders.x", "after reload".into())
        .await
        .expect("pub");
    publisher.flush().await.expect("flush");
    let expected = b"MSG orders.x 1 12\r\nafter reload\r\n";
    assert_eq!(read_until(raw, expected).await, expected);
    assert_eq!(server.tenant_connections("acme"), 2);
}

/// A reload with the auth plugin unchanged keeps the clients it let in,
/// without asking it again (the reloaded plugin has made no call).
#[tokio::test]
async fn reload_keeps_clients_an_unchanged_auth_plugin_let_in() {
    let dir = TenantDir::new(&[("acme", &tenant("acme", ""))]);
    let server = common::start_with(with_api_keys(&dir, &[("k", "tenant=acme;user=svc")])).await;
    let mut svc = api_key_subscriber(&server).await;
    server.reload().await.expect("reload");
    still_logged_in_and_receiving(&server, &mut svc).await;
    let reloaded = server
        .plugin_stats(None, "api_key_auth")
        .expect("auth plugin loaded");
    assert_eq!(reloaded.calls.load(Relaxed), 0, "asked again");
}

/// When the plugin's component changed, its clients are asked about
/// again: still granted, they stay.
#[tokio::test]
async fn reload_asks_a_changed_auth_plugin_again() {
    let dir = TenantDir::new(&[("acme", &tenant("acme", ""))]);
    let copy = tempfile::tempdir().expect("tempdir");
    let path = copy.path().join("api_key_auth.wasm");
    std::fs::copy(wasm("api_key_auth"), &path).expect("copy");
    let config = with_auth_plugin(
        &dir,
        &path.display().to_string(),
        &[("k", "tenant=acme;user=svc")],
    );
    let server = common::start_with(config).await;
    let mut svc = api_key_subscriber(&server).await;
    // A custom section at the end: the same plugin, another file digest.
    let mut bytes = std::fs::read(&path).expect("read");
    bytes.extend_from_slice(&[0x00, 0x06, 0x04, b't', b'e', b's', b't', 0x01]);
    std::fs::write(&path, bytes).expect("write");
    server.reload().await.expect("reload");
    still_logged_in_and_receiving(&server, &mut svc).await;
    let reloaded = server
        .plugin_stats(None, "api_key_auth")
        .expect("auth plugin loaded");
    assert_eq!(reloaded.calls.load(Relaxed), 1, "asked again once");
}
