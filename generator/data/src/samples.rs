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

#[cfg(test)]
mod tests {
    use super::load_labels_for;
    use crate::load_data_limited;
    use crate::test_util::write;
    use std::path::Path;

    #[test]
    fn label_count_must_equal_the_data_count() {
        let dir = tempfile::tempdir().unwrap();
        let labels = write(dir.path(), "labels.csv", b"1\n2\n0\n");
        let digits = Path::new("digits.csv");
        for total in [2, 4] {
            let err = load_labels_for(&labels, digits, total, Some(total), 10).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "{}: 3 labels for {total} samples in digits.csv; there must be one label per sample",
                    labels.display()
                )
            );
        }
        assert_eq!(load_labels_for(&labels, digits, 3, Some(3), 10).unwrap(), vec![1, 2, 0]);
        // Cut by --count but the file's count is known: still must match it.
        assert!(load_labels_for(&labels, digits, 2, Some(4), 10).is_err());
        assert_eq!(load_labels_for(&labels, digits, 2, Some(3), 10).unwrap(), vec![1, 2]);
    }

    #[test]
    fn extra_labels_are_fine_when_the_data_were_cut() {
        let dir = tempfile::tempdir().unwrap();
        let labels = write(dir.path(), "labels.csv", b"1\n2\n0\n");
        let digits = Path::new("digits.csv");
        assert_eq!(load_labels_for(&labels, digits, 2, None, 10).unwrap(), vec![1, 2]);
        assert_eq!(load_labels_for(&labels, digits, 3, None, 10).unwrap(), vec![1, 2, 0]);
        let err = load_labels_for(&labels, digits, 4, None, 10).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}: 3 labels for the first 4 samples of digits.csv (the samples used); \
                 there must be one label per sample",
                labels.display()
            )
        );
    }

    #[test]
    fn labels_for_a_limited_csv_read() {
        let dir = tempfile::tempdir().unwrap();
        let data = write(dir.path(), "digits.csv", b"1,2\n3,4\n5,6\n");
        let labels = write(dir.path(), "labels.csv", b"0\n1\n1\n1\n");
        // --count 2 of 3 rows: cut, so four labels are fine.
        let d = load_data_limited(&data, Some(2)).unwrap();
        assert_eq!(load_labels_for(&labels, &data, d.count, d.total, 2).unwrap(), vec![0, 1]);
        // The whole file: 4 labels for 3 samples is refused, naming both files.
        let d = load_data_limited(&data, None).unwrap();
        let err = load_labels_for(&labels, &data, d.count, d.total, 2).unwrap_err().to_string();
        assert!(err.ends_with("digits.csv; there must be one label per sample"), "{err}");
        assert!(err.contains("labels.csv: 4 labels for 3 samples in "), "{err}");
    }

    #[test]
    fn label_outside_the_classes() {
        let dir = tempfile::tempdir().unwrap();
        let labels = write(dir.path(), "labels.csv", b"1\n7\n");
        let err = load_labels_for(&labels, Path::new("d.csv"), 2, Some(2), 5).unwrap_err();
        assert!(err.to_string().ends_with("label 7 of sample 1 is not a class of this network (0..5)"), "{err}");
    }
}
