//! One failing example per rule, plus the good fixture set with no issues.
//! Tenants are written inline as TOML, as an operator would write them.

mod links;
mod mappings;

use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Parses `(name, toml)` pairs into files named `tenants/<name>.toml`.
fn tenants(set: &[(&str, &str)]) -> Vec<(PathBuf, TenantFile)> {
    set.iter()
        .map(|(file, text)| {
            let parsed = toml::from_str(text).unwrap_or_else(|e| panic!("{file}: {e}"));
            (PathBuf::from(format!("tenants/{file}.toml")), parsed)
        })
        .collect()
}

fn issues(set: &[(&str, &str)]) -> Vec<String> {
    validate(&tenants(set))
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// The single issue the set has; fails on none or several, so that each
/// test also shows a rule reports once and nothing else fires.
fn only_issue(set: &[(&str, &str)]) -> String {
    let found = issues(set);
    assert_eq!(found.len(), 1, "expected one issue, got {found:#?}");
    found.into_iter().next().unwrap_or_default()
}

/// A tenant with one token user and nothing else to complain about.
fn tenant(name: &str, rest: &str) -> String {
    format!("name = \"{name}\"\n{rest}\n[[users]]\ntoken = \"{name}-token\"\n")
}

const NKEY_A: &str = "UDQQG2KDYF5347TQXORRD3ZTVO26FPH2BNBRJ5KCHK5N77NQYLQWJUN7";

fn temp_dir(files: &[(&str, &str)]) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("switchyard-tenants-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    for (name, text) in files {
        std::fs::write(dir.join(name), text).expect("write temp file");
    }
    dir
}

#[test]
fn good_fixture_set_has_no_issues() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tenants/good");
    let files = load_dir(&dir).expect("good fixtures parse");
    let names: Vec<&str> = files.iter().map(|(_, t)| t.name.as_str()).collect();
    assert_eq!(names, ["acme", "globex", "initech"]);
    assert_eq!(validate(&files), Vec::<ConfigIssue>::new());
}

#[test]
fn display_omits_an_empty_key() {
    let issue = ConfigIssue::new(Path::new("t/a.toml"), "", "no tenant files");
    assert_eq!(issue.to_string(), "t/a.toml: no tenant files");
    let issue = ConfigIssue::new(Path::new("t/a.toml"), "name", "must not be empty");
    assert_eq!(issue.to_string(), "t/a.toml: name: must not be empty");
}

#[test]
fn load_dir_sorts_toml_files_and_ignores_others() {
    let dir = temp_dir(&[
        ("b.toml", "name = \"b\""),
        ("a.toml", "name = \"a\""),
        ("notes.txt", "not toml"),
    ]);
    let files = load_dir(&dir).expect("loads");
    let names: Vec<&str> = files.iter().map(|(_, t)| t.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn load_dir_rejects_missing_and_empty_dirs() {
    let missing = load_dir(Path::new("/nonexistent/switchyard-tenants")).unwrap_err();
    assert!(
        missing[0]
            .message
            .contains("cannot read the tenant directory")
    );
    let dir = temp_dir(&[("readme.md", "")]);
    let empty = load_dir(&dir).unwrap_err();
    assert_eq!(empty[0].message, "no tenant files (*.toml) found");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn load_dir_reports_unknown_keys_with_key_path_and_line() {
    let dir = temp_dir(&[
        (
            "a.toml",
            "name = \"a\"\n\n[[users]]\ntoken = \"t\"\n\n[[users]]\nuser = \"u\"\npasword = \"p\"\n",
        ),
        ("b.toml", "name = \"b\"\n[limits]\nmax_conections = 1\n"),
        ("c.toml", "name = \"c\"\nusers = [\n"),
        (
            "d.toml",
            "name = \"d\"\n[[users]]\ntoken = \"t\"\npermissions.allow_responses = { max = \"x\" }\n",
        ),
    ]);
    let issues = load_dir(&dir).unwrap_err();
    assert_eq!(issues.len(), 4, "{issues:#?}");
    assert_eq!(issues[0].key, "users[1].pasword");
    assert!(
        issues[0]
            .message
            .starts_with("unknown field `pasword`, expected one of `user`, `password`"),
        "{}",
        issues[0].message
    );
    assert!(
        issues[0].message.ends_with("(line 8, column 1)"),
        "{}",
        issues[0].message
    );
    assert_eq!(issues[1].key, "limits.max_conections");
    assert!(
        issues[1]
            .message
            .contains("expected one of `max_connections`")
    );
    // Not TOML at all: no key, but still a line.
    assert_eq!(issues[2].key, "");
    assert!(
        issues[2].message.contains("(line "),
        "{}",
        issues[2].message
    );
    // A value of the wrong shape: the key holding it.
    assert_eq!(issues[3].key, "users[0].permissions.allow_responses");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn tenant_names_must_be_valid_unreserved_and_unique() {
    let issue = only_issue(&[("a", &tenant("", ""))]);
    assert_eq!(issue, "tenants/a.toml: name: must not be empty");
    let issue = only_issue(&[("a", &tenant("ac me", ""))]);
    assert!(issue.ends_with("`ac me` may only contain letters, digits, `_` and `-`"));
    let issue = only_issue(&[("a", &tenant("$SYS", ""))]);
    assert!(issue.contains("`$SYS` is reserved"), "{issue}");
    let b = tenant("acme", "").replace("acme-token", "other");
    let issue = only_issue(&[("a", &tenant("acme", "")), ("b", &b)]);
    assert_eq!(
        issue,
        "tenants/b.toml: name: tenant `acme` is also defined in tenants/a.toml"
    );
}

#[test]
fn a_user_needs_exactly_one_credential() {
    let issue = only_issue(&[("a", "name = \"a\"\n[[users]]\nuser = \"x\"")]);
    assert_eq!(
        issue,
        "tenants/a.toml: users[0]: needs exactly one of `password`, `token` or `nkey`"
    );
    let issue = only_issue(&[(
        "a",
        "name = \"a\"\n[[users]]\nuser = \"x\"\npassword = \"p\"\ntoken = \"t\"",
    )]);
    assert!(
        issue.contains("users[0]: has password and token"),
        "{issue}"
    );
}

#[test]
fn a_password_requires_a_user_name() {
    let issue = only_issue(&[("a", "name = \"a\"\n[[users]]\npassword = \"p\"")]);
    assert_eq!(
        issue,
        "tenants/a.toml: users[0]: `password` requires `user`"
    );
}

#[test]
fn user_names_are_unique_across_tenants() {
    let a = "name = \"a\"\n[[users]]\nuser = \"ops\"\npassword = \"1\"";
    let b = "name = \"b\"\n[[users]]\ntoken = \"t\"\n[[users]]\nuser = \"ops\"\npassword = \"2\"";
    let issue = only_issue(&[("a", a), ("b", b)]);
    assert_eq!(
        issue,
        "tenants/b.toml: users[1].user: user `ops` is also defined in tenants/a.toml (users[0])"
    );
}

#[test]
fn tokens_are_unique_across_tenants_and_not_echoed() {
    let issue = only_issue(&[
        ("a", &tenant("a", "")),
        ("b", &tenant("b", "").replace("b-token", "a-token")),
    ]);
    assert_eq!(
        issue,
        "tenants/b.toml: users[0].token: the same token is also used in tenants/a.toml (users[0])"
    );
}

#[test]
fn nkeys_must_be_user_public_keys() {
    let with =
        |nkey: &str| only_issue(&[("a", &format!("name = \"a\"\n[[users]]\nnkey = \"{nkey}\""))]);
    assert!(
        with(&NKEY_A.replacen('U', "A", 1)).contains("users[0].nkey: must be a user public key")
    );
    assert!(with(&NKEY_A[..55]).contains("must be 56 characters long, not 55"));
    assert!(with(&NKEY_A.replace('Q', "1")).contains("`1` is not in the base32 alphabet"));
    // Right shape, wrong checksum: only decoding the key catches it.
    let mut flipped = NKEY_A.to_string();
    flipped.replace_range(10..11, if &NKEY_A[10..11] == "A" { "B" } else { "A" });
    assert!(
        with(&flipped).contains("is not a valid public key"),
        "{}",
        with(&flipped)
    );
    assert!(with(&format!("S{}", &NKEY_A[1..])).contains("looks like a seed"));
}

#[test]
fn nkeys_are_unique_across_tenants() {
    let user = format!("[[users]]\nnkey = \"{NKEY_A}\"");
    let issue = only_issue(&[
        ("a", &format!("name = \"a\"\n{user}")),
        ("b", &format!("name = \"b\"\n{user}")),
    ]);
    assert!(
        issue.starts_with("tenants/b.toml: users[0].nkey: nkey `UDQQ"),
        "{issue}"
    );
    assert!(
        issue.ends_with("is also used in tenants/a.toml (users[0])"),
        "{issue}"
    );
}

#[test]
fn permission_subjects_must_be_valid() {
    let perms = |p: &str| {
        only_issue(&[(
            "a",
            &format!("name = \"a\"\n[[users]]\ntoken = \"t\"\n[users.permissions]\n{p}"),
        )])
    };
    assert_eq!(
        perms("publish = { allow = [\"a\", \"b..c\"] }"),
        "tenants/a.toml: users[0].permissions.publish.allow[1]: `b..c` is not a valid subject: it has an empty token"
    );
    assert!(perms("subscribe = { deny = [\"a.>.b\"] }").contains(
        "subscribe.deny[0]: `a.>.b` is not a valid subject: `>` may only be the last token"
    ));
    let issue = only_issue(&[(
        "a",
        "name = \"a\"\n[default_permissions]\npublish = { deny = [\"\"] }",
    )]);
    assert_eq!(
        issue,
        "tenants/a.toml: default_permissions.publish.deny[0]: `` is not a valid subject: it is empty"
    );
}

#[test]
fn subscribe_entries_may_name_one_literal_queue() {
    let sub = |entry: &str| {
        issues(&[(
            "a",
            &tenant(
                "a",
                &format!("[default_permissions]\nsubscribe = {{ allow = [\"{entry}\"] }}"),
            ),
        )])
    };
    assert_eq!(sub("jobs.* workers"), Vec::<String>::new());
    assert!(sub("jobs.* a b")[0].contains("must be `subject` or `subject queue`"));
    assert!(sub("jobs.*  workers")[0].contains("must be `subject` or `subject queue`"));
    assert!(sub("jobs.* work.ers")[0].contains("queue `work.ers` must be a single token"));
    assert!(sub("jobs.* *")[0].contains("default_permissions.subscribe.allow[0]: queue `*`"));
}

#[test]
fn allow_responses_limits_must_be_positive() {
    let found = issues(&[(
        "a",
        &tenant(
            "a",
            "[default_permissions]\nallow_responses = { max = 0, ttl = \"0s\" }",
        ),
    )]);
    assert_eq!(
        found,
        [
            "tenants/a.toml: default_permissions.allow_responses.max: must be at least 1",
            "tenants/a.toml: default_permissions.allow_responses.ttl: must be greater than 0",
        ]
    );
}

#[test]
fn limits_when_set_must_be_positive() {
    let issue = only_issue(&[(
        "a",
        &tenant("a", "[limits]\nmax_connections = 10\nmax_payload = 0"),
    )]);
    assert_eq!(
        issue,
        "tenants/a.toml: limits.max_payload: must be greater than 0"
    );
}
