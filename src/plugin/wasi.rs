//! The few WASI functions a guest's standard library calls on its own
//! (random seeds for hash maps, clocks, an empty environment), implemented
//! here synchronously, with stdout and stderr in `stdio`. Every other WASI
//! import (stdin, files, sockets, exit) is linked as a function that traps:
//! a plugin has no ambient authority.
//!
//! wasmtime-wasi is not used because its synchronous bindings block on the
//! ambient tokio runtime for stream operations, which panics on the
//! broker's executor threads where plugin calls run.

use super::host::HostState;
use std::time::{SystemTime, UNIX_EPOCH};
use wasmtime::component::{Component, ComponentType, Linker, Lower};

/// `wasi:clocks/wall-clock.datetime`.
#[derive(ComponentType, Lower, Clone, Copy)]
#[component(record)]
struct Datetime {
    seconds: u64,
    nanoseconds: u32,
}

/// Largest random buffer a guest may ask for in one call.
const MAX_RANDOM_BYTES: u64 = 1 << 16;

pub fn add_to_linker(
    linker: &mut Linker<HostState>,
    component: &Component,
) -> wasmtime::Result<()> {
    // Defined under the exact names (versions) the component imports, so
    // the trapping stubs below never shadow them.
    let engine = linker.engine().clone();
    let imports: Vec<String> = component
        .component_type()
        .imports(&engine)
        .map(|(name, _)| name.to_string())
        .collect();
    for name in &imports {
        let interface = name.split('@').next().unwrap_or(name);
        let mut i = linker.instance(name)?;
        match interface {
            "wasi:random/insecure-seed" => {
                i.func_wrap("insecure-seed", |_, (): ()| {
                    Ok(((fastrand::u64(..), fastrand::u64(..)),))
                })?;
            }
            "wasi:random/insecure" => {
                i.func_wrap("get-insecure-random-bytes", |_, (len,): (u64,)| {
                    Ok((random_bytes(len),))
                })?;
                i.func_wrap("get-insecure-random-u64", |_, (): ()| {
                    Ok((fastrand::u64(..),))
                })?;
            }
            "wasi:random/random" => {
                i.func_wrap("get-random-bytes", |_, (len,): (u64,)| {
                    let mut bytes = vec![0u8; len.min(MAX_RANDOM_BYTES) as usize];
                    getrandom::fill(&mut bytes).map_err(|e| wasmtime::Error::msg(e.to_string()))?;
                    Ok((bytes,))
                })?;
                i.func_wrap("get-random-u64", |_, (): ()| {
                    let mut bytes = [0u8; 8];
                    getrandom::fill(&mut bytes).map_err(|e| wasmtime::Error::msg(e.to_string()))?;
                    Ok((u64::from_le_bytes(bytes),))
                })?;
            }
            "wasi:clocks/wall-clock" => {
                i.func_wrap("now", |_, (): ()| {
                    let d = SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .unwrap_or_default();
                    Ok((Datetime {
                        seconds: d.as_secs(),
                        nanoseconds: d.subsec_nanos(),
                    },))
                })?;
                i.func_wrap("resolution", |_, (): ()| {
                    Ok((Datetime {
                        seconds: 0,
                        nanoseconds: 1,
                    },))
                })?;
            }
            "wasi:clocks/monotonic-clock" => {
                i.func_wrap("now", |_, (): ()| Ok((monotonic_ns(),)))?;
                i.func_wrap("resolution", |_, (): ()| Ok((1u64,)))?;
            }
            "wasi:cli/environment" => {
                i.func_wrap("get-environment", |_, (): ()| {
                    Ok((Vec::<(String, String)>::new(),))
                })?;
                i.func_wrap("get-arguments", |_, (): ()| Ok((Vec::<String>::new(),)))?;
                i.func_wrap("initial-cwd", |_, (): ()| Ok((None::<String>,)))?;
            }
            _ => {}
        }
    }
    super::stdio::add_to_linker(linker, component)?;
    linker.define_unknown_imports_as_traps(component)
}

fn random_bytes(len: u64) -> Vec<u8> {
    let len = len.min(MAX_RANDOM_BYTES) as usize;
    std::iter::repeat_with(|| fastrand::u8(..))
        .take(len)
        .collect()
}

fn monotonic_ns() -> u64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_nanos() as u64
}
