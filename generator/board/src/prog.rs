//! `ttfs prog DIR`: writes the right image of a built design into the
//! board's configuration flash with `iceprog` (or `openFPGALoader`) on the
//! iCE40 boards, `openFPGALoader --board ulx3s` on the ULX3S: the flash
//! image (bitstream, then the SPRAM weights at 1 MiB) for designs whose
//! weights live in SPRAM, the bitstream otherwise. A failure (no board
//! attached, say) is an error carrying the programmer's whole command line
//! and output.

use anyhow::{Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;
use ttfs_hw::target::Family;
use ttfs_tools::Tool;

/// The programmer to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Programmer {
    /// IceStorm's `iceprog` (FTDI boards: iCEBreaker, iCE40-HX8K breakout).
    Iceprog,
    /// `openFPGALoader --board B --write-flash`.
    OpenFpgaLoader,
}

/// What to program (the arguments of `ttfs prog`).
pub struct Args {
    /// A directory written by `ttfs generate` and built by `ttfs synth`.
    pub dir: PathBuf,
    /// The programmer (`None`: iceprog for the iCE40 boards, openFPGALoader
    /// for the ULX3S).
    pub programmer: Option<Programmer>,
}

/// The iCE40 bitstream's synchronisation word: every image `icepack`
/// writes carries it near the start.
const SYNC: [u8; 4] = [0x7E, 0xAA, 0x99, 0x7E];

/// The ECP5 bitstream's preamble: every image `ecppack` writes carries it
/// after its comment header.
const ECP5_PREAMBLE: [u8; 4] = [0xFF, 0xFF, 0xBD, 0xB3];

/// The image to program for the design in `dir` (relative to `dir`), checked:
/// it exists, starts like an iCE40 bitstream and, for SPRAM designs,
/// holds the weights past [`ttfs_hw::board::FLASH_OFFSET`].
pub fn image(dir: &Path) -> Result<PathBuf> {
    let (s, b) = crate::run::design(dir)?;
    let rel = ttfs_hw::bringup::program_file(&s.view, &b);
    let path = dir.join(&rel);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) => {
            bail!("cannot read {} ({e}): build the design first with `ttfs synth {}`", path.display(), dir.display())
        }
    };
    if s.plan.target.family() == Family::Ecp5 {
        if !bytes[..bytes.len().min(4096)].windows(4).any(|w| w == ECP5_PREAMBLE) {
            bail!("{} is not an ECP5 bitstream (no FF FF BD B3 preamble at its start)", path.display());
        }
    } else if !bytes[..bytes.len().min(256)].windows(4).any(|w| w == SYNC) {
        bail!("{} is not an iCE40 bitstream (no 7E AA 99 7E sync word at its start)", path.display());
    }
    let needed = u64::from(ttfs_hw::board::FLASH_OFFSET) + s.view.load_bytes;
    if s.view.load_bytes > 0 && (bytes.len() as u64) < needed {
        bail!(
            "{} has {} bytes; the flash image of this SPRAM design holds the weights up to byte {needed}: \
             run `ttfs synth {}` again",
            path.display(),
            bytes.len(),
            dir.display()
        );
    }
    Ok(path)
}

/// The openFPGALoader board name of a board wrapper.
pub fn loader_board(b: &ttfs_hw::board::BoardView) -> &'static str {
    match b.name {
        "icebreaker" => "icebreaker",
        "ulx3s" => "ulx3s",
        _ => "ice40_generic",
    }
}

/// The command that programs `image` for the design in `dir` (`None`: the
/// board's usual programmer).
pub fn command(dir: &Path, image: &Path, programmer: Option<Programmer>) -> Result<Command> {
    let (s, b) = crate::run::design(dir)?;
    let ecp5 = s.plan.target.family() == Family::Ecp5;
    let programmer = programmer.unwrap_or(if ecp5 { Programmer::OpenFpgaLoader } else { Programmer::Iceprog });
    Ok(match programmer {
        Programmer::Iceprog if ecp5 => {
            bail!("iceprog programs the iCE40 boards only; the {} takes --programmer openfpgaloader", b.title)
        }
        Programmer::Iceprog => {
            let mut c = Tool::Iceprog.command()?;
            c.arg(image);
            c
        }
        Programmer::OpenFpgaLoader => {
            let mut c = Tool::OpenFpgaLoader.command()?;
            c.args(["--board", loader_board(&b), "--write-flash"]).arg(image);
            c
        }
    })
}

/// Programs the board; returns what the programmer printed. Errors carry
/// the whole command and its output.
pub fn run(args: &Args) -> Result<String> {
    let image = image(&args.dir)?;
    let mut cmd = command(&args.dir, &image, args.programmer)?;
    let output = ttfs_tools::run(&mut cmd)?;
    Ok(format!(
        "{}\nprogrammed {} with {}\n",
        ttfs_tools::combined(&output).trim_end(),
        image.display(),
        ttfs_tools::describe(&cmd)
    ))
}
