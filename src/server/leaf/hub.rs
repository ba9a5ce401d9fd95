//! The hub side: the leaf node port. The hub speaks first (INFO with a
//! nonce and `leafnode_urls`), the leaf answers CONNECT with its
//! credentials, which log it in as a tenant user exactly as a client's
//! would (`login::Credentials::check`, `Session::bind`); the connection
//! then carries that user's account.

use super::conn::{Filters, LeafConn, Peer};
use super::handshake::run;
use crate::auth::new_nonce;
use crate::client::{ClientHandle, CloseReason};
use crate::login::{AuthFailure, Credentials, Session};
use crate::protocol::{Dialect, LeafConnect, Limits, encode_err, encode_info};
use crate::server::peer_first::{First, read_first};
use crate::server::shared::Shared;
use crate::server::tls::{Refused, handshake};
use bytes::BytesMut;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Accepts leaf nodes until shutdown.
pub(in crate::server) async fn accept_loop(listener: TcpListener, server: Arc<Shared>) {
    let mut shutdown = server.shutdown.subscribe();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.changed() => return,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "leaf node accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        // Lame duck closes leaves last; a leaf dialling in meanwhile would
        // only be closed again.
        if server.lame_duck.load(Ordering::Acquire) {
            continue;
        }
        if server.leaves.len() >= server.config.max_connections {
            tracing::warn!(%peer, "leaf node refused: maximum connections exceeded");
            continue;
        }
        tokio::spawn(accept(stream, peer, server.clone()));
    }
}

async fn accept(mut stream: TcpStream, peer: SocketAddr, server: Arc<Shared>) {
    let id = server.next_id.fetch_add(1, Ordering::Relaxed);
    let handle = Arc::new(ClientHandle::new(
        id,
        server.config.max_pending,
        peer,
        server.global.name.clone(),
    ));
    let nonce = new_nonce();
    let mut info = server.info.clone();
    info.client_id = id;
    info.nonce = Some(nonce.clone());
    info.auth_required = server.auth_required();
    info.leafnode_urls = Some(vec![server.leaf_url()]);
    info.tls_required = server.leaf_tls.is_some();
    let mut line = BytesMut::new();
    encode_info(&mut line, &info);
    match &server.leaf_tls {
        None => {
            if stream.write_all(&line).await.is_err() {
                return;
            }
            let (rd, wr) = stream.into_split();
            login(rd, wr, peer, server, handle, nonce).await;
        }
        Some(tls) => {
            let settings = &tls.settings;
            let greeting = (!settings.handshake_first).then_some(&line[..]);
            match handshake(stream, greeting, tls.acceptor(), settings.timeout).await {
                Ok(mut stream) => {
                    if settings.handshake_first && stream.write_all(&line).await.is_err() {
                        return;
                    }
                    let (rd, wr) = tokio::io::split(stream);
                    login(rd, wr, peer, server, handle, nonce).await;
                }
                Err(Refused { reason, plaintext }) => {
                    if let (Some(mut s), Some(text)) = (plaintext, reason.error_text()) {
                        let mut b = BytesMut::new();
                        encode_err(&mut b, text);
                        let _ = tokio::time::timeout(Duration::from_secs(2), s.write_all(&b)).await;
                    }
                    tracing::info!(%peer, ?reason, "leaf node TLS handshake failed");
                }
            }
        }
    }
}

/// Reads the leaf's CONNECT, checks its credentials and runs it.
async fn login<R, W>(
    mut rd: R,
    mut wr: W,
    peer: SocketAddr,
    server: Arc<Shared>,
    handle: Arc<ClientHandle>,
    nonce: String,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let limits = Limits {
        max_control_line: server.config.max_control_line,
        max_payload: server.config.max_payload,
    };
    let mut buf = BytesMut::with_capacity(4096);
    let checked = match read_first(
        &mut rd,
        &mut buf,
        &limits,
        Dialect::Leaf,
        server.config.auth_timeout,
    )
    .await
    {
        Ok(First::Connect(json)) => check(&server, &json, peer, nonce).await,
        Ok(_) => Err(CloseReason::AuthViolation),
        Err(reason) => Err(reason),
    };
    let (connect, session, login) = match checked {
        Ok(ok) => ok,
        Err(reason) => {
            if let Some(text) = reason.error_text() {
                let mut b = BytesMut::new();
                encode_err(&mut b, text);
                let _ = tokio::time::timeout(Duration::from_secs(2), wr.write_all(&b)).await;
            }
            tracing::info!(cid = handle.id, %peer, ?reason, "leaf node refused");
            return;
        }
    };
    let peer_info = Peer {
        name: connect.name.clone().unwrap_or_else(|| peer.to_string()),
        headers: connect.headers,
        switchyard: connect.switchyard_version.is_some(),
    };
    let mut conn = LeafConn::new(handle, server, session, peer_info, Filters::default(), buf);
    conn.login = Some(login);
    run(conn, rd, wr, false).await;
}

/// The CONNECT's options and, if its credentials hold, the session and
/// the credentials (to check again after a reload).
async fn check(
    server: &Arc<Shared>,
    json: &[u8],
    peer: SocketAddr,
    nonce: String,
) -> Result<(LeafConnect, Session, Credentials), CloseReason> {
    let connect: LeafConnect =
        serde_json::from_slice(json).map_err(|_| CloseReason::ProtocolViolation)?;
    if connect.lang.is_some() {
        return Err(CloseReason::WrongPort);
    }
    let tenancy = server.tenancy();
    let max_payload = server.config.max_payload;
    let credentials = Credentials {
        tenancy: tenancy.clone(),
        opts: connect.credentials(),
        nonce: Some(nonce),
        peer,
        tls_peer: None,
    };
    if tenancy.users.is_none() {
        if !server.authorize(&credentials.opts) {
            server.stats.auth_failed(AuthFailure::Credentials);
            return Err(CloseReason::AuthViolation);
        }
        let session = Session::unbound(server.global.clone(), max_payload);
        return Ok((connect, session, credentials));
    }
    let ticket = server.logins.admit(peer.ip()).map_err(|_| {
        server.stats.auth_failed(AuthFailure::Busy);
        CloseReason::TooManyLogins
    })?;
    let checking = Credentials {
        tenancy: tenancy.clone(),
        opts: credentials.opts.clone(),
        nonce: credentials.nonce.clone(),
        peer,
        tls_peer: None,
    };
    let checked = ticket.run(move || checking.check()).await;
    let session = Session::bind(&tenancy, checked, max_payload).map_err(|refused| {
        if let Some(failure) = refused.failure {
            server.stats.auth_failed(failure);
        }
        refused.reason
    })?;
    Ok((connect, session, credentials))
}
