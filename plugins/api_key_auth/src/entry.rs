//! The value of a `key.<sha256>` config entry: `;`-separated `name=value`
//! fields, lists comma-separated, whitespace around items ignored.
//!
//! | field | meaning |
//! |---|---|
//! | `tenant` | required: the tenant to bind the client to |
//! | `user` | required: the user name the broker reports |
//! | `pub`, `sub` | subjects allowed to publish / subscribe (default: all) |
//! | `pub_deny`, `sub_deny` | subjects denied, winning over the allow lists |
//! | `expires_at_ms` | the key stops working at this Unix time (ms) |
//! | `ttl_ms` | each connection's grant ends this long after CONNECT |

use switchyard_plugin::config::split_list;
use switchyard_plugin::{Grant, Permissions};

#[derive(Debug, Default)]
pub struct KeyEntry {
    tenant: String,
    user: String,
    publish: Permissions,
    subscribe: Permissions,
    expires_at_ms: Option<u64>,
    ttl_ms: Option<u64>,
}

impl KeyEntry {
    pub fn parse(value: &str) -> Result<KeyEntry, String> {
        let mut e = KeyEntry::default();
        for field in value.split(';').map(str::trim).filter(|f| !f.is_empty()) {
            let (name, v) = field
                .split_once('=')
                .ok_or_else(|| format!("field `{field}` has no `=`"))?;
            let v = v.trim();
            match name.trim() {
                "tenant" => e.tenant = v.to_string(),
                "user" => e.user = v.to_string(),
                "pub" => e.publish.allow = split_list(v),
                "sub" => e.subscribe.allow = split_list(v),
                "pub_deny" => e.publish.deny = split_list(v),
                "sub_deny" => e.subscribe.deny = split_list(v),
                "expires_at_ms" => e.expires_at_ms = Some(number(name, v)?),
                "ttl_ms" => e.ttl_ms = Some(number(name, v)?),
                other => return Err(format!("unknown field `{other}`")),
            }
        }
        if e.tenant.is_empty() {
            return Err("`tenant` is missing".to_string());
        }
        if e.user.is_empty() {
            return Err("`user` is missing".to_string());
        }
        Ok(e)
    }

    /// The grant for a connection made at `now_ms`: the earlier of the
    /// key's expiry and the connection's TTL.
    pub fn grant(self, now_ms: u64) -> Grant {
        let ttl_end = self.ttl_ms.map(|t| now_ms.saturating_add(t));
        let expires = match (self.expires_at_ms, ttl_end) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Grant {
            tenant: self.tenant,
            user: self.user,
            publish: self.publish,
            subscribe: self.subscribe,
            expires_at_ms: expires,
        }
    }
}

fn number(name: &str, v: &str) -> Result<u64, String> {
    v.parse()
        .map_err(|_| format!("`{name}` is not a whole number: `{v}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_entry() {
        let g = KeyEntry::parse(
            "tenant=acme; user=svc; pub=orders.>, billing.*; sub=_INBOX.>; pub_deny=orders.admin; ttl_ms=1000",
        )
        .unwrap()
        .grant(5);
        assert_eq!(g.tenant, "acme");
        assert_eq!(g.user, "svc");
        assert_eq!(g.publish.allow, ["orders.>", "billing.*"]);
        assert_eq!(g.publish.deny, ["orders.admin"]);
        assert_eq!(g.subscribe.allow, ["_INBOX.>"]);
        assert_eq!(g.expires_at_ms, Some(1005));
    }

    #[test]
    fn minimal_entry_allows_everything_forever() {
        let g = KeyEntry::parse("tenant=acme;user=svc").unwrap().grant(5);
        assert!(g.publish.allow.is_empty() && g.subscribe.deny.is_empty());
        assert_eq!(g.expires_at_ms, None);
    }

    #[test]
    fn earliest_expiry_wins() {
        let e = KeyEntry::parse("tenant=a;user=u;expires_at_ms=100;ttl_ms=1000").unwrap();
        assert_eq!(e.grant(5).expires_at_ms, Some(100));
    }

    #[test]
    fn malformed_entries_are_errors() {
        assert!(KeyEntry::parse("user=svc").unwrap_err().contains("tenant"));
        assert!(KeyEntry::parse("tenant=a").unwrap_err().contains("user"));
        assert!(KeyEntry::parse("tenant=a;user=u;color=red").is_err());
        assert!(KeyEntry::parse("tenant=a;user=u;ttl_ms=soon").is_err());
        assert!(KeyEntry::parse("tenant").is_err());
    }
}
