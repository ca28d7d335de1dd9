//! Helpers shared by the end-to-end tests: fixture paths and conversion of
//! fixture models.

#![allow(dead_code)]

pub mod synthetic;

use std::path::{Path, PathBuf};
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
    canonical_samples_from(net, &fixture(rel), count)
}

/// [`canonical_samples`] of any data file.
pub fn canonical_samples_from(net: &Network, path: &Path, count: Option<usize>) -> (Vec<f64>, usize) {
    let mut d = data::load_data(path).expect("data loads");
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

/// Calibration samples of the networks behind the estimate's fit data
/// (`benches/estimate_fit.csv`): the bench and `tests/estimate.rs` convert
/// with the same subset, so the plans (and the estimate's terms) agree.
pub const FIT_CALIB_SAMPLES: usize = 300;

/// A fixture model of the estimate's fit data (`digits_mlp` or
/// `mnist_mlp`), converted at `time_bits` with [`FIT_CALIB_SAMPLES`]
/// samples of its training images.
pub fn fit_network(model: &str, time_bits: u32) -> Network {
    let calib = match model {
        "digits_mlp" => "digits/train_images.csv.gz",
        "mnist_mlp" => "mnist/train5k-images-idx3-ubyte.gz",
        other => panic!("no fit model {other}"),
    };
    let options = Options { time_bits: vec![time_bits], ..Options::default() };
    convert_fixture(&format!("{model}.onnx"), calib, Some(FIT_CALIB_SAMPLES), &options)
}

/// Lanes asked per layer as the fit data write them: `all`, one count, or
/// counts joined by `/`.
pub fn parse_lanes(text: &str) -> Vec<usize> {
    if text == "all" { vec![0] } else { text.split('/').map(|n| n.parse().expect("a lane count")).collect() }
}

/// slang's warning groups, beyond its defaults, that the RTL must not raise:
/// sign and width conversions, shadowed names, functions without a value
/// on every path. (`-Weverything` adds unused-net warnings for the
/// deliberately unused sinks Verilator's lint asks for.)
pub const SLANG_WARNINGS: [&str; 2] = ["-Wextra", "-Wconversion"];

/// Runs slang (`ttfs_tools::Tool::Slang`) in `dir` with `args`; panics, with
/// its whole report, unless it compiles with no error and no warning.
pub fn slang_clean(slang: &std::path::Path, dir: &std::path::Path, args: &[String], what: &str) {
    let mut cmd = std::process::Command::new(slang);
    cmd.current_dir(dir).args(args);
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {}: {e}", ttfs_tools::describe(&cmd)));
    let text = ttfs_tools::combined(&out);
    assert!(
        out.status.success() && text.contains("Build succeeded: 0 errors, 0 warnings"),
        "{what}: slang reports errors or warnings: {}\n{text}",
        ttfs_tools::describe(&cmd)
    );
}
