use super::{ActivationError, check, export_for};
use crate::auth::jwt::{
    AccountClaims, ActivationClaims, Export, ExportType, Import, SigningKey, encode_at,
};
use nkeys::KeyPair;

const NOW: i64 = 1_700_000_000;

struct Fixture {
    exporter_key: KeyPair,
    exporter: AccountClaims,
    importer: KeyPair,
}

fn fixture() -> Fixture {
    let exporter_key = KeyPair::new_account();
    let mut exporter = AccountClaims::new(exporter_key.public_key());
    exporter.nats.exports.push(Export {
        subject: "orders.>".into(),
        kind: Some(ExportType::Stream),
        token_req: true,
        ..Default::default()
    });
    Fixture {
        exporter_key,
        exporter,
        importer: KeyPair::new_account(),
    }
}

fn activation(
    signer: &KeyPair,
    importer: &str,
    subject: &str,
    edit: impl FnOnce(&mut ActivationClaims),
) -> String {
    let mut claims = ActivationClaims::new(importer, subject, ExportType::Stream);
    edit(&mut claims);
    encode_at(&claims, signer, NOW - 100).unwrap()
}

fn import(token: String, subject: &str) -> Import {
    Import {
        subject: subject.into(),
        kind: Some(ExportType::Stream),
        token,
        ..Default::default()
    }
}

fn run(f: &Fixture, imp: &Import) -> Result<i64, ActivationError> {
    let export = export_for(&f.exporter, imp).expect("export");
    check(imp, &f.importer.public_key(), &f.exporter, export, NOW)
}

#[test]
fn a_token_from_the_exporter_for_the_importer_admits_the_import() {
    let f = fixture();
    let token = activation(
        &f.exporter_key,
        &f.importer.public_key(),
        "orders.>",
        |_| {},
    );
    assert_eq!(run(&f, &import(token, "orders.eu")), Ok(0));
}

#[test]
fn a_signing_key_of_the_exporter_may_issue_it() {
    let mut f = fixture();
    let sk = KeyPair::new_account();
    f.exporter
        .nats
        .signing_keys
        .push(SigningKey::Key(sk.public_key()));
    let exporter = f.exporter.data.sub.clone();
    let token = activation(&sk, &f.importer.public_key(), "orders.>", |a| {
        a.nats.issuer_account = exporter
    });
    assert_eq!(run(&f, &import(token, "orders.>")), Ok(0));
}

#[test]
fn bad_tokens_are_refused_with_the_reason() {
    let f = fixture();
    let me = f.importer.public_key();
    assert_eq!(
        run(&f, &import(String::new(), "orders.>")),
        Err(ActivationError::Missing)
    );
    let stranger = KeyPair::new_account();
    let token = activation(&stranger, &me, "orders.>", |_| {});
    assert!(matches!(
        run(&f, &import(token, "orders.>")),
        Err(ActivationError::WrongIssuer { .. })
    ));
    let other = KeyPair::new_account().public_key();
    let token = activation(&f.exporter_key, &other, "orders.>", |_| {});
    assert!(matches!(
        run(&f, &import(token, "orders.>")),
        Err(ActivationError::WrongAccount { .. })
    ));
    let token = activation(&f.exporter_key, &me, "orders.eu", |_| {});
    assert!(matches!(
        run(&f, &import(token, "orders.>")),
        Err(ActivationError::WrongSubject { .. })
    ));
    let token = activation(&f.exporter_key, &me, "orders.>", |a| a.data.exp = NOW);
    assert_eq!(
        run(&f, &import(token, "orders.>")),
        Err(ActivationError::Expired { exp: NOW })
    );
    let mut tampered = activation(&f.exporter_key, &me, "orders.>", |_| {});
    tampered.push('x');
    assert!(matches!(
        run(&f, &import(tampered, "orders.>")),
        Err(ActivationError::Jwt(_))
    ));
}

#[test]
fn the_exports_revocations_apply_at_and_after_the_issue_time() {
    let mut f = fixture();
    let me = f.importer.public_key();
    let token = activation(&f.exporter_key, &me, "orders.>", |_| {});
    // Issued at NOW - 100: a revocation at that second revokes it...
    f.exporter.nats.exports[0]
        .revocations
        .insert(me.clone(), NOW - 100);
    assert_eq!(
        run(&f, &import(token.clone(), "orders.>")),
        Err(ActivationError::Revoked)
    );
    // ...one a second earlier does not.
    f.exporter.nats.exports[0].revocations.insert(me, NOW - 101);
    assert_eq!(run(&f, &import(token, "orders.>")), Ok(0));
}
