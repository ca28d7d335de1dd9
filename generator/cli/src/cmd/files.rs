//! `ttfs files ...`: file classification from key-value metadata (paper 3).

use anyhow::Result;
use std::io::IsTerminal;
use std::path::PathBuf;
use ttfs_files::encoding::Encoding;
use ttfs_files::stage::{self, DataArgs};

/// Classify files from their key-value metadata (paper 3): baselines, the
/// STDP network and the TTFS classifier, and its hardware.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    Bench(Bench),
    Train(Train),
    Classify(Classify),
    Generate(super::files_hw::Generate),
    Cosim(super::files_hw::Cosim),
    Run(super::files_hw::Run),
}

/// The data set and its split (`bench`, `train`).
#[derive(clap::Args)]
struct Data {
    /// Records as CSV (gzip allowed), a header row first.
    #[arg(long)]
    data: PathBuf,
    /// The label column.
    #[arg(long)]
    label: String,
    /// Columns that are neither label nor key (comma-separated).
    #[arg(long, value_delimiter = ',')]
    exclude: Vec<String>,
    /// Each class's share in the test split.
    #[arg(long, default_value_t = 0.25)]
    test_fraction: f64,
    /// Seed of the stratified split.
    #[arg(long, default_value_t = 1)]
    seed: u32,
    /// Most quantile bins per numeric key.
    #[arg(long, default_value_t = 16)]
    bins: usize,
    /// M: input neurons per key.
    #[arg(long, default_value_t = 8)]
    neurons_per_key: u32,
    /// T: the encoding window's ticks (a power of two).
    #[arg(long, default_value_t = 16)]
    ticks: u32,
    /// W: neighbouring bins that share input neurons.
    #[arg(long, default_value_t = 4)]
    spread: u32,
}

impl Data {
    fn split(&self) -> DataArgs {
        DataArgs {
            data: self.data.clone(),
            label: self.label.clone(),
            exclude: self.exclude.clone(),
            test_fraction: self.test_fraction,
            seed: self.seed,
            bins: self.bins,
        }
    }

    fn encoding(&self) -> Encoding {
        Encoding { neurons_per_key: self.neurons_per_key, ticks: self.ticks, spread: self.spread, seed: 1 }
    }
}

/// Run every model (logistic regression, linear and RBF SVMs, the STDP
/// network, the TTFS classifier) on one stratified split and print the table.
#[derive(clap::Args)]
struct Bench {
    #[command(flatten)]
    data: Data,
    /// Also run the STDP network's ablations.
    #[arg(long)]
    ablations: bool,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// Train the TTFS file classifier on the training split and write MODEL.json.
#[derive(clap::Args)]
struct Train {
    #[command(flatten)]
    data: Data,
    /// Hidden neurons.
    #[arg(long, default_value_t = 64)]
    hidden: usize,
    /// Epochs.
    #[arg(long, default_value_t = 3)]
    epochs: usize,
    /// Where to write the model.
    #[arg(short, long)]
    output: PathBuf,
    /// Overwrite the output if it exists.
    #[arg(long)]
    force: bool,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// Classify CSV records (the training header first) from stdin, one class
/// per line as each record arrives.
#[derive(clap::Args)]
struct Classify {
    /// The model (`ttfs files train -o MODEL.json`).
    model: PathBuf,
}

/// Runs `ttfs files ...`; returns what it prints.
pub fn run(a: Args) -> Result<String> {
    match a.command {
        Command::Bench(b) => {
            let options =
                ttfs_files::bench::BenchOptions { ablations: b.ablations, progress: std::io::stderr().is_terminal() };
            let report = ttfs_files::bench::bench(&b.data.split(), b.data.encoding(), &options)?;
            super::text_or_json(b.json, &report, ttfs_files::bench::render)
        }
        Command::Train(t) => {
            let params =
                ttfs_files::classifier::TtfsParams { hidden: t.hidden, epochs: t.epochs, ..Default::default() };
            let progress = std::io::stderr().is_terminal();
            let report = stage::train(&t.data.split(), t.data.encoding(), &params, &t.output, t.force, progress)?;
            super::text_or_json(t.json, &report, stage::render_train)
        }
        Command::Classify(c) => {
            let model = ttfs_files::model::FilesModel::load(&c.model)?;
            stage::classify_stream(&model, std::io::stdin().lock(), "stdin", std::io::stdout().lock())?;
            Ok(String::new())
        }
        Command::Generate(g) => super::files_hw::generate(g),
        Command::Cosim(c) => super::files_hw::cosim(c),
        Command::Run(r) => super::files_hw::run(r),
    }
}
