use super::*;

fn limits() -> Limits {
    Limits {
        max_control_line: 1024,
        max_payload: 1024,
    }
}

fn one(buf: &[u8]) -> LeafOp<'_> {
    let (op, used) = parse_leaf(buf, &limits()).unwrap().unwrap();
    assert_eq!(used, buf.len(), "whole frame used");
    op
}

#[test]
fn interest_lines() {
    assert_eq!(
        one(b"LS+ foo.*\r\n"),
        LeafOp::Sub {
            subject: b"foo.*",
            queue: None
        }
    );
    assert_eq!(
        one(b"LS+ foo q 3\r\n"),
        LeafOp::Sub {
            subject: b"foo",
            queue: Some((b"q", 3))
        }
    );
    assert_eq!(
        one(b"LS- foo q\r\n"),
        LeafOp::Unsub {
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
        LeafOp::Msg {
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
        LeafOp::Msg {
            reply: Some(b"r"),
            ..
        }
    ));
    let m = one(b"LMSG a + r q1 q2 1\r\nx\r\n");
    assert!(matches!(
        m,
        LeafOp::Msg {
            reply: Some(b"r"),
            queues: b"q1 q2",
            ..
        }
    ));
    let m = one(b"LMSG a | q1 1\r\nx\r\n");
    assert!(matches!(
        m,
        LeafOp::Msg {
            reply: None,
            queues: b"q1",
            ..
        }
    ));
    let m = one(b"HMSG a | q 12 13\r\nNATS/1.0\r\n\r\nx\r\n");
    assert!(matches!(
        m,
        LeafOp::Msg {
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

#[test]
fn encodes_what_it_parses() {
    let mut b = BytesMut::new();
    encode_leaf_msg(
        &mut b,
        b"a",
        Some(b"r"),
        Some(b"q"),
        Some(b"NATS/1.0\r\n\r\n"),
        b"x",
    );
    encode_leaf_msg(&mut b, b"a", None, None, None, b"yz");
    encode_leaf_sub(&mut b, b"s", Some((b"q", 2)));
    encode_leaf_unsub(&mut b, b"s", None);
    assert_eq!(
        &b[..],
        &b"HMSG a + r q 12 13\r\nNATS/1.0\r\n\r\nx\r\nLMSG a 2\r\nyz\r\nLS+ s q 2\r\nLS- s\r\n"[..]
    );
    assert!(names_queue(b"q1 q2", b"q2"));
    assert!(!names_queue(b"q1 q2", b"q"));
}
