//! Exact protocol answers for malformed, edge-case and option-dependent
//! input, checked byte for byte against what nats-server 2.15.1 replies.

use crate::common;

use common::Raw;
use serde_json::Value;
use std::time::Duration;
use switchyard::ServerConfig;

const OPEN: bool = false;
const CLOSED: bool = true;

/// Sends `input` to a fresh server on a fresh connection and checks the
/// exact answer and whether the server closed the connection.
async fn expect_answer(input: &[u8], want: &str, want_closed: bool) {
    let server = common::start().await;
    let mut raw = Raw::connect(&server).await;
    let (got, closed) = raw.exchange(input).await;
    assert_eq!(got, want, "answer to {:?}", String::from_utf8_lossy(input));
    assert_eq!(
        closed,
        want_closed,
        "connection {} after {:?}",
        if closed { "closed" } else { "left open" },
        String::from_utf8_lossy(input)
    );
}

/// Reads until the accumulated output ends with `suffix`, the server closes,
/// or 5 s pass.
async fn read_until(raw: &mut Raw, suffix: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !out.ends_with(suffix) {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            return (out, false);
        }
        let (chunk, closed) = raw.read_for(left.min(Duration::from_millis(50))).await;
        out.extend_from_slice(&chunk);
        if closed {
            return (out, true);
        }
    }
    (out, false)
}

fn info_json(line: &str) -> Value {
    let body = line
        .strip_prefix("INFO ")
        .and_then(|s| s.strip_suffix(" \r\n"))
        .unwrap_or_else(|| panic!("malformed INFO line: {line:?}"));
    serde_json::from_str(body).unwrap_or_else(|e| panic!("INFO JSON {body:?}: {e}"))
}

// ---- argument errors: closed without a word ------------------------------

#[tokio::test]
async fn pub_without_size_closes_silently() {
    expect_answer(b"CONNECT {\"verbose\":false}\r\nPUB foo\r\n", "", CLOSED).await;
}

#[tokio::test]
async fn pub_with_too_many_args_closes_silently() {
    expect_answer(
        b"CONNECT {\"verbose\":false}\r\nPUB a b c 3\r\nabc\r\n",
        "",
        CLOSED,
    )
    .await;
}

#[tokio::test]
async fn pub_with_non_numeric_size_closes_silently() {
    expect_answer(b"CONNECT {\"verbose\":false}\r\nPUB foo x\r\n", "", CLOSED).await;
}

#[tokio::test]
async fn sub_without_sid_closes_silently() {
    expect_answer(b"CONNECT {\"verbose\":false}\r\nSUB foo\r\n", "", CLOSED).await;
}

#[tokio::test]
async fn hpub_without_headers_negotiated_closes_silently() {
    expect_answer(
        b"CONNECT {\"verbose\":false,\"headers\":false}\r\nHPUB foo 12 12\r\nNATS/1.0\r\n\r\n\r\n",
        "",
        CLOSED,
    )
    .await;
}

#[tokio::test]
async fn malformed_connect_json_closes_silently() {
    expect_answer(b"CONNECT {bad\r\nPING\r\n", "", CLOSED).await;
}

// ---- parser errors: 'Unknown Protocol Operation' then close --------------

#[tokio::test]
async fn unknown_operation_is_rejected() {
    expect_answer(
        b"CONNECT {\"verbose\":false}\r\nFOO\r\n",
        "-ERR 'Unknown Protocol Operation'\r\n",
        CLOSED,
    )
    .await;
}

#[tokio::test]
async fn unsub_without_arguments_is_unknown_operation() {
    expect_answer(
        b"CONNECT {\"verbose\":false}\r\nUNSUB\r\n",
        "-ERR 'Unknown Protocol Operation'\r\n",
        CLOSED,
    )
    .await;
}

#[tokio::test]
async fn payload_longer_than_declared_is_unknown_operation() {
    expect_answer(
        b"CONNECT {\"verbose\":false}\r\nPUB foo 3\r\nabcde\r\n",
        "-ERR 'Unknown Protocol Operation'\r\n",
        CLOSED,
    )
    .await;
}

// ---- CONNECT option errors -------------------------------------------------

#[tokio::test]
async fn unsupported_client_protocol_is_rejected() {
    expect_answer(
        b"CONNECT {\"protocol\":2}\r\nPING\r\n",
        "-ERR 'invalid client protocol'\r\n",
        CLOSED,
    )
    .await;
}

#[tokio::test]
async fn no_responders_without_headers_is_rejected() {
    expect_answer(
        b"CONNECT {\"no_responders\":true}\r\nPING\r\n",
        "-ERR 'no responders requires headers support'\r\n",
        CLOSED,
    )
    .await;
}

// ---- limits ----------------------------------------------------------------

#[tokio::test]
async fn control_line_over_limit_is_rejected() {
    let mut input = b"PUB ".to_vec();
    input.extend(std::iter::repeat_n(b'a', 5000));
    input.extend_from_slice(b" 1\r\n");
    expect_answer(&input, "-ERR 'maximum control line exceeded'\r\n", CLOSED).await;
}

#[tokio::test]
async fn payload_over_default_max_is_rejected() {
    expect_answer(
        b"CONNECT {\"verbose\":false}\r\nPUB foo 2000000\r\n",
        "-ERR 'Maximum Payload Violation'\r\n",
        CLOSED,
    )
    .await;
}

#[tokio::test]
async fn configured_max_payload_is_advertised_and_enforced() {
    let server = common::start_with(ServerConfig {
        max_payload: 16,
        ..Default::default()
    })
    .await;

    // Exactly at the limit is fine.
    let mut raw = Raw::connect(&server).await;
    assert_eq!(info_json(&raw.info)["max_payload"], 16, "{}", raw.info);
    raw.send(
        b"CONNECT {\"verbose\":false}\r\nSUB foo 1\r\nPUB foo 16\r\n0123456789abcdef\r\nPING\r\n",
    )
    .await;
    let (got, closed) = read_until(&mut raw, b"PONG\r\n").await;
    assert_eq!(
        String::from_utf8_lossy(&got),
        "MSG foo 1 16\r\n0123456789abcdef\r\nPONG\r\n"
    );
    assert!(!closed);

    // One byte more is a violation.
    let mut raw = Raw::connect(&server).await;
    let (got, closed) = raw
        .exchange(b"CONNECT {\"verbose\":false}\r\nPUB foo 17\r\n0123456789abcdefg\r\n")
        .await;
    assert_eq!(got, "-ERR 'Maximum Payload Violation'\r\n");
    assert!(closed, "connection should be closed after the violation");
}

// ---- verbose and pedantic ---------------------------------------------------

#[tokio::test]
async fn verbose_defaults_to_true_after_connect() {
    expect_answer(
        b"CONNECT {}\r\nPUB foo 3\r\nabc\r\nSUB foo 1\r\nUNSUB 1\r\nPING\r\n",
        "+OK\r\n+OK\r\n+OK\r\n+OK\r\nPONG\r\n",
        OPEN,
    )
    .await;
}

#[tokio::test]
async fn pedantic_rejects_invalid_subjects_but_stays_open() {
    expect_answer(
        b"CONNECT {\"pedantic\":true,\"verbose\":false}\r\nPUB foo..bar 3\r\nabc\r\nSUB foo..bar 1\r\nSUB foo.* 2\r\nPING\r\n",
        "-ERR 'Invalid Publish Subject'\r\n-ERR 'Invalid Subject'\r\nPONG\r\n",
        OPEN,
    )
    .await;
}

#[tokio::test]
async fn pedantic_defaults_to_true_and_wildcard_publish_is_still_routed() {
    expect_answer(
        b"CONNECT {\"verbose\":false}\r\nSUB > 1\r\nPUB foo.* 1\r\na\r\nPING\r\n",
        "-ERR 'Invalid Publish Subject'\r\nMSG foo.* 1 1\r\na\r\nPONG\r\n",
        OPEN,
    )
    .await;
}

#[tokio::test]
async fn invalid_sub_subjects_rejected_without_pedantic() {
    expect_answer(
        b"CONNECT {\"pedantic\":false,\"verbose\":false}\r\nSUB foo..bar 1\r\nSUB foo*.> 2\r\nSUB >.a 3\r\nPING\r\n",
        "-ERR 'Invalid Subject'\r\n-ERR 'Invalid Subject'\r\nPONG\r\n",
        OPEN,
    )
    .await;
}

/// nats-server's sublist matches nothing for a subject with an empty
/// token: pedantic or not, the message reaches no `>` or `*` subscriber
/// (differential finding of issue 15; Switchyard used to deliver it).
#[tokio::test]
async fn publishes_with_an_empty_token_reach_nobody() {
    expect_answer(
        b"CONNECT {\"pedantic\":true,\"verbose\":false,\"headers\":true}\r\nSUB > 1\r\nSUB *.* 2\r\nSUB a.* 3\r\nPUB .a 1\r\nx\r\nPUB a..b 1\r\nx\r\nHPUB a. 12 12\r\nNATS/1.0\r\n\r\n\r\nPUB a.b 1\r\ny\r\nPING\r\n",
        "-ERR 'Invalid Publish Subject'\r\n-ERR 'Invalid Publish Subject'\r\n-ERR 'Invalid Publish Subject'\r\nMSG a.b 1 1\r\ny\r\nMSG a.b 2 1\r\ny\r\nMSG a.b 3 1\r\ny\r\nPONG\r\n",
        OPEN,
    )
    .await;
    expect_answer(
        b"CONNECT {\"pedantic\":false,\"verbose\":false}\r\nSUB > 1\r\nPUB a..b 1\r\nx\r\nPUB .a 1\r\nx\r\nPING\r\n",
        "PONG\r\n",
        OPEN,
    )
    .await;
}

/// nats-server looks for the sid before it learns that the subject is
/// invalid: a duplicate sid with an invalid subject is answered with
/// nothing (`+OK` in verbose mode), the first subscription kept.
#[tokio::test]
async fn a_duplicate_sid_is_ignored_before_the_subject_is_checked() {
    expect_answer(
        b"CONNECT {\"verbose\":false}\r\nSUB b 6\r\nSUB a. 6\r\nSUB a.. 7\r\nPUB b 1\r\nz\r\nPING\r\n",
        "-ERR 'Invalid Subject'\r\nMSG b 6 1\r\nz\r\nPONG\r\n",
        OPEN,
    )
    .await;
    expect_answer(
        b"CONNECT {\"verbose\":true}\r\nSUB b 6\r\nSUB a. 6\r\nPING\r\n",
        "+OK\r\n+OK\r\n+OK\r\nPONG\r\n",
        OPEN,
    )
    .await;
}

#[tokio::test]
async fn unsub_with_non_numeric_max_is_ignored() {
    expect_answer(
        b"CONNECT {\"verbose\":false}\r\nUNSUB 1 x\r\nPING\r\n",
        "PONG\r\n",
        OPEN,
    )
    .await;
}

#[tokio::test]
async fn operations_before_connect_are_allowed_without_auth() {
    expect_answer(
        b"PING\r\nSUB x 1\r\nPUB x 1\r\na\r\n",
        "PONG\r\n+OK\r\n+OK\r\nMSG x 1 1\r\na\r\n",
        OPEN,
    )
    .await;
}

// ---- subscriptions ----------------------------------------------------------

#[tokio::test]
async fn duplicate_sid_is_ignored_and_auto_unsubscribe_applies() {
    expect_answer(
        b"CONNECT {\"verbose\":false}\r\nSUB foo 1\r\nSUB foo 1\r\nUNSUB 1 2\r\nPUB foo 1\r\na\r\nPUB foo 1\r\nb\r\nPUB foo 1\r\nc\r\nPING\r\n",
        "MSG foo 1 1\r\na\r\nMSG foo 1 1\r\nb\r\nPONG\r\n",
        OPEN,
    )
    .await;
}

/// `UNSUB sid max` counts the deliveries made before it, as nats-server's
/// `sub.nm` does: after one message, `UNSUB 1 1` removes at once
/// (differential finding; Switchyard counted only once a max was set).
#[tokio::test]
async fn unsub_max_counts_deliveries_made_before_it() {
    expect_answer(
        b"CONNECT {\"verbose\":false}\r\nSUB foo 1\r\nPUB foo 1\r\na\r\nUNSUB 1 1\r\nPUB foo 1\r\nb\r\nPING\r\n",
        "MSG foo 1 1\r\na\r\nPONG\r\n",
        OPEN,
    )
    .await;
}

#[tokio::test]
async fn no_responders_status_is_sent_to_reply_subject() {
    expect_answer(
        b"CONNECT {\"verbose\":false,\"headers\":true,\"no_responders\":true}\r\nSUB _INBOX.x 9\r\nPUB foo _INBOX.x 1\r\na\r\nPING\r\n",
        "HMSG _INBOX.x 9 35 35\r\nNATS/1.0 503\r\nNats-Subject: foo\r\n\r\n\r\nPONG\r\n",
        OPEN,
    )
    .await;
}

// ---- INFO -------------------------------------------------------------------

#[tokio::test]
async fn initial_info_describes_the_server() {
    let server = common::start().await;
    let raw = Raw::connect(&server).await;
    assert!(raw.info.starts_with("INFO {"), "{:?}", raw.info);
    assert!(raw.info.ends_with("} \r\n"), "{:?}", raw.info);
    let info = info_json(&raw.info);
    let id = info["server_id"].as_str().expect("server_id string");
    assert!(id.starts_with('N'), "server_id {id}");
    assert_eq!(id.len(), 56, "server_id {id}");
    assert_eq!(info["headers"], true);
    assert_eq!(info["max_payload"], 1048576);
    assert_eq!(info["proto"], 1);
    assert!(
        info["client_id"].as_u64().is_some_and(|c| c > 0),
        "client_id {}",
        info["client_id"]
    );
    assert_eq!(info["port"], server.local_addr().port());
}

#[tokio::test]
async fn protocol_1_client_gets_one_connect_info_after_first_pong() {
    let server = common::start().await;
    let mut raw = Raw::connect(&server).await;
    let (got, closed) = raw
        .exchange(
            b"CONNECT {\"verbose\":false,\"protocol\":1,\"headers\":true}\r\nPING\r\nPING\r\n",
        )
        .await;
    assert!(!closed, "connection closed; got {got:?}");
    let rest = got
        .strip_prefix("PONG\r\n")
        .and_then(|s| s.strip_suffix("PONG\r\n"))
        .unwrap_or_else(|| panic!("want PONG, INFO, PONG; got {got:?}"));
    assert_eq!(rest.matches("INFO ").count(), 1, "{got:?}");
    assert!(
        rest.starts_with("INFO {") && rest.ends_with("} \r\n"),
        "{got:?}"
    );
    let info = info_json(rest);
    assert_eq!(info["connect_info"], true, "{rest}");
    assert_eq!(info["remote_account"], "$G", "{rest}");
}

// ---- framing ----------------------------------------------------------------

#[tokio::test]
async fn op_names_are_case_insensitive_and_tabs_separate_fields() {
    expect_answer(
        b"connect {\"verbose\":false}\r\nsub\tfoo  1\r\npub foo\t1\r\na\r\nping\r\n",
        "MSG foo 1 1\r\na\r\nPONG\r\n",
        OPEN,
    )
    .await;
}

#[tokio::test]
async fn bare_lf_ends_lines() {
    expect_answer(b"CONNECT {\"verbose\":false}\nPING\n", "PONG\r\n", OPEN).await;
}

#[tokio::test]
async fn frame_split_at_every_byte_is_reassembled() {
    let server = common::start().await;
    let mut raw = Raw::connect(&server).await;
    raw.stream.set_nodelay(true).unwrap();
    raw.send(b"CONNECT {\"verbose\":false}\r\n").await;
    for &b in b"SUB foo 1\r\nPUB foo 5\r\nhello\r\nPING\r\n" {
        raw.send(&[b]).await;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let (got, closed) = read_until(&mut raw, b"PONG\r\n").await;
    assert_eq!(
        String::from_utf8_lossy(&got),
        "MSG foo 1 5\r\nhello\r\nPONG\r\n"
    );
    assert!(!closed);
}

// ---- headers ----------------------------------------------------------------

#[tokio::test]
async fn hpub_reaches_header_and_plain_subscribers() {
    let server = common::start().await;
    let mut with_headers = Raw::connect(&server).await;
    let mut plain = Raw::connect(&server).await;
    let mut publisher = Raw::connect(&server).await;

    with_headers
        .send(b"CONNECT {\"verbose\":false,\"headers\":true}\r\nSUB foo 1\r\nPING\r\n")
        .await;
    assert_eq!(
        read_until(&mut with_headers, b"PONG\r\n").await.0,
        b"PONG\r\n"
    );
    plain
        .send(b"CONNECT {\"verbose\":false}\r\nSUB foo 2\r\nPING\r\n")
        .await;
    assert_eq!(read_until(&mut plain, b"PONG\r\n").await.0, b"PONG\r\n");

    let headers = "NATS/1.0\r\nA: 1\r\n\r\n"; // 18 bytes
    let payload = "hello";
    let hpub = format!(
        "CONNECT {{\"verbose\":false,\"headers\":true}}\r\nHPUB foo {} {}\r\n{headers}{payload}\r\nPING\r\n",
        headers.len(),
        headers.len() + payload.len()
    );
    publisher.send(hpub.as_bytes()).await;
    assert_eq!(read_until(&mut publisher, b"PONG\r\n").await.0, b"PONG\r\n");

    let want = format!("HMSG foo 1 18 23\r\n{headers}{payload}\r\n");
    let (got, closed) = read_until(&mut with_headers, want.as_bytes()).await;
    assert_eq!(String::from_utf8_lossy(&got), want);
    assert!(!closed);

    let want = "MSG foo 2 5\r\nhello\r\n";
    let (got, closed) = read_until(&mut plain, want.as_bytes()).await;
    assert_eq!(String::from_utf8_lossy(&got), want);
    assert!(!closed);
}
