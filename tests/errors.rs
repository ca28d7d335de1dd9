//! What users see when their input is wrong: each message names the file,
//! node, tensor or shape at fault and what would be accepted. Snapshots keep
//! the wording stable; paths are shown relative to the fixtures folder.

mod common;

use common::fixture;
use std::path::PathBuf;
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
    let args =
        sim_stage::Args { network, data: fixture("mnist/t10k-images-idx3-ubyte.gz"), labels: None, count: Some(10) };
    insta::assert_snapshot!(shown(sim_stage::run(&args).unwrap_err()));
}

#[test]
fn labels_that_are_not_classes_of_the_network() {
    let dir = tempfile::tempdir().unwrap();
    let network = digits_network(dir.path());
    let labels = dir.path().join("labels.csv");
    std::fs::write(&labels, "1\n2\n12\n").unwrap();
    let args =
        sim_stage::Args { network, data: fixture("digits/test_images.csv.gz"), labels: Some(labels), count: Some(3) };
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
    let mut json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&network).unwrap()).unwrap();
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
    insta::assert_snapshot!(format!("{:#}", convert_stage::run(&args).unwrap_err()));
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
