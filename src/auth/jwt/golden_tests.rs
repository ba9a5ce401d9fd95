//! JWTs and a creds file we issue, checked in under `tests/vectors/ours`
//! for `tests/vectors/gen/verify.mjs` to check with @nats-io/jwt.
//!
//! Ed25519 signatures are deterministic and the issue time here is fixed,
//! so the files are a pure function of the encoder and the keys in
//! `tests/vectors/jwt/keys.json`: this test rebuilds them and fails when the
//! checked-in copies differ (the encoder's output changed, or the keys were
//! regenerated). `SWITCHYARD_WRITE_VECTORS=1` rewrites them instead.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::vector_tests::{public, signer};
use super::*;

/// 2023-11-14T22:13:20Z.
const ISSUED_AT: i64 = 1_700_000_000;
const FAR_FUTURE: i64 = 4_102_444_800;

fn ours() -> Vec<(&'static str, String)> {
    let mut operator = OperatorClaims::new(public("operator"));
    operator.data.name = "switchyard-operator".into();
    operator.nats.signing_keys = vec![public("operator_signing")];
    operator.nats.system_account = public("system_account");

    let mut activation = ActivationClaims::new(public("account"), "prices.>", ExportType::Stream);
    activation.data.name = "prices for switchyard-account".into();
    let activation = encode_at(&activation, &signer("exporter"), ISSUED_AT).expect("activation");

    let mut account = AccountClaims::new(public("account"));
    // `&` and `<` are hashed into the jti as Go escapes them.
    account.data.name = "switchyard-account R&D <1>".into();
    account.nats.limits = AccountLimits {
        subs: 100,
        payload: 65_536,
        imports: 5,
        exports: 5,
        disallow_bearer: true,
        conn: 10,
        ..AccountLimits::unlimited()
    };
    account.nats.exports = vec![
        Export {
            name: "orders".into(),
            subject: "orders.>".into(),
            kind: Some(ExportType::Stream),
            ..Default::default()
        },
        Export {
            name: "help".into(),
            subject: "help.request".into(),
            kind: Some(ExportType::Service),
            token_req: true,
            response_type: Some(ResponseType::Chunked),
            response_threshold: 2_000_000_000,
            ..Default::default()
        },
    ];
    account.nats.imports = vec![Import {
        name: "prices".into(),
        subject: "prices.>".into(),
        account: public("exporter"),
        token: activation.clone(),
        local_subject: "vendor.prices.>".into(),
        kind: Some(ExportType::Stream),
        ..Default::default()
    }];
    let mut scope = UserScope::new(public("account_scoped_signing"), "support");
    scope.template.permissions.publish.allow = vec!["support.>".into()];
    account.nats.signing_keys = vec![
        SigningKey::Key(public("account_signing")),
        SigningKey::Scoped(Box::new(scope)),
    ];
    account.nats.revocations = BTreeMap::from([
        (public("revoked_user"), 1_700_000_000),
        (REVOKE_ALL.to_string(), 1_600_000_000),
    ]);
    account.nats.default_permissions.publish.allow = vec!["public.>".into()];
    account.nats.mappings.insert(
        "canary".into(),
        vec![WeightedMapping {
            subject: "canary.a".into(),
            weight: 90,
            cluster: String::new(),
        }],
    );
    account.nats.generic.tags = vec!["tenant:acme".into()];

    let mut user = UserClaims::new(public("user"));
    user.data.name = "switchyard-user".into();
    user.data.exp = FAR_FUTURE;
    let limits = &mut user.nats.limits;
    limits.permissions.publish.allow = vec!["orders.>".into(), "_INBOX.>".into()];
    limits.permissions.publish.deny = vec!["orders.secret".into()];
    limits.permissions.subscribe.allow = vec!["help.request".into(), "orders.* workers".into()];
    limits.permissions.resp = Some(ResponsePermission {
        max: 1,
        ttl: 60_000_000_000,
    });
    limits.src = vec!["192.168.1.0/24".into()];
    limits.times = vec![TimeRange {
        start: "08:00:00".into(),
        end: "17:00:00".into(),
    }];
    limits.times_location = "Europe/Berlin".into();
    limits.subs = 50;
    limits.payload = 65_536;
    limits.allowed_connection_types = vec!["STANDARD".into()];

    let mut by_key = UserClaims::new(public("signing_key_user"));
    by_key.data.name = "switchyard-signing-key-user".into();
    by_key.nats.issuer_account = public("account");

    let user_jwt = encode_at(&user, &signer("account"), ISSUED_AT).expect("user");
    let user_seed = signer("user").seed().expect("seed");
    let creds = format_creds(&user_jwt, &user_seed).expect("creds");
    vec![
        (
            "operator.jwt",
            encode_at(&operator, &signer("operator"), ISSUED_AT).expect("operator"),
        ),
        (
            "account.jwt",
            encode_at(&account, &signer("operator_signing"), ISSUED_AT).expect("account"),
        ),
        ("activation.jwt", activation),
        ("user.jwt", user_jwt),
        (
            "user_signing_key.jwt",
            encode_at(&by_key, &signer("account_signing"), ISSUED_AT).expect("user"),
        ),
        ("user.creds", creds),
    ]
}

#[test]
fn checked_in_jwts_are_what_the_encoder_issues() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/ours");
    let write = std::env::var_os("SWITCHYARD_WRITE_VECTORS").is_some();
    for (file, content) in ours() {
        let content = if file.ends_with(".jwt") {
            format!("{content}\n")
        } else {
            content
        };
        let path = dir.join(file);
        if write {
            std::fs::create_dir_all(&dir).expect("create tests/vectors/ours");
            std::fs::write(&path, &content).expect("write vector");
            continue;
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == content,
            "{} is not what the encoder issues now; regenerate with \
             `SWITCHYARD_WRITE_VECTORS=1 cargo test --lib golden` and re-run \
             tests/vectors/gen/verify.mjs (see tests/vectors/README.md)",
            path.display()
        );
    }
}
