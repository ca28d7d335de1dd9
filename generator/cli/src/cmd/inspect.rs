//! `ttfs inspect NET.json`.

use anyhow::Result;
use std::path::PathBuf;
use ttfs_ir::summary;

/// Show the layers, windows, widths and memory of a network description.
#[derive(clap::Args)]
pub struct Args {
    /// The network description.
    network: PathBuf,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `ttfs inspect`; returns what it prints.
pub fn run(a: Args) -> Result<String> {
    super::text_or_json(a.json, &summary::run(&a.network)?, summary::render)
}
