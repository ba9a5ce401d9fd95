//! Cluster routes, on nats-server's route protocol: a route port that
//! accepts peers (`handshake::accept_loop`), the seed routes this server
//! dials and the servers peers tell it of (`dial`). Each route is one
//! connection to one peer server carrying every account: the peer's
//! `RS+` become subscriptions with `Target::Route` in the named account
//! (`conn`), each account's own interest goes to the peer through a
//! `PeerLink`, and a message from a route reaches this server's clients
//! and leaf nodes, never another route (one hop).
//!
//! May use: the server's shared state, `peer_link`, `peer_first`, `tls`,
//! `route`, `tenant`, `protocol`, `config`, `monitor`.

mod conn;
mod dial;
mod gossip;
mod handshake;
mod held;
mod info;
pub(in crate::server) mod state;

pub(in crate::server) use dial::{learner, run_seed};
pub(in crate::server) use gossip::announce_lame_duck;
pub(in crate::server) use handshake::accept_loop;
