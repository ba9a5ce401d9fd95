//! Finding the routing value and checking it is safe to put in a subject.

use serde_json::Value;

/// The scalar at `path` in a JSON payload, as text (strings as is, numbers
/// and booleans printed); `None` when absent, not a scalar or not JSON.
pub fn json_field(payload: &[u8], path: &[String]) -> Option<String> {
    let doc: Value = serde_json::from_slice(payload).ok()?;
    let mut v = &doc;
    for key in path {
        v = v.as_object()?.get(key)?;
    }
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// One literal subject token: non-empty, no separators, wildcards,
/// whitespace or control characters.
pub fn is_token(v: &str) -> bool {
    !v.is_empty()
        && v.chars()
            .all(|c| !matches!(c, '.' | '*' | '>') && !c.is_whitespace() && !c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> Vec<String> {
        p.split('.').map(str::to_string).collect()
    }

    #[test]
    fn finds_scalars_at_dotted_paths() {
        let doc = br#"{"region":"eu","meta":{"zone":3,"ok":true,"list":[1]}}"#;
        assert_eq!(json_field(doc, &path("region")).as_deref(), Some("eu"));
        assert_eq!(json_field(doc, &path("meta.zone")).as_deref(), Some("3"));
        assert_eq!(json_field(doc, &path("meta.ok")).as_deref(), Some("true"));
        assert_eq!(json_field(doc, &path("meta.list")), None);
        assert_eq!(json_field(doc, &path("meta.absent")), None);
        assert_eq!(json_field(b"not json", &path("region")), None);
    }

    #[test]
    fn tokens_cannot_escape_the_template() {
        assert!(is_token("eu-west_1"));
        for bad in ["", "eu.west", "*", ">", "e u", "eu\r\n"] {
            assert!(!is_token(bad), "{bad:?}");
        }
    }
}
