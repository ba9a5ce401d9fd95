use super::*;
use proptest::prelude::*;
use std::path::PathBuf;

fn parse(text: &str) -> Result<Map, NatsConfError> {
    let env = |name: &str| match name {
        "ENV_PORT" => Some("4333".to_string()),
        "ENV_WORDS" => Some("two words".to_string()),
        _ => None,
    };
    parse_with(text, Path::new("/cfg/main.conf"), &Limits::default(), &env)
}

fn get<'m>(map: &'m Map, key: &str) -> &'m Kind {
    &map.get(key)
        .unwrap_or_else(|| panic!("no `{key}`"))
        .value
        .kind
}

fn map<'m>(map: &'m Map, key: &str) -> &'m Map {
    match get(map, key) {
        Kind::Map(m) => m,
        other => panic!("`{key}` is {other:?}"),
    }
}

fn error(text: &str) -> String {
    parse(text).expect_err(text).to_string()
}

#[test]
fn three_separators_and_three_terminators() {
    let m = parse("a = 1\nb: 2; c 3, d=4\n").unwrap();
    for (k, v) in [("a", 1), ("b", 2), ("c", 3), ("d", 4)] {
        assert_eq!(get(&m, k), &Kind::Integer(v));
    }
}

#[test]
fn keys_are_looked_up_without_case_and_later_wins() {
    let m = parse("Port = 1\nPORT = 2").unwrap();
    assert_eq!(get(&m, "port"), &Kind::Integer(2));
    assert_eq!(m.effective().len(), 1);
    assert_eq!(m.effective()[0].key, "PORT");
}

#[test]
fn strings_quoted_bare_and_block() {
    let m = parse(concat!(
        "a = \"x \\\"y\\\" \\u00e9\\n\"\n",
        "b = 'raw \\n'\n",
        "listen: 127.0.0.1:4222\n",
        "url: nats://host:4222 # comment\n",
        "pass: a#b\n",
        "jwt = (\n  eyJ0eXAi\n)\n",
    ))
    .unwrap();
    assert_eq!(get(&m, "a"), &Kind::String("x \"y\" é\n".into()));
    assert_eq!(get(&m, "b"), &Kind::String("raw \\n".into()));
    assert_eq!(get(&m, "listen"), &Kind::String("127.0.0.1:4222".into()));
    assert_eq!(get(&m, "url"), &Kind::String("nats://host:4222".into()));
    assert_eq!(get(&m, "pass"), &Kind::String("a#b".into()));
    assert_eq!(get(&m, "jwt"), &Kind::String("eyJ0eXAi".into()));
}

#[test]
fn booleans_numbers_sizes_and_duration_words() {
    let m = parse(concat!(
        "t1 = true; t2 = YES; t3 = on; f1 = false; f2 = no; f3 = Off\n",
        "neg = -1; fl = 0.5; e = 2e3\n",
        "k = 1k; kb = 1kb; kib = 1KiB; mb = 2MB; m = 2m; g = 1G; gib = 1gib\n",
        "s = 2s; ms = 100ms; ip = 1.2.3.4\n",
    ))
    .unwrap();
    for k in ["t1", "t2", "t3"] {
        assert_eq!(get(&m, k), &Kind::Bool(true));
    }
    for k in ["f1", "f2", "f3"] {
        assert_eq!(get(&m, k), &Kind::Bool(false));
    }
    assert_eq!(get(&m, "neg"), &Kind::Integer(-1));
    assert_eq!(get(&m, "fl"), &Kind::Float(0.5));
    assert_eq!(get(&m, "e"), &Kind::Float(2000.0));
    assert_eq!(get(&m, "k"), &Kind::Integer(1000));
    assert_eq!(get(&m, "kb"), &Kind::Integer(1024));
    assert_eq!(get(&m, "kib"), &Kind::Integer(1024));
    assert_eq!(get(&m, "mb"), &Kind::Integer(2 * 1024 * 1024));
    assert_eq!(get(&m, "m"), &Kind::Integer(2_000_000));
    assert_eq!(get(&m, "g"), &Kind::Integer(1_000_000_000));
    assert_eq!(get(&m, "gib"), &Kind::Integer(1 << 30));
    assert_eq!(get(&m, "s"), &Kind::String("2s".into()));
    assert_eq!(get(&m, "ms"), &Kind::String("100ms".into()));
    assert_eq!(get(&m, "ip"), &Kind::String("1.2.3.4".into()));
}

#[test]
fn maps_arrays_and_comments() {
    let m = parse(concat!(
        "// leading comment\n",
        "authorization {\n",
        "  users = [\n",
        "    {user: alice, password: \"s3cr3t\"}   # trailing\n",
        "    {user: bob, password: foo, permissions: {publish: [\"a.>\", b]}},\n",
        "  ]\n",
        "  timeout: 2\n",
        "}\n",
        "accounts: { A: { users: [] }, B {} }\n",
    ))
    .unwrap();
    let auth = map(&m, "authorization");
    let Kind::Array(users) = get(auth, "users") else {
        panic!("users")
    };
    assert_eq!(users.len(), 2);
    let Kind::Map(bob) = &users[1].kind else {
        panic!("bob")
    };
    assert_eq!(get(bob, "user"), &Kind::String("bob".into()));
    let Kind::Array(publish) = get(map(bob, "permissions"), "publish") else {
        panic!("publish")
    };
    assert_eq!(publish.len(), 2);
    assert_eq!(get(auth, "timeout"), &Kind::Integer(2));
    let accounts = map(&m, "accounts");
    assert_eq!(accounts.entries[0].key, "A");
    assert_eq!(accounts.entries[1].key, "B");
}

#[test]
fn variables_from_enclosing_blocks_then_the_environment() {
    let m = parse(concat!(
        "TOKEN = \"abc\"\n",
        "authorization { token: $TOKEN }\n",
        "outer { inner = 5; nested { v = $inner } }\n",
        "port = $ENV_PORT\n",
        "words = $ENV_WORDS\n",
    ))
    .unwrap();
    assert_eq!(
        get(map(&m, "authorization"), "token"),
        &Kind::String("abc".into())
    );
    assert_eq!(get(map(map(&m, "outer"), "nested"), "v"), &Kind::Integer(5));
    assert_eq!(get(&m, "port"), &Kind::Integer(4333));
    assert_eq!(get(&m, "words"), &Kind::String("two words".into()));
    assert!(m.get("TOKEN").unwrap().used_as_variable);
    assert!(!m.get("port").unwrap().used_as_variable);
    let e = error("a = 1\nb = $MISSING\n");
    assert!(
        e.starts_with("/cfg/main.conf:2:5: variable `$MISSING`"),
        "{e}"
    );
}

#[test]
fn errors_name_file_line_and_column() {
    for (text, want) in [
        (
            "a = {\n b = 1\n",
            "/cfg/main.conf:3:1: unexpected end of file: missing `}`",
        ),
        (
            "a = [1, 2",
            "/cfg/main.conf:1:10: unexpected end of file: missing `]`",
        ),
        ("a =\n", "/cfg/main.conf:1:4: `a` has no value"),
        ("a = \"open\n", "/cfg/main.conf:1:5: unterminated string"),
        (
            "x { a = 1 b = 2 }",
            "/cfg/main.conf:1:11: expected a newline",
        ),
        (
            "a = 99999999999999999999",
            "/cfg/main.conf:1:5: `99999999999999999999` does not fit",
        ),
        (
            "a = 99999999999t",
            "/cfg/main.conf:1:5: `99999999999t` does not fit",
        ),
        ("a = \"\\q\"", "/cfg/main.conf:1:5: unknown escape"),
        ("= 1", "/cfg/main.conf:1:1: expected a key, found `=`"),
    ] {
        let e = error(text);
        assert!(e.starts_with(want), "{text:?}: {e}");
    }
}

#[test]
fn include_is_relative_to_the_including_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(
        dir.path().join("main.conf"),
        "port = 1\ninclude sub/auth.conf\nhttp: 8222",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("sub/auth.conf"),
        "authorization { include 'users.conf' }",
    )
    .unwrap();
    std::fs::write(dir.path().join("sub/users.conf"), "token = t0k3n").unwrap();
    let m = parse_file(&dir.path().join("main.conf")).unwrap();
    assert_eq!(
        get(map(&m, "authorization"), "token"),
        &Kind::String("t0k3n".into())
    );
    assert_eq!(get(&m, "http"), &Kind::Integer(8222));
    let token = map(&m, "authorization").get("token").unwrap();
    assert!(token.key_pos.file.ends_with("sub/users.conf"));

    std::fs::write(dir.path().join("loop.conf"), "include loop.conf").unwrap();
    let e = parse_file(&dir.path().join("loop.conf"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("includes itself"), "{e}");
    let e = parse_file(&dir.path().join("nothing.conf"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("nothing.conf"), "{e}");
    std::fs::write(dir.path().join("missing.conf"), "include gone.conf").unwrap();
    let e = parse_file(&dir.path().join("missing.conf"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing.conf:1:1: cannot include"), "{e}");
}

#[test]
fn hostile_input_gets_errors_not_a_crash() {
    let deep = "a = ".to_string() + &"{ b = ".repeat(100_000);
    assert!(error(&deep).contains("nested deeper than 64"));
    let deep_arrays = "a = ".to_string() + &"[".repeat(100_000);
    assert!(error(&deep_arrays).contains("nested deeper than 64"));
    // Each variable doubles the last: 2^40 values if copies were free.
    let mut doubling = "v0 = [1, 2, 3, 4]\n".to_string();
    for i in 1..40 {
        doubling += &format!("v{i} = [$v{p}, $v{p}]\n", p = i - 1);
    }
    assert!(error(&doubling).contains("more than 1000000 values"));
    let big = "a".repeat(Limits::default().max_bytes + 1);
    assert!(error(&big).contains("larger than"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("zero.conf");
    std::fs::write(&file, "include /dev/zero").unwrap();
    let e = parse_file(&file).unwrap_err().to_string();
    assert!(e.contains("cannot include"), "{e}");
}

#[test]
fn a_real_nats_server_test_config() {
    // The shape of async-nats' and nats-server's own test files.
    let m = parse(concat!(
        "listen: 127.0.0.1:-1\n",
        "jetstream: {max_mem_store: 256MB, max_file_store: 2GB, store_dir: '/tmp/js'}\n",
        "accounts: {\n",
        "  JS: { jetstream: enabled, users: [ {user: js, password: js} ] },\n",
        "  $SYS: { users: [ {user: sys, password: sys} ] }\n",
        "}\n",
        "tls {\n  cert_file: \"./configs/certs/server-cert.pem\"\n  timeout: 0.5\n}\n",
    ))
    .unwrap();
    assert_eq!(get(&m, "listen"), &Kind::String("127.0.0.1:-1".into()));
    let accounts = map(&m, "accounts");
    assert_eq!(accounts.entries[1].key, "$SYS");
    assert_eq!(get(map(&m, "tls"), "timeout"), &Kind::Float(0.5));
    assert_eq!(
        get(map(&m, "jetstream"), "max_mem_store"),
        &Kind::Integer(256 * 1024 * 1024)
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Any text parses or fails with an error; it never panics.
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = parse(&text);
    }

    /// Text made of the format's own punctuation and words, where the
    /// parser's edge cases live.
    #[test]
    fn format_shaped_text_never_panics(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("{"), Just("}"), Just("["), Just("]"), Just("="), Just(":"),
                Just(","), Just(";"), Just("\n"), Just(" "), Just("#"), Just("//"),
                Just("\""), Just("'"), Just("("), Just(")"), Just("\\"), Just("$a"),
                Just("a"), Just("include"), Just("1k"), Just("-"), Just("9e9"),
                Just("true"), Just("$"), Just("\\u12"),
            ],
            0..60,
        )
    ) {
        let text: String = parts.concat();
        let _ = parse(&text);
    }
}

#[test]
fn positions_survive_into_values() {
    let m = parse("\n\n  port: 4222\n").unwrap();
    let entry = m.get("port").unwrap();
    assert_eq!((entry.key_pos.line, entry.key_pos.column), (3, 3));
    assert_eq!((entry.value.pos.line, entry.value.pos.column), (3, 9));
    assert_eq!(
        entry.value.pos.file.to_path_buf(),
        PathBuf::from("/cfg/main.conf")
    );
}
