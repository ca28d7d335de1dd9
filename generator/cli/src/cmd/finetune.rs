//! `ttfs finetune NET.json --data FILE --labels FILE -o NET2.json`.

use anyhow::Result;
use std::io::IsTerminal;
use std::path::PathBuf;
use ttfs_train::finetune::{self, Args as Request};

/// Fine-tune a converted b1 network with the hardware's exact quantization
/// of spike times and weights in the forward pass (straight-through
/// gradients) and optional spike-time jitter, then re-quantize.
#[derive(clap::Args)]
pub struct Args {
    /// The converted network description.
    network: PathBuf,
    #[command(flatten)]
    data: super::train::DataPair,
    /// Time bits: one value, or one per spiking layer (default: the network's).
    #[arg(long, value_delimiter = ',')]
    time_bits: Option<Vec<u32>>,
    /// Weight bits: one value, or one per weight layer (default: the network's).
    #[arg(long, value_delimiter = ',')]
    weight_bits: Option<Vec<u32>>,
    /// σ of the Gaussian spike-time jitter during training, in ticks.
    #[arg(long, default_value_t = 0.0)]
    noise: f64,
    /// Epochs.
    #[arg(long, default_value_t = 3)]
    epochs: usize,
    /// Mini-batch size.
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 1e-4)]
    lr: f64,
    /// Seed of the shuffles and the jitter.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where to write the fine-tuned description.
    #[arg(short, long)]
    output: PathBuf,
    /// Overwrite the output if it exists.
    #[arg(long)]
    force: bool,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// Runs `ttfs finetune`; returns what it prints.
pub fn run(a: Args) -> Result<String> {
    let report = finetune::run(&Request {
        network: a.network,
        data: a.data.data,
        labels: a.data.labels,
        test_data: a.data.test_data,
        test_labels: a.data.test_labels,
        time_bits: a.time_bits,
        weight_bits: a.weight_bits,
        noise: a.noise,
        epochs: a.epochs,
        batch: a.batch,
        lr: a.lr,
        seed: a.seed,
        output: a.output,
        force: a.force,
        progress: std::io::stderr().is_terminal(),
    })?;
    super::text_or_json(a.json, &report, finetune::render)
}
