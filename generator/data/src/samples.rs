//! Data files matched to a network: samples in the network's canonical
//! layout, and labels that are classes of the network.

use crate::{Data, load_data_limited, load_labels};
use anyhow::{Result, bail};
use std::path::Path;
use ttfs_ir::Network;

/// Loads a data file, keeps at most `count` samples (reading no more of the
/// file than they need, see [`load_data_limited`]), checks that samples fit
/// `net`'s input, and returns them with their values in the canonical layout
/// (`net.input.shape`, one sample after the other).
///
/// [`Data::total`] of the result says whether the file holds more samples
/// than were loaded; pass it on to [`load_labels_for`].
pub fn load_samples(net: &Network, path: &Path, count: Option<usize>) -> Result<(Data, Vec<f64>)> {
    if count == Some(0) {
        bail!("--count 0 selects none of the samples of {}; give 1 or more", path.display());
    }
    let data = load_data_limited(path, count)?;
    data.check_fits(&net.input.data_shape)?;
    let canonical = (0..data.count).flat_map(|i| net.input.to_canonical(data.sample(i))).collect();
    Ok((data, canonical))
}

/// Loads the labels for the first `samples` samples of the data file
/// `data_path` and checks that each is a class of the network (`0..classes`).
///
/// `total` is the number of samples in the whole data file when known
/// ([`Data::total`]), `None` when the data were cut (`--count`) and the rest
/// of the file was not counted. The rule: a labels file holds one label per
/// sample of the data file, so the label count must equal `total`; when the
/// total is not known (the data were cut), there must be at least `samples`
/// labels and the extra ones are dropped. Returns exactly `samples` labels.
///
/// Errors name both files and both counts, e.g. `labels.csv: 1798 labels
/// for 1797 samples in digits.csv; there must be one label per sample`.
pub fn load_labels_for(
    path: &Path,
    data_path: &Path,
    samples: usize,
    total: Option<usize>,
    classes: usize,
) -> Result<Vec<usize>> {
    let mut labels = load_labels(path)?;
    let (p, d, n) = (path.display(), data_path.display(), labels.len());
    match total {
        Some(total) if n != total => {
            bail!("{p}: {n} labels for {total} samples in {d}; there must be one label per sample")
        }
        None if n < samples => {
            bail!(
                "{p}: {n} labels for the first {samples} samples of {d} (the samples used); \
                 there must be one label per sample"
            )
        }
        _ => {}
    }
    labels.truncate(samples);
    if labels.len() < samples {
        // Only when a caller passes `total < samples`, which no load produces.
        bail!("{p}: {n} labels for {samples} samples of {d}; there must be one label per sample");
    }
    if let Some((i, l)) = labels.iter().enumerate().find(|(_, l)| **l >= classes) {
        bail!("{p}: label {l} of sample {i} is not a class of this network (0..{classes})");
    }
    Ok(labels)
}
