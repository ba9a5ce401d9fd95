//! Tenant names, users and their credentials, permissions and limits.
//!
//! Credentials are unique across the whole server, not per tenant: a
//! connection is bound to its tenant by the credentials it presents, so two
//! tenants sharing a user name, token or nkey would make that binding
//! ambiguous.

use super::{Issues, TenantSet, subject_error};
use crate::config::tenant::{AllowResponses, Permissions, SubjectRules, TenantSource, UserEntry};
use std::collections::HashMap;
use std::collections::hash_map::Entry;

/// Names nats-server reserves: the system account and the global account.
const RESERVED_NAMES: [&str; 2] = ["$SYS", "$G"];

pub(super) fn check_names(set: &TenantSet<'_>, out: &mut Issues<'_>) {
    for (f, t) in set.tenants() {
        let name = t.name.as_str();
        if name.is_empty() {
            out.push(f, "name", "must not be empty");
        } else if RESERVED_NAMES.contains(&name) {
            out.push(f, "name", format!("`{name}` is reserved by the server"));
        } else if !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            out.push(
                f,
                "name",
                format!("`{name}` may only contain letters, digits, `_` and `-`"),
            );
        }
        if let Some(&first) = set.by_name.get(name)
            && first != f
            && !name.is_empty()
        {
            let other = set.path(first);
            out.push(
                f,
                "name",
                format!("tenant `{name}` is also defined in {other}"),
            );
        }
    }
}

/// Where a credential was first seen: file index and user index.
type Seen<'a> = HashMap<&'a str, (usize, usize)>;

/// `certificate_users`: TLS `verify_and_map` is on, so a user name alone
/// is a user who logs in by client certificate.
pub(super) fn check_users(set: &TenantSet<'_>, out: &mut Issues<'_>, certificate_users: bool) {
    let mut names = Seen::new();
    let mut tokens = Seen::new();
    let mut nkeys = Seen::new();
    for (f, t) in set.tenants() {
        for (u, user) in t.users.iter().enumerate() {
            let key = format!("users[{u}]");
            check_credentials(user, f, &key, out, certificate_users);
            if let Some(name) = &user.user {
                note_unique(set, &mut names, name, (f, u), out, |other| {
                    (
                        format!("{key}.user"),
                        format!("user `{name}` is also defined in {other}"),
                    )
                });
            }
            if let Some(token) = &user.token {
                // The token itself is a secret: name where it clashes, not what it is.
                note_unique(set, &mut tokens, token, (f, u), out, |other| {
                    (
                        format!("{key}.token"),
                        format!("the same token is also used in {other}"),
                    )
                });
            }
            if let Some(nkey) = &user.nkey {
                note_unique(set, &mut nkeys, nkey, (f, u), out, |other| {
                    (
                        format!("{key}.nkey"),
                        format!("nkey `{nkey}` is also used in {other}"),
                    )
                });
            }
            if let Some(p) = &user.permissions {
                check_permissions(p, f, &format!("{key}.permissions"), out);
            }
        }
        if let Some(p) = &t.default_permissions {
            check_permissions(p, f, "default_permissions", out);
        }
        check_limits(set, f, out);
    }
}

/// Records `value` as seen at `at`, or reports it with `describe(where
/// it was first seen)` when another user already has it.
fn note_unique<'a>(
    set: &TenantSet<'_>,
    seen: &mut Seen<'a>,
    value: &'a str,
    at: (usize, usize),
    out: &mut Issues<'_>,
    describe: impl FnOnce(String) -> (String, String),
) {
    match seen.entry(value) {
        Entry::Vacant(v) => {
            v.insert(at);
        }
        Entry::Occupied(o) => {
            let (file, user) = *o.get();
            let (key, message) = describe(format!("{} (users[{user}])", set.path(file)));
            out.push(at.0, key, message);
        }
    }
}

fn check_credentials(
    user: &UserEntry,
    f: usize,
    key: &str,
    out: &mut Issues<'_>,
    certificate_users: bool,
) {
    let given: Vec<&str> = [
        ("password", user.password.is_some()),
        ("token", user.token.is_some()),
        ("nkey", user.nkey.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, set)| set.then_some(name))
    .collect();
    match given.as_slice() {
        [] if certificate_users && user.user.as_deref().is_some_and(|u| !u.is_empty()) => {}
        [] => out.push(f, key, "needs exactly one of `password`, `token` or `nkey`"),
        [_] => {}
        several => out.push(
            f,
            key,
            format!(
                "has {}: a user is identified by exactly one of them",
                several.join(" and ")
            ),
        ),
    }
    if user.user.as_deref() == Some("") {
        out.push(f, format!("{key}.user"), "must not be empty");
    }
    if let Some(password) = &user.password {
        if user.user.is_none() {
            out.push(f, key, "`password` requires `user`");
        }
        if password.is_empty() {
            out.push(f, format!("{key}.password"), "must not be empty");
        }
    }
    if user.token.as_deref() == Some("") {
        out.push(f, format!("{key}.token"), "must not be empty");
    }
    if let Some(nkey) = &user.nkey
        && let Err(why) = check_user_nkey(nkey)
    {
        out.push(f, format!("{key}.nkey"), why);
    }
}

/// A user nkey public key: `U`, then base32, 56 characters with a valid
/// checksum. The value is not echoed: a pasted seed would be a secret.
fn check_user_nkey(nkey: &str) -> Result<(), String> {
    if nkey.starts_with('S') {
        return Err(
            "this looks like a seed (a private key); use the user's public key (`U...`)".into(),
        );
    }
    if !nkey.starts_with('U') {
        return Err("must be a user public key, starting with `U`".into());
    }
    if nkey.len() != 56 {
        return Err(format!("must be 56 characters long, not {}", nkey.len()));
    }
    if let Some(c) = nkey.chars().find(|c| !matches!(c, 'A'..='Z' | '2'..='7')) {
        return Err(format!("`{c}` is not in the base32 alphabet (A-Z, 2-7)"));
    }
    nkeys::KeyPair::from_public_key(nkey)
        .map(drop)
        .map_err(|e| format!("is not a valid public key: {e}"))
}

pub(super) fn check_permissions(p: &Permissions, f: usize, key: &str, out: &mut Issues<'_>) {
    if let Some(rules) = &p.publish {
        check_rules(rules, f, &format!("{key}.publish"), out, |s| {
            subject_error(s)
        });
    }
    if let Some(rules) = &p.subscribe {
        check_rules(
            rules,
            f,
            &format!("{key}.subscribe"),
            out,
            subscribe_entry_error,
        );
    }
    if let Some(AllowResponses::Limits(limits)) = &p.allow_responses {
        if limits.max == 0 {
            out.push(
                f,
                format!("{key}.allow_responses.max"),
                "must be at least 1",
            );
        }
        if limits.ttl.is_zero() {
            out.push(
                f,
                format!("{key}.allow_responses.ttl"),
                "must be greater than 0",
            );
        }
    }
}

fn check_rules(
    rules: &SubjectRules,
    f: usize,
    key: &str,
    out: &mut Issues<'_>,
    entry_error: impl Fn(&str) -> Option<String>,
) {
    for (list, entries) in [("allow", &rules.allow), ("deny", &rules.deny)] {
        for (i, entry) in entries.iter().enumerate() {
            if let Some(why) = entry_error(entry) {
                out.push(f, format!("{key}.{list}[{i}]"), why);
            }
        }
    }
}

/// A subscribe entry is `"subject"` or `"subject queue"`; the queue is a
/// single literal token, as a client's SUB would carry it.
fn subscribe_entry_error(entry: &str) -> Option<String> {
    let parts: Vec<&str> = entry.split(' ').collect();
    match parts.as_slice() {
        [subject] => subject_error(subject),
        [subject, queue] => subject_error(subject).or_else(|| {
            let literal = crate::subject::is_valid_literal_subject(queue.as_bytes());
            (!literal || queue.contains('.'))
                .then(|| format!("queue `{queue}` must be a single token without wildcards"))
        }),
        _ => Some(format!(
            "`{entry}` must be `subject` or `subject queue` (one space between them)"
        )),
    }
}

/// A tenant file must leave a limit out rather than set it to 0. An
/// account JWT's 0 is legitimate (it allows none, as in nats-server).
fn check_limits(set: &TenantSet<'_>, f: usize, out: &mut Issues<'_>) {
    let tenant = &set.files[f].1;
    if tenant.source == TenantSource::AccountJwt {
        return;
    }
    let limits = &tenant.limits;
    for (name, value) in [
        ("max_connections", limits.max_connections),
        ("max_subscriptions", limits.max_subscriptions),
        ("max_payload", limits.max_payload),
        ("max_subscription_bytes", limits.max_subscription_bytes),
    ] {
        if value == Some(0) {
            out.push(f, format!("limits.{name}"), "must be greater than 0");
        }
    }
}
