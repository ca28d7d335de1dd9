//! `ttfs generate NET.json -o DIR`.

use super::parse_target;
use anyhow::Result;
use std::path::PathBuf;
use ttfs_hw::stage::{Args as Request, run as generate};
use ttfs_hw::target::Target;

/// Write the Verilog accelerator for a network description into DIR.
#[derive(clap::Args)]
pub struct Args {
    /// The network description (from `ttfs convert`).
    network: PathBuf,
    /// Output directory (refused when it exists and is not empty, unless --force).
    #[arg(short, long)]
    output: PathBuf,
    /// Target device.
    #[arg(long, value_parser = parse_target, default_value = "ice40-up5k")]
    target: Target,
    #[command(flatten)]
    lanes: super::LaneOptions,
    /// Data for the cycle model's mean and for --lanes auto (IDX, .npy or CSV; .gz allowed).
    #[arg(long)]
    calib: Option<PathBuf>,
    /// Use only the first N samples of --calib.
    #[arg(long)]
    calib_count: Option<usize>,
    /// Write into DIR even if it is not empty.
    #[arg(long)]
    force: bool,
    /// The board wrapper's UART speed, baud (8N1; up to 3000000, the
    /// boards' FTDI FT2232H; the clock must make it within 2 %).
    #[arg(long, default_value_t = ttfs_hw::board::BAUD)]
    baud: u32,
}

/// Runs `ttfs generate`; returns what it prints.
pub fn run(a: Args) -> Result<String> {
    generate(&Request {
        network: a.network,
        output: a.output,
        target: a.target,
        lanes: a.lanes.lanes(None),
        calib: a.calib,
        calib_count: a.calib_count,
        force: a.force,
        requantize: Some(ttfs_convert::stage::requantize_weights),
        baud: a.baud,
    })
}
