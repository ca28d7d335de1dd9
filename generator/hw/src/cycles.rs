//! The generator's cycle model of a whole design: cycles per inference as a
//! function of one image's spike counts, its worst case, the initiation
//! interval, and statistics over a data set against the weight-bandwidth
//! bound. The per-layer terms are `ttfs_dense_layer`'s checked formula; the
//! constants of the top level (encoder, queues, readout) are those of the
//! wiring in `rtl-templates/top/top.v`, and the generated test bench checks
//! the whole formula image by image (tests/generate.rs).

use super::plan::Plan;
use crate::layers::HwLayer;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use ttfs_sim::{Prepared, quantized};

/// Spike counts of one image, the model's only input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SpikeCounts {
    /// Nonzero pixels (input events).
    pub input_events: u64,
    /// Their pixel indices, increasing: layer 0 starts on each event as it
    /// arrives (the input queue is cut-through).
    #[serde(skip)]
    pub input_positions: Vec<u32>,
    /// Operations per block each of those events costs layer 0 (its taps
    /// in a convolution; 1 in a dense layer).
    #[serde(skip)]
    pub input_taps: Vec<u32>,
    /// Whether the image's last pixel is nonzero (the encoder then needs one
    /// more cycle for the `last` beat).
    pub last_pixel_nonzero: bool,
    /// Events emitted by each hidden layer block, in order.
    pub hidden_events: Vec<u64>,
    /// Per layer block: Σ over its input events of their operations per
    /// block (a dense layer: its input events).
    pub taps: Vec<u64>,
    /// Per layer block: input events that reach no output it keeps.
    pub silent: Vec<u64>,
}

impl SpikeCounts {
    /// The counts of one image, from the integer closed form.
    pub fn of(model: &Prepared, layers: &[HwLayer], q0: &[i64]) -> SpikeCounts {
        SpikeCounts::from_trace(layers, &quantized::forward(model, q0), q0)
    }

    /// The counts of one image whose closed form `trace` is already known.
    pub fn from_trace(layers: &[HwLayer], trace: &quantized::IntegerTrace, q0: &[i64]) -> SpikeCounts {
        let input_positions: Vec<u32> = q0.iter().enumerate().filter(|(_, q)| **q > 0).map(|(i, _)| i as u32).collect();
        let input_taps = input_positions.iter().map(|&i| layers[0].taps_of(i as usize)).collect();
        let mut taps = Vec::with_capacity(layers.len());
        let mut silent = Vec::with_capacity(layers.len());
        let mut hidden_events = Vec::with_capacity(layers.len());
        for (k, layer) in layers.iter().enumerate() {
            let input: &[i64] = if k == 0 { q0 } else { &trace.values[layers[k - 1].emits] };
            let (mut t, mut z) = (0u64, 0u64);
            for (j, _) in input.iter().enumerate().filter(|(_, q)| **q > 0) {
                let n = layer.taps_of(j);
                t += u64::from(n);
                z += u64::from(n == 0);
            }
            taps.push(t);
            silent.push(z);
            if k + 1 < layers.len() {
                hidden_events.push(trace.values[layer.emits].iter().filter(|&&q| q > 0).count() as u64);
            }
        }
        SpikeCounts {
            input_events: input_positions.len() as u64,
            input_positions,
            input_taps,
            last_pixel_nonzero: q0.last().is_some_and(|&q| q > 0),
            hidden_events,
            taps,
            silent,
        }
    }

    /// The worst case of a plan: every pixel and every neuron spikes.
    pub fn worst(plan: &Plan) -> SpikeCounts {
        let taps0 = |i: u32| match plan.layers[0].conv() {
            Some(c) => {
                let [_, h, w] = c.in_shape;
                let p = i as usize % (h * w);
                c.taps(p / w, p % w) as u32
            }
            None => 1,
        };
        let positions: Vec<u32> = (0..plan.inputs as u32).collect();
        SpikeCounts {
            input_events: plan.inputs as u64,
            input_taps: positions.iter().map(|&i| taps0(i)).collect(),
            input_positions: positions,
            last_pixel_nonzero: true,
            hidden_events: plan.layers.iter().filter(|l| l.hidden).map(|l| l.outputs as u64).collect(),
            taps: plan.layers.iter().map(|l| l.worst_taps).collect(),
            silent: plan.layers.iter().map(|l| l.worst_silent).collect(),
        }
    }

    /// Input taps, silent events and emitted beats (E) of each layer.
    fn per_layer(&self, plan: &Plan) -> Vec<(u64, u64, u64)> {
        plan.layers
            .iter()
            .enumerate()
            .map(|(k, l)| {
                let e = if l.hidden { self.hidden_events[k] } else { l.outputs as u64 };
                (self.taps[k], self.silent[k], e)
            })
            .collect()
    }
}

/// Extra cycles a spike queue adds: its consumer sees an image the cycle
/// after the image's `last` beat is pushed (counted in the producer's
/// cycles), one cycle later when the image has no events (the `last` beat
/// went into an empty FIFO, whose latency is 2).
fn queue_delay(events: u64) -> u64 {
    u64::from(events == 0)
}

/// Fixed cycles of the top level outside the layers: the readout's result
/// is taken the cycle after the output layer's `last` beat.
const READOUT_CYCLES: u64 = 1;

/// Edges from a pixel's edge to the first accumulate op of its event in an
/// idle dense layer 0: the encoder registers the event (+1), the input
/// queue's FIFO takes it (+1) and shows it at its head (+1); a convolution's
/// input and decode registers add two more (D).
const ARRIVAL_EDGES: i64 = 3;

/// The edge at which layer 0 starts its fire pass for an image whose first
/// pixel is taken at edge `base`, layer 0 being free to start an op from
/// edge `free`: event k (pixel i_k) starts its accumulate ops at
/// `max(base + i_k + 3 + D, start_{k-1} + c_{k-1})`, where `c = max(1, G·taps)`
/// and D the decode cycles, and the fire pass starts at `max(base + N_in +
/// [last pixel > 0] + 2 + D, start_{S-1} + c_{S-1})` (the `last` beat's
/// arrival, or the end of the last event's ops).
fn layer0_fire_start(plan: &Plan, counts: &SpikeCounts, base: i64, free: i64) -> i64 {
    let layer = &plan.layers[0];
    let g = layer.blocks as i64;
    let d = layer.decode_cycles() as i64;
    let next = counts.input_positions.iter().zip(&counts.input_taps).fold(free, |next, (&i, &taps)| {
        (base + i64::from(i) + ARRIVAL_EDGES + d).max(next) + (g * i64::from(taps)).max(1)
    });
    let last_arrival = base + plan.inputs as i64 + i64::from(counts.last_pixel_nonzero) + ARRIVAL_EDGES - 1 + d;
    last_arrival.max(next)
}

/// The model of one design.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CycleModel {
    /// The latency formula, for people.
    pub latency_formula: String,
    /// A stage's busy cycles per image, for people.
    pub stage_formula: String,
    /// Latency of one image when every pixel and neuron spikes.
    pub latency_worst_case: u64,
    /// Busy cycles of each stage (encoder, then layers) in the worst case.
    pub stage_worst_case: Vec<u64>,
    /// Initiation interval in the worst case: the slowest stage.
    pub initiation_interval_worst_case: u64,
}

impl CycleModel {
    /// The model of a plan.
    pub fn new(plan: &Plan) -> CycleModel {
        let worst = SpikeCounts::worst(plan);
        let stages = stage_cycles(plan, &worst);
        CycleModel {
            latency_formula: "F + F_0 + E_0 + LAT_0 + 3 + X_0 + sum over layers k >= 1 of (D_k + A_k + F_k + E_k + LAT_k + 4 + X_k + d_k) + 1, \
                 where layer 0 follows its events as they arrive (cut-through input queue): event j (pixel i_j, c_j = \
                 max(1, G_0*taps_j) operations) starts at a_j = max(i_j + 3 + D_0, a_(j-1) + c_(j-1)), and its fire pass \
                 starts at F = max(N_in + [last pixel > 0] + 2 + D_0, a_(S_0 - 1) + c_(S_0 - 1)); A_k = G_k*taps_k + \
                 silent_k the accumulate cycles (taps_k: operations per block of the layer's input events, one per event \
                 in a dense layer, the kernel taps reaching a kept output in a convolution; silent_k: events reaching \
                 none), F_k the fire operations (G_k; a convolution's G_k*H_use*W_use), E_k its output beats (hidden: \
                 neurons with q > 0; output: N_out), G_k its blocks, D_k = 2 for a convolution (its input and decode \
                 registers), 1 for a dense layer with the stage X (its input register), else 0, X_k = 1 with the \
                 block's stage X (a convolution; a dense layer on the ECP5) else 0, LAT_k = ceil(QOUT_W/FIRE_SPS) + 1 for hidden layers and 0 for the output layer, d_k = 1 if \
                 the layer gets no events else 0 (the store-and-forward spike queue); cycles from the edge taking the \
                 image's first pixel (edge 0) to the edge taking its result, one pixel per cycle, the pipeline idle"
                .into(),
            stage_formula: "encoder: N_in + [last pixel > 0]; layer k: A_k + F_k + E_k + 1 (layer 0: plus the \
                 cycles it waits for events still arriving)"
                .into(),
            latency_worst_case: latency(plan, &worst),
            initiation_interval_worst_case: stages.iter().copied().max().unwrap_or(0),
            stage_worst_case: stages,
        }
    }
}

/// Latency of one image (see [`CycleModel::latency_formula`]).
pub fn latency(plan: &Plan, counts: &SpikeCounts) -> u64 {
    let per_layer = counts.per_layer(plan);
    let (_, _, e0) = per_layer[0];
    // From its fire pass on, layer 0 runs as its formula says (F + E + LAT + 4
    // + X cycles from the pass's first op to its `last` beat, both included).
    let fire = layer0_fire_start(plan, counts, 0, 0) as u64;
    let layer0 = fire + plan.layers[0].latency_from_fire(e0) - 1;
    let events = |k: usize| if k == 0 { counts.input_events } else { counts.hidden_events[k - 1] };
    let rest: u64 = plan.layers[1..]
        .iter()
        .zip(&per_layer[1..])
        .enumerate()
        .map(|(k, (l, &(t, z, e)))| l.latency(t, z, e) + queue_delay(events(k + 1)))
        .sum();
    layer0 + rest + READOUT_CYCLES
}

/// Busy cycles per image of each stage: the encoder, then each layer.
pub fn stage_cycles(plan: &Plan, counts: &SpikeCounts) -> Vec<u64> {
    let mut stages = vec![plan.inputs as u64 + u64::from(counts.last_pixel_nonzero)];
    stages.extend(plan.layers.iter().zip(counts.per_layer(plan)).map(|(l, (t, z, e))| l.busy(t, z, e)));
    stages
}

/// The weight-bandwidth bound of one image: Σ_k taps_k · G_k (a dense
/// layer's taps are its input events).
pub fn bandwidth_bound(plan: &Plan, counts: &SpikeCounts) -> u64 {
    plan.layers.iter().zip(counts.per_layer(plan)).map(|(l, (t, _, _))| l.bandwidth_bound(t)).sum()
}

/// The model over a data set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CycleStats {
    /// The data file (name only).
    pub data: String,
    /// Images.
    pub samples: usize,
    /// Mean latency.
    pub latency_mean: f64,
    /// Smallest latency.
    pub latency_min: u64,
    /// Largest latency.
    pub latency_max: u64,
    /// Mean busy cycles of each stage (encoder, then layers).
    pub stage_mean: Vec<f64>,
    /// Mean cycles between results when the images stream back to back
    /// (a max-plus model of the stages and their queues).
    pub initiation_interval_mean: f64,
    /// Mean busy cycles of the layers (what the bandwidth bound limits).
    pub layer_cycles_mean: f64,
    /// Mean weight-bandwidth bound.
    pub bound_mean: f64,
    /// layer_cycles_mean / bound_mean.
    pub ratio_to_bound: f64,
    /// Each layer's mean busy cycles over its mean weight-bandwidth bound
    /// (a convolution's fire pass and emission on top of its taps).
    pub ratio_to_bound_per_layer: Vec<f64>,
}

/// Statistics of the model on `samples` (input codes, `inputs` values each).
pub fn stats(model: &Prepared, plan: &Plan, data: &str, codes: &[i64]) -> CycleStats {
    stats_of(plan, data, &counts(model, plan.inputs, codes))
}

/// The spike counts of `samples` (input codes, `inputs` values each), in
/// parallel. Assumes a network the generator builds ([`crate::layers::hw_layers`]).
pub fn counts(model: &Prepared, inputs: usize, codes: &[i64]) -> Vec<SpikeCounts> {
    let layers = crate::layers::hw_layers(model.net).expect("a planned network has hardware layers");
    codes.par_chunks(inputs).map(|q0| SpikeCounts::of(model, &layers, q0)).collect()
}

/// [`stats`] of images whose spike counts are known.
pub fn stats_of(plan: &Plan, data: &str, counts: &[SpikeCounts]) -> CycleStats {
    let n = counts.len().max(1) as f64;
    let latencies: Vec<u64> = counts.iter().map(|c| latency(plan, c)).collect();
    let stages: Vec<Vec<u64>> = counts.iter().map(|c| stage_cycles(plan, c)).collect();
    let stage_count = plan.layers.len() + 1;
    let stage_mean = (0..stage_count).map(|k| stages.iter().map(|s| s[k] as f64).sum::<f64>() / n).collect();
    let layer_cycles_mean = stages.iter().map(|s| s[1..].iter().sum::<u64>() as f64).sum::<f64>() / n;
    let bound_mean = counts.iter().map(|c| bandwidth_bound(plan, c) as f64).sum::<f64>() / n;
    let ratio_to_bound_per_layer = (0..plan.layers.len())
        .map(|k| {
            let busy: f64 = stages.iter().map(|s| s[k + 1] as f64).sum();
            let bound: f64 = counts.iter().map(|c| plan.layers[k].bandwidth_bound(c.taps[k]) as f64).sum();
            if bound > 0.0 { busy / bound } else { 0.0 }
        })
        .collect();
    CycleStats {
        data: data.into(),
        samples: counts.len(),
        latency_mean: latencies.iter().map(|&l| l as f64).sum::<f64>() / n,
        latency_min: latencies.iter().copied().min().unwrap_or(0),
        latency_max: latencies.iter().copied().max().unwrap_or(0),
        stage_mean,
        initiation_interval_mean: initiation_interval(plan, counts),
        layer_cycles_mean,
        bound_mean,
        ratio_to_bound: if bound_mean > 0.0 { layer_cycles_mean / bound_mean } else { 0.0 },
        ratio_to_bound_per_layer,
    }
}

/// The model's mean cycles between results when the images of `counts`
/// stream back to back: the encoder takes one pixel per cycle; layer 0
/// follows its events as they arrive ([`layer0_fire_start`]) and is busy
/// `G + E + 1` cycles after its fire pass starts; every later layer starts
/// an image when the layer before has finished it and it has finished the
/// previous one (store-and-forward queues).
pub fn initiation_interval(plan: &Plan, counts: &[SpikeCounts]) -> f64 {
    let mut encoder_start = 0i64;
    let mut layer0_free = 0i64;
    let mut finish = vec![0u64; plan.layers.len()];
    let mut last_finish = Vec::with_capacity(counts.len());
    for c in counts {
        let per_layer = c.per_layer(plan);
        let fire = layer0_fire_start(plan, c, encoder_start, layer0_free);
        layer0_free = fire + plan.layers[0].fire_ops() as i64 + per_layer[0].2 as i64 + 1;
        encoder_start += plan.inputs as i64 + i64::from(c.last_pixel_nonzero);
        finish[0] = layer0_free as u64;
        let mut ready = finish[0];
        for (k, layer) in plan.layers.iter().enumerate().skip(1) {
            let (t, z, e) = per_layer[k];
            finish[k] = (ready + layer.decode_cycles()).max(finish[k]) + layer.busy(t, z, e);
            ready = finish[k];
        }
        last_finish.push(ready);
    }
    if last_finish.len() < 2 {
        return counts.first().map_or(0.0, |c| stage_cycles(plan, c).into_iter().max().unwrap_or(0) as f64);
    }
    (last_finish[last_finish.len() - 1] - last_finish[0]) as f64 / (last_finish.len() - 1) as f64
}
