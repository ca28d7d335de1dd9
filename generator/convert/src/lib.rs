//! `ttfs convert`: from a trained ReLU model to a TTFS network description.
//!
//! The stages are pure functions: [`onnx::read`] (model → [`Graph`]),
//! [`fold::fold`] (graph → float layers on the encoded input), then the
//! named [`passes`] over the network description: the α/J weight-sum
//! rescaling ([`rescale_for_alpha`]), calibration of the time windows on
//! representative data ([`calibrate`], [`set_windows`]), quantization into
//! the integer network ([`quantize`]), validation and the clipping counts.

pub mod error;
pub mod fold;
pub mod graph;
pub mod onnx;
pub mod passes;
pub mod stage;

pub use error::{ConvertError, Result};
pub use graph::{Graph, Op};

use rayon::prelude::*;
use ttfs_ir::bounds::{layer_widths, max_weight};
use ttfs_ir::{
    Calibration, FORMAT, Fire, Input, InputCode, Layer, Network, NeuronModel, Quant, Role, Source, VERSION, Window,
};
use ttfs_sim::batch::Batch;
use ttfs_sim::eval::Samples;
use ttfs_sim::{Prepared, relu};

/// Conversion options (the `ttfs convert` flags).
#[derive(Clone, Debug)]
pub struct Options {
    /// Neuron model.
    pub neuron: NeuronModel,
    /// ζ: windows are `(1 + ζ)·X_n`.
    pub margin: f64,
    /// Time bits: one value for every spiking layer, or one per spiking
    /// layer (the input, then each hidden weight layer).
    pub time_bits: Vec<u32>,
    /// Weight bits: one value for every weight layer, or one per weight layer.
    pub weight_bits: Vec<u32>,
    /// The raw input range `[p, r]` for every feature; `None` derives the
    /// ranges from the calibration data (see `input_encoding`).
    pub input_range: Option<[f64; 2]>,
    /// One range for all features or one per feature, when the ranges come
    /// from the calibration data.
    pub input_encoding: InputEncoding,
}

/// How raw input values are mapped onto the input window when no
/// `--input-range` is given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InputEncoding {
    /// Per feature when one shared range would leave a feature less than
    /// one input code step of resolution (features on very different
    /// scales, as raw tabular data); one shared range otherwise, and always
    /// for byte data (`[0, 255]`).
    #[default]
    Auto,
    /// Each feature's own calibration range `[min_i, max_i]`, widened by
    /// [`PER_FEATURE_MARGIN`] of its span on each side (a feature constant
    /// in the calibration data keeps the shared range).
    PerFeature,
    /// One range `[min, max]` over all features.
    Global,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            neuron: NeuronModel::B1,
            margin: 0.5,
            time_bits: vec![8],
            weight_bits: vec![8],
            input_range: None,
            input_encoding: InputEncoding::Auto,
        }
    }
}

/// Per-feature ranges in the data's layout, or `None` for one shared
/// `range`, as `encoding` decides from the calibration data.
fn feature_ranges(
    calib: &CalibrationData,
    input_len: usize,
    range: [f64; 2],
    encoding: InputEncoding,
    input_ticks: u32,
) -> Option<Vec<[f64; 2]>> {
    let mut ranges = vec![[f64::INFINITY, f64::NEG_INFINITY]; input_len];
    for sample in calib.values.chunks(input_len) {
        for (r, &v) in ranges.iter_mut().zip(sample) {
            r[0] = r[0].min(v);
            r[1] = r[1].max(v);
        }
    }
    let step = (range[1] - range[0]) / f64::from(input_ticks.max(1));
    let squashed = ranges.iter().any(|[p, r]| r > p && r - p < step);
    for r in &mut ranges {
        let span = r[1] - r[0];
        if span > 0.0 {
            // Unseen data go a little beyond the calibration samples; a
            // tenth of the span on each side costs a fraction of a bit.
            *r = [r[0] - PER_FEATURE_MARGIN * span, r[1] + PER_FEATURE_MARGIN * span];
        } else {
            // A feature constant in the calibration data keeps the shared range.
            *r = range;
        }
    }
    match encoding {
        InputEncoding::Global => None,
        InputEncoding::Auto if !squashed => None,
        _ => Some(ranges),
    }
}

/// How far a per-feature range reaches beyond the calibration data, as a
/// fraction of the feature's span on each side.
pub const PER_FEATURE_MARGIN: f64 = 0.1;

/// Representative data for calibration, in the model's data layout.
pub struct CalibrationData<'a> {
    /// File name (recorded in the network).
    pub name: String,
    /// `count × input size` values.
    pub values: &'a [f64],
    /// Samples.
    pub count: usize,
    /// Natural range of the element type (`[0, 255]` for bytes), if any.
    pub natural_range: Option<[f64; 2]>,
}

/// Converts an imported graph into a validated network.
///
/// Guarantees: the result passes [`Network::validate`]; its float layers
/// compute the graph's function on the encoded input; hidden windows are
/// `(1 + ζ)·X_n` back to back from `t = 1`; for b1 networks the integer
/// parameters and register widths follow `docs/net-json.md`.
pub fn convert(graph: &Graph, calib: &CalibrationData, options: &Options) -> Result<Network> {
    convert_observed(graph, calib, options, &mut |_, _| Ok(()))
}

/// [`convert`], calling `after` with the network after the import step and
/// after each of the [`passes::PASSES`] (for `--dump-after`).
pub fn convert_observed(
    graph: &Graph,
    calib: &CalibrationData,
    options: &Options,
    after: &mut dyn FnMut(&str, &Network) -> Result<()>,
) -> Result<Network> {
    graph
        .validate()
        .map_err(|message| ConvertError::Structure { message: format!("model {}: {message}", graph.name) })?;
    let input_len: usize = graph.data_shape.iter().product();
    if calib.count == 0 || calib.values.len() != calib.count * input_len {
        return Err(ConvertError::Calibration(format!(
            "calibration data {} has samples of {} values but the model input {:?} needs {input_len}",
            calib.name,
            calib.values.len() / calib.count.max(1),
            graph.data_shape
        )));
    }
    if !(options.margin.is_finite() && options.margin > -1.0) {
        return Err(ConvertError::Option(format!("margin ζ = {} must be a number greater than −1", options.margin)));
    }
    let range = match options.input_range {
        Some(r) => r,
        None => calib.natural_range.unwrap_or_else(|| {
            let lo = calib.values.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = calib.values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            [lo, hi]
        }),
    };
    if !(range[0].is_finite() && range[1].is_finite() && range[0] < range[1]) {
        return Err(ConvertError::Option(format!(
            "input range {range:?} is empty; pass --input-range P,R with P < R (the calibration data are constant)"
        )));
    }
    // Byte data and an explicit --input-range keep one range for all.
    let per_feature = match (options.input_range, calib.natural_range) {
        (None, None) => {
            let ticks = options.time_bits.first().map_or(255, |&b| (1u32 << b.min(16)) - 1);
            feature_ranges(calib, input_len, range, options.input_encoding, ticks)
        }
        _ => None,
    };
    let flattened = graph.without_input_flatten();
    let mut net = match &flattened {
        Some((flat, note)) => {
            let mut net = import(flat, range, per_feature.as_deref(), calib, options)?;
            net.notes.push(note.clone());
            net
        }
        None => import(graph, range, per_feature.as_deref(), calib, options)?,
    };
    after(passes::IMPORT.0, &net)?;
    let canonical: Vec<f64> = calib.values.chunks(input_len).flat_map(|s| net.input.to_canonical(s)).collect();
    let cx = passes::PassContext { options, calibration: Some(&canonical), calibration_name: &calib.name, fresh: true };
    passes::run(&mut net, passes::PASSES, &cx, after)?;
    Ok(net)
}

/// The import step: the graph folded into float layers on the encoded
/// input, as a network description without windows or integer parameters.
fn import(
    graph: &Graph,
    range: [f64; 2],
    per_feature: Option<&[[f64; 2]]>,
    calib: &CalibrationData,
    options: &Options,
) -> Result<Network> {
    let mut input = Input {
        shape: graph.data_permutation.iter().map(|&a| graph.data_shape[a]).collect(),
        data_shape: graph.data_shape.clone(),
        data_permutation: graph.data_permutation.clone(),
        range,
        feature_ranges: None,
        window: Window { t_min: 0.0, t_max: 1.0 },
        code: None,
    };
    // Ranges come in the data's layout; the network's are canonical.
    input.feature_ranges = per_feature.map(|ranges| {
        let lows = input.to_canonical(&ranges.iter().map(|r| r[0]).collect::<Vec<_>>());
        let highs = input.to_canonical(&ranges.iter().map(|r| r[1]).collect::<Vec<_>>());
        let mut ranges: Vec<[f64; 2]> = lows.into_iter().zip(highs).map(|(p, r)| [p, r]).collect();
        // An image's ranges are per channel: only a per-channel scale folds
        // into a convolution (every position shares its kernel).
        if let &[c, h, w] = input.shape.as_slice() {
            for channel in ranges.chunks_mut(h * w).take(c) {
                let lo = channel.iter().map(|r| r[0]).fold(f64::INFINITY, f64::min);
                let hi = channel.iter().map(|r| r[1]).fold(f64::NEG_INFINITY, f64::max);
                channel.fill([lo, hi]);
            }
        }
        ranges
    });
    let n: usize = input.shape.iter().product();
    let ranges: Vec<[f64; 2]> = (0..n).map(|i| input.range_of(i)).collect();
    let mut folded = fold::fold(graph, &ranges)?;
    let mut notes = graph.notes.clone();
    notes.extend(folded.notes);
    if let Some(Layer::Dense(out)) = folded.layers.last_mut()
        && out.outputs == 1
    {
        // A binary classifier with one logit z (a Sigmoid head): class 1
        // exactly when z > 0. As the logits [0, z], argmax (ties to the
        // first) is the same rule, and every class is an output neuron.
        out.params.weights.splice(0..0, std::iter::repeat_n(0.0, out.inputs));
        out.params.bias.insert(0, 0.0);
        out.outputs = 2;
        notes.push(format!(
            "'{}' has one logit z (a binary classifier): it becomes the logits [0, z], so the class is 1 exactly when z > 0 (sigmoid(z) > 0.5)",
            out.name
        ));
    }
    debug_assert_eq!(folded.input_shape, input.shape);
    if let Some(ranges) = &input.feature_ranges {
        let spans: Vec<f64> = ranges.iter().map(|[p, r]| r - p).collect();
        let (lo, hi) = spans.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &s| (lo.min(s), hi.max(s)));
        notes.push(format!(
            "each of the {} input features has its own range (its calibration range plus a tenth of its span on each side; spans from {lo:.3} to {hi:.3}), folded into the first layer, so that every feature uses the whole input window",
            ranges.len()
        ));
    }
    Ok(Network {
        format: FORMAT.into(),
        version: VERSION,
        name: sanitize(&graph.name),
        neuron: options.neuron,
        input,
        layers: folded.layers,
        calibration: Calibration {
            data: calib.name.clone(),
            samples: calib.count,
            margin: options.margin,
            clipped_inputs: 0,
            clipped_continuous: 0,
            clipped_discrete: None,
        },
        source: Source {
            model: graph.name.clone(),
            producer: graph.producer.clone(),
            converter: format!("ttfs {}", env!("CARGO_PKG_VERSION")),
        },
        notes,
    })
}

fn sanitize(name: &str) -> String {
    let mut s: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    if !s.starts_with(|c: char| c.is_ascii_alphabetic()) {
        s.insert_str(0, "net_");
    }
    s
}

/// X_n for every layer: the largest ReLU activation over the calibration
/// samples (canonical layout); `None` for layers without a window.
///
/// Runs the batched ReLU pass ([`ttfs_sim::batch`]) to find the samples
/// that reach each layer's maximum, then takes X_n from the per-sample
/// forward pass ([`ttfs_sim::relu::forward`]) of those samples: the
/// batched products sum in another order (and on some CPUs with fused
/// multiply-adds), and X_n, written into the description and feeding the
/// windows, should not depend on the CPU, the number of threads or the
/// batching. Every sample within a relative [`CANDIDATE_TOLERANCE`] of the
/// batched maximum is a candidate (at most [`MAX_CANDIDATES`] per layer, the
/// highest first): the per-sample maximum is then exactly the one the
/// per-sample forward pass finds over all samples unless more than that
/// many samples tie within the tolerance, when it may differ from it by
/// rounding (within the tolerance).
pub fn calibrate(net: &Network, canonical: &[f64]) -> Vec<Option<f64>> {
    let model = Prepared::new(net);
    let sample_len = net.input.shape.iter().product::<usize>();
    let summary = Batch::new(&model).relu(Samples { values: canonical, sample_len, labels: None });
    let hidden: Vec<bool> = net.layers.iter().map(|l| l.role() == Some(Role::Hidden)).collect();
    let mut candidates: Vec<usize> = Vec::new();
    for (k, _) in hidden.iter().enumerate().filter(|(_, h)| **h) {
        let top = summary.maxima.get(k).copied().unwrap_or(0.0);
        let mut near: Vec<(f64, usize)> = (summary.sample_maxima.iter().enumerate())
            .map(|(i, m)| (m[k], i))
            .filter(|(m, _)| *m >= top - CANDIDATE_TOLERANCE * top)
            .collect();
        near.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        candidates.extend(near.iter().take(MAX_CANDIDATES).map(|(_, i)| *i));
    }
    candidates.sort_unstable();
    candidates.dedup();
    let exact: Vec<Vec<f64>> = candidates
        .par_iter()
        .map(|&i| {
            let (x0, _) = ttfs_sim::encode::continuous(net, &canonical[i * sample_len..(i + 1) * sample_len]);
            relu::forward(&model, &x0).iter().map(|a| a.iter().copied().fold(0.0, f64::max)).collect()
        })
        .collect();
    hidden.iter().enumerate().map(|(k, &h)| h.then(|| exact.iter().map(|m| m[k]).fold(0.0, f64::max))).collect()
}

/// Relative distance below the batched maximum within which a sample may
/// reach a layer's X_n once computed sample by sample (rounding differences
/// are of order 1e-15·√fan-in).
pub const CANDIDATE_TOLERANCE: f64 = 1e-9;

/// Most samples per layer recomputed sample by sample for X_n.
pub const MAX_CANDIDATES: usize = 16;

/// Sets back-to-back windows `t_max = t_min + (1 + ζ)·X_n` from `t = 1`.
/// A layer that never activates on the calibration data gets a unit window
/// (noted), since a zero-length window cannot carry spikes.
pub fn set_windows(net: &mut Network, x_max: &[Option<f64>], margin: f64) {
    let mut notes = Vec::new();
    let mut t_min = net.input.window.t_max;
    for (layer, x) in net.layers.iter_mut().zip(x_max) {
        let name = layer.name().to_string();
        let Some(params) = layer.params_mut() else { continue };
        let Some(x) = *x else {
            params.window = None;
            params.x_max = None;
            continue;
        };
        let mut length = (1.0 + margin) * x;
        if length <= 0.0 {
            notes.push(format!("layer '{name}' never activates on the calibration data; it gets a window of 1"));
            length = 1.0;
        }
        params.window = Some(Window { t_min, t_max: t_min + length });
        params.x_max = Some(x);
        t_min += length;
    }
    net.notes.append(&mut notes);
}

/// Paper 1's weight-sum rescaling: every hidden neuron whose incoming
/// weights sum outside `[−10, 0.99]` has its weights and bias scaled into
/// the range, and the next layer's weights from it scaled back. Returns the
/// number of rescaled neurons (channels, for convolutions).
pub fn rescale_for_alpha(layers: &mut [Layer]) -> usize {
    const UPPER: f64 = 0.99;
    const LOWER: f64 = -10.0;
    let mut rescaled = 0;
    for k in 0..layers.len() {
        if layers[k].role() != Some(Role::Hidden) {
            continue;
        }
        let (channels, row_len) = layers[k].weight_rows().expect("weight layer");
        let params = layers[k].params_mut().expect("weight layer");
        let factors: Vec<f64> = params
            .weights
            .chunks(row_len)
            .map(|row| {
                let c: f64 = row.iter().sum();
                if c > UPPER {
                    UPPER / c
                } else if c < LOWER {
                    LOWER / c
                } else {
                    1.0
                }
            })
            .collect();
        if factors.iter().all(|&f| f == 1.0) {
            continue;
        }
        rescaled += factors.iter().filter(|&&f| f != 1.0).count();
        for (ch, row) in params.weights.chunks_mut(row_len).enumerate() {
            row.iter_mut().for_each(|w| *w *= factors[ch]);
        }
        params.bias.iter_mut().zip(&factors).for_each(|(b, f)| *b *= f);
        if let Some(map) = &mut params.bias_map {
            let per = map.len() / channels;
            map.iter_mut().enumerate().for_each(|(o, b)| *b *= factors[o / per]);
        }
        // Find the consumer and the channel of each of its inputs.
        let mut spatial = 1; // positions per channel of the tensor the consumer reads
        for next in layers.iter_mut().skip(k + 1) {
            match next {
                Layer::MaxPool(p) => {
                    let (input, channels) = (ttfs_ir::Shape(p.in_shape.to_vec()), p.in_shape[0].max(1));
                    spatial = next.output_shape(&input).map_or(1, |out| out.len() / channels);
                }
                Layer::Flatten(f) => spatial = f.in_shape[1] * f.in_shape[2],
                Layer::Dense(d) => {
                    let inputs = d.inputs;
                    for (i, w) in d.params.weights.iter_mut().enumerate() {
                        *w /= factors[(i % inputs) / spatial];
                    }
                    break;
                }
                Layer::Conv2d(c) => {
                    let taps = c.kernel[0] * c.kernel[1];
                    let ci_n = c.in_shape[0];
                    for (i, w) in c.params.weights.iter_mut().enumerate() {
                        *w /= factors[(i / taps) % ci_n];
                    }
                    break;
                }
            }
        }
    }
    rescaled
}

/// `value` (a whole number) as an `i64`, or `None` when it is not finite or
/// does not fit: `as` would saturate silently.
fn to_integer(value: f64) -> Option<i64> {
    // 2^63 is exactly representable; every f64 below it in magnitude fits.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    (value.is_finite() && value.abs() < LIMIT).then_some(value as i64)
}

/// Spreads a per-layer option given once or per layer.
fn per_layer(values: &[u32], count: usize, what: &str, layer_names: &[String]) -> Result<Vec<u32>> {
    match values.len() {
        1 => Ok(vec![values[0]; count]),
        n if n == count => Ok(values.to_vec()),
        n => Err(ConvertError::Option(format!(
            "--{what} has {n} values; give one for all layers or one per layer ({count}: {})",
            layer_names.join(", ")
        ))),
    }
}

/// Quantizes a b1 network with windows set: integer weights (symmetric per
/// layer), integer β from the window, biases rounded to nearest, register
/// widths from the worst-case bounds.
pub fn quantize(net: &mut Network, time_bits: &[u32], weight_bits: &[u32]) -> Result<()> {
    let mut spiking = vec!["input".to_string()];
    let mut weighted = Vec::new();
    for l in &net.layers {
        if let Some(role) = l.role() {
            weighted.push(l.name().to_string());
            if role == Role::Hidden {
                spiking.push(l.name().to_string());
            }
        }
    }
    let time_bits = per_layer(time_bits, spiking.len(), "time-bits", &spiking)?;
    let weight_bits = per_layer(weight_bits, weighted.len(), "weight-bits", &weighted)?;
    if let Some(b) = time_bits.iter().find(|b| !(1..=16).contains(*b)) {
        return Err(ConvertError::Option(format!("time bits {b} are outside 1..=16")));
    }
    if let Some(b) = weight_bits.iter().find(|b| !(2..=16).contains(*b)) {
        return Err(ConvertError::Option(format!("weight bits {b} are outside 2..=16")));
    }
    let t0 = (1u32 << time_bits[0]) - 1;
    net.input.code = Some(InputCode { time_bits: time_bits[0], ticks: t0 });
    let mut s_prev = 1.0 / f64::from(t0);
    let mut ticks_in = t0;
    let mut hidden_index = 1;
    for (w_index, layer) in net.layers.iter_mut().filter(|l| l.role().is_some()).enumerate() {
        let (channels, row_len) = layer.weight_rows().expect("weight layer");
        let hidden = layer.role() == Some(Role::Hidden);
        let layer_name = layer.name().to_string();
        let params = layer.params_mut().expect("weight layer");
        let bits = weight_bits[w_index];
        let w_limit = max_weight(bits);
        let max_abs = params.weights.iter().fold(0.0f64, |m, w| m.max(w.abs()));
        let max_abs = if max_abs > 0.0 { max_abs } else { 1.0 };
        let sigma = s_prev * max_abs / w_limit as f64;
        let refuse =
            |message: String| ConvertError::Quantization { layer: layer_name.clone(), weight_bits: bits, message };
        if !(sigma.is_finite() && sigma > 0.0) {
            return Err(refuse(format!(
                "the potential unit σ = {s_prev:e}·{max_abs:e}/{w_limit} is {sigma:e}, not a positive number"
            )));
        }
        // w / max_abs first: w·w_limit could overflow for weights near f64::MAX.
        let weights: Vec<i32> = params.weights.iter().map(|w| (w / max_abs * w_limit as f64).round() as i32).collect();
        let fire = if hidden {
            let ticks = (1u32 << time_bits[hidden_index]) - 1;
            let length = params.window.expect("window set").length();
            let beta = to_integer((length / (sigma * f64::from(ticks))).ceil()).ok_or_else(|| {
                refuse(format!(
                    "β = window length {length:e} / (σ {sigma:e} × {ticks} ticks) does not fit 64 bits; \
                     the window is far longer than the layer's weights can resolve"
                ))
            })?;
            let beta = beta.max(1);
            hidden_index += 1;
            Some(Fire { time_bits: time_bits[hidden_index - 1], ticks, beta, activation_scale: sigma * beta as f64 })
        } else {
            None
        };
        let rounding = fire.map_or(0, |f| f.beta / 2);
        let to_int = |what: &str, i: usize, b: f64| {
            to_integer((b / sigma).round()).and_then(|v| v.checked_add(rounding)).ok_or_else(|| {
                refuse(format!(
                    "{what}[{i}] = {b:e} is {:e} potential units (σ = {sigma:e}), beyond the signed 64-bit range of \
                     the integer network; the bias is far larger than the weights (largest |w| = {max_abs:e}) can resolve",
                    b / sigma
                ))
            })
        };
        let bias: Vec<i64> =
            params.bias.iter().enumerate().map(|(i, &b)| to_int("bias", i, b)).collect::<Result<_>>()?;
        let bias_map: Option<Vec<i64>> = match params.bias_map.as_ref() {
            Some(m) => Some(m.iter().enumerate().map(|(i, &b)| to_int("bias_map", i, b)).collect::<Result<_>>()?),
            None => None,
        };
        let bias_rows: Vec<Vec<i64>> = match &bias_map {
            Some(map) => map.chunks(map.len() / channels).map(<[i64]>::to_vec).collect(),
            None => bias.iter().map(|&b| vec![b]).collect(),
        };
        let widths = layer_widths(&weights, row_len, &bias_rows, bits, ticks_in, fire.as_ref()).map_err(refuse)?;
        params.quant = Some(Quant { weight_bits: bits, potential_scale: sigma, weights, bias, bias_map, fire, widths });
        if let Some(f) = fire {
            s_prev = f.activation_scale;
            ticks_in = f.ticks;
        }
    }
    Ok(())
}
