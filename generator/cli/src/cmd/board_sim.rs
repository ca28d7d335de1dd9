//! `ttfs board-sim DIR`.

use anyhow::Result;
use std::io::Write as _;
use std::path::PathBuf;
use ttfs_board::board_sim::{self as stage, Args as Request};

/// Serve the design's board wrapper, simulated in Verilator (UART bit
/// timing, PLL and flash models), on a pseudo-terminal: prints its path
/// first, then serves until killed or --count replies; `ttfs run DIR
/// --port PATH` talks to it.
#[derive(clap::Args)]
pub struct Args {
    /// A directory written by `ttfs generate`.
    dir: PathBuf,
    /// Stop after this many replies and print what the board did.
    #[arg(long)]
    count: Option<u64>,
    /// Print the summary as one JSON object (after the path line).
    #[arg(long)]
    json: bool,
}

/// Runs `ttfs board-sim`; the path goes out at once, the summary at the end.
pub fn run(a: Args) -> Result<String> {
    let summary = stage::run(&Request { dir: a.dir, count: a.count }, &mut |path| {
        println!("{path}");
        let _ = std::io::stdout().flush();
    })?;
    Ok(if a.json { serde_json::to_string(&summary)? + "\n" } else { stage::render(&summary) })
}
