//! `switchyard auth` as a script would run it: the files each subcommand
//! leaves in the operator directory, what the JWTs in them say, and the
//! exit codes. nats-server's view of the same files is in
//! `auth_nats_server.rs`.

use crate::common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::auth::Workdir;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use switchyard::auth::jwt::{self, ExportType, parse_creds};

fn mode(path: &Path) -> u32 {
    fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

fn now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs(),
    )
    .expect("unix time")
}

#[test]
fn init_creates_a_self_signed_operator_with_a_system_account() {
    let w = Workdir::new();
    let out = w.ok("init", &["--operator", "acme-ops"]);
    assert!(out.starts_with("operator `acme-ops` (O"), "{out}");

    let store = w.store();
    let (_, operator) = store.load_operator().expect("operator loads");
    assert_eq!(operator.data.name, "acme-ops");
    assert_eq!(operator.data.iss, operator.data.sub);
    let sys = w.account_key("SYS");
    assert_eq!(operator.nats.system_account, sys);
    let (_, sys_claims) = store.load_account("SYS").expect("SYS loads");
    assert_eq!(sys_claims.data.iss, operator.data.sub);
    assert_eq!(mode(&store.operator_seed_path()), 0o600);
    assert_eq!(mode(&store.account_seed_path("SYS")), 0o600);
    assert!(
        fs::read_to_string(store.operator_seed_path())
            .unwrap()
            .starts_with("SO")
    );

    // A second init is refused; --force replaces the operator key and signs
    // the existing accounts again, keeping their keys.
    let err = w.fails("init", &["--operator", "again"]);
    assert!(err.contains("operator.jwt` already exists"), "{err}");
    assert!(err.contains("--force"), "{err}");
    w.ok("init", &["--operator", "again", "--force"]);
    let (_, replaced) = store.load_operator().unwrap();
    assert_ne!(replaced.data.sub, operator.data.sub);
    assert_eq!(replaced.nats.system_account, sys);
    let (_, sys_claims) = store.load_account("SYS").unwrap();
    assert_eq!(sys_claims.data.iss, replaced.data.sub);
}

#[test]
fn accounts_carry_limits_exports_and_imports_by_name_or_key() {
    let w = Workdir::new();
    w.ok("init", &["--operator", "op"]);
    w.ok(
        "add-account",
        &[
            "globex",
            "--export-stream",
            "orders.>",
            "--export-service",
            "time.now",
        ],
    );
    let globex = w.account_key("globex");
    let sys = w.account_key("SYS");
    let import_by_key = format!("{sys}:metrics.>");
    let out = w.ok(
        "add-account",
        &[
            "acme",
            "--max-conns",
            "25",
            "--import-stream",
            "globex:orders.eu.>",
            "--import-service",
            "globex:time.now",
            "--import-stream",
            &import_by_key,
        ],
    );
    assert!(out.contains("accounts/acme/account.jwt"), "{out}");

    let store = w.store();
    let (_, op) = store.load_operator().unwrap();
    let (_, globex_claims) = store.load_account("globex").unwrap();
    assert_eq!(globex_claims.data.iss, op.data.sub);
    let exports: Vec<_> = globex_claims
        .nats
        .exports
        .iter()
        .map(|e| (e.subject.as_str(), e.kind))
        .collect();
    assert_eq!(
        exports,
        [
            ("orders.>", Some(ExportType::Stream)),
            ("time.now", Some(ExportType::Service))
        ]
    );

    let (_, acme) = store.load_account("acme").unwrap();
    assert_eq!(acme.data.name, "acme");
    assert_eq!(acme.nats.limits.conn, 25);
    assert_eq!(acme.nats.limits.subs, -1);
    assert_eq!(acme.nats.limits.payload, -1);
    let imports: Vec<_> = acme
        .nats
        .imports
        .iter()
        .map(|i| {
            (
                i.subject.as_str(),
                i.account.as_str(),
                i.local_subject.as_str(),
                i.kind,
            )
        })
        .collect();
    assert_eq!(
        imports,
        [
            ("metrics.>", sys.as_str(), "", Some(ExportType::Stream)),
            ("orders.eu.>", globex.as_str(), "", Some(ExportType::Stream)),
            (
                "time.now",
                globex.as_str(),
                "time.now",
                Some(ExportType::Service)
            ),
        ]
    );

    // Errors name the thing and the reason.
    let err = w.fails("add-account", &["x", "--import-stream", "nobody:foo"]);
    assert!(
        err.contains("account `nobody` not found in ops/accounts"),
        "{err}"
    );
    let err = w.fails("add-account", &["x", "--export-stream", "a..b"]);
    assert!(
        err.contains("--export-stream `a..b`: not a valid subject"),
        "{err}"
    );
    let err = w.fails("add-account", &["acme"]);
    assert!(err.contains("account `acme` already exists"), "{err}");
    let err = w.fails("add-account", &["../escape"]);
    assert!(err.contains("invalid account name `../escape`"), "{err}");
    assert!(!store.has_account("x"));
}

#[test]
fn users_get_permissions_expiry_and_a_creds_file() {
    let w = Workdir::new();
    w.ok("init", &["--operator", "op"]);
    w.ok("add-account", &["acme"]);
    let before = now();
    let out = w.ok(
        "add-user",
        &[
            "--account",
            "acme",
            "alice",
            "--allow-pub",
            "orders.>",
            "--allow-sub",
            "orders.*",
            "--allow-sub",
            "jobs.* workers",
            "--deny-pub",
            "orders.secret",
            "--deny-sub",
            "orders.audit",
            "--expires",
            "12h",
            "--out",
            "alice.creds",
        ],
    );
    assert!(out.contains("expires in 12h"), "{out}");

    let creds_path = w.path("alice.creds");
    assert_eq!(mode(&creds_path), 0o600);
    let (token, seed) = parse_creds(&fs::read_to_string(&creds_path).unwrap()).unwrap();
    let store = w.store();
    assert_eq!(
        fs::read_to_string(store.user_jwt_path("acme", "alice")).unwrap(),
        token
    );
    assert_eq!(
        fs::read_to_string(store.user_seed_path("acme", "alice")).unwrap(),
        seed
    );
    assert_eq!(mode(&store.user_seed_path("acme", "alice")), 0o600);

    let user: jwt::UserClaims = jwt::decode(&token).unwrap().into_claims().unwrap();
    assert_eq!(user.data.iss, w.account_key("acme"));
    assert!(user.nats.issuer_account.is_empty());
    assert_eq!(user.data.name, "alice");
    let lifetime = user.data.exp - before;
    assert!((12 * 3600..12 * 3600 + 5).contains(&lifetime), "{lifetime}");
    let perms = &user.nats.limits.permissions;
    assert_eq!(perms.publish.allow, ["orders.>"]);
    assert_eq!(perms.publish.deny, ["orders.secret"]);
    assert_eq!(perms.subscribe.allow, ["orders.*", "jobs.* workers"]);
    assert_eq!(perms.subscribe.deny, ["orders.audit"]);
    assert!(!user.nats.limits.bearer_token);

    w.ok(
        "add-user",
        &["--account", "acme", "bot", "--bearer", "--out", "bot.creds"],
    );
    let (_, bot) = store.load_user("acme", "bot").unwrap();
    assert!(bot.nats.limits.bearer_token);
    assert_eq!(bot.data.exp, 0);

    let err = w.fails("add-user", &["--account", "nope", "x", "--out", "x.creds"]);
    assert!(
        err.contains("account `nope` not found in ops/accounts"),
        "{err}"
    );
    let err = w.fails(
        "add-user",
        &["--account", "acme", "alice", "--out", "a2.creds"],
    );
    assert!(
        err.contains("user `alice` already exists in account `acme`"),
        "{err}"
    );
    let out = w.auth(&[
        "add-user",
        "--dir",
        "ops",
        "--account",
        "acme",
        "y",
        "--expires",
        "2w",
        "--out",
        "y.creds",
    ]);
    assert_eq!(out.status.code(), Some(2), "clap rejects a bad --expires");
    assert!(String::from_utf8_lossy(&out.stderr).contains("30d, 12h, 90m or 45s"));
}

#[test]
fn describe_verifies_files_creds_and_tokens_and_fails_on_tampering() {
    let w = Workdir::new();
    w.ok("init", &["--operator", "op"]);
    w.ok("add-account", &["acme"]);
    w.ok(
        "add-user",
        &[
            "--account",
            "acme",
            "alice",
            "--expires",
            "1h",
            "--out",
            "alice.creds",
        ],
    );
    let store = w.store();
    let account_key = w.account_key("acme");

    let out = w.auth(&["describe", "ops/accounts/acme/account.jwt"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("\"alg\": \"ed25519-nkey\""), "{text}");
    assert!(text.contains("\"name\": \"acme\""), "{text}");
    let (_, op) = store.load_operator().unwrap();
    assert!(
        text.contains(&format!("signature: valid (issuer {})", op.data.sub)),
        "{text}"
    );

    let out = w.auth(&["describe", "alice.creds"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!("signature: valid (issuer {account_key})")),
        "{text}"
    );
    assert!(text.contains("seed: matches the subject"), "{text}");
    let seed = fs::read_to_string(store.user_seed_path("acme", "alice")).unwrap();
    assert!(!text.contains(&seed), "the seed was printed:\n{text}");

    // The raw token: rename the user in the claims and keep the signature.
    let token = fs::read_to_string(store.user_jwt_path("acme", "alice")).unwrap();
    let out = w.auth(&["describe", &token]);
    assert!(out.status.success());
    let parts: Vec<&str> = token.split('.').collect();
    let claims = String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    let forged = URL_SAFE_NO_PAD.encode(claims.replace("\"alice\"", "\"admin\""));
    let tampered = format!("{}.{forged}.{}", parts[0], parts[2]);
    let out = w.auth(&["describe", &tampered]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("\"name\": \"admin\""),
        "claims still shown:\n{text}"
    );
    assert!(
        text.contains("signature: INVALID: JWT signature does not match"),
        "{text}"
    );

    let out = w.auth(&["describe", "no-such-file"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`no-such-file`: no such file"));
}

#[test]
fn an_expired_user_is_described_as_expired_but_genuine() {
    let w = Workdir::new();
    w.ok("init", &["--operator", "op"]);
    w.ok("add-account", &["acme"]);
    w.ok(
        "add-user",
        &[
            "--account",
            "acme",
            "brief",
            "--expires",
            "1s",
            "--out",
            "b.creds",
        ],
    );
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let out = w.auth(&["describe", "b.creds"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{text}");
    assert!(text.contains("signature: valid"), "{text}");
    assert!(text.contains("expired at"), "{text}");
}

#[test]
fn revoke_user_lists_the_user_in_the_re_signed_account() {
    let w = Workdir::new();
    w.ok("init", &["--operator", "op"]);
    w.ok("add-account", &["acme", "--export-stream", "news.>"]);
    w.ok(
        "add-user",
        &["--account", "acme", "mallory", "--out", "m.creds"],
    );
    let store = w.store();
    let (_, mallory) = store.load_user("acme", "mallory").unwrap();
    let (_, before) = store.load_account("acme").unwrap();
    let start = now();

    let out = w.ok("revoke-user", &["--account", "acme", "mallory"]);
    // The path as the directory was given, for a script to hand on.
    assert_eq!(out.trim(), "ops/accounts/acme/account.jwt");
    let (_, after) = store.load_account("acme").unwrap();
    let revoked_at = after.nats.revocations[&mallory.data.sub];
    assert!(revoked_at >= start, "{revoked_at} < {start}");
    assert!(after.is_revoked(&mallory.data.sub, mallory.data.iat));
    // Everything else about the account is kept, and the operator signed it.
    assert_eq!(after.nats.exports, before.nats.exports);
    assert_eq!(after.data.iss, store.load_operator().unwrap().1.data.sub);

    let err = w.fails("revoke-user", &["--account", "acme", "nobody"]);
    assert!(
        err.contains("user `nobody` not found in account `acme`"),
        "{err}"
    );
}
