//! `ttfs files generate` and `ttfs files cosim`: the file classifier's
//! hardware (the record front end).

use anyhow::Result;
use std::path::PathBuf;
use ttfs_files::hardware;
use ttfs_hw::target::Target;

/// Write the classifier's hardware into DIR: the network's design and the
/// top `<top>_records`, which takes records as (key, token code) pairs.
#[derive(clap::Args)]
pub struct Generate {
    /// The model (`ttfs files train -o MODEL.json`).
    model: PathBuf,
    /// Output directory (refused when it exists and is not empty, unless --force).
    #[arg(short, long)]
    output: PathBuf,
    /// Target device.
    #[arg(long, value_parser = super::parse_target, default_value = "ice40-up5k")]
    target: Target,
    #[command(flatten)]
    lanes: super::LaneOptions,
    /// Write into DIR even if it is not empty.
    #[arg(long)]
    force: bool,
}

/// Co-simulate the record design under Verilator: every record's pairs go
/// through the on-chip encoder; every hidden spike and output is compared.
#[derive(clap::Args)]
pub struct Cosim {
    /// The model (`ttfs files train -o MODEL.json`).
    model: PathBuf,
    /// Records as CSV (the model's keys and label column).
    #[arg(long)]
    data: PathBuf,
    /// Only the test split of this stratified split (its fraction).
    #[arg(long)]
    test_fraction: Option<f64>,
    /// The split's seed.
    #[arg(long, default_value_t = 1)]
    seed: u32,
    /// Only the first N records.
    #[arg(long)]
    count: Option<usize>,
    /// Target device.
    #[arg(long, value_parser = super::parse_target, default_value = "ice40-up5k")]
    target: Target,
    #[command(flatten)]
    lanes: super::LaneOptions,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// Runs `ttfs files generate`.
pub fn generate(g: Generate) -> Result<String> {
    hardware::generate(&g.model, &g.output, g.target, &g.lanes.lanes(None), g.force)
}

/// Runs `ttfs files cosim`; fails when any spike or output differs.
pub fn cosim(c: Cosim) -> Result<String> {
    let model = ttfs_files::model::FilesModel::load(&c.model)?;
    let split = c.test_fraction.map(|f| (f, c.seed));
    let (records, labels, unseen) = hardware::cosim_records(&model, &c.data, split, c.count)?;
    let report = hardware::cosim(&model, c.target, &c.lanes.lanes(None), &records, labels.as_deref(), unseen)?;
    let text = super::text_or_json(c.json, &report, hardware::render_cosim)?;
    if report.mismatched_spikes + report.mismatched_outputs > 0 {
        anyhow::bail!("{text}the hardware differs from the reference");
    }
    Ok(text)
}
