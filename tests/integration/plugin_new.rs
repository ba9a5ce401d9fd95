//! `switchyard plugin new`: for each language a generated project builds
//! with its own build.sh (through the repository's build scripts, which
//! install the toolchain on first use) and its test-message.sh runs
//! `switchyard plugin check --message` (or `--token`) on the result; C
//! (the fastest build) in all three worlds; a generated C transform and a
//! generated C auth plugin work in a broker; bad names and non-empty
//! directories are refused. A missing toolchain fails with the build script's message
//! and the command to run; nothing is skipped.

use crate::common;

use common::plugins::with_cache;
use common::{TenantDir, eventually, next_msg, user};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::Ordering;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn switchyard() -> Command {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `switchyard plugin new` into `parent/name`, against this checkout.
fn new_project(parent: &Path, lang: &str, world: &str, name: &str) -> PathBuf {
    let dir = parent.join(name);
    let out = switchyard()
        .args(["plugin", "new", "--lang", lang, "--world", world, name])
        .arg("--dir")
        .arg(&dir)
        .arg("--sdk-root")
        .arg(root())
        .output()
        .expect("run switchyard plugin new");
    assert!(out.status.success(), "plugin new failed:\n{}", text(&out));
    for file in ["build.sh", "test-message.sh", "README.md"] {
        assert!(dir.join(file).is_file(), "{name}: no {file}");
    }
    dir
}

/// Runs the project's build.sh and returns the component it wrote.
fn build(dir: &Path, name: &str) -> PathBuf {
    let out = Command::new("bash")
        .arg(dir.join("build.sh"))
        .current_dir(dir)
        // The outer `cargo test` sets variables meant for the host build.
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .expect("run bash");
    assert!(
        out.status.success(),
        "{name}: build.sh failed; run {}/build.sh to see why (it names the missing \
         toolchain and the command that installs it):\n{}",
        dir.display(),
        text(&out)
    );
    let wasm = dir.join(format!("{name}.wasm"));
    assert!(
        wasm.is_file(),
        "{name}: build.sh wrote no {}",
        wasm.display()
    );
    wasm
}

/// Runs the project's test-message.sh (`plugin check` with one input)
/// with this build's binary and a compile cache shared by the test run.
fn test_message(dir: &Path) -> String {
    let out = Command::new("bash")
        .arg(dir.join("test-message.sh"))
        .env("SWITCHYARD", env!("CARGO_BIN_EXE_switchyard"))
        .env("XDG_CACHE_HOME", env!("CARGO_TARGET_TMPDIR"))
        .output()
        .expect("run bash");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{}: test-message.sh failed:\n{}",
        dir.display(),
        text(&out)
    );
    stdout
}

/// Generates, builds and tries a message plugin; asserts the world, the
/// default subjects and the verdict on the test message.
fn message_plugin(lang: &str, world: &str, name: &str, verdict: &str) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = new_project(tmp.path(), lang, world, name);
    build(&dir, name);
    let report = test_message(&dir);
    for want in [
        format!("world: {world} "),
        format!("subjects: {name}.>\n"),
        format!("message: {name}.hello (5 bytes)\n"),
        format!("verdict: {verdict}\n"),
    ] {
        assert!(report.contains(&want), "{name}: no `{want}` in:\n{report}");
    }
}

fn auth_plugin(lang: &str, name: &str) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = new_project(tmp.path(), lang, "auth", name);
    build(&dir, name);
    let report = test_message(&dir);
    for want in ["world: auth ", "verdict: accept into tenant demo\n"] {
        assert!(report.contains(want), "{name}: no `{want}` in:\n{report}");
    }
    // The wrong token is refused, with the plugin's reason.
    let out = switchyard()
        .args(["plugin", "check"])
        .arg(dir.join(format!("{name}.wasm")))
        .args(["--config", "token=s3cret", "--config", "tenant=demo"])
        .args(["--token", "guess"])
        .env("XDG_CACHE_HOME", env!("CARGO_TARGET_TMPDIR"))
        .output()
        .expect("run switchyard plugin check");
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("verdict: deny: wrong token\n"),
        "{}",
        text(&out)
    );
}

#[test]
fn c_skeletons_of_every_world_build_and_pass_check() {
    message_plugin("c", "transform", "c_pass", "pass");
    message_plugin("c", "routing", "c-allow", "allow");
    auth_plugin("c", "c_token");
}

#[test]
fn rust_transform_skeleton_builds_and_passes_check() {
    message_plugin("rust", "transform", "rust_pass", "pass");
}

#[test]
fn python_routing_skeleton_builds_and_passes_check() {
    message_plugin("python", "routing", "py_allow", "allow");
}

#[test]
fn js_transform_and_auth_skeletons_build_and_pass_check() {
    message_plugin("js", "transform", "js_pass", "pass");
    auth_plugin("js", "js_token");
}

/// Replaces `from` (which must be there) with `to` in a generated file.
fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("read");
    assert!(
        text.contains(from),
        "{}: the template changed, no `{from}`",
        path.display()
    );
    std::fs::write(path, text.replace(from, to)).expect("write");
}

/// `switchyard plugin check FILE.wasm ARGS...`: (success, stdout+stderr).
fn check(wasm: &Path, args: &[&str]) -> (bool, String) {
    let out = switchyard()
        .args(["plugin", "check"])
        .arg(wasm)
        .args(args)
        .env("XDG_CACHE_HOME", env!("CARGO_TARGET_TMPDIR"))
        .output()
        .expect("run switchyard plugin check");
    (out.status.success(), text(&out))
}

/// `plugin check --message` reports what the plugin did, for skeletons
/// edited as their comments suggest: a transform that uppercases payloads
/// and rejects empty ones, a routing policy that reroutes on a header.
#[test]
fn check_message_reports_modify_reject_reroute_and_unregistered() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = new_project(tmp.path(), "c", "transform", "shout");
    let source = dir.join("plugin.c");
    edit(
        &source,
        "r->wants_payload = false;",
        "r->wants_payload = true;",
    );
    edit(
        &source,
        "  (void)msg;\n  return sy_pass();",
        "  if (msg->payload.len == 0) return sy_reject(\"empty payload\");\n\
         \x20 uint8_t *out = malloc(msg->payload.len);\n\
         \x20 if (!out) abort();\n\
         \x20 for (size_t i = 0; i < msg->payload.len; i++) {\n\
         \x20   uint8_t c = msg->payload.ptr[i];\n\
         \x20   out[i] = c >= 'a' && c <= 'z' ? c - 32 : c;\n\
         \x20 }\n\
         \x20 return sy_modify_payload(out, msg->payload.len);",
    );
    let shout = build(&dir, "shout");
    for (args, ok, want) in [
        (
            &["--message", "shout.x", "--payload", "hi there"][..],
            true,
            "verdict: modify: 1 message(s)\n  shout.x: HI THERE\n",
        ),
        (
            &["--message", "shout.x"][..],
            true,
            "verdict: reject: empty payload\n",
        ),
        (
            &["--message", "other.x", "--payload", "a"][..],
            true,
            "verdict: not registered (delivered without calling the plugin)\n",
        ),
        // The registration reads config `subjects`.
        (
            &[
                "--config",
                "subjects=other.>",
                "--message",
                "other.x",
                "--payload",
                "a",
            ][..],
            true,
            "  other.x: A\n",
        ),
        (
            &["--token", "s3cret"][..],
            false,
            "verdict: not run: a transform or routing plugin takes --message, not --token",
        ),
    ] {
        let (success, report) = check(&shout, args);
        assert_eq!(success, ok, "{args:?}:\n{report}");
        assert!(report.contains(want), "{args:?}: no `{want}` in:\n{report}");
    }

    let dir = new_project(tmp.path(), "c", "routing", "steer");
    let source = dir.join("plugin.c");
    edit(
        &source,
        "r->wants_headers = false;",
        "r->wants_headers = true;",
    );
    edit(
        &source,
        "  (void)req;\n  return sy_allow();",
        "  sy_str priority;\n\
         \x20 if (sy_header_get(req->headers, \"Priority\", true, &priority) && sy_str_eq(priority, \"high\"))\n\
         \x20   return sy_reroute(\"steer.priority\");\n\
         \x20 return sy_allow();",
    );
    let steer = build(&dir, "steer");
    for (args, want) in [
        (
            &["--message", "steer.here", "--header", "Priority: high"][..],
            "verdict: reroute to steer.priority\n",
        ),
        (
            &["--message", "steer.here", "--header", "Priority: low"][..],
            "verdict: allow\n",
        ),
        (&["--message", "steer.here"][..], "verdict: allow\n"),
    ] {
        let (success, report) = check(&steer, args);
        assert!(success, "{args:?}:\n{report}");
        assert!(report.contains(want), "{args:?}: no `{want}` in:\n{report}");
    }
    // A header that would break the framing is refused before any call.
    let (success, report) = check(
        &steer,
        &["--message", "steer.here", "--header", "Bad Name: x"],
    );
    assert!(!success, "{report}");
    assert!(report.contains("--header: "), "{report}");
}

/// The generated transform, loaded by a broker from a tenant file with
/// its subjects configured, sees and passes a published message.
#[tokio::test]
async fn a_generated_transform_carries_messages_in_a_broker() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = new_project(tmp.path(), "c", "transform", "passthrough");
    let wasm = build(&dir, "passthrough");
    let tenant = format!(
        "name = \"acme\"\n[[users]]\nuser = \"acme-user\"\npassword = \"pw\"\n\
         [[plugins]]\nkind = \"transform\"\npath = \"{}\"\nconfig = {{ subjects = \"orders.>\" }}\n",
        wasm.display()
    );
    let tenants = TenantDir::new(&[("acme", &tenant)]);
    let server = common::start_with(with_cache(tenants.config())).await;
    let client = user(&server, "acme-user", "pw").await;
    let mut orders = client.subscribe("orders.>").await.expect("sub");
    client.flush().await.expect("flush");
    client
        .publish("orders.new", "one order".into())
        .await
        .expect("pub");
    let msg = next_msg(&mut orders).await;
    assert_eq!(msg.subject.as_str(), "orders.new");
    assert_eq!(msg.payload, "one order".as_bytes());
    let stats = server
        .plugin_stats(Some("acme"), "passthrough")
        .expect("stats");
    eventually("the plugin saw the message", || {
        stats.messages.load(Ordering::Relaxed) == 1
    })
    .await;
    assert_eq!(stats.errors.load(Ordering::Relaxed), 0);
}

/// The generated auth plugin, listed in the server file as its README
/// says, lets in the client with the configured token and no other.
#[tokio::test]
async fn a_generated_auth_plugin_admits_its_token_in_a_broker() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = new_project(tmp.path(), "c", "auth", "gate");
    let wasm = build(&dir, "gate");
    let tenants = TenantDir::new(&[("demo", "name = \"demo\"\n")]);
    let mut config = with_cache(tenants.config());
    let toml = format!(
        "[[auth_plugins]]\nkind = \"auth\"\npath = \"{}\"\ntenants = [\"demo\"]\n\
         config = {{ token = \"s3cret\", tenant = \"demo\" }}\n",
        wasm.display()
    );
    let extra: switchyard::ServerConfig = toml::from_str(&toml).expect("config");
    config.auth_plugins = extra.auth_plugins;
    let server = common::start_with(config).await;

    let client = async_nats::ConnectOptions::with_token("s3cret".into())
        .connect(server.client_url())
        .await
        .expect("the configured token is accepted");
    let mut hello = client.subscribe("hello").await.expect("sub");
    client.publish("hello", "hi".into()).await.expect("pub");
    assert_eq!(next_msg(&mut hello).await.payload, "hi".as_bytes());
    eventually("bound to demo", || server.tenant_connections("demo") == 1).await;

    let refused = async_nats::ConnectOptions::with_token("guess".into())
        .max_reconnects(Some(1))
        .connect(server.client_url())
        .await;
    assert!(refused.is_err(), "another token must be refused");
}

#[test]
fn bad_names_and_non_empty_directories_are_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for (lang, name, why) in [
        ("c", "My.Plugin", "use 1 to 64 lowercase ASCII letters"),
        ("js", "9lives", "starting with a letter"),
        ("rust", "fn", "reserved in Rust"),
    ] {
        let out = switchyard()
            .args(["plugin", "new", "--lang", lang, name])
            .current_dir(tmp.path())
            .output()
            .expect("run switchyard plugin new");
        assert!(!out.status.success(), "{name} was accepted");
        assert!(
            text(&out).contains(why),
            "{name}: no `{why}` in:\n{}",
            text(&out)
        );
    }
    assert_eq!(
        std::fs::read_dir(tmp.path()).expect("read").count(),
        0,
        "a refused name wrote files"
    );

    let taken = tmp.path().join("taken");
    std::fs::create_dir(&taken).expect("mkdir");
    std::fs::write(taken.join("keep.txt"), "mine").expect("write");
    let out = switchyard()
        .args(["plugin", "new", "--lang", "c", "taken", "--sdk-root"])
        .arg(root())
        .current_dir(tmp.path())
        .output()
        .expect("run switchyard plugin new");
    assert!(!out.status.success(), "a non-empty directory was written");
    assert!(
        text(&out).contains("exists and is not empty"),
        "{}",
        text(&out)
    );
    assert_eq!(
        std::fs::read_dir(&taken).expect("read").count(),
        1,
        "files were added to a non-empty directory"
    );

    // An empty directory is fine, and the project names this checkout.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    let out = switchyard()
        .args([
            "plugin", "new", "--lang", "rust", "--world", "routing", "ok_name",
        ])
        .arg("--dir")
        .arg(&empty)
        .current_dir(root())
        .output()
        .expect("run switchyard plugin new");
    assert!(out.status.success(), "{}", text(&out));
    let cargo = std::fs::read_to_string(empty.join("Cargo.toml")).expect("Cargo.toml");
    let sdk = root().canonicalize().expect("root").join("plugins/sdk");
    assert!(
        cargo.contains(&format!("path = \"{}\"", sdk.display())),
        "{cargo}"
    );
    let lib = std::fs::read_to_string(empty.join("src/lib.rs")).expect("lib.rs");
    assert!(lib.contains("impl Route for OkName"), "{lib}");
}
