//! Hostile-tenant attacks: logins.
