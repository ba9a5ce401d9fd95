//! SDK for Switchyard plugins: WebAssembly components for the
//! `switchyard:plugin@0.2.0` worlds, written as per-message Rust.
//!
//! A plugin implements one trait and exports it with one macro:
//!
//! | world | trait | export |
//! |---|---|---|
//! | `transform` | [`Transform`] | [`export_transform!`] |
//! | `routing` | [`Route`] | [`export_routing!`] |
//! | `auth` | [`Authenticate`] | [`export_auth!`] |
//!
//! The host imports are wrapped in [`log`], [`config`], [`clock`] and
//! [`kv`]. The raw bindings are in [`bindings`] for anything the SDK does
//! not cover. See `docs/plugins.md` in the repository for the author guide.

pub mod bindings;

pub mod auth;
pub mod clock;
pub mod config;
pub mod headers;
pub mod kv;
pub mod log;
pub mod registration;
pub mod routing;
pub mod transform;

pub use auth::{Authenticate, ConnectRequest, Grant, Permissions, TlsPeer};
pub use headers::{Header, Headers};
pub use registration::Registration;
pub use routing::{Decision, Publisher, Route, RouteRequest};
pub use transform::{Action, Message, OutMessage, Transform};

/// Paths the export macros expand to; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub mod transform {
        pub use crate::bindings::transform::exports::switchyard::plugin::transformer::{
            Batch, Guest, Registration, Verdict,
        };
    }
    pub mod routing {
        pub use crate::bindings::routing::exports::switchyard::plugin::router::{
            Batch, Guest, Registration, RouteVerdict,
        };
    }
    pub mod auth {
        pub use crate::bindings::auth::exports::switchyard::plugin::authenticator::Guest;
    }
}
