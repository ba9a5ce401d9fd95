//! `switchyard bench connect` against an in-process broker: a password user
//! from the example tenants, and a `.creds` user of an operator-mode server.

use crate::common;

use nkeys::KeyPair;
use std::path::{Path, PathBuf};
use switchyard::ServerConfig;
use switchyard::auth::jwt::{AccountClaims, OperatorClaims, UserClaims, encode, format_creds};
use switchyard::bench::{BenchReport, Mode};

const CONNECTIONS: u64 = 60;

use common::bench;

/// Checks that every connection was made and measured, and returns the
/// report's JSON for any further checks.
fn assert_complete(report: &BenchReport) -> serde_json::Value {
    assert_eq!(report.mode, Mode::Connect);
    let r = report.requests.as_ref().expect("connect stats");
    assert_eq!(r.count, CONNECTIONS);
    assert_eq!(r.latency.count as u64, CONNECTIONS);
    assert!(r.latency.p50 <= r.latency.p99 && r.latency.p99 <= r.latency.max);
    let json = report.to_json();
    assert_eq!(json["mode"], "connect");
    assert_eq!(json["req"]["count"], CONNECTIONS);
    assert!(json["msgs_per_sec"].as_f64().unwrap_or(0.0) > 0.0, "{json}");
    assert!(
        report.to_string().contains("conn/s"),
        "text report: {report}"
    );
    json
}

/// The example tenants, whose plugins must be built first.
fn example_tenants() -> ServerConfig {
    common::plugins::wasm_dir();
    common::plugins::with_cache(ServerConfig {
        tenants: Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("tenants")),
        ..ServerConfig::default()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_user_connections_are_counted_exactly() {
    let server = common::start_with(example_tenants()).await;
    let url = server.client_url();
    let n = CONNECTIONS.to_string();
    let argv = [
        "connect",
        "--url",
        &url,
        "--msgs",
        &n,
        "--pubs",
        "4",
        "--user",
        "alice",
        "--password",
        "alice-demo-pass",
    ];
    let report = bench(&argv).await.expect("bench runs");
    assert_eq!(report.pubs, 4);
    assert_complete(&report);
    assert_eq!(server.stats().total_connections, CONNECTIONS);

    let argv = [
        "connect",
        "--url",
        &url,
        "--msgs",
        "5",
        "--user",
        "alice",
        "--password",
        "wrong",
    ];
    let err = bench(&argv).await.expect_err("a wrong password fails");
    assert!(
        err.to_string().contains("'Authorization Violation'"),
        "{err}"
    );
}

/// An operator with one account, as `nsc` would lay it out.
struct Operator {
    dir: tempfile::TempDir,
    operator: KeyPair,
    account: KeyPair,
}

impl Operator {
    fn new() -> Operator {
        let o = Operator {
            dir: tempfile::tempdir().expect("temp dir"),
            operator: KeyPair::new_operator(),
            account: KeyPair::new_account(),
        };
        let sys = KeyPair::new_account();
        let mut op = OperatorClaims::new(o.operator.public_key());
        op.nats.system_account = sys.public_key();
        o.write("operator.jwt", &encode(&op, &o.operator).expect("jwt"));
        for (name, key) in [("SYS", &sys), ("APP", &o.account)] {
            let jwt = encode(&AccountClaims::new(key.public_key()), &o.operator).expect("jwt");
            o.write(&format!("accounts/{name}/account.jwt"), &jwt);
        }
        o
    }

    fn write(&self, name: &str, text: &str) {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    /// A `.creds` file for a new user signed by `account`.
    fn creds(&self, name: &str, account: &KeyPair) -> PathBuf {
        let user = KeyPair::new_user();
        let jwt = encode(&UserClaims::new(user.public_key()), account).expect("user jwt");
        let seed = user.seed().expect("seed");
        self.write(name, &format_creds(&jwt, &seed).expect("creds"));
        self.dir.path().join(name)
    }

    fn config(&self) -> ServerConfig {
        ServerConfig {
            operator_dir: Some(self.dir.path().to_path_buf()),
            ..ServerConfig::default()
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creds_user_signs_every_nonce() {
    let op = Operator::new();
    let server = common::start_with(op.config()).await;
    let url = server.client_url();
    let n = CONNECTIONS.to_string();
    let good = op.creds("app.creds", &op.account);
    let creds = good.to_str().expect("utf8 path");
    let argv = [
        "connect", "--url", &url, "--msgs", &n, "--pubs", "3", "--creds", creds,
    ];
    assert_complete(&bench(&argv).await.expect("bench runs"));
    assert_eq!(server.stats().total_connections, CONNECTIONS);

    // --creds works in the message modes too.
    let argv = ["pubsub", "--url", &url, "--msgs", "1000", "--creds", creds];
    let report = bench(&argv).await.expect("pubsub with --creds runs");
    assert_eq!(report.delivered, 1000);

    let stranger = op.creds("stranger.creds", &KeyPair::new_account());
    let argv = [
        "connect",
        "--url",
        &url,
        "--msgs",
        "5",
        "--creds",
        stranger.to_str().expect("utf8 path"),
    ];
    let err = bench(&argv).await.expect_err("an unsigned account fails");
    assert!(
        err.to_string().contains("'Authorization Violation'"),
        "{err}"
    );
}
