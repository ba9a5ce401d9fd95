//! The redaction itself, independent of the plugin interface so it can be
//! tested on the build machine.

use serde_json::Value;

/// A dotted field path, e.g. `card.number`.
pub struct Path {
    segments: Vec<String>,
}

impl Path {
    /// `None` for an empty path or an empty segment (`a..b`).
    pub fn parse(s: &str) -> Option<Path> {
        let segments: Vec<String> = s.split('.').map(str::to_string).collect();
        if segments.iter().any(String::is_empty) {
            return None;
        }
        Some(Path { segments })
    }

    fn last(&self) -> &str {
        self.segments.last().map_or("", String::as_str)
    }
}

/// A cheap pre-check that skips parsing when no configured key can be in
/// the payload: without a backslash a JSON key is spelled literally, so its
/// last segment must appear as bytes. With a backslash (an escaped key may
/// hide the name) the payload is always parsed.
pub fn may_contain(payload: &[u8], fields: &[Path]) -> bool {
    payload.contains(&b'\\')
        || fields
            .iter()
            .any(|p| contains(payload, p.last().as_bytes()))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// Checks that `payload` is one JSON document, without building it.
pub fn validate(payload: &[u8]) -> Result<(), serde_json::Error> {
    serde_json::from_slice::<serde::de::IgnoredAny>(payload).map(|_| ())
}

/// Redacts `fields` in a JSON document. `Ok(None)` when nothing matched (the
/// caller passes the message unchanged), `Err` when it is not JSON.
pub fn redact(
    payload: &[u8],
    fields: &[Path],
    replacement: &str,
) -> Result<Option<Vec<u8>>, serde_json::Error> {
    let mut doc: Value = serde_json::from_slice(payload)?;
    let mut changed = false;
    for path in fields {
        changed |= redact_path(&mut doc, &path.segments, replacement);
    }
    if !changed {
        return Ok(None);
    }
    serde_json::to_vec(&doc).map(Some)
}

fn redact_path(value: &mut Value, path: &[String], replacement: &str) -> bool {
    let Some((head, rest)) = path.split_first() else {
        return false;
    };
    match value {
        Value::Array(items) => {
            let mut changed = false;
            for item in items {
                changed |= redact_path(item, path, replacement);
            }
            changed
        }
        Value::Object(map) => match map.get_mut(head) {
            None => false,
            Some(v) if rest.is_empty() => {
                *v = Value::String(replacement.to_string());
                true
            }
            Some(v) => redact_path(v, rest, replacement),
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(payload: &str, fields: &[&str]) -> Option<String> {
        let paths: Vec<Path> = fields.iter().map(|f| Path::parse(f).unwrap()).collect();
        redact(payload.as_bytes(), &paths, "[REDACTED]")
            .unwrap()
            .map(|v| String::from_utf8(v).unwrap())
    }

    #[test]
    fn redacts_top_level_and_nested_keeping_order() {
        let out = run(
            r#"{"user":"a","password":"p","card":{"number":"4111","exp":"12/30"}}"#,
            &["password", "card.number"],
        );
        assert_eq!(
            out.as_deref(),
            Some(
                r#"{"user":"a","password":"[REDACTED]","card":{"number":"[REDACTED]","exp":"12/30"}}"#
            )
        );
    }

    #[test]
    fn arrays_apply_the_path_to_each_element() {
        let out = run(r#"[{"ssn":1},{"x":2},{"ssn":{"a":1}}]"#, &["ssn"]);
        assert_eq!(
            out.as_deref(),
            Some(r#"[{"ssn":"[REDACTED]"},{"x":2},{"ssn":"[REDACTED]"}]"#)
        );
    }

    #[test]
    fn nothing_to_redact_is_none() {
        assert_eq!(run(r#"{"a":{"b":1}}"#, &["a.c", "password"]), None);
        assert_eq!(run("42", &["a"]), None);
    }

    #[test]
    fn non_json_is_an_error() {
        let p = [Path::parse("a").unwrap()];
        assert!(redact(b"not json", &p, "x").is_err());
        assert!(validate(b"not json").is_err());
        assert!(validate(b"{\"a\": [1, 2]} ").is_ok());
        assert!(validate(b"{} {}").is_err());
    }

    #[test]
    fn precheck_never_skips_escaped_keys() {
        let p = [Path::parse("password").unwrap()];
        assert!(!may_contain(br#"{"user":"a"}"#, &p));
        assert!(may_contain(br#"{"password":1}"#, &p));
        assert!(may_contain(br#"{"pass\u0077ord":1}"#, &p));
        assert_eq!(
            run(r#"{"pass\u0077ord":"p"}"#, &["password"]).as_deref(),
            Some(r#"{"password":"[REDACTED]"}"#)
        );
    }

    #[test]
    fn bad_paths_are_refused() {
        assert!(Path::parse("").is_none());
        assert!(Path::parse("a..b").is_none());
    }
}
