//! The plugin stage of the publish path: between the permission check and
//! delivery, messages on a transform's subjects wait in the connection's
//! batch, and every message on a routing policy's subjects is decided one
//! by one.
//!
//! Order is kept: a message that needs no plugin, and any other operation
//! (SUB, UNSUB, PING), first flushes the pending batch, so a client never
//! sees its messages overtake each other. The batch is also flushed at the
//! end of every read buffer. A tenant without plugins pays one `None`
//! check per message; one whose plugins registered other subjects, a
//! comparison of the subject's first token.

use super::connection::Connection;
use super::deliver::Message;
use crate::config::tenant::FailurePolicy;
use crate::plugin::stats::PluginStats;
use crate::plugin::transform::{Outcome, TransformBatch, outcome};
use crate::plugin::{PublisherInfo, Route};
use crate::protocol::encode_hmsg;
use crate::subject::matches;

impl Connection {
    /// Hands a permitted message to the tenant's plugins, then delivers it.
    /// Messages no plugin can want share one call site of `route` with
    /// tenants without plugins, so both compile to the same code.
    pub(super) fn publish(&mut self, msg: Message<'_>) {
        if self
            .rules
            .plugins
            .as_ref()
            .is_some_and(|p| p.may_match(msg.subject))
        {
            self.through_plugins(msg);
            return;
        }
        if self.transform_batch.as_ref().is_some_and(|b| !b.is_empty()) {
            self.flush_transforms();
        }
        self.route(msg);
    }

    #[inline(never)]
    fn through_plugins(&mut self, msg: Message<'_>) {
        let index = match &self.rules.plugins {
            Some(plugins) => plugins.transform_for(msg.subject),
            None => None,
        };
        if let Some(index) = index {
            self.queue_transform(index, msg);
            return;
        }
        self.flush_transforms();
        self.apply_routing(msg);
    }

    fn queue_transform(&mut self, index: usize, msg: Message<'_>) {
        let batch = self.transform_batch.get_or_insert_with(Box::default);
        if !batch.is_empty() && (batch.plugin != index || batch.is_full()) {
            self.flush_transforms();
        }
        let Some(plugins) = &self.rules.plugins else {
            return;
        };
        let batch = self.transform_batch.get_or_insert_with(Box::default);
        batch.plugin = index;
        batch.push(
            &plugins.transforms[index].registered,
            msg.subject,
            msg.reply,
            msg.headers,
            msg.payload,
        );
    }

    /// Calls the transform on the pending batch and delivers what it
    /// decided, in order.
    pub(super) fn flush_transforms(&mut self) {
        let Some(mut batch) = self.transform_batch.take_if(|b| !b.is_empty()) else {
            return;
        };
        let Some(plugins) = self.rules.plugins.clone() else {
            batch.clear();
            self.transform_batch = Some(batch);
            return;
        };
        let plugin = &plugins.transforms[batch.plugin];
        let stats = &plugin.pool.stats;
        match plugin.run(&batch, self.limits.max_payload) {
            Ok(actions) => {
                let (mut dropped, mut rejected, mut modified) = (0, 0, 0);
                for (i, action) in actions.into_iter().enumerate() {
                    match outcome(&batch, i, action) {
                        Outcome::Deliver(m) => self.apply_routing(m.into()),
                        Outcome::Replace(produced) => {
                            modified += 1;
                            for p in &produced {
                                self.apply_routing(p.into());
                            }
                        }
                        Outcome::Drop => dropped += 1,
                        Outcome::Reject(reason) => {
                            rejected += 1;
                            self.answer_refusal(batch.original(i).reply, &reason);
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
                        self.apply_routing(batch.original(i).into());
                    }
                }
            }
        }
        batch.clear();
        self.transform_batch = Some(batch);
    }

    /// Asks the routing policy for `msg`'s subject, if any, where it goes.
    fn apply_routing(&mut self, msg: Message<'_>) {
        let Some(plugins) = self
            .rules
            .plugins
            .as_ref()
            .filter(|p| p.router_for(msg.subject).is_some())
            .cloned()
        else {
            self.route(msg);
            return;
        };
        let Some(router) = plugins.router_for(msg.subject) else {
            return;
        };
        let identity = self.login.identity.as_ref();
        let publisher = PublisherInfo {
            user: identity.map_or("", |i| &i.user),
            client_id: self.handle.id,
            client_name: self.opts.name.as_deref(),
        };
        let decision = router.decide(msg.subject, msg.reply, msg.headers, msg.payload, &publisher);
        let stats = &router.pool.stats;
        match decision {
            Ok(Route::Allow) => self.route(msg),
            Ok(Route::Deny(reason)) => {
                PluginStats::add(&stats.rejected, 1);
                self.answer_refusal(msg.reply, &reason);
            }
            Ok(Route::Reroute(to)) => {
                PluginStats::add(&stats.rerouted, 1);
                self.route(Message {
                    subject: to.as_bytes(),
                    ..msg
                });
            }
            Ok(Route::FanOut(extra)) => {
                PluginStats::add(&stats.rerouted, 1);
                self.route(msg);
                for subject in &extra {
                    self.route(Message {
                        subject: subject.as_bytes(),
                        ..msg
                    });
                }
            }
            Err(_) => {
                PluginStats::add(&stats.failed_messages, 1);
                if router.policy == FailurePolicy::FailOpen {
                    self.route(msg);
                }
            }
        }
    }

    /// Tells a publisher that asked for an answer (a reply subject it
    /// subscribes to, on a connection that negotiated headers) that its
    /// message was refused: a header-only message with status 403, like
    /// the 503 of "no responders".
    fn answer_refusal(&mut self, reply: Option<&[u8]>, reason: &str) {
        let Some(reply) = reply else { return };
        if !self.opts.headers {
            return;
        }
        let Some(entry) = self.subs.values().find(|e| matches(&e.sub.subject, reply)) else {
            return;
        };
        let mut hdr = b"NATS/1.0 403 ".to_vec();
        // The reason is the plugin's text: no control byte of it reaches
        // the status line.
        hdr.extend(reason.bytes().filter(|&b| b >= 0x20 && b != 0x7f).take(256));
        hdr.extend_from_slice(b"\r\n\r\n");
        let sid = entry.sub.sid.clone();
        self.handle
            .control(|b| encode_hmsg(b, reply, &sid, None, &hdr, b""));
    }
}

/// Keeps `TransformBatch` reachable from the connection's field type.
pub(super) type PendingTransforms = Option<Box<TransformBatch>>;

#[cfg(test)]
mod tests {
    /// The prefix plugin output is checked against is the one the
    /// response map hands out.
    #[test]
    fn plugins_may_not_use_the_response_maps_reply_subjects() {
        assert_eq!(
            crate::plugin::validate::BROKER_REPLY_PREFIX,
            super::super::responses::RESPONSE_PREFIX
        );
    }
}
