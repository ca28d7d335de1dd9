//! Helpers shared by the end-to-end tests: fixture paths and conversion of
//! fixture models.

#![allow(dead_code)]

use std::path::PathBuf;
use ttfs_convert::stage::read_model;
use ttfs_convert::{self as convert, CalibrationData, Options};
use ttfs_data::{self as data, Element};
use ttfs_ir::Network;

/// Path of a file under `tests/fixtures`.
pub fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel)
}

/// Converts a fixture model with a fixture calibration file.
pub fn convert_fixture(model: &str, calib: &str, calib_count: Option<usize>, options: &Options) -> Network {
    let graph = read_model(&fixture(model)).expect("fixture model reads");
    let mut calib_data = data::load_data(&fixture(calib)).expect("fixture data loads");
    if let Some(n) = calib_count {
        calib_data.truncate(n);
    }
    let natural_range = matches!(calib_data.element, Element::U8).then_some([0.0, 255.0]);
    convert::convert(
        &graph,
        &CalibrationData {
            name: calib.to_string(),
            values: &calib_data.values,
            count: calib_data.count,
            natural_range,
        },
        options,
    )
    .expect("fixture model converts")
}

/// Loads a data file and returns its samples in the network's canonical layout.
pub fn canonical_samples(net: &Network, rel: &str, count: Option<usize>) -> (Vec<f64>, usize) {
    let mut d = data::load_data(&fixture(rel)).expect("fixture data loads");
    if let Some(n) = count {
        d.truncate(n);
    }
    d.check_fits(&net.input.data_shape).expect("fixture data fit the model");
    ((0..d.count).flat_map(|i| net.input.to_canonical(d.sample(i))).collect(), d.count)
}

/// Loads fixture labels.
pub fn labels(rel: &str, count: usize) -> Vec<usize> {
    let mut l = data::load_labels(&fixture(rel)).expect("fixture labels load");
    l.truncate(count);
    l
}

/// Softmax of logits.
pub fn softmax(logits: &[f64]) -> Vec<f64> {
    let m = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = logits.iter().map(|v| (v - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

#[allow(unused_imports)]
pub use ttfs_tools::testing::require;

/// The repository's `rtl-templates` folder.
pub fn rtl_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("rtl-templates")
}
