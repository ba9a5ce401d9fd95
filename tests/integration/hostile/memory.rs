//! Hostile-tenant attacks: memory.
