//! What a connection is to the rest of the broker: the handle other tasks
//! hold (its outbound buffer, grants, kill switch), the buffer itself, what
//! monitoring may read of it, and why it closed.
//!
//! May use: `protocol` (close reasons map parse errors). Knows nothing of
//! accounts, subscriptions or sockets.

mod batch;
mod close;
mod handle;
mod info;
mod outbound;
mod permits;

pub use batch::Batch;
pub use close::CloseReason;
pub use handle::ClientHandle;
pub use info::{ClientCounters, ClientMeta};
pub use outbound::{Outbound, Push, SHARE_MAX, SHARE_MIN};
pub use permits::{DeliveryFilter, MAX_OPEN_REPLIES, ResponsePermission};
