//! `ttfs sweep ...`: design-space sweeps (ttfs-sweep).

use anyhow::{Context, Result};
use std::path::PathBuf;
use ttfs_sweep::grid::{self, Axis};
use ttfs_sweep::report::values;
use ttfs_sweep::stage;

/// Sweep the flow over a grid of options: `--grid weight-bits=4,6,8 --grid
/// lanes=auto,2,4 --grid target=ice40-up5k,ecp5-25f`. Keys: weight-bits,
/// time-bits, margin, lanes (auto, N, or per layer A/B/...), budget,
/// target, seed, freq (the options of `ttfs flow`), and model (model files
/// or network descriptions, e.g. fine-tuned variants, instead of MODEL).
/// Each configuration runs
/// in DIR/points/<name>/ and adds a line to DIR/results.jsonl; a re-run
/// skips the configurations that are done.
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// The model (.onnx or JSON form, or a network description from
    /// convert, train or finetune); default: the bundled digits MLP.
    model: Option<PathBuf>,
    /// Evaluation data (required with a model).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Evaluation labels.
    #[arg(long)]
    labels: Option<PathBuf>,
    /// Representative (training) data for the time windows (required with a model).
    #[arg(long)]
    calib: Option<PathBuf>,
    /// Use only the first N evaluation samples.
    #[arg(long)]
    count: Option<usize>,
    /// One axis of the grid, KEY=V1,V2,... (repeatable).
    #[arg(long = "grid", value_name = "KEY=V1,V2,..", value_parser = grid::parse_axis)]
    grid: Vec<Axis>,
    /// A TOML grid file: a [grid] table of KEY = [V1, V2, ...] (its axes
    /// come before those of --grid).
    #[arg(long, value_name = "FILE")]
    grid_file: Option<PathBuf>,
    /// The stages to run after convert and sim (e.g. sim,generate for the
    /// plan and cycle model only).
    #[arg(long, default_value = "all", value_parser = ttfs_flow::pipeline::Stages::parse)]
    stages: ttfs_flow::pipeline::Stages,
    /// Configurations to run at once on this machine.
    #[arg(short = 'j', long, default_value_t = 1)]
    jobs: usize,
    /// Instead of running: write DIR/sweep.sbatch (a Slurm job array) or
    /// DIR/commands.txt (one command per configuration).
    #[arg(long, value_enum)]
    emit: Option<Emit>,
    /// With --emit slurm: array tasks running at once.
    #[arg(long, default_value_t = 16)]
    parallel: usize,
    /// Replace another sweep in DIR.
    #[arg(long)]
    force: bool,
    /// The sweep's directory.
    #[arg(short, long, default_value = "ttfs-sweep")]
    output: PathBuf,
    #[command(flatten)]
    constraints: Constraints,
    /// Run cosim and synth only for the configurations on a Pareto front
    /// of the plans of their device (within the constraints), again until
    /// the fronts hold only placed designs; the rest keep the plan's
    /// figures.
    #[arg(long)]
    place_front: bool,
    /// With --place-front: place a configuration only when it is more
    /// accurate than the cheaper ones placed by more than PCT points (the
    /// test set's sampling error; 0: the exact fronts).
    #[arg(long, value_name = "PCT", default_value_t = 0.1, value_parser = values::resolution)]
    place_resolution: f64,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// What a point must meet to take part in the Pareto fronts.
#[derive(clap::Args)]
struct Constraints {
    /// Only designs using at most PCT % of their device's logic cells
    /// (placed, else estimated). The grid key `budget` is another thing:
    /// it steers what lanes=auto picks.
    #[arg(long = "budget", value_name = "PCT", value_parser = values::percent)]
    budget: Option<f64>,
    /// Only designs doing at least N inferences per second, streaming
    /// (routed clock, else the cycle model at the target's clock).
    #[arg(long, value_name = "N", value_parser = values::positive)]
    rate: Option<f64>,
    /// Only designs at least PCT % accurate (the integer network's).
    #[arg(long, value_name = "PCT", value_parser = values::percent)]
    min_accuracy: Option<f64>,
}

impl Constraints {
    fn get(&self) -> ttfs_sweep::report::Constraints {
        ttfs_sweep::report::Constraints {
            budget_percent: self.budget,
            rate: self.rate,
            min_accuracy_percent: self.min_accuracy,
        }
    }
}

#[derive(clap::Subcommand)]
enum Command {
    /// Run configuration K of the sweep in DIR (a Slurm array task).
    RunOne {
        /// The sweep's directory.
        dir: PathBuf,
        /// The configuration's index.
        index: usize,
    },
    /// Gather the results of the sweep in DIR into DIR/results.jsonl and
    /// write its report again (with the constraints given here).
    Collect {
        /// The sweep's directory.
        dir: PathBuf,
        #[command(flatten)]
        constraints: Constraints,
    },
}

/// `--emit`.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Emit {
    /// A Slurm job-array script.
    Slurm,
    /// One `ttfs sweep run-one` command per line.
    List,
}

/// Runs `ttfs sweep`.
pub fn run(a: Args) -> Result<String> {
    let request = match a.command {
        Some(Command::RunOne { dir, index }) => return stage::run_one(&dir, index),
        Some(Command::Collect { dir, constraints }) => return stage::collect(&dir, &constraints.get()),
        None => stage::Request {
            model: a.model,
            data: a.data,
            labels: a.labels,
            calib: a.calib,
            count: a.count,
            stages: a.stages,
            grid: a.grid,
            grid_file: a.grid_file,
            jobs: a.jobs,
            emit: a.emit.map(|e| match e {
                Emit::Slurm => stage::Emit::Slurm,
                Emit::List => stage::Emit::List,
            }),
            parallel: a.parallel,
            force: a.force,
            output: a.output,
            ttfs: std::env::current_exe().context("cannot find this ttfs")?,
            constraints: a.constraints.get(),
            place_front: a.place_front,
            place_resolution: a.place_resolution,
        },
    };
    let outcome = stage::start(&request, &|r| eprint!("{}", stage::line(r)))?;
    super::text_or_json(a.json, &outcome, stage::render)
}
