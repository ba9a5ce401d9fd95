//! Authenticates clients by API key. Keys are never stored in clear: the
//! configuration holds the SHA-256 of each key, bound to a tenant, a user
//! name and optional permissions.
//!
//! The client presents the key as its `token`, or as `password` with user
//! `apikey`. Config entries, one per key:
//!
//! ```text
//! key.<sha256 hex of the key, lowercase> = "tenant=acme;user=svc;pub=orders.>;sub=_INBOX.>"
//! ```
//!
//! See `entry.rs` for every field of the value.

mod entry;

use sha2::{Digest, Sha256};
use switchyard_plugin::{Authenticate, ConnectRequest, Grant, clock, config};

use crate::entry::KeyEntry;

struct ApiKeyAuth;

impl Authenticate for ApiKeyAuth {
    fn authenticate(req: &ConnectRequest) -> Result<Grant, String> {
        let key = presented_key(req)
            .ok_or("no API key presented (token, or user `apikey` with the key as password)")?;
        let hash = sha256_hex(key.as_bytes());
        // The hash prefix identifies the key in logs without revealing it.
        let short = &hash[..12];
        let value = config::get(&format!("key.{hash}"))
            .ok_or_else(|| format!("unknown API key (sha256 {short}...)"))?;
        let entry = KeyEntry::parse(&value)
            .map_err(|e| format!("config `key.{short}...` is malformed: {e}"))?;
        Ok(entry.grant(clock::now_ms()))
    }
}

/// The key from `token`, or from `password` when the user is `apikey`.
fn presented_key(req: &ConnectRequest) -> Option<&str> {
    let key = match (&req.token, req.user.as_deref(), &req.password) {
        (Some(token), _, _) => token,
        (None, Some("apikey"), Some(password)) => password,
        _ => return None,
    };
    (!key.is_empty()).then_some(key.as_str())
}

fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

switchyard_plugin::export_auth!(ApiKeyAuth);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_digest_matches_sha256sum() {
        // printf %s secret | sha256sum
        assert_eq!(
            sha256_hex(b"secret"),
            "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"
        );
    }
}
