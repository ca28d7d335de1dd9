//! The converter and simulators on models exported by real tools
//! (skl2onnx, tf2onnx) and on hand-made ONNX edge cases, checked against
//! onnxruntime's outputs stored with the fixtures.

mod common;

use common::{canonical_samples, convert_fixture, fixture, labels, softmax};
use ttfs_convert::Options;
use ttfs_ir::{Network, NeuronModel};
use ttfs_sim::eval::{Report, Samples, evaluate};
use ttfs_sim::{Prepared, encode, relu};

/// The float network's logits on the reference inputs reproduce
/// onnxruntime's outputs (probabilities when `probabilities`).
fn check_against_onnxruntime(net: &Network, input: &str, output: &str, probabilities: bool) {
    let (values, count) = canonical_samples(net, input, None);
    let expected = ttfs_data::load_data(&fixture(output)).expect("reference output loads");
    assert_eq!(expected.count, count);
    let model = Prepared::new(net);
    let len = net.input.shape.iter().product::<usize>();
    for (i, raw) in values.chunks(len).enumerate() {
        let (x0, _) = encode::continuous(net, raw);
        let logits = relu::forward(&model, &x0).pop().unwrap();
        let ours = if probabilities { softmax(&logits) } else { logits };
        let theirs = expected.sample(i);
        let scale = theirs.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        for (k, (a, b)) in ours.iter().zip(theirs).enumerate() {
            assert!((a - b).abs() <= 1e-4 * scale, "{input} sample {i} output {k}: ours {a}, onnxruntime {b}");
        }
    }
}

fn report(net: &Network, data_file: &str, labels_file: &str, count: Option<usize>) -> Report {
    let (values, n) = canonical_samples(net, data_file, count);
    let labels = labels(labels_file, n);
    evaluate(
        &Prepared::new(net),
        Samples { values: &values, sample_len: net.input.shape.iter().product(), labels: Some(&labels) },
    )
}

fn assert_exact(r: &Report) {
    assert_eq!(r.agreement_continuous, 1.0, "{r:#?}");
    assert!(r.max_rel_error_continuous <= 1e-9, "{r:#?}");
    assert_eq!(r.clipped_activations, 0, "{r:#?}");
    assert_eq!(r.discrete_closed_form_mismatches, Some(0), "{r:#?}");
}

#[test]
fn digits_mlp_from_skl2onnx() {
    let net = convert_fixture("digits_mlp.onnx", "digits/train_images.csv.gz", None, &Options::default());
    assert!(net.notes.iter().any(|n| n.contains("ZipMap")), "the classifier tail is reported: {:?}", net.notes);
    check_against_onnxruntime(&net, "digits_mlp_ref_input.npy", "digits_mlp_ref_output.npy", true);
    let r = report(&net, "digits/test_images.csv.gz", "digits/test_labels.csv.gz", None);
    assert_exact(&r);
    assert_eq!(r.samples, 450);
    assert!((r.accuracy_relu.unwrap() - 0.9733).abs() < 1e-3, "sklearn measured 0.9733: {r:#?}");
    assert!(r.accuracy_discrete.unwrap() >= r.accuracy_relu.unwrap() - 0.01, "{r:#?}");
}

/// The acceptance figure: 8-bit time, 8-bit weights, the full 10k
/// MNIST test set, discrete accuracy within 0.3 points of the ReLU network.
#[test]
fn mnist_mlp_full_test_set() {
    let net = convert_fixture("mnist_mlp.onnx", "mnist/train5k-images-idx3-ubyte.gz", None, &Options::default());
    check_against_onnxruntime(&net, "mnist_mlp_ref_input.npy", "mnist_mlp_ref_output.npy", true);
    let r = report(&net, "mnist/t10k-images-idx3-ubyte.gz", "mnist/t10k-labels-idx1-ubyte.gz", None);
    assert_exact(&r);
    assert_eq!(r.samples, 10_000);
    assert!((r.accuracy_relu.unwrap() - 0.9785).abs() < 1e-4, "onnxruntime measured 0.9785: {r:#?}");
    let drop = r.accuracy_relu.unwrap() - r.accuracy_discrete.unwrap();
    assert!(drop <= 0.003, "discrete accuracy drops {drop}: {r:#?}");
    assert!(r.spikes_per_neuron.unwrap() < 1.0);
}

#[test]
fn mnist_cnn_from_tf2onnx() {
    let net = convert_fixture("mnist_cnn.onnx", "mnist/train5k-images-idx3-ubyte.gz", Some(1000), &Options::default());
    // NHWC input with one channel, batch-norm as Mul/Add before and after ReLU,
    // an input offset and a BN offset feeding zero-padded convolutions.
    assert_eq!(net.input.shape, vec![1, 28, 28]);
    assert_eq!(net.input.data_shape, vec![28, 28, 1]);
    let maps = net.layers.iter().filter(|l| l.params().is_some_and(|p| p.bias_map.is_some())).count();
    assert_eq!(maps, 2, "conv1 (input offset) and conv3 (BN after ReLU) need border biases");
    check_against_onnxruntime(&net, "mnist_cnn_ref_input.npy", "mnist_cnn_ref_output.npy", true);
    let r = report(&net, "mnist/t10k-images-idx3-ubyte.gz", "mnist/t10k-labels-idx1-ubyte.gz", Some(300));
    assert_exact(&r);
    assert!(r.accuracy_discrete.unwrap() >= r.accuracy_relu.unwrap() - 0.01, "{r:#?}");
}

/// Paper 1's α/J neuron on the digits MLP: every hidden neuron spikes once,
/// and the network is exact wherever no neuron fires before its window.
#[test]
fn digits_mlp_alpha_neuron() {
    let options = Options { neuron: NeuronModel::Alpha, ..Options::default() };
    let net = convert_fixture("digits_mlp.onnx", "digits/train_images.csv.gz", None, &options);
    assert!(net.layers.iter().all(|l| l.params().is_none_or(|p| p.quant.is_none())));
    let r = report(&net, "digits/test_images.csv.gz", "digits/test_labels.csv.gz", None);
    assert_eq!(r.spikes_per_neuron_continuous, 1.0, "every α/J neuron spikes exactly once");
    assert_eq!(r.accuracy_discrete, None);
    assert_eq!(r.spikes_per_neuron, None);
    if r.clipped_activations == 0 {
        assert!(r.max_rel_error_continuous <= 1e-9, "{r:#?}");
        assert_eq!(r.agreement_continuous, 1.0);
    }
}

fn edge_case(name: &str, probabilities: bool) {
    let model = format!("onnx/{name}.onnx");
    let input = format!("onnx/{name}_input.npy");
    let net = convert_fixture(&model, &input, None, &Options::default());
    check_against_onnxruntime(&net, &input, &format!("onnx/{name}_output.npy"), probabilities);
    let (values, _) = canonical_samples(&net, &input, None);
    let r = evaluate(&Prepared::new(&net), Samples { values: &values, sample_len: values.len() / 16, labels: None });
    assert!(r.max_rel_error_continuous <= 1e-9, "{name}: {r:#?}");
    assert_eq!(r.discrete_closed_form_mismatches, Some(0));
}

#[test]
fn gemm_with_alpha_beta_and_transposes() {
    edge_case("gemm_variants", false);
}

#[test]
fn matmul_add_with_input_normalisation() {
    edge_case("matmul_add_norm", true);
}

#[test]
fn double_precision_initializers() {
    edge_case("double_mlp", false);
}

#[test]
fn cast_input_and_argmax_output() {
    edge_case("cast_input", false);
}

#[test]
fn conv_batchnorm_negative_scale_maxpool() {
    edge_case("conv_pool", false);
}

#[test]
fn batchnorm_after_relu_before_padded_conv() {
    edge_case("bn_after_relu_pad", false);
}

#[test]
fn average_pool_folded_into_dense() {
    edge_case("avgpool_dense", false);
}

#[test]
fn nhwc_transposes_around_a_convolution() {
    edge_case("transpose_nhwc", false);
}

/// Paper 1's mapping on a CNN: weight-sum rescaling across max-pooling and
/// flatten, zero-padding taps spiking at t_min, border biases; exact.
#[test]
fn mnist_cnn_alpha_neuron() {
    let options = Options { neuron: NeuronModel::Alpha, ..Options::default() };
    let net = convert_fixture("mnist_cnn.onnx", "mnist/train5k-images-idx3-ubyte.gz", Some(300), &options);
    assert!(net.notes.iter().any(|n| n.contains("rescaled")), "{:?}", net.notes);
    let r = report(&net, "mnist/t10k-images-idx3-ubyte.gz", "mnist/t10k-labels-idx1-ubyte.gz", Some(100));
    assert_eq!(r.clipped_activations, 0, "{r:#?}");
    assert_eq!(r.agreement_continuous, 1.0, "{r:#?}");
    assert!(r.max_rel_error_continuous <= 1e-9, "{r:#?}");
    assert_eq!(r.spikes_per_neuron_continuous, 1.0);
}

/// The same model and data give a byte-identical description.
#[test]
fn conversion_is_deterministic() {
    let a = convert_fixture("mnist_cnn.onnx", "mnist/train5k-images-idx3-ubyte.gz", Some(200), &Options::default());
    let b = convert_fixture("mnist_cnn.onnx", "mnist/train5k-images-idx3-ubyte.gz", Some(200), &Options::default());
    let text = a.to_json();
    assert_eq!(text, b.to_json());
    assert_eq!(Network::from_json(&text).expect("the description reads back"), a);
}
