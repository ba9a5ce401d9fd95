//! Raw bindings for the three worlds of `switchyard:plugin@0.2.0`, generated
//! from the repository's `wit/` directory.
//!
//! Each world gets its own module because the worlds export different
//! interfaces. `pub_export_macro` makes wit-bindgen emit the export section
//! only where a plugin invokes the export macro, so a transform plugin linked
//! against this crate does not claim to export a router or an authenticator.
//! Plugin authors use the `export_*!` macros of this crate instead.
//!
//! The `host` and `kv` imports are the same interfaces in every world; the
//! helper modules (`log`, `config`, `clock`, `kv`) call them through the
//! `transform` module's copy, which links to the same wasm imports.

pub mod transform {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "transform",
        pub_export_macro: true,
        export_macro_name: "__export_transform_world",
        default_bindings_module: "switchyard_plugin::bindings::transform",
    });
}

pub mod routing {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "routing",
        pub_export_macro: true,
        export_macro_name: "__export_routing_world",
        default_bindings_module: "switchyard_plugin::bindings::routing",
    });
}

pub mod auth {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "auth",
        pub_export_macro: true,
        export_macro_name: "__export_auth_world",
        default_bindings_module: "switchyard_plugin::bindings::auth",
    });
}
