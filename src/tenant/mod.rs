//! The account model: tenants' accounts and their subscription indexes,
//! what their users may do (permissions), how subjects are rewritten
//! (mappings), imports and exports with the responses they owe, the
//! registry that builds accounts from tenant files, and `Tenancy`, the
//! whole of it as one reloadable snapshot.
//!
//! May use: `protocol` (CONNECT options), `subject`, `config`, `client`,
//! `auth` (credential checks), `plugin` (accounts hold their tenants'
//! plugins).

pub mod account;
pub mod interest;
pub mod mappings;
pub mod permissions;
pub mod registry;
pub mod responses;
pub mod tenancy;

pub use account::{
    Account, AccountRules, AccountTraffic, DEFAULT_MAX_SUBSCRIPTION_BYTES, GLOBAL_ACCOUNT,
    SYSTEM_ACCOUNT, ServiceImport, StreamImport, Traffic,
};
pub use account::{Admit, Shadow, Subscription, Target};
pub use interest::{InterestWatcher, Watchers};
pub use responses::{Forward, RESPONSE_PREFIX, ResponseMap};
pub use tenancy::{Tenancy, TenancyError};
