//! `switchyard bench`: a load generator for any server that speaks the NATS
//! client protocol, in the spirit of `nats bench`.
//!
//! It talks raw TCP rather than going through a client library so that one
//! publisher task can saturate nats-server on a small machine: publishers write
//! pre-built batches of frames, subscribers skip payloads by index.
//!
//! May use: `auth` (`.creds` files for JWT logins). It speaks to the
//! server only over the network, never through `server`.

mod client;
mod connect;
mod endpoint;
mod error;
mod plan;
mod pubsub;
mod relay;
mod report;
mod req;
mod scan;
mod stats;
mod stream;

pub use error::BenchError;
pub use plan::{BenchArgs, Mode};
pub use report::{BenchReport, ConnStats, RequestStats, SideStats};
pub use stats::Latency;

use plan::Plan;

/// Runs the benchmark described by `args` on the caller's tokio runtime
/// (multi-threaded, so that connections really run in parallel).
pub async fn run(args: &BenchArgs) -> Result<BenchReport, BenchError> {
    let plan = Plan::from_args(args)?;
    match plan.mode {
        Mode::Req => req::run(&plan).await,
        Mode::Connect => connect::run(&plan).await,
        Mode::Relay => relay::run(&plan).await,
        Mode::Pub | Mode::Sub | Mode::Pubsub | Mode::Queue => pubsub::run(&plan).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: BenchArgs,
    }

    fn plan(argv: &[&str]) -> Result<Plan, BenchError> {
        let cli = Cli::try_parse_from(std::iter::once("bench").chain(argv.iter().copied()))
            .map_err(|e| BenchError::Args(e.to_string()))?;
        Plan::from_args(&cli.args)
    }

    #[test]
    fn modes_and_defaults() -> Result<(), BenchError> {
        let p = plan(&["queue"])?;
        assert_eq!(
            (p.mode, p.subs, p.msgs, p.size),
            (Mode::Queue, 4, 1_000_000, 16)
        );
        let p = plan(&["--mode", "req", "--size", "1KiB"])?;
        assert_eq!((p.mode, p.msgs, p.size), (Mode::Req, 20_000, 1024));
        let p = plan(&["pub", "--msgs", "2_000_000", "--url", "localhost:4333"])?;
        assert_eq!(
            (p.msgs, p.endpoint.addr.as_str()),
            (2_000_000, "localhost:4333")
        );
        let p = plan(&["connect", "--pubs", "8"])?;
        assert_eq!((p.mode, p.msgs, p.pubs), (Mode::Connect, 2_000, 8));
        assert!(plan(&["connect", "--creds", "/nonexistent.creds"]).is_err());
        let p = plan(&["relay", "--size", "64KiB"])?;
        assert_eq!(
            (p.mode, p.msgs, p.relay_chunk),
            (Mode::Relay, 16_384, 1 << 20)
        );
        assert!(plan(&["relay", "--size", "0"]).is_err());
        assert!(plan(&["pub", "--mode", "sub"]).is_err());
        assert!(plan(&["pub", "--msgs", "0"]).is_err());
        assert!(plan(&["pub", "--subject", "a.*"]).is_err());
        let p = plan(&["pubsub", "--await-interest", "--sub-url", "127.0.0.1:4223"])?;
        assert!(
            p.probe
                .as_deref()
                .is_some_and(|s| s.starts_with("_BENCH.probe."))
        );
        assert_eq!(plan(&["pubsub"])?.probe, None);
        assert!(plan(&["req", "--await-interest"]).is_err());
        Ok(())
    }
}
