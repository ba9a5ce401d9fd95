//! Rust types and linker glue generated from `wit/` by wasmtime's
//! `bindgen!`, one module per world. The routing and auth worlds reuse the
//! transform world's `types`, `host` and `kv` modules, so the host imports
//! are implemented once for every world.

pub mod transform {
    wasmtime::component::bindgen!({
        path: "wit",
        world: "transform",
        ownership: Borrowing { duplicate_if_necessary: true },
    });
}

pub mod routing {
    wasmtime::component::bindgen!({
        path: "wit",
        world: "routing",
        ownership: Borrowing { duplicate_if_necessary: true },
        with: {
            "switchyard:plugin/types": crate::plugin::bindings::transform::switchyard::plugin::types,
            "switchyard:plugin/host": crate::plugin::bindings::transform::switchyard::plugin::host,
            "switchyard:plugin/kv": crate::plugin::bindings::transform::switchyard::plugin::kv,
        },
    });
}

pub mod auth {
    wasmtime::component::bindgen!({
        path: "wit",
        world: "auth",
        ownership: Borrowing { duplicate_if_necessary: true },
        with: {
            "switchyard:plugin/types": crate::plugin::bindings::transform::switchyard::plugin::types,
            "switchyard:plugin/host": crate::plugin::bindings::transform::switchyard::plugin::host,
        },
    });
}
