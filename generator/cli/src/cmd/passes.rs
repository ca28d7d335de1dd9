//! `ttfs passes`: list the conversion passes, or run a pass (and every pass
//! after it) on an existing network description.

use anyhow::Result;
use std::path::PathBuf;
use ttfs_convert::Options;
use ttfs_convert::passes::{IMPORT, PASSES};
use ttfs_convert::stage::{RerunArgs, rerun};

/// List the conversion passes, or run them again on a network description.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Option<Action>,
}

#[derive(clap::Subcommand)]
enum Action {
    /// List the passes in the order `convert` runs them (the default).
    List,
    /// Run a pass and every pass after it on a network description (e.g.
    /// quantize again at other bits).
    Run(Box<RunArgs>),
}

#[derive(clap::Args)]
struct RunArgs {
    /// The network description to start from.
    network: PathBuf,
    /// The first pass to run (every later pass runs too).
    #[arg(long, value_name = "PASS")]
    from: String,
    /// Calibration data: needed from `calibrate` on; without it, clipping is
    /// not counted again.
    #[arg(long)]
    calib: Option<PathBuf>,
    /// Use only the first N calibration samples.
    #[arg(long)]
    calib_count: Option<usize>,
    #[command(flatten)]
    passes: super::PassOptions,
    /// Where to write the result (NET.json; its tensors go to
    /// NET.safetensors beside it).
    #[arg(short, long)]
    output: PathBuf,
    /// Overwrite the output file and its sidecar if they exist.
    #[arg(long)]
    force: bool,
}

/// Runs `ttfs passes`; returns what it prints.
pub fn run(a: Args) -> Result<String> {
    match a.action.unwrap_or(Action::List) {
        Action::List => {
            let mut text = format!("{:<15} {}\n", IMPORT.0, IMPORT.1);
            for p in PASSES {
                text.push_str(&format!("{:<15} {}\n", p.name, p.description));
            }
            Ok(text)
        }
        Action::Run(r) => rerun(&RerunArgs {
            network: r.network,
            from: r.from,
            calib: r.calib,
            calib_count: r.calib_count,
            options: Options {
                margin: r.passes.margin,
                time_bits: r.passes.time_bits,
                weight_bits: r.passes.weight_bits,
                ..Options::default()
            },
            output: r.output,
            force: r.force,
        }),
    }
}
