use super::*;
use crate::config::tenant::ResponseLimits;
use crate::subject::matches;
use proptest::prelude::*;
use std::time::Duration;

fn rules(allow: &[&str], deny: &[&str]) -> Option<SubjectRules> {
    Some(SubjectRules {
        allow: allow.iter().map(|s| s.to_string()).collect(),
        deny: deny.iter().map(|s| s.to_string()).collect(),
    })
}

fn compile(p: Permissions) -> CompiledPermissions {
    CompiledPermissions::compile(&p).unwrap_or_else(|e| panic!("{e}"))
}

fn publish(allow: &[&str], deny: &[&str]) -> CompiledPermissions {
    compile(Permissions {
        publish: rules(allow, deny),
        ..Permissions::default()
    })
}

fn subscribe(allow: &[&str], deny: &[&str]) -> CompiledPermissions {
    compile(Permissions {
        subscribe: rules(allow, deny),
        ..Permissions::default()
    })
}

#[test]
fn allow_all_and_empty_lists_restrict_nothing() {
    for p in [
        CompiledPermissions::allow_all(),
        compile(Permissions::default()),
        publish(&[], &[]),
        subscribe(&[], &[]),
    ] {
        assert!(p.is_unrestricted());
        assert!(p.can_publish(b"any.thing"));
        assert!(p.can_subscribe(b">", Some(b"q")));
        assert!(!p.sub_needs_delivery_filter(b">"));
        assert!(p.deliverable(b"any.thing"));
        assert_eq!(p.response_permission(), None);
    }
}

#[test]
fn publish_allow_only() {
    let p = publish(&["orders.>", "status"], &[]);
    assert!(p.can_publish(b"orders.new"));
    assert!(p.can_publish(b"orders.eu.new"));
    assert!(p.can_publish(b"status"));
    assert!(!p.can_publish(b"orders"));
    assert!(!p.can_publish(b"status.x"));
    assert!(!p.can_publish(b"billing"));
    // Publish rules leave subscriptions alone.
    assert!(p.can_subscribe(b"billing", None));
}

#[test]
fn publish_deny_only() {
    let p = publish(&[], &["admin.>", "*.secret"]);
    assert!(p.can_publish(b"orders.new"));
    assert!(!p.can_publish(b"admin.reset"));
    assert!(!p.can_publish(b"x.secret"));
    assert!(p.can_publish(b"x.y.secret"));
}

#[test]
fn publish_allow_then_deny() {
    let p = publish(&["orders.>"], &["orders.internal.>"]);
    assert!(p.can_publish(b"orders.new"));
    assert!(!p.can_publish(b"orders.internal.audit"));
    assert!(!p.can_publish(b"billing"));
}

#[test]
fn cache_answers_like_the_rules_and_follows_a_reload() {
    let p = publish(&["orders.>"], &["orders.internal.>"]);
    let mut cache = PublishCheckCache::new();
    for _ in 0..2 {
        assert!(p.can_publish_cached(&mut cache, b"orders.new"));
        assert!(!p.can_publish_cached(&mut cache, b"orders.internal.x"));
        assert!(!p.can_publish_cached(&mut cache, b"billing"));
    }
    assert_eq!(cache.len(), 3);
    // New permissions (a reload): the cache forgets the old answers.
    let q = publish(&["billing"], &[]);
    assert!(q.can_publish_cached(&mut cache, b"billing"));
    assert!(!q.can_publish_cached(&mut cache, b"orders.new"));
    assert_eq!(cache.len(), 2);
    // Unrestricted publishing does not touch the cache.
    assert!(CompiledPermissions::allow_all().can_publish_cached(&mut cache, b"x"));
    assert_eq!(cache.len(), 2);
}

#[test]
fn cache_is_bounded() {
    let p = publish(&["a.*"], &[]);
    let mut cache = PublishCheckCache::new();
    for i in 0..3000 {
        let s = format!("a.{i}");
        assert!(p.can_publish_cached(&mut cache, s.as_bytes()));
        assert!(cache.len() <= MAX_CACHED);
    }
}

#[test]
fn subscribe_allow_deny_and_wildcard_subjects() {
    let p = subscribe(&["orders.*", "status.>"], &["status.secret"]);
    assert!(p.can_subscribe(b"orders.new", None));
    assert!(
        p.can_subscribe(b"orders.*", None),
        "entry covers the wildcard"
    );
    assert!(!p.can_subscribe(b"orders.new.x", None));
    assert!(
        !p.can_subscribe(b"*.new", None),
        "`*` in the SUB is not covered by `orders`"
    );
    assert!(!p.can_subscribe(b">", None));
    assert!(p.can_subscribe(b"status.ok", None));
    assert!(!p.can_subscribe(b"status.secret", None));
    // nats-server's sublist lets a `*` entry cover a `>` token.
    assert!(p.can_subscribe(b"orders.>", None));
    let d = subscribe(&[], &["foo.*"]);
    assert!(!d.can_subscribe(b"foo.>", None));
}

#[test]
fn wildcard_overlapping_deny_is_allowed_and_filtered() {
    let p = subscribe(&["orders.>"], &["orders.internal", "*.audit"]);
    assert!(p.can_subscribe(b"orders.*", None));
    assert!(p.sub_needs_delivery_filter(b"orders.*"));
    assert!(p.deliverable(b"orders.new"));
    assert!(!p.deliverable(b"orders.internal"));
    assert!(
        !p.deliverable(b"orders.audit"),
        "partial overlap `*.audit` filtered too"
    );
    assert!(
        !p.sub_needs_delivery_filter(b"orders.new"),
        "literal subjects were checked at SUB"
    );
    assert!(!p.can_subscribe(b"orders.internal", None));
    let q = subscribe(&[], &["orders.internal"]);
    assert!(!q.sub_needs_delivery_filter(b"billing.*"));
    assert!(q.sub_needs_delivery_filter(b">"));
    // Overlap without containment still needs the filter (nats-server's
    // subset test would miss it and deliver `orders.audit`).
    let partial = subscribe(&[], &["*.audit"]);
    assert!(partial.can_subscribe(b"orders.*", None));
    assert!(partial.sub_needs_delivery_filter(b"orders.*"));
    assert!(!partial.deliverable(b"orders.audit"));
}

#[test]
fn queue_scoped_allow() {
    let p = subscribe(&["jobs.* v1", "news"], &[]);
    assert!(p.can_subscribe(b"jobs.a", Some(b"v1")));
    assert!(
        !p.can_subscribe(b"jobs.a", None),
        "plain SUB needs a plain entry"
    );
    assert!(!p.can_subscribe(b"jobs.a", Some(b"v2")));
    assert!(p.can_subscribe(b"news", None));
    assert!(
        p.can_subscribe(b"news", Some(b"any")),
        "plain entries cover queue groups"
    );
    assert!(p.can_subscribe(b"jobs.a", Some(b"")) == p.can_subscribe(b"jobs.a", None));
    // When queue-scoped entries match, the group must be one of them even
    // though a plain entry matched too (nats-server's canSubscribe).
    let both = subscribe(&["jobs.>", "jobs.* v1"], &[]);
    assert!(both.can_subscribe(b"jobs.a", None));
    assert!(both.can_subscribe(b"jobs.a", Some(b"v1")));
    assert!(!both.can_subscribe(b"jobs.a", Some(b"v2")));
    assert!(
        both.can_subscribe(b"jobs.a.b", Some(b"v2")),
        "no scoped entry matches"
    );
    // Queue names in permissions may be patterns.
    let pat = subscribe(&["jobs v1.*"], &[]);
    assert!(pat.can_subscribe(b"jobs", Some(b"v1.blue")));
    assert!(!pat.can_subscribe(b"jobs", Some(b"v2.blue")));
}

#[test]
fn queue_scoped_deny() {
    let p = subscribe(&[], &["jobs.* v2"]);
    assert!(p.can_subscribe(b"jobs.a", None));
    assert!(p.can_subscribe(b"jobs.a", Some(b"v1")));
    assert!(!p.can_subscribe(b"jobs.a", Some(b"v2")));
    assert!(
        p.deliverable(b"jobs.a"),
        "queue-scoped denies do not filter deliveries"
    );
    // A plain deny still holds when a queue-scoped deny names another group.
    let both = subscribe(&[], &["jobs.a", "jobs.a v2"]);
    assert!(!both.can_subscribe(b"jobs.a", Some(b"v1")));
    assert!(!both.can_subscribe(b"jobs.a", Some(b"v2")));
}

#[test]
fn allow_responses() {
    let with = |r| Permissions {
        allow_responses: Some(r),
        ..Permissions::default()
    };
    let on = compile(with(AllowResponses::Enabled(true)));
    assert_eq!(on.response_permission(), Some(ResponsePermission::DEFAULT));
    assert_eq!(ResponsePermission::DEFAULT.ttl, Duration::from_secs(120));
    // Without an allow list, only replies may be published (nats-server).
    assert!(!on.can_publish(b"anything"));
    let off = compile(with(AllowResponses::Enabled(false)));
    assert_eq!(off.response_permission(), None);
    assert!(off.can_publish(b"anything"));
    let limits = compile(with(AllowResponses::Limits(ResponseLimits {
        max: 5,
        ttl: Duration::from_secs(5),
    })));
    assert_eq!(
        limits.response_permission(),
        Some(ResponsePermission {
            max: 5,
            ttl: Duration::from_secs(5)
        })
    );
    let zeros = compile(with(AllowResponses::Limits(ResponseLimits {
        max: 0,
        ttl: Duration::ZERO,
    })));
    assert_eq!(
        zeros.response_permission(),
        Some(ResponsePermission::DEFAULT)
    );
    let listed = compile(Permissions {
        publish: rules(&["svc.>"], &[]),
        allow_responses: Some(AllowResponses::Enabled(true)),
        ..Permissions::default()
    });
    assert!(listed.can_publish(b"svc.x"));
    assert!(!listed.can_publish(b"other"));
}

#[test]
fn rejects_bad_entries_with_their_list() {
    let err = |p: Permissions| {
        CompiledPermissions::compile(&p)
            .err()
            .map(|e| e.to_string())
    };
    let bad_pub = Permissions {
        publish: rules(&["foo..bar"], &[]),
        ..Permissions::default()
    };
    assert_eq!(
        err(bad_pub).as_deref(),
        Some("publish allow entry `foo..bar` is not a valid subject")
    );
    let queue_on_pub = Permissions {
        publish: rules(&[], &["foo v1"]),
        ..Permissions::default()
    };
    assert_eq!(
        err(queue_on_pub).as_deref(),
        Some("publish deny entry `foo v1` is not a valid subject")
    );
    for entry in ["a b c", "", "  "] {
        let p = Permissions {
            subscribe: rules(&[], &[entry]),
            ..Permissions::default()
        };
        assert_eq!(
            err(p),
            Some(format!(
                "subscribe deny entry `{entry}` must be `subject` or `subject queue`"
            ))
        );
    }
    let bad_sub = Permissions {
        subscribe: rules(&["a.>.b q"], &[]),
        ..Permissions::default()
    };
    assert!(matches!(
        CompiledPermissions::compile(&bad_sub),
        Err(PermissionError::InvalidSubject {
            list: ListName::SubscribeAllow,
            ..
        })
    ));
}

fn filter() -> impl Strategy<Value = String> {
    let token = prop::sample::select(vec!["a", "b", "c", "*"]);
    (prop::collection::vec(token, 1..4), any::<bool>()).prop_map(|(mut t, fwc)| {
        if fwc {
            t.push(">");
        }
        t.join(".")
    })
}

/// Every literal subject over {a, b, c, d} with 1 to 5 tokens: enough to
/// reach every overlap of the filters `filter` makes.
fn all_literals() -> Vec<String> {
    let mut level = vec![String::new()];
    let mut out = Vec::new();
    for _ in 0..5 {
        level = level
            .iter()
            .flat_map(|p| {
                ["a", "b", "c", "d"].map(|t| {
                    if p.is_empty() {
                        t.to_string()
                    } else {
                        format!("{p}.{t}")
                    }
                })
            })
            .collect();
        out.extend(level.iter().cloned());
    }
    out
}

fn literal() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(vec!["a", "b", "c", "d"]), 1..5)
        .prop_map(|t| t.join("."))
}

proptest! {
    /// can_publish (cached and not) agrees with the definition.
    #[test]
    fn publish_matches_naive(
        allow in prop::collection::vec(filter(), 0..4),
        deny in prop::collection::vec(filter(), 0..4),
        subjects in prop::collection::vec(literal(), 1..20),
    ) {
        let strs = |v: &[String]| v.to_vec();
        let p = CompiledPermissions::compile(&Permissions {
            publish: Some(SubjectRules { allow: strs(&allow), deny: strs(&deny) }),
            ..Permissions::default()
        }).unwrap_or_else(|e| panic!("{e}"));
        let mut cache = PublishCheckCache::new();
        for s in subjects.iter().chain(subjects.iter()) {
            let s = s.as_bytes();
            let naive = (allow.is_empty() || allow.iter().any(|f| matches(f.as_bytes(), s)))
                && !deny.iter().any(|f| matches(f.as_bytes(), s));
            prop_assert_eq!(p.can_publish(s), naive);
            prop_assert_eq!(p.can_publish_cached(&mut cache, s), naive);
        }
    }

    /// A subscription that is allowed never receives a denied subject
    /// unfiltered: either the deny was caught at SUB, or the subscription
    /// is flagged for delivery filtering and the subject is filtered.
    #[test]
    fn denied_subjects_never_reach_allowed_subscriptions(
        allow in prop::collection::vec(filter(), 0..3),
        deny in prop::collection::vec(filter(), 1..3),
        sub in filter(),
    ) {
        let p = CompiledPermissions::compile(&Permissions {
            subscribe: Some(SubjectRules { allow, deny: deny.clone() }),
            ..Permissions::default()
        }).unwrap_or_else(|e| panic!("{e}"));
        if p.can_subscribe(sub.as_bytes(), None) {
            for m in all_literals().iter().filter(|m| matches(sub.as_bytes(), m.as_bytes())) {
                let denied = deny.iter().any(|d| matches(d.as_bytes(), m.as_bytes()));
                let delivered = !p.sub_needs_delivery_filter(sub.as_bytes()) || p.deliverable(m.as_bytes());
                prop_assert!(!(denied && delivered), "{} delivered to {}", m, sub);
            }
        }
    }

    /// For literal plain subscriptions can_subscribe is allow-then-deny.
    #[test]
    fn literal_subscribe_matches_naive(
        allow in prop::collection::vec(filter(), 0..4),
        deny in prop::collection::vec(filter(), 0..4),
        s in literal(),
    ) {
        let p = CompiledPermissions::compile(&Permissions {
            subscribe: Some(SubjectRules { allow: allow.clone(), deny: deny.clone() }),
            ..Permissions::default()
        }).unwrap_or_else(|e| panic!("{e}"));
        let s = s.as_bytes();
        let naive = (allow.is_empty() || allow.iter().any(|f| matches(f.as_bytes(), s)))
            && !deny.iter().any(|f| matches(f.as_bytes(), s));
        prop_assert_eq!(p.can_subscribe(s, None), naive);
    }
}

/// nats-server matches a subject with an empty token against its lists and
/// finds nothing: any allow list refuses it, a deny list never does.
#[test]
fn subjects_with_an_empty_token_match_no_list_entry() {
    assert!(!subscribe(&[">"], &[]).can_subscribe(b"a.", None));
    assert!(!subscribe(&["a.*"], &[]).can_subscribe(b"a.", Some(b"q")));
    assert!(subscribe(&[], &["a.*", ">"]).can_subscribe(b"a..b", None));
    assert!(subscribe(&["b"], &[]).can_subscribe(b"b", None));
    assert!(publish(&[], &["b.>"]).can_publish(b"b.c."));
    assert!(!publish(&["b.>"], &[]).can_publish(b"b..c"));
}
