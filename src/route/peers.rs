//! Messages for other servers, gathered while one message is delivered.
//!
//! A peer server (a leaf node or a cluster route) may hold several
//! entries that match one message: plain interest on `orders.*` and on
//! `orders.>`, and members of queue groups. It must get the message once,
//! naming every one of its queue groups chosen to serve it (nats-server's
//! `RMSG acc subj | q1 q2 size`): it delivers to all its own plain
//! subscribers whatever the list says, so a second copy would reach them
//! twice.

use crate::client::ClientHandle;
use crate::protocol::Dialect;
use std::sync::Arc;

/// One peer server the message goes to.
pub(super) struct PeerSend {
    pub dest: Arc<ClientHandle>,
    pub dialect: Dialect,
    /// Its queue groups chosen to serve the message, space-separated.
    pub queues: Vec<u8>,
}

/// The peers of the message being delivered. Kept (empty) between
/// messages, so a message to peers with plain interest allocates nothing.
#[derive(Default)]
pub(super) struct PeerSends {
    pub list: Vec<PeerSend>,
}

impl PeerSends {
    /// Notes that `dest` takes the message, for `queue` if given.
    pub fn add(&mut self, dest: &Arc<ClientHandle>, dialect: Dialect, queue: Option<&[u8]>) {
        let at = match self.list.iter().position(|p| Arc::ptr_eq(&p.dest, dest)) {
            Some(at) => at,
            None => {
                self.list.push(PeerSend {
                    dest: dest.clone(),
                    dialect,
                    queues: Vec::new(),
                });
                self.list.len() - 1
            }
        };
        if let Some(q) = queue {
            let queues = &mut self.list[at].queues;
            if !queues.is_empty() {
                queues.push(b' ');
            }
            queues.extend_from_slice(q);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}
