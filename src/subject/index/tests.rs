use super::*;
use crate::subject::{MatchCache, matches};
use proptest::prelude::*;

fn sorted(mut v: Vec<u32>) -> Vec<u32> {
    v.sort_unstable();
    v
}

#[test]
fn wildcards_and_groups() {
    let idx = SubscriptionIndex::new();
    let q = Bytes::from_static(b"workers");
    idx.insert(b"foo.bar", None, 1u32);
    idx.insert(b"foo.*", None, 2);
    idx.insert(b"foo.>", None, 3);
    idx.insert(b">", None, 4);
    idx.insert(b"foo.bar", Some(&q), 5);
    idx.insert(b"foo.*", Some(&q), 6);
    let m = idx.match_subject(b"foo.bar");
    assert_eq!(sorted(m.plain.clone()), vec![1, 2, 3, 4]);
    assert_eq!(m.groups.len(), 1, "one group across filters");
    assert_eq!(sorted(m.groups[0].1.clone()), vec![5, 6]);
    assert_eq!(sorted(idx.match_subject(b"foo.bar.baz").plain), vec![3, 4]);
    assert_eq!(sorted(idx.match_subject(b"foo").plain), vec![4]);

    assert!(idx.remove(b"foo.*", Some(&q), |&v| v == 6));
    assert!(!idx.remove(b"foo.*", Some(&q), |&v| v == 6));
    assert!(idx.remove(b"foo.bar", None, |&v| v == 1));
    let m = idx.match_subject(b"foo.bar");
    assert_eq!(sorted(m.plain), vec![2, 3, 4]);
    assert_eq!(m.groups[0].1, vec![5]);
    assert_eq!(idx.len(), 4);
}

#[test]
fn removal_prunes_the_trie() {
    let idx = SubscriptionIndex::new();
    for i in 0..100u32 {
        let s = format!("a.{i}.c");
        idx.insert(s.as_bytes(), None, i);
        assert!(idx.remove(s.as_bytes(), None, |&v| v == i));
    }
    assert!(idx.root.read().is_empty());
}

#[test]
fn cache_sees_changes() {
    let idx = SubscriptionIndex::new();
    let mut cache = MatchCache::default();
    assert!(cache.lookup(&idx, b"a.b").is_empty());
    idx.insert(b"a.*", None, 7u32);
    assert_eq!(cache.lookup(&idx, b"a.b").plain, vec![7]);
    idx.remove(b"a.*", None, |_| true);
    assert!(cache.lookup(&idx, b"a.b").is_empty());
}

fn arb_filter() -> impl Strategy<Value = String> {
    let token = prop_oneof![4 => "[abc]", 1 => Just("*".to_string())];
    (prop::collection::vec(token, 1..4), any::<bool>()).prop_map(|(mut t, fwc)| {
        if fwc {
            t.push(">".into());
        }
        t.join(".")
    })
}

fn arb_subject() -> impl Strategy<Value = String> {
    prop::collection::vec("[abc]", 1..5).prop_map(|t| t.join("."))
}

proptest! {
    /// The trie (through the cache, with removals in between) agrees with the
    /// naive matcher on every subject.
    #[test]
    fn agrees_with_naive_matcher(
        filters in prop::collection::vec((arb_filter(), prop::option::of("[qr]")), 1..20),
        removals in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
        subjects in prop::collection::vec(arb_subject(), 1..20),
    ) {
        let idx = SubscriptionIndex::new();
        let mut live: Vec<(usize, String, Option<Bytes>)> = Vec::new();
        for (i, (f, q)) in filters.iter().enumerate() {
            let q = q.as_ref().map(|q| Bytes::from(q.clone()));
            idx.insert(f.as_bytes(), q.as_ref(), i);
            live.push((i, f.clone(), q));
        }
        let mut cache = MatchCache::default();
        for s in &subjects { cache.lookup(&idx, s.as_bytes()); }
        for r in removals {
            if live.is_empty() { break; }
            let (id, f, q) = live.remove(r.index(live.len()));
            prop_assert!(idx.remove(f.as_bytes(), q.as_ref(), |&v| v == id));
        }
        for s in &subjects {
            let got = cache.lookup(&idx, s.as_bytes());
            let mut want_plain: Vec<usize> = live.iter().filter(|(_, f, q)| q.is_none() && matches(f.as_bytes(), s.as_bytes())).map(|e| e.0).collect();
            want_plain.sort_unstable();
            let mut got_plain = got.plain.clone();
            got_plain.sort_unstable();
            prop_assert_eq!(got_plain, want_plain);
            for qname in ["q", "r"] {
                let mut want: Vec<usize> = live.iter().filter(|(_, f, q)| q.as_deref() == Some(qname.as_bytes()) && matches(f.as_bytes(), s.as_bytes())).map(|e| e.0).collect();
                want.sort_unstable();
                let mut have: Vec<usize> = got.groups.iter().filter(|(n, _)| n == qname.as_bytes()).flat_map(|(_, m)| m.clone()).collect();
                have.sort_unstable();
                prop_assert_eq!(have, want);
            }
        }
    }
}

#[test]
fn values_and_stats_cover_every_branch() {
    let idx = SubscriptionIndex::new();
    let q = Bytes::from_static(b"q");
    idx.insert(b"a.b", None, 1u32);
    idx.insert(b"a.*", Some(&q), 2);
    idx.insert(b"a.>", None, 3);
    idx.insert(b">", None, 4);
    assert_eq!(sorted(idx.values()), vec![1, 2, 3, 4]);
    assert!(idx.remove(b"a.>", None, |&v| v == 3));
    idx.match_subject(b"a.b");
    let mut cache = MatchCache::default();
    cache.lookup(&idx, b"a.b");
    cache.lookup(&idx, b"a.b");
    assert_eq!(cache.take_hits(), 1);
    assert_eq!(cache.take_hits(), 0);
    assert_eq!(cache.len(), 1);
    assert_eq!(
        idx.stats(),
        IndexStats {
            inserts: 4,
            removes: 1,
            matches: 2
        }
    );
}

/// nats-server's sublist matches nothing for a subject with an empty
/// token, so wildcard subscribers never see `.a`, `a..b` or `a.`.
#[test]
fn subjects_with_an_empty_token_match_nothing() {
    let idx = SubscriptionIndex::new();
    idx.insert(b">", None, 1u32);
    idx.insert(b"*.*", None, 2);
    idx.insert(b"a.*", None, 3);
    idx.insert(b"a.>", None, 4);
    for subject in [&b".a"[..], b"a..b", b"a.", b".", b""] {
        let m = idx.match_subject(subject);
        assert!(
            m.plain.is_empty() && m.groups.is_empty(),
            "{:?} matched",
            String::from_utf8_lossy(subject)
        );
    }
    assert_eq!(sorted(idx.match_subject(b"a.b").plain), vec![1, 2, 3, 4]);
}
