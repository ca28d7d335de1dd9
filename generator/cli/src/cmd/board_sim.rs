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
    /// Compile DIR's Verilog even when hand-edited files hold constructs
    /// ttfs does not write (they can run commands): only for a DIR you trust.
    #[arg(long)]
    trust_design: bool,
}

/// Runs `ttfs board-sim`; the path goes out at once, the summary at the end.
pub fn run(a: Args) -> Result<String> {
    let request = Request { dir: a.dir, count: a.count, trust_design: a.trust_design };
    let summary = stage::run(&request, &mut |line| {
        // Notes go to standard error; the path is standard output's first line.
        if line.starts_with("note: ") {
            eprintln!("{line}");
        } else {
            println!("{line}");
            let _ = std::io::stdout().flush();
        }
    })?;
    Ok(if a.json { serde_json::to_string(&summary)? + "\n" } else { stage::render(&summary) })
}
