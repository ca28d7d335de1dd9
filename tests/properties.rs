//! Property tests on random dense and convolutional ReLU networks:
//! - the continuous spiking network (b1 and α/J) equals the ReLU network to
//!   a relative error of 1e-9 on data inside the calibrated windows;
//! - the tick-by-tick integer simulation equals its closed form exactly;
//! - no register exceeds the width derived for it, even on the worst-case
//!   inputs the widths were derived from.

mod common;

use common::synthetic::Rng;
use proptest::prelude::*;
use ttfs_convert::{self as convert, CalibrationData, Graph, Op, Options};
use ttfs_ir::{Network, NeuronModel, bounds::fits_signed};
use ttfs_sim::Prepared;
use ttfs_sim::discrete::{NO_SPIKE, run_weight_layer};
use ttfs_sim::eval::{Samples, evaluate};
use ttfs_sim::kernel::Stage;

fn graph(ops: Vec<Op>, data_shape: Vec<usize>) -> Graph {
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

/// A random MLP with 1–3 hidden layers (2 to 266 neurons) and an input normalisation.
fn random_dense(seed: u64) -> Graph {
    let mut rng = Rng(seed);
    let inputs = 2 + rng.below(14);
    let mut ops =
        vec![Op::Affine { name: "norm".into(), scale: rng.vec(inputs, 0.5, 2.0), offset: rng.vec(inputs, -1.0, 1.0) }];
    let mut width = inputs;
    for k in 0..1 + rng.below(3) {
        // Mostly narrow; one layer in three wide enough for the tick-by-tick
        // simulator's wide blocks (64 and 128 neurons), with a partial block.
        let outputs = if rng.below(3) == 0 { 17 + rng.below(250) } else { 2 + rng.below(14) };
        let scale = 2.0 / (width as f64).sqrt();
        ops.push(Op::Dense {
            name: format!("fc{k}"),
            inputs: width,
            outputs,
            weights: rng.vec(width * outputs, -scale, scale),
            bias: rng.vec(outputs, -0.5, 0.5),
        });
        ops.push(Op::Relu { name: format!("relu{k}") });
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
    graph(ops, vec![inputs])
}

/// A random CNN: input normalisation with offsets, a padded conv, an
/// optional affine after ReLU (folded into the next padded conv), optional
/// max-pooling, flatten and a dense output.
fn random_conv(seed: u64) -> Graph {
    let mut rng = Rng(seed);
    let (c, h, w) = (1 + rng.below(3), 4 + rng.below(5), 4 + rng.below(5));
    let n = c * h * w;
    let per_channel = |rng: &mut Rng, ch: usize, per: usize, lo, hi| -> Vec<f64> {
        let v = rng.vec(ch, lo, hi);
        (0..ch * per).map(|i| v[i / per]).collect()
    };
    let mut ops = vec![Op::Affine {
        name: "norm".into(),
        scale: per_channel(&mut rng, c, h * w, 0.5, 2.0),
        offset: rng.vec(n, -1.0, 1.0),
    }];
    let mut shape = [c, h, w];
    for k in 0..1 + rng.below(2) {
        let kernel = [1 + rng.below(shape[1].min(3)), 1 + rng.below(shape[2].min(3))];
        let stride = [1 + rng.below(2), 1 + rng.below(2)];
        let pads = [rng.below(kernel[0]), rng.below(kernel[1]), rng.below(kernel[0]), rng.below(kernel[1])];
        let co = 1 + rng.below(4);
        let oh = ttfs_ir::conv_out_dim(shape[1], kernel[0], stride[0], pads[0], pads[2]).unwrap();
        let ow = ttfs_ir::conv_out_dim(shape[2], kernel[1], stride[1], pads[1], pads[3]).unwrap();
        let fan_in = (shape[0] * kernel[0] * kernel[1]) as f64;
        ops.push(Op::Conv {
            name: format!("conv{k}"),
            out_channels: co,
            kernel,
            stride,
            pads,
            weights: rng.vec(co * shape[0] * kernel[0] * kernel[1], -2.0 / fan_in.sqrt(), 2.0 / fan_in.sqrt()),
            bias: rng.vec(co, -0.3, 0.5),
        });
        ops.push(Op::Relu { name: format!("relu{k}") });
        shape = [co, oh, ow];
        if rng.below(2) == 0 {
            // Batch-norm after ReLU with positive scale: folds through max-pool into the next layer.
            let per = oh * ow;
            ops.push(Op::Affine {
                name: format!("bn{k}"),
                scale: per_channel(&mut rng, co, per, 0.5, 1.5),
                offset: per_channel(&mut rng, co, per, -0.5, 0.5),
            });
        }
        if oh >= 2 && ow >= 2 && rng.below(2) == 0 {
            ops.push(Op::MaxPool { name: format!("pool{k}"), kernel: [2, 2], stride: [2, 2], pads: [0; 4] });
            shape = [co, oh / 2, ow / 2];
        }
    }
    ops.push(Op::Flatten { name: "flatten".into(), order: None });
    let flat = shape.iter().product::<usize>();
    let classes = 2 + rng.below(4);
    ops.push(Op::Dense {
        name: "out".into(),
        inputs: flat,
        outputs: classes,
        weights: rng.vec(flat * classes, -1.0, 1.0),
        bias: rng.vec(classes, -0.5, 0.5),
    });
    graph(ops, vec![c, h, w])
}

/// Converts with calibration data drawn from `[0, 10]` and returns the
/// network and the calibration samples.
fn convert_random(
    graph: &Graph,
    seed: u64,
    neuron: NeuronModel,
    time_bits: u32,
    weight_bits: u32,
) -> (Network, Vec<f64>) {
    let mut rng = Rng(seed ^ 0xDA7A);
    let len: usize = graph.data_shape.iter().product();
    let count = 24;
    let values = rng.vec(len * count, 0.0, 10.0);
    // Half the networks read one range for all inputs, half a range per
    // input (folded into the first layer), both exact.
    let per_feature = rng.below(2) == 0;
    let options = Options {
        neuron,
        margin: 0.5,
        time_bits: vec![time_bits],
        weight_bits: vec![weight_bits],
        input_range: (!per_feature).then_some([0.0, 10.0]),
        input_encoding: if per_feature {
            ttfs_convert::InputEncoding::PerFeature
        } else {
            ttfs_convert::InputEncoding::Global
        },
    };
    let calib = CalibrationData { name: "random".into(), values: &values, count, natural_range: None };
    let net = convert::convert(graph, &calib, &options).expect("random network converts");
    (net, values)
}

/// Checks exactness on the calibration data. The b1 neuron's comparator is
/// enabled only from `t_min`, so calibration data never leave their windows.
/// The α/J neuron integrates from the previous window's start and may cross
/// its threshold early when excitatory inputs arrive before inhibitory ones;
/// the simulator counts every such early spike, and only networks without
/// one must be exact (a departure is always explained).
fn check_exact(net: &Network, values: &[f64]) {
    let model = Prepared::new(net);
    let report = evaluate(&model, Samples { values, sample_len: net.input.shape.iter().product(), labels: None });
    if net.neuron == NeuronModel::B1 {
        assert_eq!(report.clipped_activations, 0, "calibration data stay inside their windows");
    }
    if report.clipped_activations == 0 {
        assert!(report.max_rel_error_continuous <= 1e-9, "continuous vs ReLU: {}", report.max_rel_error_continuous);
    }
    if net.neuron == NeuronModel::B1 {
        assert_eq!(report.discrete_closed_form_mismatches, Some(0), "tick-by-tick equals the closed form");
    }
}

/// Drives every weight layer with, for each neuron, the inputs that push its
/// potential highest and lowest, and every input at full value; checks the
/// registers against the derived widths.
fn check_no_overflow(net: &Network) {
    let model = Prepared::new(net);
    let mut ticks_in = net.input.code.unwrap().ticks;
    for (k, stage) in model.stages.iter().enumerate() {
        let Stage::Weights { layer, synapses, .. } = stage else { continue };
        let quant = net.layers[*layer].params().unwrap().quant.as_ref().unwrap();
        let widths = quant.widths;
        let mut patterns = vec![vec![0u32; synapses.inputs()]];
        for o in 0..synapses.outputs() {
            for sign in [1i32, -1] {
                let mut ticks = vec![NO_SPIKE; synapses.inputs()];
                synapses.for_each_fanin(o, |j, w| {
                    if quant.weights[w].signum() == sign {
                        ticks[j] = 0; // the largest value: a spike at tick 0
                    }
                });
                patterns.push(ticks);
            }
        }
        for ticks in &patterns {
            let step = run_weight_layer(&model, k, ticks, ticks_in, true);
            let fast = run_weight_layer(&model, k, ticks, ticks_in, false);
            assert_eq!(
                (&step.potentials, &step.ticks),
                (&fast.potentials, &fast.ticks),
                "checked and fast paths agree"
            );
            let (current, potential) = step.extremes;
            assert!(
                current <= widths.max_abs_current && fits_signed(current, widths.current),
                "layer {k}: |I| = {current}, widths {widths:?}"
            );
            assert!(
                potential <= widths.max_abs_potential && fits_signed(potential, widths.potential),
                "layer {k}: |V| = {potential}, widths {widths:?}"
            );
            assert!(fits_signed(-potential, widths.potential));
        }
        if let Some(fire) = quant.fire {
            ticks_in = fire.ticks;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn dense_networks_are_exact(seed in any::<u64>(), time_bits in 3u32..=10, weight_bits in 2u32..=10) {
        let g = random_dense(seed);
        let (net, values) = convert_random(&g, seed, NeuronModel::B1, time_bits, weight_bits);
        check_exact(&net, &values);
        check_no_overflow(&net);
        let (alpha, values) = convert_random(&g, seed, NeuronModel::Alpha, 8, 8);
        check_exact(&alpha, &values);
    }

    #[test]
    fn conv_networks_are_exact(seed in any::<u64>(), time_bits in 3u32..=10, weight_bits in 2u32..=10) {
        let g = random_conv(seed);
        let (net, values) = convert_random(&g, seed, NeuronModel::B1, time_bits, weight_bits);
        check_exact(&net, &values);
        check_no_overflow(&net);
        let (alpha, values) = convert_random(&g, seed, NeuronModel::Alpha, 8, 8);
        check_exact(&alpha, &values);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    /// The fully unrolled design (`ttfs synth --asic --unrolled`'s baseline)
    /// computes what the closed form computes, under Icarus: the whole
    /// network (class and logits) and one neuron of each layer alone.
    #[test]
    fn unrolled_designs_equal_the_closed_form(seed in any::<u64>(), time_bits in 3u32..=10, weight_bits in 2u32..=10) {
        use ttfs_hw::unrolled::{Scope, check_images, layers};
        if ttfs_tools::testing::require(ttfs_tools::Tool::Iverilog).is_none() {
            return Ok(());
        }
        let g = random_dense(seed);
        let (net, _) = convert_random(&g, seed, NeuronModel::B1, time_bits, weight_bits);
        let codes = check_images(&net, 12);
        let tmp = tempfile::tempdir().unwrap();
        let layers = layers(&net).unwrap();
        // The whole network when Icarus elaborates it in seconds (up to the
        // digits MLP's size); one neuron of every layer always.
        let weights: usize = layers.iter().map(|l| l.inputs * l.outputs).sum();
        let mut scopes = if weights <= 4096 { vec![Scope::Whole] } else { Vec::new() };
        scopes.extend(layers.iter().map(|l| Scope::Neuron { layer: l.index, neuron: l.median_neuron() }));
        for scope in scopes {
            let sub = tmp.path().join(format!("{scope:?}").replace(|c: char| !c.is_ascii_alphanumeric(), "_"));
            let (_, checked) = ttfs_synth::unrolled::write_and_check(&sub, &net, scope, &codes)
                .unwrap_or_else(|e| panic!("seed {seed}, {scope:?}: {e}"));
            prop_assert_eq!(checked, 12);
        }
    }
}

/// The folded float network equals the unfolded graph evaluated directly,
/// including at the borders of zero-padded convolutions after an input offset.
#[test]
fn folding_preserves_the_function_at_padded_borders() {
    for seed in 0..40 {
        let g = random_conv(seed);
        let (net, values) = convert_random(&g, seed, NeuronModel::B1, 8, 8);
        let model = Prepared::new(&net);
        let len = net.input.shape.iter().product::<usize>();
        for raw in values.chunks(len).take(4) {
            let (x0, _) = ttfs_sim::encode::continuous(&net, raw);
            let folded = ttfs_sim::relu::forward(&model, &x0).pop().unwrap();
            let direct = reference_forward(&g, raw);
            let scale = direct.iter().fold(1.0f64, |m, v| m.max(v.abs()));
            for (a, b) in folded.iter().zip(&direct) {
                assert!((a - b).abs() / scale < 1e-9, "seed {seed}: folded {a} vs graph {b}");
            }
        }
    }
}

/// Evaluates a graph's ops literally (zero padding in the op's own domain).
fn reference_forward(g: &Graph, raw: &[f64]) -> Vec<f64> {
    let mut x = raw.to_vec();
    let mut shape = g.data_shape.clone();
    for op in &g.ops {
        match op {
            Op::Affine { scale, offset, .. } => {
                x.iter_mut().zip(scale.iter().zip(offset)).for_each(|(v, (s, o))| *v = s * *v + o)
            }
            Op::Relu { .. } => x.iter_mut().for_each(|v| *v = v.max(0.0)),
            Op::Dense { inputs, outputs, weights, bias, .. } => {
                x = (0..*outputs)
                    .map(|o| bias[o] + (0..*inputs).map(|i| weights[o * inputs + i] * x[i]).sum::<f64>())
                    .collect();
                shape = vec![*outputs];
            }
            Op::Conv { out_channels, kernel, stride, pads, weights, bias, .. } => {
                let (c, h, w) = (shape[0], shape[1], shape[2]);
                let oh = ttfs_ir::conv_out_dim(h, kernel[0], stride[0], pads[0], pads[2]).unwrap();
                let ow = ttfs_ir::conv_out_dim(w, kernel[1], stride[1], pads[1], pads[3]).unwrap();
                let mut y = vec![0.0; out_channels * oh * ow];
                for co in 0..*out_channels {
                    for oy in 0..oh {
                        for ox in 0..ow {
                            let mut acc = bias[co];
                            for ci in 0..c {
                                for ky in 0..kernel[0] {
                                    for kx in 0..kernel[1] {
                                        let yy = (oy * stride[0] + ky) as isize - pads[0] as isize;
                                        let xx = (ox * stride[1] + kx) as isize - pads[1] as isize;
                                        if yy >= 0 && xx >= 0 && (yy as usize) < h && (xx as usize) < w {
                                            acc += weights[((co * c + ci) * kernel[0] + ky) * kernel[1] + kx]
                                                * x[(ci * h + yy as usize) * w + xx as usize];
                                        }
                                    }
                                }
                            }
                            y[(co * oh + oy) * ow + ox] = acc;
                        }
                    }
                }
                x = y;
                shape = vec![*out_channels, oh, ow];
            }
            Op::MaxPool { kernel, stride, pads, .. } => {
                let (c, h, w) = (shape[0], shape[1], shape[2]);
                let oh = ttfs_ir::conv_out_dim(h, kernel[0], stride[0], pads[0], pads[2]).unwrap();
                let ow = ttfs_ir::conv_out_dim(w, kernel[1], stride[1], pads[1], pads[3]).unwrap();
                let mut y = vec![f64::NEG_INFINITY; c * oh * ow];
                for ch in 0..c {
                    for oy in 0..oh {
                        for ox in 0..ow {
                            for ky in 0..kernel[0] {
                                for kx in 0..kernel[1] {
                                    let yy = (oy * stride[0] + ky) as isize - pads[0] as isize;
                                    let xx = (ox * stride[1] + kx) as isize - pads[1] as isize;
                                    if yy >= 0 && xx >= 0 && (yy as usize) < h && (xx as usize) < w {
                                        let i = (ch * oh + oy) * ow + ox;
                                        y[i] = y[i].max(x[(ch * h + yy as usize) * w + xx as usize]);
                                    }
                                }
                            }
                        }
                    }
                }
                x = y;
                shape = vec![c, oh, ow];
            }
            Op::Flatten { .. } => shape = vec![x.len()],
            Op::AvgPool { .. } => unreachable!("not generated"),
        }
    }
    x
}
