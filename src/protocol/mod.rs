//! Wire format of the NATS client protocol: bytes in, operations out, and
//! operations back to bytes.
//!
//! This module knows nothing about sockets, tenants or subscriptions. The
//! parser is stateless and borrows from the caller's buffer, so a frame split
//! across reads is simply re-parsed once more bytes arrive, and payloads are
//! never copied while parsing.
//!
//! May use: nothing else in the crate (the lowest layer).

mod connect;
mod encode;
mod error;
mod parser;
mod peer;
mod route_info;

pub use connect::{ConnectOptions, LeafConnect, NATS_SERVER_VERSION, PeerInfo, ServerInfo};
pub use encode::{
    encode_err, encode_hmsg, encode_hmsg_head, encode_info, encode_msg, encode_msg_head,
    encode_status,
};
pub use error::ParseError;
pub use parser::{Limits, Op, parse, pending_frame};
pub use peer::{
    Dialect, PeerMsg, PeerOp, encode_peer_msg, encode_peer_sub, encode_peer_unsub, names_queue,
    parse_leaf, parse_peer,
};
pub use route_info::{RouteConnect, RouteInfo};
