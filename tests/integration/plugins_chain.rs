//! WIT 0.2.0 on the publish path: batched routing policies (one call per
//! read, a decision per message, payloads fetched by index), plugin chains
//! (every matching transform, then every matching routing policy, each
//! seeing what the previous one let through), export transforms after the
//! chain, `/accountz` showing the chain, and 0.1.0 components refused.

use crate::common;

use common::plugins::{wasm, with_cache};
use common::{TenantDir, next_msg, no_msg, user};
use std::path::Path;
use std::sync::atomic::Ordering;
use switchyard::{Server, ServerConfig};

fn tenant(name: &str, plugins: &str) -> String {
    format!("name = \"{name}\"\n[[users]]\nuser = \"{name}-user\"\npassword = \"pw\"\n{plugins}")
}

async fn start(dir: &TenantDir) -> Server {
    common::start_with(with_cache(dir.config())).await
}

fn count(server: &Server, plugin: &str, what: fn(&switchyard::plugin::PluginStats) -> u64) -> u64 {
    let stats = server
        .plugin_stats(Some("acme"), plugin)
        .unwrap_or_else(|| panic!("{plugin} is loaded"));
    what(&stats)
}

#[tokio::test]
async fn a_batched_routing_policy_decides_each_message_in_order() {
    // content_router reads a JSON field: every decision needs that
    // message's own payload, fetched by index from the batch.
    let plugins = format!(
        r#"
[[plugins]]
kind = "routing"
path = "{}"
config = {{ subjects = "in.>", field = "region", target = "out.{{value}}" }}
"#,
        wasm("content_router")
    );
    let dir = TenantDir::new(&[("acme", &tenant("acme", &plugins))]);
    let server = start(&dir).await;
    let client = user(&server, "acme-user", "pw").await;
    let mut all = client.subscribe(">").await.expect("sub");
    client.flush().await.expect("flush");
    const N: u32 = 1000;
    let region = |i: u32| match i % 4 {
        0 => Some("eu"),
        1 => Some("us"),
        2 => None,
        _ => Some("not.a.token"),
    };
    for i in 0..N {
        let payload = match region(i) {
            Some(r) => format!(r#"{{"region":"{r}","n":{i}}}"#),
            None => format!(r#"{{"n":{i}}}"#),
        };
        client
            .publish(format!("in.{i}"), payload.into())
            .await
            .expect("pub");
    }
    client.flush().await.expect("flush");
    for i in 0..N {
        let expected = match region(i) {
            Some("not.a.token") => continue,
            Some(r) => format!("out.{r}"),
            None => format!("in.{i}"),
        };
        let m = next_msg(&mut all).await;
        assert_eq!(m.subject.as_str(), expected, "message {i}");
        assert!(
            std::str::from_utf8(&m.payload)
                .expect("utf-8")
                .contains(&format!("\"n\":{i}}}")),
            "message {i} out of order"
        );
    }
    no_msg(&mut all).await;
    let messages = count(&server, "content_router", |s| {
        s.messages.load(Ordering::Relaxed)
    });
    let calls = count(&server, "content_router", |s| {
        s.calls.load(Ordering::Relaxed)
    });
    let rejected = count(&server, "content_router", |s| {
        s.rejected.load(Ordering::Relaxed)
    });
    assert_eq!(messages, u64::from(N));
    assert_eq!(rejected, u64::from(N / 4));
    assert!(
        calls < messages / 4,
        "{calls} calls for {messages} messages"
    );
}

#[tokio::test]
async fn bad_route_verdicts_get_the_plugins_failure_policy() {
    for (mode, policy, delivered) in [
        ("bad-index", "fail-closed", false),
        ("duplicate-index", "fail-closed", false),
        ("bad-index", "fail-open", true),
        ("duplicate-index", "fail-open", true),
    ] {
        let plugins = format!(
            "[[plugins]]\nkind = \"routing\"\npath = \"{}\"\nfailure_policy = \"{policy}\"\nconfig = {{ mode = \"{mode}\", subjects = \"r.>\" }}\n",
            wasm("hostile_router")
        );
        let dir = TenantDir::new(&[("acme", &tenant("acme", &plugins))]);
        let server = start(&dir).await;
        let client = user(&server, "acme-user", "pw").await;
        let mut sub = client.subscribe("r.>").await.expect("sub");
        client.flush().await.expect("flush");
        client.publish("r.x", "hi".into()).await.expect("pub");
        client.flush().await.expect("flush");
        if delivered {
            assert_eq!(next_msg(&mut sub).await.payload, "hi".as_bytes(), "{mode}");
        } else {
            no_msg(&mut sub).await;
        }
        let stats = server
            .plugin_stats(Some("acme"), "hostile_router")
            .expect("loaded");
        assert_eq!(stats.errors.load(Ordering::Relaxed), 1, "{mode} {policy}");
        assert_eq!(stats.failed_messages.load(Ordering::Relaxed), 1, "{mode}");
    }
}

/// acme's chain: `up` uppercases payloads, `redact` hides `PASSWORD`
/// (a field that exists only after `up`) and drops non-JSON, `route` moves
/// messages to `out.{REGION}`, and `tail` counts what reaches `out.>`.
/// acme exports `out.>` through `hide-region`; globex imports it.
fn chain_tenants() -> TenantDir {
    let acme = format!(
        r#"
name = "acme"
[[users]]
user = "acme-user"
password = "pw"
[[plugins]]
name = "up"
kind = "transform"
path = "{up}"
config = {{ subjects = "in.>" }}
[[plugins]]
name = "route"
kind = "routing"
path = "{router}"
config = {{ subjects = "in.>", field = "REGION", target = "out.{{value}}" }}
[[plugins]]
name = "redact"
kind = "transform"
path = "{redact}"
config = {{ subjects = "in.>", fields = "PASSWORD", non_json = "drop" }}
[[plugins]]
name = "tail"
kind = "routing"
path = "{noop}"
config = {{ subjects = "out.>" }}
[[plugins]]
name = "hide-region"
kind = "transform"
path = "{redact}"
config = {{ subjects = "out.>", fields = "REGION" }}
[[exports]]
stream = "out.>"
transform = "hide-region"
"#,
        up = wasm("uppercase"),
        router = wasm("content_router"),
        redact = wasm("redact_json"),
        noop = wasm("noop_router"),
    );
    let globex = r#"
name = "globex"
[[users]]
user = "globex-user"
password = "pw"
[[imports]]
stream = { account = "acme", subject = "out.>" }
prefix = "acme"
"#;
    TenantDir::new(&[("acme", &acme), ("globex", globex)])
}

#[tokio::test]
async fn every_matching_plugin_runs_in_chain_order_on_the_previous_output() {
    let dir = chain_tenants();
    let server = common::start_with(with_cache(ServerConfig {
        http_port: Some(0),
        ..dir.config()
    }))
    .await;
    let acme = user(&server, "acme-user", "pw").await;
    let globex = user(&server, "globex-user", "pw").await;
    let mut own = acme.subscribe(">").await.expect("sub");
    let mut imported = globex.subscribe("acme.out.>").await.expect("sub");
    acme.flush().await.expect("flush");
    globex.flush().await.expect("flush");

    acme.publish("in.a", r#"{"password":"pw1","region":"eu"}"#.into())
        .await
        .expect("pub");
    // Not JSON: `redact` drops it, which ends its chain.
    acme.publish("in.b", "not json".into()).await.expect("pub");
    acme.publish("in.c", r#"{"region":"us","n":3}"#.into())
        .await
        .expect("pub");
    acme.flush().await.expect("flush");

    let json = |payload: &[u8]| -> serde_json::Value {
        serde_json::from_slice(payload).expect("json payload")
    };
    let first = next_msg(&mut own).await;
    assert_eq!(first.subject.as_str(), "out.EU");
    let v = json(&first.payload);
    assert_eq!(v["PASSWORD"], "[REDACTED]");
    assert_eq!(v["REGION"], "EU");
    let third = next_msg(&mut own).await;
    assert_eq!(third.subject.as_str(), "out.US");
    assert_eq!(json(&third.payload)["N"], 3);
    no_msg(&mut own).await;

    // The export transform runs after acme's chain: it sees the rerouted,
    // uppercased, redacted message.
    let crossed = next_msg(&mut imported).await;
    assert_eq!(crossed.subject.as_str(), "acme.out.EU");
    let v = json(&crossed.payload);
    assert_eq!(v["PASSWORD"], "[REDACTED]");
    assert_eq!(v["REGION"], "[REDACTED]");
    assert_eq!(
        next_msg(&mut imported).await.subject.as_str(),
        "acme.out.US"
    );

    let messages = |p| count(&server, p, |s| s.messages.load(Ordering::Relaxed));
    assert_eq!(messages("up"), 3);
    assert_eq!(messages("redact"), 3);
    assert_eq!(
        count(&server, "redact", |s| s.dropped.load(Ordering::Relaxed)),
        1
    );
    // The dropped message never reaches the routing policies.
    assert_eq!(messages("route"), 2);
    // `tail` registered `out.>`: it sees the subjects `route` made.
    assert_eq!(messages("tail"), 2);

    // /accountz lists the chain in order; the export transform is not in it.
    let addr = server.http_addr().expect("monitoring");
    let body = ureq::get(&format!("http://{addr}/accountz?acc=acme"));
    let detail: serde_json::Value = tokio::task::spawn_blocking(move || {
        let body = body
            .call()
            .expect("GET /accountz")
            .body_mut()
            .read_to_string()
            .expect("body");
        serde_json::from_str(&body).expect("json")
    })
    .await
    .expect("request");
    let plugins = detail["account_detail"]["plugins"]
        .as_array()
        .expect("plugins listed");
    let order: Vec<(&str, Option<u64>)> = plugins
        .iter()
        .map(|p| (p["name"].as_str().unwrap_or_default(), p["chain"].as_u64()))
        .collect();
    assert_eq!(
        order,
        [
            ("up", Some(1)),
            ("redact", Some(2)),
            ("route", Some(3)),
            ("tail", Some(4)),
            ("hide-region", None),
        ]
    );
}

fn old_component() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/plugins/noop_router-0.1.0.wasm")
}

const REFUSAL: &[&str] = &[
    "targets switchyard:plugin@0.1.0",
    "hosts switchyard:plugin@0.2.0",
    "plugins/sdk",
    "scripts/build-plugins-<lang>.sh",
];

#[tokio::test]
async fn a_component_built_for_wit_0_1_0_is_refused_with_how_to_rebuild() {
    let plugins = format!(
        "[[plugins]]\nkind = \"routing\"\npath = \"{}\"\n",
        old_component().display()
    );
    let dir = TenantDir::new(&[("acme", &tenant("acme", &plugins))]);
    let Err(err) = common::try_start_with(with_cache(dir.config())).await else {
        panic!("the broker started with a 0.1.0 component");
    };
    let err = err.to_string();
    for want in REFUSAL {
        assert!(err.contains(want), "`{want}` missing from: {err}");
    }

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["plugin", "check"])
        .arg(old_component())
        .output()
        .expect("run switchyard plugin check");
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    for want in REFUSAL {
        assert!(stdout.contains(want), "`{want}` missing from: {stdout}");
    }
}
