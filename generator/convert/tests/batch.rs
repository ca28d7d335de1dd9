//! The batched passes (`ttfs_sim::batch`) against the per-sample closed
//! forms and the literal simulators, on random dense, convolutional and
//! pooling networks and on the fixture models:
//! - the batched ReLU pass equals `relu::forward` to a relative 1e-9;
//! - the batched integer pass equals `quantized::forward` bit for bit, and
//!   its counts (clipping, spikes, synaptic events) equal the tick-by-tick
//!   simulator's;
//! - the batched continuous closed form counts the clipping and spikes the
//!   event-driven simulator counts;
//! - a sample's results do not depend on the other samples of its chunk.

#[path = "../../../tests/common/synthetic.rs"]
mod synthetic;

use proptest::prelude::*;
use std::path::PathBuf;
use synthetic::Rng;
use ttfs_convert::{CalibrationData, Graph, InputEncoding, Op, Options};
use ttfs_ir::{Network, NeuronModel};
use ttfs_sim::batch::{Batch, CHUNK};
use ttfs_sim::eval::{Samples, clipping};
use ttfs_sim::kernel::Stage;
use ttfs_sim::{Prepared, continuous, discrete, encode, quantized, relu};

/// A random network: convolutions (padded, strided, sometimes pooled) on
/// an image, or a plain MLP, with dense layers and a dense output.
fn random_graph(rng: &mut Rng, conv: bool) -> Graph {
    let mut ops = Vec::new();
    let data_shape;
    let mut width;
    if conv {
        let mut shape = [1 + rng.below(3), 4 + rng.below(6), 4 + rng.below(6)];
        data_shape = shape.to_vec();
        for k in 0..1 + rng.below(2) {
            let kernel = [1 + rng.below(shape[1].min(3)), 1 + rng.below(shape[2].min(3))];
            let stride = [1 + rng.below(2), 1 + rng.below(2)];
            let pads = [rng.below(kernel[0]), rng.below(kernel[1]), rng.below(kernel[0]), rng.below(kernel[1])];
            let co = 1 + rng.below(5);
            let oh = ttfs_ir::conv_out_dim(shape[1], kernel[0], stride[0], pads[0], pads[2]).unwrap();
            let ow = ttfs_ir::conv_out_dim(shape[2], kernel[1], stride[1], pads[1], pads[3]).unwrap();
            let scale = 2.0 / ((shape[0] * kernel[0] * kernel[1]) as f64).sqrt();
            ops.push(Op::Conv {
                name: format!("conv{k}"),
                out_channels: co,
                kernel,
                stride,
                pads,
                weights: rng.vec(co * shape[0] * kernel[0] * kernel[1], -scale, scale),
                bias: rng.vec(co, -0.3, 0.5),
            });
            ops.push(Op::Relu { name: format!("relu{k}") });
            shape = [co, oh, ow];
            if oh >= 2 && ow >= 2 && rng.below(2) == 0 {
                ops.push(Op::MaxPool { name: format!("pool{k}"), kernel: [2, 2], stride: [2, 2], pads: [0; 4] });
                shape = [co, oh / 2, ow / 2];
            }
        }
        ops.push(Op::Flatten { name: "flatten".into(), order: None });
        width = shape.iter().product();
    } else {
        width = 2 + rng.below(20);
        data_shape = vec![width];
    }
    for k in 0..rng.below(3) {
        let outputs = 2 + rng.below(20);
        let scale = 2.0 / (width as f64).sqrt();
        ops.push(Op::Dense {
            name: format!("fc{k}"),
            inputs: width,
            outputs,
            weights: rng.vec(width * outputs, -scale, scale),
            bias: rng.vec(outputs, -0.5, 0.5),
        });
        ops.push(Op::Relu { name: format!("dense_relu{k}") });
        width = outputs;
    }
    let classes = 2 + rng.below(5);
    ops.push(Op::Dense {
        name: "out".into(),
        inputs: width,
        outputs: classes,
        weights: rng.vec(width * classes, -1.0, 1.0),
        bias: rng.vec(classes, -0.5, 0.5),
    });
    let rank = data_shape.len();
    Graph {
        name: "random".into(),
        producer: "proptest".into(),
        data_shape,
        data_permutation: (0..rank).collect(),
        ops,
        notes: vec![],
    }
}

/// A random b1 network calibrated on `[0, 10]` with margin `margin`, and
/// test data that reach beyond the calibration (clipped inputs and, with
/// a small margin, clipped activations).
fn random_case(seed: u64, conv: bool, margin: f64, time_bits: u32, weight_bits: u32) -> (Network, Vec<f64>) {
    let mut rng = Rng(seed);
    let graph = random_graph(&mut rng, conv);
    let len: usize = graph.data_shape.iter().product();
    let calib = rng.vec(len * 16, 0.0, 10.0);
    let options = Options {
        neuron: NeuronModel::B1,
        margin,
        time_bits: vec![time_bits],
        weight_bits: vec![weight_bits],
        input_range: Some([0.0, 10.0]),
        input_encoding: InputEncoding::Global,
    };
    let data = CalibrationData { name: "random".into(), values: &calib, count: 16, natural_range: None };
    let net = ttfs_convert::convert(&graph, &data, &options).expect("random network converts");
    let count = 1 + rng.below(2 * CHUNK + 40);
    (net, rng.vec(len * count, -2.0, 14.0))
}

fn close(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0))
}

/// Every batched figure against the per-sample closed forms and the
/// literal simulators.
fn check(net: &Network, values: &[f64]) {
    let model = Prepared::new(net);
    let sample_len: usize = net.input.shape.iter().product();
    let samples = Samples { values, sample_len, labels: None };
    let batch = Batch::new(&model);
    let relu_traces = batch.relu_traces(samples, false);
    let cont_traces = batch.relu_traces(samples, true);
    let int_traces = batch.integer_traces(samples);
    let relu_sum = batch.relu(samples);
    let (fused_relu, cont_sum) = batch.relu_and_continuous(samples);
    let int_sum = batch.integer(samples);
    assert_eq!(fused_relu, relu_sum);
    assert_eq!(cont_sum, batch.continuous(samples));
    let exact = Batch::new(&model).with_i64_products();
    assert_eq!(exact.integer_traces(samples), int_traces, "the i64 path");
    assert_eq!(exact.integer(samples), int_sum);

    let (mut clipped_inputs, mut cont_clipped, mut cont_spikes) = (0, 0, 0);
    let mut maxima = vec![0.0f64; model.stages.len()];
    let (mut disc_clipped, mut disc_spikes, mut disc_events) = (0, 0, 0);
    let mut layer_spikes = vec![0usize; model.stages.len() - 1];
    for (i, raw) in values.chunks(sample_len).enumerate() {
        let (x0, c) = encode::continuous(net, raw);
        clipped_inputs += c;
        let reference = relu::forward(&model, &x0);
        for (k, (a, b)) in relu_traces[i].iter().zip(&reference).enumerate() {
            assert!(close(a, b), "sample {i} stage {k}: batched {a:?} vs per-sample {b:?}");
            maxima[k] = b.iter().copied().fold(maxima[k], f64::max);
        }
        assert_eq!(relu_sum.classes[i], ttfs_sim::argmax(reference.last().unwrap()));
        let literal = continuous::run(&model, &x0);
        cont_clipped += literal.clipped;
        cont_spikes += literal.hidden_spikes;
        assert!(close(cont_traces[i].last().unwrap(), &literal.logits), "continuous logits, sample {i}");

        let q0 = encode::discrete(net, raw);
        let closed = quantized::forward(&model, &q0);
        assert_eq!(int_traces[i], closed, "sample {i}: batched integer trace");
        let sim = discrete::run(&model, &q0, false);
        assert_eq!(int_sum.classes[i], ttfs_sim::argmax(&sim.logits));
        disc_clipped += sim.clipped;
        disc_spikes += sim.hidden_spikes;
        disc_events += sim.synaptic_events;
        for (total, ticks) in layer_spikes.iter_mut().zip(&sim.ticks) {
            *total += ticks.iter().filter(|&&t| t != discrete::NO_SPIKE).count();
        }
    }
    for (k, stage) in model.stages.iter().enumerate() {
        if matches!(stage, Stage::Weights { output: false, .. }) {
            let (a, b) = (relu_sum.maxima[k], maxima[k]);
            assert!((a - b).abs() <= 1e-9 * b.max(1.0), "stage {k}: maximum {a} vs {b}");
        }
    }
    assert_eq!(relu_sum.clipped_inputs, clipped_inputs);
    assert_eq!((cont_sum.clipped, cont_sum.hidden_spikes), (cont_clipped, cont_spikes), "continuous counts");
    assert_eq!(
        (int_sum.clipped, int_sum.hidden_spikes, int_sum.synaptic_events, &int_sum.layer_spikes),
        (disc_clipped, disc_spikes, disc_events, &layer_spikes),
        "integer counts"
    );
    assert_eq!(clipping(&model, samples), (clipped_inputs, cont_clipped, Some(disc_clipped)));

    // A sample alone gives the numbers it gives in a full chunk.
    for i in [0, values.len() / sample_len - 1] {
        let one = Samples { values: &values[i * sample_len..(i + 1) * sample_len], sample_len, labels: None };
        assert_eq!(batch.relu_traces(one, false)[0], relu_traces[i], "sample {i} alone");
        assert_eq!(batch.integer_traces(one)[0], int_traces[i]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn batched_dense_networks_equal_the_per_sample_forms(
        seed in any::<u64>(), time_bits in 2u32..=10, weight_bits in 2u32..=10, tight in any::<bool>()
    ) {
        let (net, values) = random_case(seed, false, if tight { -0.4 } else { 0.5 }, time_bits, weight_bits);
        check(&net, &values);
    }

    #[test]
    fn batched_conv_networks_equal_the_per_sample_forms(
        seed in any::<u64>(), time_bits in 2u32..=10, weight_bits in 2u32..=10, tight in any::<bool>()
    ) {
        let (net, values) = random_case(seed, true, if tight { -0.4 } else { 0.5 }, time_bits, weight_bits);
        check(&net, &values);
    }
}

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(rel)
}

/// The fixture models, converted with a tight margin so that test data
/// clip: the batched clipping counts equal the literal simulators'.
#[test]
fn fixture_clipping_counts_equal_the_literal_simulators() {
    for (file, calib, test, count) in [
        ("digits_mlp.onnx", "digits/train_images.csv.gz", "digits/test_images.csv.gz", 200),
        ("mnist_cnn.onnx", "mnist/train5k-images-idx3-ubyte.gz", "mnist/t10k-images-idx3-ubyte.gz", 40),
    ] {
        let graph = ttfs_convert::stage::read_model(&fixture(file)).expect("fixture model reads");
        let mut data = ttfs_data::load_data(&fixture(calib)).expect("fixture data load");
        data.truncate(count);
        let natural_range = matches!(data.element, ttfs_data::Element::U8).then_some([0.0, 255.0]);
        let options = Options { margin: -0.25, ..Options::default() };
        let calib_data = CalibrationData { name: calib.into(), values: &data.values, count: data.count, natural_range };
        let net = ttfs_convert::convert(&graph, &calib_data, &options).expect("fixture converts");
        let model = Prepared::new(&net);
        let sample_len = net.input.shape.iter().product();
        let literal = |canonical: &[f64]| {
            let (mut inputs, mut cont, mut disc) = (0, 0, 0);
            for raw in canonical.chunks(sample_len) {
                let (x0, c) = encode::continuous(&net, raw);
                inputs += c;
                cont += continuous::run(&model, &x0).clipped;
                disc += discrete::run(&model, &encode::discrete(&net, raw), false).clipped;
            }
            (inputs, cont, Some(disc))
        };
        let calib_canonical: Vec<f64> = (0..data.count).flat_map(|i| net.input.to_canonical(data.sample(i))).collect();
        let c = &net.calibration;
        assert_eq!((c.clipped_inputs, c.clipped_continuous, c.clipped_discrete), literal(&calib_canonical), "{file}");
        assert!(c.clipped_continuous > 0 && c.clipped_discrete > Some(0), "{file}: the tight margin clips");
        let mut test_data = ttfs_data::load_data(&fixture(test)).expect("fixture data load");
        test_data.truncate(count);
        let canonical: Vec<f64> =
            (0..test_data.count).flat_map(|i| net.input.to_canonical(test_data.sample(i))).collect();
        let batched = clipping(&model, Samples { values: &canonical, sample_len, labels: None });
        assert_eq!(batched, literal(&canonical), "{file}");
    }
}

fn digits(count: usize, margin: f64) -> (Network, Vec<f64>) {
    let graph = ttfs_convert::stage::read_model(&fixture("digits_mlp.onnx")).expect("fixture model reads");
    let mut data = ttfs_data::load_data(&fixture("digits/train_images.csv.gz")).expect("fixture data load");
    data.truncate(count);
    let calib = CalibrationData { name: "digits".into(), values: &data.values, count: data.count, natural_range: None };
    let net = ttfs_convert::convert(&graph, &calib, &Options { margin, ..Options::default() }).expect("converts");
    let canonical = (0..data.count).flat_map(|i| net.input.to_canonical(data.sample(i))).collect();
    (net, canonical)
}

/// The written description does not depend on the number of threads.
#[test]
fn conversion_is_the_same_on_any_number_of_threads() {
    let on = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| digits(3 * CHUNK + 17, 0.5).0.to_json())
    };
    assert_eq!(on(1), on(3));
}

/// `evaluate` checks a subset by default and every sample when asked; the
/// figures over every sample are the same either way, and the literal
/// simulators agree with the closed forms.
#[test]
fn evaluation_checks_a_subset_unless_exhaustive() {
    use ttfs_sim::eval::{CHECKED_SAMPLES, EvalOptions, checked_indices, evaluate_with};
    let (net, values) = digits(CHECKED_SAMPLES + 60, -0.2);
    let model = Prepared::new(&net);
    let samples = Samples { values: &values, sample_len: net.input.shape.iter().product(), labels: None };
    let quick = evaluate_with(&model, samples, EvalOptions { exhaustive: false });
    let full = evaluate_with(&model, samples, EvalOptions { exhaustive: true });
    assert_eq!((quick.samples, quick.checked_samples, full.checked_samples), (316, 256, 316));
    assert_eq!(checked_indices(316, false).len(), 256);
    assert_eq!((quick.discrete_closed_form_mismatches, full.discrete_closed_form_mismatches), (Some(0), Some(0)));
    assert!(full.clipped_activations > 0, "the tight margin clips");
    let every = |r: &ttfs_sim::eval::Report| {
        (
            r.agreement_continuous,
            r.agreement_discrete,
            r.clipped_activations,
            r.clipped_activations_discrete,
            r.clipped_inputs,
            r.spikes_per_neuron,
            r.spikes_per_neuron_continuous,
            r.synaptic_events_per_inference,
            r.layers.clone(),
        )
    };
    assert_eq!(every(&quick), every(&full));
    // The closed-form counts equal the literal simulators' over every sample.
    let (mut clipped, mut spikes, mut events) = (0, 0, 0);
    for raw in values.chunks(samples.sample_len) {
        clipped += continuous::run(&model, &encode::continuous(&net, raw).0).clipped;
        let sim = discrete::run(&model, &encode::discrete(&net, raw), false);
        spikes += sim.hidden_spikes;
        events += sim.synaptic_events;
    }
    assert_eq!(full.clipped_activations, clipped);
    let hidden: usize = net
        .layers
        .iter()
        .filter(|l| l.role() == Some(ttfs_ir::Role::Hidden))
        .map(|l| l.params().unwrap().bias.len())
        .sum();
    assert_eq!(full.spikes_per_neuron, Some(spikes as f64 / 316.0 / hidden as f64));
    assert_eq!(full.synaptic_events_per_inference, events as f64 / 316.0);
}

/// Times `convert` and `evaluate` on a random 784-W-W-10 MLP (W = 4096 by
/// default, `TTFS_SCALE_WIDTH`) with 1,000 samples (`TTFS_SCALE_SAMPLES`)
/// against an ndarray f64 forward pass of the same samples, in one run.
/// Run with `cargo test -p ttfs-convert --test batch -- --ignored --nocapture scale`.
#[test]
#[ignore]
fn scale_against_a_gemm_forward_pass() {
    use ndarray::{Array1, Array2, Axis};
    use std::time::Instant;
    let env = |k: &str, d: usize| std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d);
    let (width, count) = (env("TTFS_SCALE_WIDTH", 4096), env("TTFS_SCALE_SAMPLES", 1000));
    let mut rng = Rng(7);
    let sizes = [784, width, width, 10];
    let mut ops = Vec::new();
    let mut layers = Vec::new();
    for (k, pair) in sizes.windows(2).enumerate() {
        let (inputs, outputs) = (pair[0], pair[1]);
        let scale = 2.0 / (inputs as f64).sqrt();
        let weights = rng.vec(inputs * outputs, -scale, scale);
        let bias = rng.vec(outputs, -0.1, 0.1);
        layers.push((
            Array2::from_shape_vec((outputs, inputs), weights.clone()).unwrap(),
            Array1::from_vec(bias.clone()),
        ));
        ops.push(Op::Dense { name: format!("fc{k}"), inputs, outputs, weights, bias });
        if k + 2 < sizes.len() {
            ops.push(Op::Relu { name: format!("relu{k}") });
        }
    }
    let graph = Graph {
        name: "scale".into(),
        producer: "test".into(),
        data_shape: vec![784],
        data_permutation: vec![0],
        ops,
        notes: vec![],
    };
    let values: Vec<f64> = (0..784 * count).map(|_| (rng.next() % 256) as f64).collect();

    let started = Instant::now();
    let mut x = Array2::from_shape_vec((count, 784), values.iter().map(|v| v / 255.0).collect()).unwrap();
    for (k, (w, b)) in layers.iter().enumerate() {
        x = x.dot(&w.t()) + b.view().insert_axis(Axis(0));
        if k + 1 < layers.len() {
            x.mapv_inplace(|v| v.max(0.0));
        }
    }
    let gemm = started.elapsed().as_secs_f64();
    assert_eq!(x.nrows(), count);

    let started = Instant::now();
    let calib = CalibrationData { name: "random".into(), values: &values, count, natural_range: Some([0.0, 255.0]) };
    let net = ttfs_convert::convert(&graph, &calib, &Options::default()).expect("converts");
    let convert = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let model = Prepared::new(&net);
    let report = ttfs_sim::eval::evaluate(&model, Samples { values: &values, sample_len: 784, labels: None });
    let sim = started.elapsed().as_secs_f64();
    println!(
        "784-{width}-{width}-10, {count} samples, {} threads: GEMM forward {gemm:.3} s, convert {convert:.2} s ({:.1}×), \
         sim {sim:.2} s ({:.1}×), checked {} samples, continuous {:.1}/s, discrete {:.1}/s",
        rayon::current_num_threads(),
        convert / gemm,
        sim / gemm,
        report.checked_samples,
        report.continuous_inferences_per_second,
        report.discrete_inferences_per_second.unwrap_or(0.0)
    );
}

/// Multiply-adds per second of the batched ReLU pass on a CNN (1×28×28,
/// two padded 3×3 convolutions of 32 and 64 channels, pooled, dense
/// output) and on a dense MLP of similar work, 1,000 samples each.
/// Run with `cargo test -p ttfs-convert --test batch -- --ignored --nocapture mac_rate`.
#[test]
#[ignore]
fn conv_and_dense_mac_rates() {
    use std::time::Instant;
    let mut rng = Rng(11);
    let conv = |rng: &mut Rng, name: &str, ci: usize, co: usize| Op::Conv {
        name: name.into(),
        out_channels: co,
        kernel: [3, 3],
        stride: [1, 1],
        pads: [1, 1, 1, 1],
        weights: rng.vec(co * ci * 9, -0.2, 0.2),
        bias: rng.vec(co, -0.1, 0.1),
    };
    let pool = |name: &str| Op::MaxPool { name: name.into(), kernel: [2, 2], stride: [2, 2], pads: [0; 4] };
    let cnn_ops = vec![
        conv(&mut rng, "c1", 1, 32),
        Op::Relu { name: "r1".into() },
        pool("p1"),
        conv(&mut rng, "c2", 32, 64),
        Op::Relu { name: "r2".into() },
        pool("p2"),
        Op::Flatten { name: "f".into(), order: None },
        Op::Dense {
            name: "out".into(),
            inputs: 3136,
            outputs: 10,
            weights: rng.vec(31360, -0.05, 0.05),
            bias: vec![0.0; 10],
        },
    ];
    let cnn_macs = 28 * 28 * 32 * 9 + 14 * 14 * 64 * 32 * 9 + 31360;
    let hidden = 2200;
    let mlp_ops = vec![
        Op::Dense {
            name: "fc".into(),
            inputs: 784,
            outputs: hidden,
            weights: rng.vec(784 * hidden, -0.05, 0.05),
            bias: vec![0.0; hidden],
        },
        Op::Relu { name: "r".into() },
        Op::Dense {
            name: "out".into(),
            inputs: hidden,
            outputs: 10,
            weights: rng.vec(hidden * 10, -0.05, 0.05),
            bias: vec![0.0; 10],
        },
    ];
    let mlp_macs = 784 * hidden + hidden * 10;
    let count = 1000;
    let values: Vec<f64> = (0..784 * count).map(|_| (rng.next() % 256) as f64).collect();
    for (name, ops, shape, macs) in [("cnn", cnn_ops, vec![1, 28, 28], cnn_macs), ("mlp", mlp_ops, vec![784], mlp_macs)]
    {
        let rank = shape.len();
        let graph = Graph {
            name: name.into(),
            producer: "test".into(),
            data_shape: shape,
            data_permutation: (0..rank).collect(),
            ops,
            notes: vec![],
        };
        let calib = CalibrationData {
            name: "random".into(),
            values: &values[..784 * 50],
            count: 50,
            natural_range: Some([0.0, 255.0]),
        };
        let net = ttfs_convert::convert(&graph, &calib, &Options::default()).expect("converts");
        let model = Prepared::new(&net);
        let batch = Batch::new(&model);
        let samples = Samples { values: &values, sample_len: 784, labels: None };
        let started = Instant::now();
        let relu = batch.relu(samples);
        let float = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let integer = batch.integer(samples);
        let int = started.elapsed().as_secs_f64();
        assert_eq!((relu.samples, integer.samples), (count, count));
        let rate = |t: f64| (macs * count) as f64 / t / 1e9;
        println!(
            "{name}: {macs} MACs/sample, ReLU pass {float:.3} s ({:.2} GMAC/s), integer pass {int:.3} s ({:.2} GMAC/s)",
            rate(float),
            rate(int)
        );
    }
}

/// X_n as the per-sample forward pass finds it over every sample.
fn per_sample_calibration(net: &Network, canonical: &[f64]) -> Vec<Option<f64>> {
    let model = Prepared::new(net);
    let mut x = vec![0.0f64; net.layers.len()];
    for raw in canonical.chunks(net.input.shape.iter().product()) {
        let (x0, _) = encode::continuous(net, raw);
        for (m, a) in x.iter_mut().zip(relu::forward(&model, &x0)) {
            *m = a.iter().copied().fold(*m, f64::max);
        }
    }
    net.layers.iter().zip(x).map(|(l, m)| (l.role() == Some(ttfs_ir::Role::Hidden)).then_some(m)).collect()
}

/// Calibration on the batched pass gives exactly the per-sample maxima.
#[test]
fn calibration_equals_the_per_sample_maxima_exactly() {
    let (net, values) = digits(3 * CHUNK + 5, 0.5);
    assert_eq!(ttfs_convert::calibrate(&net, &values), per_sample_calibration(&net, &values));
    for seed in 0..12 {
        let (net, values) = random_case(seed, seed % 2 == 0, 0.5, 8, 8);
        let expected = per_sample_calibration(&net, &values);
        assert_eq!(ttfs_convert::calibrate(&net, &values), expected, "seed {seed}");
    }
}
