//! Batched numerics: the ReLU network, its continuous (b1) closed form and
//! the integer closed form over many samples at once, as matrix products.
//!
//! The per-sample closed forms ([`crate::relu`], [`crate::quantized`]) take
//! one dot product per neuron and read every weight once per sample; here a
//! chunk of [`CHUNK`] samples goes through each weight layer as one matrix
//! product (dense: `X·Wᵀ`; convolution: per sample `W·cols` over the
//! unfolded input windows), so each weight is read once per chunk. Chunks
//! run in parallel (rayon), each product single-threaded; memory is bounded
//! by a chunk's activations unless traces are asked for.
//!
//! Guarantees:
//! - the ReLU pass equals [`crate::relu::forward`] to rounding: a matrix
//!   product sums in another order than the per-sample dot product (relative
//!   differences of order 1e-15·√fan-in);
//! - the chunk layout is fixed (samples `c·CHUNK ..`), and a row's product
//!   does not depend on the other rows of its chunk, so every result
//!   (maxima included) is the same for any number of threads;
//! - the integer pass equals [`crate::quantized::forward`] bit for bit: its
//!   products run in f64 only where every partial sum is an integer below
//!   2^53 (exact), else in `i64`.

use crate::kernel::{ConvGeometry, PoolGeometry, Stage, Synapses};
use crate::quantized::{IntegerTrace, potentials};
use crate::{Prepared, Samples, argmax, encode};
use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2, ArrayViewMut2};
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
        Batch { model, fanout, integer: OnceLock::new() }
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
        for (k, stage) in self.model.stages.iter().enumerate() {
            x = match stage {
                Stage::Weights { layer, synapses, output } => {
                    let params = net.layers[*layer].params().expect("weight layer");
                    let w = float_weights(net.layers[*layer].weight_rows().expect("weight layer"), params);
                    let mut z = product(synapses, w, &x);
                    add_bias(&mut z, synapses, |o| crate::relu::bias_of(synapses, params, o));
                    if !output {
                        let window = params.window.map(|w| w.length());
                        for v in z.iter_mut() {
                            let mut a = v.max(0.0);
                            if let Some(b) = window
                                && a > b
                            {
                                summary.clipped += 1;
                                if clip {
                                    a = b;
                                }
                            }
                            summary.hidden_spikes += usize::from(a > 0.0);
                            *v = a;
                        }
                    }
                    z
                }
                Stage::Pool(pool) => pool_rows(pool, &x, f64::NEG_INFINITY),
                Stage::Flatten => x,
            };
            let row_maxima: Vec<f64> = x.rows().into_iter().map(|r| r.iter().copied().fold(0.0, f64::max)).collect();
            summary.maxima.push(row_maxima.iter().copied().fold(0.0, f64::max));
            summary.sample_maxima.resize(rows, Vec::new());
            summary.sample_maxima.iter_mut().zip(row_maxima).for_each(|(m, r)| m.push(r));
            if k < last {
                summary.layer_spikes.push(x.iter().filter(|&&v| v > 0.0).count());
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
                    let v = match &weights[k] {
                        Some(w) => {
                            let p = product(synapses, w.view(), &q);
                            let mut v = p.mapv(|x| x as i64);
                            add_bias(&mut v, synapses, |o| crate::quantized::bias_of(synapses, quant, o));
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
                            summary.clipped += v.iter().filter(|&&p| p >= limit).count();
                            let out = v.mapv(|p| p.div_euclid(fire.beta).clamp(0, i64::from(fire.ticks)) as f64);
                            summary.hidden_spikes += out.iter().filter(|&&x| x > 0.0).count();
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
                Stage::Pool(pool) => pool_rows(pool, &q, 0.0),
                Stage::Flatten => q,
            };
            if k < last {
                summary.layer_spikes.push(q.iter().filter(|&&v| v > 0.0).count());
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
            let mut out = Array2::<f64>::zeros((x.nrows(), co * positions));
            let mut cols = Array2::<f64>::zeros((w.ncols(), positions));
            for (mut out_row, row) in out.rows_mut().into_iter().zip(x.rows()) {
                unfold(g, row.as_slice().expect("standard layout"), &mut cols);
                let mut view = ArrayViewMut2::from_shape((co, positions), out_row.as_slice_mut().expect("standard"))
                    .expect("output is [C, H·W]");
                general_mat_mul(1.0, &w, &cols, 0.0, &mut view);
            }
            out
        }
    }
}

/// The input windows of a convolution as columns: row `ci·kh·kw + ky·kw +
/// kx` (the weight layout), column `oy·ow + ox`; taps in the padding are 0.
fn unfold(g: &ConvGeometry, x: &[f64], cols: &mut Array2<f64>) {
    let [ci_n, h, w] = g.in_shape;
    let [_, oh, ow] = g.out_shape;
    let [kh, kw] = g.kernel;
    let [sh, sw] = g.stride;
    for ci in 0..ci_n {
        for ky in 0..kh {
            for kx in 0..kw {
                let mut col = cols.row_mut((ci * kh + ky) * kw + kx);
                let col = col.as_slice_mut().expect("standard layout");
                for oy in 0..oh {
                    let y = (oy * sh + ky) as isize - g.pad[0] as isize;
                    let line = &mut col[oy * ow..(oy + 1) * ow];
                    if y < 0 || y >= h as isize {
                        line.fill(0.0);
                        continue;
                    }
                    let base = ci * h * w + y as usize * w;
                    for (ox, c) in line.iter_mut().enumerate() {
                        let xx = (ox * sw + kx) as isize - g.pad[1] as isize;
                        *c = if xx < 0 || xx >= w as isize { 0.0 } else { x[base + xx as usize] };
                    }
                }
            }
        }
    }
}

/// Adds neuron `o`'s bias to column `o` of every row.
fn add_bias<T: Copy + std::ops::AddAssign>(z: &mut Array2<T>, synapses: &Synapses, bias: impl Fn(usize) -> T) {
    let b: Vec<T> = (0..synapses.outputs()).map(bias).collect();
    for mut row in z.rows_mut() {
        row.iter_mut().zip(&b).for_each(|(v, &b)| *v += b);
    }
}

/// Max pooling of every row (padding skipped), from `init`.
fn pool_rows(pool: &PoolGeometry, x: &Array2<f64>, init: f64) -> Array2<f64> {
    let mut out = Array2::<f64>::zeros((x.nrows(), pool.outputs()));
    for (mut o_row, row) in out.rows_mut().into_iter().zip(x.rows()) {
        let row = row.as_slice().expect("standard layout");
        for (o, v) in o_row.iter_mut().enumerate() {
            let mut m = init;
            pool.for_each_input(o, |j| m = m.max(row[j]));
            *v = m;
        }
    }
    out
}
