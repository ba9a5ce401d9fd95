//! Isolation as a property: random subjects and wildcard subscriptions in
//! two tenants, and not one delivery crosses between them.

use crate::common;

use common::{TenantDir, user};
use futures::StreamExt;
use proptest::prelude::*;
use std::time::Duration;

const TENANTS: [(&str, &str); 2] = [
    (
        "red",
        "name = \"red\"\n[[users]]\nuser = \"r\"\npassword = \"r\"\n",
    ),
    (
        "blue",
        "name = \"blue\"\n[[users]]\nuser = \"b\"\npassword = \"b\"\n",
    ),
];

fn subject() -> impl Strategy<Value = String> {
    prop::collection::vec(prop_oneof!["a", "b", "c"], 1..4).prop_map(|t| t.join("."))
}

fn filter() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(prop_oneof![3 => "[abc]", 1 => Just("*".to_string())], 1..3),
        any::<bool>(),
    )
        .prop_map(|(mut t, fwc)| {
            if fwc {
                t.push(">".into());
            }
            t.join(".")
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn no_message_crosses_tenants(
        red_filters in prop::collection::vec(filter(), 1..4),
        blue_filters in prop::collection::vec(filter(), 1..4),
        subjects in prop::collection::vec(subject(), 1..12),
    ) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async {
            let dir = TenantDir::new(&TENANTS);
            let server = common::start_with(dir.config()).await;
            let red = user(&server, "r", "r").await;
            let blue = user(&server, "b", "b").await;
            let mut red_subs = Vec::new();
            for f in &red_filters {
                red_subs.push(red.subscribe(f.clone()).await.unwrap());
            }
            let mut blue_subs = Vec::new();
            for f in &blue_filters {
                blue_subs.push(blue.subscribe(f.clone()).await.unwrap());
            }
            red.flush().await.unwrap();
            blue.flush().await.unwrap();
            let total = red_filters.len() + blue_filters.len();
            common::eventually("subscribed", || server.subscriptions() == total).await;
            // Only red publishes: every delivery to blue would be a leak,
            // and red must get exactly what its own filters match.
            for s in &subjects {
                red.publish(s.clone(), "x".into()).await.unwrap();
            }
            red.flush().await.unwrap();
            for (f, sub) in red_filters.iter().zip(red_subs.iter_mut()) {
                let want = subjects.iter().filter(|s| switchyard::subject::matches(f.as_bytes(), s.as_bytes())).count();
                let mut got = 0;
                while got < want {
                    tokio::time::timeout(Duration::from_secs(5), sub.next()).await.expect("in time").expect("open");
                    got += 1;
                }
            }
            for sub in blue_subs.iter_mut() {
                let leak = tokio::time::timeout(Duration::from_millis(50), sub.next()).await;
                assert!(leak.is_err(), "a red message reached blue");
            }
            server.shutdown().await;
        });
    }
}
