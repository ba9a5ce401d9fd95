//! Hostile plugins are contained: a loop times out, a memory bomb hits its
//! cap, a trap or an oversized answer gets the failure policy. The broker
//! keeps serving every tenant, plugins never see another tenant's
//! messages, and a reload swaps plugins without losing unrelated traffic.

use crate::common;

use common::plugins::{wasm, with_cache};
use common::{TenantDir, eventually, next_msg, no_msg, user};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use switchyard::Server;
use switchyard::plugin::PluginStats;

fn tenant(name: &str, plugins: &str) -> String {
    format!("name = \"{name}\"\n[[users]]\nuser = \"{name}-user\"\npassword = \"pw\"\n{plugins}")
}

fn plugin(file: &str, extra: &str) -> String {
    format!(
        "[[plugins]]\nkind = \"transform\"\npath = \"{}\"\nsubjects = [\"bad.>\"]\n{extra}\n",
        wasm(file)
    )
}

async fn start(files: &[(&str, &str)]) -> (TenantDir, Server) {
    let dir = TenantDir::new(files);
    let server = common::start_with(with_cache(dir.config())).await;
    (dir, server)
}

fn stats(server: &Server, tenant: &str, plugin: &str) -> Arc<PluginStats> {
    server
        .plugin_stats(Some(tenant), plugin)
        .expect("plugin loaded")
}

/// Publishes on `bad.x` in acme and checks that plain subjects in acme and
/// globex keep flowing meanwhile.
async fn provoke(server: &Server, payload: &str) -> (async_nats::Client, async_nats::Subscriber) {
    let acme = user(server, "acme-user", "pw").await;
    let globex = user(server, "globex-user", "pw").await;
    let mut bad = acme.subscribe("bad.>").await.expect("sub");
    let mut fine = acme.subscribe("fine").await.expect("sub");
    let mut theirs = globex.subscribe("bad.>").await.expect("sub");
    acme.flush().await.expect("flush");
    globex.flush().await.expect("flush");
    acme.publish("bad.x", payload.to_string().into())
        .await
        .expect("pub");
    acme.publish("fine", "still here".into())
        .await
        .expect("pub");
    globex
        .publish("bad.x", "other tenant".into())
        .await
        .expect("pub");
    acme.flush().await.expect("flush");
    globex.flush().await.expect("flush");
    assert_eq!(next_msg(&mut fine).await.payload, "still here".as_bytes());
    assert_eq!(
        next_msg(&mut theirs).await.payload,
        "other tenant".as_bytes()
    );
    // Hand back the subscription on the plugin's subject for the caller.
    let _ = &mut bad;
    (acme, bad)
}

#[tokio::test]
async fn an_endless_loop_times_out_and_fails_closed() {
    let acme = tenant("acme", &plugin("hostile_loop", "timeout = \"20ms\""));
    let (_dir, server) = start(&[("acme", &acme), ("globex", &tenant("globex", ""))]).await;
    // Long enough for the idle epoch ticker to fall asleep: the call must
    // wake it, or the deadline would never come.
    tokio::time::sleep(Duration::from_millis(250)).await;
    let (_client, mut bad) = provoke(&server, "anything").await;
    no_msg(&mut bad).await;
    let s = stats(&server, "acme", "hostile_loop");
    assert_eq!(s.timeouts.load(Relaxed), 1);
    assert_eq!(s.failed_messages.load(Relaxed), 1);
    // The budget counts CPU time: the loop ran at least its 20 ms of it
    // (wall-clock time is never less) and was then stopped, however busy
    // the machine (a generous bound).
    let (_, seconds) = s.latency_histogram();
    assert!(
        (0.020..5.0).contains(&seconds),
        "the looping call took {seconds} s"
    );
}

#[tokio::test]
async fn fail_open_delivers_the_message_as_published() {
    let acme = tenant(
        "acme",
        &plugin(
            "hostile_loop",
            "timeout = \"20ms\"\nfailure_policy = \"fail-open\"",
        ),
    );
    let (_dir, server) = start(&[("acme", &acme), ("globex", &tenant("globex", ""))]).await;
    let (_client, mut bad) = provoke(&server, "kept").await;
    assert_eq!(next_msg(&mut bad).await.payload, "kept".as_bytes());
    assert_eq!(
        stats(&server, "acme", "hostile_loop")
            .timeouts
            .load(Relaxed),
        1
    );
}

#[tokio::test]
async fn a_memory_bomb_hits_its_cap() {
    let acme = tenant(
        "acme",
        &plugin(
            "hostile_memory",
            "max_memory_mb = 4\nfailure_policy = \"fail-open\"",
        ),
    );
    let (_dir, server) = start(&[("acme", &acme), ("globex", &tenant("globex", ""))]).await;
    let (_client, mut bad) = provoke(&server, "boom").await;
    assert_eq!(next_msg(&mut bad).await.payload, "boom".as_bytes());
    assert_eq!(
        stats(&server, "acme", "hostile_memory")
            .memory_exhausted
            .load(Relaxed),
        1
    );
}

#[tokio::test]
async fn a_trap_discards_the_instance_and_the_plugin_recovers() {
    let acme = tenant("acme", &plugin("hostile_trap", ""));
    let (_dir, server) = start(&[("acme", &acme), ("globex", &tenant("globex", ""))]).await;
    let (client, mut bad) = provoke(&server, "trap").await;
    let s = stats(&server, "acme", "hostile_trap");
    assert_eq!(s.traps.load(Relaxed), 1);
    // After the back-off a fresh instance serves again.
    let mut delivered = false;
    for _ in 0..100 {
        client.publish("bad.y", "ok".into()).await.expect("pub");
        client.flush().await.expect("flush");
        if let Ok(Some(m)) = tokio::time::timeout(
            Duration::from_millis(50),
            futures::StreamExt::next(&mut bad),
        )
        .await
        {
            assert_eq!(m.payload, "ok".as_bytes());
            delivered = true;
            break;
        }
    }
    assert!(delivered, "the plugin never recovered");
    assert_eq!(s.traps.load(Relaxed), 1);
}

#[tokio::test]
async fn a_plugin_that_keeps_failing_is_disabled() {
    let acme = tenant(
        "acme",
        &plugin("hostile_trap", "config = { mode = \"always\" }"),
    );
    let (_dir, server) = start(&[("acme", &acme), ("globex", &tenant("globex", ""))]).await;
    let client = user(&server, "acme-user", "pw").await;
    let s = stats(&server, "acme", "hostile_trap");
    for _ in 0..400 {
        if s.disabled.load(Relaxed) {
            break;
        }
        client.publish("bad.z", "x".into()).await.expect("pub");
        client.flush().await.expect("flush");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        s.disabled.load(Relaxed),
        "still enabled after {} traps",
        s.traps.load(Relaxed)
    );
    let traps = s.traps.load(Relaxed);
    assert_eq!(traps, 8);
    // Disabled: no more calls, the policy applies at once.
    client.publish("bad.z", "x".into()).await.expect("pub");
    client.flush().await.expect("flush");
    eventually("policy applied", || s.failed_messages.load(Relaxed) > traps).await;
    assert_eq!(s.traps.load(Relaxed), traps);
}

#[tokio::test]
async fn oversized_or_malformed_answers_are_refused() {
    for (mode, extra) in [
        ("big-payload", "size_kib = \"2048\""),
        ("many-split", "count = \"100\""),
        ("bad-index", ""),
    ] {
        let config = format!(
            "config = {{ mode = \"{mode}\"{} }}",
            if extra.is_empty() {
                String::new()
            } else {
                format!(", {extra}")
            }
        );
        // A generous deadline: lifting a 2 MiB answer in an unoptimised
        // (debug) host takes longer than the default 10 ms.
        let acme = tenant(
            "acme",
            &plugin("hostile_output", &format!("{config}\ntimeout = \"2s\"")),
        );
        let (_dir, server) = start(&[("acme", &acme), ("globex", &tenant("globex", ""))]).await;
        let (_client, mut bad) = provoke(&server, "x").await;
        no_msg(&mut bad).await;
        let s = stats(&server, "acme", "hostile_output");
        assert_eq!(s.failed_messages.load(Relaxed), 1, "{mode}");
        // Refused for what it answered: neither a trap nor a timeout.
        assert_eq!(s.errors.load(Relaxed), 1, "{mode}");
        assert_eq!(
            s.traps.load(Relaxed) + s.timeouts.load(Relaxed),
            0,
            "{mode}"
        );
    }
}

#[tokio::test]
async fn a_plugin_that_fails_at_load_is_refused_with_the_reason() {
    for (mode, expected) in [
        ("trap", "`register` failed"),
        ("invalid-subject", "is not a valid subject"),
    ] {
        let acme = tenant(
            "acme",
            &format!(
                "[[plugins]]\nkind = \"transform\"\npath = \"{}\"\nconfig = {{ mode = \"{mode}\" }}\n",
                wasm("hostile_register")
            ),
        );
        let dir = TenantDir::new(&[("acme", &acme)]);
        let Err(err) = common::try_start_with(with_cache(dir.config())).await else {
            panic!("{mode}: the broker started with a plugin that fails to load");
        };
        assert!(err.to_string().contains(expected), "{mode}: {err}");
    }
}

#[tokio::test]
async fn plugins_never_see_another_tenants_messages() {
    let noop = format!(
        "[[plugins]]\nkind = \"transform\"\npath = \"{}\"\n",
        wasm("noop_transform")
    );
    let (_dir, server) = start(&[
        ("acme", &tenant("acme", &noop)),
        ("globex", &tenant("globex", &noop)),
    ])
    .await;
    let acme = user(&server, "acme-user", "pw").await;
    let globex = user(&server, "globex-user", "pw").await;
    let mut sub = globex.subscribe("shared").await.expect("sub");
    globex.flush().await.expect("flush");
    for _ in 0..3 {
        acme.publish("shared", "a".into()).await.expect("pub");
    }
    for _ in 0..10 {
        globex.publish("shared", "g".into()).await.expect("pub");
    }
    acme.flush().await.expect("flush");
    globex.flush().await.expect("flush");
    for _ in 0..10 {
        assert_eq!(next_msg(&mut sub).await.payload, "g".as_bytes());
    }
    no_msg(&mut sub).await;
    eventually("acme's plugin saw acme's 3", || {
        stats(&server, "acme", "noop_transform")
            .messages
            .load(Relaxed)
            == 3
    })
    .await;
    assert_eq!(
        stats(&server, "globex", "noop_transform")
            .messages
            .load(Relaxed),
        10
    );
}

#[tokio::test]
async fn the_key_value_store_is_per_tenant() {
    let limit = format!(
        "[[plugins]]\nkind = \"routing\"\npath = \"{}\"\nconfig = {{ limit = \"2\", window_ms = \"60000\", key_by = \"user\" }}\n",
        wasm("rate_limit")
    );
    // Same user name and counter key in both tenants.
    let file = |name: &str| {
        format!("name = \"{name}\"\n[[users]]\nuser = \"u-{name}\"\npassword = \"pw\"\n{limit}")
    };
    let (_dir, server) = start(&[("acme", &file("acme")), ("globex", &file("globex"))]).await;
    let acme = user(&server, "u-acme", "pw").await;
    let globex = user(&server, "u-globex", "pw").await;
    let mut sub = globex.subscribe("m").await.expect("sub");
    globex.flush().await.expect("flush");
    for _ in 0..5 {
        acme.publish("m", "a".into()).await.expect("pub");
    }
    acme.flush().await.expect("flush");
    eventually("acme limited", || {
        stats(&server, "acme", "rate_limit").rejected.load(Relaxed) == 3
    })
    .await;
    globex.publish("m", "g1".into()).await.expect("pub");
    globex.publish("m", "g2".into()).await.expect("pub");
    globex.flush().await.expect("flush");
    assert_eq!(next_msg(&mut sub).await.payload, "g1".as_bytes());
    assert_eq!(next_msg(&mut sub).await.payload, "g2".as_bytes());
}

#[tokio::test]
async fn reload_swaps_a_plugin_under_load_without_losing_other_traffic() {
    let noop = format!(
        "[[plugins]]\nkind = \"transform\"\npath = \"{}\"\nsubjects = [\"t.>\"]\n",
        wasm("noop_transform")
    );
    let redact = format!(
        "[[plugins]]\nkind = \"transform\"\npath = \"{}\"\nconfig = {{ subjects = \"t.>\", fields = \"secret\" }}\n",
        wasm("redact_json")
    );
    let (dir, server) = start(&[("acme", &tenant("acme", &noop))]).await;
    let client = user(&server, "acme-user", "pw").await;
    let mut unrelated = client.subscribe("u.x").await.expect("sub");
    let mut t = client.subscribe("t.x").await.expect("sub");
    client.flush().await.expect("flush");

    const N: u32 = 20_000;
    let publisher = user(&server, "acme-user", "pw").await;
    let load = tokio::spawn(async move {
        for i in 0..N {
            publisher
                .publish("u.x", i.to_string().into())
                .await
                .expect("pub");
        }
        publisher.flush().await.expect("flush");
        publisher
    });
    dir.write("acme", &tenant("acme", &redact));
    server.reload().await.expect("reload");
    let _publisher = load.await.expect("publisher");
    for i in 0..N {
        let m = next_msg(&mut unrelated).await;
        assert_eq!(m.payload, i.to_string().as_bytes());
    }
    client
        .publish("t.x", r#"{"secret":"s","ok":1}"#.into())
        .await
        .expect("pub");
    client.flush().await.expect("flush");
    let v: serde_json::Value =
        serde_json::from_slice(&next_msg(&mut t).await.payload).expect("json");
    assert_eq!(v["secret"], "[REDACTED]");
    assert_eq!(v["ok"], 1);
    assert!(
        server
            .plugin_stats(Some("acme"), "noop_transform")
            .is_none()
    );
}
