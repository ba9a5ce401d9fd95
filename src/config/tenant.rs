//! The tenant file: one TOML file per tenant (a NATS account), with its
//! users, permissions, limits, exports, imports and subject mappings.
//!
//! These are plain serde types; `config::tenants` validates a whole set of
//! them together (cross-tenant rules need all files at once).

use serde::Deserialize;
use std::time::Duration;

use super::duration;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TenantFile {
    /// Tenant (account) name; unique across the server.
    pub name: String,
    #[serde(default)]
    pub users: Vec<UserEntry>,
    /// Permissions for users that do not define their own.
    #[serde(default)]
    pub default_permissions: Option<Permissions>,
    #[serde(default)]
    pub limits: TenantLimits,
    #[serde(default)]
    pub exports: Vec<ExportEntry>,
    #[serde(default)]
    pub imports: Vec<ImportEntry>,
    #[serde(default)]
    pub mappings: Vec<MappingEntry>,
    /// WebAssembly message plugins (transforms and routing policies).
    #[serde(default)]
    pub plugins: Vec<PluginEntry>,
    /// Where the tenant was defined; never read from a file.
    #[serde(skip)]
    pub source: TenantSource,
}

/// Where a tenant comes from: a tenant file, or an operator's account JWT
/// (whose limits may be 0, meaning none, as in nats-server).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TenantSource {
    #[default]
    File,
    AccountJwt,
}

/// One WebAssembly plugin of a tenant, or (for auth plugins) of the server.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PluginEntry {
    /// Name used in logs and metrics; defaults to the file name without
    /// `.wasm`. Unique within the tenant.
    pub name: Option<String>,
    /// `transform` or `routing` in tenant files (`auth` in the server file).
    pub kind: PluginKind,
    /// The component (`.wasm`); relative paths are relative to the file
    /// that names it.
    pub path: std::path::PathBuf,
    /// Narrows the subjects the plugin registered (every subject here must
    /// be one the plugin registered for, or inside one). Omitted: the
    /// plugin's own registration.
    pub subjects: Option<Vec<String>>,
    /// Values the plugin reads with `host.config-get`.
    #[serde(default)]
    pub config: std::collections::BTreeMap<String, String>,
    /// What a message (or login) gets when the plugin fails: `fail-closed`
    /// (the default: drop the message, refuse the login) or `fail-open`
    /// (deliver the message as published).
    pub failure_policy: Option<FailurePolicy>,
    /// CPU-time budget for one call, counted on the calling thread's CPU
    /// clock (default 10ms; auth 100ms).
    #[serde(default, with = "duration::serde_opt")]
    pub timeout: Option<Duration>,
    /// Linear memory cap per instance, in MiB (default 16).
    pub max_memory_mb: Option<u32>,
    /// Auth plugins only: the tenants this plugin may bind users to.
    #[serde(default)]
    pub tenants: Vec<String>,
}

impl PluginEntry {
    /// The name the plugin goes by: `name`, else the file name without
    /// its extension.
    pub fn display_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            self.path.file_stem().map_or_else(
                || "plugin".to_string(),
                |s| s.to_string_lossy().into_owned(),
            )
        })
    }
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PluginKind {
    #[default]
    Transform,
    Routing,
    Auth,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum FailurePolicy {
    #[default]
    FailClosed,
    FailOpen,
}

/// One user. Exactly one of `password` (with `user`), `token` or `nkey`
/// identifies it.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UserEntry {
    /// User name; required with `password`, optional label otherwise.
    pub user: Option<String>,
    /// Plain text, or a bcrypt hash (`$2a$`, `$2b$`, `$2y$`).
    pub password: Option<String>,
    /// Plain text, or a bcrypt hash.
    pub token: Option<String>,
    /// A user nkey public key (`U...`); the client signs the server nonce.
    pub nkey: Option<String>,
    pub permissions: Option<Permissions>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Permissions {
    pub publish: Option<SubjectRules>,
    /// Entries may be `"subject"` or `"subject queue"` (queue-scoped).
    pub subscribe: Option<SubjectRules>,
    pub allow_responses: Option<AllowResponses>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SubjectRules {
    #[serde(default)]
    pub allow: Vec<String>,
    #[serde(default)]
    pub deny: Vec<String>,
}

/// `allow_responses = true` (max 1 within 2m) or `{ max = N, ttl = "5s" }`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum AllowResponses {
    Enabled(bool),
    Limits(ResponseLimits),
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ResponseLimits {
    #[serde(default = "one")]
    pub max: u32,
    #[serde(default = "two_minutes", with = "duration::serde_str")]
    pub ttl: Duration,
}

fn one() -> u32 {
    1
}

fn two_minutes() -> Duration {
    Duration::from_secs(120)
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TenantLimits {
    /// Connections for the whole tenant at once.
    pub max_connections: Option<usize>,
    /// Subscriptions per connection.
    pub max_subscriptions: Option<usize>,
    /// Largest payload per message, per connection (the smaller of this and the server's).
    pub max_payload: Option<usize>,
    /// Memory the tenant's subscriptions may take in the broker, in bytes,
    /// counted as an upper bound per subscription (`subject::footprint`);
    /// default 256 MiB. Past it a SUB gets `-ERR 'maximum subscriptions
    /// exceeded'`.
    pub max_subscription_bytes: Option<usize>,
}

/// `stream = "subj"` or `service = "subj"`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExportEntry {
    pub stream: Option<String>,
    pub service: Option<String>,
    /// Tenants allowed to import; omitted or empty means every tenant.
    #[serde(default)]
    pub accounts: Vec<String>,
    /// Services only: `singleton` (default), `stream` or `chunked`.
    pub response_type: Option<ResponseType>,
    /// Services only: how long a response may take (default 2m).
    #[serde(default, with = "duration::serde_opt")]
    pub response_threshold: Option<Duration>,
    /// A transform plugin of this tenant (by name) that every message
    /// leaving through this export passes: stream messages on their way to
    /// importers, service responses on their way back. Such a plugin runs
    /// only on what crosses, never on the tenant's own traffic.
    pub transform: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ResponseType {
    #[default]
    Singleton,
    Stream,
    Chunked,
}

/// `stream = { account, subject }` with `prefix` or `to`, or
/// `service = { account, subject }` with `to` (the local subject).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ImportEntry {
    pub stream: Option<ImportSource>,
    pub service: Option<ImportSource>,
    pub prefix: Option<String>,
    pub to: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ImportSource {
    pub account: String,
    pub subject: String,
}

/// `source -> destination(s)`; `to = "..."` for one destination, or
/// `destinations = [{ subject, weight }]` for a weighted split.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MappingEntry {
    pub source: String,
    pub to: Option<String>,
    #[serde(default)]
    pub destinations: Vec<WeightedDestination>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WeightedDestination {
    pub subject: String,
    /// Percent, 1-100; the weights of one mapping add up to at most 100
    /// (the rest of the messages keep their subject).
    pub weight: u8,
}
