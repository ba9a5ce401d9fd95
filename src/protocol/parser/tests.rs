use super::*;
use crate::protocol::ParseError;
use proptest::prelude::*;

fn one(input: &[u8]) -> Result<Option<(Op<'_>, usize)>, ParseError> {
    parse(input, &Limits::default())
}

#[test]
fn parses_pub_with_and_without_reply() {
    let (op, n) = one(b"PUB foo 3\r\nabc\r\n").unwrap().unwrap();
    assert_eq!(
        op,
        Op::Pub {
            subject: b"foo",
            reply: None,
            headers: None,
            payload: b"abc"
        }
    );
    assert_eq!(n, 16);
    let (op, _) = one(b"pub\tfoo  bar 0\r\n\r\n").unwrap().unwrap();
    assert_eq!(
        op,
        Op::Pub {
            subject: b"foo",
            reply: Some(b"bar"),
            headers: None,
            payload: b""
        }
    );
}

#[test]
fn parses_hpub() {
    let (op, _) = one(b"HPUB foo r 12 14\r\nNATS/1.0\r\n\r\nhi\r\n")
        .unwrap()
        .unwrap();
    assert_eq!(
        op,
        Op::Pub {
            subject: b"foo",
            reply: Some(b"r"),
            headers: Some(b"NATS/1.0\r\n\r\n"),
            payload: b"hi"
        }
    );
}

/// MSG and HMSG are what a server sends: from a client they are unknown
/// operations, refused on the name, before a declared payload of any size
/// is waited for (the parser once buffered it, with no payload limit).
#[test]
fn msg_and_hmsg_from_a_client_are_unknown_operations() {
    for line in [
        &b"MSG foo 7 999999999\r\n"[..],
        b"HMSG foo 7 12 999999999\r\n",
        b"MSG",
        b"hmsg foo",
    ] {
        assert_eq!(one(line), Err(ParseError::UnknownOp), "{line:?}");
    }
}

#[test]
fn parses_sub_unsub_and_control_ops() {
    assert_eq!(
        one(b"SUB foo q 1\r\n").unwrap().unwrap().0,
        Op::Sub {
            subject: b"foo",
            queue: Some(b"q"),
            sid: b"1"
        }
    );
    assert_eq!(
        one(b"UNSUB 1 5\n").unwrap().unwrap().0,
        Op::Unsub {
            sid: b"1",
            max: Some(5)
        }
    );
    assert_eq!(
        one(b"UNSUB 1 x\r\n").unwrap().unwrap().0,
        Op::Unsub {
            sid: b"1",
            max: None
        }
    );
    assert_eq!(one(b"ping\r\n").unwrap().unwrap(), (Op::Ping, 6));
    assert_eq!(one(b"PONG\n").unwrap().unwrap(), (Op::Pong, 5));
    assert_eq!(
        one(b"-ERR 'Stale Connection'\r\n").unwrap().unwrap().0,
        Op::Err(b"Stale Connection")
    );
    assert_eq!(
        one(b"CONNECT {}\r\n").unwrap().unwrap().0,
        Op::Connect(b"{}")
    );
}

#[test]
fn incomplete_input_waits() {
    for input in [
        &b"P"[..],
        b"PU",
        b"PUB foo",
        b"PUB foo 3\r\nab",
        b"PUB foo 3\r\nabc",
        b"PUB foo 3\r\nabc\r",
        b"CONN",
    ] {
        assert_eq!(one(input), Ok(None), "{:?}", String::from_utf8_lossy(input));
    }
}

#[test]
fn rejects_bad_input_with_the_right_error() {
    assert_eq!(one(b"FOO\r\n"), Err(ParseError::UnknownOp));
    assert_eq!(one(b"UNSUB\r\n"), Err(ParseError::UnknownOp));
    assert_eq!(one(b"XYZXYZXYZ"), Err(ParseError::UnknownOp));
    assert_eq!(
        one(b"PUB foo\r\n"),
        Err(ParseError::BadArguments { op: "PUB" })
    );
    assert_eq!(
        one(b"PUB foo x\r\n"),
        Err(ParseError::BadArguments { op: "PUB" })
    );
    assert_eq!(
        one(b"PUB a b c 3\r\n"),
        Err(ParseError::BadArguments { op: "PUB" })
    );
    assert_eq!(
        one(b"HPUB foo 5 3\r\n"),
        Err(ParseError::BadArguments { op: "HPUB" })
    );
    assert_eq!(
        one(b"SUB foo\r\n"),
        Err(ParseError::BadArguments { op: "SUB" })
    );
    assert_eq!(
        one(b"PUB foo 3\r\nabcde\r\n"),
        Err(ParseError::MissingPayloadTerminator)
    );
    assert_eq!(
        one(b"PUB foo 2000000\r\n"),
        Err(ParseError::MaxPayload {
            size: 2_000_000,
            max: 1 << 20
        })
    );
    let long = [b"PUB ".as_slice(), &[b'a'; 5000]].concat();
    assert_eq!(one(&long), Err(ParseError::ControlLineTooLong));
}

/// A random valid client operation, rendered as bytes.
fn arb_op() -> impl Strategy<Value = Vec<u8>> {
    let token = "[a-zA-Z0-9_-]{1,8}";
    let subject = prop::collection::vec(token, 1..4).prop_map(|t| t.join("."));
    let payload = prop::collection::vec(any::<u8>(), 0..64);
    prop_oneof![
        (subject.clone(), prop::option::of(token), payload.clone()).prop_map(|(s, r, p)| {
            let mut v = match r {
                Some(r) => format!("PUB {s} {r} {}\r\n", p.len()).into_bytes(),
                None => format!("PUB {s} {}\r\n", p.len()).into_bytes(),
            };
            v.extend_from_slice(&p);
            v.extend_from_slice(b"\r\n");
            v
        }),
        (subject.clone(), payload).prop_map(|(s, p)| {
            let hdr = b"NATS/1.0\r\nK: v\r\n\r\n";
            let mut v = format!("HPUB {s} {} {}\r\n", hdr.len(), hdr.len() + p.len()).into_bytes();
            v.extend_from_slice(hdr);
            v.extend_from_slice(&p);
            v.extend_from_slice(b"\r\n");
            v
        }),
        (subject, prop::option::of(token), 1u32..1000).prop_map(|(s, q, sid)| match q {
            Some(q) => format!("SUB {s} {q} {sid}\r\n").into_bytes(),
            None => format!("sub {s} {sid}\n").into_bytes(),
        }),
        (1u32..1000, prop::option::of(1u32..10)).prop_map(|(sid, m)| match m {
            Some(m) => format!("UNSUB {sid} {m}\r\n").into_bytes(),
            None => format!("UNSUB {sid}\r\n").into_bytes(),
        }),
        Just(b"PING\r\n".to_vec()),
        Just(b"PONG\r\n".to_vec()),
        Just(b"CONNECT {\"verbose\":false}\r\n".to_vec()),
    ]
}

/// Owned copy of an op so results from different buffers can be compared.
fn render(op: &Op<'_>) -> String {
    format!("{op:?}")
}

/// Parses a stream fed in chunks, the way a connection does: keep the
/// unconsumed tail, append the next chunk, parse again.
fn parse_chunked(stream: &[u8], cuts: &[usize]) -> Vec<String> {
    let mut out = Vec::new();
    let mut buf: Vec<u8> = Vec::new();
    let mut prev = 0;
    for &cut in cuts.iter().chain(std::iter::once(&stream.len())) {
        buf.extend_from_slice(&stream[prev..cut]);
        prev = cut;
        while let Some((op, used)) = parse(&buf, &Limits::default()).expect("valid stream") {
            out.push(render(&op));
            buf.drain(..used);
        }
    }
    assert!(buf.is_empty(), "bytes left over");
    out
}

proptest! {
    #[test]
    fn split_anywhere_parses_the_same(ops in prop::collection::vec(arb_op(), 1..12)) {
        let stream: Vec<u8> = ops.concat();
        let whole = parse_chunked(&stream, &[]);
        prop_assert_eq!(whole.len(), ops.len());
        for cut in 0..=stream.len() {
            prop_assert_eq!(&parse_chunked(&stream, &[cut]), &whole);
        }
        let every_byte: Vec<usize> = (1..stream.len()).collect();
        prop_assert_eq!(&parse_chunked(&stream, &every_byte), &whole);
    }
}

/// Once a PUB or HPUB control line is complete, the frame's whole length
/// is known before its payload arrives; anything else gives none.
#[test]
fn pending_frame_is_known_from_the_control_line() {
    let limits = Limits::default();
    assert_eq!(
        pending_frame(b"PUB a 100\r\nxy", &limits),
        Some(11 + 100 + 2)
    );
    assert_eq!(
        pending_frame(b"HPUB a r 12 30\r\nNATS/1.0", &limits),
        Some(16 + 30 + 2)
    );
    assert_eq!(
        pending_frame(b"PUB a 100", &limits),
        None,
        "line incomplete"
    );
    assert_eq!(
        pending_frame(b"PUB a 2\r\nhi\r\n", &limits),
        None,
        "complete"
    );
    assert_eq!(pending_frame(b"SUB a 1", &limits), None);
    assert_eq!(
        pending_frame(b"PUB a 2000000\r\n", &limits),
        None,
        "over max_payload: an error for parse, no buffer"
    );
}

/// Arguments split on runs of spaces and tabs, as nats-server's parser
/// does; other control bytes belong to a word; more than `MAX_ARGS` is
/// reported as such.
#[test]
fn split_args_on_spaces_and_tabs() {
    let words = |args: &'static [u8]| {
        let (a, n) = split_args(args);
        a[..n.min(MAX_ARGS)].to_vec()
    };
    assert_eq!(words(b"a 16"), [&b"a"[..], b"16"]);
    assert_eq!(
        words(b" \t a\t\t reply  16 \t"),
        [&b"a"[..], b"reply", b"16"]
    );
    assert_eq!(words(b"a\x0bb 1"), [&b"a\x0bb"[..], b"1"]);
    assert!(words(b"").is_empty() && words(b" \t ").is_empty());
    assert_eq!(split_args(b"1 2 3 4 5 6").1, 6);
    assert_eq!(split_args(b"1 2 3 4 5 6 7").1, MAX_ARGS + 1);
}
