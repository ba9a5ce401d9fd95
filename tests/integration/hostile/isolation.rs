//! Hostile-tenant attacks: isolation.
