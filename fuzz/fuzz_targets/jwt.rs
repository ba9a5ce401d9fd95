//! JWT decoding and verification: user JWTs arrive in CONNECT from anyone
//! who can open a socket, account JWTs in `CLAIMS.UPDATE`, and `.creds`
//! files from users.
//!
//! A random token almost never carries a valid ed25519 signature, so most
//! inputs would stop at the signature check. The target has two modes:
//!
//! - byte 0 even: the rest is a token (or, when it looks like one, a
//!   `.creds` file) and is decoded as it is;
//! - byte 0 odd: the rest is a JWT *payload*; every `$ISS` in it is replaced
//!   by the public key of a fixed operator or account key (byte 0 picks),
//!   and the target signs it, so that the claims parsing behind the
//!   signature check is fuzzed too.
//!
//! Whatever decodes is then read the way the login and operator paths read
//! it (claim type conversion, permissions, revocations, source networks).

#![no_main]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;
use nkeys::KeyPair;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;
use switchyard::auth::jwt::{Decoded, decode_at, hash_id, parse_creds};
use switchyard::auth::jwt_login::cidr_contains;
use switchyard::auth::operator::to_permissions;
use switchyard::subject::SubjectMapping;

/// Test keys from `tests/vectors/jwt/keys.json` (operator, account).
const SEEDS: [&str; 2] = [
    "SOANHNGXRQZ4WZCEGYQEQ4GQVHC6OUAZ2J642JLC3EDSRXVTLICAVPCDZI",
    "SAACWQQFKVG4VR6YIKZYJRAFUSLO5VRGJV2FK4YNXJYQVUDXF2X2AULO2E",
];
/// 2023-11-14, inside the vectors' validity periods.
const NOW: i64 = 1_700_000_000;
const HEADER: &str = r#"{"typ":"JWT","alg":"ed25519-nkey"}"#;

fn signers() -> &'static [KeyPair; 2] {
    static KEYS: OnceLock<[KeyPair; 2]> = OnceLock::new();
    KEYS.get_or_init(|| SEEDS.map(|s| KeyPair::from_seed(s).expect("test seed")))
}

fn replace(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while !rest.is_empty() {
        if rest.starts_with(needle) {
            out.extend_from_slice(with);
            rest = &rest[needle.len()..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    out
}

fn signed(payload: &[u8], signer: &KeyPair) -> String {
    let payload = replace(payload, b"$ISS", signer.public_key().as_bytes());
    let mut token = URL_SAFE_NO_PAD.encode(HEADER);
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(payload));
    let signature = signer.sign(token.as_bytes()).expect("seed signs");
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(signature));
    token
}

fn read(decoded: Decoded) {
    let data = decoded.data().clone();
    let _ = hash_id(&data);
    match decoded {
        Decoded::User(user) => {
            let limits = &user.nats.limits;
            let _ = to_permissions(&limits.permissions);
            for cidr in &limits.src {
                let _ = cidr_contains(cidr, IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3)));
                let _ = cidr_contains(cidr, IpAddr::V6(Ipv6Addr::LOCALHOST));
            }
        }
        Decoded::Account(account) => {
            let nats = &account.nats;
            let _ = nats.limit_violations();
            let _ = account.is_revoked(&data.sub, data.iat);
            let _ = account.is_signer(&data.iss);
            let _ = to_permissions(&nats.default_permissions);
            for (source, destinations) in &nats.mappings {
                let destinations: Vec<(String, u8)> = destinations
                    .iter()
                    .map(|d| (d.subject.clone(), d.weight))
                    .collect();
                let _ = SubjectMapping::new(source, &destinations);
            }
        }
        Decoded::Operator(operator) => {
            let _ = operator.is_signer(&data.iss);
        }
        Decoded::Activation(_) => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let [mode, rest @ ..] = data else {
        return;
    };
    if mode % 2 == 0 {
        let Ok(text) = std::str::from_utf8(rest) else {
            return;
        };
        let token = match parse_creds(text) {
            Ok((jwt, _seed)) => jwt,
            Err(_) => text.to_string(),
        };
        for now in [NOW, 0, i64::MAX] {
            if let Ok(decoded) = decode_at(&token, now) {
                read(decoded);
            }
        }
    } else {
        let signer = &signers()[usize::from(mode / 2 % 2)];
        if let Ok(decoded) = decode_at(&signed(rest, signer), NOW) {
            read(decoded);
        }
    }
});
