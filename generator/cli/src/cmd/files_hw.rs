//! `ttfs files generate`, `ttfs files cosim` and `ttfs files run`: the file
//! classifier's hardware (the record front end) and its board.

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
    /// Records (CSV) to co-simulate first: their cycles per record go into
    /// the manifest, for `ttfs synth DIR`'s latency.
    #[arg(long)]
    data: Option<PathBuf>,
    /// With --data: only the test split of this stratified split (its fraction).
    #[arg(long, requires = "data")]
    test_fraction: Option<f64>,
    /// The split's seed.
    #[arg(long, default_value_t = 1, requires = "data")]
    seed: u32,
    /// With --data: records to co-simulate.
    #[arg(long, default_value_t = 200, requires = "data")]
    count: usize,
}

/// Which records of a CSV file to send (`cosim`, `run`).
#[derive(clap::Args)]
struct Records {
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
}

impl Records {
    /// The records' tokens, class indices and unseen-value count.
    fn load(&self, model: &ttfs_files::model::FilesModel) -> Result<hardware::CosimRecords> {
        hardware::cosim_records(model, &self.data, self.test_fraction.map(|f| (f, self.seed)), self.count)
    }
}

/// Co-simulate the record design under Verilator: every record's pairs go
/// through the on-chip encoder; every hidden spike and output is compared.
#[derive(clap::Args)]
pub struct Cosim {
    /// The model (`ttfs files train -o MODEL.json`).
    model: PathBuf,
    #[command(flatten)]
    records: Records,
    /// Target device.
    #[arg(long, value_parser = super::parse_target, default_value = "ice40-up5k")]
    target: Target,
    #[command(flatten)]
    lanes: super::LaneOptions,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// Send records to the board that runs the record design (or to `ttfs
/// board-sim DIR`) over its UART, one at a time, and check every reply
/// against the model's integer network: accuracy, mismatches, records/s.
#[derive(clap::Args)]
pub struct Run {
    /// The model the design was generated from.
    model: PathBuf,
    /// The design on the board (`ttfs files generate MODEL.json -o DIR`).
    dir: PathBuf,
    /// The serial port: the board's UART (usually /dev/ttyUSB1), or the
    /// path `ttfs board-sim` prints.
    #[arg(long)]
    port: String,
    #[command(flatten)]
    records: Records,
    /// Seconds to wait for each reply (default: 2 s plus ten times the
    /// wire time; 120 s on a pseudo-terminal, a simulated board).
    #[arg(long)]
    timeout: Option<f64>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// Runs `ttfs files run`; any reply that differs from the reference prints
/// the report and fails.
pub fn run(r: Run) -> Result<String> {
    let model = ttfs_files::model::FilesModel::load(&r.model)?;
    let (records, labels, _) = r.records.load(&model)?;
    let report = hardware::run_board(&model, &r.dir, &r.port, &records, labels.as_deref(), r.timeout)?;
    let text = super::text_or_json(r.json, &report, ttfs_board::run::render)?;
    if let Some(difference) = report.difference() {
        print!("{text}");
        anyhow::bail!("{difference}");
    }
    Ok(text)
}

/// Runs `ttfs files generate`.
pub fn generate(g: Generate) -> Result<String> {
    let measure = g.data.as_deref().map(|data| hardware::Measure {
        data,
        split: g.test_fraction.map(|f| (f, g.seed)),
        count: g.count,
    });
    hardware::generate(&g.model, &g.output, g.target, &g.lanes.lanes(None), g.force, measure)
}

/// Runs `ttfs files cosim`; fails when any spike or output differs.
pub fn cosim(c: Cosim) -> Result<String> {
    let model = ttfs_files::model::FilesModel::load(&c.model)?;
    let (records, labels, unseen) = c.records.load(&model)?;
    let report = hardware::cosim(&model, c.target, &c.lanes.lanes(None), &records, labels.as_deref(), unseen)?;
    let text = super::text_or_json(c.json, &report, hardware::render_cosim)?;
    if report.mismatched_spikes + report.mismatched_outputs > 0 {
        anyhow::bail!("{text}the hardware differs from the reference");
    }
    Ok(text)
}
