//! Compiled user permissions: which subjects a connection may publish to and
//! subscribe to, with nats-server's semantics (`client.go`: `canPublish`,
//! `canSubscribe`, `checkDenySub`).
//!
//! `CompiledPermissions` is built once per user and shared by that user's
//! connections; `PublishCheckCache` is owned by one connection so that a
//! repeated publish subject costs one hash lookup and no lock. This module
//! does not track reply subjects for `allow_responses`: it says whether
//! responses are allowed and with which limits, and the connection keeps
//! the replies it has seen.

mod filters;

use crate::client::DeliveryFilter;
pub use crate::client::ResponsePermission;
use crate::config::tenant::{AllowResponses, Permissions, SubjectRules};
use crate::subject::{has_empty_token, is_valid_subject, subjects_overlap, tokens};
use filters::{FilterSet, QueueEntry, QueueRules, has_wildcard, queue_matches};
use rustc_hash::FxHashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use thiserror::Error;

/// Why a permission entry was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PermissionError {
    #[error("{list} entry `{entry}` is not a valid subject")]
    InvalidSubject { list: ListName, entry: String },
    #[error("{list} entry `{entry}` must be `subject` or `subject queue`")]
    InvalidQueueEntry { list: ListName, entry: String },
}

/// Which permission list an entry came from, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListName {
    PublishAllow,
    PublishDeny,
    SubscribeAllow,
    SubscribeDeny,
}

impl fmt::Display for ListName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ListName::PublishAllow => "publish allow",
            ListName::PublishDeny => "publish deny",
            ListName::SubscribeAllow => "subscribe allow",
            ListName::SubscribeDeny => "subscribe deny",
        })
    }
}

/// Tells caches which compilation they hold answers for.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// One user's permissions, compiled. `None` for a direction means it is
/// unrestricted, so that check is a single branch.
#[derive(Debug, Clone)]
pub struct CompiledPermissions {
    id: u64,
    publish: Option<PublishRules>,
    subscribe: Option<SubscribeRules>,
    response: Option<ResponsePermission>,
}

#[derive(Debug, Clone)]
struct PublishRules {
    /// `None`: everything not denied. `Some` but empty: nothing, which is
    /// what `allow_responses` without an allow list means (only replies).
    allow: Option<FilterSet>,
    deny: FilterSet,
}

impl PublishRules {
    fn allows(&self, subject: &[u8]) -> bool {
        // One split serves both lists.
        let split = tokens::split(subject);
        let toks = split.as_slice();
        if toks.iter().any(|t| t.is_empty()) {
            // nats-server's lists match nothing for such a subject: any
            // allow list refuses it, no deny list does (and nobody
            // receives it; see `SubscriptionIndex::match_subject`).
            return self.allow.is_none();
        }
        self.allow
            .as_ref()
            .is_none_or(|a| a.matches_split(subject, toks))
            && !self.deny.matches_split(subject, toks)
    }
}

#[derive(Debug, Clone)]
struct SubscribeRules {
    /// `None` when the allow list is empty: everything not denied.
    allow: Option<QueueRules>,
    deny: QueueRules,
}

impl DeliveryFilter for CompiledPermissions {
    fn deliverable(&self, subject: &[u8]) -> bool {
        CompiledPermissions::deliverable(self, subject)
    }
}

impl CompiledPermissions {
    /// Compiles `p`, checking every entry.
    pub fn compile(p: &Permissions) -> Result<CompiledPermissions, PermissionError> {
        let response = match &p.allow_responses {
            None | Some(AllowResponses::Enabled(false)) => None,
            Some(AllowResponses::Enabled(true)) => Some(ResponsePermission::DEFAULT),
            // Zero means "the default", as in nats-server's
            // `validateResponsePermissions`.
            Some(AllowResponses::Limits(l)) => Some(ResponsePermission {
                max: if l.max == 0 {
                    ResponsePermission::DEFAULT.max
                } else {
                    l.max
                },
                ttl: if l.ttl.is_zero() {
                    ResponsePermission::DEFAULT.ttl
                } else {
                    l.ttl
                },
            }),
        };
        let empty = SubjectRules::default();
        let publish_rules = p.publish.as_ref().unwrap_or(&empty);
        let subscribe_rules = p.subscribe.as_ref().unwrap_or(&empty);

        let allow = filter_set(&publish_rules.allow, ListName::PublishAllow)?;
        let deny = filter_set(&publish_rules.deny, ListName::PublishDeny)?;
        // With `allow_responses` and no allow list nats-server turns off
        // the blanket allow: such a user may only publish replies.
        let allow = (!allow.is_empty() || response.is_some()).then_some(allow);
        let publish = (allow.is_some() || !deny.is_empty()).then_some(PublishRules { allow, deny });

        let allow = queue_rules(&subscribe_rules.allow, ListName::SubscribeAllow)?;
        let deny = queue_rules(&subscribe_rules.deny, ListName::SubscribeDeny)?;
        let allow = (!allow.is_empty()).then_some(allow);
        let subscribe =
            (allow.is_some() || !deny.is_empty()).then_some(SubscribeRules { allow, deny });

        Ok(CompiledPermissions {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            publish,
            subscribe,
            response,
        })
    }

    /// No restrictions at all: every check is one branch.
    pub fn allow_all() -> CompiledPermissions {
        CompiledPermissions {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            publish: None,
            subscribe: None,
            response: None,
        }
    }

    pub fn is_unrestricted(&self) -> bool {
        self.publish.is_none() && self.subscribe.is_none()
    }

    /// Responses a responder may send to reply subjects it received, even
    /// where `can_publish` says no; `None` when not allowed.
    pub fn response_permission(&self) -> Option<ResponsePermission> {
        self.response
    }

    /// May a message be published on `subject`? Allow list first (when
    /// present), then deny. Reply subjects allowed by `allow_responses` are
    /// the connection's business. On the hot path prefer
    /// `can_publish_cached`.
    #[inline]
    pub fn can_publish(&self, subject: &[u8]) -> bool {
        let Some(rules) = &self.publish else {
            return true;
        };
        rules.allows(subject)
    }

    /// `can_publish`, remembered in the connection's `cache`.
    #[inline]
    pub fn can_publish_cached(&self, cache: &mut PublishCheckCache, subject: &[u8]) -> bool {
        let Some(rules) = &self.publish else {
            return true;
        };
        cache.check(self.id, subject, |s| rules.allows(s))
    }

    /// May this connection subscribe to `subject` (possibly a wildcard),
    /// in `queue` if given? nats-server's `canSubscribe`:
    ///
    /// - allow: a plain entry must match; but when the subscription is in a
    ///   queue group and queue-scoped allow entries match the subject, the
    ///   group must match one of them instead (even if a plain entry
    ///   matched).
    /// - deny: a plain entry matching denies; a queue-scoped entry matching
    ///   the subject and the group denies. (nats-server lets a
    ///   non-matching queue-scoped deny entry override a matching plain
    ///   one; we keep the plain deny, the safer reading.)
    ///
    /// Entries match a wildcard subject only if they cover its wildcards:
    /// allow `foo.*` permits SUB `foo.*` but allow `foo.bar` does not. As
    /// in nats-server, a `*` entry also covers a `>` token, so allow
    /// `foo.*` permits SUB `foo.>` and deny `foo.*` refuses it.
    pub fn can_subscribe(&self, subject: &[u8], queue: Option<&[u8]>) -> bool {
        let Some(rules) = &self.subscribe else {
            return true;
        };
        if has_empty_token(subject) {
            // nats-server matches such a subject against its allow and deny
            // lists and finds nothing: refused by any allow list, never by
            // a deny list (the index then refuses it as invalid).
            return rules.allow.is_none();
        }
        let queue = queue.filter(|q| !q.is_empty());
        if let Some(allow) = &rules.allow {
            let mut allowed = allow.plain.matches(subject);
            if let Some(q) = queue {
                let mut scoped = allow.queues_for(subject).peekable();
                if scoped.peek().is_some() {
                    allowed = scoped.any(|pattern| queue_matches(q, pattern));
                }
            }
            if !allowed {
                return false;
            }
        }
        if rules.deny.plain.matches(subject) {
            return false;
        }
        match queue {
            Some(q) => !rules.deny.queues_for(subject).any(|p| queue_matches(q, p)),
            None => true,
        }
    }

    /// Does an allowed wildcard subscription on `subject` reach into a
    /// denied subject space? Then messages for it must go through
    /// `deliverable` (nats-server loads its per-connection deny filter).
    /// Unlike nats-server, which only notices deny entries wholly inside
    /// the subscription, any overlap counts: `foo.*` with deny `*.bar`
    /// must not deliver `foo.bar`.
    pub fn sub_needs_delivery_filter(&self, subject: &[u8]) -> bool {
        let Some(rules) = &self.subscribe else {
            return false;
        };
        has_wildcard(subject)
            && rules
                .deny
                .plain
                .iter()
                .any(|d| subjects_overlap(d, subject))
    }

    /// May a message on `msg_subject` be delivered to this connection?
    /// False when a (plain) subscribe deny entry matches it. Queue-scoped
    /// deny entries do not filter deliveries, as in nats-server.
    #[inline]
    pub fn deliverable(&self, msg_subject: &[u8]) -> bool {
        let Some(rules) = &self.subscribe else {
            return true;
        };
        !rules.deny.plain.matches(msg_subject)
    }
}

/// Entries kept before the cache is emptied, bounding memory for a
/// publisher that uses many distinct subjects.
const MAX_CACHED: usize = 1024;

/// One connection's memory of publish checks: a repeated subject costs one
/// hash lookup. It notices when it is used with other permissions (after a
/// reload) and forgets what it held.
#[derive(Debug, Default)]
pub struct PublishCheckCache {
    owner: u64,
    entries: FxHashMap<Box<[u8]>, bool>,
}

impl PublishCheckCache {
    pub fn new() -> PublishCheckCache {
        PublishCheckCache::default()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn check(&mut self, owner: u64, subject: &[u8], compute: impl FnOnce(&[u8]) -> bool) -> bool {
        if owner != self.owner {
            self.entries.clear();
            self.owner = owner;
        }
        if let Some(&allowed) = self.entries.get(subject) {
            return allowed;
        }
        let allowed = compute(subject);
        if self.entries.len() >= MAX_CACHED {
            self.entries.clear();
        }
        self.entries.insert(subject.into(), allowed);
        allowed
    }
}

fn filter_set(entries: &[String], list: ListName) -> Result<FilterSet, PermissionError> {
    let mut set = FilterSet::default();
    for entry in entries {
        if !is_valid_subject(entry.as_bytes()) {
            return Err(PermissionError::InvalidSubject {
                list,
                entry: entry.clone(),
            });
        }
        set.insert(entry.as_bytes());
    }
    Ok(set)
}

/// Subscribe entries are `"subject"` or `"subject queue"`, split on
/// whitespace like nats-server's `splitSubjectQueue`.
fn queue_rules(entries: &[String], list: ListName) -> Result<QueueRules, PermissionError> {
    let mut rules = QueueRules::default();
    for entry in entries {
        let fields: Vec<&str> = entry.split_whitespace().collect();
        let (subject, queue) = match fields.as_slice() {
            [s] => (*s, None),
            [s, q] => (*s, Some(*q)),
            _ => {
                return Err(PermissionError::InvalidQueueEntry {
                    list,
                    entry: entry.clone(),
                });
            }
        };
        if !is_valid_subject(subject.as_bytes()) {
            return Err(PermissionError::InvalidSubject {
                list,
                entry: entry.clone(),
            });
        }
        match queue {
            None => rules.plain.insert(subject.as_bytes()),
            Some(q) => rules.queued.push(QueueEntry {
                filter: subject.as_bytes().into(),
                queue: q.as_bytes().into(),
            }),
        }
    }
    Ok(rules)
}

#[cfg(test)]
mod tests;
