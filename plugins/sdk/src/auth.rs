//! The auth world: decide once, on CONNECT, who a client is.
//!
//! The returned [`Grant`] binds the client to a tenant with permissions the
//! broker then enforces natively; no plugin runs on that client's messages
//! for authentication. Auth plugins import `host` only: the `kv` helpers
//! are not available to them (the broker would refuse to load a plugin that
//! uses them).

use crate::bindings::auth::exports::switchyard::plugin::authenticator as wit;

pub use wit::{ConnectRequest, Grant, Permissions, TlsPeer};

/// An authentication plugin. Implement it on a unit struct and export it
/// with [`export_auth!`](crate::export_auth).
pub trait Authenticate {
    /// Allow with a grant, or deny with a reason. The reason is logged by
    /// the broker; the client only ever sees 'Authorization Violation'.
    fn authenticate(req: &ConnectRequest) -> Result<Grant, String>;
}

impl Permissions {
    /// Every subject: an empty allow list allows all.
    pub fn all() -> Self {
        Permissions {
            allow: Vec::new(),
            deny: Vec::new(),
        }
    }

    /// Only these subjects (NATS wildcards apply).
    pub fn only<I, S>(subjects: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Permissions {
            allow: subjects.into_iter().map(Into::into).collect(),
            deny: Vec::new(),
        }
    }
}

/// The same as [`Permissions::all`].
impl Default for Permissions {
    fn default() -> Self {
        Permissions::all()
    }
}

impl Grant {
    /// Binds `user` to `tenant` with every subject allowed and no expiry.
    pub fn new(tenant: impl Into<String>, user: impl Into<String>) -> Self {
        Grant {
            tenant: tenant.into(),
            user: user.into(),
            publish: Permissions::all(),
            subscribe: Permissions::all(),
            expires_at_ms: None,
        }
    }
}

/// Exports an [`Authenticate`] implementation as the plugin's
/// `authenticator`.
///
/// ```text
/// struct Keys;
/// impl switchyard_plugin::Authenticate for Keys { /* ... */ }
/// switchyard_plugin::export_auth!(Keys);
/// ```
#[macro_export]
macro_rules! export_auth {
    ($plugin:ty) => {
        const _: () = {
            struct __SwitchyardAuth;

            impl $crate::__private::auth::Guest for __SwitchyardAuth {
                fn authenticate(
                    request: $crate::ConnectRequest,
                ) -> ::std::result::Result<$crate::Grant, ::std::string::String> {
                    <$plugin as $crate::Authenticate>::authenticate(&request)
                }
            }

            $crate::bindings::auth::__export_auth_world!(
                __SwitchyardAuth with_types_in $crate::bindings::auth
            );
        };
    };
}
