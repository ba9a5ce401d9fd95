//! Leaf node connections, both ways, on nats-server's leaf node
//! protocol: a hub port that accepts leaf nodes (`hub`), and remotes this
//! server joins as a leaf (`remote`). Either way, once logged in the
//! connection is a `LeafConn` bound to one account: the peer's `LS+`
//! become subscriptions that deliver to it as `LMSG` (`route::deliver`,
//! `Target::Leaf`), and the account's own interest goes to the peer
//! through a `PeerLink` that watches the account.
//!
//! May use: the server's shared state and subscriptions table, `login`,
//! `route`, `tenant`, `protocol`, `config`, and `peer_link`, shared with
//! cluster routes.

mod conn;
mod handshake;
mod hub;
mod remote;
pub(in crate::server) mod state;

pub(in crate::server) use hub::accept_loop;
pub(in crate::server) use remote::run_remote;
