//! Request/reply: one requester doing sequential round trips through one
//! responder, so each sample is a full client -> server -> responder ->
//! server -> client trip.

use super::client::{Conn, connect};
use super::error::BenchError;
use super::plan::Plan;
use super::pubsub::AbortOnDrop;
use super::report::{BenchReport, RequestStats};
use super::stats::{Latency, to_nanos};
use std::time::{Duration, Instant};

pub(crate) async fn run(plan: &Plan) -> Result<BenchReport, BenchError> {
    let idle = plan.timeout;
    let sub = format!("SUB {} 1\r\n", plan.sub_subject);
    let responder_conn = connect(&plan.sub_endpoint, sub.as_bytes(), idle).await?;
    if let Some(max) = responder_conn
        .info
        .max_payload
        .filter(|&m| plan.size as u64 > m)
    {
        return Err(BenchError::Args(format!(
            "--size {} exceeds the server's max_payload of {max} bytes",
            plan.size
        )));
    }
    let server = responder_conn.info.describe.clone();
    let responder = tokio::spawn(respond(responder_conn, plan.size, idle));
    let _guard = AbortOnDrop(vec![responder.abort_handle()]);

    let token: String = std::iter::repeat_with(fastrand::alphanumeric)
        .take(16)
        .collect();
    let inbox = format!("_INBOX.{token}");
    let sub = format!("SUB {inbox}.* 1\r\n");
    let mut conn = connect(&plan.endpoint, sub.as_bytes(), idle).await?;

    // On a worker thread rather than the caller's `block_on` thread, so the
    // worker that sees the reply's readiness can poll the requester directly
    // instead of waking another thread.
    let looped = plan.clone();
    let requester = tokio::spawn(async move { request_loop(&mut conn, &looped, &inbox).await });
    let _requester_guard = AbortOnDrop(vec![requester.abort_handle()]);
    let result = requester.await?;
    let (mut samples, elapsed) = match result {
        Ok(r) => r,
        // A responder that failed explains a missing reply better than the timeout.
        Err(e) if responder.is_finished() => return Err(responder.await?.err().unwrap_or(e)),
        Err(e) => return Err(e),
    };
    let latency = Latency::from_nanos(&mut samples)
        .ok_or_else(|| BenchError::Args("no request completed".into()))?;
    Ok(BenchReport {
        mode: plan.mode,
        url: plan.url.clone(),
        server,
        subject: plan.subject.clone(),
        msgs: plan.msgs,
        size: plan.size,
        pubs: 1,
        subs: 1,
        publishers: None,
        subscribers: None,
        delivered: samples.len() as u64,
        requests: Some(RequestStats {
            count: samples.len() as u64,
            elapsed,
            latency,
        }),
        json: plan.json,
    })
}

/// Sends `plan.msgs` requests one after the other; returns each round trip
/// in nanoseconds and the total time.
async fn request_loop(
    conn: &mut Conn,
    plan: &Plan,
    inbox: &str,
) -> Result<(Vec<u32>, Duration), BenchError> {
    let idle = plan.timeout;
    let count = usize::try_from(plan.msgs)
        .map_err(|_| BenchError::Args("--msgs is too large for req mode".into()))?;
    let payload: Vec<u8> = std::iter::repeat_with(|| fastrand::alphanumeric() as u8)
        .take(plan.size)
        .collect();
    let mut samples = Vec::with_capacity(count);
    let mut frame = Vec::with_capacity(plan.size + plan.subject.len() + inbox.len() + 64);
    let mut reply_to = Vec::with_capacity(inbox.len() + 24);
    let mut num = itoa::Buffer::new();
    let start = Instant::now();
    for i in 0..plan.msgs {
        // A distinct reply subject per request makes a late or duplicated
        // reply to an earlier request impossible to mistake for this one.
        reply_to.clear();
        reply_to.extend_from_slice(inbox.as_bytes());
        reply_to.push(b'.');
        reply_to.extend_from_slice(num.format(i).as_bytes());
        frame.clear();
        frame.extend_from_slice(b"PUB ");
        frame.extend_from_slice(plan.subject.as_bytes());
        frame.push(b' ');
        frame.extend_from_slice(&reply_to);
        frame.push(b' ');
        frame.extend_from_slice(num.format(plan.size).as_bytes());
        frame.extend_from_slice(b"\r\n");
        frame.extend_from_slice(&payload);
        frame.extend_from_slice(b"\r\n");

        let sent = Instant::now();
        conn.write(&frame, idle, "sending a request").await?;
        let mut answered = false;
        while !answered {
            let what = "waiting for a reply (is a responder subscribed?)";
            conn.read_msgs(idle, what, |m| {
                answered |= m.subject() == reply_to.as_slice()
            })
            .await?;
        }
        samples.push(to_nanos(sent.elapsed()));
    }
    Ok((samples, start.elapsed()))
}

/// Answers every request with a payload as large as the request's.
async fn respond(mut conn: Conn, size: usize, idle: Duration) -> Result<(), BenchError> {
    let mut payload = vec![b'r'; size];
    let mut out = Vec::with_capacity(64 * 1024);
    let mut num = itoa::Buffer::new();
    loop {
        out.clear();
        conn.read_msgs(idle, "waiting for requests", |m| {
            let Some(reply) = m.reply() else { return };
            if payload.len() < m.payload_len {
                payload.resize(m.payload_len, b'r');
            }
            out.extend_from_slice(b"PUB ");
            out.extend_from_slice(reply);
            out.push(b' ');
            out.extend_from_slice(num.format(m.payload_len).as_bytes());
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(&payload[..m.payload_len]);
            out.extend_from_slice(b"\r\n");
        })
        .await?;
        if !out.is_empty() {
            conn.write(&out, idle, "sending a reply").await?;
        }
    }
}
