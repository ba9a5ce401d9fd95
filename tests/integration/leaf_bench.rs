//! `switchyard bench --sub-url --await-interest` across a leaf connection:
//! publishers on the hub, subscribers on the leaf. Without waiting for the
//! interest to cross, the first messages would be dropped by the hub.

use crate::common::{bench, start_with};
use crate::leaf_nats::{switchyard_hub, switchyard_leaf_of};
use switchyard::ServerConfig;

#[tokio::test]
async fn bench_publishes_on_the_hub_and_counts_on_the_leaf() {
    let hub = switchyard_hub().await;
    let leaf = switchyard_leaf_of(&hub.leaf_addr().expect("leaf port").to_string()).await;
    let (url, sub_url) = (hub.client_url(), leaf.client_url());
    for (mode, subs, expected) in [("pubsub", "2", 2 * 5_000), ("queue", "2", 5_000)] {
        let argv = [
            mode,
            "--url",
            &url,
            "--sub-url",
            &sub_url,
            "--await-interest",
            "--subs",
            subs,
            "--msgs",
            "5000",
            "--timeout",
            "10",
        ];
        let report = bench(&argv).await.expect("bench runs");
        // Exactly what was published: no probe was counted, none missing.
        assert_eq!(report.delivered, expected, "{mode}");
    }
    // Without a leaf the probe still works (the interest is local).
    let single = start_with(ServerConfig::default()).await;
    let url = single.client_url();
    let report = bench(&[
        "pubsub",
        "--url",
        &url,
        "--await-interest",
        "--msgs",
        "1000",
    ])
    .await
    .expect("bench runs");
    assert_eq!(report.delivered, 1000);
}
