//! Evaluation of every simulator over a data set, in parallel: accuracy,
//! agreement with the ReLU network, exactness of the continuous network,
//! bit-exactness of the tick-by-tick simulation against its closed form,
//! spike and synaptic-event counts, and simulator speed.
//!
//! The closed forms run batched ([`crate::batch`]) on every sample; the
//! literal simulators, which read every weight once per sample, on a
//! subset ([`checked_indices`]) unless asked for all.

pub use crate::Samples;
use crate::batch::{Batch, CHUNK};
use crate::discrete::NO_SPIKE;
use crate::kernel::Stage;
use crate::{Prepared, argmax, continuous, discrete, encode, quantized};
use rayon::prelude::*;
use serde::Serialize;
use std::time::{Duration, Instant};
use ttfs_ir::NeuronModel;

/// Per-layer figures of the discrete (or, for α/J, continuous) network.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LayerReport {
    /// Layer name.
    pub name: String,
    /// Layer kind.
    pub kind: String,
    /// Neurons (outputs) of the layer.
    pub neurons: usize,
    /// Mean spikes per neuron per inference (null for the output layer).
    pub spikes_per_neuron: Option<f64>,
}

/// What `ttfs sim --json` prints. Fields that do not apply are `None`
/// (the discrete ones for an α/J network; accuracies without labels).
///
/// The batched closed forms ([`crate::batch`]) run on every sample; the
/// literal simulators (event-driven continuous, tick-by-tick discrete) on
/// the [`Report::checked_samples`] chosen by [`checked_indices`]. Fields
/// say which they cover. An α/J network has no continuous closed form: its
/// continuous simulator runs on every sample (`checked_samples` = `samples`).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Report {
    /// Samples simulated.
    pub samples: usize,
    /// Samples the literal simulators ran on (all of them with
    /// `--exhaustive`, else at most [`CHECKED_SAMPLES`] evenly spaced):
    /// the exactness figures and speeds cover these.
    pub checked_samples: usize,
    /// Neuron model ("b1" or "alpha").
    pub neuron: String,
    /// Accuracy of the ReLU network (every sample).
    pub accuracy_relu: Option<f64>,
    /// Accuracy of the continuous spiking network (every sample: b1 from
    /// its closed form, the ReLU network with each hidden activation
    /// clipped to its window).
    pub accuracy_continuous: Option<f64>,
    /// Accuracy of the integer (discrete) network (every sample, closed form).
    pub accuracy_discrete: Option<f64>,
    /// Fraction of samples whose continuous class equals the ReLU class
    /// (every sample, as [`Report::accuracy_continuous`]).
    pub agreement_continuous: f64,
    /// Fraction of samples whose discrete class equals the ReLU class (every sample).
    pub agreement_discrete: Option<f64>,
    /// Largest |logit_snn − logit_relu| over the checked samples and
    /// classes (the event-driven simulator).
    pub max_abs_error_continuous: f64,
    /// Largest, over the checked samples, of max|logit_snn − logit_relu| / max(1, max|logit_relu|).
    pub max_rel_error_continuous: f64,
    /// Hidden activations that left their window in the continuous network
    /// (every sample; b1: from the closed form, equal to the event-driven
    /// simulator's count up to preactivations within rounding of a window's end).
    pub clipped_activations: usize,
    /// Hidden activations clipped at T_n in the integer network (every sample).
    pub clipped_activations_discrete: Option<usize>,
    /// Input values outside the input range `[p, r]` (every sample).
    pub clipped_inputs: usize,
    /// Features (input elements) with values outside their range.
    pub features_outside: usize,
    /// The features with the most values outside their range (at most
    /// [`FEATURES_NAMED`], most first).
    pub inputs_outside: Vec<FeatureOutside>,
    /// Mean spikes per hidden neuron per inference, discrete network (every sample).
    pub spikes_per_neuron: Option<f64>,
    /// Mean spikes per hidden neuron per inference, continuous network (every sample).
    pub spikes_per_neuron_continuous: f64,
    /// Mean synaptic events (spikes × fan-out) per inference: discrete for
    /// b1, continuous for α/J (every sample).
    pub synaptic_events_per_inference: f64,
    /// Checked samples where the tick-by-tick simulation differs from the
    /// integer closed form in any spike tick, potential or logit (must be 0).
    pub discrete_closed_form_mismatches: Option<usize>,
    /// Simulator speed: the discrete simulator for b1, the continuous one
    /// for α/J (all threads, over the checked samples).
    pub sim_inferences_per_second: f64,
    /// Continuous (event-driven) simulator speed (all threads, checked samples).
    pub continuous_inferences_per_second: f64,
    /// Discrete (tick-by-tick) simulator speed (all threads, checked samples).
    pub discrete_inferences_per_second: Option<f64>,
    /// Per-layer spike figures (every sample).
    pub layers: Vec<LayerReport>,
}

struct ContinuousSummary {
    class: usize,
    abs_err: f64,
    rel_err: f64,
    clipped: usize,
    hidden_spikes: usize,
    events: usize,
    layer_spikes: Vec<usize>,
}

fn fraction(hits: usize, total: usize) -> f64 {
    if total == 0 { 0.0 } else { hits as f64 / total as f64 }
}

/// How many features [`Report::inputs_outside`] names.
pub const FEATURES_NAMED: usize = 5;

/// One feature's values outside the raw range the network was calibrated on.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FeatureOutside {
    /// The feature's index in a data row (the data file's column order).
    pub feature: usize,
    /// The calibrated range `[p, r]`.
    pub range: [f64; 2],
    /// Values below `p`.
    pub below: usize,
    /// Values above `r`.
    pub above: usize,
    /// The smallest and largest value of the feature in these data.
    pub min: f64,
    /// The largest value.
    pub max: f64,
}

/// The features of `samples` whose values leave the network's input ranges
/// (clipped by the encoding), most values outside first, with how many.
pub fn features_outside(net: &ttfs_ir::Network, samples: Samples) -> Vec<FeatureOutside> {
    let data_index = ttfs_ir::canonical_to_data(&net.input.data_shape, &net.input.data_permutation);
    let n = samples.count();
    let mut out: Vec<FeatureOutside> = (0..samples.sample_len)
        .into_par_iter()
        .filter_map(|i| {
            let [p, r] = net.input.range_of(i);
            let (lo, hi) = (p.min(r), p.max(r));
            let mut f = FeatureOutside {
                feature: data_index.get(i).copied().unwrap_or(i),
                range: [p, r],
                below: 0,
                above: 0,
                min: f64::INFINITY,
                max: f64::NEG_INFINITY,
            };
            for k in 0..n {
                let v = samples.values[k * samples.sample_len + i];
                f.min = f.min.min(v);
                f.max = f.max.max(v);
                f.below += usize::from(v < lo);
                f.above += usize::from(v > hi);
            }
            (f.below + f.above > 0).then_some(f)
        })
        .collect();
    out.sort_by(|a, b| (b.below + b.above).cmp(&(a.below + a.above)).then(a.feature.cmp(&b.feature)));
    out
}

/// Samples the literal simulators run on by default: they read every
/// weight once per sample (the batched forms once per chunk), so a fixed
/// number keeps `ttfs sim` within a small multiple of a forward pass.
pub const CHECKED_SAMPLES: usize = 256;

/// Options of [`evaluate_with`].
#[derive(Clone, Copy, Debug, Default)]
pub struct EvalOptions {
    /// Run the literal simulators on every sample, not only on
    /// [`CHECKED_SAMPLES`] of them.
    pub exhaustive: bool,
}

/// The samples (indices, increasing) the literal simulators check out of
/// `n`: all of them when `exhaustive` or `n ≤` [`CHECKED_SAMPLES`], else
/// [`CHECKED_SAMPLES`] evenly spaced ones (`i·n / CHECKED_SAMPLES`), so
/// that a file sorted by class is checked on every class.
pub fn checked_indices(n: usize, exhaustive: bool) -> Vec<usize> {
    if exhaustive || n <= CHECKED_SAMPLES {
        (0..n).collect()
    } else {
        (0..CHECKED_SAMPLES).map(|i| i * n / CHECKED_SAMPLES).collect()
    }
}

/// [`evaluate_with`] with the default options.
pub fn evaluate(model: &Prepared, samples: Samples) -> Report {
    evaluate_with(model, samples, EvalOptions::default())
}

/// Runs the batched closed forms on every sample and the literal
/// simulators on the checked samples ([`checked_indices`]), and gathers the
/// report ([`Report`] says which figure covers which).
///
/// Assumes `samples.sample_len` equals the network's input size.
pub fn evaluate_with(model: &Prepared, samples: Samples, options: EvalOptions) -> Report {
    let n = samples.count();
    let b1 = model.net.neuron == NeuronModel::B1;
    let batch = Batch::new(model);
    let (relu, cont_closed) = if b1 {
        let (relu, cont) = batch.relu_and_continuous(samples);
        (relu, Some(cont))
    } else {
        (batch.relu(samples), None)
    };
    let integer = model.is_discrete().then(|| batch.integer(samples));
    // α/J has no continuous closed form: its simulator runs on every sample.
    let checked = if b1 { checked_indices(n, options.exhaustive) } else { (0..n).collect() };

    let mut cont: Vec<ContinuousSummary> = Vec::with_capacity(checked.len());
    let (mut cont_time, mut disc_time, mut mismatches) = (Duration::ZERO, Duration::ZERO, 0);
    let len = samples.sample_len;
    for group in checked.chunks(CHUNK) {
        let values: Vec<f64> = group.iter().flat_map(|&i| samples.sample(i).iter().copied()).collect();
        let part = Samples { values: &values, sample_len: len, labels: None };
        let reference = batch.relu_logits(part);
        let started = Instant::now();
        cont.par_extend(reference.par_iter().zip(values.par_chunks(len.max(1))).map(|(reference, raw)| {
            let (x0, _) = encode::continuous(model.net, raw);
            let trace = continuous::run(model, &x0);
            let abs_err = trace.logits.iter().zip(reference).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            let scale = reference.iter().map(|v| v.abs()).fold(1.0, f64::max);
            ContinuousSummary {
                class: argmax(&trace.logits),
                abs_err,
                rel_err: abs_err / scale,
                clipped: trace.clipped,
                hidden_spikes: trace.hidden_spikes,
                events: trace.synaptic_events,
                layer_spikes: trace.times.iter().map(|t| t.iter().filter(|t| t.is_finite()).count()).collect(),
            }
        }));
        cont_time += started.elapsed();
        if model.is_discrete() {
            let closed = batch.integer_traces(part);
            let started = Instant::now();
            mismatches += closed
                .par_iter()
                .zip(values.par_chunks(len.max(1)))
                .filter(|(closed, raw)| {
                    let q0 = encode::discrete(model.net, raw);
                    !matches_trace(model, &discrete::run(model, &q0, false), closed)
                })
                .count();
            disc_time += started.elapsed();
        }
    }
    let per_second = |time: Duration| checked.len() as f64 / time.as_secs_f64().max(1e-9);
    let continuous_rate = per_second(cont_time);
    let discrete_rate = model.is_discrete().then(|| per_second(disc_time));

    let hidden_neurons: usize = model
        .stages
        .iter()
        .filter_map(|s| match s {
            Stage::Weights { synapses, output: false, .. } => Some(synapses.outputs()),
            _ => None,
        })
        .sum();
    let per_neuron = |spikes: usize| fraction(spikes, n) / hidden_neurons.max(1) as f64;
    let accuracy = |classes: &dyn Fn(usize) -> usize| {
        samples.labels.map(|labels| fraction((0..n).filter(|&i| classes(i) == labels[i]).count(), n))
    };
    let agreement = |classes: &[usize]| fraction((0..n).filter(|&i| classes[i] == relu.classes[i]).count(), n);
    // Continuous classes and counts over every sample: the closed form
    // (b1) or the simulator, which then ran on every sample (α/J).
    let cont_classes: Vec<usize> = match &cont_closed {
        Some(c) => c.classes.clone(),
        None => cont.iter().map(|c| c.class).collect(),
    };
    let (cont_clipped, cont_spikes) = match &cont_closed {
        Some(c) => (c.clipped, c.hidden_spikes),
        None => (cont.iter().map(|c| c.clipped).sum(), cont.iter().map(|c| c.hidden_spikes).sum()),
    };
    let spike_totals: Vec<usize> = match &integer {
        Some(d) => d.layer_spikes.clone(),
        None => sum_columns(cont.iter().map(|c| &c.layer_spikes)),
    };

    let layers: Vec<LayerReport> = model
        .net
        .layers
        .iter()
        .enumerate()
        .map(|(k, layer)| {
            let neurons = model.net.shapes()[k + 1].len();
            let spikes = (k + 1 < model.net.layers.len()).then(|| spike_totals.get(k).copied().unwrap_or(0));
            LayerReport {
                name: layer.name().to_string(),
                kind: layer.kind().to_string(),
                neurons,
                spikes_per_neuron: spikes.map(|s| fraction(s, n) / neurons.max(1) as f64),
            }
        })
        .collect();

    let outside = features_outside(model.net, samples);
    Report {
        samples: n,
        checked_samples: checked.len(),
        neuron: model.net.neuron.as_str().to_string(),
        accuracy_relu: accuracy(&|i| relu.classes[i]),
        accuracy_continuous: accuracy(&|i| cont_classes[i]),
        accuracy_discrete: integer.as_ref().and_then(|d| accuracy(&|i| d.classes[i])),
        agreement_continuous: agreement(&cont_classes),
        agreement_discrete: integer.as_ref().map(|d| agreement(&d.classes)),
        max_abs_error_continuous: cont.iter().map(|c| c.abs_err).fold(0.0, f64::max),
        max_rel_error_continuous: cont.iter().map(|c| c.rel_err).fold(0.0, f64::max),
        clipped_activations: cont_clipped,
        clipped_activations_discrete: integer.as_ref().map(|d| d.clipped),
        clipped_inputs: relu.clipped_inputs,
        features_outside: outside.len(),
        inputs_outside: outside.into_iter().take(FEATURES_NAMED).collect(),
        spikes_per_neuron: integer.as_ref().map(|d| per_neuron(d.hidden_spikes)),
        spikes_per_neuron_continuous: per_neuron(cont_spikes),
        synaptic_events_per_inference: match &integer {
            Some(d) => fraction(d.synaptic_events, n),
            None => fraction(cont.iter().map(|c| c.events).sum(), n),
        },
        discrete_closed_form_mismatches: model.is_discrete().then_some(mismatches),
        sim_inferences_per_second: discrete_rate.unwrap_or(continuous_rate),
        continuous_inferences_per_second: continuous_rate,
        discrete_inferences_per_second: discrete_rate,
        layers,
    }
}

/// Element-wise sum of equally long rows.
fn sum_columns<'a>(rows: impl Iterator<Item = &'a Vec<usize>>) -> Vec<usize> {
    let mut total: Vec<usize> = Vec::new();
    for row in rows {
        total.resize(row.len().max(total.len()), 0);
        total.iter_mut().zip(row).for_each(|(t, r)| *t += r);
    }
    total
}

/// True when the tick-by-tick simulation of `q0` equals the integer closed
/// form in every spike tick, every potential and every logit.
pub fn matches_closed_form(model: &Prepared, q0: &[i64]) -> bool {
    matches_trace(model, &discrete::run(model, q0, false), &quantized::forward(model, q0))
}

/// True when a tick-by-tick trace equals a closed-form trace of the same
/// sample in every spike tick, every potential and every logit.
pub fn matches_trace(model: &Prepared, sim: &discrete::DiscreteTrace, closed: &quantized::IntegerTrace) -> bool {
    let last = model.stages.len() - 1;
    let mut spiking_ticks = model.net.input.code.expect("integer input").ticks;
    for (k, stage) in model.stages.iter().enumerate() {
        if let Stage::Weights { layer, output, .. } = stage {
            if sim.potentials[k] != closed.potentials[k] {
                return false;
            }
            if !output {
                let fire = model.net.layers[*layer].params().and_then(|p| p.quant.as_ref()).and_then(|q| q.fire);
                spiking_ticks = fire.expect("hidden layer fires").ticks;
            }
        }
        if k < last {
            let expected = closed.values[k].iter().map(|&q| if q > 0 { spiking_ticks - q as u32 } else { NO_SPIKE });
            if !sim.ticks[k].iter().copied().eq(expected) {
                return false;
            }
        }
    }
    sim.logits == closed.logits()
}

/// Clipping on a data set: inputs outside `[p, r]`, hidden activations that
/// left their continuous window, and (b1) integer activations above `T_n`.
///
/// Batched ([`crate::batch`]): the integer counts come from the integer
/// closed form and equal the tick-by-tick simulator's exactly; the b1
/// continuous count comes from the continuous closed form (the ReLU network
/// with each hidden activation clipped to its window), which equals the
/// event-driven simulator's up to preactivations within rounding of a
/// window's end. α/J networks have no such closed form: their continuous
/// count runs the event-driven simulator on every sample.
pub fn clipping(model: &Prepared, samples: Samples) -> (usize, usize, Option<usize>) {
    let batch = Batch::new(model);
    let (inputs, continuous) = if model.net.neuron == NeuronModel::Alpha {
        (0..samples.count())
            .into_par_iter()
            .map(|i| {
                let (x0, clipped_inputs) = encode::continuous(model.net, samples.sample(i));
                (clipped_inputs, continuous::run(model, &x0).clipped)
            })
            .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    } else {
        let summary = batch.continuous(samples);
        (summary.clipped_inputs, summary.clipped)
    };
    let discrete = model.is_discrete().then(|| batch.integer(samples).clipped);
    (inputs, continuous, discrete)
}
