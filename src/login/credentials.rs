//! Checking a CONNECT's credentials: tenant users, JWTs and certificates
//! first, auth plugins for a client those do not know. Slow by design
//! (bcrypt, ed25519, plugin calls), so a check runs on the login pool
//! (`gate`) and the connection waits for it as a `PendingLogin`.

use crate::auth::{AuthError, Identity, TlsPeer, verify_nonce_signature};
use crate::plugin::{AuthPlugin, AuthRequest};
use crate::protocol::ConnectOptions;
use crate::tenant::Tenancy;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

/// Who checked credentials name, and the auth plugin that let them in, if
/// one did (a reload keeps that grant while the plugin is unchanged).
pub type Grant = (Identity, Option<Arc<AuthPlugin>>);

/// What a credentials check ends with: `None` if the check itself failed
/// (it panicked).
pub type Checked = Option<Result<Grant, AuthError>>;

/// Everything a credentials check reads, owned, so it can run on a
/// blocking thread.
pub struct Credentials {
    pub tenancy: Arc<Tenancy>,
    pub opts: ConnectOptions,
    /// The nonce this connection was sent in INFO, if any.
    pub nonce: Option<String>,
    pub peer: SocketAddr,
    pub tls_peer: Option<Arc<TlsPeer>>,
}

impl Credentials {
    /// The tenant users, JWT or certificate first; auth plugins for a
    /// client those do not know.
    pub fn check(&self) -> Result<Grant, AuthError> {
        let tenancy = &self.tenancy;
        tenancy
            .authenticate(
                &self.opts,
                self.nonce.as_deref(),
                self.peer.ip(),
                self.tls_peer.as_deref(),
            )
            .map(|identity| (identity, None))
            .or_else(|e| {
                if e.is_unknown_client() && !tenancy.auth_plugins.is_empty() {
                    self.ask_plugins()
                } else {
                    Err(e)
                }
            })
    }

    /// After a reload, for a connection logged in as `previous` (let in by
    /// `plugin`, if a plugin did): the same credentials checked against
    /// the new tenancy. A plugin's grant stands while that plugin is
    /// unchanged; a changed one is asked again.
    pub fn recheck(
        &self,
        previous: &Identity,
        plugin: Option<&Arc<AuthPlugin>>,
    ) -> Result<Grant, AuthError> {
        match plugin {
            Some(plugin) => match self.tenancy.same_auth_plugin(plugin) {
                Some(same) => Ok((previous.clone(), Some(same.clone()))),
                None => self.ask_plugins(),
            },
            None => self
                .tenancy
                .reauthenticate(
                    &self.opts,
                    self.nonce.as_deref(),
                    self.peer.ip(),
                    self.tls_peer.as_deref(),
                    previous,
                )
                .map(|identity| (identity, None)),
        }
    }

    fn ask_plugins(&self) -> Result<Grant, AuthError> {
        let remote = self.peer.to_string();
        self.tenancy
            .authenticate_with_plugins(&self.auth_request(&remote))
            .map(|(identity, plugin)| (identity, Some(plugin)))
    }

    /// What an auth plugin is told about this client.
    fn auth_request<'a>(&'a self, remote: &'a str) -> AuthRequest<'a> {
        let opts = &self.opts;
        let nkey_verified = match (&opts.nkey, &opts.sig, &self.nonce) {
            (Some(nkey), Some(sig), Some(nonce)) => verify_nonce_signature(nkey, nonce, sig),
            _ => false,
        };
        AuthRequest {
            user: opts.user.as_deref(),
            password: opts.pass.as_deref(),
            token: opts.auth_token.as_deref(),
            jwt: opts.jwt.as_deref(),
            nkey: opts.nkey.as_deref(),
            nkey_verified,
            client_name: opts.name.as_deref(),
            client_lang: opts.lang.as_deref(),
            client_version: opts.version.as_deref(),
            remote_addr: remote,
            tls_peer: self.tls_peer.as_deref(),
        }
    }
}

/// A CONNECT whose credentials are being checked on the login pool. The
/// connection reads nothing more until the check ends.
pub struct PendingLogin {
    pub opts: ConnectOptions,
    pub tenancy: Arc<Tenancy>,
    pub check: Pin<Box<dyn Future<Output = Checked> + Send>>,
}

impl PendingLogin {
    /// Completes when the check does; `None` if it panicked.
    pub fn finished(pending: &mut Option<Box<PendingLogin>>) -> impl Future<Output = Checked> + '_ {
        std::future::poll_fn(move |cx| match pending {
            Some(p) => p.check.as_mut().poll(cx),
            None => Poll::Pending,
        })
    }
}
