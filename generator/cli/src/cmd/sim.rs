//! `ttfs sim NET.json --data FILE`.

use anyhow::Result;
use std::path::PathBuf;
use ttfs_flow::sim_stage::{self, Args as Request};

/// Simulate a network description on a data set (ReLU, continuous and discrete).
#[derive(clap::Args)]
pub struct Args {
    /// The network description.
    network: PathBuf,
    #[command(flatten)]
    data: super::DataArgs,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    /// Fail (exit 1) when there is a warning: the integer network losing
    /// accuracy or agreement against the float one, data outside the
    /// calibration.
    #[arg(long)]
    strict: bool,
    /// Run the literal simulators (event-driven continuous, tick-by-tick
    /// discrete) on every sample, not only on 256 evenly spaced ones.
    #[arg(long)]
    exhaustive: bool,
}

/// Runs `ttfs sim`; returns what it prints.
pub fn run(a: Args) -> Result<String> {
    let report = sim_stage::run(&Request {
        network: a.network,
        data: a.data.data,
        labels: a.data.labels,
        count: a.data.count,
        exhaustive: a.exhaustive,
    })?;
    let warnings = sim_stage::warnings(&report);
    if a.strict && !warnings.is_empty() {
        anyhow::bail!("--strict: {}", warnings.join("; "));
    }
    super::text_or_json(a.json, &report, sim_stage::render)
}
