//! One client's TLS handshake, bounded by `tls.timeout`.

use crate::client::CloseReason;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// The first byte of a TLS record carrying a handshake message.
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

/// Why a handshake did not happen.
pub(in crate::server) struct Refused {
    pub reason: CloseReason,
    /// Still plaintext: the client never started TLS, so it can be told
    /// why in plaintext.
    pub plaintext: Option<TcpStream>,
}

/// Whether the client sends something within `delay` of connecting: with
/// `handshake_first` and a fallback delay, a client that speaks first is
/// starting TLS, and one that stays silent is waiting for INFO (as
/// nats-server decides; what it sent is checked by the handshake). A
/// closed or failed socket counts as speaking, so the handshake reports it.
pub(in crate::server) async fn opens_within(stream: &TcpStream, delay: Duration) -> bool {
    let mut first = [0u8; 1];
    tokio::time::timeout(delay, stream.peek(&mut first))
        .await
        .is_ok()
}

/// Sends `info` (when the client expects INFO before TLS), then waits for
/// the client's first TLS record and completes the handshake, all within
/// `limit`. A client that sends anything but TLS, or nothing at all, is
/// refused with its socket still in plaintext.
pub(in crate::server) async fn handshake(
    mut stream: TcpStream,
    info: Option<&[u8]>,
    acceptor: TlsAcceptor,
    limit: Duration,
) -> Result<TlsStream<TcpStream>, Refused> {
    let deadline = Instant::now() + limit;
    let failed = |reason| Refused {
        reason,
        plaintext: None,
    };
    if let Some(info) = info {
        match timeout_at(deadline, stream.write_all(info)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return Err(failed(CloseReason::WriteError)),
            Err(_) => return Err(failed(CloseReason::TlsRequired)),
        }
    }
    // Peek so a plaintext client can still be answered in plaintext.
    let mut first = [0u8; 1];
    match timeout_at(deadline, stream.peek(&mut first)).await {
        Ok(Ok(0)) => return Err(failed(CloseReason::ClientClosed)),
        Ok(Ok(_)) if first[0] == TLS_HANDSHAKE_RECORD => {}
        Ok(Ok(_)) | Err(_) => {
            return Err(Refused {
                reason: CloseReason::TlsRequired,
                plaintext: Some(stream),
            });
        }
        Ok(Err(_)) => return Err(failed(CloseReason::ReadError)),
    }
    match timeout_at(deadline, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => Ok(tls),
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "TLS handshake error");
            Err(failed(CloseReason::TlsHandshakeError))
        }
        Err(_) => Err(failed(CloseReason::TlsHandshakeError)),
    }
}
