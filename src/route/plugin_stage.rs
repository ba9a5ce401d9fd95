//! The plugin stage of the publish path: between the permission check and
//! delivery, messages on a transform's subjects wait in the publisher's
//! batch, and every message on a routing policy's subjects is decided one
//! by one. What the plugins let through goes to a `Sink`.
//!
//! Order is kept: a message that needs no plugin, and any other operation
//! (SUB, UNSUB, PING), first flushes the pending batch, so a client never
//! sees its messages overtake each other. The batch is also flushed at the
//! end of every read buffer. A tenant without plugins pays one `None`
//! check per message; one whose plugins registered other subjects, a
//! comparison of the subject's first token.

use super::message::Message;
use crate::config::tenant::FailurePolicy;
use crate::plugin::stats::PluginStats;
use crate::plugin::transform::{Outcome, TransformBatch, outcome};
use crate::plugin::{PublisherInfo, Route, TenantPlugins};
use std::sync::Arc;

/// Where messages go once the plugins are done with them.
pub trait Sink {
    /// Delivers a message (after transforms and routing policies).
    fn deliver(&mut self, msg: Message<'_>);
    /// Tells the publisher a plugin refused its message, if it asked for
    /// an answer (`reply`).
    fn refuse(&mut self, reply: Option<&[u8]>, reason: &str);
}

/// One publisher's plugin stage: the transform batch it is filling.
#[derive(Default)]
pub struct PluginStage {
    /// Boxed: most publishers never fill one.
    batch: Option<Box<TransformBatch>>,
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
        if from.plugins.is_some_and(|p| p.may_match(msg.subject)) {
            self.through_plugins(from, msg, sink);
            return;
        }
        if self.batch.as_ref().is_some_and(|b| !b.is_empty()) {
            self.flush(from, sink);
        }
        sink.deliver(msg);
    }

    /// Whether messages wait for a transform.
    pub fn is_pending(&self) -> bool {
        self.batch.as_ref().is_some_and(|b| !b.is_empty())
    }

    #[inline(never)]
    fn through_plugins(&mut self, from: &Publisher<'_>, msg: Message<'_>, sink: &mut impl Sink) {
        let Some(plugins) = from.plugins else {
            sink.deliver(msg);
            return;
        };
        if let Some(index) = plugins.transform_for(msg.subject) {
            let batch = self.batch.get_or_insert_with(Box::default);
            if !batch.is_empty() && (batch.plugin != index || batch.is_full()) {
                self.flush(from, sink);
            }
            let batch = self.batch.get_or_insert_with(Box::default);
            batch.plugin = index;
            batch.push(
                &plugins.transforms[index].registered,
                msg.subject,
                msg.reply,
                msg.headers,
                msg.payload,
            );
            return;
        }
        self.flush(from, sink);
        apply_routing(from, msg, sink);
    }

    /// Calls the transform on the pending batch and passes on what it
    /// decided, in order.
    pub fn flush(&mut self, from: &Publisher<'_>, sink: &mut impl Sink) {
        let Some(mut batch) = self.batch.take_if(|b| !b.is_empty()) else {
            return;
        };
        let Some(plugins) = from.plugins else {
            batch.clear();
            self.batch = Some(batch);
            return;
        };
        let plugin = &plugins.transforms[batch.plugin];
        let stats = &plugin.pool.stats;
        match plugin.run(&batch, from.max_payload) {
            Ok(actions) => {
                let (mut dropped, mut rejected, mut modified) = (0, 0, 0);
                for (i, action) in actions.into_iter().enumerate() {
                    match outcome(&batch, i, action) {
                        Outcome::Deliver(m) => apply_routing(from, m.into(), sink),
                        Outcome::Replace(produced) => {
                            modified += 1;
                            for p in &produced {
                                apply_routing(from, p.into(), sink);
                            }
                        }
                        Outcome::Drop => dropped += 1,
                        Outcome::Reject(reason) => {
                            rejected += 1;
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
                        apply_routing(from, batch.original(i).into(), sink);
                    }
                }
            }
        }
        batch.clear();
        self.batch = Some(batch);
    }
}

/// Asks the routing policy for `msg`'s subject, if any, where it goes.
fn apply_routing(from: &Publisher<'_>, msg: Message<'_>, sink: &mut impl Sink) {
    let Some(router) = from.plugins.and_then(|p| p.router_for(msg.subject)) else {
        sink.deliver(msg);
        return;
    };
    let decision = router.decide(msg.subject, msg.reply, msg.headers, msg.payload, &from.info);
    let stats = &router.pool.stats;
    match decision {
        Ok(Route::Allow) => sink.deliver(msg),
        Ok(Route::Deny(reason)) => {
            PluginStats::add(&stats.rejected, 1);
            sink.refuse(msg.reply, &reason);
        }
        Ok(Route::Reroute(to)) => {
            PluginStats::add(&stats.rerouted, 1);
            sink.deliver(Message {
                subject: to.as_bytes(),
                ..msg
            });
        }
        Ok(Route::FanOut(extra)) => {
            PluginStats::add(&stats.rerouted, 1);
            sink.deliver(msg);
            for subject in &extra {
                sink.deliver(Message {
                    subject: subject.as_bytes(),
                    ..msg
                });
            }
        }
        Err(_) => {
            PluginStats::add(&stats.failed_messages, 1);
            if router.policy == FailurePolicy::FailOpen {
                sink.deliver(msg);
            }
        }
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
