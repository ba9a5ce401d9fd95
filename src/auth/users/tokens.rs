//! Token lookup that does not leak token bytes through timing.
//!
//! A plain `HashMap<String, _>` compares the guessed token with stored ones
//! byte by byte, stopping at the first difference. Here the map is keyed by
//! a digest under a per-process random key (SipHash via `RandomState`), so
//! an attacker cannot aim at a bucket, and the candidates are compared in
//! constant time. A bcrypt-hashed token cannot be indexed at all: it is
//! tried after the plain lookup misses. The directory admits at most one
//! (see `AuthConfigIssue::SecondBcryptToken`), so an unknown token costs
//! at most one bcrypt check, never one per configured hash.

use crate::auth::password::{constant_time_eq, is_bcrypt, verify_secret};
use rustc_hash::FxHashMap;
use std::hash::{BuildHasher, RandomState};

#[derive(Debug)]
pub(super) struct TokenIndex {
    digest_key: RandomState,
    /// Digest to the plain tokens with that digest (one, but for a 2^-64
    /// collision) and their identity index.
    plain: FxHashMap<u64, Vec<(Box<str>, usize)>>,
    /// bcrypt hashes and their identity index; at most one once the
    /// directory is validated.
    hashed: Vec<(Box<str>, usize)>,
}

impl TokenIndex {
    pub(super) fn new() -> Self {
        TokenIndex {
            digest_key: RandomState::new(),
            plain: FxHashMap::default(),
            hashed: Vec::new(),
        }
    }

    pub(super) fn insert(&mut self, token: &str, identity: usize) {
        if is_bcrypt(token) {
            self.hashed.push((token.into(), identity));
        } else {
            let digest = self.digest_key.hash_one(token);
            self.plain
                .entry(digest)
                .or_default()
                .push((token.into(), identity));
        }
    }

    /// The identity index of the user whose token is `given`.
    pub(super) fn find(&self, given: &str) -> Option<usize> {
        let digest = self.digest_key.hash_one(given);
        let plain = self.plain.get(&digest).and_then(|candidates| {
            candidates
                .iter()
                .find(|(token, _)| constant_time_eq(given.as_bytes(), token.as_bytes()))
        });
        plain
            .or_else(|| {
                self.hashed
                    .iter()
                    .find(|(hash, _)| verify_secret(given, hash))
            })
            .map(|(_, identity)| *identity)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.plain.is_empty() && self.hashed.is_empty()
    }
}
