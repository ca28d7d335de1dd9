//! ttfs-files: file classification from key-value metadata (paper 3 of
//! `docs/seeds.md`, section D): records read from any CSV with a label
//! column ([`records`]), their values turned into tokens with quantile bins
//! for numeric keys ([`features`]), the correlative temporal encoding of a
//! record's tokens ([`encoding`]), the STDP network with its spike-pattern
//! readout ([`stdp`]), the TTFS classifier ([`classifier`], [`model`]), the
//! baselines on the same tokens ([`baselines`], [`svm`]), `ttfs files
//! bench` ([`bench`]) and the other commands ([`stage`]), and the record
//! front end in hardware ([`hardware`]). The bundled data set is
//! `files/data/deb_files.csv.gz` (provenance beside it).

pub mod baselines;
pub mod bench;
pub mod classifier;
pub mod encoding;
pub mod features;
pub mod hardware;
pub mod model;
pub mod records;
pub mod stage;
pub mod stdp;
pub mod svm;

/// The stratified split: per class, the first `⌈n·test_fraction⌉` of its
/// records in the order of a seeded shuffle go to the test split, the rest
/// to the training split (both returned sorted). Every class with at least
/// two records is in both; the same seed gives the same split.
pub fn stratified_split(labels: &[String], test_fraction: f64, seed: u32) -> (Vec<usize>, Vec<usize>) {
    let mut classes: Vec<&String> = labels.iter().collect();
    classes.sort_unstable();
    classes.dedup();
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for class in classes {
        let mut members: Vec<usize> = (0..labels.len()).filter(|&i| &labels[i] == class).collect();
        // Order by a hash of (seed, index): a shuffle without a generator.
        members.sort_by_key(|&i| encoding::mix32(encoding::mix32(seed) ^ i as u32));
        let n_test = ((members.len() as f64) * test_fraction.clamp(0.0, 1.0)).ceil() as usize;
        let n_test = if members.len() >= 2 { n_test.clamp(1, members.len() - 1) } else { 0 };
        test.extend_from_slice(&members[..n_test]);
        train.extend_from_slice(&members[n_test..]);
    }
    train.sort_unstable();
    test.sort_unstable();
    (train, test)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bundled deb-files set: 28,005 records, 26 classes, the columns
    /// that leak the label excluded, every class in both splits, and the
    /// encoding's pattern of a record is the same whichever split fitted it.
    #[test]
    fn the_bundled_deb_files_set() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/deb_files.csv.gz");
        let exclude = ["package", "version", "section", "priority", "mtime"];
        let r = records::read(&path, "label", &exclude).unwrap();
        assert_eq!(r.labels.len(), 28_005);
        assert_eq!(r.classes().len(), 26);
        assert_eq!(
            r.keys,
            ["path", "dir1", "dir2", "dir3", "depth", "name", "ext", "type", "size", "mode", "uname", "gname"]
        );
        let (train, test) = stratified_split(&r.labels, 0.25, 1);
        assert_eq!(train.len() + test.len(), 28_005);
        assert!((test.len() as f64 / 28_005.0 - 0.25).abs() < 0.01, "{} test records", test.len());
        let in_test: std::collections::BTreeSet<&String> = test.iter().map(|&i| &r.labels[i]).collect();
        assert_eq!(in_test.len(), 26, "every class is in the test split");
        assert_eq!(stratified_split(&r.labels, 0.25, 1), (train.clone(), test.clone()), "deterministic");
        let f = features::Featurizer::fit(&r, &train, 16);
        let size = r.keys.iter().position(|k| k == "size").unwrap();
        assert_eq!(f.bins(size), 16, "file sizes are binned by quantiles");
        let ext = r.keys.iter().position(|k| k == "ext").unwrap();
        assert_eq!(f.kinds[ext], features::KeyKind::Categorical);
        let e = encoding::Encoding::default();
        let p = e.pattern(&f.tokens(&r.values[test[0]]));
        assert_eq!(p.len(), 12 * 8);
    }

    #[test]
    fn a_single_record_class_stays_in_training() {
        let labels: Vec<String> = ["a", "a", "a", "a", "b"].iter().map(|s| s.to_string()).collect();
        let (train, test) = stratified_split(&labels, 0.25, 3);
        assert!(train.contains(&4) && !test.contains(&4));
        assert_eq!(test.len(), 1);
    }
}
