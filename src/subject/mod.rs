//! Subjects: validation, the subscription index and its match cache.
//!
//! The index stores opaque values (the server stores subscriptions) and
//! knows nothing about connections or sockets.

mod cache;
mod index;
mod rewrite;
mod validate;

pub use cache::MatchCache;
pub use index::{MatchResult, SubscriptionIndex};
pub use rewrite::{RewriteError, SubjectRewrite, is_subset, overlaps};
pub use validate::{is_valid_literal_subject, is_valid_subject, matches};
