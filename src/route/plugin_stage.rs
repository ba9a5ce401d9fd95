//! The plugin stage of the publish path: between the permission check and
//! delivery, a message goes through its tenant's plugin chain (every
//! transform registered for it, in file order, then every routing policy),
//! and what the chain lets through goes to a `Sink`.
//!
//! Calls are batched at every step: messages wait in the publisher's batch
//! for the first plugin that wants them, and the batch is flushed at the
//! end of every read buffer, when full, or when the next message goes
//! elsewhere. Flushing a batch feeds the plugin's outputs, in order, into a
//! batch one level down for the next plugin that wants them (consecutive
//! outputs for one plugin share one call), and that level is flushed in
//! turn before anything else leaves: so order is kept through the whole
//! chain. A message that needs no plugin, and any other operation (SUB,
//! UNSUB, PING), first flushes what is pending, so a client never sees its
//! messages overtake each other. A tenant without plugins pays one `None`
//! check per message; one whose plugins registered other subjects, a
//! comparison of the subject's first token.

use super::message::Message;
use crate::config::tenant::FailurePolicy;
use crate::plugin::routing::RouteBatch;
use crate::plugin::stats::PluginStats;
use crate::plugin::transform::{Outcome, TransformBatch, outcome};
use crate::plugin::{
    ChainPlugin, PublisherInfo, Route, RoutingPlugin, TenantPlugins, TransformPlugin,
};
use std::sync::Arc;

/// Where messages go once the plugins are done with them.
pub trait Sink {
    /// Delivers a message (after transforms and routing policies).
    fn deliver(&mut self, msg: Message<'_>);
    /// Tells the publisher a plugin refused its message, if it asked for
    /// an answer (`reply`).
    fn refuse(&mut self, reply: Option<&[u8]>, reason: &str);
}

/// One publisher's plugin stage: its pending batches, one per level of
/// the chain (level 0 is filled by publishes; deeper levels only while a
/// flush runs). Kept between calls so their buffers are reused.
#[derive(Default)]
pub struct PluginStage {
    levels: Vec<Pending>,
}

/// Messages waiting for the plugin at chain position `at`; only the batch
/// of that plugin's kind is used.
#[derive(Default)]
struct Pending {
    at: usize,
    transform: TransformBatch,
    route: RouteBatch,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.transform.is_empty() && self.route.is_empty()
    }

    fn is_full(&self) -> bool {
        self.transform.is_full() || self.route.is_full()
    }

    fn clear(&mut self) {
        self.transform.clear();
        self.route.clear();
    }
}

/// The plugins a message is handed to, and who published it.
pub struct Publisher<'a> {
    pub plugins: Option<&'a Arc<TenantPlugins>>,
    pub info: PublisherInfo<'a>,
    pub max_payload: usize,
}

impl PluginStage {
    /// Hands a permitted message to the tenant's plugins, or straight to
    /// the sink when none can want it.
    pub fn publish(&mut self, from: &Publisher<'_>, msg: Message<'_>, sink: &mut impl Sink) {
        if let Some(plugins) = from.plugins.filter(|p| p.may_match(msg.subject)) {
            self.feed(plugins, 0, 0, from, msg, sink);
            return;
        }
        if self.is_pending() {
            self.flush(from, sink);
        }
        sink.deliver(msg);
    }

    /// Whether messages wait for a plugin.
    pub fn is_pending(&self) -> bool {
        self.levels.first().is_some_and(|p| !p.is_empty())
    }

    /// Runs what is pending through the rest of the chain, in order.
    pub fn flush(&mut self, from: &Publisher<'_>, sink: &mut impl Sink) {
        match from.plugins {
            Some(plugins) => self.flush_level(plugins, 0, from, sink),
            None => self.levels.iter_mut().for_each(Pending::clear),
        }
    }

    /// Passes `msg`, which has been through the chain before position
    /// `from_at`, to the next plugin that wants it, in the batch of
    /// `level`; or, when none does, to the sink.
    #[inline(never)]
    fn feed(
        &mut self,
        plugins: &TenantPlugins,
        level: usize,
        from_at: usize,
        from: &Publisher<'_>,
        msg: Message<'_>,
        sink: &mut impl Sink,
    ) {
        let Some(at) = plugins.next_in_chain(from_at, msg.subject) else {
            self.flush_level(plugins, level, from, sink);
            sink.deliver(msg);
            return;
        };
        if self.levels.len() <= level {
            self.levels.resize_with(level + 1, Pending::default);
        }
        let pending = &self.levels[level];
        if !pending.is_empty() && (pending.at != at || pending.is_full()) {
            self.flush_level(plugins, level, from, sink);
        }
        let pending = &mut self.levels[level];
        pending.at = at;
        match plugins.chain_at(at) {
            Some(ChainPlugin::Transform(t)) => pending.transform.push(
                &t.registered,
                msg.subject,
                msg.reply,
                msg.headers,
                msg.payload,
            ),
            Some(ChainPlugin::Route(r)) => pending.route.push(&r.registered, msg.into()),
            None => sink.deliver(msg),
        }
    }

    /// Calls the plugin on the batch of `level`, feeds what it lets
    /// through to the level below, and flushes that level.
    fn flush_level(
        &mut self,
        plugins: &TenantPlugins,
        level: usize,
        from: &Publisher<'_>,
        sink: &mut impl Sink,
    ) {
        let Some(slot) = self.levels.get_mut(level).filter(|p| !p.is_empty()) else {
            return;
        };
        // Taken out while its outputs go down the chain (to deeper levels
        // only), and put back for its buffers.
        let mut pending = std::mem::take(slot);
        match plugins.chain_at(pending.at) {
            Some(ChainPlugin::Transform(t)) => {
                self.run_transform(plugins, t, &pending, level, from, sink)
            }
            Some(ChainPlugin::Route(r)) => {
                self.run_route(plugins, r, &mut pending, level, from, sink)
            }
            // The chain changed under a pending batch (cannot happen while
            // a publisher keeps its rules): nothing left to ask.
            None => {
                for i in 0..pending.transform.len() {
                    sink.deliver(pending.transform.original(i).into());
                }
                for i in 0..pending.route.len() {
                    sink.deliver(pending.route.message(i).into());
                }
            }
        }
        self.flush_level(plugins, level + 1, from, sink);
        pending.clear();
        self.levels[level] = pending;
    }

    fn run_transform(
        &mut self,
        plugins: &TenantPlugins,
        plugin: &TransformPlugin,
        pending: &Pending,
        level: usize,
        from: &Publisher<'_>,
        sink: &mut impl Sink,
    ) {
        let batch = &pending.transform;
        let next = pending.at + 1;
        let stats = &plugin.pool.stats;
        match plugin.run(batch, from.max_payload) {
            // Every message passed unchanged (a no-op, or a plugin that
            // let this batch be) and nothing follows in the chain: no
            // verdicts to match, no later plugin to look for.
            Ok(actions) if actions.is_empty() && next >= plugins.chain_len() => {
                for i in 0..batch.len() {
                    sink.deliver(batch.original(i).into());
                }
            }
            Ok(actions) => {
                let (mut dropped, mut rejected, mut modified) = (0, 0, 0);
                let mut actions = actions.into_iter().peekable();
                for i in 0..batch.len() {
                    let action = actions.next_if(|(at, _)| *at as usize == i).map(|(_, a)| a);
                    match outcome(batch, i, action) {
                        Outcome::Deliver(m) => {
                            self.feed(plugins, level + 1, next, from, m.into(), sink)
                        }
                        Outcome::Replace(produced) => {
                            modified += 1;
                            for p in &produced {
                                self.feed(plugins, level + 1, next, from, p.into(), sink);
                            }
                        }
                        Outcome::Drop => dropped += 1,
                        Outcome::Reject(reason) => {
                            rejected += 1;
                            self.flush_level(plugins, level + 1, from, sink);
                            sink.refuse(batch.original(i).reply, &reason);
                        }
                    }
                }
                PluginStats::add(&stats.dropped, dropped);
                PluginStats::add(&stats.rejected, rejected);
                PluginStats::add(&stats.modified, modified);
            }
            Err(_) => {
                PluginStats::add(&stats.failed_messages, batch.len() as u64);
                if plugin.policy == FailurePolicy::FailOpen {
                    for i in 0..batch.len() {
                        let m = batch.original(i).into();
                        self.feed(plugins, level + 1, next, from, m, sink);
                    }
                }
            }
        }
    }

    fn run_route(
        &mut self,
        plugins: &TenantPlugins,
        plugin: &RoutingPlugin,
        pending: &mut Pending,
        level: usize,
        from: &Publisher<'_>,
        sink: &mut impl Sink,
    ) {
        let next = pending.at + 1;
        let batch = &mut pending.route;
        let stats = &plugin.pool.stats;
        let verdicts = match plugin.run(batch, &from.info) {
            Ok(verdicts) => verdicts,
            Err(_) => {
                PluginStats::add(&stats.failed_messages, batch.len() as u64);
                if plugin.policy == FailurePolicy::FailOpen {
                    for i in 0..batch.len() {
                        let m = batch.message(i).into();
                        self.feed(plugins, level + 1, next, from, m, sink);
                    }
                }
                return;
            }
        };
        if verdicts.is_empty() && next >= plugins.chain_len() {
            // All allowed and nothing follows: as in `run_transform`.
            for i in 0..batch.len() {
                sink.deliver(batch.message(i).into());
            }
            return;
        }
        let (mut rejected, mut rerouted) = (0, 0);
        let mut verdicts = verdicts.into_iter().peekable();
        for i in 0..batch.len() {
            let msg: Message<'_> = batch.message(i).into();
            let route = verdicts
                .next_if(|(at, _)| *at as usize == i)
                .map(|(_, r)| r);
            match route {
                None | Some(Route::Allow) => {
                    self.feed(plugins, level + 1, next, from, msg, sink);
                }
                Some(Route::Deny(reason)) => {
                    rejected += 1;
                    self.flush_level(plugins, level + 1, from, sink);
                    sink.refuse(msg.reply, &reason);
                }
                Some(Route::Reroute(to)) => {
                    rerouted += 1;
                    let m = Message {
                        subject: to.as_bytes(),
                        ..msg
                    };
                    self.feed(plugins, level + 1, next, from, m, sink);
                }
                Some(Route::FanOut(extra)) => {
                    rerouted += 1;
                    self.feed(plugins, level + 1, next, from, msg, sink);
                    for subject in &extra {
                        let m = Message {
                            subject: subject.as_bytes(),
                            ..msg
                        };
                        self.feed(plugins, level + 1, next, from, m, sink);
                    }
                }
            }
        }
        PluginStats::add(&stats.rejected, rejected);
        PluginStats::add(&stats.rerouted, rerouted);
    }
}

#[cfg(test)]
mod tests {
    /// The prefix plugin output is checked against is the one the
    /// response map hands out.
    #[test]
    fn plugins_may_not_use_the_response_maps_reply_subjects() {
        assert_eq!(
            crate::plugin::validate::BROKER_REPLY_PREFIX,
            crate::tenant::RESPONSE_PREFIX
        );
    }
}
