//! Hostile-tenant attacks: plugins.
