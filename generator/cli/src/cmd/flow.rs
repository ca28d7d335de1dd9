//! `ttfs flow [MODEL --data FILE]`.

use super::{Neuron, parse_target};
use anyhow::Result;
use std::path::PathBuf;
use ttfs_hw::target::Target;

/// Run the pipeline end to end (with no model: the bundled digits MLP).
#[derive(clap::Args)]
pub struct Args {
    /// The model (.onnx or JSON form, or a network description from
    /// convert, train or finetune); default: the bundled digits MLP.
    model: Option<PathBuf>,
    /// Evaluation data (required with a model).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Evaluation labels.
    #[arg(long)]
    labels: Option<PathBuf>,
    /// Representative (training) data for the time windows: required with
    /// a model (windows tuned on the evaluation data would flatter it).
    #[arg(long)]
    calib: Option<PathBuf>,
    /// Output directory.
    #[arg(short, long, default_value = "ttfs-out")]
    output: PathBuf,
    /// Neuron model.
    #[arg(long, value_enum, default_value = "b1")]
    neuron: Neuron,
    /// Target device (default: ice40-hx8k for the bundled digits MLP, ice40-up5k otherwise).
    #[arg(long, visible_alias = "device", value_parser = parse_target)]
    target: Option<Target>,
    #[command(flatten)]
    passes: super::PassOptions,
    #[command(flatten)]
    lanes: super::LaneOptions,
    /// nextpnr's placer seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Use only the first N evaluation samples (sim, cosim, cycle model).
    #[arg(long)]
    count: Option<usize>,
    /// The clock to ask synthesis for, MHz (default: the board wrapper's PLL clock).
    #[arg(long)]
    freq: Option<f64>,
    /// Fail (exit 1) when the simulators warn: the integer network loses
    /// more than a point of accuracy, or the data leave the calibrated ranges.
    #[arg(long)]
    strict: bool,
    /// Run the literal simulators of the sim stage on every sample (as `sim --exhaustive`).
    #[arg(long)]
    exhaustive: bool,
    /// The board wrapper's UART speed, baud (as `generate --baud`).
    #[arg(long, default_value_t = ttfs_hw::board::BAUD)]
    baud: u32,
    /// The stages to run, e.g. `sim,generate` (convert and sim always
    /// run; default: all of them).
    #[arg(long, default_value = "all", value_parser = ttfs_flow::pipeline::Stages::parse)]
    stages: ttfs_flow::pipeline::Stages,
}

/// Runs `ttfs flow`; returns the summary it prints (progress goes to
/// standard error when it is a terminal).
pub fn run(a: Args) -> Result<String> {
    ttfs_flow::run(&ttfs_flow::Args {
        model: a.model,
        calib: a.calib,
        data: a.data,
        labels: a.labels,
        output: a.output,
        options: a.passes.options(a.neuron),
        target: a.target,
        lanes: a.lanes.lanes(a.freq),
        seed: a.seed,
        count: a.count,
        freq_mhz: a.freq,
        strict: a.strict,
        exhaustive: a.exhaustive,
        baud: a.baud,
        stages: a.stages,
        progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
    })
}
