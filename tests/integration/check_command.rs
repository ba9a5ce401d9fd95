//! `switchyard check --tenants DIR` on the fixture sets in
//! `tests/fixtures/tenants/`: each `bad-*` set holds one kind of mistake and
//! must fail naming the file and the key; `good` must pass.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tenants")
        .join(name)
}

fn check(set: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .arg("check")
        .arg("--tenants")
        .arg(fixture(set))
        .output()
        .expect("run switchyard check")
}

/// Runs `check` on a bad set and asserts it fails with a line on stderr
/// that names `file` (in that set) and contains every one of `expected`.
fn assert_fails(set: &str, file: &str, expected: &[&str]) {
    let out = check(set);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "{set}: expected failure, stderr:\n{stderr}"
    );
    assert!(out.stdout.is_empty(), "{set}: nothing on stdout on failure");
    let path = fixture(set).join(file).display().to_string();
    let line = stderr
        .lines()
        .find(|l| l.starts_with(&format!("{path}: ")))
        .unwrap_or_else(|| panic!("{set}: no problem reported for {path} in:\n{stderr}"));
    for want in expected {
        assert!(line.contains(want), "{set}: `{want}` missing from:\n{line}");
    }
    assert!(stderr.contains("problem"), "{set}: no count in:\n{stderr}");
}

#[test]
fn unknown_key() {
    assert_fails(
        "bad-unknown-key",
        "acme.toml",
        &[
            "users[0].pasword: ",
            "unknown field `pasword`, expected one of `user`, `password`",
            "line 6",
        ],
    );
}

#[test]
fn bad_subject() {
    assert_fails(
        "bad-subject",
        "acme.toml",
        &["users[0].permissions.publish.allow[0]: `orders..new` is not a valid subject"],
    );
}

#[test]
fn import_of_a_missing_export() {
    assert_fails(
        "bad-import-missing-export",
        "acme.toml",
        &["imports[0].stream.subject: `globex:billing.>` is not exported by globex"],
    );
}

#[test]
fn import_not_granted() {
    assert_fails(
        "bad-import-not-granted",
        "acme.toml",
        &["imports[0].stream.subject: `globex:orders.>` is not exported to acme"],
    );
}

#[test]
fn duplicate_user_across_tenants() {
    let first = fixture("bad-duplicate-user").join("acme.toml");
    assert_fails(
        "bad-duplicate-user",
        "globex.toml",
        &[
            "users[0].user: user `ops` is also defined in",
            &first.display().to_string(),
        ],
    );
}

#[test]
fn import_cycle() {
    let other = fixture("bad-import-cycle").join("globex.toml");
    assert_fails(
        "bad-import-cycle",
        "acme.toml",
        &[
            "imports[0]: import cycle: acme -> globex -> acme",
            &other.display().to_string(),
        ],
    );
}

#[test]
fn good_set_passes() {
    let out = check("good");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "good set failed:\n{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "ok: 3 tenants, 6 users, 2 exports, 3 imports"
    );
}

/// `check` refuses what `serve` would refuse: rules that only fail when the
/// tenants are loaded (mappings, import rewrites, server-level names).
#[test]
fn rejects_what_serve_would_refuse() {
    let dir = tempfile::tempdir().expect("temp dir");
    let write =
        |name: &str, body: &str| std::fs::write(dir.path().join(name), body).expect("write");
    write(
        "a.toml",
        "name = \"a\"\n[[users]]\nuser = \"u\"\npassword = \"p\"\n[[mappings]]\nsource = \"x.>\"\nto = \"y.{{wildcard(1)}}\"\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["check", "--tenants"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert!(!out.status.success(), "bad mapping accepted");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("mappings"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    write(
        "a.toml",
        "name = \"a\"\n[[users]]\nuser = \"u\"\npassword = \"p\"\n",
    );
    let config = dir.path().join("server.conf");
    std::fs::write(&config, "no_auth_user = \"ghost\"\ntenants = \"unused\"\n").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["check", "--tenants"])
        .arg(dir.path())
        .arg("--config")
        .arg(&config)
        .output()
        .expect("runs");
    assert!(!out.status.success(), "unknown no_auth_user accepted");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("ghost"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
