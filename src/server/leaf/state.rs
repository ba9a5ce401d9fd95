//! What monitoring sees of a leaf connection.

use crate::client::ClientHandle;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

/// One live leaf connection, listed in the server's `leaves`.
pub(in crate::server) struct LeafEntry {
    pub handle: Arc<ClientHandle>,
    /// The peer's server name.
    pub name: String,
    pub account: Arc<str>,
    /// This server dialled it (it is our hub); otherwise the peer dialled us.
    pub solicited: bool,
    /// The peer's interest entries held here.
    pub subscriptions: AtomicUsize,
}

impl LeafEntry {
    pub fn new(
        handle: Arc<ClientHandle>,
        name: String,
        account: Arc<str>,
        solicited: bool,
    ) -> Arc<LeafEntry> {
        Arc::new(LeafEntry {
            handle,
            name,
            account,
            solicited,
            subscriptions: AtomicUsize::new(0),
        })
    }
}
