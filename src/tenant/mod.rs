//! The account model: what a tenant's users may do and how its subjects are
//! rewritten. Everything here is compiled once from the tenant file
//! (`config::tenant`) and then only read on the message path.

pub mod mappings;
pub mod permissions;
