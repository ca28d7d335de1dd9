//! `ttfs cosim`: the generated hardware against the discrete reference,
//! every hidden spike of every sample, every logit, every cycle count.
//!
//! Verilator (the default) builds the design into a shared library driven
//! by a generated C++ shim ([`verilator`]); Icarus runs the generated test
//! bench as a second opinion. Both produce the same [`Observed`] record,
//! which [`compare`] checks against the integer closed form.

pub mod board_model;
pub mod stage;
pub mod verilator;

use serde::Serialize;
use ttfs_hw::cycles::{self, SpikeCounts};
use ttfs_hw::plan::Plan;
use ttfs_hw::view::TopView;
use ttfs_ir::Network;
use ttfs_sim::{Prepared, quantized};

/// What the hardware did on a set of images.
#[derive(Clone, Debug, Default)]
pub struct Observed {
    /// Hidden spikes as (layer, image, neuron, q), in any order.
    pub spikes: Vec<[u32; 4]>,
    /// Class per image.
    pub classes: Vec<usize>,
    /// Logits per image.
    pub logits: Vec<Vec<i64>>,
    /// Latency per image (one image at a time).
    pub latency: Vec<u64>,
}

/// One mismatched spike, in full.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Divergence {
    /// Sample index.
    pub sample: usize,
    /// Dense layer index (hidden layers).
    pub layer: usize,
    /// Layer name.
    pub layer_name: String,
    /// Neuron.
    pub neuron: usize,
    /// "missing", "extra" or "mistimed".
    pub kind: String,
    /// The reference's spike tick (`T − q`), if it spikes.
    pub expected_tick: Option<u32>,
    /// The hardware's spike tick, if it spiked.
    pub actual_tick: Option<u32>,
    /// The reference's potential V at the end of the input window.
    pub reference_potential: i64,
}

/// One wrong output (logits or class).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OutputMismatch {
    /// Sample index.
    pub sample: usize,
    /// Reference class.
    pub expected_class: usize,
    /// Hardware class.
    pub actual_class: usize,
    /// First logit that differs (index, reference, hardware), if any.
    pub first_logit: Option<(usize, i64, i64)>,
}

/// The comparison of hardware and reference.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// Samples compared.
    pub samples: usize,
    /// Missing, extra or mistimed spikes, all layers.
    pub mismatched_spikes: usize,
    /// Per hidden layer: mismatched spikes.
    pub mismatched_spikes_per_layer: Vec<usize>,
    /// Hidden spikes the reference emits.
    pub reference_spikes: usize,
    /// Samples whose class or logits differ.
    pub mismatched_outputs: usize,
    /// The first spike divergence (sample order, then layer, then neuron).
    pub first_divergence: Option<Divergence>,
    /// The first wrong output.
    pub first_output_mismatch: Option<OutputMismatch>,
    /// Samples whose measured latency differs from the cycle model's.
    pub cycle_model_mismatches: usize,
    /// The first of them: sample, measured and model latency.
    pub first_cycle_mismatch: Option<(usize, u64, u64)>,
    /// Mean measured latency.
    pub cycles_per_inference: f64,
    /// Largest measured latency.
    pub cycles_worst_measured: u64,
    /// Mean of the model's latency on the same samples.
    pub model_cycles_per_inference: f64,
    /// The model's worst case (every pixel and neuron spikes).
    pub model_cycles_worst_case: u64,
    /// The model's mean interval between results, the samples streamed.
    pub model_initiation_interval: f64,
    /// Accuracy of the hardware's classes, with labels.
    pub accuracy: Option<f64>,
    /// Accuracy of the reference's classes, with labels.
    pub accuracy_reference: Option<f64>,
}

/// Compares what the hardware did with the integer closed form on `codes`
/// (`plan.inputs` per sample), spike by spike and output by output.
pub fn compare(net: &Network, plan: &Plan, codes: &[i64], labels: Option<&[usize]>, seen: &Observed) -> Comparison {
    let model = Prepared::new(net);
    let layers = ttfs_hw::layers::hw_layers(net).expect("a planned network has hardware layers");
    let hidden = plan.layers.iter().filter(|l| l.hidden).count();
    let samples = codes.len() / plan.inputs;
    // Hardware spikes per (sample, layer): neuron -> q; duplicates count as extra.
    let mut per: Vec<Vec<Vec<(u32, u32)>>> = vec![vec![Vec::new(); hidden]; samples];
    let mut stray = 0usize;
    for &[layer, image, neuron, q] in &seen.spikes {
        match per.get_mut(image as usize).and_then(|p| p.get_mut(layer as usize)) {
            Some(list) => list.push((neuron, q)),
            None => stray += 1,
        }
    }
    let mut mismatched_per_layer = vec![0usize; hidden];
    let mut first_divergence = None;
    let mut mismatched_outputs = 0;
    let mut first_output_mismatch = None;
    let mut reference_spikes = 0;
    let mut cycle_model_mismatches = 0;
    let mut first_cycle_mismatch = None;
    let (mut model_sum, mut correct, mut correct_ref) = (0u64, 0usize, 0usize);
    let mut counts = Vec::with_capacity(samples);
    for (sample, q0) in codes.chunks(plan.inputs).enumerate() {
        let trace = quantized::forward(&model, q0);
        for layer in 0..hidden {
            // T = 2^B − 1 ticks; `stage` indexes the closed form's per-layer arrays.
            let ticks = plan.layers[layer].output_value_bits.map_or(0, |bits| (1u32 << bits) - 1);
            let stage = plan.layers[layer].emits;
            let expected = &trace.values[stage];
            let mut actual: Vec<Option<u32>> = vec![None; expected.len()];
            let mut extra_dupes = Vec::new();
            for &(index, q) in &per[sample][layer] {
                // A convolution feeding another one sends packed coordinates.
                let neuron = plan.layers[layer].conv().map_or(index as usize, |c| c.flat_output(index));
                match actual.get_mut(neuron) {
                    Some(slot @ None) => *slot = Some(q),
                    _ => extra_dupes.push(neuron),
                }
            }
            let mut note = |neuron: usize, kind: &str, exp: Option<u32>, act: Option<u32>| {
                mismatched_per_layer[layer] += 1;
                if first_divergence.is_none() {
                    first_divergence = Some(Divergence {
                        sample,
                        layer,
                        layer_name: plan.layers[layer].name.clone(),
                        neuron,
                        kind: kind.into(),
                        expected_tick: exp.map(|q| ticks - q),
                        actual_tick: act.map(|q| ticks.saturating_sub(q)),
                        reference_potential: trace.potentials[stage].get(neuron).copied().unwrap_or(0),
                    });
                }
            };
            for (neuron, (&e, &a)) in expected.iter().zip(&actual).enumerate() {
                let e = (e > 0).then_some(e as u32);
                reference_spikes += usize::from(e.is_some());
                match (e, a) {
                    (Some(e), Some(a)) if e != a => note(neuron, "mistimed", Some(e), Some(a)),
                    (Some(e), None) => note(neuron, "missing", Some(e), None),
                    (None, Some(a)) => note(neuron, "extra", None, Some(a)),
                    _ => {}
                }
            }
            for neuron in extra_dupes {
                note(neuron, "extra", None, None);
            }
        }
        let reference_class = ttfs_sim::argmax(trace.logits());
        let logits = seen.logits.get(sample).map(Vec::as_slice).unwrap_or(&[]);
        let class = seen.classes.get(sample).copied().unwrap_or(usize::MAX);
        if logits != trace.logits() || class != reference_class {
            mismatched_outputs += 1;
            if first_output_mismatch.is_none() {
                let first_logit = trace
                    .logits()
                    .iter()
                    .enumerate()
                    .find(|&(i, &v)| logits.get(i) != Some(&v))
                    .map(|(i, &v)| (i, v, logits.get(i).copied().unwrap_or(0)));
                first_output_mismatch =
                    Some(OutputMismatch { sample, expected_class: reference_class, actual_class: class, first_logit });
            }
        }
        let sample_counts = SpikeCounts::from_trace(&layers, &trace, q0);
        let model_latency = cycles::latency(plan, &sample_counts);
        counts.push(sample_counts);
        model_sum += model_latency;
        if seen.latency.get(sample) != Some(&model_latency) {
            cycle_model_mismatches += 1;
            first_cycle_mismatch.get_or_insert((sample, seen.latency.get(sample).copied().unwrap_or(0), model_latency));
        }
        if let Some(labels) = labels {
            correct += usize::from(class == labels[sample]);
            correct_ref += usize::from(reference_class == labels[sample]);
        }
    }
    if stray > 0 {
        // Spikes from images or layers that do not exist.
        mismatched_per_layer.push(stray);
    }
    let n = samples.max(1) as f64;
    Comparison {
        samples,
        mismatched_spikes: mismatched_per_layer.iter().sum(),
        mismatched_spikes_per_layer: mismatched_per_layer,
        reference_spikes,
        mismatched_outputs,
        first_divergence,
        first_output_mismatch,
        cycle_model_mismatches,
        first_cycle_mismatch,
        cycles_per_inference: seen.latency.iter().sum::<u64>() as f64 / n,
        cycles_worst_measured: seen.latency.iter().copied().max().unwrap_or(0),
        model_cycles_per_inference: model_sum as f64 / n,
        model_cycles_worst_case: cycles::latency(plan, &SpikeCounts::worst(plan)),
        model_initiation_interval: cycles::initiation_interval(plan, &counts),
        accuracy: labels.map(|_| correct as f64 / n),
        accuracy_reference: labels.map(|_| correct_ref as f64 / n),
    }
}

/// The most hidden spikes a correct design can emit on `samples` images.
pub fn spike_capacity(view: &TopView, samples: usize) -> usize {
    view.layers.iter().filter(|l| l.hidden).map(|l| l.n_out).sum::<usize>() * samples.max(1)
}
