//! Server-wide counters. Connections count locally and add their totals once
//! per read batch, so the hot path does no shared atomic per message.

use crate::auth::AuthError;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct ServerStats {
    pub in_msgs: AtomicU64,
    pub in_bytes: AtomicU64,
    pub out_msgs: AtomicU64,
    pub out_bytes: AtomicU64,
    pub slow_consumers: AtomicU64,
    pub total_connections: AtomicU64,
    /// Publishes answered from a connection's match cache.
    pub cache_hits: AtomicU64,
    /// Most deliveries one published message has made.
    pub max_fanout: AtomicU64,
    auth_failures: [AtomicU64; AuthFailure::ALL.len()],
}

/// A plain snapshot of `ServerStats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    pub in_msgs: u64,
    pub in_bytes: u64,
    pub out_msgs: u64,
    pub out_bytes: u64,
    pub slow_consumers: u64,
    pub total_connections: u64,
    pub cache_hits: u64,
    pub max_fanout: u64,
}

/// Why a login failed, coarsely: the label of the auth-failure metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// Unknown user, wrong password, token, nkey or signature, or none given.
    Credentials,
    /// A user JWT that is malformed, expired, or not issued by a known account.
    Jwt,
    Revoked,
    /// The user may not connect from the client's address.
    Source,
    /// The tenant's connection limit was reached.
    AccountLimit,
    /// No CONNECT within `auth_timeout`.
    Timeout,
    /// Refused unchecked: too many logins in progress (`max_pending_logins`
    /// or `max_pending_logins_per_ip`).
    Busy,
}

impl AuthFailure {
    pub const ALL: [AuthFailure; 7] = [
        AuthFailure::Credentials,
        AuthFailure::Jwt,
        AuthFailure::Revoked,
        AuthFailure::Source,
        AuthFailure::AccountLimit,
        AuthFailure::Timeout,
        AuthFailure::Busy,
    ];

    pub fn label(self) -> &'static str {
        match self {
            AuthFailure::Credentials => "credentials",
            AuthFailure::Jwt => "jwt",
            AuthFailure::Revoked => "revoked",
            AuthFailure::Source => "source",
            AuthFailure::AccountLimit => "account_limit",
            AuthFailure::Timeout => "timeout",
            AuthFailure::Busy => "busy",
        }
    }

    pub fn of(e: &AuthError) -> AuthFailure {
        match e {
            AuthError::BadJwt { .. }
            | AuthError::UnknownAccount { .. }
            | AuthError::NotIssuedByAccount { .. }
            | AuthError::BearerNotAllowed { .. }
            | AuthError::NoOperator => AuthFailure::Jwt,
            AuthError::Revoked { .. } => AuthFailure::Revoked,
            AuthError::SourceNotAllowed { .. } => AuthFailure::Source,
            _ => AuthFailure::Credentials,
        }
    }

    fn slot(self) -> usize {
        self as usize
    }
}

impl ServerStats {
    pub fn snapshot(&self) -> StatsSnapshot {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        StatsSnapshot {
            in_msgs: get(&self.in_msgs),
            in_bytes: get(&self.in_bytes),
            out_msgs: get(&self.out_msgs),
            out_bytes: get(&self.out_bytes),
            slow_consumers: get(&self.slow_consumers),
            total_connections: get(&self.total_connections),
            cache_hits: get(&self.cache_hits),
            max_fanout: get(&self.max_fanout),
        }
    }

    pub fn auth_failed(&self, why: AuthFailure) {
        self.auth_failures[why.slot()].fetch_add(1, Ordering::Relaxed);
    }

    /// Failed logins by reason, in `AuthFailure::ALL` order.
    pub fn auth_failures(&self) -> Vec<(AuthFailure, u64)> {
        AuthFailure::ALL
            .iter()
            .map(|&why| (why, self.auth_failures[why.slot()].load(Ordering::Relaxed)))
            .collect()
    }
}

/// Counts accumulated by one connection during one read batch.
#[derive(Debug, Default)]
pub struct LocalStats {
    pub in_msgs: u64,
    pub in_bytes: u64,
    pub out_msgs: u64,
    pub out_bytes: u64,
    pub max_fanout: u64,
}

impl LocalStats {
    pub fn publish(&mut self, to: &ServerStats) {
        if self.in_msgs == 0 && self.out_msgs == 0 {
            return;
        }
        to.in_msgs.fetch_add(self.in_msgs, Ordering::Relaxed);
        to.in_bytes.fetch_add(self.in_bytes, Ordering::Relaxed);
        to.out_msgs.fetch_add(self.out_msgs, Ordering::Relaxed);
        to.out_bytes.fetch_add(self.out_bytes, Ordering::Relaxed);
        // A plain load first: the maximum rarely changes, and a load keeps
        // the cache line shared between publishers.
        if self.max_fanout > to.max_fanout.load(Ordering::Relaxed) {
            to.max_fanout.fetch_max(self.max_fanout, Ordering::Relaxed);
        }
        *self = LocalStats::default();
    }
}
