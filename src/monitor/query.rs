//! The query string of a monitoring request: decoded once, then read with
//! typed getters that name the key and the value in their errors.

use super::error::RequestError;

#[derive(Debug, Default)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Decodes `a=1&b=x%20y` (`+` is a space, as in forms).
    pub fn parse(raw: &str) -> Result<Query, RequestError> {
        let mut pairs = Vec::new();
        for part in raw.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            pairs.push((decode(k)?, decode(v)?));
        }
        Ok(Query { pairs })
    }

    /// The last value given for `key` (a later one overrides).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `1`, `true`, `t` or `0`, `false`, `f` (Go's `ParseBool`, as
    /// nats-server reads them); absent or empty is false.
    pub fn bool(&self, key: &'static str) -> Result<bool, RequestError> {
        match self.get(key) {
            None | Some("") => Ok(false),
            Some("1" | "t" | "T" | "true" | "TRUE" | "True") => Ok(true),
            Some("0" | "f" | "F" | "false" | "FALSE" | "False") => Ok(false),
            Some(v) => Err(bad(key, v, "expected true or false (or 1 or 0)")),
        }
    }

    /// A non-negative integer; absent or empty gives `None`.
    pub fn usize(&self, key: &'static str) -> Result<Option<usize>, RequestError> {
        match self.get(key) {
            None | Some("") => Ok(None),
            Some(v) => v
                .parse::<usize>()
                .map(Some)
                .map_err(|_| bad(key, v, "expected a non-negative integer")),
        }
    }

    /// A value that is present and not empty.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.is_empty())
    }
}

pub fn bad(key: &'static str, value: &str, reason: &str) -> RequestError {
    RequestError::BadValue {
        key,
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

fn decode(s: &str) -> Result<String, RequestError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| RequestError::BadQuery(format!("bad escape in `{s}`")))?;
                out.push(hex);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| RequestError::BadQuery(format!("`{s}` is not UTF-8")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_reads_typed_values() {
        let q = Query::parse("acc=%24G&subs=1&limit=5&name=a+b&flag").unwrap();
        assert_eq!(q.get("acc"), Some("$G"));
        assert_eq!(q.get("name"), Some("a b"));
        assert!(q.bool("subs").unwrap());
        assert!(!q.bool("flag").unwrap());
        assert_eq!(q.usize("limit").unwrap(), Some(5));
        assert_eq!(q.usize("offset").unwrap(), None);
        assert!(Query::parse("limit=%zz").is_err());
        let q = Query::parse("limit=-1&subs=maybe").unwrap();
        assert!(matches!(
            q.usize("limit"),
            Err(RequestError::BadValue { key: "limit", .. })
        ));
        assert!(q.bool("subs").is_err());
    }
}
