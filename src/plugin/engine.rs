//! The one wasmtime `Engine` of a server, and loading components through
//! it: compiled once per distinct file content, and precompiled to a disk
//! cache so a restart does not compile again.
//!
//! A background thread (`ticker`) advances the engine's epoch every
//! millisecond while plugin code runs; each call sets its deadline in
//! epochs and checks, when it passes, how much CPU time the call really
//! used (`budget`), so a guest that loops traps within a millisecond of
//! CPU time past its budget without any cost per instruction beyond
//! wasmtime's epoch check, and a descheduled one is not failed.

use super::error::LoadError;
use super::kv::TenantKv;
use super::ticker::EpochTicker;
use crate::config::PluginOutputConfig;
use parking_lot::Mutex;
use rustc_hash::FxHashMap;
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use wasmtime::component::Component;
use wasmtime::{Config, Engine};

pub use super::ticker::EPOCH_TICK;

pub struct PluginRuntime {
    engine: Engine,
    /// Compiled components by the SHA-256 of their file, so a reload that
    /// keeps a file, or two tenants that use the same one, compile once.
    components: Mutex<FxHashMap<[u8; 32], Component>>,
    /// Key-value stores by tenant name; they outlive reloads, so a rate
    /// limiter keeps counting across a SIGHUP.
    stores: Mutex<FxHashMap<String, Arc<TenantKv>>>,
    cache_dir: Option<PathBuf>,
    ticker: Arc<EpochTicker>,
    /// What becomes of the guests' stdout and stderr.
    guest_output: PluginOutputConfig,
}

impl PluginRuntime {
    /// `cache_dir`: where precompiled components are kept; `None` compiles
    /// in memory only.
    pub fn new(cache_dir: Option<PathBuf>) -> Result<Arc<PluginRuntime>, String> {
        PluginRuntime::with_guest_output(cache_dir, PluginOutputConfig::default())
    }

    /// As `new`, with the server's `[plugin_output]` settings.
    pub fn with_guest_output(
        cache_dir: Option<PathBuf>,
        guest_output: PluginOutputConfig,
    ) -> Result<Arc<PluginRuntime>, String> {
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .concurrency_support(false)
            .epoch_interruption(true);
        let engine = Engine::new(&config).map_err(|e| e.to_string())?;
        let ticker = EpochTicker::start(engine.clone()).map_err(|e| e.to_string())?;
        Ok(Arc::new(PluginRuntime {
            engine,
            components: Mutex::default(),
            stores: Mutex::default(),
            cache_dir,
            ticker: Arc::new(ticker),
            guest_output,
        }))
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn guest_output(&self) -> &PluginOutputConfig {
        &self.guest_output
    }

    /// Every call into a guest holds `ticker().enter()` while it runs.
    pub fn ticker(&self) -> &Arc<EpochTicker> {
        &self.ticker
    }

    /// The key-value store of `tenant`, created on first use.
    pub fn kv(&self, tenant: &str) -> Arc<TenantKv> {
        self.stores
            .lock()
            .entry(tenant.to_string())
            .or_default()
            .clone()
    }

    /// Reads and compiles the component at `path` (or takes it from the
    /// caches).
    pub fn load(&self, path: &Path) -> Result<Component, LoadError> {
        self.load_with_digest(path).map(|(component, _)| component)
    }

    /// As `load`, with the SHA-256 of the file it read: what tells a
    /// reload that a plugin's code changed.
    pub fn load_with_digest(&self, path: &Path) -> Result<(Component, [u8; 32]), LoadError> {
        let bytes = std::fs::read(path).map_err(|source| LoadError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let digest: [u8; 32] = Sha256::digest(&bytes).into();
        if let Some(component) = self.components.lock().get(&digest) {
            return Ok((component.clone(), digest));
        }
        let component = self.compile(path, &bytes, &digest)?;
        self.components.lock().insert(digest, component.clone());
        Ok((component, digest))
    }

    fn compile(
        &self,
        path: &Path,
        bytes: &[u8],
        digest: &[u8; 32],
    ) -> Result<Component, LoadError> {
        let cached = self.cache_path(digest);
        if let Some(file) = &cached
            && let Some(component) = self.deserialize(file)
        {
            return Ok(component);
        }
        let compile_error = |e: wasmtime::Error| LoadError::Compile {
            path: path.to_path_buf(),
            reason: format!("{e:#}"),
        };
        let Some(file) = cached else {
            return Component::new(&self.engine, bytes).map_err(compile_error);
        };
        let artifact = self
            .engine
            .precompile_component(bytes)
            .map_err(compile_error)?;
        if let Err(e) = write_cache(&file, &artifact) {
            tracing::warn!(path = %file.display(), "cannot write the plugin cache: {e}");
        }
        // SAFETY (of deserialize): the bytes were produced just now by this
        // engine's `precompile_component`.
        self.deserialize_bytes(&artifact)
            .ok_or_else(|| LoadError::Compile {
                path: path.to_path_buf(),
                reason: "the precompiled component did not load".into(),
            })
    }

    /// The cache file for a component: its content hash and the engine's
    /// compatibility hash (wasmtime version and settings), so a changed
    /// engine never loads an incompatible artifact.
    fn cache_path(&self, digest: &[u8; 32]) -> Option<PathBuf> {
        let dir = self.cache_dir.as_ref()?;
        let mut hasher = rustc_hash::FxHasher::default();
        self.engine
            .precompile_compatibility_hash()
            .hash(&mut hasher);
        let name = format!(
            "{}-{:016x}.cwasm",
            data_encoding::HEXLOWER.encode(digest),
            hasher.finish()
        );
        Some(dir.join(name))
    }

    #[allow(unsafe_code)]
    fn deserialize(&self, file: &Path) -> Option<Component> {
        if !file.is_file() {
            return None;
        }
        // SAFETY: wasmtime trusts a precompiled artifact to be its own
        // output. The cache directory is the broker's own (created 0700),
        // and files are named by the content hash of the source component
        // and the engine's compatibility hash; wasmtime additionally checks
        // the artifact's header against this engine and refuses a mismatch.
        match unsafe { Component::deserialize_file(&self.engine, file) } {
            Ok(component) => Some(component),
            Err(e) => {
                tracing::warn!(path = %file.display(), "ignoring a bad plugin cache entry: {e}");
                None
            }
        }
    }

    #[allow(unsafe_code)]
    fn deserialize_bytes(&self, artifact: &[u8]) -> Option<Component> {
        // SAFETY: `artifact` comes from this engine's `precompile_component`
        // in the same process, never from outside.
        unsafe { Component::deserialize(&self.engine, artifact) }.ok()
    }
}

impl Drop for PluginRuntime {
    fn drop(&mut self) {
        self.ticker.stop();
    }
}

fn write_cache(file: &Path, artifact: &[u8]) -> std::io::Result<()> {
    let dir = file.parent().unwrap_or(Path::new("."));
    create_private_dir(dir)?;
    let tmp = file.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, artifact)?;
    std::fs::rename(&tmp, file)
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// The default cache directory: `$XDG_CACHE_HOME/switchyard/plugins`, or
/// `~/.cache/switchyard/plugins`.
pub fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("switchyard").join("plugins"))
}

/// The server's runtime, made on first need: a server without plugins
/// never starts the epoch thread or builds an engine.
pub struct RuntimeSlot {
    cache_dir: Option<PathBuf>,
    guest_output: PluginOutputConfig,
    runtime: Mutex<Option<Arc<PluginRuntime>>>,
}

impl RuntimeSlot {
    pub fn new(cache_dir: Option<PathBuf>, guest_output: PluginOutputConfig) -> RuntimeSlot {
        RuntimeSlot {
            cache_dir: cache_dir.or_else(default_cache_dir),
            guest_output,
            runtime: Mutex::new(None),
        }
    }

    pub fn get(&self) -> Result<Arc<PluginRuntime>, String> {
        let mut slot = self.runtime.lock();
        if let Some(runtime) = &*slot {
            return Ok(runtime.clone());
        }
        let runtime = PluginRuntime::with_guest_output(self.cache_dir.clone(), self.guest_output)?;
        *slot = Some(runtime.clone());
        Ok(runtime)
    }

    /// The runtime, if one was made.
    pub fn existing(&self) -> Option<Arc<PluginRuntime>> {
        self.runtime.lock().clone()
    }
}
