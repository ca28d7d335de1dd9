//! The `ttfs` subcommands: each file holds one subcommand's arguments
//! (clap) and turns them into one call of the stage's library function.

pub mod board_sim;
pub mod convert;
pub mod cosim;
pub mod files;
pub mod files_hw;
pub mod finetune;
pub mod flow;
pub mod generate;
pub mod gradients;
pub mod inspect;
pub mod passes;
pub mod prog;
pub mod run;
pub mod sim;
pub mod sweep;
pub mod synth;
pub mod train;

use ttfs_hw::target::Target;

/// Parses a `--target` or `--device` value.
pub fn parse_target(text: &str) -> Result<Target, String> {
    Target::parse(text).ok_or_else(|| format!("unknown target {text:?}; use {}", Target::names()))
}

/// The neuron model a network is converted to.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Neuron {
    /// Paper 2's constant-slope neuron (silent zeros; hardware-ready).
    B1,
    /// Paper 1's α/J neuron (every neuron spikes; continuous simulation only).
    Alpha,
}

impl From<Neuron> for ttfs_ir::NeuronModel {
    fn from(n: Neuron) -> Self {
        match n {
            Neuron::B1 => ttfs_ir::NeuronModel::B1,
            Neuron::Alpha => ttfs_ir::NeuronModel::Alpha,
        }
    }
}

/// The options of the passes that shape the integer network (`convert`,
/// `passes run`).
#[derive(clap::Args)]
pub struct PassOptions {
    /// Time bits: one value, or one per spiking layer (input, hidden...).
    #[arg(long, value_delimiter = ',', default_value = "8")]
    pub time_bits: Vec<u32>,
    /// Weight bits: one value, or one per weight layer.
    #[arg(long, value_delimiter = ',', default_value = "8")]
    pub weight_bits: Vec<u32>,
    /// Window margin ζ: each window is (1 + ζ)·X_n (ζ > −1).
    #[arg(long, default_value_t = 0.5, allow_negative_numbers = true)]
    pub margin: f64,
    /// Raw input range P,R mapped onto the input window (default: 0,255
    /// for byte data, else the calibration data's min and max).
    #[arg(long, value_name = "P,R", value_parser = ttfs_convert::stage::parse_range, allow_hyphen_values = true)]
    pub input_range: Option<[f64; 2]>,
    /// Without --input-range: one range for all features, one per feature,
    /// or per feature only when a shared range would squash a feature
    /// below one input code step (raw tabular data).
    #[arg(long, value_enum, default_value = "auto")]
    pub input_encoding: InputEncoding,
}

/// `--input-encoding`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum InputEncoding {
    /// Per feature when features are on very different scales.
    Auto,
    /// Each feature's calibration range.
    PerFeature,
    /// One range for all features.
    Global,
}

impl PassOptions {
    /// The converter's options with `neuron`.
    pub fn options(&self, neuron: Neuron) -> ttfs_convert::Options {
        ttfs_convert::Options {
            neuron: neuron.into(),
            margin: self.margin,
            time_bits: self.time_bits.clone(),
            weight_bits: self.weight_bits.clone(),
            input_range: self.input_range,
            input_encoding: match self.input_encoding {
                InputEncoding::Auto => ttfs_convert::InputEncoding::Auto,
                InputEncoding::PerFeature => ttfs_convert::InputEncoding::PerFeature,
                InputEncoding::Global => ttfs_convert::InputEncoding::Global,
            },
        }
    }
}

/// A data set to run (`sim`, `cosim`).
#[derive(clap::Args)]
pub struct DataArgs {
    /// Input data (IDX, .npy or CSV; .gz allowed).
    #[arg(long)]
    pub data: std::path::PathBuf,
    /// Labels for accuracy.
    #[arg(long)]
    pub labels: Option<std::path::PathBuf>,
    /// Use only the first N samples.
    #[arg(long)]
    pub count: Option<usize>,
}

/// A `--lanes` value: `auto` or a number.
#[derive(Clone, Copy, Debug)]
pub enum LanesArg {
    /// Chosen by the planner.
    Auto,
    /// The same number in every layer (0 = all neurons).
    Count(usize),
}

/// Parses `--lanes`.
fn parse_lanes(text: &str) -> Result<LanesArg, String> {
    if text == "auto" {
        return Ok(LanesArg::Auto);
    }
    text.parse().map(LanesArg::Count).map_err(|_| format!("expected auto or a number of lanes (0 = all), got {text:?}"))
}

/// How the hardware's lanes are chosen (`generate`, `cosim`, `flow`).
#[derive(clap::Args)]
pub struct LaneOptions {
    /// Neurons processed in parallel in every layer: `auto` (the most
    /// inferences per second within --budget, or the fewest logic cells for
    /// --rate), or a number (0 = all).
    #[arg(long, value_parser = parse_lanes, default_value = "auto", conflicts_with = "lanes_per_layer")]
    pub lanes: LanesArg,
    /// Lanes of each dense layer, in order (0 = all).
    #[arg(long, value_delimiter = ',', value_name = "A,B,..")]
    pub lanes_per_layer: Option<Vec<usize>>,
    /// With --lanes auto: the share of the device's logic cells the design
    /// may take, percent.
    #[arg(long, value_name = "PCT", default_value_t = ttfs_hw::planner::DEFAULT_BUDGET_PERCENT)]
    pub budget: f64,
    /// With --lanes auto: inferences per second to reach (streaming, at the
    /// target's default clock or --freq) with the fewest logic cells.
    #[arg(long, value_name = "N")]
    pub rate: Option<f64>,
}

impl LaneOptions {
    /// The planner's lane choice (`clock_mhz`: the clock a rate is reached
    /// at, default the target's).
    pub fn lanes(&self, clock_mhz: Option<f64>) -> ttfs_hw::planner::Lanes {
        use ttfs_hw::planner::{Goal, Lanes};
        match (&self.lanes_per_layer, self.lanes) {
            (Some(per_layer), _) => Lanes::Fixed(per_layer.clone()),
            (None, LanesArg::Count(n)) => Lanes::Fixed(vec![n]),
            (None, LanesArg::Auto) => Lanes::Auto(Goal { budget_percent: self.budget, rate: self.rate, clock_mhz }),
        }
    }
}

/// `text`, or `value` as pretty JSON with a final newline.
pub fn text_or_json<T: serde::Serialize>(
    json: bool,
    value: &T,
    text: impl FnOnce(&T) -> String,
) -> anyhow::Result<String> {
    Ok(if json { serde_json::to_string_pretty(value)? + "\n" } else { text(value) })
}
