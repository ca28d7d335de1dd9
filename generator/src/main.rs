//! `ttfs`: the ttfs-hdl command-line tool. Parses arguments and dispatches
//! to [`ttfs_gen::cmd`]; all logic lives in the library.

use anyhow::Result;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;
use ttfs_gen::cmd;
use ttfs_gen::convert::Options;
use ttfs_gen::generate::target::Target;
use ttfs_ir::NeuronModel;

#[derive(Parser)]
#[command(name = "ttfs", version, about = "Turn trained ReLU networks into time-to-first-spike hardware")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Neuron {
    /// Paper 2's constant-slope neuron (silent zeros; hardware-ready).
    B1,
    /// Paper 1's α/J neuron (every neuron spikes; continuous simulation only).
    Alpha,
}

impl From<Neuron> for NeuronModel {
    fn from(n: Neuron) -> Self {
        match n {
            Neuron::B1 => NeuronModel::B1,
            Neuron::Alpha => NeuronModel::Alpha,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum SimulatorArg {
    Verilator,
    Icarus,
}

#[derive(Clone, Copy, ValueEnum)]
enum LoadArg {
    Loader,
    Preload,
}

#[derive(Subcommand)]
enum Command {
    /// Map an ONNX (or JSON-form) ReLU model to a TTFS network description.
    Convert {
        /// The model: .onnx, or .json in the documented model form.
        model: PathBuf,
        /// Representative data for the time windows (IDX, .npy or CSV; .gz allowed).
        #[arg(long)]
        calib: PathBuf,
        /// Use only the first N calibration samples.
        #[arg(long)]
        calib_count: Option<usize>,
        /// Where to write the network description.
        #[arg(short, long)]
        output: PathBuf,
        /// Neuron model.
        #[arg(long, value_enum, default_value = "b1")]
        neuron: Neuron,
        /// Time bits: one value, or one per spiking layer (input, hidden...).
        #[arg(long, value_delimiter = ',', default_value = "8")]
        time_bits: Vec<u32>,
        /// Weight bits: one value, or one per weight layer.
        #[arg(long, value_delimiter = ',', default_value = "8")]
        weight_bits: Vec<u32>,
        /// Window margin ζ: each window is (1 + ζ)·X_n.
        #[arg(long, default_value_t = 0.5)]
        margin: f64,
        /// Raw input range P,R mapped onto the input window (default: 0,255
        /// for byte data, else the calibration data's min and max).
        #[arg(long, value_name = "P,R", value_parser = parse_range, allow_hyphen_values = true)]
        input_range: Option<[f64; 2]>,
        /// Overwrite the output file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Simulate a network description on a data set (ReLU, continuous and discrete).
    Sim {
        /// The network description.
        network: PathBuf,
        /// Input data (IDX, .npy or CSV; .gz allowed).
        #[arg(long)]
        data: PathBuf,
        /// Labels for accuracy.
        #[arg(long)]
        labels: Option<PathBuf>,
        /// Use only the first N samples.
        #[arg(long)]
        count: Option<usize>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Write the Verilog accelerator for a network description into DIR.
    Generate {
        /// The network description (from `ttfs convert`).
        network: PathBuf,
        /// Output directory (refused when it exists and is not empty, unless --force).
        #[arg(short, long)]
        output: PathBuf,
        /// Target device.
        #[arg(long, value_parser = parse_target, default_value = "ice40-up5k")]
        target: Target,
        /// Neurons processed in parallel in every layer (0 = all).
        #[arg(long, conflicts_with = "lanes_per_layer")]
        lanes: Option<usize>,
        /// Lanes of each dense layer, in order (0 = all).
        #[arg(long, value_delimiter = ',', value_name = "A,B,..")]
        lanes_per_layer: Option<Vec<usize>>,
        /// Data for the cycle model's mean (IDX, .npy or CSV; .gz allowed).
        #[arg(long)]
        calib: Option<PathBuf>,
        /// Use only the first N samples of --calib.
        #[arg(long)]
        calib_count: Option<usize>,
        /// Write into DIR even if it is not empty.
        #[arg(long)]
        force: bool,
    },
    /// Co-simulate the generated design against the discrete reference.
    Cosim {
        /// A network description, or a directory written by `ttfs generate`.
        input: PathBuf,
        /// Input data (IDX, .npy or CSV; .gz allowed).
        #[arg(long)]
        data: PathBuf,
        /// Labels for accuracy.
        #[arg(long)]
        labels: Option<PathBuf>,
        /// Use only the first N samples.
        #[arg(long)]
        count: Option<usize>,
        /// Lanes in every layer (network input; 0 = all).
        #[arg(long)]
        lanes: Option<usize>,
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
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Run the pipeline end to end (with no model: the bundled digits MLP).
    Flow {
        /// The model (.onnx or JSON form); default: the bundled digits MLP.
        model: Option<PathBuf>,
        /// Evaluation data (required with a model).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Evaluation labels.
        #[arg(long)]
        labels: Option<PathBuf>,
        /// Calibration data (default: the evaluation data).
        #[arg(long)]
        calib: Option<PathBuf>,
        /// Output directory.
        #[arg(short, long, default_value = "ttfs-out")]
        output: PathBuf,
        /// Neuron model.
        #[arg(long, value_enum, default_value = "b1")]
        neuron: Neuron,
        /// Target device (default: ice40-hx8k for the bundled digits MLP, ice40-up5k otherwise).
        #[arg(long, visible_alias = "target", value_parser = parse_target)]
        device: Option<Target>,
        /// Neurons processed in parallel in every layer (0 = all; default: the device's).
        #[arg(long, conflicts_with = "lanes_per_layer")]
        lanes: Option<usize>,
        /// Lanes of each dense layer, in order (0 = all).
        #[arg(long, value_delimiter = ',', value_name = "A,B,..")]
        lanes_per_layer: Option<Vec<usize>>,
        /// nextpnr's placer seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Synthesize, place and route a generated design's board wrapper
    /// (Yosys, nextpnr-ice40, icepack): resources, Fmax, clock, latency.
    Synth {
        /// A directory written by `ttfs generate`.
        dir: PathBuf,
        /// The device (default: the one DIR was generated for).
        #[arg(long, value_parser = parse_target)]
        device: Option<Target>,
        /// The clock to ask for, MHz (default: the board wrapper's PLL clock);
        /// the PLL is set to the fastest clock the routed design meets.
        #[arg(long)]
        freq: Option<f64>,
        /// nextpnr's placer seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Data for the mean cycles per inference (default: DIR's manifest).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Use only the first N samples of --data.
        #[arg(long)]
        count: Option<usize>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show the layers, windows, widths and memory of a network description.
    Inspect {
        /// The network description.
        network: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Parses a `--target` value.
fn parse_target(text: &str) -> std::result::Result<Target, String> {
    Target::parse(text).ok_or_else(|| format!("unknown target {text:?}; use ice40-up5k, ice40-hx8k or generic"))
}

/// Parses `P,R` into an input range.
fn parse_range(text: &str) -> std::result::Result<[f64; 2], String> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let [p, r] = parts.as_slice() else {
        return Err(format!("expected two numbers P,R (e.g. 0,255), got {text:?}"));
    };
    let number = |s: &str| s.parse::<f64>().map_err(|_| format!("{s:?} is not a number"));
    Ok([number(p)?, number(r)?])
}

fn run(cli: Cli) -> Result<String> {
    match cli.command {
        Command::Convert {
            model,
            calib,
            calib_count,
            output,
            neuron,
            time_bits,
            weight_bits,
            margin,
            input_range,
            force,
        } => {
            let options = Options { neuron: neuron.into(), margin, time_bits, weight_bits, input_range };
            cmd::convert::run(&cmd::convert::Args { model, calib, calib_count, output, options, force })
        }
        Command::Generate { network, output, target, lanes, lanes_per_layer, calib, calib_count, force } => {
            let lanes = lanes.map(|n| vec![n]).or(lanes_per_layer).unwrap_or_default();
            cmd::generate::run(&cmd::generate::Args { network, output, target, lanes, calib, calib_count, force })
        }
        Command::Cosim { input, data, labels, count, lanes, target, simulator, load, trace, trace_sample, json } => {
            let simulator = match simulator {
                SimulatorArg::Verilator => cmd::cosim::Simulator::Verilator,
                SimulatorArg::Icarus => cmd::cosim::Simulator::Icarus,
            };
            let load = match load {
                LoadArg::Loader => cmd::cosim::WeightLoad::Loader,
                LoadArg::Preload => cmd::cosim::WeightLoad::Preload,
            };
            let lanes = lanes.map(|n| vec![n]).unwrap_or_default();
            let args =
                cmd::cosim::Args { input, data, labels, count, lanes, target, simulator, load, trace, trace_sample };
            let report = cmd::cosim::run(&args)?;
            let text = if json { serde_json::to_string_pretty(&report)? + "\n" } else { cmd::cosim::render(&report) };
            if report.mismatched_spikes + report.mismatched_outputs > 0 || report.comparison.cycle_model_mismatches > 0
            {
                print!("{text}");
                anyhow::bail!(
                    "the hardware differs from the reference: {} spikes, {} outputs, {} cycle counts",
                    report.mismatched_spikes,
                    report.mismatched_outputs,
                    report.comparison.cycle_model_mismatches
                );
            }
            Ok(text)
        }
        Command::Flow { model, data, labels, calib, output, neuron, device, lanes, lanes_per_layer, seed } => {
            let options = Options { neuron: neuron.into(), ..Options::default() };
            let lanes = lanes.map(|n| vec![n]).or(lanes_per_layer).unwrap_or_default();
            let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
            cmd::flow::run(&cmd::flow::Args {
                model,
                calib,
                data,
                labels,
                output,
                options,
                target: device,
                lanes,
                seed,
                progress,
            })
        }
        Command::Sim { network, data, labels, count, json } => {
            let report = cmd::sim::run(&cmd::sim::Args { network, data, labels, count })?;
            Ok(if json { serde_json::to_string_pretty(&report)? + "\n" } else { cmd::sim::render(&report) })
        }
        Command::Synth { dir, device, freq, seed, data, count, json } => {
            let args = cmd::synth::Args { dir, device, freq_mhz: freq, seed, data, count, cycles: None };
            let report = cmd::synth::run(&args, &mut |step| eprintln!("synth: {step}"))?;
            Ok(if json { serde_json::to_string_pretty(&report)? + "\n" } else { ttfs_gen::synth::render(&report) })
        }
        Command::Inspect { network, json } => {
            let summary = cmd::inspect::run(&network)?;
            Ok(if json { serde_json::to_string_pretty(&summary)? + "\n" } else { cmd::inspect::render(&summary) })
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
