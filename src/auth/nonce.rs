//! The nonce a server puts in INFO for nkey users to sign.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Raw nonce length, as nats-server: 11 bytes encode to 15 base64 characters.
const NONCE_BYTES: usize = 11;

/// A fresh nonce: 11 bytes from the operating system's CSPRNG, base64
/// URL-safe without padding (15 characters), the shape nats-server sends.
///
/// The bytes come from the OS rather than a fast seeded generator because a
/// client that can predict a nonce can replay a signature captured for it.
pub fn new_nonce() -> String {
    let mut raw = [0u8; NONCE_BYTES];
    // The OS generator only fails when the platform has none at all (it is
    // not input-dependent); serving nkey users with guessable nonces would
    // be worse than stopping the task that asked for one.
    getrandom::fill(&mut raw).expect("the operating system random generator is unavailable");
    URL_SAFE_NO_PAD.encode(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_is_15_url_safe_characters_and_fresh() {
        let a = new_nonce();
        let b = new_nonce();
        assert_eq!(a.len(), 15);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).map(|r| r.len()), Ok(NONCE_BYTES));
        assert_ne!(a, b);
    }
}
