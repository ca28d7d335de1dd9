//! The `ttfs` subcommands. Each takes its parsed arguments and returns what
//! it prints, so tests can call it without a process.

pub mod convert;
pub mod cosim;
pub mod flow;
pub mod generate;
pub mod inspect;
pub mod sim;
pub mod synth;

use crate::data::{self, Data};
use anyhow::{Context, Result};
use std::path::Path;
use ttfs_ir::Network;

/// Reads and validates a network description.
pub fn load_network(path: &Path) -> Result<Network> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Network::from_json(&text).with_context(|| format!("{} is not a usable network description", path.display()))
}

/// Loads a data file, keeps at most `count` samples, checks that samples
/// fit `net`'s input, and returns them in the canonical layout.
pub fn load_samples(net: &Network, path: &Path, count: Option<usize>) -> Result<(Data, Vec<f64>)> {
    let mut data = data::load_data(path)?;
    if let Some(n) = count {
        data.truncate(n);
    }
    data.check_fits(&net.input.data_shape)?;
    let canonical = (0..data.count).flat_map(|i| net.input.to_canonical(data.sample(i))).collect();
    Ok((data, canonical))
}

/// Loads labels and checks there is one per sample.
pub fn load_labels(path: &Path, samples: usize, classes: usize) -> Result<Vec<usize>> {
    let mut labels = data::load_labels(path)?;
    if labels.len() < samples {
        anyhow::bail!("{}: {} labels for {samples} samples", path.display(), labels.len());
    }
    labels.truncate(samples);
    if let Some((i, l)) = labels.iter().enumerate().find(|(_, l)| **l >= classes) {
        anyhow::bail!("{}: label {l} of sample {i} is not a class of this network (0..{classes})", path.display());
    }
    Ok(labels)
}

/// Writes `text` to `path`, refusing to replace an existing file unless `force`.
pub fn write_new(path: &Path, text: &str, force: bool) -> Result<()> {
    if path.exists() && !force {
        anyhow::bail!("{} exists; pass --force to overwrite it", path.display());
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}
