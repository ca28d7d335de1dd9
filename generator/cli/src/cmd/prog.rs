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
/// flash image for SPRAM designs, else the bitstream (iCE40: iceprog by
/// default; ULX3S: openFPGALoader --board ulx3s).
#[derive(clap::Args)]
pub struct Args {
    /// A directory written by `ttfs generate` and built by `ttfs synth`.
    dir: PathBuf,
    /// The programmer to run (default: iceprog for the iCE40 boards,
    /// openfpgaloader for the ULX3S).
    #[arg(long, value_enum)]
    programmer: Option<ProgrammerArg>,
}

/// Runs `ttfs prog`; returns what it prints.
pub fn run(a: Args) -> Result<String> {
    prog(&Request {
        dir: a.dir,
        programmer: a.programmer.map(|p| match p {
            ProgrammerArg::Iceprog => Programmer::Iceprog,
            ProgrammerArg::Openfpgaloader => Programmer::OpenFpgaLoader,
        }),
    })
}
