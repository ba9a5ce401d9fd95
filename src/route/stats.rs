//! Counts one publisher accumulates during one read batch; the server adds
//! them to its totals once per batch, so delivery does no shared atomic
//! per message.

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatchStats {
    pub in_msgs: u64,
    pub in_bytes: u64,
    pub out_msgs: u64,
    pub out_bytes: u64,
    /// Most deliveries one message of the batch made.
    pub max_fanout: u64,
}

impl BatchStats {
    pub fn is_empty(&self) -> bool {
        self.in_msgs == 0 && self.out_msgs == 0
    }
}
