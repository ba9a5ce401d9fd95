//! Setting a new connection up: straight to the protocol for plaintext,
//! through the TLS handshake (INFO first, TLS first, or TLS first with a
//! fallback to INFO first for a client that stays silent) when `[tls]` is
//! configured. Runs in the connection's own task, so a slow handshake
//! never holds up the accept loop.

use super::connection::Connection;
use super::shared::Shared;
use super::tls::{Refused, handshake, opens_within, peer_identity};
use crate::client::ClientHandle;
use crate::client::CloseReason;
use crate::protocol::encode_err;
use bytes::BytesMut;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

pub(super) async fn run(
    stream: TcpStream,
    peer: SocketAddr,
    server: Arc<Shared>,
    handle: Arc<ClientHandle>,
) {
    let mut conn = Connection::new(peer, server.clone(), handle.clone());
    let Some(tls) = &server.tls else {
        // INFO goes straight into the new socket's empty send buffer, so
        // the writer task is not woken just to greet; whatever does not
        // fit (never, in practice) goes through it as usual.
        let info = conn.info_line();
        let sent = stream.try_write(&info).unwrap_or(0);
        if sent < info.len() {
            conn.handle.control(|b| b.extend_from_slice(&info[sent..]));
        }
        let (rd, wr) = stream.into_split();
        return conn.serve(rd, wr, true).await;
    };
    let settings = &tls.settings;
    let info = conn.info_line();
    let mut shutdown = server.shutdown.subscribe();
    let upgrade = async {
        let info_first = match (settings.handshake_first, settings.handshake_first_fallback) {
            (false, _) => true,
            (true, None) => false,
            (true, Some(delay)) => !opens_within(&stream, delay).await,
        };
        let greeting = info_first.then_some(&info[..]);
        let stream = handshake(stream, greeting, tls.acceptor(), settings.timeout).await?;
        Ok((stream, info_first))
    };
    let result = tokio::select! {
        r = upgrade => r,
        _ = handle.killed() => Err(Refused { reason: handle.kill_reason(), plaintext: None }),
        _ = shutdown.changed() => Err(Refused { reason: CloseReason::ServerShutdown, plaintext: None }),
    };
    match result {
        Ok((stream, greeted)) => {
            conn.login.tls_peer = peer_identity(&stream);
            let (rd, wr) = tokio::io::split(stream);
            conn.serve(rd, wr, greeted).await;
        }
        Err(Refused { reason, plaintext }) => {
            if let (Some(mut stream), Some(text)) = (plaintext, reason.error_text()) {
                let mut buf = BytesMut::new();
                encode_err(&mut buf, text);
                let deadline = server.config.write_deadline;
                let _ = tokio::time::timeout(deadline, stream.write_all(&buf)).await;
            }
            conn.abandon(reason);
        }
    }
}
