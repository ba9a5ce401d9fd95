use super::*;
use crate::auth::{AuthConfigIssue, new_nonce};
use crate::config::tenant::SubjectRules;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

fn tenant(toml_text: &str) -> TenantFile {
    toml::from_str(toml_text).expect("test tenant file parses")
}

fn bcrypt_of(secret: &str) -> String {
    bcrypt::hash(secret, 4).expect("hashing cannot fail at cost 4")
}

fn login(user: &str, pass: &str) -> ConnectOptions {
    ConnectOptions {
        user: Some(user.into()),
        pass: Some(pass.into()),
        ..ConnectOptions::default()
    }
}

fn with_token(token: &str) -> ConnectOptions {
    ConnectOptions {
        auth_token: Some(token.into()),
        ..ConnectOptions::default()
    }
}

fn with_nkey(key: &KeyPair, nonce: &str) -> ConnectOptions {
    let sig = key
        .sign(nonce.as_bytes())
        .expect("a new key pair has a seed");
    ConnectOptions {
        nkey: Some(key.public_key()),
        sig: Some(URL_SAFE_NO_PAD.encode(sig)),
        ..ConnectOptions::default()
    }
}

/// Two tenants with one user of each kind, plain and bcrypt.
struct Fixture {
    dir: UserDirectory,
    nkey_user: KeyPair,
}

fn fixture(no_auth_user: Option<&str>) -> Fixture {
    let nkey_user = KeyPair::new_user();
    let acme = tenant(&format!(
        r#"
        name = "acme"
        default_permissions = {{ publish = {{ allow = ["acme.>"] }} }}
        users = [
          {{ user = "alice", password = "alice-pw" }},
          {{ user = "bob", password = "{bob}", permissions = {{ publish = {{ deny = [">"] }} }} }},
          {{ token = "plain-token" }},
          {{ user = "ci", token = "{ci}" }},
          {{ nkey = "{nkey}" }},
        ]
        "#,
        bob = bcrypt_of("bob-pw"),
        ci = bcrypt_of("hashed-token"),
        nkey = nkey_user.public_key(),
    ));
    let globex = tenant(
        r#"
        name = "globex"
        users = [ { user = "carol", password = "carol-pw" }, { user = "guest", token = "guest-token" } ]
        "#,
    );
    let dir = UserDirectory::new(&[acme, globex], no_auth_user).expect("fixture is valid");
    Fixture { dir, nkey_user }
}

fn who(identity: &Identity) -> (&str, &str) {
    (&identity.tenant, &identity.user)
}

#[test]
fn plain_password_user_logs_in_and_wrong_password_fails() {
    let f = fixture(None);
    let alice = f.dir.authenticate(&login("alice", "alice-pw"), None);
    assert_eq!(alice.as_ref().map(who), Ok(("acme", "alice")));
    let carol = f.dir.authenticate(&login("carol", "carol-pw"), None);
    assert_eq!(carol.as_ref().map(who), Ok(("globex", "carol")));

    let bad = AuthError::BadPassword {
        user: "alice".into(),
    };
    assert_eq!(
        f.dir.authenticate(&login("alice", "carol-pw"), None),
        Err(bad.clone())
    );
    let no_pass = ConnectOptions {
        user: Some("alice".into()),
        ..ConnectOptions::default()
    };
    assert_eq!(f.dir.authenticate(&no_pass, None), Err(bad));
}

#[test]
fn unknown_user_fails() {
    let f = fixture(None);
    assert_eq!(
        f.dir.authenticate(&login("mallory", "alice-pw"), None),
        Err(AuthError::UnknownUser {
            user: "mallory".into()
        })
    );
}

#[test]
fn bcrypt_password_verifies() {
    let f = fixture(None);
    let bob = f.dir.authenticate(&login("bob", "bob-pw"), None);
    assert_eq!(bob.as_ref().map(who), Ok(("acme", "bob")));
    assert!(f.dir.authenticate(&login("bob", "bob-pw!"), None).is_err());
}

#[test]
fn plain_and_bcrypt_tokens_log_in_and_wrong_token_fails() {
    let f = fixture(None);
    let plain = f.dir.authenticate(&with_token("plain-token"), None);
    assert_eq!(plain.as_ref().map(who), Ok(("acme", "token")));
    let hashed = f.dir.authenticate(&with_token("hashed-token"), None);
    assert_eq!(hashed.as_ref().map(who), Ok(("acme", "ci")));
    let guest = f.dir.authenticate(&with_token("guest-token"), None);
    assert_eq!(guest.as_ref().map(who), Ok(("globex", "guest")));
    for wrong in ["plain-toke", "plain-token!", "alice-pw"] {
        assert_eq!(
            f.dir.authenticate(&with_token(wrong), None),
            Err(AuthError::UnknownToken)
        );
    }
}

#[test]
fn nkey_user_signs_the_nonce() {
    let f = fixture(None);
    let nonce = new_nonce();
    let pk = f.nkey_user.public_key();
    let ok = f
        .dir
        .authenticate(&with_nkey(&f.nkey_user, &nonce), Some(&nonce));
    assert_eq!(ok.as_ref().map(who), Ok(("acme", pk.as_str())));

    // Standard base64 is the accepted fallback.
    let mut standard = with_nkey(&f.nkey_user, &nonce);
    let raw = f.nkey_user.sign(nonce.as_bytes()).expect("has a seed");
    standard.sig = Some(STANDARD.encode(raw));
    assert!(f.dir.authenticate(&standard, Some(&nonce)).is_ok());
}

#[test]
fn nkey_failures() {
    let f = fixture(None);
    let nonce = new_nonce();
    let pk = f.nkey_user.public_key();
    let signed = with_nkey(&f.nkey_user, &nonce);

    let other_nonce = new_nonce();
    assert_eq!(
        f.dir.authenticate(&signed, Some(&other_nonce)),
        Err(AuthError::BadSignature { nkey: pk.clone() })
    );
    assert_eq!(
        f.dir.authenticate(&signed, None),
        Err(AuthError::NonceNotIssued { nkey: pk.clone() })
    );
    let unsigned = ConnectOptions {
        sig: None,
        ..signed.clone()
    };
    assert_eq!(
        f.dir.authenticate(&unsigned, Some(&nonce)),
        Err(AuthError::SignatureMissing { nkey: pk.clone() })
    );
    let garbage = ConnectOptions {
        sig: Some("bm90IGEgc2lnbmF0dXJl".into()),
        ..signed.clone()
    };
    assert_eq!(
        f.dir.authenticate(&garbage, Some(&nonce)),
        Err(AuthError::BadSignature { nkey: pk.clone() })
    );

    // A stranger's key, correctly signed, is still unknown.
    let stranger = KeyPair::new_user();
    assert_eq!(
        f.dir
            .authenticate(&with_nkey(&stranger, &nonce), Some(&nonce)),
        Err(AuthError::UnknownNkey {
            nkey: stranger.public_key()
        })
    );
    // The right key named, signed by another: a forged signature.
    let forged = ConnectOptions {
        nkey: Some(pk.clone()),
        ..with_nkey(&stranger, &nonce)
    };
    assert_eq!(
        f.dir.authenticate(&forged, Some(&nonce)),
        Err(AuthError::BadSignature { nkey: pk })
    );
}

#[test]
fn no_auth_user_applies_only_without_credentials() {
    let f = fixture(Some("guest"));
    let anonymous = ConnectOptions::default();
    let guest = f.dir.authenticate(&anonymous, None);
    assert_eq!(guest.as_ref().map(who), Ok(("globex", "guest")));
    // Empty strings are no credentials, as in nats-server.
    let empty = login("", "");
    assert!(f.dir.authenticate(&empty, None).is_ok());

    // Wrong credentials never fall back to the no_auth_user.
    assert!(f.dir.authenticate(&login("alice", "nope"), None).is_err());
    assert!(f.dir.authenticate(&login("mallory", "x"), None).is_err());
    assert!(f.dir.authenticate(&with_token("nope"), None).is_err());
    let pass_only = ConnectOptions {
        pass: Some("alice-pw".into()),
        ..ConnectOptions::default()
    };
    assert_eq!(
        f.dir.authenticate(&pass_only, None),
        Err(AuthError::MissingCredentials)
    );
}

#[test]
fn no_credentials_without_no_auth_user_fail() {
    let f = fixture(None);
    assert_eq!(
        f.dir.authenticate(&ConnectOptions::default(), None),
        Err(AuthError::MissingCredentials)
    );
}

#[test]
fn credential_kinds_nobody_uses_are_skipped_like_nats_server() {
    let plain = tenant(
        r#"name = "a"
        users = [ { user = "alice", password = "pw" } ]"#,
    );
    let dir = UserDirectory::new(&[plain], None).expect("valid");
    assert!(!dir.nonce_required() && !dir.is_empty());
    // An nkey when no nkey user exists does not hide valid user/password.
    let mut opts = login("alice", "pw");
    opts.nkey = Some(KeyPair::new_user().public_key());
    assert!(dir.authenticate(&opts, None).is_ok());
    opts.user = None;
    assert!(matches!(
        dir.authenticate(&opts, None),
        Err(AuthError::UnknownNkey { .. })
    ));
}

#[test]
fn permissions_fall_back_to_tenant_defaults() {
    let f = fixture(None);
    let publish = |identity: Identity| identity.permissions.and_then(|p| p.publish);
    let alice = f.dir.authenticate(&login("alice", "alice-pw"), None);
    assert_eq!(
        alice.map(publish),
        Ok(Some(SubjectRules {
            allow: vec!["acme.>".into()],
            deny: vec![],
        }))
    );
    let bob = f.dir.authenticate(&login("bob", "bob-pw"), None);
    assert_eq!(
        bob.map(publish),
        Ok(Some(SubjectRules {
            allow: vec![],
            deny: vec![">".into()],
        }))
    );
    let carol = f.dir.authenticate(&login("carol", "carol-pw"), None);
    assert_eq!(carol.map(|c| c.permissions), Ok(None));
}

#[test]
fn nonce_required_and_is_empty() {
    assert!(fixture(None).dir.nonce_required());
    let empty = UserDirectory::new(&[tenant(r#"name = "a""#)], None).expect("valid");
    assert!(empty.is_empty() && !empty.nonce_required());
}

#[test]
fn every_config_problem_is_reported() {
    let account_key = KeyPair::new_account().public_key();
    let user_key = KeyPair::new_user().public_key();
    let a = tenant(&format!(
        r#"
        name = "a"
        users = [
          {{ user = "dup", password = "x" }},
          {{ }},
          {{ user = "two", password = "x", token = "y" }},
          {{ password = "nameless" }},
          {{ user = "empty", password = "" }},
          {{ user = "badhash", password = "$2a$10$short" }},
          {{ nkey = "{account_key}" }},
          {{ token = "same" }},
          {{ nkey = "{user_key}" }},
          {{ user = "signer", nkey = "{other}" }},
        ]
        "#,
        other = KeyPair::new_user().public_key(),
    ));
    let b = tenant(&format!(
        r#"
        name = "b"
        users = [ {{ user = "dup", token = "t" }}, {{ token = "same" }}, {{ nkey = "{user_key}" }} ]
        "#
    ));
    let issues = UserDirectory::new(&[a.clone(), b], Some("nobody"))
        .expect_err("invalid")
        .issues;
    let s = |v: &str| v.to_string();
    let expected = vec![
        AuthConfigIssue::NoCredential {
            tenant: s("a"),
            user: s("#2"),
        },
        AuthConfigIssue::SeveralCredentials {
            tenant: s("a"),
            user: s("`two`"),
        },
        AuthConfigIssue::PasswordWithoutUser {
            tenant: s("a"),
            user: s("#4"),
        },
        AuthConfigIssue::EmptyField {
            tenant: s("a"),
            user: s("`empty`"),
            field: "password",
        },
        AuthConfigIssue::MalformedBcrypt {
            tenant: s("a"),
            user: s("`badhash`"),
            field: "password",
        },
        AuthConfigIssue::InvalidNkey {
            tenant: s("a"),
            user: s("#7"),
            nkey: account_key,
        },
        AuthConfigIssue::DuplicateUser {
            tenant: s("b"),
            name: s("dup"),
            first_tenant: s("a"),
        },
        AuthConfigIssue::DuplicateToken {
            tenant: s("b"),
            user: s("#2"),
            first_tenant: s("a"),
            first_user: s("#8"),
        },
        AuthConfigIssue::DuplicateNkey {
            tenant: s("b"),
            nkey: user_key,
            first_tenant: s("a"),
        },
        AuthConfigIssue::UnknownNoAuthUser { name: s("nobody") },
    ];
    assert_eq!(issues, expected);

    // An nkey user's label cannot be the no_auth_user.
    let a_only = UserDirectory::new(
        &[tenant(&format!(
            r#"name = "a"
        users = [ {{ user = "signer", nkey = "{}" }} ]"#,
            KeyPair::new_user().public_key()
        ))],
        Some("signer"),
    );
    assert!(matches!(
        a_only.map_err(|e| e.issues),
        Err(issues) if issues == [AuthConfigIssue::UnknownNoAuthUser { name: s("signer") }]
    ));
}

fn bob_with(hash: &str) -> UserDirectory {
    let acme = tenant(&format!(
        "name = \"acme\"\nusers = [ {{ user = \"bob\", password = \"{hash}\" }} ]"
    ));
    UserDirectory::new(&[acme], None).expect("valid users")
}

/// After a reload, a password checked against a stored secret that did not
/// change is trusted without another bcrypt check; a changed secret is
/// checked again, and the checked secret never shows in `Debug`.
#[test]
fn reauthentication_rechecks_only_changed_secrets() {
    let hash = bcrypt_of("bob-pw");
    let before = bob_with(&hash);
    let identity = before
        .authenticate(&login("bob", "bob-pw"), None)
        .expect("bob logs in");
    assert!(!format!("{identity:?}").contains(&hash));

    // The same hash in a new directory: no check is needed. What shows
    // that none is made: opts the hash would refuse still pass, because
    // the connection's password was already checked against this hash
    // (a connection's CONNECT does not change between the two).
    let reloaded = bob_with(&hash);
    assert_eq!(
        reloaded.reauthenticate(&login("bob", "bob-pw"), None, &identity),
        Ok(identity.clone())
    );
    assert!(
        reloaded
            .reauthenticate(&login("bob", "not-checked"), None, &identity)
            .is_ok()
    );
    // A fresh login is always checked.
    assert!(
        reloaded
            .authenticate(&login("bob", "not-checked"), None)
            .is_err()
    );

    // A new hash (the password was changed): checked again.
    let changed = bob_with(&bcrypt_of("new-pw"));
    assert!(matches!(
        changed.reauthenticate(&login("bob", "bob-pw"), None, &identity),
        Err(AuthError::BadPassword { .. })
    ));
    let again = changed
        .reauthenticate(&login("bob", "new-pw"), None, &identity)
        .expect("the new password is checked and accepted");
    assert_ne!(again.checked_secret, identity.checked_secret);
}

#[test]
fn a_second_bcrypt_token_is_refused_so_a_miss_costs_one_check() {
    let a = tenant(&format!(
        "name = \"a\"\nusers = [ {{ token = \"{}\" }}, {{ token = \"plain\" }} ]",
        bcrypt_of("first")
    ));
    let b = tenant(&format!(
        "name = \"b\"\nusers = [ {{ user = \"ci\", token = \"{}\" }} ]",
        bcrypt_of("second")
    ));
    let issues = UserDirectory::new(&[a.clone(), b], None)
        .expect_err("two hashed tokens")
        .issues;
    assert_eq!(
        issues,
        vec![AuthConfigIssue::SecondBcryptToken {
            tenant: "b".into(),
            user: "`ci`".into(),
            first_tenant: "a".into(),
            first_user: "#1".into(),
        }]
    );
    // One hashed token beside plain ones is fine.
    let dir = UserDirectory::new(&[a], None).expect("one hashed token");
    assert!(dir.authenticate(&with_token("first"), None).is_ok());
}
