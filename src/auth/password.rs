//! Checking a password or token a client sent against the configured one,
//! which is either plain text or a bcrypt hash.

use std::str::FromStr;

/// Whether a configured secret is a bcrypt hash rather than plain text;
/// nats-server decides by the same prefixes.
pub fn is_bcrypt(stored: &str) -> bool {
    ["$2a$", "$2b$", "$2x$", "$2y$"]
        .iter()
        .any(|prefix| stored.starts_with(prefix))
}

/// Whether a bcrypt-looking secret is well formed, so that configuration
/// can reject a mistyped hash instead of failing every login.
pub(crate) fn is_valid_bcrypt(stored: &str) -> bool {
    bcrypt::HashParts::from_str(stored).is_ok()
}

/// Checks `given` against `stored`: bcrypt verification when `stored` is a
/// bcrypt hash (slow by design), otherwise a constant-time comparison.
pub fn verify_secret(given: &str, stored: &str) -> bool {
    if is_bcrypt(stored) {
        // A malformed hash matches nothing; configuration reports it earlier.
        bcrypt::verify(given, stored).unwrap_or(false)
    } else {
        constant_time_eq(given.as_bytes(), stored.as_bytes())
    }
}

/// Compares secrets without an early exit, so timing does not reveal how
/// much of a guess was right.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for (i, x) in a.iter().enumerate() {
        diff |= (x ^ b.get(i).copied().unwrap_or(!x)) as usize;
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_secrets_compare_exactly() {
        assert!(verify_secret("s3cret", "s3cret"));
        assert!(!verify_secret("s3cre", "s3cret"));
        assert!(!verify_secret("s3cret!", "s3cret"));
        assert!(!verify_secret("", "s3cret"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn bcrypt_hashes_of_every_prefix_verify() {
        let parts = bcrypt::hash_with_result("s3cret", 4).expect("hashing cannot fail at cost 4");
        for version in [
            bcrypt::Version::TwoA,
            bcrypt::Version::TwoB,
            bcrypt::Version::TwoX,
            bcrypt::Version::TwoY,
        ] {
            let hash = parts.format_for_version(version);
            assert!(is_bcrypt(&hash) && is_valid_bcrypt(&hash), "{hash}");
            assert!(verify_secret("s3cret", &hash), "{hash}");
            assert!(!verify_secret("s3cre", &hash), "{hash}");
            // The hash text itself is not the password.
            assert!(!verify_secret(&hash, &hash));
        }
    }

    #[test]
    fn malformed_bcrypt_matches_nothing() {
        let bad = "$2a$10$tooshort";
        assert!(is_bcrypt(bad) && !is_valid_bcrypt(bad));
        assert!(!verify_secret(bad, bad));
        assert!(!verify_secret("", bad));
    }
}
