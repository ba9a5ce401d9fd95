use super::*;

fn limits() -> Limits {
    Limits {
        max_control_line: 1024,
        max_payload: 1024,
    }
}

fn one(buf: &[u8]) -> PeerOp<'_> {
    let (op, used) = parse_leaf(buf, &limits()).unwrap().unwrap();
    assert_eq!(used, buf.len(), "whole frame used");
    op
}

#[test]
fn interest_lines() {
    assert_eq!(
        one(b"LS+ foo.*\r\n"),
        PeerOp::Sub {
            account: b"",
            subject: b"foo.*",
            queue: None
        }
    );
    assert_eq!(
        one(b"LS+ foo q 3\r\n"),
        PeerOp::Sub {
            account: b"",
            subject: b"foo",
            queue: Some((b"q", 3))
        }
    );
    assert_eq!(
        one(b"LS- foo q\r\n"),
        PeerOp::Unsub {
            account: b"",
            subject: b"foo",
            queue: Some(b"q")
        }
    );
    assert!(parse_leaf(b"LS+ a b\r\n", &limits()).is_err());
    assert!(parse_leaf(b"LS+ a b x\r\n", &limits()).is_err());
}

#[test]
fn message_forms() {
    let m = one(b"LMSG a.b 2\r\nhi\r\n");
    assert_eq!(
        m,
        PeerOp::Msg {
            account: b"",
            subject: b"a.b",
            reply: None,
            queues: b"",
            headers: None,
            payload: b"hi"
        }
    );
    let m = one(b"LMSG a r 0\r\n\r\n");
    assert!(matches!(
        m,
        PeerOp::Msg {
            account: b"",
            reply: Some(b"r"),
            ..
        }
    ));
    let m = one(b"LMSG a + r q1 q2 1\r\nx\r\n");
    assert!(matches!(
        m,
        PeerOp::Msg {
            account: b"",
            reply: Some(b"r"),
            queues: b"q1 q2",
            ..
        }
    ));
    let m = one(b"LMSG a | q1 1\r\nx\r\n");
    assert!(matches!(
        m,
        PeerOp::Msg {
            account: b"",
            reply: None,
            queues: b"q1",
            ..
        }
    ));
    let m = one(b"HMSG a | q 12 13\r\nNATS/1.0\r\n\r\nx\r\n");
    assert!(matches!(
        m,
        PeerOp::Msg {
            account: b"",
            queues: b"q",
            headers: Some(b"NATS/1.0\r\n\r\n"),
            payload: b"x",
            ..
        }
    ));
    assert!(parse_leaf(b"LMSG a ? r 1\r\nx\r\n", &limits()).is_err());
    assert!(parse_leaf(b"LMSG a 1\r\nxy\r\n", &limits()).is_err());
    assert!(matches!(
        parse_leaf(b"LMSG a 5000\r\n", &limits()),
        Err(ParseError::MaxPayload { .. })
    ));
    assert_eq!(parse_leaf(b"LMSG a 5\r\nab", &limits()), Ok(None));
    assert_eq!(parse_leaf(b"LMS", &limits()), Ok(None));
    assert!(parse_leaf(b"PUB a 1\r\nx\r\n", &limits()).is_err());
}

fn msg<'a>(
    dialect: Dialect,
    account: &'a [u8],
    reply: Option<&'a [u8]>,
    queue: Option<&'a [u8]>,
    headers: Option<&'a [u8]>,
    payload: &'a [u8],
) -> PeerMsg<'a> {
    PeerMsg {
        dialect,
        account,
        subject: b"a",
        reply,
        queue,
        headers,
        payload,
    }
}

#[test]
fn encodes_what_it_parses() {
    let mut b = BytesMut::new();
    let h = b"NATS/1.0\r\n\r\n";
    encode_peer_msg(
        &mut b,
        &msg(Dialect::Leaf, b"", Some(b"r"), Some(b"q"), Some(h), b"x"),
    );
    encode_peer_msg(&mut b, &msg(Dialect::Leaf, b"", None, None, None, b"yz"));
    encode_peer_sub(&mut b, Dialect::Leaf, b"", b"s", Some((b"q", 2)));
    encode_peer_unsub(&mut b, Dialect::Leaf, b"", b"s", None);
    assert_eq!(
        &b[..],
        &b"HMSG a + r q 12 13\r\nNATS/1.0\r\n\r\nx\r\nLMSG a 2\r\nyz\r\nLS+ s q 2\r\nLS- s\r\n"[..]
    );
    assert!(names_queue(b"q1 q2", b"q2"));
    assert!(!names_queue(b"q1 q2", b"q"));
}

fn route(buf: &[u8]) -> PeerOp<'_> {
    let (op, used) = parse_peer(buf, &limits(), Dialect::Route).unwrap().unwrap();
    assert_eq!(used, buf.len(), "whole frame used");
    op
}

#[test]
fn route_operations_name_their_account() {
    assert_eq!(
        route(b"RS+ ACC foo.* q 3\r\n"),
        PeerOp::Sub {
            account: b"ACC",
            subject: b"foo.*",
            queue: Some((b"q", 3)),
        }
    );
    assert_eq!(
        route(b"RS- $G foo\r\n"),
        PeerOp::Unsub {
            account: b"$G",
            subject: b"foo",
            queue: None,
        }
    );
    assert_eq!(
        route(b"RMSG $G foo + r q1 q2 2\r\nhi\r\n"),
        PeerOp::Msg {
            account: b"$G",
            subject: b"foo",
            reply: Some(b"r"),
            queues: b"q1 q2",
            headers: None,
            payload: b"hi",
        }
    );
    assert_eq!(
        route(b"HMSG A foo | q 12 14\r\nNATS/1.0\r\n\r\nhi\r\n"),
        PeerOp::Msg {
            account: b"A",
            subject: b"foo",
            reply: None,
            queues: b"q",
            headers: Some(b"NATS/1.0\r\n\r\n"),
            payload: b"hi",
        }
    );
    // Leaf operations are not route operations, and an account is required.
    assert!(parse_peer(b"LS+ foo\r\n", &limits(), Dialect::Route).is_err());
    assert!(parse_peer(b"RS+\r\n", &limits(), Dialect::Route).is_err());
    assert!(parse_peer(b"RMSG A 1\r\nx\r\n", &limits(), Dialect::Route).is_err());
    assert!(parse_peer(b"RMSG A foo + r 1\r\nx\r\n", &limits(), Dialect::Route).is_err());
    assert_eq!(parse_peer(b"RMS", &limits(), Dialect::Route), Ok(None));

    let mut b = BytesMut::new();
    encode_peer_msg(
        &mut b,
        &msg(Dialect::Route, b"ACC", None, Some(b"q"), None, b"x"),
    );
    encode_peer_sub(&mut b, Dialect::Route, b"ACC", b"s", None);
    encode_peer_unsub(&mut b, Dialect::Route, b"ACC", b"s", Some(b"q"));
    assert_eq!(
        &b[..],
        &b"RMSG ACC a | q 1\r\nx\r\nRS+ ACC s\r\nRS- ACC s q\r\n"[..]
    );
}
