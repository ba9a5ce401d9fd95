//! Who may connect and where they land: `authorization`, `accounts`
//! (users, permissions, exports, imports, mappings), `no_auth_user`,
//! `system_account` and top-level `mappings`, turned into tenants.
//!
//! nats-server account names may start with `$` (`$SYS`, `$G`); tenant
//! names may not, so the `$` is dropped (`$SYS` is the tenant `SYS`), with
//! a note. Users of `authorization` belong to nats-server's global account
//! `$G`, here the tenant `G`.

use super::NatsTranslation;
use super::read::Issues;
use crate::config::Authorization;
use crate::config::natsconf::{Entry, Kind, Map, Pos, Value};
use crate::config::tenant::{
    AllowResponses, ExportEntry, ImportEntry, ImportSource, MappingEntry, Permissions,
    ResponseLimits, ResponseType, SubjectRules, TenantFile, UserEntry, WeightedDestination,
};
use std::path::PathBuf;
use std::time::Duration;

/// The tenant that stands for nats-server's global account `$G`.
const GLOBAL: &str = "G";

/// The name of the user that clients without credentials become when only
/// the global account's mappings call for a tenant (see `apply`).
const ANONYMOUS: &str = "anonymous";

/// One field per key of nats-server's `authorization` block.
#[derive(Default)]
pub(super) struct AuthSettings {
    user: Option<String>,
    password: Option<String>,
    token: Option<String>,
    users: Vec<UserEntry>,
    default_permissions: Option<Permissions>,
    timeout: Option<Duration>,
    accounts: Vec<(Pos, TenantFile)>,
    no_auth_user: Option<String>,
    system_account: Option<(Pos, String)>,
    mappings: Vec<MappingEntry>,
    operator: Option<(Pos, String)>,
    resolver: Option<(Pos, String)>,
    preload: Vec<String>,
}

impl AuthSettings {
    /// Takes `entry` if it is about authentication or accounts.
    pub fn take(&mut self, key: &str, entry: &Entry, issues: &mut Issues) -> bool {
        let v = &entry.value;
        let path = entry.key.as_str();
        match key {
            "authorization" => self.authorization(v, path, issues),
            "accounts" => {
                if let Some(map) = issues.map(v, path) {
                    for account in map.effective() {
                        let p = format!("{path}.{}", account.key);
                        if let Some(t) = tenant(account, &p, issues) {
                            self.accounts.push((account.key_pos.clone(), t));
                        }
                    }
                }
            }
            "no_auth_user" => self.no_auth_user = issues.string(v, path),
            "system_account" => {
                self.system_account = issues.string(v, path).map(|s| (v.pos.clone(), s));
            }
            "mappings" | "maps" => self.mappings = mappings(v, path, issues),
            "operator" | "operators" => {
                let given = issues.strings(v, path);
                match given.as_slice() {
                    [one] => {
                        self.operator = super::operator::jwt_or_file(one)
                            .map_err(|e| issues.error(&v.pos, path, e))
                            .ok()
                            .map(|jwt| (v.pos.clone(), jwt));
                    }
                    _ => issues.error(&v.pos, path, "exactly one operator is supported"),
                }
            }
            "resolver" => match &v.kind {
                Kind::String(r) => self.resolver = Some((v.pos.clone(), r.clone())),
                _ => issues.error(
                    &v.pos,
                    path,
                    "only `resolver: MEMORY` is supported (Switchyard's operator_dir is its directory resolver)",
                ),
            },
            "resolver_preload" => {
                if let Some(map) = issues.map(v, path) {
                    for account in map.effective() {
                        let p = format!("{path}.{}", account.key);
                        self.preload.extend(issues.string(&account.value, &p));
                    }
                }
            }
            "trusted" | "trusted_keys" | "resolver_tls" | "resolver_pinned_accounts" => issues.error(
                &entry.key_pos,
                path,
                "not supported (name the operator JWT with `operator`)",
            ),
            _ => return false,
        }
        true
    }

    fn authorization(&mut self, v: &Value, path: &str, issues: &mut Issues) {
        let Some(map) = issues.map(v, path) else {
            return;
        };
        for entry in map.effective() {
            let p = format!("{path}.{}", entry.key);
            let v = &entry.value;
            match entry.key.to_ascii_lowercase().as_str() {
                "user" | "username" => self.user = issues.string(v, &p),
                "password" | "pass" => self.password = issues.string(v, &p),
                "token" => self.token = issues.string(v, &p),
                "timeout" => self.timeout = issues.duration(v, &p),
                "users" | "nkeys" => {
                    for (m, p) in issues.maps(v, &p) {
                        self.users.extend(user(m, &p, issues));
                    }
                }
                "permissions" | "default_permissions" => {
                    self.default_permissions = permissions(v, &p, issues);
                }
                "auth_callout" => issues.error(
                    &entry.key_pos,
                    &p,
                    "auth callout is not supported (Switchyard's auth plugins replace it)",
                ),
                _ => issues.unknown(entry, &p),
            }
        }
    }

    /// Puts what was collected into the translation: server-wide
    /// credentials when nothing else needs tenants, else tenants.
    pub fn apply(self, out: &mut NatsTranslation, issues: &mut Issues) {
        let c = &mut out.config;
        if let Some(t) = self.timeout {
            c.auth_timeout = t;
        }
        if let Some((pos, jwt)) = self.operator {
            let mixed = !self.accounts.is_empty()
                || !self.users.is_empty()
                || self.user.is_some()
                || self.token.is_some();
            if mixed {
                issues.error(
                    &pos,
                    "operator",
                    "accounts and users come from JWTs in operator mode; remove `accounts` and `authorization` users",
                );
            }
            super::operator::apply(c, pos, jwt, self.resolver, self.preload, issues);
            c.no_auth_user = self.no_auth_user;
            c.system_account = self.system_account.map(|(_, s)| s);
            return;
        }
        if let Some((pos, _)) = &self.resolver {
            issues.error(pos, "resolver", "needs `operator`");
        }
        let simple = self.accounts.is_empty()
            && self.users.is_empty()
            && self.mappings.is_empty()
            && self.no_auth_user.is_none()
            && self.system_account.is_none();
        if simple {
            if self.user.is_some() || self.password.is_some() || self.token.is_some() {
                c.authorization = Some(Authorization {
                    user: self.user,
                    password: self.password,
                    token: self.token,
                });
            }
            return;
        }
        let mut global = TenantFile {
            name: GLOBAL.into(),
            users: self.users,
            default_permissions: self.default_permissions,
            mappings: self.mappings,
            ..empty_tenant()
        };
        if let Some(password) = self.password {
            global.users.push(UserEntry {
                user: self.user,
                password: Some(password),
                ..UserEntry::default()
            });
        }
        if let Some(token) = self.token {
            global.users.push(UserEntry {
                token: Some(token),
                ..UserEntry::default()
            });
        }
        let any_users =
            !global.users.is_empty() || self.accounts.iter().any(|(_, t)| !t.users.is_empty());
        let mut no_auth_user = self.no_auth_user;
        if !global.mappings.is_empty() && !any_users && no_auth_user.is_none() {
            // Without users, nats-server puts every client in `$G`, where
            // these mappings apply; Switchyard's clients without
            // credentials land in no tenant, so give them one through a
            // user no password can name.
            global.users.push(UserEntry {
                user: Some(ANONYMOUS.into()),
                token: Some(random_secret()),
                ..UserEntry::default()
            });
            no_auth_user = Some(ANONYMOUS.into());
            issues.notes.push(format!(
                "clients without credentials are the user `{ANONYMOUS}` of tenant `{GLOBAL}` \
                 (nats-server's global account), where the top-level mappings apply; \
                 INFO says auth_required"
            ));
        }
        let mut tenants: Vec<(PathBuf, TenantFile)> = Vec::new();
        let has_global = !global.users.is_empty()
            || !global.mappings.is_empty()
            || global.default_permissions.is_some();
        if has_global {
            tenants.push((PathBuf::from("authorization"), global));
        }
        let mut system = self
            .system_account
            .map(|(pos, name)| (pos, tenant_name(&name)));
        for (pos, t) in self.accounts {
            if t.name == "SYS" && system.is_none() {
                system = Some((pos.clone(), t.name.clone()));
            }
            if tenants.iter().any(|(_, other)| other.name == t.name) {
                issues.error(
                    &pos,
                    &t.name,
                    "two accounts are the same tenant once `$` is dropped",
                );
            }
            tenants.push((PathBuf::from(pos.to_string()), t));
        }
        c.no_auth_user = no_auth_user;
        c.system_account = system.map(|(_, name)| name);
        c.inline_tenants = tenants;
    }
}

fn empty_tenant() -> TenantFile {
    TenantFile {
        name: String::new(),
        users: Vec::new(),
        default_permissions: None,
        limits: Default::default(),
        exports: Vec::new(),
        imports: Vec::new(),
        mappings: Vec::new(),
        plugins: Vec::new(),
        source: Default::default(),
    }
}

/// 32 random bytes, hex: a token nobody can present.
fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    // A failure leaves zeros plus fastrand; the user is only reachable
    // through no_auth_user either way.
    let _ = getrandom::fill(&mut bytes);
    bytes
        .iter()
        .map(|b| format!("{:02x}", b ^ fastrand::u8(..)))
        .collect()
}

/// An account name as a tenant name: without a leading `$`.
fn tenant_name(account: &str) -> String {
    account.strip_prefix('$').unwrap_or(account).to_string()
}

/// One account block: `users`, `exports`, `imports`, `mappings`,
/// `default_permissions`.
fn tenant(account: &Entry, path: &str, issues: &mut Issues) -> Option<TenantFile> {
    let map = issues.map(&account.value, path)?;
    let mut t = TenantFile {
        name: tenant_name(&account.key),
        ..empty_tenant()
    };
    if t.name != account.key {
        issues.notes.push(format!(
            "{}: account `{}` is the tenant `{}`",
            account.key_pos, account.key, t.name
        ));
    }
    for entry in map.effective() {
        let p = format!("{path}.{}", entry.key);
        let v = &entry.value;
        match entry.key.to_ascii_lowercase().as_str() {
            "users" => {
                for (m, p) in issues.maps(v, &p) {
                    t.users.extend(user(m, &p, issues));
                }
            }
            "exports" => {
                for (m, p) in issues.maps(v, &p) {
                    t.exports.extend(export(m, &p, issues));
                }
            }
            "imports" => {
                for (m, p) in issues.maps(v, &p) {
                    t.imports.extend(import(m, &p, issues));
                }
            }
            "mappings" | "maps" => t.mappings = mappings(v, &p, issues),
            "default_permissions" => t.default_permissions = permissions(v, &p, issues),
            "jetstream" | "js" => issues.ignore(&entry.key_pos, &p, "JetStream is not supported"),
            "nkey" => issues.error(
                &entry.key_pos,
                &p,
                "account nkeys are for operator mode, which a nats-server file cannot set up yet",
            ),
            _ => issues.unknown(entry, &p),
        }
    }
    Some(t)
}

fn user(map: &Map, path: &str, issues: &mut Issues) -> Option<UserEntry> {
    let mut u = UserEntry::default();
    for entry in map.effective() {
        let p = format!("{path}.{}", entry.key);
        let v = &entry.value;
        match entry.key.to_ascii_lowercase().as_str() {
            "user" | "username" => u.user = issues.string(v, &p),
            "password" | "pass" => u.password = issues.string(v, &p),
            "nkey" => u.nkey = issues.string(v, &p),
            "permissions" => u.permissions = permissions(v, &p, issues),
            "allowed_connection_types" | "connection_types" => issues.ignore(
                &entry.key_pos,
                &p,
                "every user may connect over plain NATS (the only connection type)",
            ),
            _ => issues.unknown(entry, &p),
        }
    }
    Some(u)
}

fn permissions(v: &Value, path: &str, issues: &mut Issues) -> Option<Permissions> {
    let map = issues.map(v, path)?;
    let mut perms = Permissions::default();
    for entry in map.effective() {
        let p = format!("{path}.{}", entry.key);
        let v = &entry.value;
        match entry.key.to_ascii_lowercase().as_str() {
            "publish" | "pub" => perms.publish = Some(rules(v, &p, issues)),
            "subscribe" | "sub" => perms.subscribe = Some(rules(v, &p, issues)),
            "allow_responses" | "allow_resp" => {
                perms.allow_responses = allow_responses(v, &p, issues);
            }
            _ => issues.unknown(entry, &p),
        }
    }
    Some(perms)
}

/// A subject or a list of subjects (allowed), or `{allow, deny}`.
fn rules(v: &Value, path: &str, issues: &mut Issues) -> SubjectRules {
    let Kind::Map(map) = &v.kind else {
        return SubjectRules {
            allow: issues.strings(v, path),
            deny: Vec::new(),
        };
    };
    let mut r = SubjectRules::default();
    for entry in map.effective() {
        let p = format!("{path}.{}", entry.key);
        match entry.key.to_ascii_lowercase().as_str() {
            "allow" => r.allow = issues.strings(&entry.value, &p),
            "deny" => r.deny = issues.strings(&entry.value, &p),
            _ => issues.unknown(entry, &p),
        }
    }
    r
}

fn allow_responses(v: &Value, path: &str, issues: &mut Issues) -> Option<AllowResponses> {
    if let Kind::Bool(b) = v.kind {
        return Some(AllowResponses::Enabled(b));
    }
    let map = issues.map(v, path)?;
    let mut limits = ResponseLimits {
        max: 1,
        ttl: Duration::from_secs(120),
    };
    for entry in map.effective() {
        let p = format!("{path}.{}", entry.key);
        match entry.key.to_ascii_lowercase().as_str() {
            "max" => limits.max = issues.count(&entry.value, &p).unwrap_or(limits.max),
            "expires" | "ttl" => {
                limits.ttl = issues.duration(&entry.value, &p).unwrap_or(limits.ttl);
            }
            _ => issues.unknown(entry, &p),
        }
    }
    Some(AllowResponses::Limits(limits))
}

fn export(map: &Map, path: &str, issues: &mut Issues) -> Option<ExportEntry> {
    let mut e = ExportEntry::default();
    for entry in map.effective() {
        let p = format!("{path}.{}", entry.key);
        let v = &entry.value;
        match entry.key.to_ascii_lowercase().as_str() {
            "stream" => e.stream = issues.string(v, &p),
            "service" => e.service = issues.string(v, &p),
            "accounts" => {
                e.accounts = issues
                    .strings(v, &p)
                    .iter()
                    .map(|a| tenant_name(a))
                    .collect();
            }
            "response" | "response_type" => {
                e.response_type = match issues.string(v, &p)?.to_ascii_lowercase().as_str() {
                    "singleton" | "single" => Some(ResponseType::Singleton),
                    "stream" => Some(ResponseType::Stream),
                    "chunked" => Some(ResponseType::Chunked),
                    other => {
                        issues.error(&v.pos, &p, format!("unknown response type `{other}`"));
                        None
                    }
                };
            }
            "threshold" | "response_threshold" => {
                e.response_threshold = issues.duration(v, &p);
            }
            "latency" | "account_token_position" | "advertise" | "allow_trace" => {
                issues.ignore(&entry.key_pos, &p, "not supported");
            }
            _ => issues.unknown(entry, &p),
        }
    }
    Some(e)
}

fn import(map: &Map, path: &str, issues: &mut Issues) -> Option<ImportEntry> {
    let mut i = ImportEntry::default();
    for entry in map.effective() {
        let p = format!("{path}.{}", entry.key);
        let v = &entry.value;
        match entry.key.to_ascii_lowercase().as_str() {
            "stream" => i.stream = source(v, &p, issues),
            "service" => i.service = source(v, &p, issues),
            "prefix" => i.prefix = issues.string(v, &p),
            "to" | "local_subject" => i.to = issues.string(v, &p),
            "share" | "allow_trace" => issues.ignore(&entry.key_pos, &p, "not supported"),
            _ => issues.unknown(entry, &p),
        }
    }
    Some(i)
}

/// `{account: NAME, subject: SUBJECT}`.
fn source(v: &Value, path: &str, issues: &mut Issues) -> Option<ImportSource> {
    let map = issues.map(v, path)?;
    let (mut account, mut subject) = (None, None);
    for entry in map.effective() {
        let p = format!("{path}.{}", entry.key);
        match entry.key.to_ascii_lowercase().as_str() {
            "account" => account = issues.string(&entry.value, &p),
            "subject" => subject = issues.string(&entry.value, &p),
            _ => issues.unknown(entry, &p),
        }
    }
    match (account, subject) {
        (Some(account), Some(subject)) => Some(ImportSource {
            account: tenant_name(&account),
            subject,
        }),
        _ => {
            issues.error(&v.pos, path, "needs account and subject");
            None
        }
    }
}

/// `{ "src": "dest", "src2": [ {destination: "d", weight: "50%"} ] }`.
fn mappings(v: &Value, path: &str, issues: &mut Issues) -> Vec<MappingEntry> {
    let Some(map) = issues.map(v, path) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in map.effective() {
        let p = format!("{path}.{}", entry.key);
        let source = entry.key.clone();
        match &entry.value.kind {
            Kind::String(to) => out.push(MappingEntry {
                source,
                to: Some(to.clone()),
                destinations: Vec::new(),
            }),
            _ => {
                let mut destinations = Vec::new();
                for (m, p) in issues.maps(&entry.value, &p) {
                    destinations.extend(weighted(m, &entry.value.pos, &p, issues));
                }
                out.push(MappingEntry {
                    source,
                    to: None,
                    destinations,
                });
            }
        }
    }
    out
}

fn weighted(map: &Map, pos: &Pos, path: &str, issues: &mut Issues) -> Option<WeightedDestination> {
    let (mut subject, mut weight) = (None, 100u8);
    for entry in map.effective() {
        let p = format!("{path}.{}", entry.key);
        let v = &entry.value;
        match entry.key.to_ascii_lowercase().as_str() {
            "destination" | "dest" | "subject" => subject = issues.string(v, &p),
            "weight" => {
                let text = issues.string(v, &p)?;
                match text.trim_end_matches('%').parse::<u8>() {
                    Ok(w) if (1..=100).contains(&w) => weight = w,
                    _ => issues.error(
                        &v.pos,
                        &p,
                        format!("`{text}` is not a weight from 1% to 100%"),
                    ),
                }
            }
            "cluster" => issues.error(
                &entry.key_pos,
                &p,
                "cluster-scoped mappings are not supported",
            ),
            _ => issues.unknown(entry, &p),
        }
    }
    match subject {
        Some(subject) => Some(WeightedDestination { subject, weight }),
        None => {
            issues.error(pos, path, "needs destination");
            None
        }
    }
}
