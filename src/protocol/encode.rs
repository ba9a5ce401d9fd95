//! Operations to bytes. Encoders append to a caller-owned buffer so the
//! outbound path can coalesce many messages into one write without
//! allocating per message.

use super::connect::ServerInfo;
use bytes::{BufMut, BytesMut};

pub(super) fn put_size(buf: &mut BytesMut, n: usize) {
    let mut fmt = itoa::Buffer::new();
    buf.put_slice(fmt.format(n).as_bytes());
}

/// Appends a header-only status message (`HMSG` with `NATS/1.0 <code>
/// [description]` and no payload), the way the server answers a request
/// itself: 503 when nothing subscribed to it, 403 when a plugin refused it.
/// `subject`, when given, goes in a `Nats-Subject` header. Control bytes of
/// `description` (a plugin's text) never reach the status line.
pub fn encode_status(
    buf: &mut BytesMut,
    reply: &[u8],
    sid: &[u8],
    code: u16,
    description: &str,
    subject: Option<&[u8]>,
) {
    let mut hdr = BytesMut::with_capacity(48 + description.len() + subject.map_or(0, <[u8]>::len));
    hdr.put_slice(b"NATS/1.0 ");
    put_size(&mut hdr, usize::from(code));
    if !description.is_empty() {
        hdr.put_u8(b' ');
        hdr.extend(
            description
                .bytes()
                .filter(|&b| b >= 0x20 && b != 0x7f)
                .take(256),
        );
    }
    hdr.put_slice(b"\r\n");
    if let Some(subject) = subject {
        hdr.put_slice(b"Nats-Subject: ");
        hdr.put_slice(subject);
        hdr.put_slice(b"\r\n");
    }
    hdr.put_slice(b"\r\n");
    encode_hmsg(buf, reply, sid, None, &hdr, b"");
}

/// Appends `MSG <subject> <sid> [reply] <#bytes>\r\n<payload>\r\n`.
pub fn encode_msg(
    buf: &mut BytesMut,
    subject: &[u8],
    sid: &[u8],
    reply: Option<&[u8]>,
    payload: &[u8],
) {
    buf.reserve(subject.len() + sid.len() + reply.map_or(0, <[u8]>::len) + payload.len() + 32);
    encode_msg_head(buf, subject, sid, reply, payload.len());
    buf.put_slice(payload);
    buf.put_slice(b"\r\n");
}

/// Appends the part of a MSG frame before its payload of `payload_len`
/// bytes (the control line). The caller sends the payload and a CRLF
/// after it: a large payload is shared between subscribers and written
/// from where it was read, not copied behind its control line.
pub fn encode_msg_head(
    buf: &mut BytesMut,
    subject: &[u8],
    sid: &[u8],
    reply: Option<&[u8]>,
    payload_len: usize,
) {
    buf.put_slice(b"MSG ");
    buf.put_slice(subject);
    buf.put_u8(b' ');
    buf.put_slice(sid);
    buf.put_u8(b' ');
    if let Some(reply) = reply {
        buf.put_slice(reply);
        buf.put_u8(b' ');
    }
    put_size(buf, payload_len);
    buf.put_slice(b"\r\n");
}

/// Appends `HMSG <subject> <sid> [reply] <#hdr> <#total>\r\n<hdr><payload>\r\n`.
pub fn encode_hmsg(
    buf: &mut BytesMut,
    subject: &[u8],
    sid: &[u8],
    reply: Option<&[u8]>,
    headers: &[u8],
    payload: &[u8],
) {
    buf.reserve(
        subject.len()
            + sid.len()
            + reply.map_or(0, <[u8]>::len)
            + headers.len()
            + payload.len()
            + 48,
    );
    encode_hmsg_head(buf, subject, sid, reply, headers, payload.len());
    buf.put_slice(payload);
    buf.put_slice(b"\r\n");
}

/// Appends the part of an HMSG frame before its payload of `payload_len`
/// bytes: the control line and the headers (see `encode_msg_head`).
pub fn encode_hmsg_head(
    buf: &mut BytesMut,
    subject: &[u8],
    sid: &[u8],
    reply: Option<&[u8]>,
    headers: &[u8],
    payload_len: usize,
) {
    buf.put_slice(b"HMSG ");
    buf.put_slice(subject);
    buf.put_u8(b' ');
    buf.put_slice(sid);
    buf.put_u8(b' ');
    if let Some(reply) = reply {
        buf.put_slice(reply);
        buf.put_u8(b' ');
    }
    put_size(buf, headers.len());
    buf.put_u8(b' ');
    put_size(buf, headers.len() + payload_len);
    buf.put_slice(b"\r\n");
    buf.put_slice(headers);
}

/// Appends `INFO {json} \r\n` (the space before CRLF is what nats-server sends).
pub fn encode_info(buf: &mut BytesMut, info: &ServerInfo) {
    buf.put_slice(b"INFO ");
    // Serialized in place (no intermediate Vec). A struct of strings,
    // numbers and bools cannot fail to serialize; if it ever did, the
    // partial JSON is replaced by an empty object.
    let start = buf.len();
    if serde_json::to_writer((&mut *buf).writer(), info).is_err() {
        buf.truncate(start);
        buf.put_slice(b"{}");
    }
    buf.put_slice(b" \r\n");
}

/// Appends `-ERR '<text>'\r\n`.
pub fn encode_err(buf: &mut BytesMut, text: &str) {
    buf.put_slice(b"-ERR '");
    buf.put_slice(text.as_bytes());
    buf.put_slice(b"'\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_exact_bytes() {
        let mut b = BytesMut::new();
        encode_msg(&mut b, b"foo", b"1", Some(b"r"), b"hi");
        encode_hmsg(&mut b, b"foo", b"2", None, b"NATS/1.0\r\n\r\n", b"x");
        encode_err(&mut b, "Stale Connection");
        assert_eq!(
            &b[..],
            b"MSG foo 1 r 2\r\nhi\r\nHMSG foo 2 12 13\r\nNATS/1.0\r\n\r\nx\r\n-ERR 'Stale Connection'\r\n"
        );
    }
}
