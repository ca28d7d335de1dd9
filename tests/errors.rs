//! What users see when their input is wrong: each message names the file,
//! node, tensor or shape at fault and what would be accepted. Snapshots keep
//! the wording stable; paths are shown relative to the fixtures folder.

mod common;

use common::fixture;
use std::path::{Path, PathBuf};
use ttfs_convert::Options;
use ttfs_convert::stage as convert_stage;
use ttfs_flow::sim_stage;
use ttfs_ir::summary;

fn shown(error: anyhow::Error) -> String {
    let root = fixture("");
    format!("{error:#}").replace(root.to_str().unwrap(), "<fixtures>/")
}

fn convert_error(model: &str, calib: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let args = convert_stage::Args {
        model: fixture(model),
        calib: fixture(calib),
        calib_count: Some(50),
        output: dir.path().join("net.json"),
        options: Options::default(),
        dump_after: Vec::new(),
        force: false,
    };
    let error = convert_stage::run(&args).expect_err("conversion must fail");
    assert!(!args.output.exists(), "nothing is written on error");
    shown(error)
}

#[test]
fn unsupported_op_names_node_op_and_alternatives() {
    insta::assert_snapshot!(convert_error("onnx/unsupported_tanh.onnx", "digits/test_images.csv.gz"));
}

#[test]
fn malformed_protobuf() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("broken.onnx");
    std::fs::write(&model, b"\x08\x07\x12\x04this is not a model").unwrap();
    let args = convert_stage::Args {
        model: model.clone(),
        calib: fixture("digits/test_images.csv.gz"),
        calib_count: None,
        output: dir.path().join("net.json"),
        options: Options::default(),
        dump_after: Vec::new(),
        force: false,
    };
    let text = format!("{:#}", convert_stage::run(&args).unwrap_err()).replace(dir.path().to_str().unwrap(), "<tmp>");
    insta::assert_snapshot!(text);
}

#[test]
fn nan_weights_name_the_tensor_and_index() {
    insta::assert_snapshot!(convert_error("onnx/nan_weights.onnx", "onnx/gemm_variants_input.npy"));
}

#[test]
fn calibration_data_that_do_not_match_the_model() {
    insta::assert_snapshot!(convert_error("mnist_mlp.onnx", "digits/test_images.csv.gz"));
}

#[test]
fn average_pool_before_a_convolution_is_refused_with_a_reason() {
    insta::assert_snapshot!(convert_error("onnx/avgpool_conv.onnx", "onnx/conv_pool_input.npy"));
}

#[test]
fn grouped_convolution_is_refused() {
    insta::assert_snapshot!(convert_error("onnx/grouped_conv.onnx", "onnx/conv_pool_input.npy"));
}

/// A network for the data-shape tests.
fn digits_network(dir: &std::path::Path) -> PathBuf {
    let out = dir.join("digits.json");
    convert_stage::run(&convert_stage::Args {
        model: fixture("digits_mlp.onnx"),
        calib: fixture("digits/train_images.csv.gz"),
        calib_count: Some(200),
        output: out.clone(),
        options: Options::default(),
        dump_after: Vec::new(),
        force: false,
    })
    .unwrap();
    out
}

#[test]
fn wrong_data_shape_names_both_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let network = digits_network(dir.path());
    let args = sim_stage::Args {
        network,
        data: fixture("mnist/t10k-images-idx3-ubyte.gz"),
        labels: None,
        count: Some(10),
        exhaustive: false,
    };
    insta::assert_snapshot!(shown(sim_stage::run(&args).unwrap_err()));
}

#[test]
fn labels_that_are_not_classes_of_the_network() {
    let dir = tempfile::tempdir().unwrap();
    let network = digits_network(dir.path());
    let labels = dir.path().join("labels.csv");
    std::fs::write(&labels, "1\n2\n12\n").unwrap();
    let args = sim_stage::Args {
        network,
        data: fixture("digits/test_images.csv.gz"),
        labels: Some(labels),
        count: Some(3),
        exhaustive: false,
    };
    let text = format!("{:#}", sim_stage::run(&args).unwrap_err()).replace(dir.path().to_str().unwrap(), "<tmp>");
    insta::assert_snapshot!(text);
}

#[test]
fn an_existing_output_is_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let network = digits_network(dir.path());
    let before = std::fs::read(&network).unwrap();
    let args = convert_stage::Args {
        model: fixture("digits_mlp.onnx"),
        calib: fixture("digits/train_images.csv.gz"),
        calib_count: Some(10),
        output: network.clone(),
        options: Options::default(),
        dump_after: Vec::new(),
        force: false,
    };
    let text = format!("{:#}", convert_stage::run(&args).unwrap_err()).replace(dir.path().to_str().unwrap(), "<tmp>");
    insta::assert_snapshot!(text);
    assert_eq!(std::fs::read(&network).unwrap(), before);
    convert_stage::run(&convert_stage::Args { force: true, ..args }).expect("--force replaces it");
}

#[test]
fn a_tampered_network_description_is_rejected_on_load() {
    let dir = tempfile::tempdir().unwrap();
    let network = digits_network(dir.path());
    // The self-contained form, so that the weights are in the JSON.
    let mut json: serde_json::Value = serde_json::from_str(&ttfs_ir::load(&network).unwrap().to_json()).unwrap();
    // A weight that no longer fits 8 bits.
    json["layers"][0]["params"]["quant"]["weights"][5] = serde_json::json!(300);
    std::fs::write(&network, serde_json::to_string(&json).unwrap()).unwrap();
    let text = format!("{:#}", anyhow::Error::from(summary::run(&network).unwrap_err()))
        .replace(dir.path().to_str().unwrap(), "<tmp>");
    insta::assert_snapshot!(text);
}

#[test]
fn per_layer_bits_of_the_wrong_length() {
    let dir = tempfile::tempdir().unwrap();
    let args = convert_stage::Args {
        model: fixture("digits_mlp.onnx"),
        calib: fixture("digits/train_images.csv.gz"),
        calib_count: Some(10),
        output: dir.path().join("net.json"),
        options: Options { time_bits: vec![8, 6, 4], ..Options::default() },
        dump_after: Vec::new(),
        force: false,
    };
    insta::assert_snapshot!(format!("{:#}", convert_stage::run(&args).unwrap_err()));
}

#[test]
fn a_json_model_with_arrays_of_the_wrong_length() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("short.json");
    std::fs::write(
        &model,
        r#"{"name": "short", "producer": "hand", "data_shape": [3], "data_permutation": [0],
            "ops": [{"op": "dense", "name": "fc", "inputs": 3, "outputs": 2, "weights": [1, 2, 3, 4, 5, 6], "bias": [0.5]},
                    {"op": "relu", "name": "r"},
                    {"op": "dense", "name": "out", "inputs": 2, "outputs": 1, "weights": [1, -1], "bias": [0]}]}"#,
    )
    .unwrap();
    let data = dir.path().join("calib.csv");
    std::fs::write(&data, "1,2,3\n4,5,6\n").unwrap();
    let args = convert_stage::Args {
        model,
        calib: data,
        calib_count: None,
        output: dir.path().join("net.json"),
        options: Options::default(),
        dump_after: Vec::new(),
        force: false,
    };
    insta::assert_snapshot!(
        format!("{:#}", convert_stage::run(&args).unwrap_err()).replace(dir.path().to_str().unwrap(), "<tmp>")
    );
}

#[test]
fn a_description_of_another_version_asks_to_convert_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.json");
    std::fs::write(&path, r#"{"format": "ttfs-net", "version": 0, "layers": []}"#).unwrap();
    let text = format!("{:#}", anyhow::Error::from(summary::run(&path).unwrap_err()))
        .replace(dir.path().to_str().unwrap(), "<tmp>");
    insta::assert_snapshot!(text);
}

/// `--count 0` selects nothing: an error, not a panic (sim) or a run that
/// checked nothing (cosim).
#[test]
fn count_zero_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let network = dir.path().join("digits.json");
    let net = common::convert_fixture("digits_mlp.onnx", "digits/train_images.csv.gz", Some(100), &Options::default());
    std::fs::write(&network, net.to_json()).unwrap();
    let data = fixture("digits/test_images.csv.gz");
    let err = sim_stage::run(&sim_stage::Args {
        network: network.clone(),
        data: data.clone(),
        labels: None,
        count: Some(0),
        exhaustive: false,
    })
    .unwrap_err();
    assert!(format!("{err:#}").contains("--count 0 selects none of the samples"), "{err:#}");
    let err = ttfs_hw::stage::input_codes(&net, &data, Some(0)).unwrap_err();
    assert!(format!("{err:#}").contains("--count 0"), "{err:#}");
}

/// A waveform that cannot be written is an error before anything runs
/// (it used to hang the simulator on a full device, or be lost).
#[test]
fn an_unwritable_trace_is_refused_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let args = |trace: PathBuf| ttfs_cosim::stage::Args {
        input: dir.path().join("no-such-design"),
        data: fixture("digits/test_images.csv.gz"),
        labels: None,
        count: Some(1),
        lanes: ttfs_hw::planner::Lanes::Fixed(vec![]),
        target: ttfs_hw::target::Target::Ice40Hx8k,
        simulator: ttfs_cosim::stage::Simulator::Verilator,
        load: ttfs_cosim::stage::WeightLoad::Loader,
        trace: Some(trace),
        trace_sample: 0,
        trust_design: false,
    };
    let mut cases = vec![(dir.path().to_path_buf(), "cannot create the waveform")];
    cases.push((dir.path().join("missing/x.vcd"), "cannot create the waveform"));
    if Path::new("/dev/full").exists() {
        cases.push((PathBuf::from("/dev/full"), "cannot write the waveform"));
    }
    for (trace, expected) in cases {
        let err = ttfs_cosim::stage::run(&args(trace.clone())).unwrap_err();
        assert!(format!("{err:#}").contains(expected), "{}: {err:#}", trace.display());
    }
    // A writable trace with a run that fails (no such design) leaves no file.
    let vcd = dir.path().join("ok.vcd");
    assert!(ttfs_cosim::stage::run(&args(vcd.clone())).is_err());
    assert!(!vcd.exists(), "a failed run leaves no waveform behind");
}

/// A hidden layer of width 0, with every array consistent with it, is
/// refused on load naming the layer (it used to divide by zero in
/// validation and panic in the simulators).
#[test]
fn a_layer_without_outputs_is_refused_on_load() {
    let net = common::convert_fixture("digits_mlp.onnx", "digits/train_images.csv.gz", Some(100), &Options::default());
    let mut json: serde_json::Value = serde_json::from_str(&net.to_json()).unwrap();
    let empty = serde_json::Value::Array(vec![]);
    for (k, field) in [(0, "outputs"), (1, "inputs")] {
        let layer = &mut json["layers"][k];
        layer[field] = 0.into();
        for array in ["weights", "bias"] {
            if k == 0 || array == "weights" {
                layer["params"][array] = empty.clone();
                layer["params"]["quant"][array] = empty.clone();
            }
        }
    }
    let err = ttfs_ir::Network::from_json(&json.to_string()).unwrap_err().to_string();
    assert!(err.contains("layers[0] (MatMul)") && err.contains("has no values"), "{err}");
}

/// A version 1 description (one input range for all features) still
/// loads; per-feature ranges need version 2.
#[test]
fn version_1_descriptions_still_load() {
    let net = common::convert_fixture("digits_mlp.onnx", "digits/train_images.csv.gz", Some(100), &Default::default());
    let mut json: serde_json::Value = serde_json::from_str(&net.to_json()).unwrap();
    assert_eq!(json["version"], 3);
    json["version"] = 1.into();
    let old = ttfs_ir::Network::from_json(&json.to_string()).expect("version 1 loads");
    assert_eq!(old.input.feature_ranges, None);
    json["input"]["feature_ranges"] = serde_json::json!(vec![[0.0, 16.0]; 64]);
    let error = ttfs_ir::Network::from_json(&json.to_string()).unwrap_err().to_string();
    assert!(error.contains("input.feature_ranges") && error.contains("version 2"), "{error}");
}
