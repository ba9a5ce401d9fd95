//! Subjects: validation, the subscription index and its match cache, and
//! subject mappings (rewriting a published subject before it is matched).
//!
//! The index stores opaque values (accounts store subscriptions) and
//! knows nothing about connections or sockets.
//!
//! May use: nothing else in the crate.

mod cache;
mod index;
pub mod mapping;
mod rewrite;
pub(crate) mod tokens;
mod validate;

pub use cache::MatchCache;
pub use index::{IndexStats, MatchResult, SubscriptionIndex, footprint};
pub use mapping::{MappingError, MappingTable, SubjectMapping};
pub use rewrite::{RewriteError, SubjectRewrite};
pub use validate::{
    has_empty_token, is_subset_match, is_valid_literal_subject, is_valid_subject, matches,
    subjects_overlap,
};
