//! What a plugin costs per message, in process: a native baseline against
//! the no-op wasm transform and the JSON redaction transform, at 16 B, 1 KiB
//! and 64 KiB, one message per call and 64 per call (the broker batches
//! what one read from a publisher brings); and the no-op routing policy, one
//! message and 64 and 256 per call.
//!
//! Needs the plugins built: `./scripts/build-plugins.sh` (the test command
//! runs it).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::PathBuf;
use switchyard::config::tenant::{PluginEntry, PluginKind};
use switchyard::plugin::load::{load_routing, load_transform};
use switchyard::plugin::transform::OutMessage;
use switchyard::plugin::{
    PluginRuntime, PublisherInfo, RouteBatch, TransformBatch, TransformPlugin,
};

const MAX_PAYLOAD: usize = 1 << 20;

fn component(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("plugins/target/wasm32-wasip2/release")
        .join(format!("{name}.wasm"));
    assert!(
        path.is_file(),
        "{} is missing: run ./scripts/build-plugins.sh first",
        path.display()
    );
    path
}

fn entry(name: &str, kind: PluginKind, config: &[(&str, &str)]) -> PluginEntry {
    PluginEntry {
        kind,
        path: component(name),
        config: config
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        // Measuring, not policing: a 64 KiB batch of 64 messages must not
        // hit the default 10 ms deadline in an unoptimised build.
        timeout: Some(std::time::Duration::from_secs(5)),
        ..PluginEntry::default()
    }
}

/// A JSON object of about `size` bytes with one field to redact.
fn payload(size: usize) -> Vec<u8> {
    let head = br#"{"user":"ann","password":"hunter2","note":""#;
    let tail = br#""}"#;
    let fill = size.saturating_sub(head.len() + tail.len());
    let mut p = head.to_vec();
    p.extend(std::iter::repeat_n(b'x', fill));
    p.extend_from_slice(tail);
    p
}

/// The native equivalent of the redaction plugin.
fn native_redact(payload: &[u8]) -> Option<Vec<u8>> {
    let mut value: serde_json::Value = serde_json::from_slice(payload).ok()?;
    let field = value.get_mut("password")?;
    *field = serde_json::Value::String("[REDACTED]".into());
    serde_json::to_vec(&value).ok()
}

fn fill(batch: &mut TransformBatch, plugin: &TransformPlugin, payload: &[u8], n: usize) {
    batch.clear();
    for _ in 0..n {
        batch.push(&plugin.registered, b"orders.new", None, None, payload);
    }
}

fn transforms(c: &mut Criterion) {
    let cache = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/plugin-cache");
    let runtime = PluginRuntime::new(Some(cache)).expect("runtime");
    let noop = load_transform(
        &runtime,
        "bench",
        &entry("noop_transform", PluginKind::Transform, &[]),
    )
    .expect("noop_transform loads");
    let redact = load_transform(
        &runtime,
        "bench",
        &entry(
            "redact_json",
            PluginKind::Transform,
            &[("fields", "password")],
        ),
    )
    .expect("redact_json loads");

    for size in [16usize, 1024, 65536] {
        let body = payload(size);
        let mut group = c.benchmark_group(format!("transform/{size}B"));
        for per_call in [1usize, 64] {
            group.throughput(Throughput::Elements(per_call as u64));
            let mut batch = TransformBatch::default();
            group.bench_function(BenchmarkId::new("native_baseline", per_call), |b| {
                b.iter(|| {
                    fill(&mut batch, &noop, &body, per_call);
                    black_box(batch.len())
                })
            });
            group.bench_function(BenchmarkId::new("wasm_noop", per_call), |b| {
                b.iter(|| {
                    fill(&mut batch, &noop, &body, per_call);
                    black_box(noop.run(&batch, MAX_PAYLOAD).expect("noop call"))
                })
            });
            group.bench_function(BenchmarkId::new("native_redact", per_call), |b| {
                b.iter(|| {
                    fill(&mut batch, &redact, &body, per_call);
                    for i in 0..batch.len() {
                        black_box(native_redact(batch.original(i).payload));
                    }
                })
            });
            group.bench_function(BenchmarkId::new("wasm_redact", per_call), |b| {
                b.iter(|| {
                    fill(&mut batch, &redact, &body, per_call);
                    black_box(redact.run(&batch, MAX_PAYLOAD).expect("redact call"))
                })
            });
        }
        group.finish();
    }
}

fn routing(c: &mut Criterion) {
    let runtime = PluginRuntime::new(None).expect("runtime");
    let router = load_routing(
        &runtime,
        "bench",
        &entry("noop_router", PluginKind::Routing, &[]),
    )
    .expect("noop_router loads");
    let publisher = PublisherInfo {
        user: "bench",
        client_id: 1,
        client_name: None,
    };
    let mut group = c.benchmark_group("routing/16B");
    let mut batch = RouteBatch::default();
    let body = [b'x'; 16];
    for per_call in [1usize, 64, 256] {
        group.throughput(Throughput::Elements(per_call as u64));
        group.bench_function(BenchmarkId::new("wasm_noop_router", per_call), |b| {
            b.iter(|| {
                batch.clear();
                for _ in 0..per_call {
                    batch.push(
                        &router.registered,
                        OutMessage {
                            subject: b"orders.new",
                            reply: None,
                            headers: None,
                            payload: &body,
                        },
                    );
                }
                black_box(router.run(&mut batch, &publisher).expect("route"))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, transforms, routing);
criterion_main!(benches);
