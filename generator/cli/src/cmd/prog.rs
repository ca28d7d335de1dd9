//! `ttfs prog DIR`.

use anyhow::Result;
use std::path::PathBuf;
use ttfs_board::prog::{Args as Request, Programmer, run as prog};

/// The programmer `ttfs prog` runs.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ProgrammerArg {
    /// IceStorm's iceprog (Debian: fpga-icestorm).
    Iceprog,
    /// openFPGALoader (Debian: openfpgaloader).
    Openfpgaloader,
}

/// Program the board with a built design (`ttfs synth DIR` first): the
/// flash image for SPRAM designs, else the bitstream.
#[derive(clap::Args)]
pub struct Args {
    /// A directory written by `ttfs generate` and built by `ttfs synth`.
    dir: PathBuf,
    /// The programmer to run.
    #[arg(long, value_enum, default_value = "iceprog")]
    programmer: ProgrammerArg,
}

/// Runs `ttfs prog`; returns what it prints.
pub fn run(a: Args) -> Result<String> {
    prog(&Request {
        dir: a.dir,
        programmer: match a.programmer {
            ProgrammerArg::Iceprog => Programmer::Iceprog,
            ProgrammerArg::Openfpgaloader => Programmer::OpenFpgaLoader,
        },
    })
}
