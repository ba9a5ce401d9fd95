//! The throughput modes: pub, sub, pubsub (fan-out) and queue.

use super::client::{self, connect};
use super::error::BenchError;
use super::plan::{Mode, Plan};
use super::report::{BenchReport, ConnStats, SideStats};
use super::scan::Frame;
use super::stats::{Span, aggregate};
use bytes::Bytes;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;
use tokio::io::AsyncReadExt;
use tokio::sync::{oneshot, watch};
use tokio::task::{AbortHandle, JoinHandle};

/// Publishers write batches of about this size: big enough that syscalls do
/// not matter, small enough to stay in cache.
const BATCH_BYTES: usize = 256 * 1024;
/// A subscriber's read buffer; a large one lets a single read drain a lot of
/// socket buffer when the subscriber falls behind.
const READ_BYTES: usize = 256 * 1024;
const QUEUE_GROUP: &str = "switchyard-bench";

/// Aborts every task it holds when dropped, so an early error return does not
/// leave connections behind.
pub(crate) struct AbortOnDrop(pub(crate) Vec<AbortHandle>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        for h in &self.0 {
            h.abort();
        }
    }
}

/// A spawned connection task and its "connected and ready" signal, which
/// carries the server's description.
struct Worker<T> {
    handle: JoinHandle<Result<T, BenchError>>,
    ready: oneshot::Receiver<String>,
}

impl<T> Worker<T> {
    /// Works as a start barrier that, unlike `tokio::sync::Barrier`, cannot
    /// hang when a participant fails before reaching it: a task that fails
    /// drops its sender, and its own result then says why.
    async fn wait_ready(&mut self) -> Result<String, BenchError> {
        if let Ok(server) = (&mut self.ready).await {
            return Ok(server);
        }
        match (&mut self.handle).await? {
            Err(e) => Err(e),
            Ok(_) => Err(BenchError::Args(
                "connection task ended before it was ready".into(),
            )),
        }
    }
}

fn spawn<T, F>(
    guard: &mut AbortOnDrop,
    make: impl FnOnce(oneshot::Sender<String>) -> F,
) -> Worker<T>
where
    T: Send + 'static,
    F: Future<Output = Result<T, BenchError>> + Send + 'static,
{
    let (tx, ready) = oneshot::channel();
    let handle = tokio::spawn(make(tx));
    guard.0.push(handle.abort_handle());
    Worker { handle, ready }
}

/// What a subscriber saw before it stopped.
struct SubOutcome {
    msgs: u64,
    first: Option<Instant>,
    last: Option<Instant>,
    /// Why it stopped early, if it did.
    stop: Option<String>,
}

struct SubJob {
    plan: Plan,
    /// Stop after this many messages (u64::MAX for queue members).
    own_target: u64,
    /// Queue members count into `shared` and stop when it reaches `shared_target`.
    shared: Arc<AtomicU64>,
    shared_target: u64,
    done_tx: Arc<watch::Sender<bool>>,
    done_rx: watch::Receiver<bool>,
    /// With --await-interest: subscribers that have received a probe.
    probed: Arc<AtomicUsize>,
}

pub(crate) async fn run(plan: &Plan) -> Result<BenchReport, BenchError> {
    let (n_pubs, n_subs) = match plan.mode {
        Mode::Pub => (plan.pubs, 0),
        Mode::Sub => (0, plan.subs),
        _ => (plan.pubs, plan.subs),
    };
    let queue = plan.mode == Mode::Queue;
    let shared = Arc::new(AtomicU64::new(0));
    let done_tx = Arc::new(watch::channel(false).0);
    let probed = Arc::new(AtomicUsize::new(0));
    let mut guard = AbortOnDrop(Vec::new());
    let mut server = String::new();

    let mut subs = Vec::with_capacity(n_subs);
    for _ in 0..n_subs {
        let job = SubJob {
            plan: plan.clone(),
            own_target: if queue { u64::MAX } else { plan.msgs },
            shared: shared.clone(),
            shared_target: if queue { plan.msgs } else { 0 },
            done_tx: done_tx.clone(),
            done_rx: done_tx.subscribe(),
            probed: probed.clone(),
        };
        subs.push(spawn(&mut guard, |ready| subscriber(job, ready)));
    }
    // Every subscription must be registered before the first publish, or the
    // first messages are dropped by the server.
    for w in &mut subs {
        server = w.wait_ready().await?;
    }

    let batch = Batch::new(&plan.subject, plan.size);
    let mut pubs = Vec::with_capacity(n_pubs);
    let mut gos = Vec::with_capacity(n_pubs);
    for i in 0..n_pubs {
        let share = plan.msgs / n_pubs as u64 + u64::from((i as u64) < plan.msgs % n_pubs as u64);
        let (go_tx, go) = oneshot::channel();
        gos.push(go_tx);
        let (plan, batch) = (plan.clone(), batch.clone());
        pubs.push(spawn(&mut guard, move |ready| {
            publisher(plan, batch, share, ready, go)
        }));
    }
    for w in &mut pubs {
        server = w.wait_ready().await?;
    }
    if let Some(probe) = &plan.probe {
        await_interest(plan, probe, &probed, n_subs).await?;
    }
    // Start all publishers together so that the aggregate rate is meaningful.
    for go in gos {
        let _ = go.send(());
    }

    let mut pub_spans = Vec::with_capacity(n_pubs);
    for w in pubs {
        pub_spans.push(w.handle.await??);
    }
    let mut outcomes = Vec::with_capacity(n_subs);
    for w in subs {
        outcomes.push(w.handle.await??);
    }
    check_delivery(plan, &outcomes)?;

    let now = Instant::now();
    let sub_spans: Vec<Span> = outcomes
        .iter()
        .map(|o| Span {
            msgs: o.msgs,
            start: o.first.unwrap_or(now),
            end: o.last.unwrap_or(now),
        })
        .collect();
    Ok(BenchReport {
        mode: plan.mode,
        url: plan.url.clone(),
        server,
        subject: plan.subject.clone(),
        msgs: plan.msgs,
        size: plan.size,
        pubs: n_pubs,
        subs: n_subs,
        publishers: side(&pub_spans, plan.size),
        subscribers: side(&sub_spans, plan.size),
        delivered: outcomes.iter().map(|o| o.msgs).sum(),
        requests: None,
        json: plan.json,
    })
}

pub(crate) fn side(spans: &[Span], size: usize) -> Option<SideStats> {
    if spans.is_empty() {
        return None;
    }
    let (msgs, elapsed) = aggregate(spans);
    let per_conn = spans
        .iter()
        .map(|s| ConnStats {
            msgs: s.msgs,
            elapsed: s.end.saturating_duration_since(s.start),
        })
        .collect();
    Some(SideStats {
        msgs,
        elapsed,
        size,
        per_conn,
    })
}

/// Fails unless every subscriber got exactly what it should have.
fn check_delivery(plan: &Plan, outcomes: &[SubOutcome]) -> Result<(), BenchError> {
    if outcomes.is_empty() {
        return Ok(());
    }
    let received: u64 = outcomes.iter().map(|o| o.msgs).sum();
    let expected = match plan.mode {
        Mode::Queue => plan.msgs,
        _ => plan.msgs * outcomes.len() as u64,
    };
    let stops: Vec<String> = (outcomes.iter().enumerate())
        .filter_map(|(i, o)| o.stop.as_ref().map(|s| format!("sub {}: {s}", i + 1)))
        .collect();
    if received == expected && stops.is_empty() {
        return Ok(());
    }
    let mut reason = if stops.is_empty() {
        "more messages than published: is something else publishing on the subject?".to_string()
    } else {
        stops.join("; ")
    };
    if outcomes.len() > 1 {
        let counts: Vec<u64> = outcomes.iter().map(|o| o.msgs).collect();
        reason.push_str(&format!("; per subscriber {counts:?}"));
    }
    let missing = expected.saturating_sub(received);
    Err(BenchError::Incomplete {
        received,
        expected,
        missing,
        reason,
    })
}

async fn subscriber(job: SubJob, ready: oneshot::Sender<String>) -> Result<SubOutcome, BenchError> {
    let plan = &job.plan;
    let idle = plan.timeout;
    let mut sub = match plan.mode {
        Mode::Queue => format!("SUB {} {QUEUE_GROUP} 1\r\n", plan.sub_subject),
        _ => format!("SUB {} 1\r\n", plan.sub_subject),
    };
    // After the benchmark's own SUB, so that interest in the probe reaches
    // the publishers' server after it.
    if let Some(probe) = &plan.probe {
        sub.push_str(&format!("SUB {probe} 2\r\n"));
    }
    let mut conn = connect(&plan.sub_endpoint, sub.as_bytes(), idle).await?;
    let _ = ready.send(conn.info.describe.clone());
    if let Some(probe) = &plan.probe {
        conn.await_probe(probe.as_bytes(), idle).await?;
        job.probed.fetch_add(1, Ordering::Release);
    }
    let mut out = SubOutcome {
        msgs: 0,
        first: None,
        last: None,
        stop: None,
    };
    let mut done_rx = job.done_rx;
    let mut buf = vec![0u8; READ_BYTES];
    let timer = tokio::time::sleep(idle);
    tokio::pin!(timer);
    let mut early = conn.early_msgs;
    loop {
        let (n, now) = if early > 0 {
            (0, Instant::now())
        } else {
            let n = tokio::select! {
                biased;
                r = conn.stream.read(&mut buf) => match r {
                    Ok(0) => break out.stop = Some("connection closed by the server".into()),
                    Ok(n) => n,
                    Err(e) => break out.stop = Some(format!("read failed: {e}")),
                },
                _ = done_rx.changed() => break,
                () = &mut timer => break out.stop = Some(format!("no message for {} s", idle.as_secs())),
            };
            (n, Instant::now())
        };
        let (mut batch, mut pings, mut err) = (std::mem::take(&mut early), 0, None);
        let fed = conn.scanner.feed(&buf[..n], |f| match f {
            Frame::Msg(_) => batch += 1,
            Frame::Ping => pings += 1,
            Frame::Err(e) => err = Some(String::from_utf8_lossy(e).into_owned()),
            Frame::Pong | Frame::Ok | Frame::Info(_) => {}
        });
        fed.map_err(|e| client::protocol(&conn.addr, e.to_string()))?;
        if batch > 0 {
            if plan.mode == Mode::Sub {
                // An external publisher may go on; only the first --msgs count.
                batch = batch.min(job.own_target - out.msgs);
            }
            out.first.get_or_insert(now);
            out.last = Some(now);
            out.msgs += batch;
            timer
                .as_mut()
                .reset(tokio::time::Instant::from_std(now) + idle);
        }
        if let Some(e) = err {
            break out.stop = Some(format!("server sent -ERR '{e}'"));
        }
        conn.pong(pings, idle).await?;
        if out.msgs >= job.own_target {
            break;
        }
        if batch > 0 && job.shared_target > 0 {
            let total = job.shared.fetch_add(batch, Ordering::Relaxed) + batch;
            if total >= job.shared_target {
                job.done_tx.send_replace(true);
                break;
            }
        }
    }
    Ok(out)
}

/// Publishes an empty message on `probe` every 10 ms until `subs`
/// subscribers have received one (each then unsubscribes the probe), or
/// fails after the timeout.
async fn await_interest(
    plan: &Plan,
    probe: &str,
    probed: &AtomicUsize,
    subs: usize,
) -> Result<(), BenchError> {
    let mut conn = connect(&plan.endpoint, b"", plan.timeout).await?;
    let frame = format!("PUB {probe} 0\r\n\r\n");
    let until = Instant::now() + plan.timeout;
    while probed.load(Ordering::Acquire) < subs {
        if Instant::now() >= until {
            return Err(BenchError::Timeout {
                what: format!(
                    "waiting for the subscribers' interest to reach {} ({} of {subs} saw a probe)",
                    plan.url,
                    probed.load(Ordering::Acquire)
                ),
                secs: plan.timeout.as_secs(),
            });
        }
        conn.write(frame.as_bytes(), plan.timeout, "publishing a probe")
            .await?;
        conn.poll_control(plan.timeout).await?;
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    Ok(())
}

/// Pre-built publish frames shared by all publishers.
#[derive(Clone)]
struct Batch {
    bytes: Bytes,
    frames: u64,
    frame_len: usize,
}

impl Batch {
    fn new(subject: &str, size: usize) -> Self {
        let mut frame = format!("PUB {subject} {size}\r\n").into_bytes();
        frame.extend(std::iter::repeat_with(|| fastrand::alphanumeric() as u8).take(size));
        frame.extend_from_slice(b"\r\n");
        let frames = (BATCH_BYTES / frame.len()).max(1);
        Batch {
            bytes: Bytes::from(frame.repeat(frames)),
            frames: frames as u64,
            frame_len: frame.len(),
        }
    }
}

async fn publisher(
    plan: Plan,
    batch: Batch,
    msgs: u64,
    ready: oneshot::Sender<String>,
    go: oneshot::Receiver<()>,
) -> Result<Span, BenchError> {
    let idle = plan.timeout;
    let mut conn = connect(&plan.endpoint, b"", idle).await?;
    if let Some(max) = conn.info.max_payload.filter(|&m| plan.size as u64 > m) {
        return Err(BenchError::Args(format!(
            "--size {} exceeds the server's max_payload of {max} bytes",
            plan.size
        )));
    }
    let _ = ready.send(conn.info.describe.clone());
    if go.await.is_err() {
        // The run is being torn down; nothing to measure.
        let now = Instant::now();
        return Ok(Span {
            msgs: 0,
            start: now,
            end: now,
        });
    }
    let start = Instant::now();
    for _ in 0..msgs / batch.frames {
        conn.write(&batch.bytes, idle, "publishing").await?;
        conn.poll_control(idle).await?;
    }
    let rest = (msgs % batch.frames) as usize * batch.frame_len;
    // The PONG answering this PING proves the server has processed every
    // message before it, so the publish rate is not just a socket-buffer rate.
    conn.ping_with(&batch.bytes[..rest], idle).await?;
    Ok(Span {
        msgs,
        start,
        end: Instant::now(),
    })
}
