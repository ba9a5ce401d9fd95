//! Where a client connection's messages leave the plugin stage: delivery
//! in its account, and the status messages the server answers a
//! requester with itself (503 no responders, 403 refused by a plugin).

use super::subs::Subscriptions;
use crate::client::ClientHandle;
use crate::protocol::{ConnectOptions, encode_status};
use crate::route::{DeliveryCtx, Message, Sink, deliver};
use crate::subject::matches;
use crate::tenant::Account;
use std::sync::Arc;

/// The parts of a connection delivery writes to, borrowed beside its
/// plugin stage.
pub(super) struct Outlet<'c> {
    pub(super) account: &'c Arc<Account>,
    pub(super) ctx: &'c mut DeliveryCtx,
    pub(super) handle: &'c Arc<ClientHandle>,
    pub(super) subs: &'c Subscriptions,
    pub(super) opts: &'c ConnectOptions,
}

impl Sink for Outlet<'_> {
    fn deliver(&mut self, msg: Message<'_>) {
        let delivered = deliver(self.account, msg, self.ctx);
        if delivered == 0 && self.opts.no_responders && self.opts.headers {
            // Nobody received the request: say so at once.
            self.status(msg.reply, 503, "", Some(msg.subject));
        }
    }

    fn refuse(&mut self, reply: Option<&[u8]>, reason: &str) {
        if self.opts.headers {
            self.status(reply, 403, reason, None);
        }
    }
}

impl Outlet<'_> {
    /// A header-only status message to the requester, on its own
    /// subscription to the reply subject (none: nothing to answer on).
    fn status(&self, reply: Option<&[u8]>, code: u16, description: &str, subject: Option<&[u8]>) {
        let Some(reply) = reply else { return };
        let Some(entry) = self.subs.values().find(|e| matches(&e.sub.subject, reply)) else {
            return;
        };
        let sid = entry.sub.sid.clone();
        self.handle
            .control(|b| encode_status(b, reply, &sid, code, description, subject));
    }
}
