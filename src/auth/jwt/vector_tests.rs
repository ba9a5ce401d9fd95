//! Interoperability with an independent implementation: tokens issued by
//! @nats-io/jwt (JavaScript), checked in under `tests/vectors/jwt` by
//! `tests/vectors/gen/make-vectors.mjs`. Node is not needed to run these.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use nkeys::KeyPair;
use serde_json::Value;
use sha2::{Digest, Sha512};

use super::*;

macro_rules! vector {
    ($file:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/vectors/jwt/",
            $file
        ))
    };
}

const KEYS: &str = vector!("keys.json");
const EXPECTED: &str = vector!("expected.json");
const FAR_FUTURE: i64 = 4_102_444_800;

/// Every JWT vector that is valid today, by file name.
const VALID: [(&str, &str); 8] = [
    ("operator.jwt", vector!("operator.jwt")),
    ("exporter.jwt", vector!("exporter.jwt")),
    ("activation.jwt", vector!("activation.jwt")),
    ("account.jwt", vector!("account.jwt")),
    ("user.jwt", vector!("user.jwt")),
    ("user_signing_key.jwt", vector!("user_signing_key.jwt")),
    ("user_scoped.jwt", vector!("user_scoped.jwt")),
    ("user_expired.jwt", vector!("user_expired.jwt")),
];

pub(super) fn public(role: &str) -> String {
    let keys: Value = serde_json::from_str(KEYS).expect("keys.json");
    keys[role]["public_key"]
        .as_str()
        .unwrap_or_else(|| panic!("keys.json has no {role}"))
        .to_string()
}

pub(super) fn signer(role: &str) -> KeyPair {
    let keys: Value = serde_json::from_str(KEYS).expect("keys.json");
    let seed = keys[role]["seed"].as_str().expect("seed");
    KeyPair::from_seed(seed).expect("valid seed")
}

/// The role in keys.json whose public key is `key`.
fn role_of(key: &str) -> String {
    let keys: Value = serde_json::from_str(KEYS).expect("keys.json");
    let map = keys.as_object().expect("object");
    map.iter()
        .find(|(_, v)| v["public_key"] == key)
        .map(|(role, _)| role.clone())
        .unwrap_or_else(|| panic!("{key} is not in keys.json"))
}

fn payload(token: &str) -> String {
    let part = token.trim().split('.').nth(1).expect("payload");
    String::from_utf8(URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("utf-8")
}

/// Decoded at the moment it was issued, or at its expiry if that came
/// first (the expired vector), so the result does not depend on today.
fn decode_vector(token: &str) -> Decoded {
    let claims: Value = serde_json::from_str(&payload(token)).expect("json");
    let iat = claims["iat"].as_i64().expect("iat");
    let now = match claims["exp"].as_i64() {
        Some(exp) => exp.min(iat),
        None => iat,
    };
    decode_at(token.trim(), now).expect("vector decodes")
}

#[test]
fn every_vector_verifies_with_the_expected_issuer_and_type() {
    let cases = [
        ("operator.jwt", ClaimType::Operator, "operator", "operator"),
        (
            "exporter.jwt",
            ClaimType::Account,
            "operator_signing",
            "exporter",
        ),
        (
            "activation.jwt",
            ClaimType::Activation,
            "exporter",
            "account",
        ),
        ("account.jwt", ClaimType::Account, "operator", "account"),
        ("user.jwt", ClaimType::User, "account", "user"),
        (
            "user_signing_key.jwt",
            ClaimType::User,
            "account_signing",
            "signing_key_user",
        ),
        (
            "user_scoped.jwt",
            ClaimType::User,
            "account_scoped_signing",
            "scoped_user",
        ),
        ("user_expired.jwt", ClaimType::User, "account", "user"),
    ];
    for ((file, token), (name, kind, iss, sub)) in VALID.iter().zip(cases) {
        assert_eq!(*file, name);
        let decoded = decode_vector(token);
        assert_eq!(decoded.claim_type(), kind, "{file}");
        assert_eq!(decoded.data().iss, public(iss), "{file}");
        assert_eq!(decoded.data().sub, public(sub), "{file}");
        assert_eq!(decoded.data().aud, "NATS", "{file}");
    }
}

#[test]
fn time_checks_and_issuer_kinds_refuse_the_bad_vectors() {
    let now = crate::auth::jwt::codec::now_unix();
    let err = decode(vector!("user_expired.jwt").trim()).unwrap_err();
    assert_eq!(
        err,
        JwtError::Expired {
            exp: 1_000_000_000,
            now
        }
    );
    let err = decode_at(vector!("user_not_yet_valid.jwt").trim(), now).unwrap_err();
    assert_eq!(
        err,
        JwtError::NotYetValid {
            nbf: FAR_FUTURE,
            now
        }
    );
    let err = decode(vector!("account_self_signed.jwt").trim()).unwrap_err();
    assert!(matches!(err, JwtError::WrongIssuerKind { .. }), "{err}");
    for (file, token) in VALID.iter().filter(|(f, _)| *f != "user_expired.jwt") {
        assert!(decode(token.trim()).is_ok(), "{file} is valid today");
    }
}

#[test]
fn operator_and_account_claims_read_as_written() {
    let op: OperatorClaims = decode_vector(vector!("operator.jwt"))
        .into_claims()
        .unwrap();
    assert_eq!(op.data.name, "vectors-operator");
    assert_eq!(op.nats.signing_keys, [public("operator_signing")]);
    assert_eq!(op.nats.system_account, public("system_account"));
    assert_eq!(op.nats.account_server_url, "http://127.0.0.1:9090/jwt/v1");
    assert_eq!(op.nats.operator_service_urls, ["nats://127.0.0.1:4222"]);
    assert_eq!(op.nats.generic.tags, ["env:test"]);
    let exporter = decode_vector(vector!("exporter.jwt"));
    assert!(op.is_signer(&exporter.data().iss));

    let acc: AccountClaims = decode_vector(vector!("account.jwt")).into_claims().unwrap();
    let limits = AccountLimits {
        subs: 1000,
        data: -1,
        payload: 1_048_576,
        imports: 10,
        exports: 10,
        wildcard_exports: true,
        disallow_bearer: true,
        conn: 100,
        leaf: -1,
    };
    assert_eq!(acc.nats.limits, limits);
    let help = &acc.nats.exports[0];
    assert_eq!(
        (help.name.as_str(), help.subject.as_str()),
        ("help", "help.request")
    );
    assert_eq!(help.kind, Some(ExportType::Service));
    assert!(help.token_req);
    assert_eq!(help.response_type, Some(ResponseType::Stream));
    assert_eq!(help.response_threshold, 5_000_000_000);
    assert_eq!(help.description, "help desk");
    assert_eq!(acc.nats.exports[1].kind, Some(ExportType::Stream));

    let prices = &acc.nats.imports[0];
    assert_eq!(prices.account, public("exporter"));
    assert_eq!(prices.local_subject, "vendor.prices.>");
    assert_eq!(prices.kind, Some(ExportType::Stream));
    assert_eq!(prices.token, vector!("activation.jwt").trim());
    let quotes = &acc.nats.imports[1];
    assert_eq!(
        (quotes.kind, quotes.share),
        (Some(ExportType::Service), true)
    );

    assert_eq!(
        acc.signing_key(&public("account_signing")),
        Some(&SigningKey::Key(public("account_signing")))
    );
    let Some(SigningKey::Scoped(scope)) = acc.signing_key(&public("account_scoped_signing")) else {
        panic!("the scoped signing key is listed with its scope");
    };
    assert_eq!(
        (scope.kind.as_str(), scope.role.as_str()),
        (USER_SCOPE, "support")
    );
    let template = &scope.template;
    assert_eq!(template.permissions.publish.allow, ["support.>"]);
    assert_eq!(
        template.permissions.subscribe.allow,
        ["support.>", "_INBOX.>"]
    );
    assert_eq!(
        (template.subs, template.data, template.payload),
        (10, -1, -1)
    );

    let revoked = public("revoked_user");
    assert_eq!(acc.nats.revocations[&revoked], 1_700_000_000);
    assert!(acc.is_revoked(&revoked, 1_700_000_000));
    assert!(!acc.is_revoked(&revoked, 1_700_000_001));
    assert!(acc.is_revoked(&public("user"), 1_600_000_000), "by `*`");
    assert_eq!(acc.nats.default_permissions.publish.allow, ["public.>"]);
    let canary = &acc.nats.mappings["canary"];
    assert_eq!(
        (canary[0].subject.as_str(), canary[0].weight),
        ("canary.a", 90)
    );
    assert_eq!(
        (
            acc.nats.generic.tags.as_slice(),
            acc.nats.description.as_str()
        ),
        (["tenant:acme".to_string()].as_slice(), "vectors account")
    );
}

#[test]
fn user_and_activation_claims_read_as_written() {
    let user: UserClaims = decode_vector(vector!("user.jwt")).into_claims().unwrap();
    let l = &user.nats.limits;
    assert_eq!(l.permissions.publish.allow, ["orders.>", "_INBOX.>"]);
    assert_eq!(l.permissions.publish.deny, ["orders.secret"]);
    assert_eq!(
        l.permissions.subscribe.allow,
        ["help.request", "orders.* workers"]
    );
    assert_eq!(l.permissions.subscribe.deny, ["orders.internal"]);
    let resp = ResponsePermission {
        max: 1,
        ttl: 60_000_000_000,
    };
    assert_eq!(l.permissions.resp, Some(resp));
    assert_eq!(l.src, ["192.168.1.0/24", "10.0.0.1/32"]);
    assert_eq!(
        l.times[0],
        TimeRange {
            start: "08:00:00".into(),
            end: "17:00:00".into()
        }
    );
    assert_eq!(l.times_location, "Europe/Berlin");
    assert_eq!((l.subs, l.data, l.payload), (50, 10_485_760, 65_536));
    assert!(!l.bearer_token);
    assert_eq!(l.allowed_connection_types, ["STANDARD", "WEBSOCKET"]);
    assert_eq!(user.nats.generic.tags, ["team:blue"]);
    assert_eq!(user.data.exp, FAR_FUTURE);
    assert_eq!(user.account(), public("account"));

    let acc: AccountClaims = decode_vector(vector!("account.jwt")).into_claims().unwrap();
    let by_key: UserClaims = decode_vector(vector!("user_signing_key.jwt"))
        .into_claims()
        .unwrap();
    assert_eq!(by_key.nats.issuer_account, public("account"));
    assert_eq!(by_key.account(), public("account"));
    assert!(acc.is_signer(&by_key.data.iss));

    let scoped: UserClaims = decode_vector(vector!("user_scoped.jwt"))
        .into_claims()
        .unwrap();
    assert_eq!(scoped.account(), public("account"));
    assert_eq!(
        scoped.nats.limits,
        UserPermissionLimits::default(),
        "scoped users carry none"
    );
    assert!(matches!(
        acc.signing_key(&scoped.data.iss),
        Some(SigningKey::Scoped(_))
    ));

    let act: ActivationClaims = decode_vector(vector!("activation.jwt"))
        .into_claims()
        .unwrap();
    assert_eq!(act.nats.import_subject, "prices.>");
    assert_eq!(act.nats.import_type, Some(ExportType::Stream));
}

/// JSON `theirs` wrote is all in what we decoded, except values Go's
/// `omitempty` drops (empty, zero, false) and keys we do not model.
fn assert_covers(theirs: &Value, ours: &Value, path: &str) {
    fn empty(v: &Value) -> bool {
        match v {
            Value::Null | Value::Bool(false) => true,
            Value::Number(n) => n.as_f64() == Some(0.0),
            Value::String(s) => s.is_empty(),
            Value::Array(a) => a.is_empty(),
            Value::Object(o) => o.values().all(empty),
            Value::Bool(true) => false,
        }
    }
    match (theirs, ours) {
        (Value::Object(t), _) => {
            for (key, value) in t {
                let mine = ours.get(key).unwrap_or(&Value::Null);
                // `locale` is @nats-io/jwt's own name for `times_location`.
                if !(empty(value) && empty(mine)) && key != "locale" {
                    assert_covers(value, mine, &format!("{path}.{key}"));
                }
            }
        }
        (Value::Array(t), Value::Array(o)) => {
            assert_eq!(t.len(), o.len(), "{path}");
            for (i, (t, o)) in t.iter().zip(o).enumerate() {
                assert_covers(t, o, &format!("{path}[{i}]"));
            }
        }
        _ => assert_eq!(theirs, ours, "{path}"),
    }
}

#[test]
fn decoding_keeps_every_field_they_wrote() {
    for (file, token) in VALID {
        let theirs: Value = serde_json::from_str(&payload(token)).expect("json");
        let ours = match decode_vector(token) {
            Decoded::Operator(c) => serde_json::to_value(c),
            Decoded::Account(c) => serde_json::to_value(c),
            Decoded::User(c) => serde_json::to_value(c),
            Decoded::Activation(c) => serde_json::to_value(c),
        }
        .expect("serializes");
        assert_covers(&theirs, &ours, file);
    }
}

/// @nats-io/jwt's `jti` is standard base64 of SHA-512 over the payload as
/// it stood before the `jti` was appended to it.
#[test]
fn their_jti_is_sha512_of_their_payload() {
    for (file, token) in VALID {
        let json = payload(token);
        let jti = decode_vector(token).data().jti.clone();
        let before = json.replacen(&format!(r#","jti":"{jti}""#), "", 1);
        assert_ne!(before, json, "{file}: jti is the last member");
        assert_eq!(STANDARD.encode(Sha512::digest(before)), jti, "{file}");
    }
}

/// For the same registered claims our encoder writes the `jti` nats-io/jwt
/// (Go) would, as computed independently by `gen/go-jti.mjs`; re-signing
/// their claims with the same key keeps everything else.
#[test]
fn our_encoder_gives_their_claims_the_go_jti() {
    let expected: Value = serde_json::from_str(EXPECTED).expect("expected.json");
    for (file, token) in VALID {
        let go_jti = expected[file]["go_jti"].as_str().expect("go_jti");
        let decoded = decode_vector(token);
        let data = decoded.data().clone();
        assert_eq!(hash_id(&data).unwrap(), go_jti, "{file}");

        let key = signer(&role_of(&data.iss));
        let reissued = match decoded.clone() {
            Decoded::Operator(c) => encode_at(&c, &key, data.iat),
            Decoded::Account(c) => encode_at(&c, &key, data.iat),
            Decoded::User(c) => encode_at(&c, &key, data.iat),
            Decoded::Activation(c) => encode_at(&c, &key, data.iat),
        }
        .expect("re-encodes");
        let again = decode_vector(&reissued);
        assert_eq!(again.data().jti, go_jti, "{file}");
        assert_eq!(without_jti(again), without_jti(decoded), "{file}");
    }
}

fn without_jti(mut decoded: Decoded) -> Decoded {
    match &mut decoded {
        Decoded::Operator(c) => c.data.jti.clear(),
        Decoded::Account(c) => c.data.jti.clear(),
        Decoded::User(c) => c.data.jti.clear(),
        Decoded::Activation(c) => c.data.jti.clear(),
    }
    decoded
}

#[test]
fn their_creds_file_parses() {
    let (jwt, seed) = parse_creds(vector!("user.creds")).expect("creds");
    assert_eq!(jwt, vector!("user.jwt").trim());
    assert_eq!(
        KeyPair::from_seed(&seed).unwrap().public_key(),
        public("user")
    );
}
