//! Lame-duck mode, as nats-server's: stop accepting, tell every client
//! with an INFO carrying `"ldm":true` (clients then look for another
//! server), wait a grace period so several servers entering lame-duck mode
//! together do not send their clients to each other, then close the
//! clients spread over the rest of `lame_duck_duration` so they do not all
//! reconnect elsewhere at once. Leaf node connections go last, once every
//! client is gone (nats-server closes them at its final shutdown): until
//! then they still carry the remaining clients' traffic to and from the
//! rest of the deployment. Leaves are not sent the lame-duck INFO, as in
//! nats-server; no new leaf is accepted and remotes do not redial.

use super::Server;
use crate::client::ClientHandle;
use crate::client::CloseReason;
use crate::protocol::encode_info;
use bytes::BytesMut;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// nats-server never pauses longer than this between two closes.
const MAX_PAUSE: Duration = Duration::from_secs(1);
/// Shortest pause worth a timer; below it, clients are closed in batches.
const MIN_PAUSE: Duration = Duration::from_millis(1);

impl Server {
    /// Enters lame-duck mode and returns once every client has been told
    /// and closed, and then every leaf node connection (or the server was
    /// shut down meanwhile). Call
    /// [`Server::shutdown`] afterwards to finish. A second call does nothing.
    pub async fn lame_duck(&self) {
        let shared = &self.shared;
        if shared.lame_duck.swap(true, Ordering::AcqRel) {
            return;
        }
        tracing::info!("entering lame duck mode, stop accepting new clients");
        super::cluster::announce_lame_duck(shared);
        self.accept.abort();
        // Once the accept task is gone no client can still be added.
        while !self.accept.is_finished() {
            tokio::time::sleep(MIN_PAUSE).await;
        }
        if self.close_clients().await {
            self.close_leaves().await;
        }
    }

    /// Tells the clients, waits the grace period and closes them; false if
    /// the server was shut down meanwhile.
    async fn close_clients(&self) -> bool {
        let shared = &self.shared;
        let clients: Vec<Arc<ClientHandle>> =
            shared.clients.iter().map(|c| c.value().clone()).collect();
        if clients.is_empty() {
            return true;
        }
        let mut info = shared.client_info();
        info.ldm = true;
        let mut line = BytesMut::new();
        encode_info(&mut line, &info);
        for client in clients.iter().filter(|c| c.takes_async_info()) {
            client.control(|b| b.extend_from_slice(&line));
        }

        let config = &shared.config;
        let grace = config.lame_duck_grace_period;
        let mut shutdown = shared.shutdown.subscribe();
        tokio::select! {
            _ = tokio::time::sleep(grace) => {}
            _ = shutdown.changed() => return false,
        }
        tracing::info!(
            clients = clients.len(),
            "lame duck: closing existing clients"
        );
        let (pause, batch) = pacing(
            config.lame_duck_duration.saturating_sub(grace),
            clients.len(),
        );
        for (i, client) in clients.iter().enumerate() {
            client.kill(CloseReason::ServerShutdown);
            if i + 1 == clients.len() || (i + 1) % batch != 0 {
                continue;
            }
            // A random pause of at least half the interval, as nats-server.
            let nanos = pause.as_nanos() as u64;
            let pause = Duration::from_nanos(fastrand::u64(nanos / 2..nanos.max(1)));
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.changed() => return false,
            }
        }
        self.wait_all_closed().await;
        true
    }

    /// Closes every leaf node connection, both ways, and waits (at most
    /// `write_deadline` and a second, as for clients) until they are gone.
    async fn close_leaves(&self) {
        let shared = &self.shared;
        let leaves: Vec<Arc<ClientHandle>> =
            shared.leaves.iter().map(|l| l.handle.clone()).collect();
        if leaves.is_empty() {
            return;
        }
        tracing::info!(
            leaves = leaves.len(),
            "lame duck: closing leaf node connections"
        );
        for leaf in &leaves {
            leaf.kill(CloseReason::ServerShutdown);
        }
        let deadline = shared.config.write_deadline + Duration::from_secs(1);
        let _ = tokio::time::timeout(deadline, async {
            while !shared.leaves.is_empty() {
                tokio::time::sleep(MIN_PAUSE).await;
            }
        })
        .await;
    }
}

/// The pause between closes and how many clients to close per pause, to
/// spread `clients` closes over `spread` (1 s when nothing is left of the
/// duration after the grace period, as nats-server).
fn pacing(spread: Duration, clients: usize) -> (Duration, usize) {
    let spread = if spread.is_zero() {
        Duration::from_secs(1)
    } else {
        spread
    };
    let n = u32::try_from(clients.max(1)).unwrap_or(u32::MAX);
    let pause = (spread / n).min(MAX_PAUSE);
    if pause >= MIN_PAUSE {
        return (pause, 1);
    }
    let per_pause = MIN_PAUSE.as_nanos() / pause.as_nanos().max(1);
    (
        MIN_PAUSE,
        usize::try_from(per_pause).unwrap_or(usize::MAX).max(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacing_spreads_closes_within_bounds() {
        assert_eq!(
            pacing(Duration::from_secs(110), 10),
            (Duration::from_secs(1), 1)
        );
        assert_eq!(
            pacing(Duration::from_secs(100), 1000),
            (Duration::from_millis(100), 1)
        );
        assert_eq!(pacing(Duration::ZERO, 2), (Duration::from_millis(500), 1));
        assert_eq!(
            pacing(Duration::from_secs(1), 100_000),
            (Duration::from_millis(1), 100)
        );
    }
}
