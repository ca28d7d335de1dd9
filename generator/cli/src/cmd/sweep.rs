//! `ttfs sweep ...`: design-space sweeps (ttfs-sweep).

use anyhow::{Context, Result};
use std::path::PathBuf;
use ttfs_sweep::grid::{self, Axis};
use ttfs_sweep::stage;

/// Sweep the flow over a grid of options: `--grid weight-bits=4,6,8 --grid
/// lanes=auto,2,4 --grid target=ice40-up5k,ecp5-25f`. Keys: weight-bits,
/// time-bits, margin, lanes (auto, N, or per layer A/B/...), budget,
/// target, seed, freq (the options of `ttfs flow`). Each configuration runs
/// in DIR/points/<name>/ and adds a line to DIR/results.jsonl; a re-run
/// skips the configurations that are done.
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// The model (.onnx or JSON form); default: the bundled digits MLP.
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
    /// Print JSON.
    #[arg(long)]
    json: bool,
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
    /// Gather the results of the sweep in DIR into DIR/results.jsonl.
    Collect {
        /// The sweep's directory.
        dir: PathBuf,
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
        Some(Command::Collect { dir }) => return stage::collect(&dir),
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
        },
    };
    let outcome = stage::start(&request, &|r| eprint!("{}", stage::line(r)))?;
    super::text_or_json(a.json, &outcome, stage::render)
}
