//! Checking the signature an nkey user made over the server's nonce.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use nkeys::KeyPair;

/// Length of an ed25519 signature.
const SIGNATURE_BYTES: usize = 64;

/// Whether `sig` is `public_key`'s ed25519 signature over the nonce's ASCII
/// bytes. `sig` is base64 URL-safe without padding, or standard base64 (the
/// fallback nats-server accepts). Any malformed input is simply `false`.
pub fn verify_nonce_signature(public_key: &str, nonce: &str, sig: &str) -> bool {
    KeyPair::from_public_key(public_key).is_ok_and(|key| verify_with_key(&key, nonce, sig))
}

/// As [`verify_nonce_signature`], with a key already decoded (the user
/// directory decodes each configured key once, at load).
pub(crate) fn verify_with_key(key: &KeyPair, nonce: &str, sig: &str) -> bool {
    let mut raw = [0u8; SIGNATURE_BYTES];
    match decode_signature(sig, &mut raw) {
        Some(()) => key.verify(nonce.as_bytes(), &raw).is_ok(),
        None => false,
    }
}

/// Decodes into a fixed buffer: no allocation, and anything that is not
/// exactly one signature long is rejected before any curve arithmetic.
fn decode_signature(sig: &str, out: &mut [u8; SIGNATURE_BYTES]) -> Option<()> {
    // Room for base64's conservative length estimate; the exact length is
    // checked after decoding.
    let mut buf = [0u8; SIGNATURE_BYTES + 3];
    let len = URL_SAFE_NO_PAD
        .decode_slice(sig, &mut buf)
        .or_else(|_| STANDARD.decode_slice(sig, &mut buf))
        .ok()?;
    if len != SIGNATURE_BYTES {
        return None;
    }
    out.copy_from_slice(&buf[..SIGNATURE_BYTES]);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(nonce: &str) -> (KeyPair, Vec<u8>) {
        let user = KeyPair::new_user();
        let sig = user
            .sign(nonce.as_bytes())
            .expect("a new key pair has a seed");
        (user, sig)
    }

    #[test]
    fn url_safe_raw_and_standard_signatures_verify() {
        let nonce = crate::auth::new_nonce();
        let (user, sig) = signed(&nonce);
        let pk = user.public_key();
        assert!(verify_nonce_signature(
            &pk,
            &nonce,
            &URL_SAFE_NO_PAD.encode(&sig)
        ));
        assert!(verify_nonce_signature(&pk, &nonce, &STANDARD.encode(&sig)));
    }

    #[test]
    fn wrong_key_tampered_nonce_and_garbage_fail() {
        let nonce = "gLRx6Y1yT0aAK7o";
        let (user, sig) = signed(nonce);
        let sig = URL_SAFE_NO_PAD.encode(&sig);
        let pk = user.public_key();
        let other = KeyPair::new_user().public_key();
        assert!(verify_nonce_signature(&pk, nonce, &sig));
        assert!(!verify_nonce_signature(&other, nonce, &sig));
        assert!(!verify_nonce_signature(&pk, "gLRx6Y1yT0aAK7p", &sig));
        assert!(!verify_nonce_signature(&pk, nonce, "not base64 at all!"));
        assert!(!verify_nonce_signature(&pk, nonce, ""));
        assert!(!verify_nonce_signature(&pk, nonce, &sig[..sig.len() - 4]));
        assert!(!verify_nonce_signature(&pk, nonce, &format!("{sig}AAAA")));
        assert!(!verify_nonce_signature("UNOTAKEY", nonce, &sig));
    }
}
