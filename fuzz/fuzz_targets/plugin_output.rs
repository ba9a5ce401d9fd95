//! What a plugin returns is data, never protocol (`plugin::validate`).
//!
//! Input: a first byte choosing what the rest is (a subject, a reply
//! subject, a header name and value split at the first `\n`, a whole
//! header block, a permission filter or a name), then the bytes. The
//! properties beyond "no panic": whatever `validate_output` accepts, once
//! encoded into a message frame the way the broker encodes plugin output,
//! reads back (as a client reads MSG and HMSG) as exactly one message
//! carrying exactly those bytes, so an
//! accepted answer can never end a frame early or start one of its own; an
//! accepted filter is a valid subject and an accepted name has no line
//! break.

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use switchyard::plugin::validate::{Output, validate_output};
use switchyard::protocol::{encode_hmsg, encode_msg};
use switchyard::subject::is_valid_subject;

const PAYLOAD: &[u8] = b"payload";

/// A message frame as a client reads it.
struct Msg<'a> {
    subject: &'a [u8],
    reply: Option<&'a [u8]>,
    headers: Option<&'a [u8]>,
    payload: &'a [u8],
}

/// The one MSG or HMSG `frame` holds, which must use all of it, read the
/// way a client reads it: a control line of space-separated arguments up
/// to the first CRLF, then exactly the announced bytes and a CRLF.
fn only_msg(frame: &[u8]) -> Msg<'_> {
    let broke = |why: &str| -> ! {
        panic!(
            "an accepted output broke its frame ({why}): {:?}",
            String::from_utf8_lossy(frame)
        )
    };
    let Some(nl) = frame.windows(2).position(|w| w == b"\r\n") else {
        broke("no control line")
    };
    let args: Vec<&[u8]> = frame[..nl].split(|&b| b == b' ').collect();
    let sizes = match args[0] {
        b"MSG" => 1,
        b"HMSG" => 2,
        _ => broke("not a message"),
    };
    let size = |a: &[u8]| -> usize {
        std::str::from_utf8(a)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| broke("a size is not a number"))
    };
    let n = args.len();
    let reply = match n.checked_sub(3 + sizes) {
        Some(0) => None,
        Some(1) => Some(args[3]),
        _ => broke("wrong number of arguments"),
    };
    let total = size(args[n - 1]);
    let body = &frame[nl + 2..];
    if body.len() != total + 2 || !body.ends_with(b"\r\n") {
        broke("the body is not the announced size");
    }
    let body = &body[..total];
    let (headers, payload) = if sizes == 2 {
        let h = size(args[n - 2]);
        (Some(&body[..h]), &body[h..])
    } else {
        (None, body)
    };
    Msg {
        subject: args[1],
        reply,
        headers,
        payload,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    let mut frame = BytesMut::new();
    match kind % 6 {
        0 => {
            if validate_output(Output::Subject(rest)).is_ok() {
                encode_msg(&mut frame, rest, b"1", None, PAYLOAD);
                let Msg { subject, payload, .. } = only_msg(&frame);
                assert_eq!((subject, payload), (rest, PAYLOAD));
            }
        }
        1 => {
            if validate_output(Output::Reply(rest)).is_ok() {
                encode_msg(&mut frame, b"s", b"1", Some(rest), PAYLOAD);
                let Msg { reply, payload, .. } = only_msg(&frame);
                assert_eq!((reply, payload), (Some(rest), PAYLOAD));
            }
        }
        2 => {
            let mut parts = rest.splitn(2, |&b| b == b'\n');
            let name = parts.next().unwrap_or_default();
            let value = parts.next().unwrap_or_default();
            if validate_output(Output::Header { name, value }).is_ok() {
                let block = [b"NATS/1.0\r\n", name, b": ", value, b"\r\n\r\n"].concat();
                assert!(
                    validate_output(Output::HeaderBlock(&block)).is_ok(),
                    "an accepted header makes an accepted block"
                );
                encode_hmsg(&mut frame, b"s", b"1", None, &block, PAYLOAD);
                let Msg { headers, payload, .. } = only_msg(&frame);
                assert_eq!((headers, payload), (Some(&block[..]), PAYLOAD));
            }
        }
        3 => {
            if validate_output(Output::HeaderBlock(rest)).is_ok() {
                encode_hmsg(&mut frame, b"s", b"1", None, rest, PAYLOAD);
                let Msg { headers, payload, .. } = only_msg(&frame);
                assert_eq!((headers, payload), (Some(rest), PAYLOAD));
            }
        }
        4 => {
            if validate_output(Output::Filter(rest)).is_ok() {
                assert!(is_valid_subject(rest));
            }
        }
        _ => {
            if validate_output(Output::Name(rest)).is_ok() {
                assert!(!rest.contains(&b'\n') && !rest.contains(&b'\r'));
            }
        }
    }
});
