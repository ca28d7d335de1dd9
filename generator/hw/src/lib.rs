//! Hardware for a network description (`ttfs generate`). The plan decides
//! lanes and memories and whether the design fits; the design renders every
//! file of DIR in memory; only then is anything written.

pub mod board;
pub mod bringup;
pub mod collateral;
pub mod cycles;
pub mod design;
pub mod emit;
pub mod estimate;
pub mod inspect;
pub mod layers;
pub mod manifest;
pub mod plan;
pub mod planner;
pub mod pll;
pub mod rom;
pub mod stage;
pub mod stimulus;
pub mod subject;
pub mod target;
pub mod testbench;
pub mod unrolled;
pub mod view;

use anyhow::{Context, Result};
use std::path::Path;

pub use design::Design;

/// A file in DIR that marks it as written by `ttfs generate`.
pub const MARKER: &str = ".ttfs-design";

/// Writes `design` into `dir`. An existing non-empty `dir` is refused unless
/// `force`; with `force`, files of an earlier design there are replaced and
/// other files are left alone.
pub fn write(design: &Design, dir: &Path, force: bool) -> Result<()> {
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
        if entries.next().is_some() && !force {
            anyhow::bail!("{} exists and is not empty; pass --force to write the design into it", dir.display());
        }
    }
    for (rel, bytes) in &design.files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    }
    std::fs::write(dir.join(MARKER), format!("{}\n", design.top))
        .with_context(|| format!("cannot write {}", dir.join(MARKER).display()))?;
    Ok(())
}
