//! Signing and verifying JWTs: `header.payload.signature`, each part
//! base64url without padding, the signature an ed25519 nkey signature over
//! the ASCII of `header.payload`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use nkeys::{KeyPair, KeyPairType};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha512_256};
use std::io;
use std::time::{SystemTime, UNIX_EPOCH};

use super::account::Account;
use super::activation::Activation;
use super::claims::{ClaimType, Claims, ClaimsData, JWT_VERSION, kind_name};
use super::decoded::{Decoded, NatsClaim};
use super::error::JwtError;
use super::operator::Operator;
use super::user::User;

/// `{"typ":"JWT","alg":"ed25519-nkey"}`, encoded once.
const HEADER_B64: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ";
const ALGORITHM: &str = "ed25519-nkey";
const SIGNATURE_BYTES: usize = 64;

/// Signs `claims` as `signer`, issued now. See [`encode_at`].
pub fn encode<N: NatsClaim>(claims: &Claims<N>, signer: &KeyPair) -> Result<String, JwtError> {
    encode_at(claims, signer, now_unix())
}

/// Signs `claims` as `signer` with `iat` = `issued_at` (unix seconds), the
/// way nats-io/jwt does: `iss` = the signer's public key, `jti` = a hash of
/// the registered claims, `nats.type` and `nats.version = 2` set. The
/// subject and the signer must be the kinds of key the claim type needs.
pub fn encode_at<N: NatsClaim>(
    claims: &Claims<N>,
    signer: &KeyPair,
    issued_at: i64,
) -> Result<String, JwtError> {
    let claim = N::TYPE;
    check_kind(claim, &claims.data.sub, claim.subject_kind()).map_err(|_| {
        JwtError::WrongSubjectKind {
            claim,
            subject: claims.data.sub.clone(),
            expected: kind_name(&claim.subject_kind()),
        }
    })?;
    let issuer = signer.public_key();
    check_kind(claim, &issuer, claim.issuer_kind())?;

    let claims = stamped(claims, issuer, issued_at)?;
    let payload = URL_SAFE_NO_PAD.encode(to_go_json(&claims)?);
    let signing_input = format!("{HEADER_B64}.{payload}");
    let sig = signer
        .sign(signing_input.as_bytes())
        .map_err(|_| JwtError::SignerWithoutSeed)?;
    Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig)))
}

/// `claims` as they are signed: issuer, issue time and `jti` set, `nats`
/// stamped and normalized.
pub(crate) fn stamped<N: NatsClaim>(
    claims: &Claims<N>,
    issuer: String,
    issued_at: i64,
) -> Result<Claims<N>, JwtError> {
    let mut claims = claims.clone();
    claims.data.iss = issuer;
    claims.data.iat = issued_at;
    claims.data.jti = hash_id(&claims.data)?;
    claims.nats.stamp();
    claims.nats.normalize();
    Ok(claims)
}

/// The `jti` nats-io/jwt gives these claims: base32 (standard alphabet, no
/// padding) of SHA-512/256 over the JSON of the registered claims alone
/// (`jti` empty, so left out; the `nats` object is not hashed).
pub fn hash_id(data: &ClaimsData) -> Result<String, JwtError> {
    let mut data = data.clone();
    data.jti.clear();
    let digest = Sha512_256::digest(to_go_json(&data)?);
    Ok(data_encoding::BASE32_NOPAD.encode(&digest))
}

/// Verifies `token` and checks its validity period against the clock.
pub fn decode(token: &str) -> Result<Decoded, JwtError> {
    decode_at(token, now_unix())
}

/// Verifies `token` and checks it is valid at `now` (unix seconds): expired
/// when `now > exp`, not yet valid when `nbf > now` (0 = unset for both).
pub fn decode_at(token: &str, now: i64) -> Result<Decoded, JwtError> {
    let decoded = decode_verified(token)?;
    let data = decoded.data();
    if data.exp > 0 && now > data.exp {
        return Err(JwtError::Expired { exp: data.exp, now });
    }
    if data.nbf > 0 && data.nbf > now {
        return Err(JwtError::NotYetValid { nbf: data.nbf, now });
    }
    Ok(decoded)
}

#[derive(Deserialize)]
struct Header {
    #[serde(default)]
    typ: String,
    #[serde(default)]
    alg: String,
}

/// The parts of the payload that say which claims it holds. A top-level
/// `type` marks a v1 JWT.
#[derive(Deserialize)]
struct Identifier {
    #[serde(rename = "type", default)]
    v1_type: Option<String>,
    #[serde(default)]
    iss: String,
    #[serde(default)]
    nats: Option<TypeAndVersion>,
}

/// `nats.type` and `nats.version`, read before the claim type is known.
/// The version is an `i64` so that any number is reported as unsupported
/// rather than failing to parse.
#[derive(Deserialize)]
struct TypeAndVersion {
    #[serde(rename = "type", default)]
    claim_type: String,
    #[serde(default)]
    version: i64,
}

/// Signature, issuer and subject checks, without the clock: what
/// nats-io/jwt's `Decode` does (it leaves time to `Validate`).
pub(crate) fn decode_verified(token: &str) -> Result<Decoded, JwtError> {
    let parts: Vec<&str> = token.split('.').collect();
    let [header_b64, payload_b64, signature_b64] = parts[..] else {
        return Err(JwtError::Malformed { parts: parts.len() });
    };

    let header: Header = parse_json("header", &base64url("header", header_b64)?)?;
    if !header.typ.eq_ignore_ascii_case("JWT") {
        return Err(JwtError::UnsupportedType { typ: header.typ });
    }
    let alg = header.alg.to_ascii_lowercase();
    if alg != ALGORITHM {
        // v1's "ed25519" lands here too: v1 JWTs signed the payload alone,
        // and no current NATS tool issues them.
        return Err(JwtError::UnsupportedAlgorithm { alg: header.alg });
    }

    // Invalid UTF-8 becomes U+FFFD, as Go's encoding/json reads it:
    // @nats-io/jwt writes Latin-1 characters as single bytes.
    let json = base64url("payload", payload_b64)?;
    let json = String::from_utf8_lossy(&json);
    let json = json.as_bytes();
    let id: Identifier = parse_json("payload", json)?;
    if id.v1_type.is_some_and(|t| !t.is_empty()) {
        return Err(JwtError::UnsupportedVersion { version: 1 });
    }
    let generic = id.nats.unwrap_or(TypeAndVersion {
        claim_type: String::new(),
        version: 0,
    });
    if generic.version != i64::from(JWT_VERSION) {
        return Err(JwtError::UnsupportedVersion {
            version: generic.version,
        });
    }
    let claim = ClaimType::parse(&generic.claim_type).ok_or(JwtError::UnknownClaimType {
        found: generic.claim_type,
    })?;

    let signature = base64url("signature", signature_b64)?;
    let issuer = KeyPair::from_public_key(&id.iss).map_err(|_| JwtError::InvalidIssuer {
        claim,
        issuer: id.iss.clone(),
    })?;
    let signing_input = &token[..header_b64.len() + 1 + payload_b64.len()];
    if signature.len() != SIGNATURE_BYTES
        || issuer.verify(signing_input.as_bytes(), &signature).is_err()
    {
        return Err(JwtError::BadSignature { issuer: id.iss });
    }
    check_kind(claim, &id.iss, claim.issuer_kind())?;

    let decoded = match claim {
        ClaimType::Operator => Operator::wrap(parse_json("payload", json)?),
        ClaimType::Account => Account::wrap(parse_json("payload", json)?),
        ClaimType::User => User::wrap(parse_json("payload", json)?),
        ClaimType::Activation => Activation::wrap(parse_json("payload", json)?),
    };
    let subject = &decoded.data().sub;
    check_kind(claim, subject, claim.subject_kind()).map_err(|_| JwtError::WrongSubjectKind {
        claim,
        subject: subject.clone(),
        expected: kind_name(&claim.subject_kind()),
    })?;
    Ok(decoded)
}

fn base64url(part: &'static str, text: &str) -> Result<Vec<u8>, JwtError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| JwtError::Base64 { part })
}

fn parse_json<'a, T: Deserialize<'a>>(part: &'static str, json: &'a [u8]) -> Result<T, JwtError> {
    serde_json::from_slice(json).map_err(|e| JwtError::Json {
        part,
        reason: e.to_string(),
    })
}

/// Ok when `key` is a valid public nkey of `expected` kind.
fn check_kind(claim: ClaimType, key: &str, expected: KeyPairType) -> Result<(), JwtError> {
    let found = KeyPair::from_public_key(key)
        .map_err(|_| JwtError::InvalidIssuer {
            claim,
            issuer: key.to_string(),
        })?
        .key_pair_type();
    if found == expected {
        Ok(())
    } else {
        Err(JwtError::WrongIssuerKind {
            claim,
            issuer: key.to_string(),
            expected: kind_name(&expected),
            found: kind_name(&found),
        })
    }
}

pub(crate) fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// JSON as Go's `encoding/json` writes it: compact, and with `<`, `>`, `&`,
/// U+2028 and U+2029 escaped. The `jti` is a hash of these bytes, so a name
/// like `R&D` must be escaped the same way to get nats-io/jwt's `jti`.
pub(crate) fn to_go_json<T: Serialize>(value: &T) -> Result<Vec<u8>, JwtError> {
    let mut out = Vec::with_capacity(512);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, GoFormatter);
    value.serialize(&mut ser).map_err(|e| JwtError::Serialize {
        reason: e.to_string(),
    })?;
    Ok(out)
}

struct GoFormatter;

impl serde_json::ser::Formatter for GoFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            let escaped = match c {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            writer.write_all(&fragment.as_bytes()[start..i])?;
            writer.write_all(escaped.as_bytes())?;
            start = i + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}
