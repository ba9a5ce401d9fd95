//! The example and hostile plugins, built once per test binary from the
//! `plugins/` workspace, and tenant files that use them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use switchyard::ServerConfig;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Builds the plugins workspace (a no-op when up to date) and returns the
/// directory of the `.wasm` components. Panics with the command to run
/// when the toolchain for `wasm32-wasip2` is missing.
pub fn wasm_dir() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let manifest = root().join("plugins/Cargo.toml");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let output = Command::new(cargo)
            .args([
                "build",
                "--release",
                "--quiet",
                "--target",
                "wasm32-wasip2",
                "--manifest-path",
            ])
            .arg(&manifest)
            // The outer `cargo test` sets variables meant for the host build.
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .output()
            .expect("run cargo to build the plugins");
        assert!(
            output.status.success(),
            "building the plugins failed; run ./scripts/build-plugins.sh (it installs the \
             wasm32-wasip2 target with `rustup target add wasm32-wasip2`):\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        root().join("plugins/target/wasm32-wasip2/release")
    })
}

/// The path of one built plugin, e.g. `wasm("redact_json")`.
pub fn wasm(name: &str) -> String {
    let path = wasm_dir().join(format!("{name}.wasm"));
    assert!(path.is_file(), "{} was not built", path.display());
    path.display().to_string()
}

/// A compiled-plugin cache shared by the test binaries of one build, so a
/// component compiles once per test run rather than once per test.
pub fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("plugin-cache")
}

/// `config` with the shared plugin cache.
pub fn with_cache(config: ServerConfig) -> ServerConfig {
    ServerConfig {
        plugin_cache_dir: Some(cache_dir()),
        ..config
    }
}

/// The lowercase hex SHA-256 of `key`: how the example auth plugins'
/// configuration names an API key without holding it.
pub fn sha256_hex(key: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
