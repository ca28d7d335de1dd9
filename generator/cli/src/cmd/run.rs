//! `ttfs run DIR --port DEV --data FILE`.

use anyhow::Result;
use std::path::PathBuf;
use ttfs_board::run::{self as stage, Args as Request};

/// Send images to the board over its UART and check every reply against
/// the integer reference: accuracy, mismatches, images/s and round-trip
/// latency (a pseudo-terminal from `ttfs board-sim` is labelled simulated).
#[derive(clap::Args)]
pub struct Args {
    /// The design on the board (a directory written by `ttfs generate`).
    dir: PathBuf,
    /// The serial port: the board's UART (usually /dev/ttyUSB1), or the
    /// path `ttfs board-sim` prints.
    #[arg(long)]
    port: String,
    #[command(flatten)]
    data: super::DataArgs,
    /// Seconds to wait for each reply (default: 2 s plus ten times the
    /// image's wire time; 120 s on a pseudo-terminal, a simulated board).
    #[arg(long)]
    timeout: Option<f64>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// Runs `ttfs run`; any reply that differs from the reference prints the
/// report and fails.
pub fn run(a: Args) -> Result<String> {
    let report = stage::run(&Request {
        dir: a.dir,
        port: a.port,
        data: a.data.data,
        labels: a.data.labels,
        count: a.data.count,
        timeout: a.timeout,
    })?;
    let text = super::text_or_json(a.json, &report, stage::render)?;
    if let Some(difference) = report.difference() {
        print!("{text}");
        anyhow::bail!("{difference}");
    }
    Ok(text)
}
