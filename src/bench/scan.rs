//! Incremental scanner for the server-to-client side of the NATS protocol.
//!
//! The scanner is fed whatever each socket read returned and reports every
//! complete frame through a callback. It keeps its state between calls, so a
//! frame may be split anywhere: inside a control line, inside a payload, or
//! between a payload and its trailing CRLF. Payloads are skipped by index and
//! never copied, which is what keeps a single subscriber task faster than the
//! server that feeds it; only a control line or a MSG header that straddles two
//! reads is copied (it is short).

/// Longest control line accepted; INFO is the only long one and stays far below.
const MAX_LINE: usize = 1 << 20;

/// One frame sent by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Frame<'a> {
    /// `MSG` or `HMSG`, reported once its payload has fully arrived.
    Msg(Msg<'a>),
    Ping,
    Pong,
    Ok,
    /// `-ERR` with the quotes removed.
    Err(&'a [u8]),
    /// `INFO` with its JSON body.
    Info(&'a [u8]),
}

/// The header of a delivered message; the payload itself is not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Msg<'a> {
    /// The whole control line, tokenized only when asked: counting
    /// subscribers never need the subject, and splitting every line showed up
    /// as half of the scanning time.
    line: &'a [u8],
    has_reply: bool,
    /// Header plus body bytes (the total size for HMSG).
    pub payload_len: usize,
}

impl<'a> Msg<'a> {
    pub(crate) fn subject(&self) -> &'a [u8] {
        self.line.split(|&b| b == b' ').nth(1).unwrap_or_default()
    }

    pub(crate) fn reply(&self) -> Option<&'a [u8]> {
        self.has_reply
            .then(|| self.line.split(|&b| b == b' ').nth(3).unwrap_or_default())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct ScanError(String);

#[derive(Debug, Default)]
pub(crate) struct Scanner {
    /// Bytes of the current payload (with its CRLF) still to come; non-zero
    /// only while `header` holds the MSG line the payload belongs to.
    skip: usize,
    header: Vec<u8>,
    /// Start of a control line whose newline has not arrived yet.
    partial: Vec<u8>,
}

impl Scanner {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Consumes all of `data`, calling `on` for each frame completed by it.
    pub(crate) fn feed<F>(&mut self, mut data: &[u8], mut on: F) -> Result<(), ScanError>
    where
        F: FnMut(Frame<'_>),
    {
        loop {
            if self.skip > 0 {
                if data.len() < self.skip {
                    self.skip -= data.len();
                    return Ok(());
                }
                data = &data[self.skip..];
                self.skip = 0;
                let (msg, _) = parse_msg(trim_cr(&self.header))?;
                on(Frame::Msg(msg));
            }
            if data.is_empty() {
                return Ok(());
            }
            let Some(nl) = find_newline(data) else {
                if self.partial.len() + data.len() > MAX_LINE {
                    return Err(ScanError(format!(
                        "control line longer than {MAX_LINE} bytes"
                    )));
                }
                self.partial.extend_from_slice(data);
                return Ok(());
            };
            let rest = &data[nl + 1..];
            if self.partial.is_empty() {
                data = self.line(&data[..nl], rest, &mut on)?;
            } else {
                // Take the buffer out so the line can borrow it while `self`
                // is borrowed mutably; put it back to keep its capacity.
                let mut line = std::mem::take(&mut self.partial);
                line.extend_from_slice(&data[..nl]);
                let result = self.line(&line, rest, &mut on);
                line.clear();
                self.partial = line;
                data = result?;
            }
        }
    }

    /// Handles one control line (without its `\n`); returns what follows it,
    /// past the payload when the payload is already in `rest`.
    fn line<'d, F>(
        &mut self,
        line: &[u8],
        rest: &'d [u8],
        on: &mut F,
    ) -> Result<&'d [u8], ScanError>
    where
        F: FnMut(Frame<'_>),
    {
        let line = trim_cr(line);
        let op_end = line
            .iter()
            .position(|&b| b == b' ' || b == b'\t')
            .unwrap_or(line.len());
        let (op, args) = line.split_at(op_end);
        if op.eq_ignore_ascii_case(b"MSG") || op.eq_ignore_ascii_case(b"HMSG") {
            let (msg, payload_len) = parse_msg(line)?;
            let need = payload_len + 2;
            if rest.len() >= need {
                if &rest[payload_len..need] != b"\r\n" {
                    return Err(ScanError(format!(
                        "payload of {payload_len} bytes not followed by CRLF after {:?}",
                        String::from_utf8_lossy(line)
                    )));
                }
                on(Frame::Msg(msg));
                return Ok(&rest[need..]);
            }
            self.header.clear();
            self.header.extend_from_slice(line);
            self.skip = need - rest.len();
            return Ok(&[]);
        }
        let args = trim_start(args);
        let frame = if op.eq_ignore_ascii_case(b"PING") {
            Frame::Ping
        } else if op.eq_ignore_ascii_case(b"PONG") {
            Frame::Pong
        } else if op.eq_ignore_ascii_case(b"+OK") {
            Frame::Ok
        } else if op.eq_ignore_ascii_case(b"-ERR") {
            Frame::Err(unquote(args))
        } else if op.eq_ignore_ascii_case(b"INFO") {
            Frame::Info(args)
        } else if line.is_empty() {
            return Ok(rest);
        } else {
            return Err(ScanError(format!(
                "unexpected protocol line {:?}",
                String::from_utf8_lossy(&line[..line.len().min(80)])
            )));
        };
        on(frame);
        Ok(rest)
    }
}

/// Parses `MSG <subject> <sid> [reply] <len>` or
/// `HMSG <subject> <sid> [reply] <hdr_len> <total_len>`, with the single
/// spaces that servers emit, from the end: the length is all the fast path needs.
fn parse_msg(line: &[u8]) -> Result<(Msg<'_>, usize), ScanError> {
    let bad = || ScanError(format!("malformed {:?}", String::from_utf8_lossy(line)));
    let headers = line.first().is_some_and(|b| b.eq_ignore_ascii_case(&b'H'));
    let (rest, total) = split_last(line).ok_or_else(bad)?;
    let payload_len = parse_len(total).ok_or_else(bad)?;
    let rest = if headers {
        let (rest, hdr) = split_last(rest).ok_or_else(bad)?;
        if parse_len(hdr).is_none_or(|h| h > payload_len) {
            return Err(bad());
        }
        rest
    } else {
        rest
    };
    // What is left is `OP subject sid [reply]`, with no empty token.
    let (mut spaces, mut prev_space, mut empty_token) = (0, false, false);
    for &b in rest {
        let space = b == b' ';
        empty_token |= space & prev_space;
        spaces += usize::from(space);
        prev_space = space;
    }
    empty_token |= prev_space;
    if !(2..=3).contains(&spaces) || empty_token {
        return Err(bad());
    }
    let msg = Msg {
        line,
        has_reply: spaces == 3,
        payload_len,
    };
    Ok((msg, payload_len))
}

/// Splits off the last space-separated token.
fn split_last(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let at = s.iter().rposition(|&b| b == b' ')?;
    Some((&s[..at], &s[at + 1..]))
}

/// `memchr` for `\n`, eight bytes at a time: the std byte loop was a visible
/// share of scanning small messages.
fn find_newline(data: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const NL: u64 = LO * b'\n' as u64;
    let mut chunks = data.chunks_exact(8);
    for (i, chunk) in chunks.by_ref().enumerate() {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word) ^ NL;
        // Exact zero-byte test: the high bit of a byte is set iff that byte is zero.
        let zero = !(((x & !HI) + !HI) | x) & HI;
        if zero != 0 {
            return Some(i * 8 + zero.trailing_zeros() as usize / 8);
        }
    }
    let tail = chunks.remainder();
    let base = data.len() - tail.len();
    tail.iter().position(|&b| b == b'\n').map(|p| base + p)
}

fn parse_len(digits: &[u8]) -> Option<usize> {
    if digits.is_empty() || digits.len() > 12 {
        return None;
    }
    digits.iter().try_fold(0usize, |acc, &d| {
        d.is_ascii_digit().then(|| acc * 10 + usize::from(d - b'0'))
    })
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn trim_start(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(s.len());
    &s[start..]
}

fn unquote(s: &[u8]) -> &[u8] {
    let s = s.trim_ascii();
    s.strip_prefix(b"'")
        .and_then(|s| s.strip_suffix(b"'"))
        .unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Owned copy of a frame so results from many feeds can be compared.
    #[derive(Debug, PartialEq, Eq)]
    enum Owned {
        Msg(Vec<u8>, Option<Vec<u8>>, usize),
        Ping,
        Pong,
        Ok,
        Err(Vec<u8>),
        Info(Vec<u8>),
    }

    fn own(f: Frame<'_>) -> Owned {
        match f {
            Frame::Msg(m) => Owned::Msg(
                m.subject().to_vec(),
                m.reply().map(<[u8]>::to_vec),
                m.payload_len,
            ),
            Frame::Ping => Owned::Ping,
            Frame::Pong => Owned::Pong,
            Frame::Ok => Owned::Ok,
            Frame::Err(e) => Owned::Err(e.to_vec()),
            Frame::Info(i) => Owned::Info(i.to_vec()),
        }
    }

    const STREAM: &[u8] = b"INFO {\"server_id\":\"x\",\"max_payload\":1048576}\r\n\
        +OK\r\n\
        PING\r\n\
        MSG foo.bar 1 5\r\nhello\r\n\
        MSG foo 12 _INBOX.abc.7 11\r\nMSG x 1 2\r\n\r\n\
        HMSG h.s 3 18 23\r\nNATS/1.0\r\nA: b\r\n\r\nhello\r\n\
        HMSG h.s 3 reply.to 12 12\r\nNATS/1.0\r\n\r\n\r\n\
        msg lower 2 0\r\n\r\n\
        PONG\r\n\
        -ERR 'Slow Consumer'\r\n";

    fn expected() -> Vec<Owned> {
        vec![
            Owned::Info(b"{\"server_id\":\"x\",\"max_payload\":1048576}".to_vec()),
            Owned::Ok,
            Owned::Ping,
            Owned::Msg(b"foo.bar".to_vec(), None, 5),
            Owned::Msg(b"foo".to_vec(), Some(b"_INBOX.abc.7".to_vec()), 11),
            Owned::Msg(b"h.s".to_vec(), None, 23),
            Owned::Msg(b"h.s".to_vec(), Some(b"reply.to".to_vec()), 12),
            Owned::Msg(b"lower".to_vec(), None, 0),
            Owned::Pong,
            Owned::Err(b"Slow Consumer".to_vec()),
        ]
    }

    fn scan_pieces(pieces: &[&[u8]]) -> Vec<Owned> {
        let mut s = Scanner::new();
        let mut out = Vec::new();
        for p in pieces {
            s.feed(p, |f| out.push(own(f))).expect("valid stream");
        }
        out
    }

    #[test]
    fn whole_stream() {
        assert_eq!(scan_pieces(&[STREAM]), expected());
    }

    #[test]
    fn split_at_every_offset() {
        for i in 0..=STREAM.len() {
            let (a, b) = STREAM.split_at(i);
            assert_eq!(scan_pieces(&[a, b]), expected(), "split at {i}");
        }
    }

    #[test]
    fn split_at_every_pair_of_offsets() {
        for i in 0..=STREAM.len() {
            for j in i..=STREAM.len() {
                let pieces = [&STREAM[..i], &STREAM[i..j], &STREAM[j..]];
                assert_eq!(scan_pieces(&pieces), expected(), "split at {i},{j}");
            }
        }
    }

    #[test]
    fn one_byte_at_a_time() {
        let pieces: Vec<&[u8]> = STREAM.chunks(1).collect();
        assert_eq!(scan_pieces(&pieces), expected());
    }

    #[test]
    fn rejects_garbage_and_bad_framing() {
        let mut s = Scanner::new();
        assert!(s.feed(b"BOGUS line\r\n", |_| {}).is_err());
        let mut s = Scanner::new();
        assert!(s.feed(b"MSG a 1 3\r\nabcd\r\n", |_| {}).is_err());
        let mut s = Scanner::new();
        assert!(s.feed(b"MSG a 1 x\r\n", |_| {}).is_err());
        let mut s = Scanner::new();
        assert!(s.feed(b"HMSG a 1 9 3\r\n", |_| {}).is_err());
        let mut s = Scanner::new();
        assert!(s.feed(b"MSG a  1 3\r\nabc\r\n", |_| {}).is_err());
        let mut s = Scanner::new();
        assert!(s.feed(b"MSG a 3\r\nabc\r\n", |_| {}).is_err());
    }

    #[test]
    fn overlong_line_is_an_error() {
        let mut s = Scanner::new();
        let chunk = vec![b'a'; 64 * 1024];
        let mut failed = false;
        for _ in 0..(MAX_LINE / chunk.len() + 2) {
            if s.feed(&chunk, |_| {}).is_err() {
                failed = true;
                break;
            }
        }
        assert!(failed);
    }
}
