//! TLS for client connections: the rustls configuration built from the
//! PEM files of `[tls]` (rebuilt on reload), and the handshake, either
//! after a plaintext INFO as NATS clients expect or before anything
//! (`handshake_first`, optionally falling back to INFO first for clients
//! that wait for it).
//!
//! It owns no protocol: it hands the connection an encrypted stream and,
//! when client certificates are verified, the peer's identity. Plaintext
//! connections never touch this module.
//!
//! May use: `auth` (the peer identity), `client`, `config`.

mod handshake;
mod keys;

pub(super) use handshake::{Refused, handshake, opens_within};
pub use keys::TlsError;
pub(in crate::server) use keys::connector;

use crate::config::TlsConfig;
use parking_lot::RwLock;
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

/// The server's TLS settings and the acceptor new connections use.
pub(crate) struct ServerTls {
    pub settings: TlsConfig,
    /// Replaced on reload; connections already up keep theirs.
    acceptor: RwLock<TlsAcceptor>,
}

impl ServerTls {
    /// Reads the certificate, key and CA files.
    pub fn load(settings: &TlsConfig) -> Result<ServerTls, TlsError> {
        Ok(ServerTls {
            acceptor: RwLock::new(keys::acceptor(settings)?),
            settings: settings.clone(),
        })
    }

    /// Re-reads the files into an acceptor, without installing it.
    pub fn prepare_reload(&self) -> Result<TlsAcceptor, TlsError> {
        keys::acceptor(&self.settings)
    }

    pub fn install(&self, acceptor: TlsAcceptor) {
        *self.acceptor.write() = acceptor;
    }

    pub fn acceptor(&self) -> TlsAcceptor {
        self.acceptor.read().clone()
    }
}

/// The verified client certificate's identity, if the client sent one.
pub(super) fn peer_identity(
    stream: &tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
) -> Option<Arc<crate::auth::TlsPeer>> {
    let leaf = stream.get_ref().1.peer_certificates()?.first()?;
    crate::auth::TlsPeer::from_der(leaf).map(Arc::new)
}
