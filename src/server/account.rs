//! The namespace a connection is bound to. Until tenants arrive every
//! connection shares the global account, which owns one subscription index.

use super::handle::Subscription;
use crate::subject::SubscriptionIndex;
use std::sync::Arc;

pub struct Account {
    pub name: String,
    pub index: SubscriptionIndex<Arc<Subscription>>,
}

impl Account {
    pub fn new(name: impl Into<String>) -> Self {
        Account {
            name: name.into(),
            index: SubscriptionIndex::new(),
        }
    }
}

/// nats-server's name for the account of a server without accounts.
pub const GLOBAL_ACCOUNT: &str = "$G";
