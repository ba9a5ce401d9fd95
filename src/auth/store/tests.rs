use nkeys::KeyPair;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::*;
use crate::auth::jwt::{AccountClaims, OperatorClaims, UserClaims, encode};

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// A store with an operator and the account `acme`, as `auth init` and
/// `auth add-account` would leave it.
fn store_with_account(dir: &Path) -> (OperatorStore, KeyPair, KeyPair) {
    let store = OperatorStore::new(dir.join("ops"));
    let operator = KeyPair::new_operator();
    let token = encode(&OperatorClaims::new(operator.public_key()), &operator).unwrap();
    store
        .save_operator(&token, Some(&operator.seed().unwrap()))
        .unwrap();
    let account = KeyPair::new_account();
    let token = encode(&AccountClaims::new(account.public_key()), &operator).unwrap();
    store
        .save_account("acme", &token, Some(&account.seed().unwrap()))
        .unwrap();
    (store, operator, account)
}

#[test]
fn paths_follow_the_documented_layout() {
    let store = OperatorStore::new("/d");
    assert_eq!(store.operator_jwt_path(), Path::new("/d/operator.jwt"));
    assert_eq!(store.operator_seed_path(), Path::new("/d/operator.nk"));
    assert_eq!(
        store.account_jwt_path("acme"),
        Path::new("/d/accounts/acme/account.jwt")
    );
    assert_eq!(
        store.account_seed_path("acme"),
        Path::new("/d/accounts/acme/account.nk")
    );
    assert_eq!(
        store.user_jwt_path("acme", "alice"),
        Path::new("/d/accounts/acme/users/alice.jwt")
    );
    assert_eq!(
        store.user_seed_path("acme", "alice"),
        Path::new("/d/accounts/acme/users/alice.nk")
    );
}

#[test]
fn seeds_are_written_0600_and_jwts_0644_without_leftovers() {
    let tmp = tempfile::tempdir().unwrap();
    let (store, _, account) = store_with_account(tmp.path());
    let user = KeyPair::new_user();
    let token = encode(&UserClaims::new(user.public_key()), &account).unwrap();
    store
        .save_user("acme", "alice", &token, &user.seed().unwrap())
        .unwrap();

    for seed in [
        store.operator_seed_path(),
        store.account_seed_path("acme"),
        store.user_seed_path("acme", "alice"),
    ] {
        assert_eq!(mode(&seed), 0o600, "{}", seed.display());
    }
    for jwt in [
        store.operator_jwt_path(),
        store.account_jwt_path("acme"),
        store.user_jwt_path("acme", "alice"),
    ] {
        assert_eq!(mode(&jwt), 0o644, "{}", jwt.display());
    }
    // No temporary files remain, and files hold the bare token.
    let names: Vec<_> = fs::read_dir(store.account_dir("acme"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
    assert_eq!(
        fs::read_to_string(store.user_jwt_path("acme", "alice")).unwrap(),
        token
    );
}

#[test]
fn rewriting_a_seed_that_was_world_readable_makes_it_0600() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("x.nk");
    let stale = tmp.path().join(".x.nk.tmp");
    fs::write(&stale, "old").unwrap();
    fs::set_permissions(&stale, fs::Permissions::from_mode(0o666)).unwrap();
    write_atomic(&path, "SUSEED", SEED_MODE).unwrap();
    assert_eq!(mode(&path), 0o600);
    assert_eq!(fs::read_to_string(&path).unwrap(), "SUSEED");
    assert!(!stale.exists());
}

#[test]
fn loads_what_was_saved_and_checks_seeds_against_jwts() {
    let tmp = tempfile::tempdir().unwrap();
    let (store, operator, account) = store_with_account(tmp.path());

    let (_, claims) = store.load_operator().unwrap();
    assert_eq!(claims.data.sub, operator.public_key());
    assert_eq!(
        store.operator_key().unwrap().public_key(),
        operator.public_key()
    );
    assert_eq!(
        store.account_key("acme").unwrap().public_key(),
        account.public_key()
    );
    let accounts = store.list_accounts().unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].0, "acme");

    // A seed that is not the JWT's subject is refused by name.
    let other = KeyPair::new_account().seed().unwrap();
    write_atomic(&store.account_seed_path("acme"), &other, SEED_MODE).unwrap();
    let err = store.account_key("acme").unwrap_err();
    assert!(matches!(err, StoreError::KeyMismatch { .. }), "{err}");
    // A user seed where an account seed belongs.
    let user = KeyPair::new_user().seed().unwrap();
    write_atomic(&store.account_seed_path("acme"), &user, SEED_MODE).unwrap();
    let err = store.account_key("acme").unwrap_err();
    assert!(
        err.to_string()
            .contains("expected an account seed, found a user seed")
    );
}

#[test]
fn missing_things_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = OperatorStore::new(tmp.path().join("none"));
    let err = empty.load_operator().unwrap_err();
    assert!(err.to_string().contains("switchyard auth init"), "{err}");
    assert!(empty.list_accounts().unwrap().is_empty());

    let (store, _, _) = store_with_account(tmp.path());
    let err = store.load_account("globex").unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "account `globex` not found in {}",
            store.accounts_dir().display()
        )
    );
    let err = store.load_user("acme", "bob").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("user `bob` not found in account `acme`")
    );

    // An account directory without its JWT is reported, not skipped.
    fs::create_dir_all(store.account_dir("half")).unwrap();
    let err = store.list_accounts().unwrap_err();
    assert!(err.to_string().contains("half/account.jwt"), "{err}");
}

#[test]
fn names_that_would_escape_the_directory_are_refused() {
    for bad in ["", "..", ".hidden", "a/b", "a b", &"x".repeat(65)] {
        assert!(check_name("account", bad).is_err(), "{bad:?}");
    }
    for good in ["acme", "ACME-eu_1", "v1.2"] {
        check_name("account", good).unwrap();
    }
    let tmp = tempfile::tempdir().unwrap();
    let store = OperatorStore::new(tmp.path());
    let err = store.save_account("../evil", "x", None).unwrap_err();
    assert!(matches!(err, StoreError::InvalidName { .. }), "{err}");
    assert!(!tmp.path().join("evil").exists());
}

#[test]
fn operator_jwt_signed_by_another_operator_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let store = OperatorStore::new(tmp.path());
    let signer = KeyPair::new_operator();
    let token = encode(
        &OperatorClaims::new(KeyPair::new_operator().public_key()),
        &signer,
    )
    .unwrap();
    store.save_operator(&token, None).unwrap();
    let err = store.load_operator().unwrap_err();
    assert!(matches!(err, StoreError::NotSelfSigned { .. }), "{err}");
}
