//! `ttfs cosim (NET.json | DIR) --data FILE`.

use super::parse_target;
use anyhow::Result;
use std::path::PathBuf;
use ttfs_cosim::stage::{self, Args as Request, Simulator, WeightLoad};
use ttfs_hw::target::Target;

#[derive(Clone, Copy, clap::ValueEnum)]
enum SimulatorArg {
    Verilator,
    Icarus,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LoadArg {
    Loader,
    Preload,
}

/// Co-simulate the generated design against the discrete reference.
#[derive(clap::Args)]
pub struct Args {
    /// A network description, or a directory written by `ttfs generate`.
    input: PathBuf,
    #[command(flatten)]
    data: super::DataArgs,
    /// Lanes when the input is a network description (a directory keeps its own).
    #[command(flatten)]
    lanes: super::LaneOptions,
    /// Target device (network input).
    #[arg(long, value_parser = parse_target, default_value = "ice40-up5k")]
    target: Target,
    /// Simulator: verilator, or icarus for a slow second opinion.
    #[arg(long, value_enum, default_value = "verilator")]
    simulator: SimulatorArg,
    /// SPRAM weights: through the design's loader, or preloaded into the memory models.
    #[arg(long, value_enum, default_value = "loader")]
    load: LoadArg,
    /// Write a VCD waveform of one sample.
    #[arg(long, value_name = "FILE.vcd")]
    trace: Option<PathBuf>,
    /// The sample the waveform shows.
    #[arg(long, default_value_t = 0)]
    trace_sample: usize,
    /// Compile a design directory's hand-edited Verilog even when it holds
    /// constructs `ttfs generate` never writes ($system, $c, DPI, file
    /// output, ...): only for a directory you trust.
    #[arg(long)]
    trust_design: bool,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// Runs `ttfs cosim`; returns what it prints. Any difference from the
/// reference prints the report and fails.
pub fn run(a: Args) -> Result<String> {
    let request = Request {
        input: a.input,
        data: a.data.data,
        labels: a.data.labels,
        count: a.data.count,
        lanes: a.lanes.lanes(None),
        target: a.target,
        simulator: match a.simulator {
            SimulatorArg::Verilator => Simulator::Verilator,
            SimulatorArg::Icarus => Simulator::Icarus,
        },
        load: match a.load {
            LoadArg::Loader => WeightLoad::Loader,
            LoadArg::Preload => WeightLoad::Preload,
        },
        trace: a.trace,
        trace_sample: a.trace_sample,
        trust_design: a.trust_design,
    };
    let report = stage::run(&request)?;
    let text = super::text_or_json(a.json, &report, stage::render)?;
    if let Some(difference) = report.difference() {
        print!("{text}");
        anyhow::bail!("{difference}");
    }
    Ok(text)
}
