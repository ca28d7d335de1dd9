//! `ttfs train --arch SPEC --data FILE --labels FILE -o NET.json`.

use anyhow::Result;
use std::io::IsTerminal;
use std::path::PathBuf;
use ttfs_train::optim::Optimizer;
use ttfs_train::stage::{self, Args as Request};

/// Train a TTFS network from scratch through its spike times (paper 2's
/// constant-slope neuron) and write a calibrated, quantized description.
#[derive(clap::Args)]
pub struct Args {
    /// Architecture: `784-340-10` (input, hidden widths, classes),
    /// `c16k5-p2-c32k5-p2-10` (convolutions `cNkK[sS][zP]`, max pools
    /// `pK[sS]`, dense widths; the input shape from the data), or with the
    /// input first: `1x28x28-c8k3z1-p2-64-10`.
    #[arg(long)]
    arch: String,
    #[command(flatten)]
    data: DataPair,
    /// Epochs (a resumed run continues up to this number).
    #[arg(long, default_value_t = 10)]
    epochs: usize,
    /// Mini-batch size.
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// Learning rate (Adam, decayed by 0.9 every 5000 steps; or SGD).
    #[arg(long, default_value_t = 5e-4)]
    lr: f64,
    /// SGD with this momentum instead of Adam.
    #[arg(long, value_name = "MU")]
    sgd_momentum: Option<f64>,
    /// Seed of the initial weights and the shuffles.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// λ: weight of the spike count (a smooth surrogate) in the loss.
    #[arg(long, default_value_t = 0.0)]
    spike_penalty: f64,
    #[command(flatten)]
    passes: super::PassOptions,
    /// Where to write the network description (NET.json and NET.safetensors).
    #[arg(short, long)]
    output: PathBuf,
    /// Overwrite the output if it exists.
    #[arg(long)]
    force: bool,
    /// Continue from the last checkpoint (NET.ckpt, or --checkpoint-dir).
    #[arg(long)]
    resume: bool,
    /// Where checkpoints go after every epoch (default: NET.ckpt beside the output).
    #[arg(long)]
    checkpoint_dir: Option<PathBuf>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// Training and test data (`train`, `finetune`).
#[derive(clap::Args)]
pub struct DataPair {
    /// Training data (IDX, .npy or CSV; .gz allowed).
    #[arg(long)]
    pub data: PathBuf,
    /// Training labels.
    #[arg(long)]
    pub labels: PathBuf,
    /// Test data for the accuracies reported (default: the training data).
    #[arg(long, requires = "test_labels")]
    pub test_data: Option<PathBuf>,
    /// Test labels.
    #[arg(long, requires = "test_data")]
    pub test_labels: Option<PathBuf>,
}

/// Runs `ttfs train`; returns what it prints.
pub fn run(a: Args) -> Result<String> {
    let optimizer = match a.sgd_momentum {
        Some(momentum) => Optimizer::Sgd { lr: a.lr, momentum, weight_decay: 0.0 },
        None => Optimizer::adam(a.lr),
    };
    let report = stage::run(&Request {
        arch: a.arch,
        data: a.data.data,
        labels: a.data.labels,
        test_data: a.data.test_data,
        test_labels: a.data.test_labels,
        epochs: a.epochs,
        batch: a.batch,
        optimizer,
        seed: a.seed,
        spike_penalty: a.spike_penalty,
        convert: a.passes.options(super::Neuron::B1),
        output: a.output,
        force: a.force,
        resume: a.resume,
        checkpoint_dir: a.checkpoint_dir,
        progress: std::io::stderr().is_terminal(),
    })?;
    super::text_or_json(a.json, &report, stage::render)
}
