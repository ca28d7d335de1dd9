//! Data files matched to a network: samples in the network's canonical
//! layout, and labels that are classes of the network.

use crate::{Data, load_data, load_labels};
use anyhow::{Result, bail};
use std::path::Path;
use ttfs_ir::Network;

/// Loads a data file, keeps at most `count` samples, checks that samples
/// fit `net`'s input, and returns them with their values in the canonical
/// layout (`net.input.shape`, one sample after the other).
pub fn load_samples(net: &Network, path: &Path, count: Option<usize>) -> Result<(Data, Vec<f64>)> {
    if count == Some(0) {
        bail!("--count 0 selects none of the samples of {}; give 1 or more", path.display());
    }
    let mut data = load_data(path)?;
    if let Some(n) = count {
        data.truncate(n);
    }
    data.check_fits(&net.input.data_shape)?;
    let canonical = (0..data.count).flat_map(|i| net.input.to_canonical(data.sample(i))).collect();
    Ok((data, canonical))
}

/// Loads labels and checks there is one per sample, each a class of the
/// network (`0..classes`); extra labels are dropped.
pub fn load_labels_for(path: &Path, samples: usize, classes: usize) -> Result<Vec<usize>> {
    let mut labels = load_labels(path)?;
    if labels.len() < samples {
        bail!("{}: {} labels for {samples} samples", path.display(), labels.len());
    }
    labels.truncate(samples);
    if let Some((i, l)) = labels.iter().enumerate().find(|(_, l)| **l >= classes) {
        bail!("{}: label {l} of sample {i} is not a class of this network (0..{classes})", path.display());
    }
    Ok(labels)
}
