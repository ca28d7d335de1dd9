//! Batched numerics: the ReLU network, its continuous (b1) closed form and
//! the integer closed form over many samples at once, as matrix products.
//!
//! The per-sample closed forms ([`crate::relu`], [`crate::quantized`]) take
//! one dot product per neuron and read every weight once per sample; here a
//! chunk of [`CHUNK`] samples goes through each weight layer as one matrix
//! product (dense: `X·Wᵀ`; convolution: `W·cols` over the unfolded input
//! windows of a few samples side by side), so each weight is read once per
//! chunk. Chunks run in parallel (rayon), each product single-threaded;
//! memory is bounded by a chunk's activations unless traces are asked for.
//! Time is linear in weights × samples (plus the unfolding, linear in
//! multiply-adds).
//!
//! Guarantees:
//! - the ReLU pass equals [`crate::relu::forward`] to rounding: a matrix
//!   product sums in another order than the per-sample dot product (relative
//!   differences of order 1e-15·√fan-in);
//! - the chunk layout is fixed (samples `c·CHUNK ..`), and a row's product
//!   does not depend on the other rows of its chunk (tested: a sample alone
//!   gives the same bits), so every result (maxima included) is the same
//!   for any number of threads; it may differ at rounding level between
//!   CPUs (fused multiply-adds where available);
//! - the integer pass equals [`crate::quantized::forward`] bit for bit: its
//!   products run in f64 only where every partial sum is an integer below
//!   2^53 (exact), else in `i64`.

use crate::kernel::{ConvGeometry, PoolGeometry, Stage, Synapses};
use crate::quantized::{IntegerTrace, potentials};
use crate::{Prepared, Samples, argmax, encode};
use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2, Axis, s};
use rayon::prelude::*;
use std::sync::OnceLock;
use ttfs_ir::{Params, Quant};

/// Samples per chunk: large enough that a dense layer's weights are read
/// once for many samples, small enough that a chunk's activations stay a
/// few megabytes.
pub const CHUNK: usize = 128;

/// 2^53: every integer of smaller magnitude is an f64, and so is every
/// sum of such integers whose partial sums stay below it.
const EXACT_F64: f64 = 9_007_199_254_740_992.0;

/// A prepared network with what the batched passes need: the fan-out of
/// every input of every weight layer and, built on first use, the integer
/// weights as f64 matrices.
pub struct Batch<'p, 'a> {
    model: &'p Prepared<'a>,
    /// Per stage (weight layers only): synapses out of each input.
    fanout: Vec<Vec<usize>>,
    /// Per stage (pools only): the inputs of every output.
    pools: Vec<Option<PoolTable>>,
    integer: OnceLock<Vec<Option<Array2<f64>>>>,
}

/// What a float pass found over a set of samples.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FloatSummary {
    /// Samples.
    pub samples: usize,
    /// Per stage, the largest output value over all samples, at least 0
    /// (X_n for hidden layers).
    pub maxima: Vec<f64>,
    /// Per sample, the class (argmax of the logits, ties to the lower index).
    pub classes: Vec<usize>,
    /// Per sample, per stage: the largest output value, at least 0 (which
    /// samples reach [`FloatSummary::maxima`]).
    pub sample_maxima: Vec<Vec<f64>>,
    /// Raw input values outside their range `[p, r]`.
    pub clipped_inputs: usize,
    /// Hidden activations above their window length (layers with a window).
    pub clipped: usize,
    /// Per stage but the last, outputs above zero summed over samples (for
    /// b1, the continuous network's spikes).
    pub layer_spikes: Vec<usize>,
    /// Hidden weight-layer outputs above zero, summed over samples.
    pub hidden_spikes: usize,
}

/// What the integer pass found over a set of samples.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IntegerSummary {
    /// Samples.
    pub samples: usize,
    /// Per sample, the class (argmax of the integer logits).
    pub classes: Vec<usize>,
    /// Hidden potentials at or above `(T + 1)·β` (clipped at T).
    pub clipped: usize,
    /// Per stage but the last, values above zero (spikes) summed over samples.
    pub layer_spikes: Vec<usize>,
    /// Spikes of hidden weight layers, summed over samples.
    pub hidden_spikes: usize,
    /// Σ over spiking inputs of every weight layer of their fan-out, summed
    /// over samples (as the tick-by-tick simulator counts them).
    pub synaptic_events: usize,
}

/// Which stage outputs a float pass returns per sample.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keep {
    Nothing,
    Logits,
    Stages,
}

/// One chunk's float results.
struct FloatChunk {
    summary: FloatSummary,
    traces: Vec<Vec<Vec<f64>>>,
}

/// One chunk's integer results.
struct IntegerChunk {
    summary: IntegerSummary,
    traces: Vec<IntegerTrace>,
}

impl<'p, 'a> Batch<'p, 'a> {
    /// Prepares the batched passes of `model` (fan-outs: linear in the
    /// synapses).
    pub fn new(model: &'p Prepared<'a>) -> Self {
        let fanout = model
            .stages
            .iter()
            .map(|stage| match stage {
                Stage::Weights { synapses: Synapses::Dense { inputs, outputs }, .. } => vec![*outputs; *inputs],
                Stage::Weights { synapses, .. } => (0..synapses.inputs()).map(|j| synapses.fanout_len(j)).collect(),
                _ => Vec::new(),
            })
            .collect();
        let pools = model
            .stages
            .iter()
            .map(|stage| match stage {
                Stage::Pool(pool) => Some(PoolTable::new(pool)),
                _ => None,
            })
            .collect();
        Batch { model, fanout, pools, integer: OnceLock::new() }
    }

    /// Makes every integer product run in `i64`, the path of layers whose
    /// partial sums could leave f64's exact range (slower; for tests of
    /// that path on ordinary networks).
    pub fn with_i64_products(self) -> Self {
        let integer = OnceLock::new();
        let _ = integer.set(vec![None; self.model.stages.len()]);
        Batch { integer, ..self }
    }

    /// The ReLU network on every sample: per-layer maxima, classes, input
    /// clipping, and (layers with a window) activations above it.
    pub fn relu(&self, samples: Samples) -> FloatSummary {
        self.float_pass(samples, false, Keep::Nothing).0
    }

    /// The b1 continuous network's closed form on every sample: the ReLU
    /// network with each hidden activation clipped to its window length
    /// (`clipped` counts them). Assumes windows are set; the α/J network has
    /// no such form.
    pub fn continuous(&self, samples: Samples) -> FloatSummary {
        self.float_pass(samples, true, Keep::Nothing).0
    }

    /// [`Batch::relu`] and [`Batch::continuous`] in one pass: a chunk in
    /// which no activation leaves its window computes the same numbers
    /// clipped or not, so only chunks with clipping run twice.
    pub fn relu_and_continuous(&self, samples: Samples) -> (FloatSummary, FloatSummary) {
        let chunks: Vec<(FloatChunk, Option<FloatChunk>)> = par_chunks(samples, |raw| {
            let relu = self.float_chunk(raw, samples.sample_len, false, Keep::Nothing);
            let clipped =
                (relu.summary.clipped > 0).then(|| self.float_chunk(raw, samples.sample_len, true, Keep::Nothing));
            (relu, clipped)
        });
        let mut relu = FloatSummary::default();
        let mut cont = FloatSummary::default();
        for (r, c) in chunks {
            merge_float(&mut cont, c.as_ref().map_or(&r.summary, |c| &c.summary));
            merge_float(&mut relu, &r.summary);
        }
        (relu, cont)
    }

    /// Every stage's output for every sample (index `[sample][stage]`), as
    /// [`crate::relu::forward`] returns them; `clip` clips hidden
    /// activations to their windows (the b1 continuous closed form).
    /// Holds every activation of every sample: for tests and small subsets.
    pub fn relu_traces(&self, samples: Samples, clip: bool) -> Vec<Vec<Vec<f64>>> {
        self.float_pass(samples, clip, Keep::Stages).1
    }

    /// The ReLU network's logits for every sample (index `[sample]`).
    pub fn relu_logits(&self, samples: Samples) -> Vec<Vec<f64>> {
        self.float_pass(samples, false, Keep::Logits).1.into_iter().map(|mut t| t.pop().unwrap_or_default()).collect()
    }

    /// The integer closed form on every sample: classes, clipping, spikes
    /// and synaptic events. Assumes a b1 network.
    pub fn integer(&self, samples: Samples) -> IntegerSummary {
        self.integer_pass(samples, false).0
    }

    /// The integer closed form's trace of every sample, equal to
    /// [`crate::quantized::forward`]'s. Holds every value of every sample:
    /// for tests and small subsets.
    pub fn integer_traces(&self, samples: Samples) -> Vec<IntegerTrace> {
        self.integer_pass(samples, true).1
    }

    fn float_pass(&self, samples: Samples, clip: bool, keep: Keep) -> (FloatSummary, Vec<Vec<Vec<f64>>>) {
        let chunks = par_chunks(samples, |raw| self.float_chunk(raw, samples.sample_len, clip, keep));
        let mut summary = FloatSummary::default();
        let mut traces = Vec::new();
        for chunk in chunks {
            merge_float(&mut summary, &chunk.summary);
            traces.extend(chunk.traces);
        }
        (summary, traces)
    }

    fn integer_pass(&self, samples: Samples, keep: bool) -> (IntegerSummary, Vec<IntegerTrace>) {
        let weights = self.integer_weights();
        let chunks = par_chunks(samples, |raw| self.integer_chunk(weights, raw, samples.sample_len, keep));
        let mut summary = IntegerSummary::default();
        let mut traces = Vec::new();
        for chunk in chunks {
            let s = chunk.summary;
            summary.samples += s.samples;
            summary.classes.extend(s.classes);
            summary.clipped += s.clipped;
            add_columns(&mut summary.layer_spikes, &s.layer_spikes);
            summary.hidden_spikes += s.hidden_spikes;
            summary.synaptic_events += s.synaptic_events;
            traces.extend(chunk.traces);
        }
        (summary, traces)
    }

    /// Per stage: the integer weights as an f64 `[rows, row_len]` matrix
    /// when every partial sum of a product with inputs in `0..=T_in` is an
    /// integer below 2^53 (`Σ|W|·T_in` bounds them); `None` (the exact
    /// `i64` path) otherwise.
    fn integer_weights(&self) -> &Vec<Option<Array2<f64>>> {
        self.integer.get_or_init(|| {
            let net = self.model.net;
            let mut ticks_in = net.input.code.map_or(0, |c| c.ticks);
            self.model
                .stages
                .iter()
                .map(|stage| {
                    let Stage::Weights { layer, .. } = stage else { return None };
                    let quant = quant(self.model, *layer);
                    let (rows, row_len) = net.layers[*layer].weight_rows().expect("weight layer");
                    let bound = quant
                        .weights
                        .chunks(row_len.max(1))
                        .map(|row| row.iter().map(|&w| f64::from(w).abs()).sum::<f64>() * f64::from(ticks_in))
                        .fold(0.0, f64::max);
                    if let Some(fire) = quant.fire {
                        ticks_in = fire.ticks;
                    }
                    (bound < EXACT_F64).then(|| {
                        Array2::from_shape_vec((rows, row_len), quant.weights.iter().map(|&w| f64::from(w)).collect())
                            .expect("weights fill rows")
                    })
                })
                .collect()
        })
    }

    /// One chunk (`raw`: whole samples) through the float network.
    fn float_chunk(&self, raw: &[f64], len: usize, clip: bool, keep: Keep) -> FloatChunk {
        let net = self.model.net;
        let rows = raw.len() / len.max(1);
        let mut summary = FloatSummary { samples: rows, ..FloatSummary::default() };
        let mut x = Array2::<f64>::zeros((rows, len));
        for (mut row, sample) in x.rows_mut().into_iter().zip(raw.chunks_exact(len.max(1))) {
            let (x0, clipped) = encode::continuous(net, sample);
            summary.clipped_inputs += clipped;
            row.as_slice_mut().expect("standard layout").copy_from_slice(&x0);
        }
        let mut traces: Vec<Vec<Vec<f64>>> = if keep == Keep::Nothing { Vec::new() } else { vec![Vec::new(); rows] };
        let last = self.model.stages.len().saturating_sub(1);
        // Per row maximum (at least 0) and values above zero of the last stage.
        let mut stats = row_stats(&x);
        for (k, stage) in self.model.stages.iter().enumerate() {
            x = match stage {
                Stage::Weights { layer, synapses, output } => {
                    let params = net.layers[*layer].params().expect("weight layer");
                    let w = float_weights(net.layers[*layer].weight_rows().expect("weight layer"), params);
                    let mut z = product(synapses, w, &x);
                    let bias: Vec<f64> =
                        (0..synapses.outputs()).map(|o| crate::relu::bias_of(synapses, params, o)).collect();
                    let window = if *output { None } else { params.window.map(|w| w.length()) };
                    let (mut row_maxima, mut positive) = (Vec::with_capacity(rows), 0);
                    // One sweep: bias, ReLU, window, and the figures.
                    for mut row in z.rows_mut() {
                        let mut top = 0.0f64;
                        for (v, &b) in row.as_slice_mut().expect("standard layout").iter_mut().zip(&bias) {
                            let mut a = *v + b;
                            if !output {
                                a = a.max(0.0);
                                if let Some(len) = window
                                    && a > len
                                {
                                    summary.clipped += 1;
                                    if clip {
                                        a = len;
                                    }
                                }
                                positive += usize::from(a > 0.0);
                            }
                            top = top.max(a);
                            *v = a;
                        }
                        row_maxima.push(top);
                    }
                    if !output {
                        summary.hidden_spikes += positive;
                    }
                    stats = (row_maxima, positive);
                    z
                }
                Stage::Pool(_) => {
                    let y = pool_rows(self.pools[k].as_ref().expect("pool table"), &x, f64::NEG_INFINITY);
                    stats = row_stats(&y);
                    y
                }
                // Flatten changes nothing: the figures are the previous stage's.
                Stage::Flatten => x,
            };
            summary.maxima.push(stats.0.iter().copied().fold(0.0, f64::max));
            summary.sample_maxima.resize(rows, Vec::new());
            summary.sample_maxima.iter_mut().zip(&stats.0).for_each(|(m, r)| m.push(*r));
            if k < last {
                summary.layer_spikes.push(stats.1);
            }
            if keep == Keep::Stages || k == last {
                for (trace, row) in traces.iter_mut().zip(x.rows()) {
                    trace.push(row.to_vec());
                }
            }
        }
        summary.classes = x.rows().into_iter().map(|r| argmax(r.as_slice().expect("standard layout"))).collect();
        FloatChunk { summary, traces }
    }

    /// One chunk through the integer network.
    fn integer_chunk(&self, weights: &[Option<Array2<f64>>], raw: &[f64], len: usize, keep: bool) -> IntegerChunk {
        let net = self.model.net;
        let rows = raw.len() / len.max(1);
        let mut summary = IntegerSummary { samples: rows, ..IntegerSummary::default() };
        // Values q travel as f64 (at most 2^16 − 1: exact) to feed the products.
        let mut q = Array2::<f64>::zeros((rows, len));
        for (mut row, sample) in q.rows_mut().into_iter().zip(raw.chunks_exact(len.max(1))) {
            let q0 = encode::discrete(net, sample);
            row.iter_mut().zip(&q0).for_each(|(r, &v)| *r = v as f64);
        }
        let mut traces: Vec<IntegerTrace> =
            if keep { vec![IntegerTrace { values: Vec::new(), potentials: Vec::new() }; rows] } else { Vec::new() };
        let mut logits: Option<Array2<i64>> = None;
        let last = self.model.stages.len().saturating_sub(1);
        // Values above zero of the last stage (flatten keeps them).
        let mut positive = 0;
        for (k, stage) in self.model.stages.iter().enumerate() {
            let mut pot: Option<Array2<i64>> = None;
            q = match stage {
                Stage::Weights { layer, synapses, .. } => {
                    let quant = quant(self.model, *layer);
                    summary.synaptic_events += q
                        .rows()
                        .into_iter()
                        .map(|r| {
                            r.iter().zip(&self.fanout[k]).filter(|(v, _)| **v > 0.0).map(|(_, f)| f).sum::<usize>()
                        })
                        .sum::<usize>();
                    let bias: Vec<i64> =
                        (0..synapses.outputs()).map(|o| crate::quantized::bias_of(synapses, quant, o)).collect();
                    let v: Array2<i64> = match &weights[k] {
                        // Exact: every partial sum is an integer below 2^53.
                        Some(w) => {
                            let p = product(synapses, w.view(), &q);
                            let mut v = Array2::<i64>::zeros(p.dim());
                            for (mut out, r) in v.rows_mut().into_iter().zip(p.rows()) {
                                let out = out.as_slice_mut().expect("standard layout");
                                let r = r.as_slice().expect("standard layout");
                                for ((o, &x), &b) in out.iter_mut().zip(r).zip(&bias) {
                                    *o = x as i64 + b;
                                }
                            }
                            v
                        }
                        None => {
                            let mut v = Array2::<i64>::zeros((rows, synapses.outputs()));
                            for (mut out, r) in v.rows_mut().into_iter().zip(q.rows()) {
                                let input: Vec<i64> = r.iter().map(|&x| x as i64).collect();
                                out.as_slice_mut()
                                    .expect("standard layout")
                                    .copy_from_slice(&potentials(synapses, quant, &input));
                            }
                            v
                        }
                    };
                    let next = match quant.fire {
                        Some(fire) => {
                            let limit = (i64::from(fire.ticks) + 1) * fire.beta;
                            let ticks = i64::from(fire.ticks);
                            let mut out = Array2::<f64>::zeros(v.dim());
                            let mut spikes = 0;
                            for (o, &p) in
                                out.as_slice_mut().expect("standard").iter_mut().zip(v.as_slice().expect("standard"))
                            {
                                summary.clipped += usize::from(p >= limit);
                                let value = spike_value(p, fire.beta, ticks, limit);
                                spikes += usize::from(value > 0);
                                *o = value as f64;
                            }
                            summary.hidden_spikes += spikes;
                            positive = spikes;
                            out
                        }
                        None => {
                            logits = Some(v.clone());
                            Array2::zeros((0, 0))
                        }
                    };
                    pot = Some(v);
                    next
                }
                Stage::Pool(_) => {
                    let y = pool_rows(self.pools[k].as_ref().expect("pool table"), &q, 0.0);
                    positive = y.iter().filter(|&&v| v > 0.0).count();
                    y
                }
                Stage::Flatten => q,
            };
            if k < last {
                summary.layer_spikes.push(positive);
            }
            for (r, trace) in traces.iter_mut().enumerate() {
                let values: Vec<i64> = match (&logits, k == last) {
                    (Some(l), true) => l.row(r).to_vec(),
                    _ => q.row(r).iter().map(|&v| v as i64).collect(),
                };
                trace.values.push(values);
                trace.potentials.push(pot.as_ref().map_or_else(Vec::new, |p| p.row(r).to_vec()));
            }
        }
        if let Some(l) = &logits {
            summary.classes = l.rows().into_iter().map(|r| argmax(r.as_slice().expect("standard layout"))).collect();
        }
        IntegerChunk { summary, traces }
    }
}

/// The quantized parameters of weight layer `layer`.
fn quant<'n>(model: &Prepared<'n>, layer: usize) -> &'n Quant {
    model.net.layers[layer].params().and_then(|p| p.quant.as_ref()).expect("integer layer")
}

/// A layer's float weights as a `[rows, row_len]` matrix (no copy).
fn float_weights((rows, row_len): (usize, usize), params: &Params) -> ArrayView2<'_, f64> {
    ArrayView2::from_shape((rows, row_len), &params.weights).expect("weights fill rows")
}

/// Runs `f` on the chunks of `samples` in parallel, results in chunk order.
fn par_chunks<T: Send>(samples: Samples, f: impl Fn(&[f64]) -> T + Sync + Send) -> Vec<T> {
    let len = samples.sample_len.max(1);
    let values = &samples.values[..samples.count() * samples.sample_len];
    values.par_chunks(CHUNK * len).map(f).collect()
}

fn merge_float(total: &mut FloatSummary, s: &FloatSummary) {
    total.samples += s.samples;
    if total.maxima.is_empty() {
        total.maxima = s.maxima.clone();
    } else {
        total.maxima.iter_mut().zip(&s.maxima).for_each(|(t, m)| *t = t.max(*m));
    }
    total.classes.extend_from_slice(&s.classes);
    total.sample_maxima.extend_from_slice(&s.sample_maxima);
    total.clipped_inputs += s.clipped_inputs;
    total.clipped += s.clipped;
    add_columns(&mut total.layer_spikes, &s.layer_spikes);
    total.hidden_spikes += s.hidden_spikes;
}

fn add_columns(total: &mut Vec<usize>, row: &[usize]) {
    total.resize(total.len().max(row.len()), 0);
    total.iter_mut().zip(row).for_each(|(t, r)| *t += r);
}

/// `b + Σ W·x` without the bias for every row of `x`: one matrix product
/// for a dense layer, one per sample over the unfolded windows for a
/// convolution (the output comes out in `[C, H, W]` order).
fn product(synapses: &Synapses, w: ArrayView2<f64>, x: &Array2<f64>) -> Array2<f64> {
    match synapses {
        Synapses::Dense { .. } => {
            // Into a row-major output: `dot` may pick column-major when
            // both operands are (one sample, or one input).
            let mut out = Array2::<f64>::zeros((x.nrows(), w.nrows()));
            general_mat_mul(1.0, x, &w.t(), 0.0, &mut out);
            out
        }
        Synapses::Conv(g) => {
            let [co, oh, ow] = g.out_shape;
            let positions = oh * ow;
            let k = w.ncols();
            // Samples side by side in one product, so the weights are
            // packed once per group; the unfolded windows stay ~2 MB.
            let group = (GROUP_VALUES / (k * positions).max(1)).clamp(1, x.nrows().max(1));
            let mut out = Array2::<f64>::zeros((x.nrows(), co * positions));
            let mut cols = Array2::<f64>::zeros((k, positions * group));
            let mut wide = Array2::<f64>::zeros((co, positions * group));
            for (mut out_rows, rows) in out.axis_chunks_iter_mut(Axis(0), group).zip(x.axis_chunks_iter(Axis(0), group))
            {
                let n = rows.nrows();
                for (s, row) in rows.rows().into_iter().enumerate() {
                    unfold(g, row.as_slice().expect("standard layout"), &mut cols, s * positions);
                }
                let used = cols.slice(s![.., ..n * positions]);
                let mut result = wide.slice_mut(s![.., ..n * positions]);
                general_mat_mul(1.0, &w, &used, 0.0, &mut result);
                for (s, mut out_row) in out_rows.rows_mut().into_iter().enumerate() {
                    let out_row = out_row.as_slice_mut().expect("standard layout");
                    for (c, line) in out_row.chunks_exact_mut(positions).enumerate() {
                        let from = wide.row(c);
                        let from = from.as_slice().expect("standard layout");
                        line.copy_from_slice(&from[s * positions..(s + 1) * positions]);
                    }
                }
            }
            out
        }
    }
}

/// Values of unfolded windows held at once for a group of samples.
const GROUP_VALUES: usize = 1 << 18;

/// The input windows of a convolution as columns: row `ci·kh·kw + ky·kw +
/// kx` (the weight layout), column `offset + oy·ow + ox`; taps in the
/// padding are 0.
fn unfold(g: &ConvGeometry, x: &[f64], cols: &mut Array2<f64>, offset: usize) {
    let [ci_n, h, w] = g.in_shape;
    let [_, oh, ow] = g.out_shape;
    let [kh, kw] = g.kernel;
    let [sh, sw] = g.stride;
    for ci in 0..ci_n {
        for ky in 0..kh {
            for kx in 0..kw {
                let mut col = cols.row_mut((ci * kh + ky) * kw + kx);
                let col = &mut col.as_slice_mut().expect("standard layout")[offset..offset + oh * ow];
                for oy in 0..oh {
                    let y = (oy * sh + ky) as isize - g.pad[0] as isize;
                    let line = &mut col[oy * ow..(oy + 1) * ow];
                    if y < 0 || y >= h as isize {
                        line.fill(0.0);
                        continue;
                    }
                    let base = ci * h * w + y as usize * w;
                    // Columns ox whose tap x = ox·sw + kx − pad lies in 0..w.
                    let pad = g.pad[1];
                    let lo = if kx >= pad { 0 } else { (pad - kx).div_ceil(sw) }.min(ow);
                    let hi = if w + pad > kx { (w + pad - kx).div_ceil(sw).min(ow) } else { 0 }.max(lo);
                    line[..lo].fill(0.0);
                    line[hi..].fill(0.0);
                    if hi == lo {
                        continue;
                    }
                    let first = base + lo * sw + kx - pad;
                    if sw == 1 {
                        line[lo..hi].copy_from_slice(&x[first..first + (hi - lo)]);
                    } else {
                        for (i, c) in line[lo..hi].iter_mut().enumerate() {
                            *c = x[first + i * sw];
                        }
                    }
                }
            }
        }
    }
}

/// `clamp(floor(v/β), 0, T)` (`limit` = (T + 1)·β, β > 0) without an
/// integer division for the values that clamp, and for the others a float
/// quotient corrected by integer multiplies: exact for every `v`.
#[inline]
fn spike_value(v: i64, beta: i64, ticks: i64, limit: i64) -> i64 {
    if v < beta {
        0
    } else if v >= limit {
        ticks
    } else {
        // 0 < v < (T + 1)·β: the float quotient is off by at most one.
        let mut q = (v as f64 / beta as f64) as i64;
        if q.saturating_mul(beta) > v {
            q -= 1;
        } else if (q + 1).saturating_mul(beta) <= v {
            q += 1;
        }
        q
    }
}

/// A pool's inputs listed once per output (`inputs[starts[o]..starts[o + 1]]`,
/// padding skipped), so pooling a row is a plain gather.
struct PoolTable {
    starts: Vec<usize>,
    inputs: Vec<usize>,
}

impl PoolTable {
    fn new(pool: &PoolGeometry) -> Self {
        let mut starts = vec![0];
        let mut inputs = Vec::new();
        for o in 0..pool.outputs() {
            pool.for_each_input(o, |j| inputs.push(j));
            starts.push(inputs.len());
        }
        PoolTable { starts, inputs }
    }
}

/// Max pooling of every row, from `init`.
fn pool_rows(pool: &PoolTable, x: &Array2<f64>, init: f64) -> Array2<f64> {
    let outputs = pool.starts.len() - 1;
    let mut out = Array2::<f64>::zeros((x.nrows(), outputs));
    for (mut o_row, row) in out.rows_mut().into_iter().zip(x.rows()) {
        let row = row.as_slice().expect("standard layout");
        for (v, window) in o_row.iter_mut().zip(pool.starts.windows(2)) {
            *v = pool.inputs[window[0]..window[1]].iter().fold(init, |m, &j| m.max(row[j]));
        }
    }
    out
}

/// Per row the largest value (at least 0), and the values above zero.
fn row_stats(x: &Array2<f64>) -> (Vec<f64>, usize) {
    let mut positive = 0;
    let maxima = x
        .rows()
        .into_iter()
        .map(|r| {
            r.iter().fold(0.0f64, |m, &v| {
                positive += usize::from(v > 0.0);
                m.max(v)
            })
        })
        .collect();
    (maxima, positive)
}

#[cfg(test)]
mod tests {
    use super::spike_value;

    /// The division-free spike value equals `clamp(floor(v/β), 0, T)`.
    #[test]
    fn spike_value_is_the_clamped_floor() {
        for (beta, ticks) in [(1i64, 1i64), (3, 7), (7, 255), (1000, 255), (123_456_789, 65_535), (1 << 40, 65_535)] {
            let limit = (ticks + 1) * beta;
            let probes = (-3..=3).flat_map(|d| (0..=ticks + 1).map(move |q| q * beta + d));
            for v in probes.chain([i64::MIN / 2, -1, 0, limit - 1, limit, i64::MAX / 4]) {
                assert_eq!(spike_value(v, beta, ticks, limit), v.div_euclid(beta).clamp(0, ticks), "v {v} β {beta}");
            }
        }
    }
}
