//! How a connection ends, and what it must not leave behind.
//!
//! `close` is the orderly end: every connection that stops serving for a
//! reason it knows (see `CloseReason`) goes through it once. A task can
//! also end without it: a panic while it handled input (a bug, but one a
//! hostile client may find), or the task being dropped. `Connection`'s
//! `Drop` is the guard for that: unless `close` (or `abandon`) ran
//! to its end, it removes the connection's subscriptions and their import
//! shadows, its place in its account's connection count, its entry among
//! the live clients (monitoring), closes its outbound buffer so the writer
//! task ends and the socket closes, records it among the closed
//! connections with `CloseReason::InternalError`, and logs it. Tokio
//! catches the panic at the task boundary and drops the task's future,
//! and with it the connection, so this runs for a panic anywhere in the
//! task and the broker goes on serving everyone else. It does not publish
//! a disconnect event: after a panic, running less code is safer.

use super::closed::ClosedClient;
use super::connection::Connection;
use super::subs::unindex;
use crate::client::CloseReason;
use crate::login::AuthFailure;
use std::sync::atomic::Ordering;

impl Connection {
    /// Ends the connection for `reason`: tells the client (the `-ERR`
    /// text, if any), removes its subscriptions, announces the disconnect,
    /// flushes (unless the writer is the problem), counts and records it.
    pub(super) async fn close(mut self, reason: CloseReason, writer: tokio::task::JoinHandle<()>) {
        self.finish_batch();
        let subscriptions = self.subs.len();
        for entry in std::mem::take(&mut self.subs).into_values() {
            unindex(&self.session.account, &entry);
        }
        if let Some(text) = reason.error_text() {
            self.send_err(text);
        }
        if self.phase.connected {
            self.emit_client_event(Some(reason));
        }
        self.session.unbind();
        match reason {
            CloseReason::SlowConsumer | CloseReason::ClientClosed | CloseReason::ReadError => {
                tracing::debug!(cid = self.handle.id, peer = %self.peer, ?reason, "connection closed")
            }
            _ => {
                tracing::info!(cid = self.handle.id, peer = %self.peer, ?reason, "connection closed")
            }
        }
        self.handle.outbound.close();
        if reason.flushes() {
            let deadline = self.server.config.write_deadline;
            let abort = writer.abort_handle();
            if tokio::time::timeout(deadline, writer).await.is_err() {
                abort.abort();
            }
        } else {
            writer.abort();
        }
        match reason {
            CloseReason::SlowConsumer => {
                // Counted here, once per connection, whoever noticed.
                self.server
                    .stats
                    .slow_consumers
                    .fetch_add(1, Ordering::Relaxed);
                self.session
                    .account
                    .traffic
                    .slow_consumers
                    .fetch_add(1, Ordering::Relaxed);
            }
            CloseReason::StaleConnection => {
                self.server
                    .stats
                    .stale_connections
                    .fetch_add(1, Ordering::Relaxed);
            }
            CloseReason::AuthTimeout => self.server.stats.auth_failed(AuthFailure::Timeout),
            _ => {}
        }
        // The buffer is closed: nothing more is counted for this connection.
        self.session.account.traffic.retire(&self.handle);
        self.server
            .closed
            .push(ClosedClient::of(&self.handle, subscriptions, reason));
        self.server.forget(self.handle.id);
        self.phase.finished = true;
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        if self.phase.finished {
            return;
        }
        let subscriptions = self.subs.len();
        for entry in std::mem::take(&mut self.subs).into_values() {
            unindex(&self.session.account, &entry);
        }
        self.session.unbind();
        self.handle.outbound.close();
        self.session.account.traffic.retire(&self.handle);
        self.server.closed.push(ClosedClient::of(
            &self.handle,
            subscriptions,
            CloseReason::InternalError,
        ));
        self.server.forget(self.handle.id);
        tracing::error!(
            cid = self.handle.id,
            peer = %self.peer,
            subscriptions,
            "connection task ended without closing (panicked or dropped); its subscriptions and counts are removed"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ClientHandle;
    use crate::{Server, ServerConfig};
    use std::sync::Arc;
    use std::sync::atomic::Ordering;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Reads from `from` until `want` has arrived.
    async fn read_until<R: AsyncReadExt + Unpin>(from: &mut R, want: &str) -> String {
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        while !String::from_utf8_lossy(&got).contains(want) {
            let n = tokio::time::timeout(Duration::from_secs(5), from.read(&mut buf))
                .await
                .expect("answer in time")
                .expect("read");
            assert!(
                n > 0,
                "closed before {want:?}: {:?}",
                String::from_utf8_lossy(&got)
            );
            got.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&got).into_owned()
    }

    /// A connection served over an in-memory pipe subscribes, then its
    /// task panics: the subscription, the live-client entry and the count
    /// are gone, it is recorded as closed, and the server still serves.
    #[tokio::test]
    async fn a_panicking_connection_task_leaves_nothing_behind() {
        let server = Server::start(ServerConfig {
            host: "127.0.0.1".into(),
            port: 0,
            ..ServerConfig::default()
        })
        .await
        .expect("server starts");
        let shared = server.shared.clone();
        let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
        let peer = "127.0.0.1:9".parse().expect("addr");
        let handle = Arc::new(ClientHandle::new(
            id,
            shared.config.max_pending,
            peer,
            shared.global.name.clone(),
        ));
        shared.clients.insert(id, handle.clone());
        let conn = Connection::new(peer, shared.clone(), handle);

        let (mut client, socket) = tokio::io::duplex(64 * 1024);
        let (rd, wr) = tokio::io::split(socket);
        let panic_now = Arc::new(tokio::sync::Notify::new());
        let trigger = panic_now.clone();
        let task = tokio::spawn(async move {
            let serve = conn.serve(rd, wr, false);
            tokio::pin!(serve);
            tokio::select! {
                _ = &mut serve => {}
                _ = trigger.notified() => panic!("injected panic in a connection task"),
            }
        });
        client
            .write_all(b"CONNECT {\"verbose\":false}\r\nSUB a.> 1\r\nPING\r\n")
            .await
            .expect("write");
        read_until(&mut client, "PONG\r\n").await;
        assert_eq!((server.connections(), server.subscriptions()), (1, 1));

        panic_now.notify_one();
        let ended = task.await.expect_err("the task panicked");
        assert!(ended.is_panic());
        assert_eq!((server.connections(), server.subscriptions()), (0, 0));
        let closed = shared.closed.all();
        assert_eq!(closed.len(), 1);
        assert_eq!(closed[0].reason, CloseReason::InternalError);
        // The socket is closed: the writer ended with the outbound buffer.
        let mut rest = Vec::new();
        let eof = tokio::time::timeout(Duration::from_secs(5), client.read_to_end(&mut rest)).await;
        assert!(eof.is_ok(), "the connection's socket closes");

        // Everyone else is still served.
        let mut other = tokio::net::TcpStream::connect(server.local_addr())
            .await
            .expect("connect");
        other
            .write_all(b"CONNECT {\"verbose\":false}\r\nPING\r\n")
            .await
            .expect("write");
        read_until(&mut other, "PONG\r\n").await;
    }
}
