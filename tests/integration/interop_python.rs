//! A `.creds` file works with an unmodified Python client (nats-py's
//! `user_credentials=`). `scripts/test.sh` installs nats-py into `.venv`.

use crate::common;

use common::operator::Operator;
use std::path::PathBuf;
use std::process::Command;

/// The Python with nats-py: `SWITCHYARD_PYTHON`, else the project's `.venv`.
fn python() -> Option<PathBuf> {
    let candidate = std::env::var_os("SWITCHYARD_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"));
    let has_nats = Command::new(&candidate)
        .args(["-c", "import nats, nkeys"])
        .output()
        .is_ok_and(|o| o.status.success());
    has_nats.then_some(candidate)
}

#[tokio::test]
async fn nats_py_logs_in_with_our_creds() {
    let Some(python) = python() else {
        // Only where pip cannot install it; scripts/test.sh installs it and
        // sets SWITCHYARD_REQUIRE_PYTHON so a missing client fails there.
        assert!(
            std::env::var_os("SWITCHYARD_REQUIRE_PYTHON").is_none(),
            "nats-py is required but not importable"
        );
        eprintln!(
            "skipping: nats-py not installed (run ./scripts/test.sh, which installs it into .venv)"
        );
        return;
    };
    let op = Operator::new();
    let server = common::start_with(op.config()).await;
    let (user, jwt) = op.user(&op.app, |u| u.data.name = "py".into());
    let creds = op.creds("py", &user, &jwt);
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/creds_roundtrip.py");
    let url = server.client_url();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .arg(url)
            .arg(creds)
            .output()
    })
    .await
    .expect("join")
    .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "nats-py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.trim(), "ok interop.py from nats-py");
}
