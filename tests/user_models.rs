//! Models as users export them (`tests/fixtures/users`, made by
//! `make_user_models.py`): PyTorch MLPs from both exporters (an input
//! Flatten, a `view` Reshape, weights in an external data file) and
//! scikit-learn pipelines (a StandardScaler as `ai.onnx.ml` Scaler, raw
//! features, a Normalizer, a binary classifier's Sigmoid head). Each
//! converts to a network whose float outputs equal onnxruntime's, or is
//! refused with the node that cannot be mapped.

mod common;

use common::{canonical_samples, fixture, require, softmax};
use ttfs_convert::stage::read_model;
use ttfs_convert::{CalibrationData, Options};
use ttfs_cosim::stage::{self as cosim, Args, Simulator, WeightLoad};
use ttfs_hw::target::Target;
use ttfs_ir::Network;
use ttfs_sim::eval::{Samples, evaluate};
use ttfs_sim::{Prepared, encode, relu};
use ttfs_tools::Tool;

fn convert(model: &str, calib: &str) -> Network {
    let graph = read_model(&fixture(&format!("users/{model}"))).unwrap_or_else(|e| panic!("{model}: {e:#}"));
    let data = ttfs_data::load_data(&fixture(&format!("users/{calib}"))).unwrap();
    ttfs_convert::convert(
        &graph,
        &CalibrationData { name: calib.into(), values: &data.values, count: data.count, natural_range: None },
        &Options::default(),
    )
    .unwrap_or_else(|e| panic!("{model}: {e}"))
}

/// The float network's outputs (softmax of the logits when
/// `probabilities`) equal onnxruntime's to 1e-4 of the largest, and its
/// classes equal the reference labels where there are some, on every
/// sample whose inputs lie inside the calibrated input ranges (a value
/// outside is clipped by the encoding, as the hardware would; at most a
/// tenth of the samples may have one).
fn check(net: &Network, input: &str, output: &str, labels: Option<&str>, probabilities: bool) {
    let (values, count) = canonical_samples(net, &format!("users/{input}"), None);
    let expected = ttfs_data::load_data(&fixture(&format!("users/{output}"))).unwrap();
    let labels = labels.map(|l| ttfs_data::load_labels(&fixture(&format!("users/{l}"))).unwrap());
    assert_eq!(expected.count, count);
    let model = Prepared::new(net);
    let len = net.input.shape.iter().product::<usize>();
    let mut clipped_samples = 0;
    for (i, raw) in values.chunks(len).enumerate() {
        let (x0, clipped) = encode::continuous(net, raw);
        if clipped > 0 {
            clipped_samples += 1;
            continue;
        }
        let logits = relu::forward(&model, &x0).pop().unwrap();
        let ours = if probabilities { softmax(&logits) } else { logits.clone() };
        let theirs = expected.sample(i);
        let scale = theirs.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        for (k, (a, b)) in ours.iter().zip(theirs).enumerate() {
            assert!((a - b).abs() <= 1e-4 * scale, "{output} sample {i} output {k}: ours {a}, onnxruntime {b}");
        }
        if let Some(labels) = &labels {
            assert_eq!(ttfs_sim::argmax(&logits), labels[i], "{output} sample {i}: class");
        }
    }
    assert!(clipped_samples * 10 <= count, "{output}: {clipped_samples} of {count} samples leave the input ranges");
}

/// The integer network picks the float network's class on (nearly) every
/// reference input.
fn discrete_agreement(net: &Network, input: &str) -> f64 {
    let (values, _) = canonical_samples(net, &format!("users/{input}"), None);
    let r = evaluate(
        &Prepared::new(net),
        Samples { values: &values, sample_len: net.input.shape.iter().product(), labels: None },
    );
    assert_eq!(r.discrete_closed_form_mismatches, Some(0));
    r.agreement_discrete.unwrap()
}

#[test]
fn pytorch_mlps_from_both_exporters_convert_exactly() {
    for model in ["torch_mlp_script", "torch_mlp_dynamo", "torch_mlp_dynamo_inline", "torch_mlp_view"] {
        let net = convert(&format!("{model}.onnx"), "torch_mlp_ref_input.npy");
        assert!(
            net.notes.iter().any(|n| n.contains("at the input is folded into")),
            "{model}: the input Flatten is folded away: {:?}",
            net.notes
        );
        assert!(net.layers.iter().all(|l| l.kind() == "dense"), "{model}: only dense layers");
        check(&net, "torch_mlp_ref_input.npy", &format!("{model}_ref_output.npy"), None, false);
        let agreement = discrete_agreement(&net, "torch_mlp_ref_input.npy");
        assert!(agreement >= 0.99, "{model}: discrete agreement {agreement}");
    }
}

/// The TorchScript export, built and co-simulated: every spike on its tick.
#[test]
fn a_pytorch_mlp_cosimulates_exactly() {
    let Some(_) = require(Tool::Verilator) else { return };
    let net = convert("torch_mlp_script.onnx", "torch_mlp_ref_input.npy");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net.json");
    std::fs::write(&path, net.to_json()).unwrap();
    let report = cosim::run(&Args {
        input: path,
        data: fixture("users/torch_mlp_ref_input.npy"),
        labels: None,
        count: Some(20),
        lanes: ttfs_hw::planner::Lanes::Fixed(vec![]),
        target: Target::Ice40Up5k,
        simulator: Simulator::Verilator,
        load: WeightLoad::Preload,
        trace: None,
        trace_sample: 0,
        trust_design: false,
    })
    .unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(report.difference(), None);
    assert_eq!(report.samples, 20);
}

/// A Keras MLP through tf2onnx (raw pixels of shape [28, 28], rescaled by a
/// Mul, flattened by a Reshape) and a deeper PyTorch MLP from the dynamo
/// exporter (weights in an external data file): outputs equal
/// onnxruntime's, and the Keras one co-simulates with the lanes `auto`
/// picks on the UP5K.
#[test]
fn keras_and_deeper_pytorch_mlps_convert_exactly_and_cosimulate() {
    for (model, input) in
        [("keras_mlp_tf2onnx", "keras_mlp_tf2onnx_ref_input.npy"), ("torch_mlp3_dynamo", "torch_mlp_ref_input.npy")]
    {
        let net = convert(&format!("{model}.onnx"), input);
        assert!(net.notes.iter().any(|n| n.contains("at the input is folded into")), "{model}: {:?}", net.notes);
        assert!(net.layers.iter().all(|l| l.kind() == "dense"), "{model}: only dense layers");
        check(&net, input, &format!("{model}_ref_output.npy"), None, false);
        let agreement = discrete_agreement(&net, input);
        assert!(agreement >= 0.99, "{model}: discrete agreement {agreement}");
    }
    let Some(_) = require(Tool::Verilator) else { return };
    let net = convert("keras_mlp_tf2onnx.onnx", "keras_mlp_tf2onnx_ref_input.npy");
    assert_eq!(net.input.data_shape, vec![784]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net.json");
    std::fs::write(&path, net.to_json()).unwrap();
    let report = cosim::run(&Args {
        input: path,
        data: fixture("users/keras_mlp_tf2onnx_ref_input.npy"),
        labels: None,
        count: Some(20),
        lanes: ttfs_hw::planner::Lanes::Auto(ttfs_hw::planner::Goal::DEFAULT),
        target: Target::Ice40Up5k,
        simulator: Simulator::Verilator,
        load: WeightLoad::Loader,
        trace: None,
        trace_sample: 0,
        trust_design: false,
    })
    .unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(report.difference(), None);
    assert_eq!(report.samples, 20);
}

#[test]
fn scikit_learn_pipelines_with_a_scaler_and_raw_features_convert_exactly() {
    for model in ["wine_scaler_mlp", "wine_raw_mlp"] {
        let net = convert(&format!("{model}.onnx"), "wine/train_features.csv.gz");
        check(
            &net,
            &format!("{model}_ref_input.npy"),
            &format!("{model}_ref_output.npy"),
            Some(&format!("{model}_ref_label.npy")),
            true,
        );
    }
}

/// skl2onnx's binary head (Sigmoid, then [1 − p, p]) becomes the logits
/// [0, z]: their softmax is exactly [1 − σ(z), σ(z)].
#[test]
fn a_binary_classifier_gets_two_logits_with_the_same_decision() {
    let net = convert("cancer_binary_mlp.onnx", "cancer/train_features.csv.gz");
    assert_eq!(net.classes(), 2);
    assert!(net.notes.iter().any(|n| n.contains("one logit z")), "{:?}", net.notes);
    check(
        &net,
        "cancer_binary_mlp_ref_input.npy",
        "cancer_binary_mlp_ref_output.npy",
        Some("cancer_binary_mlp_ref_label.npy"),
        true,
    );
}

#[test]
fn a_normalizer_is_refused_with_the_reason() {
    let error = format!("{:#}", read_model(&fixture("users/wine_normalizer_mlp.onnx")).unwrap_err());
    assert!(
        error.contains("wine_normalizer_mlp.onnx")
            && error.contains("node 'Normalizer'")
            && error.contains("divides each sample by its own L2 norm"),
        "{error}"
    );
}

/// Accuracy of the float (ReLU) and integer networks on a labelled split.
fn accuracies(net: &Network, features: &str, labels: &str) -> (f64, f64) {
    let (values, n) = canonical_samples(net, &format!("users/{features}"), None);
    let labels = common::labels(&format!("users/{labels}"), n);
    let r = evaluate(
        &Prepared::new(net),
        Samples { values: &values, sample_len: net.input.shape.iter().product(), labels: Some(&labels) },
    );
    (r.accuracy_relu.unwrap(), r.accuracy_discrete.unwrap())
}

fn convert_with(model: &str, calib: &str, encoding: ttfs_convert::InputEncoding) -> Network {
    let graph = read_model(&fixture(&format!("users/{model}"))).unwrap();
    let data = ttfs_data::load_data(&fixture(&format!("users/{calib}"))).unwrap();
    ttfs_convert::convert(
        &graph,
        &CalibrationData { name: calib.into(), values: &data.values, count: data.count, natural_range: None },
        &Options { input_encoding: encoding, ..Options::default() },
    )
    .unwrap()
}

/// Raw tabular features on different scales (breast cancer: spans from
/// 0.02 to 4,000) each get their own input range, so the integer network
/// keeps the float network's accuracy; one shared range loses a third of it.
#[test]
fn features_on_different_scales_each_use_the_whole_input_window() {
    use ttfs_convert::InputEncoding;
    let per_feature = convert("cancer_binary_mlp.onnx", "cancer/train_features.csv.gz");
    let ranges = per_feature.input.feature_ranges.as_ref().expect("auto chose per-feature ranges");
    assert_eq!(ranges.len(), 30);
    let (float, discrete) = accuracies(&per_feature, "cancer/test_features.csv.gz", "cancer/test_labels.csv.gz");
    assert!((float - 0.958).abs() < 1e-3, "scikit-learn measured 0.958: {float}");
    assert!(discrete >= float - 0.01, "per-feature: float {float}, discrete {discrete}");
    let shared = convert_with("cancer_binary_mlp.onnx", "cancer/train_features.csv.gz", InputEncoding::Global);
    assert!(shared.input.feature_ranges.is_none());
    let (_, squashed) = accuracies(&shared, "cancer/test_features.csv.gz", "cancer/test_labels.csv.gz");
    assert!(squashed < discrete - 0.2, "one shared range squashes the small features: {squashed}");
    // With the scaler in the pipeline the wine MLP stays exact in integers.
    let wine = convert("wine_scaler_mlp.onnx", "wine/train_features.csv.gz");
    assert_eq!(accuracies(&wine, "wine/test_features.csv.gz", "wine/test_labels.csv.gz"), (1.0, 1.0));
    // A description with per-feature ranges round-trips through net.json.
    assert_eq!(Network::from_json(&per_feature.to_json()).unwrap(), per_feature);
}

/// Bytes (0..255) fed to a model calibrated on [0, 1] pixels: `sim` says
/// the data do not match the calibration.
#[test]
fn bytes_into_a_unit_range_model_are_warned_about() {
    let net = convert("torch_mlp_script.onnx", "torch_mlp_ref_input.npy");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net.json");
    std::fs::write(&path, net.to_json()).unwrap();
    let report = ttfs_flow::sim_stage::run(&ttfs_flow::sim_stage::Args {
        network: path,
        data: fixture("mnist/t10k-images-idx3-ubyte.gz"),
        labels: None,
        count: Some(50),
        exhaustive: false,
    })
    .unwrap();
    let warnings = ttfs_flow::sim_stage::warnings(&report);
    assert!(warnings.iter().any(|w| w.contains("outside the ranges the network was calibrated on")), "{warnings:?}");
}
