//! Evaluation of every simulator over a data set, in parallel over samples:
//! accuracy, agreement with the ReLU network, exactness of the continuous
//! network, bit-exactness of the tick-by-tick simulation against its closed
//! form, spike and synaptic-event counts, and simulator speed.

use crate::discrete::NO_SPIKE;
use crate::kernel::Stage;
use crate::{Prepared, argmax, continuous, discrete, encode, quantized, relu};
use rayon::prelude::*;
use serde::Serialize;
use std::time::Instant;
use ttfs_ir::NeuronModel;

/// Samples in the network's canonical input layout.
#[derive(Clone, Copy, Debug)]
pub struct Samples<'a> {
    /// `count × sample_len` raw input values, sample after sample.
    pub values: &'a [f64],
    /// Values per sample (the network's input size).
    pub sample_len: usize,
    /// Class labels, one per sample, if known.
    pub labels: Option<&'a [usize]>,
}

impl Samples<'_> {
    /// Number of samples.
    pub fn count(&self) -> usize {
        self.values.len() / self.sample_len.max(1)
    }

    fn sample(&self, i: usize) -> &[f64] {
        &self.values[i * self.sample_len..(i + 1) * self.sample_len]
    }
}

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
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Report {
    /// Samples simulated.
    pub samples: usize,
    /// Neuron model ("b1" or "alpha").
    pub neuron: String,
    /// Accuracy of the ReLU network.
    pub accuracy_relu: Option<f64>,
    /// Accuracy of the continuous spiking network.
    pub accuracy_continuous: Option<f64>,
    /// Accuracy of the integer (discrete) network.
    pub accuracy_discrete: Option<f64>,
    /// Fraction of samples whose continuous class equals the ReLU class.
    pub agreement_continuous: f64,
    /// Fraction of samples whose discrete class equals the ReLU class.
    pub agreement_discrete: Option<f64>,
    /// Largest |logit_snn − logit_relu| over samples and classes.
    pub max_abs_error_continuous: f64,
    /// Largest, over samples, of max|logit_snn − logit_relu| / max(1, max|logit_relu|).
    pub max_rel_error_continuous: f64,
    /// Hidden activations that left their window in the continuous network.
    pub clipped_activations: usize,
    /// Hidden activations clipped at T_n in the integer network.
    pub clipped_activations_discrete: Option<usize>,
    /// Input values outside the input range `[p, r]`.
    pub clipped_inputs: usize,
    /// Features (input elements) with values outside their range.
    pub features_outside: usize,
    /// The features with the most values outside their range (at most
    /// [`FEATURES_NAMED`], most first).
    pub inputs_outside: Vec<FeatureOutside>,
    /// Mean spikes per hidden neuron per inference, discrete network.
    pub spikes_per_neuron: Option<f64>,
    /// Mean spikes per hidden neuron per inference, continuous network.
    pub spikes_per_neuron_continuous: f64,
    /// Mean synaptic events (spikes × fan-out) per inference: discrete for b1, continuous for α/J.
    pub synaptic_events_per_inference: f64,
    /// Samples where the tick-by-tick simulation differs from the integer
    /// closed form in any spike tick, potential or logit (must be 0).
    pub discrete_closed_form_mismatches: Option<usize>,
    /// Simulator speed: the discrete simulator for b1, the continuous one for α/J (all threads).
    pub sim_inferences_per_second: f64,
    /// Continuous simulator speed (all threads).
    pub continuous_inferences_per_second: f64,
    /// Discrete simulator speed (all threads).
    pub discrete_inferences_per_second: Option<f64>,
    /// Per-layer spike figures.
    pub layers: Vec<LayerReport>,
}

struct ContinuousSummary {
    class: usize,
    abs_err: f64,
    rel_err: f64,
    clipped: usize,
    clipped_inputs: usize,
    hidden_spikes: usize,
    events: usize,
    layer_spikes: Vec<usize>,
}

struct DiscreteSummary {
    class: usize,
    clipped: usize,
    hidden_spikes: usize,
    events: usize,
    layer_spikes: Vec<usize>,
}

fn rate(samples: usize, started: Instant) -> f64 {
    samples as f64 / started.elapsed().as_secs_f64().max(1e-9)
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

/// Runs every simulator on every sample and gathers the report.
///
/// Assumes `samples.sample_len` equals the network's input size.
pub fn evaluate(model: &Prepared, samples: Samples) -> Report {
    let n = samples.count();
    let relu_classes: Vec<(usize, Vec<f64>)> = (0..n)
        .into_par_iter()
        .map(|i| {
            let (x0, _) = encode::continuous(model.net, samples.sample(i));
            let logits = relu::forward(model, &x0).pop().expect("logits");
            (argmax(&logits), logits)
        })
        .collect();

    let started = Instant::now();
    let cont: Vec<ContinuousSummary> = (0..n)
        .into_par_iter()
        .map(|i| {
            let (x0, clipped_inputs) = encode::continuous(model.net, samples.sample(i));
            let trace = continuous::run(model, &x0);
            let reference = &relu_classes[i].1;
            let abs_err = trace.logits.iter().zip(reference).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            let scale = reference.iter().map(|v| v.abs()).fold(1.0, f64::max);
            let layer_spikes = trace.times.iter().map(|t| t.iter().filter(|t| t.is_finite()).count()).collect();
            ContinuousSummary {
                class: argmax(&trace.logits),
                abs_err,
                rel_err: abs_err / scale,
                clipped: trace.clipped,
                clipped_inputs,
                hidden_spikes: trace.hidden_spikes,
                events: trace.synaptic_events,
                layer_spikes,
            }
        })
        .collect();
    let continuous_rate = rate(n, started);

    let discrete = model.is_discrete().then(|| {
        let started = Instant::now();
        let summaries: Vec<DiscreteSummary> = (0..n)
            .into_par_iter()
            .map(|i| {
                let q0 = encode::discrete(model.net, samples.sample(i));
                let trace = discrete::run(model, &q0, false);
                DiscreteSummary {
                    class: argmax(&trace.logits),
                    clipped: trace.clipped,
                    hidden_spikes: trace.hidden_spikes,
                    events: trace.synaptic_events,
                    layer_spikes: trace.ticks.iter().map(|t| t.iter().filter(|&&t| t != NO_SPIKE).count()).collect(),
                }
            })
            .collect();
        let speed = rate(n, started);
        let mismatches = (0..n)
            .into_par_iter()
            .filter(|&i| {
                let q0 = encode::discrete(model.net, samples.sample(i));
                !matches_closed_form(model, &q0)
            })
            .count();
        (summaries, speed, mismatches)
    });

    let hidden_neurons: usize = model
        .stages
        .iter()
        .filter_map(|s| match s {
            Stage::Weights { synapses, output: false, .. } => Some(synapses.outputs()),
            _ => None,
        })
        .sum();
    let per_neuron = |spikes: usize| fraction(spikes, n) / hidden_neurons.max(1) as f64;
    let accuracy = |class: &dyn Fn(usize) -> usize| {
        samples.labels.map(|labels| fraction((0..n).filter(|&i| class(i) == labels[i]).count(), n))
    };
    let spike_totals: Vec<usize> = match &discrete {
        Some((d, _, _)) => sum_columns(d.iter().map(|s| &s.layer_spikes)),
        None => sum_columns(cont.iter().map(|c| &c.layer_spikes)),
    };

    let layers: Vec<LayerReport> = model
        .net
        .layers
        .iter()
        .enumerate()
        .map(|(k, layer)| {
            let neurons = model.net.shapes()[k + 1].len();
            let spikes = (k + 1 < model.net.layers.len()).then(|| spike_totals[k]);
            LayerReport {
                name: layer.name().to_string(),
                kind: layer.kind().to_string(),
                neurons,
                spikes_per_neuron: spikes.map(|s| fraction(s, n) / neurons.max(1) as f64),
            }
        })
        .collect();

    let cont_events: usize = cont.iter().map(|c| c.events).sum();
    let outside = features_outside(model.net, samples);
    Report {
        samples: n,
        neuron: model.net.neuron.as_str().to_string(),
        accuracy_relu: accuracy(&|i| relu_classes[i].0),
        accuracy_continuous: accuracy(&|i| cont[i].class),
        accuracy_discrete: discrete.as_ref().and_then(|(d, _, _)| accuracy(&|i| d[i].class)),
        agreement_continuous: fraction((0..n).filter(|&i| cont[i].class == relu_classes[i].0).count(), n),
        agreement_discrete: discrete
            .as_ref()
            .map(|(d, _, _)| fraction((0..n).filter(|&i| d[i].class == relu_classes[i].0).count(), n)),
        max_abs_error_continuous: cont.iter().map(|c| c.abs_err).fold(0.0, f64::max),
        max_rel_error_continuous: cont.iter().map(|c| c.rel_err).fold(0.0, f64::max),
        clipped_activations: cont.iter().map(|c| c.clipped).sum(),
        clipped_activations_discrete: discrete.as_ref().map(|(d, _, _)| d.iter().map(|s| s.clipped).sum()),
        clipped_inputs: cont.iter().map(|c| c.clipped_inputs).sum(),
        features_outside: outside.len(),
        inputs_outside: outside.into_iter().take(FEATURES_NAMED).collect(),
        spikes_per_neuron: discrete.as_ref().map(|(d, _, _)| per_neuron(d.iter().map(|s| s.hidden_spikes).sum())),
        spikes_per_neuron_continuous: per_neuron(cont.iter().map(|c| c.hidden_spikes).sum()),
        synaptic_events_per_inference: match &discrete {
            Some((d, _, _)) => fraction(d.iter().map(|s| s.events).sum(), n),
            None => fraction(cont_events, n),
        },
        discrete_closed_form_mismatches: discrete.as_ref().map(|(_, _, m)| *m),
        sim_inferences_per_second: discrete.as_ref().map_or(continuous_rate, |(_, s, _)| *s),
        continuous_inferences_per_second: continuous_rate,
        discrete_inferences_per_second: discrete.as_ref().map(|(_, s, _)| *s),
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
    let sim = discrete::run(model, q0, false);
    let closed = quantized::forward(model, q0);
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
    let batch = crate::batch::Batch::new(model);
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
