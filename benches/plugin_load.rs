//! What a plugin costs before its first message, per language: component
//! size, first load with an empty cache (read, SHA-256, compile, write the
//! cache), cached load (read, SHA-256, deserialize: what a restart pays),
//! and cold instantiation (a new instance from the prepared component, as
//! the pool makes one). Same components as `plugin_languages.rs`; prints a
//! Markdown table (medians) for docs/benchmarks.md.
//!
//! `cargo bench --bench plugin_load`; env `COMPILE_REPS` (default 3) and
//! `REPS` (default 10) set the repetitions. Under `cargo test` (no
//! `--bench`) it loads the Rust no-op transform once, as a check that the
//! harness still works.

use std::path::PathBuf;
use std::time::{Duration, Instant};
use switchyard::config::tenant::{PluginEntry, PluginKind};
use switchyard::plugin::PluginRuntime;
use switchyard::plugin::load::{load_routing, load_transform};

#[path = "support/plugin_langs.rs"]
mod plugin_langs;
use plugin_langs::{LANGS, PLUGINS, entry};

fn reps(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(default)
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// A fresh, empty cache directory, removed on drop.
struct CacheDir(PathBuf);

impl CacheDir {
    fn new(n: usize) -> CacheDir {
        let dir =
            std::env::temp_dir().join(format!("switchyard-plugin-load-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        CacheDir(dir)
    }
}

impl Drop for CacheDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn time(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

/// Makes `reps` instances one at a time, each timed alone. They stay in
/// the pool until the plugin is dropped, so each is made from scratch.
fn instantiate(runtime: &PluginRuntime, entry: &PluginEntry, reps: usize) -> Vec<Duration> {
    let mut times = Vec::with_capacity(reps);
    if entry.kind == PluginKind::Routing {
        let plugin = load_routing(runtime, "bench", entry).expect("loads");
        for _ in 0..reps {
            times.push(time(|| plugin.pool.warm_up().expect("instantiates")));
        }
    } else {
        let plugin = load_transform(runtime, "bench", entry).expect("loads");
        for _ in 0..reps {
            times.push(time(|| plugin.pool.warm_up().expect("instantiates")));
        }
    }
    times
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let (compile_reps, reps) = if measuring {
        (reps("COMPILE_REPS", 3), reps("REPS", 10))
    } else {
        (1, 1)
    };
    if measuring {
        println!(
            "| language | plugin | size (KiB) | first load, empty cache (ms) | cached load (ms) | cold instantiation (ms) |"
        );
        println!("|---|---|---:|---:|---:|---:|");
    }
    let mut n = 0;
    for lang in &LANGS {
        for (name, kind, config) in PLUGINS {
            if !measuring && (lang.name != "rust" || name != "noop_transform") {
                continue;
            }
            let Some(path) = lang.component(name) else {
                continue;
            };
            let size = std::fs::metadata(&path).expect("stat").len();
            // Each first load gets its own empty cache; the last one's is
            // then the warm cache for the cached loads.
            let mut firsts = Vec::new();
            let mut last = None;
            for _ in 0..compile_reps {
                n += 1;
                let cache = CacheDir::new(n);
                let runtime = PluginRuntime::new(Some(cache.0.clone())).expect("runtime");
                firsts.push(time(|| {
                    runtime.load(&path).expect("compiles");
                }));
                last = Some(cache);
            }
            let cache = last.expect("at least one first load");
            let cached: Vec<Duration> = (0..reps)
                .map(|_| {
                    let runtime = PluginRuntime::new(Some(cache.0.clone())).expect("runtime");
                    time(|| {
                        runtime.load(&path).expect("loads from the cache");
                    })
                })
                .collect();
            let runtime = PluginRuntime::new(Some(cache.0.clone())).expect("runtime");
            let cold = instantiate(&runtime, &entry(path.clone(), kind, config), reps);
            if measuring {
                println!(
                    "| {} | {name} | {:.0} | {} | {} | {} |",
                    lang.name,
                    size as f64 / 1024.0,
                    ms(median(firsts)),
                    ms(median(cached)),
                    ms(median(cold)),
                );
            } else {
                eprintln!(
                    "plugin_load: harness checked; run `cargo bench --bench plugin_load` to measure"
                );
            }
        }
    }
}
