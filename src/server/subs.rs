//! A connection's own subscriptions, by sid, with their copies in
//! exporters' indexes (stream-import shadows) and what each was charged to
//! its account's subscription memory.

use crate::subject::subjects_overlap;
use crate::tenant::{Account, AccountRules, DEFAULT_MAX_SUBSCRIPTION_BYTES, Subscription};
use bytes::Bytes;
use rustc_hash::FxHashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// A client's subscription and its copies in exporters' indexes.
pub(super) struct SubEntry {
    pub(super) sub: Arc<Subscription>,
    pub(super) shadows: Vec<Arc<Subscription>>,
    /// Bytes charged to the account's subscription memory for it.
    pub(super) charged: usize,
}

pub(super) type Subscriptions = FxHashMap<Bytes, SubEntry>;

/// Places copies of `sub` in the exporters' indexes for every stream
/// import of `rules` it overlaps.
pub(super) fn shadows_for(
    account: &Account,
    rules: &AccountRules,
    sub: &Arc<Subscription>,
) -> Vec<Arc<Subscription>> {
    let mut shadows = Vec::new();
    for import in &rules.stream_imports {
        if !subjects_overlap(&sub.subject, &import.local) {
            continue;
        }
        let filter = import.exporter_filter(&sub.subject);
        let shadow = Arc::new(Subscription::shadow(
            sub,
            import.clone(),
            filter,
            &account.name,
        ));
        import.exporter.insert_sub(&shadow);
        shadows.push(shadow);
    }
    shadows
}

/// Whether `charge` more bytes fit the account's subscription memory
/// (`max_subscription_bytes`). Checked, then charged: connections racing at
/// the edge may overshoot by one subscription each, never more.
pub(super) fn fits_budget(account: &Account, rules: &AccountRules, charge: usize) -> bool {
    let budget = rules
        .max_subscription_bytes
        .unwrap_or(DEFAULT_MAX_SUBSCRIPTION_BYTES);
    account.subscription_bytes.load(Ordering::Relaxed) + charge <= budget
}

/// Indexes `sub` in `account` with its stream-import shadows, charges
/// `charge` for it and for each shadow, and returns its table entry.
pub(super) fn index(
    account: &Account,
    rules: &AccountRules,
    sub: Arc<Subscription>,
    charge: usize,
) -> SubEntry {
    account.insert_sub(&sub);
    let shadows = shadows_for(account, rules, &sub);
    let charged = charge * (1 + shadows.len());
    account
        .subscription_bytes
        .fetch_add(charged, Ordering::Relaxed);
    SubEntry {
        sub,
        shadows,
        charged,
    }
}

/// Removes `entry` from `account`'s index and its shadows from the
/// exporters', and gives back its charge.
pub(super) fn unindex(account: &Account, entry: &SubEntry) {
    // Saturating: a subscription made before CONNECT bound the
    // connection to its tenant was charged to the account it had then.
    let _ = account
        .subscription_bytes
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
            Some(v.saturating_sub(entry.charged))
        });
    account.remove_sub(&entry.sub);
    for shadow in &entry.shadows {
        shadow.remove_shadow();
    }
}
