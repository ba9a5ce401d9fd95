use super::*;
use crate::subject::matches;
use proptest::prelude::*;

fn one(source: &str, dest: &str) -> SubjectMapping {
    match SubjectMapping::new(source, &[(dest.to_string(), 100)]) {
        Ok(m) => m,
        Err(e) => panic!("{source} -> {dest}: {e}"),
    }
}

fn mapped(m: &SubjectMapping, subject: &str) -> Option<String> {
    m.apply(subject.as_bytes(), 0)
        .map(|v| String::from_utf8_lossy(&v).into_owned())
}

fn problem(source: &str, dest: &str) -> DestinationProblem {
    match SubjectMapping::new(source, &[(dest.to_string(), 100)]) {
        Err(MappingError::InvalidDestination { problem, .. }) => problem,
        other => panic!("{source} -> {dest}: expected a destination error, got {other:?}"),
    }
}

#[test]
fn reorders_wildcards() {
    let m = one("orders.*.*", "orders.{{wildcard(2)}}.{{wildcard(1)}}");
    assert_eq!(
        mapped(&m, "orders.eu.123").as_deref(),
        Some("orders.123.eu")
    );
    assert_eq!(mapped(&m, "orders.eu"), None);
    assert_eq!(mapped(&m, "orders.eu.1.2"), None);
    assert_eq!(mapped(&m, "other.eu.1"), None);
}

#[test]
fn literal_and_legacy_dollar_tokens() {
    let m = one("foo", "bar.baz");
    assert_eq!(mapped(&m, "foo").as_deref(), Some("bar.baz"));
    assert_eq!(mapped(&m, "foo.x"), None);
    let m = one("foo.*.bar.*.baz", "req.$2.$1");
    assert_eq!(mapped(&m, "foo.A.bar.B.baz").as_deref(), Some("req.B.A"));
    // `$` followed by a non-number is literal (nats-server leaves `$SYS` alone).
    let m = one("foo.*", "$SYS.$1.$x");
    assert_eq!(mapped(&m, "foo.a").as_deref(), Some("$SYS.a.$x"));
}

#[test]
fn whitespace_and_name_case_in_functions() {
    let m = one("a.*.*", "b.{{ Wildcard( 2 ) }}.{{partition( 10 , 1 ,2 )}}");
    assert_eq!(mapped(&m, "a.1.a").as_deref(), Some("b.a.1"));
    // Like nats-server's `[wW]ildcard`: only the first letter of each word
    // may change case.
    assert_eq!(
        problem("a.*", "{{WILDCARD(1)}}"),
        DestinationProblem::UnknownFunction("{{WILDCARD(1)}}".into())
    );
}

#[test]
fn full_wildcard_carries_the_rest() {
    let m = one("baz.>", "my.pre.>");
    assert_eq!(mapped(&m, "baz.a.b.c").as_deref(), Some("my.pre.a.b.c"));
    assert_eq!(mapped(&m, "baz"), None);
    let m = one("*.x.>", "{{wildcard(1)}}.>");
    assert_eq!(mapped(&m, "k.x.1.2").as_deref(), Some("k.1.2"));
}

/// The tables in the NATS documentation ("Subject Mapping and Partitioning"),
/// which come from nats-server's FNV-1a over the concatenated tokens.
#[test]
fn partitions_agree_with_nats_server() {
    let m = one(
        "neworders.*",
        "neworders.{{wildcard(1)}}.{{partition(3,1)}}",
    );
    for (id, p) in [(1, 0), (2, 2), (3, 1), (4, 2), (5, 1), (6, 0)] {
        let got = mapped(&m, &format!("neworders.customerid{id}"));
        assert_eq!(got, Some(format!("neworders.customerid{id}.{p}")));
    }
    let m = one(
        "foo.*.*",
        "foo.{{wildcard(1)}}.{{wildcard(2)}}.{{partition(10,1,2)}}",
    );
    for (s, want) in [
        ("foo.1.a", "foo.1.a.1"),
        ("foo.1.b", "foo.1.b.0"),
        ("foo.2.b", "foo.2.b.9"),
        ("foo.2.a", "foo.2.a.2"),
    ] {
        assert_eq!(mapped(&m, s).as_deref(), Some(want));
    }
    // Reference values of 32-bit FNV-1a.
    assert_eq!(fnv1a(FNV_OFFSET, b""), 0x811c_9dc5);
    assert_eq!(fnv1a(FNV_OFFSET, b"a"), 0xe40c_292c);
    assert_eq!(fnv1a(FNV_OFFSET, b"foobar"), 0xbf9c_f968);
    // Tokens are joined without a separator: (ab, c) and (a, bc) collide.
    assert_eq!(
        partition_of([&b"ab"[..], b"c"], 1000),
        partition_of([&b"a"[..], b"bc"], 1000)
    );
}

#[test]
fn weighted_split_with_remainder_keeping_the_subject() {
    let m = SubjectMapping::new(
        "orders",
        &[("orders.a".to_string(), 30), ("orders.b".to_string(), 50)],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    // Ascending weights like nats-server: remainder (20) below 20, then a (30)
    // below 50, then b (50).
    let pick =
        |r: u8| String::from_utf8_lossy(&m.apply(b"orders", r).unwrap_or_default()).into_owned();
    assert_eq!(pick(0), "orders");
    assert_eq!(pick(19), "orders");
    assert_eq!(pick(20), "orders.a");
    assert_eq!(pick(49), "orders.a");
    assert_eq!(pick(50), "orders.b");
    assert_eq!(pick(99), "orders.b");
    assert_eq!(pick(200), "orders.b", "out-of-range draws are clamped");

    let (mut a, mut b, mut kept) = (0u32, 0u32, 0u32);
    for _ in 0..10_000 {
        match m.apply_random(b"orders").as_deref() {
            Some(b"orders.a") => a += 1,
            Some(b"orders.b") => b += 1,
            Some(b"orders") => kept += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    // Expected 3000/5000/2000; 5 standard deviations is under 250.
    for (got, want) in [(a, 3000), (b, 5000), (kept, 2000)] {
        assert!(got.abs_diff(want) < 250, "got {got}, expected about {want}");
    }
}

#[test]
fn rejects_bad_mappings() {
    let err = |source: &str, dests: &[(&str, u8)]| {
        let dests: Vec<(String, u8)> = dests.iter().map(|(d, w)| (d.to_string(), *w)).collect();
        match SubjectMapping::new(source, &dests) {
            Err(e) => e,
            Ok(m) => panic!("{source} accepted: {m:?}"),
        }
    };
    assert!(matches!(
        err("foo..bar", &[("x", 100)]),
        MappingError::InvalidSource(_)
    ));
    assert!(matches!(
        err("foo", &[]),
        MappingError::NoDestinations { .. }
    ));
    assert!(matches!(
        err("foo", &[("x", 0)]),
        MappingError::BadWeight { weight: 0, .. }
    ));
    assert!(matches!(
        err("foo", &[("x", 101)]),
        MappingError::BadWeight { .. }
    ));
    assert!(matches!(
        err("foo", &[("x", 60), ("y", 50)]),
        MappingError::TotalWeight { total: 110, .. }
    ));
    assert!(matches!(
        err("foo", &[("x", 10), ("x", 10)]),
        MappingError::DuplicateDestination { .. }
    ));

    use DestinationProblem as P;
    assert_eq!(problem("foo.*", "bar..x"), P::EmptyToken);
    assert_eq!(problem("foo.*", "bar x"), P::Whitespace("bar x".into()));
    assert_eq!(problem("foo.*", "bar.*"), P::PartialWildcard);
    assert_eq!(problem("foo.>", "bar.>.x"), P::FullWildcardNotLast);
    assert_eq!(problem("foo.>", "bar"), P::FullWildcardMismatch);
    assert_eq!(problem("foo", "bar.>"), P::FullWildcardMismatch);
    assert!(matches!(
        problem("foo.*", "{{wildcard(2)}}"),
        P::IndexOutOfRange {
            index: 2,
            wildcards: 1,
            ..
        }
    ));
    assert!(matches!(
        problem("foo.*", "{{wildcard(0)}}"),
        P::IndexOutOfRange { index: 0, .. }
    ));
    assert!(matches!(
        problem("foo", "$1"),
        P::IndexOutOfRange { wildcards: 0, .. }
    ));
    assert!(matches!(
        problem("foo.>", "{{wildcard(1)}}.>"),
        P::IndexOutOfRange { .. }
    ));
    assert!(matches!(
        problem("foo.*", "{{wildcard()}}"),
        P::NotEnoughArguments(_)
    ));
    assert!(matches!(
        problem("foo.*", "{{wildcard(1,1)}}"),
        P::TooManyArguments(_)
    ));
    assert!(matches!(
        problem("foo.*", "{{wildcard(one)}}"),
        P::InvalidArgument(_)
    ));
    assert!(matches!(
        problem("foo.*", "{{partition(3)}}"),
        P::NotEnoughArguments(_)
    ));
    assert!(matches!(
        problem("foo.*", "{{partition(0,1)}}"),
        P::BadPartitionCount(_)
    ));
    assert!(matches!(
        problem("foo.*", "{{partition(-2,1)}}"),
        P::BadPartitionCount(_)
    ));
    assert!(matches!(
        problem("foo.*", "{{partition(3,1,)}}"),
        P::InvalidArgument(_)
    ));
    assert!(matches!(
        problem("foo.*", "{{splitFromLeft(1,2)}}"),
        P::UnsupportedFunction(_)
    ));
    assert!(matches!(
        problem("foo.*", "{{bogus(1)}}"),
        P::UnknownFunction(_)
    ));
    assert!(matches!(
        problem("foo.*", "{{wildcard 1}}"),
        P::UnknownFunction(_)
    ));
}

#[test]
fn error_messages_name_the_mapping_and_the_reason() {
    let e = SubjectMapping::new("orders.*", &[("o.{{wildcard(3)}}".to_string(), 100)])
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        e.as_deref(),
        Some(
            "mapping `orders.*`: destination `o.{{wildcard(3)}}`: `{{wildcard(3)}}`: \
             wildcard 3 is out of range (the source has 1 `*`)"
        )
    );
    let e = problem("a.*", "b.*").to_string();
    assert_eq!(
        e,
        "`*` cannot appear in a destination; use `{{wildcard(n)}}`"
    );
}

#[test]
fn table_takes_the_first_match() {
    let table = MappingTable::new(vec![
        one("a.b", "first"),
        one("a.*", "second.{{wildcard(1)}}"),
        one(">", "third.>"),
    ]);
    let map = |s: &str| {
        table
            .map(s.as_bytes())
            .map(|v| String::from_utf8_lossy(&v).into_owned())
    };
    assert_eq!(map("a.b").as_deref(), Some("first"));
    assert_eq!(map("a.c").as_deref(), Some("second.c"));
    assert_eq!(map("x.y").as_deref(), Some("third.x.y"));
    assert_eq!(MappingTable::default().map(b"a.b"), None);
    let only = MappingTable::new(vec![one("a.b", "first")]);
    assert_eq!(only.map(b"a.c"), None);
    assert_eq!(only.map_with(b"a.b", 42).as_deref(), Some(&b"first"[..]));
}

#[test]
fn output_is_allocated_once() {
    let m = one(
        "orders.*.*",
        "mapped.orders.{{partition(1000,1,2)}}.{{wildcard(2)}}.{{wildcard(1)}}",
    );
    let out = m
        .apply(b"orders.region-eu.customer-123456", 0)
        .unwrap_or_default();
    assert!(out.capacity() >= out.len());
    assert!(
        out.capacity() <= out.len() + 32,
        "capacity estimate is close"
    );
}

fn token() -> impl Strategy<Value = String> {
    "[a-z0-9]{1,6}"
}

proptest! {
    /// Rendering agrees with a direct construction from the tokens.
    #[test]
    fn renders_like_a_naive_rewrite(a in token(), b in token(), rest in prop::collection::vec(token(), 1..4), n in 1u32..50) {
        let m = one(
            "x.*.y.*.>",
            &format!("{{{{partition({n},2,1)}}}}.$2.k.{{{{wildcard(1)}}}}.>"),
        );
        let subject = format!("x.{a}.y.{b}.{}", rest.join("."));
        let mut key = b.clone().into_bytes();
        key.extend_from_slice(a.as_bytes());
        let p = fnv1a(FNV_OFFSET, &key) % n;
        let want = format!("{p}.{b}.k.{a}.{}", rest.join("."));
        prop_assert_eq!(mapped(&m, &subject), Some(want));
    }

    /// The same key always lands in the same partition, within range.
    #[test]
    fn partition_is_stable_and_in_range(key in token(), other in token(), n in 1u32..64) {
        let m = one("k.*.*", &format!("p.{{{{partition({n},1)}}}}"));
        let first = m.apply(format!("k.{key}.{other}").as_bytes(), 0);
        let again = m.apply(format!("k.{key}.zzz").as_bytes(), 0);
        prop_assert_eq!(&first, &again);
        let digits = first.unwrap_or_default();
        let p: u32 = String::from_utf8_lossy(&digits[2..]).parse().unwrap_or(u32::MAX);
        prop_assert!(p < n);
    }

    /// A mapping never changes which subjects it applies to: `apply` is
    /// `Some` exactly when the source filter matches, and its output is a
    /// valid literal subject.
    #[test]
    fn applies_exactly_where_the_source_matches(
        subject in prop::collection::vec("[ab*]{1}|c", 1..5).prop_map(|t| t.join(".").replace('*', "s")),
        source in prop::collection::vec("[ab*]", 1..4).prop_map(|t| t.join(".")),
        draw in 0u8..100,
    ) {
        let stars = source.split('.').filter(|t| *t == "*").count();
        let dest = (1..=stars).rev().map(|i| format!("${i}")).chain(["z".to_string()]).collect::<Vec<_>>().join(".");
        let m = SubjectMapping::new(&source, &[(dest, 60)]).unwrap_or_else(|e| panic!("{e}"));
        let out = m.apply(subject.as_bytes(), draw);
        prop_assert_eq!(out.is_some(), matches(source.as_bytes(), subject.as_bytes()));
        if let Some(out) = out {
            prop_assert!(crate::subject::is_valid_literal_subject(&out));
        }
    }
}
