//! Turning a `PluginEntry` into a ready plugin: compile (or take from the
//! cache), link against the world's imports, pre-instantiate, make one warm
//! instance, and ask a message plugin what it registers.

use super::auth::{AuthPlugin, AuthSource};
use super::batched::{Batched, RouteArg, TransformArg};
use super::bindings::auth::{Auth, AuthPre};
use super::bindings::routing::{Routing, RoutingPre};
use super::bindings::transform::switchyard::plugin::types::Registration;
use super::bindings::transform::{Transform, TransformPre};
use super::engine::PluginRuntime;
use super::error::LoadError;
use super::guest_output::OutputSink;
use super::host::{HostState, PluginContext};
use super::pool::{Instance, PluginPool};
use super::registration::Registered;
use super::routing::RoutingPlugin;
use super::transform::TransformPlugin;
use crate::config::tenant::{PluginEntry, PluginKind};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::{Component, ComponentExportIndex, HasSelf, InstancePre, Linker};
use wasmtime::{Engine, Store};

pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(10);
pub const DEFAULT_AUTH_TIMEOUT: Duration = Duration::from_millis(100);
pub const DEFAULT_MAX_MEMORY_MB: u32 = 16;
/// CPU time a guest's start-up code may take.
const INSTANTIATE_BUDGET: Duration = Duration::from_secs(1);

/// One world of `switchyard:plugin`, as the loader needs it.
pub trait World: Sized + Send + 'static {
    const NAME: &'static str;
    type Pre: Send + Sync + 'static;
    fn link(linker: &mut Linker<HostState>) -> wasmtime::Result<()>;
    fn prepare(pre: InstancePre<HostState>) -> wasmtime::Result<Self::Pre>;
    fn instantiate(pre: &Self::Pre, store: &mut Store<HostState>) -> wasmtime::Result<Self>;
}

/// Implements `World` for one bindgen world: only the names differ.
macro_rules! world {
    ($world:ident, $pre:ident, $name:literal) => {
        impl World for $world {
            const NAME: &'static str = $name;
            type Pre = $pre<HostState>;
            fn link(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
                $world::add_to_linker::<_, HasSelf<_>>(linker, |s| s)
            }
            fn prepare(pre: InstancePre<HostState>) -> wasmtime::Result<Self::Pre> {
                $pre::new(pre)
            }
            fn instantiate(
                pre: &Self::Pre,
                store: &mut Store<HostState>,
            ) -> wasmtime::Result<Self> {
                pre.instantiate(store)
            }
        }
    };
}

world!(Auth, AuthPre, "auth");

/// Implements `World` for a message world: its bindings plus the batch
/// function of `interface`, type-checked once per instance against the
/// host's argument type `$arg` and result `$ret`.
macro_rules! batched_world {
    ($world:ident, $pre:ident, $name:literal, $interface:literal, $func:literal, $arg:ident, $ret:ty) => {
        impl World for Batched<$world> {
            const NAME: &'static str = $name;
            type Pre = ($pre<HostState>, ComponentExportIndex);
            fn link(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
                $world::add_to_linker::<_, HasSelf<_>>(linker, |s| s)
            }
            fn prepare(pre: InstancePre<HostState>) -> wasmtime::Result<Self::Pre> {
                let name = format!("{}@{WIT_VERSION}", $interface);
                let component = pre.component();
                let func = component
                    .get_export_index(None, &name)
                    .and_then(|i| component.get_export_index(Some(&i), $func))
                    .ok_or_else(|| wasmtime::format_err!("no `{}` in `{name}`", $func))?;
                Ok(($pre::new(pre)?, func))
            }
            fn instantiate(
                pre: &Self::Pre,
                store: &mut Store<HostState>,
            ) -> wasmtime::Result<Self> {
                let instance = pre.0.instance_pre().instantiate(&mut *store)?;
                let world = $world::new(&mut *store, &instance)?;
                let batch = instance
                    .get_func(&mut *store, pre.1)
                    .ok_or_else(|| wasmtime::format_err!("no `{}` export", $func))?;
                batch.typed::<($arg<'_>,), ($ret,)>(&*store)?;
                Ok(Batched { world, batch })
            }
        }
    };
}

batched_world!(
    Transform,
    TransformPre,
    "transform",
    "switchyard:plugin/transformer",
    "transform-batch",
    TransformArg,
    Vec<super::bindings::transform::exports::switchyard::plugin::transformer::Verdict>
);
batched_world!(
    Routing,
    RoutingPre,
    "routing",
    "switchyard:plugin/router",
    "route-batch",
    RouteArg,
    Vec<super::bindings::routing::exports::switchyard::plugin::router::RouteVerdict>
);

/// The version of the `switchyard:plugin` package this broker hosts.
pub const WIT_VERSION: &str = "0.2.0";
const WIT_PACKAGE: &str = "switchyard:plugin/";

/// Refuses a component built against another version of our WIT package,
/// with a message saying how to rebuild it (linking would only report a
/// missing import, which tells a plugin author nothing).
pub fn check_wit_version(
    engine: &Engine,
    path: &Path,
    component: &Component,
) -> Result<(), LoadError> {
    let ty = component.component_type();
    let names = ty
        .imports(engine)
        .map(|(name, _)| name)
        .chain(ty.exports(engine).map(|(name, _)| name));
    for name in names {
        let Some(version) = name
            .strip_prefix(WIT_PACKAGE)
            .and_then(|rest| rest.split_once('@'))
            .map(|(_, version)| version)
        else {
            continue;
        };
        if version != WIT_VERSION {
            return Err(LoadError::OtherWitVersion {
                path: path.to_path_buf(),
                found: version.to_string(),
                hosted: WIT_VERSION,
            });
        }
    }
    Ok(())
}

/// Links `component` against world `W`, or says why it does not fit.
pub fn prepare<W: World>(
    engine: &Engine,
    path: &Path,
    component: &Component,
) -> Result<W::Pre, LoadError> {
    check_wit_version(engine, path, component)?;
    let wrong = |e: wasmtime::Error| LoadError::WrongWorld {
        path: path.to_path_buf(),
        world: W::NAME,
        reason: format!("{e:#}"),
    };
    let mut linker = Linker::<HostState>::new(engine);
    W::link(&mut linker).map_err(wrong)?;
    super::wasi::add_to_linker(&mut linker, component).map_err(wrong)?;
    let pre = linker.instantiate_pre(component).map_err(wrong)?;
    W::prepare(pre).map_err(wrong)
}

/// A pool of `W` instances for one (tenant, plugin), warmed with one
/// instance, and the SHA-256 of the component it runs.
pub fn pool<W: World>(
    runtime: &PluginRuntime,
    entry: &PluginEntry,
    ctx: Arc<PluginContext>,
    default_timeout: Duration,
) -> Result<(PluginPool<W>, [u8; 32]), LoadError> {
    let (component, digest) = runtime.load_with_digest(&entry.path)?;
    let pre = prepare::<W>(runtime.engine(), &entry.path, &component)?;
    let engine = runtime.engine().clone();
    let max_memory = entry.max_memory_mb.unwrap_or(DEFAULT_MAX_MEMORY_MB) as usize * (1 << 20);
    let label = if ctx.tenant.is_empty() {
        ctx.plugin.clone()
    } else {
        format!("{}/{}", ctx.tenant, ctx.plugin)
    };
    let stats = ctx.output.stats().clone();
    let factory = Box::new(move || {
        let mut store = Store::new(&engine, HostState::new(ctx.clone(), max_memory));
        store.limiter(|state| &mut state.memory);
        super::budget::arm(&mut store, |state| &mut state.budget);
        // Instantiation runs the guest's start-up code: bound it too.
        let ticks = store
            .data_mut()
            .budget
            .begin(INSTANTIATE_BUDGET, std::time::Instant::now());
        store.set_epoch_deadline(ticks);
        let bindings = W::instantiate(&pre, &mut store)?;
        Ok(Instance { store, bindings })
    });
    let pool = PluginPool::new(
        label,
        entry.timeout.unwrap_or(default_timeout),
        runtime.ticker().clone(),
        stats,
        factory,
    );
    pool.warm_up().map_err(|e| LoadError::Instantiate {
        path: entry.path.clone(),
        reason: format!("{e:#}"),
    })?;
    Ok((pool, digest))
}

fn context(
    runtime: &PluginRuntime,
    tenant: &str,
    entry: &PluginEntry,
    kv: bool,
) -> Arc<PluginContext> {
    let plugin = entry.display_name();
    let output = OutputSink::new(runtime.guest_output(), tenant, &plugin, Arc::default());
    Arc::new(PluginContext {
        tenant: tenant.to_string(),
        plugin,
        config: entry.config.clone(),
        kv: kv.then(|| runtime.kv(tenant)),
        output,
    })
}

fn register_error(entry: &PluginEntry, e: impl std::fmt::Display) -> LoadError {
    LoadError::Register {
        path: entry.path.clone(),
        reason: e.to_string(),
    }
}

/// CPU time `register` may take at least, whatever the plugin's `timeout`.
/// It is the first call into a fresh instance, once per load: an
/// interpreter's first call touches its whole pre-initialised heap (page
/// faults, counted as the thread's CPU time), and an 18 MB Python component
/// went past the default 10 ms on a loaded machine. Not the data path.
pub const REGISTER_BUDGET: Duration = Duration::from_secs(1);

/// The pool of a message plugin (transform or routing) and what it
/// registered, asked through `register` once the first instance is warm.
fn load_registered<W: World>(
    runtime: &PluginRuntime,
    tenant: &str,
    entry: &PluginEntry,
    register: impl FnOnce(&W, &mut Store<HostState>) -> wasmtime::Result<Registration>,
) -> Result<(PluginPool<W>, Registered), LoadError> {
    let (pool, _) = pool::<W>(
        runtime,
        entry,
        context(runtime, tenant, entry, true),
        DEFAULT_TIMEOUT,
    )?;
    let budget = entry
        .timeout
        .unwrap_or(DEFAULT_TIMEOUT)
        .max(REGISTER_BUDGET);
    let registration = pool
        .call_within(0, budget, register)
        .map_err(|e| register_error(entry, e))?;
    let registered = Registered::new(
        &entry.path,
        registration.subjects,
        registration.wants_headers,
        registration.wants_payload,
        entry.subjects.as_deref(),
    )?;
    Ok((pool, registered))
}

pub fn load_transform(
    runtime: &PluginRuntime,
    tenant: &str,
    entry: &PluginEntry,
) -> Result<TransformPlugin, LoadError> {
    let (pool, registered) =
        load_registered::<Batched<Transform>>(runtime, tenant, entry, |b, store| {
            b.world.switchyard_plugin_transformer().call_register(store)
        })?;
    Ok(TransformPlugin {
        name: entry.display_name(),
        registered,
        policy: entry.failure_policy.unwrap_or_default(),
        pool,
    })
}

pub fn load_routing(
    runtime: &PluginRuntime,
    tenant: &str,
    entry: &PluginEntry,
) -> Result<RoutingPlugin, LoadError> {
    let (pool, registered) =
        load_registered::<Batched<Routing>>(runtime, tenant, entry, |b, store| {
            b.world.switchyard_plugin_router().call_register(store)
        })?;
    Ok(RoutingPlugin {
        name: entry.display_name(),
        registered,
        policy: entry.failure_policy.unwrap_or_default(),
        pool,
    })
}

pub fn load_auth(runtime: &PluginRuntime, entry: &PluginEntry) -> Result<AuthPlugin, LoadError> {
    let (pool, digest) = pool::<Auth>(
        runtime,
        entry,
        context(runtime, "", entry, false),
        DEFAULT_AUTH_TIMEOUT,
    )?;
    Ok(AuthPlugin {
        name: entry.display_name(),
        tenants: entry.tenants.clone(),
        policy: entry.failure_policy.unwrap_or_default(),
        pool,
        source: AuthSource {
            digest,
            entry: entry.clone(),
        },
    })
}

/// A tenant's message plugins, in file order. The publish path walks them
/// as one chain (`next_in_chain`): every transform registered for a
/// message, then every routing policy; transforms named by an export are
/// kept apart, for what crosses that export.
#[derive(Default)]
pub struct TenantPlugins {
    pub transforms: Vec<TransformPlugin>,
    pub routers: Vec<RoutingPlugin>,
    pub export_transforms: Vec<Arc<TransformPlugin>>,
    /// The first tokens of every subject the publish-path plugins
    /// registered, or `None` when one starts with a wildcard. Lets a
    /// message no plugin can want skip the plugin stage with one short
    /// comparison instead of a full match per plugin.
    first_tokens: Option<Vec<FirstToken>>,
}

/// A subject's first token, compared as two integers (its length and up
/// to 8 leading bytes) before any byte-wise comparison: this runs once per
/// published message, and a call to `memcmp` for a few bytes showed in
/// profiles.
struct FirstToken {
    len: usize,
    head: u64,
    bytes: Box<[u8]>,
}

impl FirstToken {
    fn key(token: &[u8]) -> (usize, u64) {
        let mut head = [0u8; 8];
        let n = token.len().min(8);
        head[..n].copy_from_slice(&token[..n]);
        (token.len(), u64::from_le_bytes(head))
    }

    fn new(token: &[u8]) -> FirstToken {
        let (len, head) = FirstToken::key(token);
        FirstToken {
            len,
            head,
            bytes: token.into(),
        }
    }

    /// Whether `subject`'s first token is this one, without scanning the
    /// subject for its first dot.
    #[inline]
    fn starts(&self, subject: &[u8]) -> bool {
        let n = self.len;
        if subject.len() < n || (subject.len() > n && subject[n] != b'.') {
            return false;
        }
        if n > 8 {
            return subject[..n] == *self.bytes;
        }
        let head = match subject.first_chunk::<8>() {
            // Mask off what follows the token.
            Some(chunk) => u64::from_le_bytes(*chunk) & mask(n),
            None => FirstToken::key(&subject[..n]).1,
        };
        head == self.head
    }
}

/// The low `n` bytes (n <= 8) of a little-endian u64.
#[inline]
fn mask(n: usize) -> u64 {
    if n >= 8 {
        u64::MAX
    } else {
        (1u64 << (8 * n)) - 1
    }
}

impl TenantPlugins {
    /// Loads `entries`; the transforms named in `for_exports` go to
    /// `export_transforms` instead of the publish path.
    pub fn load(
        runtime: &PluginRuntime,
        tenant: &str,
        entries: &[PluginEntry],
        for_exports: &[&str],
    ) -> Result<TenantPlugins, LoadError> {
        let mut plugins = TenantPlugins::default();
        for entry in entries {
            match entry.kind {
                PluginKind::Transform if for_exports.contains(&entry.display_name().as_str()) => {
                    let plugin = load_transform(runtime, tenant, entry)?;
                    plugins.export_transforms.push(Arc::new(plugin));
                }
                PluginKind::Transform => plugins
                    .transforms
                    .push(load_transform(runtime, tenant, entry)?),
                PluginKind::Routing => plugins.routers.push(load_routing(runtime, tenant, entry)?),
                PluginKind::Auth => {
                    return Err(LoadError::WrongWorld {
                        path: entry.path.clone(),
                        world: "transform or routing",
                        reason: "auth plugins are configured in the server file, not a tenant file"
                            .into(),
                    });
                }
            }
        }
        plugins.first_tokens = first_tokens(
            plugins
                .transforms
                .iter()
                .map(|t| &t.registered)
                .chain(plugins.routers.iter().map(|r| &r.registered)),
        );
        Ok(plugins)
    }

    /// False when no transform or routing policy can be registered for
    /// `subject`; true means "look closer" (`next_in_chain`).
    #[inline]
    pub fn may_match(&self, subject: &[u8]) -> bool {
        let Some(firsts) = &self.first_tokens else {
            return true;
        };
        firsts.iter().any(|t| t.starts(subject))
    }

    /// How many plugins the publish chain has: the transforms, then the
    /// routing policies, each in file order.
    pub fn chain_len(&self) -> usize {
        self.transforms.len() + self.routers.len()
    }

    /// The plugin at chain position `at`.
    pub fn chain_at(&self, at: usize) -> Option<ChainPlugin<'_>> {
        match self.transforms.get(at) {
            Some(t) => Some(ChainPlugin::Transform(t)),
            None => self
                .routers
                .get(at - self.transforms.len())
                .map(ChainPlugin::Route),
        }
    }

    /// The first chain position at or after `from` whose plugin registered
    /// `subject`: where a message that has been through the chain up to
    /// `from` goes next (`None`: out of the chain, to delivery).
    pub fn next_in_chain(&self, from: usize, subject: &[u8]) -> Option<usize> {
        let n = self.transforms.len();
        if let Some(rest) = self.transforms.get(from..)
            && let Some(i) = rest.iter().position(|t| t.registered.matches(subject))
        {
            return Some(from + i);
        }
        let skip = from.saturating_sub(n);
        let rest = self.routers.get(skip..)?;
        rest.iter()
            .position(|r| r.registered.matches(subject))
            .map(|i| n + skip + i)
    }

    /// The transform an export names.
    pub fn export_transform(&self, name: &str) -> Option<Arc<TransformPlugin>> {
        self.export_transforms
            .iter()
            .find(|t| t.name == name)
            .cloned()
    }
}

/// One plugin of a tenant's publish chain.
#[derive(Clone, Copy)]
pub enum ChainPlugin<'a> {
    Transform(&'a TransformPlugin),
    Route(&'a RoutingPlugin),
}

/// The distinct first tokens of the registered subjects; `None` if any
/// starts with `*` or `>`.
fn first_tokens<'a>(registered: impl Iterator<Item = &'a Registered>) -> Option<Vec<FirstToken>> {
    let mut firsts: Vec<FirstToken> = Vec::new();
    for subject in registered.flat_map(|r| &r.subjects) {
        let first = subject.split('.').next().unwrap_or_default().as_bytes();
        if first == b"*" || first == b">" {
            return None;
        }
        if !firsts.iter().any(|t| *t.bytes == *first) {
            firsts.push(FirstToken::new(first));
        }
    }
    Some(firsts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registered(subjects: &[&str]) -> Registered {
        Registered {
            subjects: subjects.iter().map(|s| s.to_string()).collect(),
            wants_headers: false,
            wants_payload: false,
        }
    }

    #[test]
    fn the_first_token_filter_never_hides_a_registered_subject() {
        let regs = [
            registered(&["orders.>", "billing.*.eu"]),
            registered(&["orders.x", "telemetry_long_name.>"]),
        ];
        let plugins = TenantPlugins {
            first_tokens: first_tokens(regs.iter()),
            ..TenantPlugins::default()
        };
        for subject in [
            "orders",
            "orders.new",
            "billing.a.eu",
            "billing",
            "telemetry_long_name.x",
        ] {
            assert!(plugins.may_match(subject.as_bytes()), "{subject}");
        }
        for subject in [
            "order.new",
            "ordersx.new",
            "bench.x",
            "x",
            "telemetry_long_namf.x",
            "telemetry_long_name2",
        ] {
            assert!(!plugins.may_match(subject.as_bytes()), "{subject}");
        }
        let wild = [registered(&["a.b"]), registered(&["*.orders"])];
        let plugins = TenantPlugins {
            first_tokens: first_tokens(wild.iter()),
            ..TenantPlugins::default()
        };
        assert!(plugins.may_match(b"anything.at.all"));
    }
}
