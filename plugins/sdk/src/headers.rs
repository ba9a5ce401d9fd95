//! Read access to a raw NATS header block, parsed lazily.
//!
//! The broker hands plugins the header block exactly as published
//! (`NATS/1.0[ status[ description]]\r\nName: value\r\n...\r\n\r\n`) so that
//! a plugin that never looks at headers pays nothing for them. Parsing
//! happens line by line as the plugin iterates or asks for a name.

/// One header a plugin produces (for `Action::Modify` or a split message).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub value: String,
}

impl Header {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Header {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// A borrowed view of a message's header block; empty when the message has
/// no headers or the plugin did not register `wants_headers`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Headers<'a> {
    raw: &'a [u8],
}

impl<'a> Headers<'a> {
    /// Wraps a raw header block. Never fails: malformed lines are skipped
    /// when iterating, so a hostile publisher cannot make a plugin trap.
    pub fn new(raw: &'a [u8]) -> Self {
        Headers { raw }
    }

    /// The header block as received.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// The status code of the first line (`NATS/1.0 503`), if any.
    pub fn status(&self) -> Option<u16> {
        let first = self.lines().next()?;
        let rest = first.strip_prefix(b"NATS/1.0")?;
        let rest = std::str::from_utf8(rest).ok()?.trim_start();
        rest.split(' ').next()?.parse().ok()
    }

    /// Every `(name, value)` pair in order; a name may repeat.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.lines().skip(1).filter_map(parse_line)
    }

    /// The first value of `name`, compared exactly (NATS header names are
    /// case-sensitive).
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// The first value of `name`, ignoring ASCII case, for headers that
    /// clients spell inconsistently.
    pub fn get_ignore_case(&self, name: &str) -> Option<&'a str> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Every value of `name`, in order.
    pub fn get_all<'n>(&self, name: &'n str) -> impl Iterator<Item = &'a str> + 'n
    where
        'a: 'n,
    {
        self.iter().filter(move |(n, _)| *n == name).map(|(_, v)| v)
    }

    /// Copies the headers into owned values, e.g. to edit and return them.
    pub fn to_vec(&self) -> Vec<Header> {
        self.iter().map(|(n, v)| Header::new(n, v)).collect()
    }

    /// The block's lines without their `\r\n`, up to the empty line.
    fn lines(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.raw
            .split(|&b| b == b'\n')
            .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
            .take_while(|line| !line.is_empty())
    }
}

/// `Name: value` with the value's surrounding whitespace trimmed, as the NATS
/// clients do; `None` for a line without a colon, an empty name or bytes
/// that are not UTF-8.
fn parse_line(line: &[u8]) -> Option<(&str, &str)> {
    let line = std::str::from_utf8(line).ok()?;
    let (name, value) = line.split_once(':')?;
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    Some((name, value.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLOCK: &[u8] = b"NATS/1.0\r\nX-Region: eu\r\nTrace:  a1 \r\nX-Region: us\r\n\r\n";

    #[test]
    fn iterates_in_order_with_repeats() {
        let h = Headers::new(BLOCK);
        let all: Vec<_> = h.iter().collect();
        assert_eq!(
            all,
            [("X-Region", "eu"), ("Trace", "a1"), ("X-Region", "us")]
        );
        assert_eq!(h.get("X-Region"), Some("eu"));
        assert_eq!(h.get_all("X-Region").collect::<Vec<_>>(), ["eu", "us"]);
    }

    #[test]
    fn names_are_case_sensitive_unless_asked() {
        let h = Headers::new(BLOCK);
        assert_eq!(h.get("x-region"), None);
        assert_eq!(h.get_ignore_case("x-region"), Some("eu"));
    }

    #[test]
    fn status_line() {
        assert_eq!(Headers::new(b"NATS/1.0 503\r\n\r\n").status(), Some(503));
        assert_eq!(
            Headers::new(b"NATS/1.0 408 Request Timeout\r\n\r\n").status(),
            Some(408)
        );
        assert_eq!(Headers::new(BLOCK).status(), None);
    }

    #[test]
    fn malformed_input_is_skipped_not_fatal() {
        let h = Headers::new(
            b"NATS/1.0\r\nno colon here\r\n: empty\r\nA:\xff\r\nB: ok\r\n\r\nC: after end\r\n",
        );
        assert_eq!(h.iter().collect::<Vec<_>>(), [("B", "ok")]);
        assert!(Headers::new(b"").is_empty());
        assert!(Headers::new(b"garbage").is_empty());
    }

    #[test]
    fn to_vec_copies() {
        let v = Headers::new(BLOCK).to_vec();
        assert_eq!(v[1], Header::new("Trace", "a1"));
    }
}
