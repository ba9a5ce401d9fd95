//! Monitoring: the HTTP endpoints (`/varz`, `/connz`, `/subsz`,
//! `/accountz`, `/leafz`, `/healthz`, `/metrics`) and the same data for system-account
//! clients over NATS (`$SYS.REQ.SERVER.PING.<KIND>`, statsz), and
//! `$SYS.REQ.USER.INFO` for any logged-in user.
//!
//! This module only reads: every answer is built from the snapshots an
//! `Observer` (the server implements it) gathers on request, with nats-server's JSON field
//! names wherever the concept is the same, so existing NATS tooling reads
//! them. The counters themselves are kept by the server, per connection and
//! per read batch, never per message.
//!
//! May use: `subject`, `tenant`, `client`, `plugin`, `config`. The server
//! uses this module, never the other way round.

mod accountz;
mod connz;
mod error;
mod healthz;
mod http;
mod json;
mod leafz;
mod metrics;
mod observer;
pub mod plugins;
mod process;
mod query;
mod routez;
mod server_ref;
mod statsz;
mod subsz;
mod sys;
mod sysreq;
pub mod time;
mod userinfo;
mod varz;
mod varz_compat;

pub use error::{MonitorError, RequestError};
pub use http::{MonitorListener, bind};
pub use observer::{
    AccountSnapshot, ClusterSettings, ConnSnapshot, ExportSummary, ImportSummary, IndexTotals,
    LeafRemoteSettings, LeafSettings, LeafSnapshot, LeafTotalsSnapshot, Observer, RouteSnapshot,
    ServerSummary, StatsSnapshot, SubSnapshot,
};
pub use plugins::{PluginMetrics, PluginSummary};
pub use sys::answer_system_request;
pub use sysreq::{
    PREFIX as SYSTEM_REQUEST_PREFIX, SystemRequest, USER_INFO as USER_INFO_SUBJECT, server_request,
};
pub use userinfo::{UserInfo, answer_user_info};
