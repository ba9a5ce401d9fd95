//! Logging a connection in: its credentials checked (`Credentials`, on
//! the login pool of `gate`), then bound to its tenant's account as a
//! `Session` with the rules and limits that apply. After a reload the same
//! credentials are checked again and the session rebound.
//!
//! These are functions of their inputs (tenancy, CONNECT options, peer),
//! not of a connection, so every kind of connection logs in the same way.
//!
//! May use: `auth`, `client`, `plugin`, `protocol`, `tenant`.

mod credentials;
mod failure;
pub mod gate;
mod session;

pub use credentials::{Checked, Credentials, Grant, PendingLogin};
pub use failure::AuthFailure;
pub use gate::{LoginGate, login_workers};
pub use session::{Refusal, Session};
