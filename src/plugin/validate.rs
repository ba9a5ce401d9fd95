//! What a plugin returns is data, never protocol: every subject, reply
//! subject, header and grant a plugin answers with is checked here before
//! the broker encodes it onto the wire or turns it into permissions.
//!
//! A plugin is a tenant's code and is trusted no more than the tenant's
//! clients: a subject with `\r\nPUB ...` in it, or a header name with a
//! line break, would otherwise let it write protocol of its own into a
//! subscriber's stream. The checks are pure functions of bytes (no
//! wasmtime, no state), so the callers in `transform`, `routing` and
//! `auth` and a fuzz target share one definition. A violation is a plugin
//! error: the call's answer is discarded, counted in the plugin's `errors`
//! and the plugin's failure policy applies.

use crate::subject::{is_valid_literal_subject, is_valid_subject};
use thiserror::Error;

/// Reply subjects the broker itself hands out for service-import
/// responses (`server::responses::RESPONSE_PREFIX`); a client may not use
/// one as its reply subject, and neither may a plugin on its behalf.
pub const BROKER_REPLY_PREFIX: &[u8] = b"_R_.";

/// One value a plugin returned, by what the broker will do with it.
#[derive(Debug, Clone, Copy)]
pub enum Output<'a> {
    /// A subject a message is delivered on: a literal subject.
    Subject(&'a [u8]),
    /// A message's reply subject: a literal subject of the tenant's own.
    Reply(&'a [u8]),
    /// One header of a message the plugin built.
    Header { name: &'a [u8], value: &'a [u8] },
    /// A whole NATS header block.
    HeaderBlock(&'a [u8]),
    /// A permission subject of an auth grant: wildcards allowed.
    Filter(&'a [u8]),
    /// A name the broker logs and reports (an auth grant's user, tenant):
    /// spaces allowed (a certificate's DN), control bytes not.
    Name(&'a [u8]),
}

/// Why a plugin's answer was refused. Values are shown escaped (`{:?}`),
/// so a refused answer cannot forge log lines either.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum OutputError {
    #[error("subject {0:?} is not a valid literal subject")]
    Subject(String),
    #[error("reply subject {0:?} is not a valid literal subject")]
    Reply(String),
    #[error("reply subject {0:?} is in the broker's own `_R_.` namespace")]
    ReservedReply(String),
    #[error("header name {0:?} is not a token (letters, digits, !#$%&'*+-.^_`|~)")]
    HeaderName(String),
    #[error("header {name:?}: value {value:?} has a line break or control byte")]
    HeaderValue { name: String, value: String },
    #[error("header block: {0}")]
    HeaderBlock(&'static str),
    #[error("permission subject {0:?} is not a valid subject")]
    Filter(String),
    #[error("name {0:?} is empty or has control bytes")]
    Name(String),
}

fn shown(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Control bytes (C0 and DEL); none may appear in a subject or name, and
/// none but horizontal tab in a header value.
fn is_control(b: u8) -> bool {
    b < 0x20 || b == 0x7f
}

/// RFC 9110 `tchar`: what a header field name is made of.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Checks one value a plugin returned; see [`Output`] for the rules.
pub fn validate_output(output: Output<'_>) -> Result<(), OutputError> {
    match output {
        Output::Subject(s) => {
            if s.iter().any(|&b| is_control(b)) || !is_valid_literal_subject(s) {
                return Err(OutputError::Subject(shown(s)));
            }
        }
        Output::Reply(s) => {
            if s.iter().any(|&b| is_control(b)) || !is_valid_literal_subject(s) {
                return Err(OutputError::Reply(shown(s)));
            }
            if s.starts_with(BROKER_REPLY_PREFIX) {
                return Err(OutputError::ReservedReply(shown(s)));
            }
        }
        Output::Header { name, value } => {
            if name.is_empty() || !name.iter().all(|&b| is_token_byte(b)) {
                return Err(OutputError::HeaderName(shown(name)));
            }
            if value.iter().any(|&b| is_control(b) && b != b'\t') {
                return Err(OutputError::HeaderValue {
                    name: shown(name),
                    value: shown(value),
                });
            }
        }
        Output::HeaderBlock(block) => validate_header_block(block)?,
        Output::Filter(s) => {
            if s.iter().any(|&b| is_control(b)) || !is_valid_subject(s) {
                return Err(OutputError::Filter(shown(s)));
            }
        }
        Output::Name(s) => {
            if s.is_empty() || s.iter().any(|&b| is_control(b)) {
                return Err(OutputError::Name(shown(s)));
            }
        }
    }
    Ok(())
}

/// A header block as NATS frames it: `NATS/1.0`, an optional status and
/// description, CRLF, then `Name: value` lines each ending in CRLF, and a
/// final empty line (so the block ends in CRLF CRLF).
fn validate_header_block(block: &[u8]) -> Result<(), OutputError> {
    let bad = |why| Err(OutputError::HeaderBlock(why));
    let Some(body) = block.strip_suffix(b"\r\n\r\n") else {
        return bad("does not end with an empty line (CRLF CRLF)");
    };
    let mut pieces = body.split(|&b| b == b'\n').peekable();
    let mut first = true;
    while let Some(piece) = pieces.next() {
        // Every piece but the last ended at a CRLF; a CR anywhere else, or
        // an LF without its CR, is a bare line break.
        let line = if pieces.peek().is_some() {
            match piece.strip_suffix(b"\r") {
                Some(line) => line,
                None => return bad("a line ends in LF without CR"),
            }
        } else {
            piece
        };
        if line.contains(&b'\r') {
            return bad("a bare CR");
        }
        if std::mem::take(&mut first) {
            let Some(status) = line.strip_prefix(b"NATS/1.0") else {
                return bad("does not start with `NATS/1.0`");
            };
            if status.first().is_some_and(|&b| b != b' ')
                || status.iter().any(|&b| is_control(b) && b != b'\t')
            {
                return bad("malformed status line");
            }
            continue;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return bad("a header line has no `:`");
        };
        validate_output(Output::Header {
            name: &line[..colon],
            value: line[colon + 1..].trim_ascii_start(),
        })?;
    }
    Ok(())
}

/// Checks every header of a list a plugin returned.
pub fn validate_headers<'a>(
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<(), OutputError> {
    for (name, value) in headers {
        validate_output(Output::Header {
            name: name.as_bytes(),
            value: value.as_bytes(),
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const INJECTION: &str = "\r\nPUB other.tenant 5\r\nhello";

    #[test]
    fn subjects_must_be_literal_and_free_of_controls() {
        for ok in ["a", "orders.new", "_INBOX.x.y", "a-b_c"] {
            assert_eq!(
                validate_output(Output::Subject(ok.as_bytes())),
                Ok(()),
                "{ok}"
            );
            assert_eq!(
                validate_output(Output::Reply(ok.as_bytes())),
                Ok(()),
                "{ok}"
            );
        }
        for bad in [
            format!("ok{INJECTION}"),
            "a b".into(),
            "a\tb".into(),
            "a\0b".into(),
            "a\x1bb".into(),
            "a\x7f".into(),
            "a.*".into(),
            "a.>".into(),
            "".into(),
            "a..b".into(),
        ] {
            assert!(matches!(
                validate_output(Output::Subject(bad.as_bytes())),
                Err(OutputError::Subject(_))
            ));
            assert!(matches!(
                validate_output(Output::Reply(bad.as_bytes())),
                Err(OutputError::Reply(_))
            ));
        }
    }

    #[test]
    fn a_reply_may_not_take_the_brokers_response_subjects() {
        assert!(matches!(
            validate_output(Output::Reply(b"_R_.abcdef.ghijkl")),
            Err(OutputError::ReservedReply(_))
        ));
        // A subject is another matter: responders publish to them.
        assert_eq!(
            validate_output(Output::Subject(b"_R_.abcdef.ghijkl")),
            Ok(())
        );
    }

    #[test]
    fn header_names_are_tokens_and_values_have_no_line_breaks() {
        let header = |name: &str, value: &str| {
            validate_output(Output::Header {
                name: name.as_bytes(),
                value: value.as_bytes(),
            })
        };
        assert_eq!(header("X-Trace-Id", "a b\tc: d"), Ok(()));
        assert_eq!(header("Nats-Msg-Id", ""), Ok(()));
        for name in ["", "X Y", "X:Y", "X\r\nY", &format!("X{INJECTION}"), "X\0"] {
            assert!(
                matches!(header(name, "v"), Err(OutputError::HeaderName(_))),
                "{name:?}"
            );
        }
        for value in ["a\r\nb", "a\nb", "a\rb", &format!("v{INJECTION}"), "a\0b"] {
            assert!(
                matches!(header("X", value), Err(OutputError::HeaderValue { .. })),
                "{value:?}"
            );
        }
    }

    #[test]
    fn header_blocks_are_framed_like_nats() {
        for ok in [
            "NATS/1.0\r\n\r\n",
            "NATS/1.0\r\nA: b\r\n\r\n",
            "NATS/1.0 503\r\n\r\n",
            "NATS/1.0 403 Forbidden here\r\nX: 1\r\nY: two words\r\n\r\n",
        ] {
            assert_eq!(
                validate_output(Output::HeaderBlock(ok.as_bytes())),
                Ok(()),
                "{ok:?}"
            );
        }
        for bad in [
            "",
            "NATS/1.0\r\n",
            "NATS/1.0\r\nA: b\r\n",
            "HTTP/1.1\r\n\r\n",
            "NATS/1.0\r\nA b\r\n\r\n",
            "NATS/1.0\r\nA: b\nC: d\r\n\r\n",
            "NATS/1.0\nA: b\r\n\r\n",
            "NATS/1.0\r\nA: b\r\n\r\nPUB x 1\r\n\r\n",
            "NATS/1.0X\r\n\r\n",
        ] {
            assert!(
                matches!(
                    validate_output(Output::HeaderBlock(bad.as_bytes())),
                    Err(OutputError::HeaderBlock(_) | OutputError::HeaderName(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn grants_names_and_filters() {
        assert_eq!(validate_output(Output::Filter(b"orders.>")), Ok(()));
        assert_eq!(validate_output(Output::Filter(b"*.x")), Ok(()));
        assert!(validate_output(Output::Filter(b"a\r\nb")).is_err());
        assert!(validate_output(Output::Filter(b"a.>.b")).is_err());
        assert_eq!(validate_output(Output::Name(b"alice@example")), Ok(()));
        assert_eq!(validate_output(Output::Name(b"CN=Jo Smith,O=Acme")), Ok(()));
        for bad in ["", "a\nb", "a\x1b[31m"] {
            assert!(
                validate_output(Output::Name(bad.as_bytes())).is_err(),
                "{bad:?}"
            );
        }
    }

    proptest! {
        /// Whatever passes cannot end or add a protocol line: no CR or LF
        /// survives in a subject, reply, or header.
        #[test]
        fn nothing_valid_carries_a_line_break(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let has_break = bytes.iter().any(|&b| b == b'\r' || b == b'\n');
            for output in [
                Output::Subject(&bytes),
                Output::Reply(&bytes),
                Output::Filter(&bytes),
                Output::Name(&bytes),
                Output::Header { name: &bytes, value: b"v" },
                Output::Header { name: b"N", value: &bytes },
            ] {
                if has_break {
                    prop_assert!(validate_output(output).is_err());
                }
            }
        }

        /// A block encoded from headers that pass is a well-formed block.
        #[test]
        fn encoded_valid_headers_form_a_valid_block(
            headers in proptest::collection::vec(("[A-Za-z0-9-]{1,8}", "[ -~\t]{0,12}"), 1..5)
        ) {
            let mut block = b"NATS/1.0\r\n".to_vec();
            for (name, value) in &headers {
                let header = Output::Header { name: name.as_bytes(), value: value.as_bytes() };
                prop_assert_eq!(validate_output(header), Ok(()));
                block.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
            }
            block.extend_from_slice(b"\r\n");
            prop_assert_eq!(validate_output(Output::HeaderBlock(&block)), Ok(()));
        }
    }
}
