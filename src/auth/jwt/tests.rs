//! Codec behaviour: round trips, what is refused and why, and byte-for-byte
//! agreement with tokens nats-io/jwt (Go) issued.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use nkeys::KeyPair;

use super::codec::{stamped, to_go_json};
use super::*;

const NOW: i64 = 1_750_000_000;
const HEADER: &str = r#"{"typ":"JWT","alg":"ed25519-nkey"}"#;

/// A token signed by `key` over arbitrary header and payload JSON, for
/// shapes the encoder refuses to produce.
fn sign_raw(header: &str, payload: &str, key: &KeyPair) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let sig = key.sign(input.as_bytes()).expect("test keys have seeds");
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

fn payload_json(token: &str) -> String {
    let payload = token.split('.').nth(1).expect("three parts");
    String::from_utf8(URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("utf-8")
}

fn user_token(exp: i64, nbf: i64) -> (String, KeyPair) {
    let account = KeyPair::new_account();
    let mut claims = UserClaims::new(KeyPair::new_user().public_key());
    claims.data.exp = exp;
    claims.data.nbf = nbf;
    (encode_at(&claims, &account, NOW).expect("encodes"), account)
}

#[test]
fn every_claim_type_round_trips() {
    let operator = KeyPair::new_operator();
    let account = KeyPair::new_account();
    let user = KeyPair::new_user();

    let mut op = OperatorClaims::new(operator.public_key());
    op.data.name = "op".into();
    assert!(op.is_signer(&operator.public_key()));
    op.nats.strict_signing_key_usage = true;
    assert!(
        !op.is_signer(&operator.public_key()),
        "strict: signing keys only"
    );
    op.nats.signing_keys = vec![KeyPair::new_operator().public_key()];
    op.nats.system_account = account.public_key();

    let mut acc = AccountClaims::new(account.public_key());
    acc.nats.limits.conn = 10;
    acc.nats.exports.push(Export {
        subject: "orders.>".into(),
        kind: Some(ExportType::Stream),
        ..Default::default()
    });
    acc.nats.signing_keys = vec![
        SigningKey::Key(KeyPair::new_account().public_key()),
        SigningKey::Scoped(Box::new(UserScope::new(
            KeyPair::new_account().public_key(),
            "ops",
        ))),
    ];
    acc.nats.revocations.insert(REVOKE_ALL.into(), NOW - 10);

    let mut usr = UserClaims::new(user.public_key());
    usr.nats.limits.permissions.publish.allow = vec!["orders.>".into()];
    usr.nats.limits.permissions.resp = Some(ResponsePermission { max: 1, ttl: 1 });
    usr.nats.limits.src = vec!["10.0.0.0/8".into()];
    usr.data.exp = NOW + 60;

    let act = ActivationClaims::new(account.public_key(), "orders.>", ExportType::Stream);

    let token = encode_at(&op, &operator, NOW).expect("operator");
    let back: OperatorClaims = decode_at(&token, NOW).unwrap().into_claims().unwrap();
    assert_eq!(back.nats.signing_keys, op.nats.signing_keys);
    assert_eq!(back.data.iss, operator.public_key());
    assert_eq!(
        (
            back.nats.generic.claim_type.as_str(),
            back.nats.generic.version
        ),
        ("operator", 2)
    );

    let token = encode_at(&acc, &operator, NOW).expect("account");
    let back: AccountClaims = decode_at(&token, NOW).unwrap().into_claims().unwrap();
    assert_eq!(back.nats.limits, acc.nats.limits);
    assert_eq!(back.nats.exports, acc.nats.exports);
    assert_eq!(back.nats.signing_keys, acc.nats.signing_keys);
    assert!(back.is_revoked(&user.public_key(), NOW - 10));
    assert!(!back.is_revoked(&user.public_key(), NOW - 9));

    let token = encode_at(&usr, &account, NOW).expect("user");
    let back: UserClaims = decode_at(&token, NOW).unwrap().into_claims().unwrap();
    assert_eq!(back.nats.limits, usr.nats.limits);
    assert_eq!(back.data.exp, NOW + 60);
    assert_eq!(back.account(), account.public_key());

    let token = encode_at(&act, &account, NOW).expect("activation");
    let back: ActivationClaims = decode_at(&token, NOW).unwrap().into_claims().unwrap();
    assert_eq!(back.nats.import_subject, "orders.>");
    assert_eq!(back.nats.import_type, Some(ExportType::Stream));
}

#[test]
fn jti_is_the_hash_of_the_registered_claims() {
    let (token, _) = user_token(NOW + 5, 0);
    let decoded = decode_at(&token, NOW).unwrap();
    let data = decoded.data();
    assert_eq!(data.jti.len(), 52, "base32 of 32 bytes, unpadded");
    assert_eq!(hash_id(data).unwrap(), data.jti);

    // The `nats` object is not hashed: same registered claims, same jti.
    let mut other: UserClaims = decoded.into_claims().unwrap();
    other.nats.limits.subs = 7;
    assert_eq!(hash_id(&other.data).unwrap(), other.data.jti);
}

/// Registered claims and `jti` of JWTs issued by nsc (Go nats-io/jwt).
#[test]
fn jti_and_payload_match_go_byte_for_byte() {
    let go_user = r#"{"jti":"DLTF4ZKUWM4TOFEMBJ4PE3MQEVXHRBI7LY47Y4C353LZRJINBRBQ","iat":1624885730,"iss":"AAYJDVLZGWN7Y3FBPCVXCRVQZDFMYGHU4YXLGSXX7U254KH5SC3R5QKM","name":"user","sub":"UD3BGWIBPU3CWL4HOUU4VJEQWTUASAEG6OJ3XHM3EEJNA2PA3UVNYTZN","nats":{"pub":{},"sub":{},"subs":-1,"data":-1,"payload":-1,"type":"user","version":2}}"#;
    let mut user = UserClaims::new("UD3BGWIBPU3CWL4HOUU4VJEQWTUASAEG6OJ3XHM3EEJNA2PA3UVNYTZN");
    user.data.name = "user".into();
    let iss = "AAYJDVLZGWN7Y3FBPCVXCRVQZDFMYGHU4YXLGSXX7U254KH5SC3R5QKM";
    let ours = to_go_json(&stamped(&user, iss.into(), 1624885730).unwrap()).unwrap();
    assert_eq!(String::from_utf8(ours).unwrap(), go_user);

    let go_account = r#"{"jti":"I5HAEK6IU6A7E2EIAJ7JGZIAFOVPJZ2ETYXO7I7337HL3BWEKGAQ","iat":1761355392,"iss":"ODM6Z3FW6AECA2KBJEK6ZHXCS4VCTSQAXRH6HRISVG75OHONECSJOWU4","name":"santa","sub":"ADN4GUHHKMGML2D2ADELPUYEFF3QYNI4DVN6F43JPP6GI7V4SUYSJTB4","nats":{"limits":{"subs":-1,"data":-1,"payload":-1,"imports":-1,"exports":-1,"wildcards":true,"conn":-1,"leaf":-1},"default_permissions":{"pub":{},"sub":{}},"authorization":{},"type":"account","version":2}}"#;
    let mut account =
        AccountClaims::new("ADN4GUHHKMGML2D2ADELPUYEFF3QYNI4DVN6F43JPP6GI7V4SUYSJTB4");
    account.data.name = "santa".into();
    let iss = "ODM6Z3FW6AECA2KBJEK6ZHXCS4VCTSQAXRH6HRISVG75OHONECSJOWU4";
    let ours = to_go_json(&stamped(&account, iss.into(), 1761355392).unwrap()).unwrap();
    assert_eq!(String::from_utf8(ours).unwrap(), go_account);

    let go_operator = r#"{"jti":"EFNDEGR5MZPL5TIPLUJ2SLLWYWECSCIHHUSYHHNHGPYUJZXNWRSQ","iat":1624875760,"iss":"OCERRT6XSDCWAY3EYSSN46QLFBJ7DRG523SXH2H4R47XVUXV2RRBISLK","name":"memory","sub":"OCERRT6XSDCWAY3EYSSN46QLFBJ7DRG523SXH2H4R47XVUXV2RRBISLK","nats":{"type":"operator","version":2}}"#;
    let key = "OCERRT6XSDCWAY3EYSSN46QLFBJ7DRG523SXH2H4R47XVUXV2RRBISLK";
    let mut operator = OperatorClaims::new(key);
    operator.data.name = "memory".into();
    let ours = to_go_json(&stamped(&operator, key.into(), 1624875760).unwrap()).unwrap();
    assert_eq!(String::from_utf8(ours).unwrap(), go_operator);
}

#[test]
fn strings_are_escaped_as_go_escapes_them() {
    let account = KeyPair::new_account();
    let mut claims = UserClaims::new(KeyPair::new_user().public_key());
    claims.data.name = "R&D <ops>\u{2028}".into();
    let token = encode_at(&claims, &account, NOW).unwrap();
    assert!(payload_json(&token).contains(r#""name":"R\u0026D \u003cops\u003e\u2028""#));
    let back = decode_at(&token, NOW).unwrap();
    assert_eq!(back.data().name, claims.data.name);
}

#[test]
fn any_flipped_payload_character_is_refused() {
    let (token, _) = user_token(0, 0);
    let (head, rest) = token.split_once('.').unwrap();
    let (payload, sig) = rest.split_once('.').unwrap();
    let mut bad_signatures = 0;
    for i in (0..payload.len()).step_by(5) {
        let mut bytes = payload.as_bytes().to_vec();
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        let flipped = format!("{head}.{}.{sig}", String::from_utf8(bytes).unwrap());
        match decode_at(&flipped, NOW) {
            Err(JwtError::BadSignature { .. }) => bad_signatures += 1,
            Err(_) => {}
            Ok(_) => panic!("flipping payload character {i} went unnoticed"),
        }
    }
    assert!(bad_signatures > 0, "some flips keep the JSON valid");
}

#[test]
fn changed_claims_or_signature_fail_verification() {
    let (token, _) = user_token(0, 0);
    let parts: Vec<&str> = token.split('.').collect();
    let json = payload_json(&token).replace(r#""subs":-1"#, r#""subs":100"#);
    let forged = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(json), parts[2]);
    assert!(matches!(
        decode_at(&forged, NOW),
        Err(JwtError::BadSignature { .. })
    ));

    // A real signature, by a key other than `iss`.
    let (other, _) = user_token(0, 0);
    let sig = other.rsplit('.').next().unwrap();
    let swapped = format!("{}.{}.{sig}", parts[0], parts[1]);
    assert!(matches!(
        decode_at(&swapped, NOW),
        Err(JwtError::BadSignature { .. })
    ));

    let short = format!("{}.{}.{}", parts[0], parts[1], &parts[2][..40]);
    assert!(matches!(
        decode_at(&short, NOW),
        Err(JwtError::BadSignature { .. })
    ));
}

#[test]
fn issuers_and_subjects_must_be_the_right_kind_of_key() {
    let user = KeyPair::new_user().public_key();
    let operator = KeyPair::new_operator();
    let account = KeyPair::new_account();

    // The encoder refuses to sign what the decoder would refuse.
    let err = encode_at(&UserClaims::new(&user), &operator, NOW).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "user JWT: issuer `{}` is an operator key, but user JWTs must be issued by an account key",
            operator.public_key()
        )
    );
    let err = encode_at(&AccountClaims::new(&user), &operator, NOW).unwrap_err();
    assert!(matches!(err, JwtError::WrongSubjectKind { .. }), "{err}");
    let public_only = KeyPair::from_public_key(&account.public_key()).unwrap();
    let err = encode_at(&UserClaims::new(&user), &public_only, NOW).unwrap_err();
    assert_eq!(err, JwtError::SignerWithoutSeed);

    let payload = |iss: &str, sub: &str, kind: &str| {
        format!(r#"{{"iss":"{iss}","sub":"{sub}","nats":{{"type":"{kind}","version":2}}}}"#)
    };
    let cases = [
        // A user JWT signed by an operator.
        (payload(&operator.public_key(), &user, "user"), &operator),
        // A self-signed account JWT (nats-io/jwt's decoder accepts these).
        (
            payload(&account.public_key(), &account.public_key(), "account"),
            &account,
        ),
        // An operator JWT signed by an account.
        (
            payload(&account.public_key(), &operator.public_key(), "operator"),
            &account,
        ),
    ];
    for (json, key) in cases {
        let err = decode_at(&sign_raw(HEADER, &json, key), NOW).unwrap_err();
        assert!(
            matches!(err, JwtError::WrongIssuerKind { .. }),
            "{json}: {err}"
        );
    }

    let json = payload(&account.public_key(), &account.public_key(), "user");
    let err = decode_at(&sign_raw(HEADER, &json, &account), NOW).unwrap_err();
    assert!(matches!(err, JwtError::WrongSubjectKind { .. }), "{err}");
}

#[test]
fn a_decoded_jwt_of_another_type_is_refused() {
    let (token, _) = user_token(0, 0);
    let err = decode_at(&token, NOW)
        .unwrap()
        .into_claims::<Account>()
        .unwrap_err();
    assert_eq!(
        err,
        JwtError::WrongClaimType {
            expected: ClaimType::Account,
            found: ClaimType::User
        }
    );
}

#[test]
fn expiry_and_not_before_are_checked_against_now() {
    let (token, _) = user_token(NOW, 0);
    assert!(
        decode_at(&token, NOW).is_ok(),
        "valid through its exp second"
    );
    assert_eq!(
        decode_at(&token, NOW + 1).unwrap_err(),
        JwtError::Expired {
            exp: NOW,
            now: NOW + 1
        }
    );
    let (token, _) = user_token(0, NOW + 1);
    assert_eq!(
        decode_at(&token, NOW).unwrap_err(),
        JwtError::NotYetValid {
            nbf: NOW + 1,
            now: NOW
        }
    );
    assert!(decode_at(&token, NOW + 1).is_ok());
}

#[test]
fn headers_versions_and_shapes_are_checked() {
    let account = KeyPair::new_account();
    let user = KeyPair::new_user().public_key();
    let iss = account.public_key();
    let good = format!(r#"{{"iss":"{iss}","sub":"{user}","nats":{{"type":"user","version":2}}}}"#);
    let sign = |header: &str, payload: &str| sign_raw(header, payload, &account);

    assert!(decode_at(&sign(r#"{"typ":"jwt","alg":"ED25519-NKEY"}"#, &good), NOW).is_ok());
    let err = decode_at(&sign(r#"{"typ":"JWT","alg":"ed25519"}"#, &good), NOW).unwrap_err();
    assert!(
        matches!(err, JwtError::UnsupportedAlgorithm { .. }),
        "{err}"
    );
    let err = decode_at(&sign(r#"{"typ":"JOSE","alg":"ed25519-nkey"}"#, &good), NOW).unwrap_err();
    assert!(matches!(err, JwtError::UnsupportedType { .. }), "{err}");

    let v3 = good.replace(r#""version":2"#, r#""version":3"#);
    let err = decode_at(&sign(HEADER, &v3), NOW).unwrap_err();
    assert_eq!(err, JwtError::UnsupportedVersion { version: 3 });
    let v1 = format!(r#"{{"iss":"{iss}","sub":"{user}","type":"user","nats":{{}}}}"#);
    let err = decode_at(&sign(HEADER, &v1), NOW).unwrap_err();
    assert_eq!(err, JwtError::UnsupportedVersion { version: 1 });
    let server = good.replace(r#""type":"user""#, r#""type":"server""#);
    let err = decode_at(&sign(HEADER, &server), NOW).unwrap_err();
    assert!(matches!(err, JwtError::UnknownClaimType { .. }), "{err}");

    let token = sign(HEADER, &good);
    assert_eq!(
        decode_at(&format!("{token}.x"), NOW).unwrap_err(),
        JwtError::Malformed { parts: 4 }
    );
    assert_eq!(
        decode_at("abc.def", NOW).unwrap_err(),
        JwtError::Malformed { parts: 2 }
    );
    let err = decode_at(&token.replacen('.', ".=", 1), NOW).unwrap_err();
    assert_eq!(err, JwtError::Base64 { part: "payload" });
    let err = decode_at(&sign(HEADER, "not json"), NOW).unwrap_err();
    assert!(
        matches!(
            err,
            JwtError::Json {
                part: "payload",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn invalid_utf8_in_the_payload_reads_as_go_reads_it() {
    let account = KeyPair::new_account();
    let (iss, user) = (account.public_key(), KeyPair::new_user().public_key());
    // "café" as @nats-io/jwt writes it: Latin-1, not UTF-8.
    let mut payload = format!(r#"{{"iss":"{iss}","sub":"{user}","name":"caf"#).into_bytes();
    payload.push(0xE9);
    payload.extend_from_slice(br#"","nats":{"type":"user","version":2}}"#);
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(HEADER),
        URL_SAFE_NO_PAD.encode(&payload)
    );
    let sig = URL_SAFE_NO_PAD.encode(account.sign(input.as_bytes()).unwrap());
    let decoded = decode_at(&format!("{input}.{sig}"), NOW).unwrap();
    assert_eq!(decoded.data().name, "caf\u{FFFD}");
}

#[test]
fn go_nulls_and_early_v2_shapes_decode() {
    let account = KeyPair::new_account();
    let iss = account.public_key();
    let user = KeyPair::new_user().public_key();
    let json = format!(
        r#"{{"iss":"{iss}","sub":"{user}","nats":{{"pub":{{"allow":null}},"sub":null,
        "src":"10.0.0.0/8, 192.168.0.0/16,,","tags":null,"type":"user","version":2}}}}"#
    );
    let claims: UserClaims = decode_at(&sign_raw(HEADER, &json, &account), NOW)
        .unwrap()
        .into_claims()
        .unwrap();
    assert_eq!(claims.nats.limits.src, ["10.0.0.0/8", "192.168.0.0/16"]);
    assert!(claims.nats.limits.permissions.publish.allow.is_empty());
}

#[test]
fn limit_violations_follow_nats_io_jwt() {
    use super::{AccountLimits, Export};
    let export = |subject: &str| Export {
        subject: subject.into(),
        ..Default::default()
    };
    let mut account = super::Account {
        limits: AccountLimits::unlimited(),
        exports: vec![export("a.>"), export("b")],
        ..Default::default()
    };
    // Unlimited exports: wildcards are not checked, as in nats-io/jwt.
    account.limits.wildcard_exports = false;
    assert!(account.limit_violations().is_empty());
    account.limits.exports = 2;
    assert_eq!(
        account.limit_violations(),
        ["the account contains wildcard exports that are not allowed by the operator"]
    );
    account.limits.exports = 1;
    account.limits.wildcard_exports = true;
    assert_eq!(
        account.limit_violations(),
        ["the account contains more exports than allowed by the operator"]
    );
    account.limits.imports = 0;
    account.imports = vec![super::Import::default()];
    assert_eq!(account.limit_violations().len(), 2);
}
