//! The accept loop: admits connections up to `max_connections` and spawns
//! one task per connection.

use super::setup;
use super::shared::Shared;
use crate::client::ClientHandle;
use crate::client::CloseReason;
use crate::protocol::{encode_err, encode_info};
use bytes::BytesMut;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

pub(super) async fn accept_loop(listener: TcpListener, server: Arc<Shared>) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Usually EMFILE: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let id = server.next_id.fetch_add(1, Ordering::Relaxed);
        if server.clients.len() >= server.config.max_connections {
            tokio::spawn(reject(stream, server.clone(), id));
            continue;
        }
        server
            .stats
            .total_connections
            .fetch_add(1, Ordering::Relaxed);
        let handle = Arc::new(ClientHandle::new(
            id,
            server.config.max_pending,
            peer,
            server.global.name.clone(),
        ));
        server.clients.insert(id, handle.clone());
        tracing::debug!(cid = id, %peer, "client connected");
        tokio::spawn(setup::run(stream, peer, server.clone(), handle));
    }
}

async fn reject(mut stream: TcpStream, server: Arc<Shared>, id: u64) {
    let mut buf = BytesMut::new();
    let mut info = server.client_info();
    info.client_id = id;
    encode_info(&mut buf, &info);
    if let Some(text) = CloseReason::MaxConnections.error_text() {
        encode_err(&mut buf, text);
    }
    tracing::warn!(cid = id, "maximum connections exceeded");
    let _ = tokio::time::timeout(Duration::from_secs(2), stream.write_all(&buf)).await;
}
