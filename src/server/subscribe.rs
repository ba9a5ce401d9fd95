//! SUB and UNSUB on a client connection: subjects and queue groups
//! checked (validity, server limits, permissions, the tenant's limits and
//! subscription memory), then indexed in the account with their
//! stream-import shadows.

use super::connection::Connection;
use super::subs::{fits_budget, index, unindex};
use crate::subject::{footprint, is_valid_literal_subject, is_valid_subject};
use crate::tenant::{Subscription, Target};
use bytes::Bytes;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// The exact nats-server text for a refused subscription.
pub(super) fn sub_violation(subject: &[u8], queue: Option<&[u8]>) -> String {
    let subject = String::from_utf8_lossy(subject);
    match queue {
        Some(q) => format!(
            "Permissions Violation for Subscription to \"{subject}\" using queue \"{}\"",
            String::from_utf8_lossy(q)
        ),
        None => format!("Permissions Violation for Subscription to \"{subject}\""),
    }
}

impl Connection {
    /// The checks run in nats-server's order (`processSubEx`):
    /// permissions, then the subject limits, then the connection's
    /// subscription limit, then a duplicate sid (ignored, answered only with
    /// `+OK` in verbose mode), and only then the subject's syntax, which
    /// nats-server learns from its sublist's insert.
    pub(super) fn on_sub(&mut self, subject: &[u8], queue: Option<&[u8]>, sid: &[u8]) {
        if let Some(p) = &self.session.perms
            && !p.can_subscribe(subject, queue)
        {
            self.send_err(&sub_violation(subject, queue));
            return;
        }
        if !self.within_subject_limits(subject) {
            self.send_err("Invalid Subject");
            return;
        }
        if self
            .session
            .max_subscriptions
            .is_some_and(|max| self.subs.len() >= max)
        {
            self.send_err("maximum subscriptions exceeded");
            return;
        }
        if self.subs.contains_key(sid) {
            self.ok();
            return;
        }
        if !is_valid_subject(subject) || queue.is_some_and(|q| !is_valid_literal_subject(q)) {
            self.send_err("Invalid Subject");
            return;
        }
        let charge = footprint(subject, queue);
        let account = &self.session.account;
        if !fits_budget(account, &self.session.rules, charge) {
            tracing::debug!(cid = self.handle.id, "tenant subscription memory exhausted");
            self.send_err("maximum subscriptions exceeded");
            return;
        }
        let sid = Bytes::copy_from_slice(sid);
        let queue = queue.map(Bytes::copy_from_slice);
        let sub = Arc::new(Subscription::new(
            Target::Client(self.handle.clone()),
            sid.clone(),
            Bytes::copy_from_slice(subject),
            queue.clone(),
        ));
        if let Some(p) = &self.session.perms {
            let filter = p.sub_needs_delivery_filter(subject);
            sub.needs_filter.store(filter, Ordering::Relaxed);
        }
        let entry = index(account, &self.session.rules, sub, charge);
        self.subs.insert(sid, entry);
        self.ok();
    }

    /// The server's `max_subject_length` and `max_subject_tokens`, which
    /// bound what one subscription can make the index hold.
    fn within_subject_limits(&self, subject: &[u8]) -> bool {
        let cfg = &self.server.config;
        subject.len() <= cfg.max_subject_length
            && memchr::memchr_iter(b'.', subject).count() < cfg.max_subject_tokens
    }

    pub(super) fn on_unsub(&mut self, sid: &[u8], max: Option<u64>) {
        let remove_now = match (self.subs.get(sid), max) {
            (Some(entry), Some(max)) if max > 0 => entry.sub.set_max(max),
            (Some(_), _) => true,
            (None, _) => false,
        };
        if remove_now && let Some(entry) = self.subs.remove(sid) {
            unindex(&self.session.account, &entry);
        }
        self.ok();
    }
}
