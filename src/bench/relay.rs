//! `switchyard bench relay`: the ceiling for one broker hop on this machine.
//!
//! A sender writes `msgs × size` bytes to a loopback socket; a relay task
//! reads them in large chunks and writes each chunk to a second loopback
//! socket, where a receiver counts them. Nothing is parsed, framed or
//! copied beyond the one buffer the relay reads into, so the rate is what
//! the kernel's loopback path and one reading-and-writing task allow: a
//! broker that moves large payloads cannot do better on the same cores, and
//! `benches/large-payloads.sh` reports broker figures as a fraction of it.
//!
//! The relay runs on its own runtime and threads, as a broker process would,
//! so that it competes with the sender and receiver for the cores the way a
//! broker competes with the load generator.

use super::client::{io_err, timed_out};
use super::error::BenchError;
use super::plan::Plan;
use super::report::BenchReport;
use super::stats::Span;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::time::timeout;

/// The sender writes in blocks of this size, as publishers write their
/// pre-built batches (`pubsub::BATCH_BYTES`).
const SEND_BYTES: usize = 256 * 1024;
/// The receiver's read buffer, as a bench subscriber's (`pubsub::READ_BYTES`).
const RECV_BYTES: usize = 256 * 1024;

pub(crate) async fn run(plan: &Plan) -> Result<BenchReport, BenchError> {
    let total = plan
        .msgs
        .checked_mul(plan.size as u64)
        .ok_or_else(|| BenchError::Args("--msgs × --size overflows".into()))?;
    let idle = plan.timeout;
    let bind = |what: &str| {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .map_err(|source| io_err("127.0.0.1:0", what, source))?;
        let addr = listener
            .local_addr()
            .map_err(|source| io_err("127.0.0.1:0", what, source))?;
        Ok::<_, BenchError>((listener, addr))
    };
    let (inbound, in_addr) = bind("binding the relay's inbound socket")?;
    let (outbound, out_addr) = bind("binding the relay's outbound socket")?;

    let (done_tx, done) = oneshot::channel();
    let chunk = plan.relay_chunk;
    std::thread::Builder::new()
        .name("bench-relay".into())
        .spawn(move || {
            let _ = done_tx.send(relay_on_own_runtime(inbound, outbound, chunk, idle));
        })
        .map_err(|source| io_err("relay", "starting the relay thread", source))?;

    let (sender, receiver) = tokio::join!(
        async {
            let s = connect(in_addr).await?;
            send(s, total, idle).await
        },
        async {
            let s = connect(out_addr).await?;
            receive(s, total, idle).await
        },
    );
    let (sent, received) = (sender?, receiver?);
    match done.await {
        Ok(Ok(relayed)) if relayed == total => {}
        Ok(Ok(relayed)) => {
            return Err(BenchError::Args(format!(
                "the relay moved {relayed} bytes instead of {total}"
            )));
        }
        Ok(Err(e)) => return Err(e),
        Err(_) => return Err(BenchError::Args("the relay thread panicked".into())),
    }

    let msgs = plan.msgs;
    let side = |span: Span| {
        super::pubsub::side(
            &[Span {
                msgs,
                start: span.start,
                end: span.end,
            }],
            plan.size,
        )
    };
    Ok(BenchReport {
        mode: plan.mode,
        url: format!("loopback {in_addr} -> {out_addr}"),
        server: format!("in-process relay, {} KiB reads", chunk / 1024),
        subject: "(raw bytes, no subject)".into(),
        msgs,
        size: plan.size,
        pubs: 1,
        subs: 1,
        publishers: side(sent),
        subscribers: side(received),
        delivered: msgs,
        requests: None,
        json: plan.json,
    })
}

/// Runs the relay on a runtime of its own (one worker per core, as `switchyard
/// serve` has) and returns how many bytes it moved.
fn relay_on_own_runtime(
    inbound: std::net::TcpListener,
    outbound: std::net::TcpListener,
    chunk: usize,
    idle: Duration,
) -> Result<u64, BenchError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| io_err("relay", "starting the relay's runtime", source))?;
    runtime.block_on(async move {
        let accept = |l: std::net::TcpListener, what: &'static str| async move {
            let l = TcpListener::from_std(l).map_err(|source| io_err("relay", what, source))?;
            let (s, _) = timeout(idle, l.accept())
                .await
                .map_err(|_| timed_out(idle, what.into()))?
                .map_err(|source| io_err("relay", what, source))?;
            s.set_nodelay(true)
                .map_err(|source| io_err("relay", "setting TCP_NODELAY", source))?;
            Ok::<_, BenchError>(s)
        };
        let (rd, wr) = tokio::try_join!(
            accept(inbound, "accepting the sender"),
            accept(outbound, "accepting the receiver"),
        )?;
        relay(rd, wr, chunk, idle).await
    })
}

/// One task that reads up to `chunk` bytes and writes them on, until the
/// sender closes: the whole of a broker hop except the broker.
async fn relay(
    mut rd: TcpStream,
    mut wr: TcpStream,
    chunk: usize,
    idle: Duration,
) -> Result<u64, BenchError> {
    let mut buf = vec![0u8; chunk];
    let mut moved = 0u64;
    loop {
        let n = timeout(idle, rd.read(&mut buf))
            .await
            .map_err(|_| timed_out(idle, "relay waiting for the sender".into()))?
            .map_err(|source| io_err("relay", "reading from the sender", source))?;
        if n == 0 {
            break;
        }
        timeout(idle, wr.write_all(&buf[..n]))
            .await
            .map_err(|_| timed_out(idle, "relay writing to the receiver".into()))?
            .map_err(|source| io_err("relay", "writing to the receiver", source))?;
        moved += n as u64;
    }
    let _ = wr.shutdown().await;
    Ok(moved)
}

async fn connect(addr: std::net::SocketAddr) -> Result<TcpStream, BenchError> {
    let s = TcpStream::connect(addr)
        .await
        .map_err(|source| BenchError::Connect {
            addr: addr.to_string(),
            source,
        })?;
    s.set_nodelay(true)
        .map_err(|source| io_err(&addr.to_string(), "setting TCP_NODELAY", source))?;
    Ok(s)
}

/// Writes `total` bytes; the span runs from the first write to the last.
async fn send(mut s: TcpStream, total: u64, idle: Duration) -> Result<Span, BenchError> {
    let block = vec![b'x'; SEND_BYTES];
    let mut left = total;
    let start = Instant::now();
    while left > 0 {
        let n = block.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        timeout(idle, s.write_all(&block[..n]))
            .await
            .map_err(|_| timed_out(idle, "sending to the relay".into()))?
            .map_err(|source| io_err("relay", "sending to the relay", source))?;
        left -= n as u64;
    }
    let end = Instant::now();
    let _ = s.shutdown().await;
    Ok(Span {
        msgs: 0,
        start,
        end,
    })
}

/// Reads until `total` bytes have arrived; the span runs from the first
/// byte to the last, as a bench subscriber's runs from its first message
/// to its last.
async fn receive(mut s: TcpStream, total: u64, idle: Duration) -> Result<Span, BenchError> {
    let mut buf = vec![0u8; RECV_BYTES];
    let mut got = 0u64;
    let mut first = None;
    let mut last = Instant::now();
    while got < total {
        let n = timeout(idle, s.read(&mut buf))
            .await
            .map_err(|_| timed_out(idle, format!("with {got} of {total} bytes relayed")))?
            .map_err(|source| io_err("relay", "receiving from the relay", source))?;
        if n == 0 {
            return Err(BenchError::Args(format!(
                "the relay closed after {got} of {total} bytes"
            )));
        }
        last = Instant::now();
        first.get_or_insert(last);
        got += n as u64;
    }
    Ok(Span {
        msgs: 0,
        start: first.unwrap_or(last),
        end: last,
    })
}
