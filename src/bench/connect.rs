//! Connection set-up: how fast the server accepts and authenticates clients.
//!
//! Each sample is one whole handshake as a client sees it: TCP connect, INFO,
//! CONNECT (with credentials, a signed nonce for `--creds`), PING, PONG. The
//! connection is then closed, outside the sample but inside the elapsed time,
//! so connects/s is a rate the server can sustain rather than a burst it
//! absorbs by accumulating open sockets.

use super::client::connect;
use super::error::BenchError;
use super::plan::Plan;
use super::pubsub::AbortOnDrop;
use super::report::{BenchReport, RequestStats};
use super::stats::{Latency, to_nanos};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Sets up `plan.msgs` connections, `plan.pubs` at a time.
pub(crate) async fn run(plan: &Plan) -> Result<BenchReport, BenchError> {
    let count = usize::try_from(plan.msgs)
        .map_err(|_| BenchError::Args("--msgs is too large for connect mode".into()))?;
    let workers = plan.pubs.min(count);
    // Connections are handed out one at a time rather than split up front, so
    // a worker stuck behind a slow handshake does not leave others idle.
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut handles = Vec::with_capacity(workers);
    for _ in 0..workers {
        let (plan, next) = (plan.clone(), Arc::clone(&next));
        handles.push(tokio::spawn(
            async move { connect_loop(&plan, &next).await },
        ));
    }
    let _guard = AbortOnDrop(handles.iter().map(|h| h.abort_handle()).collect());
    let mut samples = Vec::with_capacity(count);
    let mut server = String::new();
    for handle in handles {
        let (mut own, describe) = handle.await??;
        samples.append(&mut own);
        if server.is_empty() {
            server = describe;
        }
    }
    let elapsed = start.elapsed();
    let latency = Latency::from_nanos(&mut samples)
        .ok_or_else(|| BenchError::Args("no connection completed".into()))?;
    Ok(BenchReport {
        mode: plan.mode,
        url: plan.url.clone(),
        server,
        subject: String::new(),
        msgs: plan.msgs,
        size: 0,
        pubs: workers,
        subs: 0,
        publishers: None,
        subscribers: None,
        delivered: 0,
        requests: Some(RequestStats {
            count: samples.len() as u64,
            elapsed,
            latency,
        }),
        json: plan.json,
    })
}

/// Claims connections from `next` until all are taken; returns each
/// handshake's duration in nanoseconds and the server's description.
async fn connect_loop(plan: &Plan, next: &AtomicU64) -> Result<(Vec<u32>, String), BenchError> {
    let mut samples = Vec::new();
    let mut server = String::new();
    while next.fetch_add(1, Ordering::Relaxed) < plan.msgs {
        let began = Instant::now();
        let conn = match connect(&plan.endpoint, b"", plan.timeout).await {
            Ok(conn) => conn,
            Err(e) => {
                // Stop the other workers from starting new connections.
                next.store(plan.msgs, Ordering::Relaxed);
                return Err(e);
            }
        };
        samples.push(to_nanos(began.elapsed()));
        if server.is_empty() {
            server = conn.info.describe.clone();
        }
        drop(conn);
    }
    Ok((samples, server))
}
