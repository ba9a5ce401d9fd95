//! The state each plugin instance's `Store` carries, and the host imports
//! (`host`, `kv`, `message-payload`) implemented on it.
//!
//! Everything a guest can reach is here: its own configuration, its
//! tenant's key-value store, a clock, a log, and (for routing) the payloads
//! of the batch being decided; and the harmless WASI subset in `wasi`.

use super::bindings::routing::switchyard::plugin::message_payload;
use super::bindings::transform::switchyard::plugin::{host, kv, types};
use super::budget::CpuBudget;
use super::guest_output::{GuestStdio, OutputSink};
use super::kv::TenantKv;
use super::routing::BatchPayloads;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Longest log line kept from a guest; the rest is cut, so a plugin cannot
/// flood the broker's log with one call.
const MAX_LOG_LINE: usize = 1024;

/// Who a plugin instance is: fixed for its lifetime.
pub struct PluginContext {
    /// The tenant it serves (`""` for auth plugins, which serve the server).
    pub tenant: String,
    pub plugin: String,
    pub config: BTreeMap<String, String>,
    /// `None` for auth plugins, whose world has no `kv` import.
    pub kv: Option<Arc<TenantKv>>,
    /// Where its stdout and stderr go (shared by its instances).
    pub output: OutputSink,
}

pub struct HostState {
    pub memory: MemoryCap,
    pub ctx: Arc<PluginContext>,
    /// The payloads of the batch a routing policy is deciding, moved in
    /// for the call only, and only for plugins that registered
    /// `wants-payload`.
    pub payloads: BatchPayloads,
    /// The running call's CPU-time budget, read by the epoch callback.
    pub budget: CpuBudget,
    /// Unfinished lines of its stdout and stderr.
    pub stdio: GuestStdio,
}

impl HostState {
    pub fn new(ctx: Arc<PluginContext>, max_memory: usize) -> HostState {
        HostState {
            memory: MemoryCap {
                max: max_memory,
                exceeded: false,
            },
            ctx,
            payloads: BatchPayloads::default(),
            budget: CpuBudget::default(),
            stdio: GuestStdio::default(),
        }
    }

    /// Logs what the guest left unfinished on stdout and stderr: at the
    /// end of every call, so its last words come before the call's outcome.
    #[inline]
    pub fn finish_output(&mut self) {
        self.stdio.finish(&self.ctx.output);
    }
}

/// Caps an instance's linear memory and remembers that the cap was hit, so
/// the trap that follows (a guest's allocator aborts) is reported as memory
/// exhaustion rather than as a plain trap.
pub struct MemoryCap {
    pub max: usize,
    pub exceeded: bool,
}

impl wasmtime::ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max {
            self.exceeded = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

impl types::Host for HostState {}

impl host::Host for HostState {
    fn log(&mut self, level: types::Level, message: String) {
        let mut end = message.len().min(MAX_LOG_LINE);
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        let text = &message[..end];
        let (tenant, plugin) = (self.ctx.tenant.as_str(), self.ctx.plugin.as_str());
        match level {
            types::Level::Trace => tracing::trace!(tenant, plugin, "{text}"),
            types::Level::Debug => tracing::debug!(tenant, plugin, "{text}"),
            types::Level::Info => tracing::info!(tenant, plugin, "{text}"),
            types::Level::Warn => tracing::warn!(tenant, plugin, "{text}"),
            types::Level::Error => tracing::error!(tenant, plugin, "{text}"),
        }
    }

    fn config_get(&mut self, key: String) -> Option<String> {
        self.ctx.config.get(&key).cloned()
    }

    fn config_entries(&mut self) -> Vec<(String, String)> {
        self.ctx
            .config
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    fn now_ms(&mut self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }

    fn monotonic_ns(&mut self) -> u64 {
        static START: OnceLock<Instant> = OnceLock::new();
        START.get_or_init(Instant::now).elapsed().as_nanos() as u64
    }
}

impl kv::Host for HostState {
    fn get(&mut self, key: String) -> Option<Vec<u8>> {
        self.ctx.kv.as_ref()?.get(&key)
    }

    fn set(&mut self, key: String, value: Vec<u8>, ttl_ms: Option<u64>) -> Result<(), String> {
        let store = self.ctx.kv.as_ref().ok_or("no key-value store")?;
        store
            .set(key, value, ttl_ms.map(Duration::from_millis))
            .map_err(|e| e.to_string())
    }

    fn delete(&mut self, key: String) {
        if let Some(store) = &self.ctx.kv {
            store.delete(&key);
        }
    }

    fn increment(&mut self, key: String, delta: i64, ttl_ms: Option<u64>) -> Result<i64, String> {
        let store = self.ctx.kv.as_ref().ok_or("no key-value store")?;
        store
            .increment(key, delta, ttl_ms.map(Duration::from_millis))
            .map_err(|e| e.to_string())
    }
}

impl message_payload::Host for HostState {
    fn payload(&mut self, index: u32) -> Vec<u8> {
        self.payloads.get(index).to_vec()
    }
}
