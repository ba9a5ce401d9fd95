//! The example plugins written in Python, JavaScript/TypeScript and C doing
//! the same jobs as their Rust originals (`plugins_examples.rs`), through
//! the broker, with async-nats: JSON redaction, content-based routing and
//! (Python) API-key logins.
//!
//! Each language's components are built once per test binary by its
//! `scripts/build-plugins-<lang>.sh`, which installs the toolchain on
//! first use and does nothing when the components are up to date. A
//! missing toolchain fails the test with the script's message; nothing is
//! skipped.

use crate::common;

use common::plugins::{sha256_hex, with_cache};
use common::{TenantDir, eventually, next_msg, no_msg, user};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::Ordering;
use switchyard::Server;

#[derive(Clone, Copy, Debug)]
enum Lang {
    Python,
    Js,
    C,
}

impl Lang {
    fn script(self) -> &'static str {
        match self {
            Lang::Python => "scripts/build-plugins-python.sh",
            Lang::Js => "scripts/build-plugins-js.sh",
            Lang::C => "scripts/build-plugins-c.sh",
        }
    }

    fn out_dir(self) -> &'static str {
        match self {
            Lang::Python => "plugins/target/python",
            Lang::Js => "plugins/target/js",
            Lang::C => "plugins/target/c",
        }
    }

    fn built(self) -> &'static OnceLock<PathBuf> {
        static PYTHON: OnceLock<PathBuf> = OnceLock::new();
        static JS: OnceLock<PathBuf> = OnceLock::new();
        static C: OnceLock<PathBuf> = OnceLock::new();
        match self {
            Lang::Python => &PYTHON,
            Lang::Js => &JS,
            Lang::C => &C,
        }
    }
}

/// Runs the language's build script once per test binary and returns the
/// component `name` of it. Panics with the script's output when the build
/// (or the toolchain install) fails, or the component is absent.
fn component(lang: Lang, name: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = lang.built().get_or_init(|| {
        let output = Command::new("bash")
            .arg(root.join(lang.script()))
            .current_dir(root)
            // The outer `cargo test` sets variables meant for the host build.
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .output()
            .expect("run bash");
        assert!(
            output.status.success(),
            "{lang:?} plugins did not build; run ./{} to see why:\n{}{}",
            lang.script(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        root.join(lang.out_dir())
    });
    let path = dir.join(format!("{name}.wasm"));
    assert!(
        path.is_file(),
        "{} was not built by {}",
        path.display(),
        lang.script()
    );
    path.display().to_string()
}

async fn start(dir: &TenantDir) -> Server {
    common::start_with(with_cache(dir.config())).await
}

fn tenant(name: &str, plugins: &str) -> String {
    format!("name = \"{name}\"\n[[users]]\nuser = \"{name}-user\"\npassword = \"pw\"\n{plugins}")
}

/// The checks of `redact_json_hides_configured_fields_only_on_its_subjects`
/// for the Rust plugin, plus the `non_json` and nothing-to-redact paths.
async fn redact_json_behaves_like_the_rust_one(lang: Lang) {
    let plugins = format!(
        r#"
[[plugins]]
kind = "transform"
path = "{}"
config = {{ subjects = "users.>", fields = "password,card.number,items.ssn", non_json = "reject" }}
"#,
        component(lang, "redact_json")
    );
    let dir = TenantDir::new(&[("acme", &tenant("acme", &plugins))]);
    let server = start(&dir).await;
    let client = user(&server, "acme-user", "pw").await;
    let mut users = client.subscribe("users.>").await.expect("sub");
    let mut other = client.subscribe("audit").await.expect("sub");
    client.flush().await.expect("flush");

    let secret = r#"{"name":"ann","password":"hunter2","card":{"number":"4111","exp":"12/30"}}"#;
    client
        .publish("users.new", secret.into())
        .await
        .expect("pub");
    client.publish("audit", secret.into()).await.expect("pub");
    let items = r#"{"items":[{"ssn":"1"},{"x":2},{"ssn":{"a":1}}]}"#;
    client
        .publish("users.list", items.into())
        .await
        .expect("pub");
    let clean = r#"{"name":"bob"}"#;
    client
        .publish("users.clean", clean.into())
        .await
        .expect("pub");
    // An escaped key is still the key.
    let escaped = r#"{"pass\u0077ord":"p"}"#;
    client
        .publish("users.escaped", escaped.into())
        .await
        .expect("pub");
    // Text beyond ASCII survives the decode and re-encode around the
    // redaction (in JavaScript, the SDK's own UTF-8 code: QuickJS has none).
    let unicode = r#"{"name":"Zoë 😀 €","password":"pässwörd"}"#;
    client
        .publish("users.unicode", unicode.into())
        .await
        .expect("pub");
    client.flush().await.expect("flush");

    let redacted: serde_json::Value =
        serde_json::from_slice(&next_msg(&mut users).await.payload).expect("json");
    assert_eq!(redacted["name"], "ann");
    assert_eq!(redacted["password"], "[REDACTED]");
    assert_eq!(redacted["card"]["number"], "[REDACTED]");
    assert_eq!(redacted["card"]["exp"], "12/30");
    // Not a subject the plugin registered: delivered untouched.
    assert_eq!(next_msg(&mut other).await.payload, secret.as_bytes());
    let list: serde_json::Value =
        serde_json::from_slice(&next_msg(&mut users).await.payload).expect("json");
    assert_eq!(
        list,
        serde_json::json!({"items":[{"ssn":"[REDACTED]"},{"x":2},{"ssn":"[REDACTED]"}]})
    );
    // Nothing to redact: passed byte for byte.
    assert_eq!(next_msg(&mut users).await.payload, clean.as_bytes());
    let escaped: serde_json::Value =
        serde_json::from_slice(&next_msg(&mut users).await.payload).expect("json");
    assert_eq!(escaped, serde_json::json!({"password":"[REDACTED]"}));
    let unicode: serde_json::Value =
        serde_json::from_slice(&next_msg(&mut users).await.payload).expect("json");
    assert_eq!(
        unicode,
        serde_json::json!({"name":"Zoë 😀 €","password":"[REDACTED]"})
    );

    // `non_json = "reject"`: a request learns why.
    let answer = client
        .request("users.bad", "not json".into())
        .await
        .expect("an answer, not a timeout");
    assert_eq!(
        answer.status,
        Some(async_nats::StatusCode::from_u16(403).expect("code"))
    );
    assert_eq!(answer.description.as_deref(), Some("payload is not JSON"));
    // Not UTF-8 (an overlong `/`), so not JSON either.
    let answer = client
        .request("users.bad", vec![b'"', 0xc0, 0xaf, b'"'].into())
        .await
        .expect("an answer, not a timeout");
    assert_eq!(answer.description.as_deref(), Some("payload is not JSON"));
    no_msg(&mut users).await;

    let stats = server
        .plugin_stats(Some("acme"), "redact_json")
        .expect("stats");
    eventually("verdicts counted", || {
        stats.modified.load(Ordering::Relaxed) == 4 && stats.rejected.load(Ordering::Relaxed) == 2
    })
    .await;
    assert_eq!(stats.errors.load(Ordering::Relaxed), 0);
    assert_eq!(stats.traps.load(Ordering::Relaxed), 0);
}

/// The checks of `content_router_routes_by_header_and_by_json_field`, plus
/// a value that is not a subject token.
async fn content_router_behaves_like_the_rust_one(lang: Lang) {
    let plugins = format!(
        r#"
[[plugins]]
name = "by-header"
kind = "routing"
path = "{0}"
config = {{ subjects = "orders.new", header = "X-Region", target = "orders.{{value}}.new" }}
[[plugins]]
name = "by-field"
kind = "routing"
path = "{0}"
config = {{ subjects = "payments.new", field = "meta.region", target = "payments.{{value}}", default = "payments.unrouted" }}
"#,
        component(lang, "content_router")
    );
    let dir = TenantDir::new(&[("acme", &tenant("acme", &plugins))]);
    let server = start(&dir).await;
    let client = user(&server, "acme-user", "pw").await;
    let mut eu = client.subscribe("orders.eu.new").await.expect("sub");
    let mut plain = client.subscribe("orders.new").await.expect("sub");
    let mut pay_us = client.subscribe("payments.us").await.expect("sub");
    let mut pay_7 = client.subscribe("payments.7").await.expect("sub");
    let mut unrouted = client.subscribe("payments.unrouted").await.expect("sub");
    client.flush().await.expect("flush");

    let mut headers = async_nats::HeaderMap::new();
    headers.insert("x-region", "eu"); // the name matches ignoring case
    client
        .publish_with_headers("orders.new", headers, "o1".into())
        .await
        .expect("pub");
    // No header: allowed on its own subject.
    client
        .publish("orders.new", "o2".into())
        .await
        .expect("pub");
    let us = r#"{"meta":{"region":"us"},"amount":5}"#;
    client
        .publish("payments.new", us.into())
        .await
        .expect("pub");
    let number = r#"{"meta":{"region":7}}"#;
    client
        .publish("payments.new", number.into())
        .await
        .expect("pub");
    let none = r#"{"amount":7}"#;
    client
        .publish("payments.new", none.into())
        .await
        .expect("pub");
    client.flush().await.expect("flush");

    assert_eq!(next_msg(&mut eu).await.payload, "o1".as_bytes());
    assert_eq!(next_msg(&mut plain).await.payload, "o2".as_bytes());
    assert_eq!(next_msg(&mut pay_us).await.payload, us.as_bytes());
    assert_eq!(next_msg(&mut pay_7).await.payload, number.as_bytes());
    assert_eq!(next_msg(&mut unrouted).await.payload, none.as_bytes());

    // A value that would leave the template is denied, with the reason.
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("X-Region", "eu.>");
    let answer = client
        .request_with_headers("orders.new", headers, "o3".into())
        .await
        .expect("an answer, not a timeout");
    assert_eq!(
        answer.status,
        Some(async_nats::StatusCode::from_u16(403).expect("code"))
    );
    assert_eq!(
        answer.description.as_deref(),
        Some("content_router: `eu.>` is not a subject token")
    );
    no_msg(&mut plain).await;
    no_msg(&mut eu).await;
    let stats = server
        .plugin_stats(Some("acme"), "by-field")
        .expect("stats");
    assert_eq!(stats.errors.load(Ordering::Relaxed), 0);
    assert_eq!(stats.traps.load(Ordering::Relaxed), 0);
}

#[tokio::test]
async fn python_redact_json_behaves_like_the_rust_one() {
    redact_json_behaves_like_the_rust_one(Lang::Python).await;
}

#[tokio::test]
async fn js_redact_json_behaves_like_the_rust_one() {
    redact_json_behaves_like_the_rust_one(Lang::Js).await;
}

#[tokio::test]
async fn c_redact_json_behaves_like_the_rust_one() {
    redact_json_behaves_like_the_rust_one(Lang::C).await;
}

/// Issue 16: a read full of 1 KiB JSON messages, through the JavaScript
/// `redact_json` on the default CPU budget (10 ms a call). The SDK's UTF-8
/// code used to run per byte in QuickJS, ~0.9 ms a message, so a batch of a
/// dozen used up the budget and was dropped (fail-closed); every message
/// must come out redacted.
#[tokio::test]
async fn js_redact_json_redacts_a_read_of_1_kib_messages_within_the_default_budget() {
    const COUNT: usize = 64;
    let plugins = format!(
        r#"
[[plugins]]
kind = "transform"
path = "{}"
config = {{ subjects = "users.>" }}
"#,
        component(Lang::Js, "redact_json")
    );
    let dir = TenantDir::new(&[("acme", &tenant("acme", &plugins))]);
    let server = start(&dir).await;
    let client = user(&server, "acme-user", "pw").await;
    let mut users = client.subscribe("users.>").await.expect("sub");
    client.flush().await.expect("flush");

    let mut wire =
        String::from("CONNECT {\"verbose\":false,\"user\":\"acme-user\",\"pass\":\"pw\"}\r\n");
    for seq in 0..COUNT {
        let mut payload = format!(r#"{{"seq":{seq},"password":"hunter2","note":""#);
        payload += &"x".repeat(1024 - payload.len() - 2);
        payload += r#""}"#;
        wire += &format!("PUB users.new {}\r\n{payload}\r\n", payload.len());
    }
    wire += "PING\r\n";
    let mut raw = common::Raw::connect(&server).await;
    // One write: the broker reads it in a few large batches.
    raw.send(wire.as_bytes()).await;
    read_until(&mut raw, &["PONG"]).await;

    let stats = server
        .plugin_stats(Some("acme"), "redact_json")
        .expect("stats");
    eventually(
        "every message through the plugin or its failure policy",
        || {
            stats.messages.load(Ordering::Relaxed) + stats.failed_messages.load(Ordering::Relaxed)
                >= COUNT as u64
        },
    )
    .await;
    assert_eq!(
        stats.timeouts.load(Ordering::Relaxed),
        0,
        "a batch used up its CPU budget"
    );
    assert_eq!(stats.failed_messages.load(Ordering::Relaxed), 0);
    let calls = stats.calls.load(Ordering::Relaxed);
    assert!(
        calls <= 6,
        "{COUNT} messages of one write took {calls} calls: batches too small to test the budget"
    );
    for seq in 0..COUNT {
        let doc: serde_json::Value =
            serde_json::from_slice(&next_msg(&mut users).await.payload).expect("json");
        assert_eq!(
            (doc["seq"].as_u64(), doc["password"].as_str()),
            (Some(seq as u64), Some("[REDACTED]"))
        );
    }
}

#[tokio::test]
async fn python_content_router_behaves_like_the_rust_one() {
    content_router_behaves_like_the_rust_one(Lang::Python).await;
}

#[tokio::test]
async fn ts_content_router_behaves_like_the_rust_one() {
    content_router_behaves_like_the_rust_one(Lang::Js).await;
}

#[tokio::test]
async fn c_content_router_behaves_like_the_rust_one() {
    content_router_behaves_like_the_rust_one(Lang::C).await;
}

/// `api_key_auth_binds_keys_to_tenants_with_their_permissions` for the
/// Python port.
#[tokio::test]
async fn python_api_key_auth_binds_keys_to_tenants_with_their_permissions() {
    let dir = TenantDir::new(&[
        ("acme", &tenant("acme", "")),
        ("globex", &tenant("globex", "")),
    ]);
    let mut config = with_cache(dir.config());
    let good = "acme-key-123";
    let toml = format!(
        r#"
[[auth_plugins]]
kind = "auth"
path = "{}"
tenants = ["acme"]
config = {{ "key.{}" = "tenant=acme;user=svc;pub=orders.>;sub=orders.>,_INBOX.>", "key.{}" = "tenant=globex;user=intruder", "key.{}" = "tenant=acme;user=broken;ttl_ms=soon" }}
"#,
        component(Lang::Python, "api_key_auth"),
        sha256_hex(good),
        sha256_hex("globex-key"),
        sha256_hex("broken-key")
    );
    let extra: switchyard::ServerConfig = toml::from_str(&toml).expect("config");
    config.auth_plugins = extra.auth_plugins;
    let server = common::start_with(config).await;

    let svc = async_nats::ConnectOptions::with_user_and_password("apikey".into(), good.into())
        .connect(server.client_url())
        .await
        .expect("api key accepted as password of user apikey");
    let acme = user(&server, "acme-user", "pw").await;
    let mut orders = acme.subscribe("orders.>").await.expect("sub");
    acme.flush().await.expect("flush");
    svc.publish("orders.1", "from svc".into())
        .await
        .expect("pub");
    svc.flush().await.expect("flush");
    assert_eq!(next_msg(&mut orders).await.payload, "from svc".as_bytes());
    eventually("svc bound to acme", || {
        server.tenant_connections("acme") == 2
    })
    .await;

    // The grant's permissions are enforced natively: billing.x is not
    // delivered, orders.2 still is.
    let token = async_nats::ConnectOptions::with_token(good.into())
        .connect(server.client_url())
        .await
        .expect("api key accepted as token");
    let mut billing = acme.subscribe("billing.>").await.expect("sub");
    acme.flush().await.expect("flush");
    token.publish("billing.x", "no".into()).await.expect("pub");
    token.publish("orders.2", "yes".into()).await.expect("pub");
    token.flush().await.expect("flush");
    assert_eq!(next_msg(&mut orders).await.payload, "yes".as_bytes());
    no_msg(&mut billing).await;

    // Unknown key, a key granting a tenant the plugin may not bind, a
    // malformed entry.
    for key in ["wrong-key", "globex-key", "broken-key"] {
        let refused = async_nats::ConnectOptions::with_token(key.into())
            .max_reconnects(Some(1))
            .connect(server.client_url())
            .await;
        assert!(refused.is_err(), "{key} must be refused");
    }
    assert_eq!(server.tenant_connections("globex"), 0);
}

/// The C auth glue: `token_auth` binds listed tokens to the configured
/// tenant, publishing only under the user's own name.
#[tokio::test]
async fn c_token_auth_binds_listed_tokens_with_their_permissions() {
    let dir = TenantDir::new(&[("acme", &tenant("acme", ""))]);
    let mut config = with_cache(dir.config());
    let toml = format!(
        r#"
[[auth_plugins]]
kind = "auth"
path = "{}"
tenants = ["acme"]
config = {{ tenant = "acme", "token.s3cret" = "ann" }}
"#,
        component(Lang::C, "token_auth")
    );
    let extra: switchyard::ServerConfig = toml::from_str(&toml).expect("config");
    config.auth_plugins = extra.auth_plugins;
    let server = common::start_with(config).await;

    let ann = async_nats::ConnectOptions::with_token("s3cret".into())
        .connect(server.client_url())
        .await
        .expect("listed token accepted");
    let acme = user(&server, "acme-user", "pw").await;
    let mut users = acme.subscribe("users.>").await.expect("sub");
    acme.flush().await.expect("flush");
    ann.publish("users.bob.x", "not hers".into())
        .await
        .expect("pub");
    ann.publish("users.ann.x", "hers".into())
        .await
        .expect("pub");
    ann.flush().await.expect("flush");
    let m = next_msg(&mut users).await;
    assert_eq!(m.subject.as_str(), "users.ann.x");
    no_msg(&mut users).await;
    eventually("ann bound to acme", || {
        server.tenant_connections("acme") == 2
    })
    .await;

    let refused = async_nats::ConnectOptions::with_token("guess".into())
        .max_reconnects(Some(1))
        .connect(server.client_url())
        .await;
    assert!(refused.is_err(), "an unlisted token must be refused");
}

/// Reads from `raw` until every one of `needles` has arrived; panics with
/// what did arrive after 5 s.
async fn read_until(raw: &mut common::Raw, needles: &[&str]) -> String {
    use tokio::io::AsyncReadExt;
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let text = String::from_utf8_lossy(&seen).into_owned();
        if needles.iter().all(|n| text.contains(n)) {
            return text;
        }
        match tokio::time::timeout_at(deadline, raw.stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => seen.extend_from_slice(&buf[..n]),
            _ => panic!("waited for {needles:?}, got: {text}"),
        }
    }
}

/// Several messages in one read reach a routing policy as one
/// `route-batch` call; the SDK still decides them one at a time, each with
/// its own payload (fetched by index), and delivery keeps publish order.
async fn content_router_decides_each_message_of_a_batch(lang: Lang) {
    let plugins = format!(
        r#"
[[plugins]]
name = "by-field"
kind = "routing"
path = "{}"
config = {{ subjects = "payments.new", field = "meta.region", target = "payments.{{value}}" }}
"#,
        component(lang, "content_router")
    );
    let dir = TenantDir::new(&[("acme", &tenant("acme", &plugins))]);
    let server = start(&dir).await;
    let client = user(&server, "acme-user", "pw").await;
    let mut payments = client.subscribe("payments.>").await.expect("sub");
    client.flush().await.expect("flush");

    // (payload, reply subject): where each goes is the comment.
    let sent: [(&str, Option<&str>); 7] = [
        (r#"{"meta":{"region":"us"},"seq":0}"#, None), // payments.us
        (r#"{"seq":1}"#, None),                        // no value: allowed
        (r#"{"meta":{"region":"eu"},"seq":2}"#, None), // payments.eu
        (r#"{"meta":{"region":"a.b"},"seq":3}"#, Some("_INBOX.deny")), // denied, 403
        ("", None),                                    // empty: allowed, payload not fetched
        (r#"{"meta":{"region":7},"seq":5}"#, None),    // payments.7
        (r#"{"meta":{"region":"us"},"seq":6}"#, None), // payments.us
    ];
    let mut wire = String::from(
        "CONNECT {\"verbose\":false,\"user\":\"acme-user\",\"pass\":\"pw\",\"headers\":true,\"no_responders\":true}\r\nSUB _INBOX.deny 1\r\n",
    );
    for (payload, reply) in sent {
        let reply = reply.map(|r| format!("{r} ")).unwrap_or_default();
        wire += &format!("PUB payments.new {reply}{}\r\n{payload}\r\n", payload.len());
    }
    wire += "PING\r\n";
    let mut raw = common::Raw::connect(&server).await;
    // One write: the broker reads the seven messages together.
    raw.send(wire.as_bytes()).await;
    let answer = read_until(&mut raw, &["PONG", "HMSG _INBOX.deny 1", "403"]).await;
    assert!(
        answer.contains("is not a subject token"),
        "the deny reason reaches the requester: {answer}"
    );

    let expected = [
        ("payments.us", sent[0].0),
        ("payments.new", sent[1].0),
        ("payments.eu", sent[2].0),
        ("payments.new", sent[4].0),
        ("payments.7", sent[5].0),
        ("payments.us", sent[6].0),
    ];
    for (subject, payload) in expected {
        let m = next_msg(&mut payments).await;
        assert_eq!(
            (m.subject.as_str(), m.payload.as_ref()),
            (subject, payload.as_bytes())
        );
    }
    no_msg(&mut payments).await;

    let stats = server
        .plugin_stats(Some("acme"), "by-field")
        .expect("stats");
    let calls = stats.calls.load(Ordering::Relaxed);
    assert_eq!(stats.messages.load(Ordering::Relaxed), 7);
    assert!(
        calls < 7,
        "seven messages of one read took {calls} calls: not batched"
    );
    assert_eq!(stats.errors.load(Ordering::Relaxed), 0);
    assert_eq!(stats.traps.load(Ordering::Relaxed), 0);
}

#[tokio::test]
async fn python_content_router_decides_each_message_of_a_batch() {
    content_router_decides_each_message_of_a_batch(Lang::Python).await;
}

#[tokio::test]
async fn ts_content_router_decides_each_message_of_a_batch() {
    content_router_decides_each_message_of_a_batch(Lang::Js).await;
}

#[tokio::test]
async fn c_content_router_decides_each_message_of_a_batch() {
    content_router_decides_each_message_of_a_batch(Lang::C).await;
}

/// The no-op transform and routing policy (the per-language baselines of
/// docs/benchmarks.md) load, see every message of their subjects, and
/// deliver each unchanged, headers included, in order.
async fn noop_plugins_pass_every_message(lang: Lang) {
    let plugins = format!(
        r#"
[[plugins]]
kind = "transform"
path = "{}"
config = {{ subjects = "noop.>", headers = "true", payload = "true" }}
[[plugins]]
kind = "routing"
path = "{}"
config = {{ subjects = "noop.>", headers = "true" }}
"#,
        component(lang, "noop_transform"),
        component(lang, "noop_router")
    );
    let dir = TenantDir::new(&[("acme", &tenant("acme", &plugins))]);
    let server = start(&dir).await;
    let client = user(&server, "acme-user", "pw").await;
    let mut noop = client.subscribe("noop.>").await.expect("sub");
    client.flush().await.expect("flush");

    let mut headers = async_nats::HeaderMap::new();
    headers.insert("X-Trace", "t1");
    client
        .publish_with_headers("noop.a", headers, "with headers".into())
        .await
        .expect("pub");
    for i in 0..5 {
        client
            .publish(format!("noop.{i}"), format!("m{i}").into())
            .await
            .expect("pub");
    }
    client.flush().await.expect("flush");

    let first = next_msg(&mut noop).await;
    assert_eq!(first.subject.as_str(), "noop.a");
    assert_eq!(first.payload, "with headers".as_bytes());
    let trace = first.headers.as_ref().and_then(|h| h.get("X-Trace"));
    assert_eq!(trace.map(|v| v.as_str()), Some("t1"));
    for i in 0..5 {
        let m = next_msg(&mut noop).await;
        assert_eq!(
            (m.subject.as_str(), m.payload.as_ref()),
            (format!("noop.{i}").as_str(), format!("m{i}").as_bytes())
        );
    }
    no_msg(&mut noop).await;

    for name in ["noop_transform", "noop_router"] {
        let stats = server.plugin_stats(Some("acme"), name).expect("stats");
        eventually("every message seen", || {
            stats.messages.load(Ordering::Relaxed) == 6
        })
        .await;
        for (what, counter) in [
            ("modified", &stats.modified),
            ("rerouted", &stats.rerouted),
            ("dropped", &stats.dropped),
            ("errors", &stats.errors),
            ("traps", &stats.traps),
        ] {
            assert_eq!(counter.load(Ordering::Relaxed), 0, "{name}: {what}");
        }
    }
}

#[tokio::test]
async fn python_noop_plugins_pass_every_message() {
    noop_plugins_pass_every_message(Lang::Python).await;
}

#[tokio::test]
async fn js_noop_plugins_pass_every_message() {
    noop_plugins_pass_every_message(Lang::Js).await;
}

#[tokio::test]
async fn c_noop_plugins_pass_every_message() {
    noop_plugins_pass_every_message(Lang::C).await;
}

/// What a Python or JavaScript author prints, and an exception that
/// escapes their plugin, reach the broker's log tagged with tenant and
/// plugin (`noisy_transform`: prints each message; payload `raise` makes it
/// throw). The throwing call fails (here fail-open: the message is
/// delivered as it was) and the plugin goes on working.
async fn guest_diagnostics_reach_the_log(lang: Lang, tenant_name: &str) {
    common::logs::capture();
    let plugins = format!(
        "[[plugins]]\nkind = \"transform\"\npath = \"{}\"\nfailure_policy = \"fail-open\"\n",
        component(lang, "noisy_transform")
    );
    let dir = TenantDir::new(&[(tenant_name, &tenant(tenant_name, &plugins))]);
    let server = start(&dir).await;
    let client = user(&server, &format!("{tenant_name}-user"), "pw").await;
    let mut noisy = client.subscribe("noisy.>").await.expect("sub");
    client.flush().await.expect("flush");
    let logged = |line: &str| {
        !common::logs::events(|e| e.field("tenant") == Some(tenant_name) && e.message == line)
            .is_empty()
    };
    for (subject, payload) in [("noisy.a", "hello"), ("noisy.b", "raise")] {
        client
            .publish(subject, payload.to_string().into())
            .await
            .expect("pub");
        // One message per call: the raise must not take the others with it.
        let m = next_msg(&mut noisy).await;
        assert_eq!(
            (m.subject.as_str(), m.payload.as_ref()),
            (subject, payload.as_bytes())
        );
    }
    // After the trap the plugin backs off (10 ms) before a new instance is
    // made, and messages meanwhile get the failure policy: publish until
    // one reaches the new instance.
    let mut recovered = false;
    for _ in 0..500 {
        client
            .publish("noisy.c", "after".into())
            .await
            .expect("pub");
        let m = next_msg(&mut noisy).await;
        assert_eq!(m.payload, "after".as_bytes());
        if logged("noisy noisy.c after") {
            recovered = true;
            break;
        }
    }
    assert!(recovered, "the plugin never ran again after its exception");

    let stats = server
        .plugin_stats(Some(tenant_name), "noisy_transform")
        .expect("stats");
    assert_eq!(
        stats.traps.load(Ordering::Relaxed),
        1,
        "only the raise trapped"
    );
    let lines: Vec<String> = common::logs::events(|e| {
        e.field("tenant") == Some(tenant_name) && e.field("plugin") == Some("noisy_transform")
    })
    .into_iter()
    .map(|e| e.message)
    .collect();
    let text = lines.join("\n");
    for printed in ["noisy noisy.a hello", "noisy noisy.b raise"] {
        assert!(
            lines.iter().any(|l| l == printed),
            "{printed:?} not in the log:\n{text}"
        );
    }
    let (exception, frame) = match lang {
        Lang::Python => ("ValueError: asked to raise on noisy.b", ", in explode"),
        Lang::Js => (
            "uncaught exception: TypeError: asked to raise on noisy.b",
            "explode",
        ),
        Lang::C => unreachable!("no C noisy_transform"),
    };
    assert!(
        text.contains(exception),
        "{exception:?} not in the log:\n{text}"
    );
    assert!(
        text.contains(frame),
        "the frame {frame:?} not in the log:\n{text}"
    );
}

#[tokio::test]
async fn python_print_and_traceback_reach_the_log() {
    guest_diagnostics_reach_the_log(Lang::Python, "noisy-py").await;
}

#[tokio::test]
async fn js_console_and_uncaught_exception_reach_the_log() {
    guest_diagnostics_reach_the_log(Lang::Js, "noisy-js").await;
}

/// A plugin instance serves call after call: what the host hands the guest
/// for one batch must be freed by the SDK before the next. With a 2 MiB
/// memory cap, 8 MiB of payloads through the transform and 4 MiB of
/// headers through the routing policy would exhaust an instance that kept
/// any of it (the C SDK did, until it freed the batch's `data`). Not
/// Python: its interpreter alone needs more than 12 MiB, and its
/// bindings, not the SDK, own what they allocate.
async fn batches_are_freed_between_calls(lang: Lang, tenant_name: &str) {
    let plugins = format!(
        r#"
[[plugins]]
kind = "transform"
path = "{}"
max_memory_mb = 2
config = {{ subjects = "leak.>", headers = "true", payload = "true" }}
[[plugins]]
kind = "routing"
path = "{}"
max_memory_mb = 2
config = {{ subjects = "leak.>", headers = "true" }}
"#,
        component(lang, "noop_transform"),
        component(lang, "noop_router")
    );
    let dir = TenantDir::new(&[(tenant_name, &tenant(tenant_name, &plugins))]);
    let server = start(&dir).await;
    let client = user(&server, &format!("{tenant_name}-user"), "pw").await;
    let mut sub = client.subscribe("leak.>").await.expect("sub");
    client.flush().await.expect("flush");
    let payload = bytes::Bytes::from(vec![b'p'; 4096]);
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("X-Pad", "h".repeat(2000).as_str());
    const COUNT: usize = 2048;
    for _ in 0..COUNT {
        client
            .publish_with_headers("leak.x", headers.clone(), payload.clone())
            .await
            .expect("pub");
    }
    client.flush().await.expect("flush");
    for _ in 0..COUNT {
        let m = next_msg(&mut sub).await;
        assert_eq!(m.payload.len(), 4096);
    }
    for name in ["noop_transform", "noop_router"] {
        let stats = server.plugin_stats(Some(tenant_name), name).expect("stats");
        assert_eq!(
            stats.messages.load(Ordering::Relaxed),
            COUNT as u64,
            "{name}"
        );
        for (what, counter) in [
            ("memory exhausted", &stats.memory_exhausted),
            ("traps", &stats.traps),
            ("failed messages", &stats.failed_messages),
        ] {
            assert_eq!(counter.load(Ordering::Relaxed), 0, "{name}: {what}");
        }
    }
}

#[tokio::test]
async fn c_batches_are_freed_between_calls() {
    batches_are_freed_between_calls(Lang::C, "leak-c").await;
}

#[tokio::test]
async fn js_batches_are_freed_between_calls() {
    batches_are_freed_between_calls(Lang::Js, "leak-js").await;
}

/// Issue 16: a Python transform that returns a new payload for every
/// message (`uppercase`, `Action.with_payload`) kept each returned payload
/// in the guest's memory (componentize-py 0.25.1 never freed its copy; the
/// build script now patches that, `sdk-python/tools/free_lowered_lists.py`)
/// and exhausted the default 16 MiB cap after 1,755 messages of 4 KiB.
/// 16 MiB of returned payloads must pass under that cap with no memory
/// exhaustion, every message uppercased and in order.
#[tokio::test]
async fn python_returned_payloads_are_freed_between_calls() {
    let plugins = format!(
        r#"
[[plugins]]
kind = "transform"
path = "{}"
max_memory_mb = 16
config = {{ subjects = "leak.>" }}
"#,
        component(Lang::Python, "uppercase")
    );
    let dir = TenantDir::new(&[("leak-py", &tenant("leak-py", &plugins))]);
    let server = start(&dir).await;
    let client = user(&server, "leak-py-user", "pw").await;
    let mut sub = client.subscribe("leak.>").await.expect("sub");
    client.flush().await.expect("flush");
    let payload = |i: usize| {
        let mut p = format!("message {i:06} ").into_bytes();
        p.resize(4096, b'p');
        p
    };
    const COUNT: usize = 4096;
    for i in 0..COUNT {
        client
            .publish("leak.x", payload(i).into())
            .await
            .expect("pub");
    }
    client.flush().await.expect("flush");
    let stats = server
        .plugin_stats(Some("leak-py"), "uppercase")
        .expect("stats");
    // A failed call's messages count as handed in and as failed; those
    // that come while the pool backs off after a failure, as failed only.
    eventually(
        "every message through the plugin or its failure policy",
        || {
            stats.messages.load(Ordering::Relaxed) + stats.failed_messages.load(Ordering::Relaxed)
                >= COUNT as u64
        },
    )
    .await;
    // Counters first: a leak shows as `memory exhausted`, then as messages
    // that got the failure policy instead of their new payload.
    for (what, counter) in [
        ("memory exhausted", &stats.memory_exhausted),
        ("traps", &stats.traps),
        ("failed messages", &stats.failed_messages),
    ] {
        assert_eq!(counter.load(Ordering::Relaxed), 0, "{what}");
    }
    assert_eq!(stats.messages.load(Ordering::Relaxed), COUNT as u64);
    assert_eq!(stats.modified.load(Ordering::Relaxed), COUNT as u64);
    for i in 0..COUNT {
        let m = next_msg(&mut sub).await;
        assert!(
            m.payload == payload(i).to_ascii_uppercase(),
            "message {i} not uppercased: {:?}",
            String::from_utf8_lossy(&m.payload[..m.payload.len().min(16)])
        );
    }
}
