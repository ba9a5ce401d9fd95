//! `switchyard bench`: the load generator, against any NATS server.

use crate::bench::{BenchArgs, run as run_bench};
use anyhow::Context;

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = runtime.block_on(run_bench(&args))?;
    println!("{report}");
    Ok(())
}
