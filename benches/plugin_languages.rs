//! What a plugin costs per message in each language, in process: the same
//! no-op transform, no-op routing policy and `redact_json` written in Rust,
//! Python, JavaScript and C (`benches/support/plugin_langs.rs`), called as
//! the broker calls them, with batches of 1 and 64 messages (the broker
//! batches what one read from a publisher brings). `native` is the cost of
//! filling the batch alone, which every other row includes.
//!
//! Needs the components built: `./scripts/build-plugins.sh` (every
//! language); a language whose component is missing is skipped, said on
//! stderr. Compile and load costs are `benches/plugin_load.rs`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::PathBuf;
use switchyard::config::tenant::PluginKind;
use switchyard::plugin::load::{load_routing, load_transform};
use switchyard::plugin::registration::Registered;
use switchyard::plugin::transform::OutMessage;
use switchyard::plugin::{PluginRuntime, PublisherInfo, RouteBatch, TransformBatch};

#[path = "support/plugin_langs.rs"]
mod plugin_langs;
use plugin_langs::{LANGS, PLUGINS, entry};

const MAX_PAYLOAD: usize = 1 << 20;
const PER_CALL: [usize; 2] = [1, 64];

/// A JSON object of about 1 KiB with one field to redact.
fn payload() -> Vec<u8> {
    let mut p = br#"{"user":"ann","password":"hunter2","note":""#.to_vec();
    p.extend(std::iter::repeat_n(b'x', 1024 - p.len() - 2));
    p.extend_from_slice(br#""}"#);
    p
}

fn message(body: &[u8]) -> OutMessage<'_> {
    OutMessage {
        subject: b"orders.new",
        reply: None,
        headers: None,
        payload: body,
    }
}

fn languages(c: &mut Criterion) {
    // The broker's own cache directory for the tests: an interpreter's
    // component compiles once, not on every bench run.
    let cache = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/plugin-cache");
    let runtime = PluginRuntime::new(Some(cache)).expect("runtime");
    let body = payload();
    let publisher = PublisherInfo {
        user: "bench",
        client_id: 1,
        client_name: None,
    };
    for (name, kind, config) in PLUGINS {
        let mut group = c.benchmark_group(format!("lang/{name}"));
        for per_call in PER_CALL {
            group.throughput(Throughput::Elements(per_call as u64));
            // Filling the batch alone, as for a plugin that wants the payload.
            let registered = Registered {
                subjects: vec![">".into()],
                wants_headers: false,
                wants_payload: true,
            };
            let mut batch = TransformBatch::default();
            group.bench_function(BenchmarkId::new("native", per_call), |b| {
                b.iter(|| {
                    batch.clear();
                    for _ in 0..per_call {
                        batch.push(&registered, b"orders.new", None, None, &body);
                    }
                    black_box(batch.len())
                })
            });
            for lang in &LANGS {
                let Some(path) = lang.component(name) else {
                    continue;
                };
                let entry = entry(path, kind, config);
                let id = BenchmarkId::new(lang.name, per_call);
                if kind == PluginKind::Routing {
                    let plugin = load_routing(&runtime, "bench", &entry).expect("loads");
                    let mut batch = RouteBatch::default();
                    group.bench_function(id, |b| {
                        b.iter(|| {
                            batch.clear();
                            for _ in 0..per_call {
                                batch.push(&plugin.registered, message(&body));
                            }
                            black_box(plugin.run(&mut batch, &publisher).expect("route call"))
                        })
                    });
                } else {
                    let plugin = load_transform(&runtime, "bench", &entry).expect("loads");
                    let mut batch = TransformBatch::default();
                    group.bench_function(id, |b| {
                        b.iter(|| {
                            batch.clear();
                            for _ in 0..per_call {
                                batch.push(&plugin.registered, b"orders.new", None, None, &body);
                            }
                            black_box(plugin.run(&batch, MAX_PAYLOAD).expect("transform call"))
                        })
                    });
                }
            }
        }
        group.finish();
    }
}

criterion_group!(benches, languages);
criterion_main!(benches);
