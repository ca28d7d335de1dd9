//! `ttfs prog DIR`: writes the right image of a built design into the
//! board's configuration flash with `iceprog` (or `openFPGALoader`): the
//! flash image (bitstream, then the SPRAM weights at 1 MiB) for designs
//! whose weights live in SPRAM, the bitstream otherwise. A failure (no
//! board attached, say) is an error carrying the programmer's whole
//! command line and output.

use anyhow::{Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;
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
    /// The programmer.
    pub programmer: Programmer,
}

/// The iCE40 bitstream's synchronisation word: every image `icepack`
/// writes carries it near the start.
const SYNC: [u8; 4] = [0x7E, 0xAA, 0x99, 0x7E];

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
    if !bytes[..bytes.len().min(256)].windows(4).any(|w| w == SYNC) {
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

/// The command that programs `image` for the design in `dir`.
pub fn command(dir: &Path, image: &Path, programmer: Programmer) -> Result<Command> {
    Ok(match programmer {
        Programmer::Iceprog => {
            let mut c = Tool::Iceprog.command()?;
            c.arg(image);
            c
        }
        Programmer::OpenFpgaLoader => {
            let (_, b) = crate::run::design(dir)?;
            let board = if b.name == "icebreaker" { "icebreaker" } else { "ice40_generic" };
            let mut c = Tool::OpenFpgaLoader.command()?;
            c.args(["--board", board, "--write-flash"]).arg(image);
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
