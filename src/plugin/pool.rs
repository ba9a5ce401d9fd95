//! Warm instances of one plugin for one tenant, and that plugin's health.
//!
//! An instance is a `Store` plus the guest's bindings, made from an
//! `InstancePre` in microseconds. Callers take one for a call (a transform
//! call covers a whole batch), and return it when the call succeeded; an
//! instance that trapped, timed out or hit its memory cap is dropped, since
//! its memory may be left in any state. The pool never holds another
//! tenant's instances: each (tenant, plugin) pair has its own.
//!
//! Failures back off exponentially before a new instance is made; a plugin
//! that fails `MAX_CONSECUTIVE_FAILURES` times in a row is disabled until
//! the next reload. While backing off or disabled, calls fail at once and
//! the caller applies the plugin's failure policy.

use super::error::CallError;
use super::host::HostState;
use super::stats::PluginStats;
use super::ticker::EpochTicker;
use parking_lot::Mutex;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use wasmtime::Store;

const MAX_IDLE: usize = 64;
const MAX_CONSECUTIVE_FAILURES: u32 = 8;
const FIRST_BACKOFF: Duration = Duration::from_millis(10);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

pub struct Instance<B> {
    pub store: Store<HostState>,
    pub bindings: B,
}

type Factory<B> = Box<dyn Fn() -> wasmtime::Result<Instance<B>> + Send + Sync>;

pub struct PluginPool<B> {
    /// For logs: `tenant/plugin`.
    label: String,
    factory: Factory<B>,
    idle: Mutex<Vec<Instance<B>>>,
    /// CPU time one call may use (see `budget`).
    timeout: Duration,
    consecutive_failures: AtomicU32,
    /// Nanoseconds since `epoch` before which no new call is tried.
    retry_at_ns: AtomicU64,
    epoch: Instant,
    ticker: Arc<EpochTicker>,
    pub stats: Arc<PluginStats>,
}

impl<B> PluginPool<B> {
    pub fn new(
        label: String,
        timeout: Duration,
        ticker: Arc<EpochTicker>,
        stats: Arc<PluginStats>,
        factory: Factory<B>,
    ) -> PluginPool<B> {
        PluginPool {
            label,
            factory,
            idle: Mutex::new(Vec::new()),
            timeout,
            consecutive_failures: AtomicU32::new(0),
            retry_at_ns: AtomicU64::new(0),
            epoch: Instant::now(),
            ticker,
            stats,
        }
    }

    /// Makes one instance now, so a plugin that cannot instantiate is
    /// refused at load time instead of failing every message.
    pub fn warm_up(&self) -> wasmtime::Result<()> {
        let _running = self.ticker.enter();
        let mut instance = (self.factory)()?;
        instance.store.data_mut().finish_output();
        self.idle.lock().push(instance);
        Ok(())
    }

    /// Runs `f` on an instance under the call's CPU-time budget (the
    /// epoch deadline, extended by `budget` while the thread has not spent
    /// it). `messages` is what the call covers, for the statistics.
    pub fn call<R>(
        &self,
        messages: u64,
        f: impl FnOnce(&B, &mut Store<HostState>) -> wasmtime::Result<R>,
    ) -> Result<R, CallError> {
        self.call_within(messages, self.timeout, f)
    }

    /// `call` with a CPU-time budget of `timeout` instead of the plugin's.
    pub fn call_within<R>(
        &self,
        messages: u64,
        timeout: Duration,
        f: impl FnOnce(&B, &mut Store<HostState>) -> wasmtime::Result<R>,
    ) -> Result<R, CallError> {
        self.ready()?;
        // Instantiation runs guest start-up code too: both are covered.
        let _running = self.ticker.enter();
        let mut instance = match self.idle.lock().pop() {
            Some(instance) => instance,
            None => (self.factory)().map_err(|e| {
                tracing::warn!(plugin = %self.label, "cannot instantiate: {e:#}");
                self.failed(CallError::Trap)
            })?,
        };
        let start = Instant::now();
        let ticks = instance.store.data_mut().budget.begin(timeout, start);
        instance.store.set_epoch_deadline(ticks);
        let result = f(&instance.bindings, &mut instance.store);
        self.stats.record_call(messages, start.elapsed());
        instance.store.data_mut().finish_output();
        match result {
            Ok(value) => {
                if self.consecutive_failures.load(Ordering::Relaxed) != 0 {
                    self.consecutive_failures.store(0, Ordering::Relaxed);
                }
                let mut idle = self.idle.lock();
                if idle.len() < MAX_IDLE {
                    idle.push(instance);
                }
                Ok(value)
            }
            Err(e) => {
                let kind = classify(&e, instance.store.data().memory.exceeded);
                tracing::warn!(plugin = %self.label, "call failed ({kind}): {e:#}");
                Err(self.failed(kind))
            }
        }
    }

    /// Counts a result that broke the interface's rules; the instance is
    /// kept (its state is sound, its answer was not).
    pub fn bad_output(&self, why: &str) -> CallError {
        tracing::warn!(plugin = %self.label, "invalid result: {why}");
        self.failed(CallError::BadOutput)
    }

    fn ready(&self) -> Result<(), CallError> {
        if self.stats.disabled.load(Ordering::Relaxed) {
            return Err(CallError::Disabled);
        }
        let retry_at = self.retry_at_ns.load(Ordering::Relaxed);
        if retry_at != 0 && (self.epoch.elapsed().as_nanos() as u64) < retry_at {
            return Err(CallError::BackingOff);
        }
        Ok(())
    }

    fn failed(&self, kind: CallError) -> CallError {
        let counter = match kind {
            CallError::Timeout => &self.stats.timeouts,
            CallError::MemoryExhausted => &self.stats.memory_exhausted,
            CallError::Trap => &self.stats.traps,
            _ => &self.stats.errors,
        };
        PluginStats::add(counter, 1);
        let failures = self.consecutive_failures.fetch_add(1, Ordering::Relaxed) + 1;
        if failures >= MAX_CONSECUTIVE_FAILURES {
            if !self.stats.disabled.swap(true, Ordering::Relaxed) {
                tracing::error!(
                    plugin = %self.label,
                    failures,
                    "plugin disabled after repeated failures; its failure policy applies until the next reload"
                );
            }
            self.idle.lock().clear();
        } else {
            let backoff = FIRST_BACKOFF
                .saturating_mul(1 << (failures - 1).min(16))
                .min(MAX_BACKOFF);
            let at = self.epoch.elapsed() + backoff;
            self.retry_at_ns
                .store(at.as_nanos() as u64, Ordering::Relaxed);
        }
        kind
    }
}

fn classify(error: &wasmtime::Error, memory_exceeded: bool) -> CallError {
    if memory_exceeded {
        return CallError::MemoryExhausted;
    }
    match error.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::Interrupt) => CallError::Timeout,
        _ => CallError::Trap,
    }
}
