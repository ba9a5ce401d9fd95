//! What plugins write to stdout and stderr goes to the broker's log, cut,
//! escaped and rate-limited per plugin; it never traps, and a panic's
//! message is logged before the trap it ends in. Each test has its own
//! tenant, so the log events of tests running at once are told apart.

use crate::common;

use common::logs::{self, LogEvent};
use common::plugins::{wasm, with_cache};
use common::{TenantDir, eventually, next_msg, user};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use switchyard::config::{OutputLevel, PluginOutputConfig};
use switchyard::plugin::PluginStats;
use switchyard::{Server, ServerConfig};

const GUEST_OUTPUT: &str = "switchyard::plugin::guest_output";

/// One tenant `name` with `plugin_file` as a transform on `out.>`.
async fn start(
    name: &str,
    plugin_file: &str,
    extra: &str,
    output: PluginOutputConfig,
) -> (TenantDir, Server) {
    logs::capture();
    let tenant = format!(
        "name = \"{name}\"\n[[users]]\nuser = \"{name}-user\"\npassword = \"pw\"\n\
         [[plugins]]\nkind = \"transform\"\npath = \"{}\"\nsubjects = [\"out.>\"]\n{extra}\n",
        wasm(plugin_file)
    );
    let dir = TenantDir::new(&[(name, &tenant)]);
    let config = ServerConfig {
        plugin_output: output,
        http_port: Some(0),
        ..with_cache(dir.config())
    };
    let server = common::start_with(config).await;
    (dir, server)
}

/// Publishes `payload` on `out.x` as `name`'s user and returns what the
/// subscriber on `out.>` got (the plugin passes it).
async fn round_trip(server: &Server, name: &str, payload: &str) -> async_nats::Message {
    let client = user(server, &format!("{name}-user"), "pw").await;
    let mut sub = client.subscribe("out.>").await.expect("sub");
    client.flush().await.expect("flush");
    client
        .publish("out.x", payload.to_string().into())
        .await
        .expect("pub");
    client.flush().await.expect("flush");
    next_msg(&mut sub).await
}

fn guest_lines(tenant: &str) -> Vec<LogEvent> {
    logs::events(|e| e.target == GUEST_OUTPUT && e.field("tenant") == Some(tenant))
}

fn stats(server: &Server, tenant: &str, plugin: &str) -> Arc<PluginStats> {
    server
        .plugin_stats(Some(tenant), plugin)
        .expect("plugin loaded")
}

#[tokio::test]
async fn printing_is_logged_with_tenant_plugin_and_stream_and_does_not_trap() {
    let (_dir, server) = start(
        "printer",
        "hostile_output",
        "config = { mode = \"print\" }",
        PluginOutputConfig::default(),
    )
    .await;
    let msg = round_trip(&server, "printer", "hello").await;
    assert_eq!(msg.payload, "hello".as_bytes(), "the transform passed it");

    // The call has returned (the message was delivered): its lines,
    // the unfinished last one included, are in the log.
    let lines = guest_lines("printer");
    let shown: Vec<(&str, &str)> = lines
        .iter()
        .map(|e| (e.field("stream").unwrap_or(""), e.message.as_str()))
        .collect();
    assert_eq!(
        shown,
        [
            ("stdout", "hostile_output stdout hello"),
            ("stderr", "hostile_output stderr hello"),
            (
                "stderr",
                "forged\\r2026-01-01T00:00:00Z ERROR switchyard: fake\\u{1b}[2J"
            ),
            ("stderr", "partial hello"),
        ]
    );
    for e in &lines {
        assert_eq!(e.level, tracing::Level::WARN, "the default level");
        assert_eq!(e.field("plugin"), Some("hostile_output"));
    }
    let s = stats(&server, "printer", "hostile_output");
    assert_eq!(s.output_lines.load(Relaxed), 4);
    assert_eq!(s.output_suppressed.load(Relaxed), 0);
    assert_eq!(s.traps.load(Relaxed), 0);

    let addr = server.http_addr().expect("monitoring listener");
    let body = http_get(format!("http://{addr}/accountz?acc=printer")).await;
    let accountz: serde_json::Value = serde_json::from_str(&body).expect("json");
    let plugin = &accountz["account_detail"]["plugins"][0];
    assert_eq!(plugin["output_lines"], 4, "{body}");
    assert_eq!(plugin["output_suppressed"], 0, "{body}");
    let metrics = http_get(format!("http://{addr}/metrics")).await;
    assert!(
        metrics.contains(
            "switchyard_plugin_output_lines_total{tenant=\"printer\",plugin=\"hostile_output\"} 4"
        ),
        "{metrics}"
    );
}

async fn http_get(url: String) -> String {
    tokio::task::spawn_blocking(move || {
        ureq::get(&url)
            .call()
            .expect("HTTP request")
            .body_mut()
            .read_to_string()
            .expect("HTTP body")
    })
    .await
    .expect("HTTP task")
}

#[tokio::test]
async fn a_flood_of_output_is_cut_and_rate_limited() {
    // 10,000 lines and a 10 MiB line in one call, with room in the budget
    // to write them all: the log gets the burst, then the rate.
    let output = PluginOutputConfig {
        level: OutputLevel::Info,
        lines_per_sec: 1000,
        burst: 10,
    };
    let (_dir, server) = start(
        "flooder",
        "hostile_output",
        "timeout = \"30s\"\nconfig = { mode = \"flood\", count = \"10000\" }",
        output,
    )
    .await;
    let msg = round_trip(&server, "flooder", "x").await;
    assert_eq!(msg.payload, "x".as_bytes());

    let s = stats(&server, "flooder", "hostile_output");
    let (_, took) = s.latency_histogram();
    eprintln!("a call writing 10,000 lines and 10 MiB took {took:.3} s");
    let written = s.output_lines.load(Relaxed);
    let suppressed = s.output_suppressed.load(Relaxed);
    assert_eq!(written, 10_001, "every line counted, the cut one too");
    let events = guest_lines("flooder");
    let (summaries, lines): (Vec<&LogEvent>, Vec<&LogEvent>) = events
        .iter()
        .partition(|e| e.message.contains("lines suppressed"));
    assert_eq!(lines.len() as u64, written - suppressed);
    // The burst and the rate over the call's duration, no more.
    let allowed = 10 + (1000.0 * took).ceil() as usize;
    assert!(lines.len() <= allowed, "{} lines logged", lines.len());
    assert!(!summaries.is_empty(), "logging resumed with a summary");
    let reported: u64 = summaries
        .iter()
        .map(|e| {
            let n = e.message.split(' ').next().unwrap_or_default();
            n.parse::<u64>().expect("a count")
        })
        .sum();
    assert!(reported > 0 && reported <= suppressed);
    for e in &events {
        assert_eq!(e.level, tracing::Level::INFO);
        assert!(e.message.len() <= 1024 + 32, "a line is cut at 1 KiB");
    }
    assert_eq!(lines[0].message, "flood line 0");
}

#[tokio::test]
async fn a_flood_under_the_default_budget_costs_no_more_than_the_budget() {
    let (_dir, server) = start(
        "flooder2",
        "hostile_output",
        "timeout = \"20ms\"\nfailure_policy = \"fail-open\"\nconfig = { mode = \"flood\", count = \"10000000\" }",
        PluginOutputConfig::default(),
    )
    .await;
    // Ten million lines take far longer than 20 ms: the call is stopped at
    // its budget and the message gets the failure policy (`fail-open`).
    let msg = round_trip(&server, "flooder2", "y").await;
    assert_eq!(msg.payload, "y".as_bytes());
    let s = stats(&server, "flooder2", "hostile_output");
    assert_eq!(s.timeouts.load(Relaxed), 1);
    let (_, took) = s.latency_histogram();
    assert!(took < 1.0, "the call took {took} s");
    assert!(
        guest_lines("flooder2").len() <= 100 + 1 + 20,
        "burst, rate and a summary"
    );
}

#[tokio::test]
async fn a_panic_message_is_logged_before_the_trap() {
    let (_dir, server) = start(
        "panicker",
        "hostile_trap",
        "",
        PluginOutputConfig::default(),
    )
    .await;
    let client = user(&server, "panicker-user", "pw").await;
    client.publish("out.x", "trap".into()).await.expect("pub");
    client.flush().await.expect("flush");
    let s = stats(&server, "panicker", "hostile_trap");
    eventually("the trap", || s.traps.load(Relaxed) == 1).await;
    let events = logs::events(|e| {
        e.field("tenant") == Some("panicker") || e.field("plugin") == Some("panicker/hostile_trap")
    });
    let panic_line = events
        .iter()
        .position(|e| {
            e.target == GUEST_OUTPUT && e.message.contains("hostile_trap: trapping on purpose")
        })
        .unwrap_or_else(|| panic!("no panic message in {events:#?}"));
    let trap = events
        .iter()
        .position(|e| e.message.starts_with("call failed (the instance trapped)"))
        .unwrap_or_else(|| panic!("no trap in {events:#?}"));
    assert!(panic_line < trap, "{events:#?}");
    assert_eq!(events[panic_line].field("stream"), Some("stderr"));
    // std's panic hook: `\nthread '<unnamed>' (1) panicked at FILE:LINE:COL:`,
    // the message, a note; the empty first line is not logged.
    assert!(
        events[panic_line - 1]
            .message
            .contains("panicked at hostile/hostile_trap/src/lib.rs")
    );
    assert!(events.iter().all(|e| !e.message.is_empty()), "{events:#?}");
}

#[tokio::test]
async fn output_turned_off_is_not_logged_or_counted() {
    let output = PluginOutputConfig {
        level: OutputLevel::Off,
        ..PluginOutputConfig::default()
    };
    let (_dir, server) = start(
        "silenced",
        "hostile_output",
        "config = { mode = \"print\" }",
        output,
    )
    .await;
    let msg = round_trip(&server, "silenced", "quiet").await;
    assert_eq!(msg.payload, "quiet".as_bytes());
    assert!(guest_lines("silenced").is_empty());
    let s = stats(&server, "silenced", "hostile_output");
    assert_eq!(s.output_lines.load(Relaxed), 0);
    assert_eq!(s.traps.load(Relaxed), 0);
}
