//! A guest's stdout and stderr, as WASI 0.2 streams implemented
//! synchronously: `wasi:cli/stdout` and `stderr` hand out output streams
//! whose bytes go to `guest_output` (the broker's log), the streams are
//! always ready (`check-write`, `subscribe`, `wasi:io/poll`), and the
//! terminal interfaces say "not a terminal". Input streams, files and
//! sockets stay traps (`wasi`).
//!
//! The resource types (`output-stream`, `pollable`, `error`, the terminal
//! ones) are defined in every imported instance that names them, since a
//! component imports one resource under several interfaces (`stdout`
//! re-exports `streams`' `output-stream`) and wasmtime requires each such
//! definition to be the same type.

use super::guest_output::Stream;
use super::host::HostState;
use wasmtime::StoreContextMut;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{
    Component, ComponentType, Linker, LinkerInstance, Lower, Resource, ResourceType, WasmList,
};

/// The host side of `wasi:io/streams.output-stream`; its `rep` is the
/// stream (`STDOUT` or `STDERR`).
struct OutputStream;
/// `wasi:io/poll.pollable`: only output streams make them, always ready.
struct Pollable;
/// `wasi:io/error.error`: never made (writes do not fail).
struct IoError;
/// `wasi:cli/terminal-output.terminal-output` and `terminal-input`: never
/// made (the streams are not terminals).
struct Terminal;

const STDOUT: u32 = 1;
const STDERR: u32 = 2;

/// How much `check-write` lets a guest write at once: the bytes are cut
/// into capped lines as they arrive, so this bounds nothing but the
/// number of calls.
const WRITE_PERMIT: u64 = 64 * 1024;

/// `wasi:io/streams.stream-error`.
#[derive(ComponentType, Lower)]
#[component(variant)]
enum StreamError {
    #[component(name = "last-operation-failed")]
    #[allow(dead_code)] // Part of the type; writes never fail.
    LastOperationFailed(Resource<IoError>),
    #[component(name = "closed")]
    Closed,
}

type WriteResult = Result<(), StreamError>;

/// The resources this module implements: the interface that defines each,
/// its name there, and its host type.
fn owned_resources() -> [(&'static str, &'static str, ResourceType); 5] {
    [
        (
            "wasi:io/streams",
            "output-stream",
            ResourceType::host::<OutputStream>(),
        ),
        ("wasi:io/poll", "pollable", ResourceType::host::<Pollable>()),
        ("wasi:io/error", "error", ResourceType::host::<IoError>()),
        (
            "wasi:cli/terminal-output",
            "terminal-output",
            ResourceType::host::<Terminal>(),
        ),
        (
            "wasi:cli/terminal-input",
            "terminal-input",
            ResourceType::host::<Terminal>(),
        ),
    ]
}

pub fn add_to_linker(
    linker: &mut Linker<HostState>,
    component: &Component,
) -> wasmtime::Result<()> {
    let engine = linker.engine().clone();
    let ty = component.component_type();
    // The component's type of each resource implemented here, and ours.
    let mut resources: Vec<(ResourceType, ResourceType)> = Vec::new();
    for (name, import) in ty.imports(&engine) {
        let ComponentItem::ComponentInstance(instance) = import.ty else {
            continue;
        };
        let Some(interface) = wasi_0_2(name) else {
            continue;
        };
        for (owner, resource, host) in owned_resources() {
            if interface != owner {
                continue;
            }
            if let Some(ComponentItem::Resource(theirs)) =
                instance.get_export(&engine, resource).map(|e| e.ty)
            {
                resources.push((theirs, host));
            }
        }
    }
    for (name, import) in ty.imports(&engine) {
        let ComponentItem::ComponentInstance(instance) = import.ty else {
            continue;
        };
        let Some(interface) = wasi_0_2(name) else {
            continue;
        };
        let mut i = linker.instance(name)?;
        for (export, item) in instance.exports(&engine) {
            if let ComponentItem::Resource(theirs) = item.ty
                && let Some((_, host)) = resources.iter().find(|(t, _)| *t == theirs)
            {
                i.resource(export, *host, |_, _| Ok(()))?;
            }
        }
        match interface {
            "wasi:cli/stdout" => {
                i.func_wrap("get-stdout", |_, (): ()| {
                    Ok((Resource::<OutputStream>::new_own(STDOUT),))
                })?;
            }
            "wasi:cli/stderr" => {
                i.func_wrap("get-stderr", |_, (): ()| {
                    Ok((Resource::<OutputStream>::new_own(STDERR),))
                })?;
            }
            "wasi:cli/terminal-stdout" => {
                i.func_wrap("get-terminal-stdout", |_, (): ()| {
                    Ok((None::<Resource<Terminal>>,))
                })?;
            }
            "wasi:cli/terminal-stderr" => {
                i.func_wrap("get-terminal-stderr", |_, (): ()| {
                    Ok((None::<Resource<Terminal>>,))
                })?;
            }
            "wasi:cli/terminal-stdin" => {
                i.func_wrap("get-terminal-stdin", |_, (): ()| {
                    Ok((None::<Resource<Terminal>>,))
                })?;
            }
            "wasi:io/streams" => link_output_stream(&mut i)?,
            "wasi:io/poll" => link_poll(&mut i)?,
            "wasi:io/error" => {
                i.func_wrap(
                    "[method]error.to-debug-string",
                    |_, (_,): (Resource<IoError>,)| Ok((String::new(),)),
                )?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// The interface of a WASI 0.2 import (`wasi:cli/stdout@0.2.6` gives
/// `wasi:cli/stdout`); other versions keep their trapping stubs, since
/// the types here are 0.2's.
fn wasi_0_2(name: &str) -> Option<&str> {
    let (interface, version) = name.split_once('@')?;
    version.starts_with("0.2.").then_some(interface)
}

fn link_output_stream(i: &mut LinkerInstance<'_, HostState>) -> wasmtime::Result<()> {
    type Own = Resource<OutputStream>;
    i.func_wrap("[method]output-stream.check-write", |_, (_,): (Own,)| {
        Ok((Ok::<u64, StreamError>(WRITE_PERMIT),))
    })?;
    for name in [
        "[method]output-stream.write",
        "[method]output-stream.blocking-write-and-flush",
    ] {
        i.func_wrap(name, |store, (stream, bytes): (Own, WasmList<u8>)| {
            Ok((write(store, &stream, &bytes),))
        })?;
    }
    for name in [
        "[method]output-stream.write-zeroes",
        "[method]output-stream.blocking-write-zeroes-and-flush",
    ] {
        i.func_wrap(name, |mut store, (stream, len): (Own, u64)| {
            let Some(stream) = stream_of(&stream) else {
                return Ok((Err(StreamError::Closed),));
            };
            let state = store.data_mut();
            state.stdio.write_zeroes(&state.ctx.output, stream, len);
            Ok((WriteResult::Ok(()),))
        })?;
    }
    for name in [
        "[method]output-stream.flush",
        "[method]output-stream.blocking-flush",
    ] {
        i.func_wrap(name, |_, (_,): (Own,)| Ok((WriteResult::Ok(()),)))?;
    }
    i.func_wrap("[method]output-stream.subscribe", |_, (_,): (Own,)| {
        Ok((Resource::<Pollable>::new_own(0),))
    })?;
    Ok(())
}

fn link_poll(i: &mut LinkerInstance<'_, HostState>) -> wasmtime::Result<()> {
    i.func_wrap(
        "[method]pollable.ready",
        |_, (_,): (Resource<Pollable>,)| Ok((true,)),
    )?;
    i.func_wrap(
        "[method]pollable.block",
        |_, (_,): (Resource<Pollable>,)| Ok(()),
    )?;
    // Every pollable a guest can hold is ready.
    i.func_wrap(
        "poll",
        |_, (pollables,): (WasmList<Resource<Pollable>>,)| {
            Ok(((0..pollables.len() as u32).collect::<Vec<u32>>(),))
        },
    )?;
    Ok(())
}

fn stream_of(stream: &Resource<OutputStream>) -> Option<Stream> {
    match stream.rep() {
        STDOUT => Some(Stream::Stdout),
        STDERR => Some(Stream::Stderr),
        _ => None,
    }
}

/// Hands `bytes` to the instance's line buffers, read in place from the
/// guest's memory (a write of any size is never copied whole).
fn write(
    mut store: StoreContextMut<'_, HostState>,
    stream: &Resource<OutputStream>,
    bytes: &WasmList<u8>,
) -> WriteResult {
    let Some(stream) = stream_of(stream) else {
        return Err(StreamError::Closed);
    };
    if store.data().ctx.output.is_off() {
        return Ok(());
    }
    let mut stdio = std::mem::take(&mut store.data_mut().stdio);
    stdio.write(&store.data().ctx.output, stream, bytes.as_le_slice(&store));
    store.data_mut().stdio = stdio;
    Ok(())
}
