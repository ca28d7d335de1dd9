//! Networks of the seeds' shape and size, built in Rust as real ONNX files
//! (`tests/common/synthetic.rs`): the 15-layer CIFAR-10 VGG (13 convolutions
//! with zero padding and batch-norm after the ReLU, 5 max-pools, 2 dense
//! layers) converts and simulates exactly on 3×32×32 images.
//!
//! CI runs the VGG with every width divided by 8 (the same 15 layers, the
//! same padding and folding, 1/64 of the arithmetic); the slow tier
//! (`cargo test --test large_networks -- --ignored`) runs the full-width
//! VGG (15 M parameters) and the 20 M-parameter 784-4096-4096-10 MLP of the
//! scaling issue.

mod common;

use common::synthetic::{Spec, images};
use ttfs_convert::stage::read_model;
use ttfs_convert::{CalibrationData, Options, convert};
use ttfs_sim::Prepared;
use ttfs_sim::eval::{Report, Samples, evaluate};

/// Converts `spec` on `calibration` seeded images and simulates it on
/// `test` other images, every simulator on every image.
fn convert_and_simulate(spec: &Spec, calibration: usize, test: usize) -> (ttfs_ir::Network, Report) {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join(format!("{}.onnx", spec.name));
    std::fs::write(&model, spec.onnx(3)).unwrap();
    let graph = read_model(&model).expect("the synthetic model reads");
    let pixels: Vec<f64> = images(&spec.input, calibration, 1).into_iter().map(f64::from).collect();
    let net = convert(
        &graph,
        &CalibrationData {
            name: "images".into(),
            values: &pixels,
            count: calibration,
            natural_range: Some([0.0, 255.0]),
        },
        &Options::default(),
    )
    .expect("the VGG converts");
    let test_pixels: Vec<f64> = images(&spec.input, test, 2).into_iter().map(f64::from).collect();
    let model = Prepared::new(&net);
    let report =
        evaluate(&model, Samples { values: &test_pixels, sample_len: spec.input.iter().product(), labels: None });
    (net, report)
}

/// Continuous = ReLU to rounding on every checked image, the tick-by-tick
/// simulation equal to its closed form, and every hidden layer neither dead
/// nor saturated (so exactness is not trivially met).
fn check_exact(net: &ttfs_ir::Network, report: &Report, name: &str) {
    println!(
        "{name}: {} samples; continuous max rel error {:.2e}, agreement {:.3}; clipped continuous {}, \
         discrete {:?}; discrete = closed form mismatches {:?}; discrete agreement {:?}",
        report.samples,
        report.max_rel_error_continuous,
        report.agreement_continuous,
        report.clipped_activations,
        report.clipped_activations_discrete,
        report.discrete_closed_form_mismatches,
        report.agreement_discrete
    );
    assert!(report.samples >= 100);
    assert_eq!(report.clipped_activations, 0, "{name}: no activation leaves its window on these images");
    assert!(report.max_rel_error_continuous < 1e-9, "{name}: continuous = ReLU, {report:?}");
    assert_eq!(report.agreement_continuous, 1.0);
    assert_eq!(report.discrete_closed_form_mismatches, Some(0));
    for (layer, figures) in net.layers.iter().zip(&report.layers) {
        if let (Some(_), Some(rate)) = (layer.params().and_then(|p| p.window), figures.spikes_per_neuron) {
            assert!(
                (0.02..0.98).contains(&rate),
                "{name}: layer {} spikes {rate:.3} per neuron: degenerate activations",
                figures.name
            );
        }
    }
}

#[test]
fn cifar_vgg15_eighth_width_converts_and_simulates_exactly() {
    let spec = Spec::cifar_vgg(8);
    assert_eq!(spec.blocks.iter().filter(|b| matches!(b, common::synthetic::Block::Conv { .. })).count(), 13);
    let (net, report) = convert_and_simulate(&spec, 200, 100);
    // Batch-norm after the ReLU folds into the next, zero-padded
    // convolution: the bias then depends on the position (a bias map).
    assert!(net.layers.iter().filter_map(|l| l.params()).any(|p| p.bias_map.is_some()));
    check_exact(&net, &report, &spec.name);
}

#[test]
#[ignore = "slow tier: the full-width 15 M-parameter VGG, a few minutes"]
fn cifar_vgg15_full_width_converts_and_simulates_exactly() {
    let spec = Spec::cifar_vgg(1);
    assert!(spec.parameters() > 14_000_000);
    let (net, report) = convert_and_simulate(&spec, 200, 100);
    check_exact(&net, &report, &spec.name);
}

#[test]
#[ignore = "slow tier: the 20 M-parameter MLP on 1,000 MNIST images, a few minutes"]
fn mlp_784_4096_4096_10_converts_and_simulates_exactly() {
    let spec = Spec::mlp(&[784, 4096, 4096, 10]);
    assert!(spec.parameters() > 20_000_000);
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("mlp.onnx");
    std::fs::write(&model, spec.onnx(5)).unwrap();
    let graph = read_model(&model).unwrap();
    let mut calib = ttfs_data::load_data(&common::fixture("mnist/t10k-images-idx3-ubyte.gz")).unwrap();
    calib.truncate(1000);
    let net = convert(
        &graph,
        &CalibrationData { name: "t10k".into(), values: &calib.values, count: 1000, natural_range: Some([0.0, 255.0]) },
        &Options::default(),
    )
    .expect("the MLP converts");
    let report = evaluate(&Prepared::new(&net), Samples { values: &calib.values, sample_len: 784, labels: None });
    check_exact(&net, &report, &spec.name);
}
