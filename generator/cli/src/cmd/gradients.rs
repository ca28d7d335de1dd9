//! `ttfs gradients --data FILE --labels FILE`.

use anyhow::Result;
use std::path::PathBuf;
use ttfs_train::gradients::{self, Args as Request};

/// Paper 2's gradient analysis: each layer's SNN weight gradient against the
/// equivalent ReLU network's (norm ratio, cosine) for α/J with ordinary
/// initialisation, α/J with slope-normalising initialisation, and b1.
#[derive(clap::Args)]
pub struct Args {
    /// Data (the MLP reads flattened samples).
    #[arg(long)]
    data: PathBuf,
    /// Labels.
    #[arg(long)]
    labels: PathBuf,
    /// Use the first N samples.
    #[arg(long, default_value_t = 2000)]
    count: usize,
    /// Hidden layers.
    #[arg(long, default_value_t = 8)]
    depth: usize,
    /// Neurons per hidden layer.
    #[arg(long, default_value_t = 100)]
    width: usize,
    /// Depths of the spread-with-depth table.
    #[arg(long, value_delimiter = ',', default_value = "2,4,8")]
    depths: Vec<usize>,
    /// Training steps (snapshots at 0, half way and the end).
    #[arg(long, default_value_t = 200)]
    steps: u64,
    /// Mini-batch size.
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 5e-4)]
    lr: f64,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Write an SVG plot of the norm ratios here.
    #[arg(long)]
    svg: Option<PathBuf>,
    /// Overwrite the SVG if it exists.
    #[arg(long)]
    force: bool,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// Runs `ttfs gradients`; returns what it prints.
pub fn run(a: Args) -> Result<String> {
    let report = gradients::run(&Request {
        data: a.data,
        labels: a.labels,
        count: a.count,
        depth: a.depth,
        width: a.width,
        depths: a.depths,
        steps: a.steps,
        batch: a.batch,
        lr: a.lr,
        seed: a.seed,
        svg: a.svg,
        force: a.force,
    })?;
    super::text_or_json(a.json, &report, gradients::render)
}
