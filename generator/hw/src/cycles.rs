//! The generator's cycle model of a whole design: cycles per inference as a
//! function of one image's spike counts, its worst case, the initiation
//! interval, and statistics over a data set against the weight-bandwidth
//! bound. The per-layer terms are `ttfs_dense_layer`'s checked formula; the
//! constants of the top level (encoder, queues, readout) are those of the
//! wiring in `rtl-templates/top/top.v`, and the generated test bench checks
//! the whole formula image by image (tests/generate.rs).

use super::plan::Plan;
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
    /// Whether the image's last pixel is nonzero (the encoder then needs one
    /// more cycle for the `last` beat).
    pub last_pixel_nonzero: bool,
    /// Events emitted by each hidden layer, in order.
    pub hidden_events: Vec<u64>,
}

impl SpikeCounts {
    /// The counts of one image, from the integer closed form.
    pub fn of(model: &Prepared, q0: &[i64]) -> SpikeCounts {
        SpikeCounts::from_trace(&quantized::forward(model, q0), q0)
    }

    /// The counts of one image whose closed form `trace` is already known.
    pub fn from_trace(trace: &quantized::IntegerTrace, q0: &[i64]) -> SpikeCounts {
        let layers = trace.values.len();
        let input_positions: Vec<u32> = q0.iter().enumerate().filter(|(_, q)| **q > 0).map(|(i, _)| i as u32).collect();
        SpikeCounts {
            input_events: input_positions.len() as u64,
            input_positions,
            last_pixel_nonzero: q0.last().is_some_and(|&q| q > 0),
            hidden_events: trace.values[..layers - 1]
                .iter()
                .map(|v| v.iter().filter(|&&q| q > 0).count() as u64)
                .collect(),
        }
    }

    /// The worst case of a plan: every pixel and every neuron spikes.
    pub fn worst(plan: &Plan) -> SpikeCounts {
        Self::all_spike(plan.inputs, plan.layers.iter().filter(|l| l.hidden).map(|l| l.outputs))
    }

    /// The counts when all `inputs` pixels and every neuron of the hidden
    /// layers (`hidden_outputs`, in order) spike.
    pub fn all_spike(inputs: usize, hidden_outputs: impl Iterator<Item = usize>) -> SpikeCounts {
        SpikeCounts {
            input_events: inputs as u64,
            input_positions: (0..inputs as u32).collect(),
            last_pixel_nonzero: true,
            hidden_events: hidden_outputs.map(|n| n as u64).collect(),
        }
    }

    /// Input events (S) and emitted beats (E) of each layer.
    fn per_layer(&self, plan: &Plan) -> Vec<(u64, u64)> {
        plan.layers
            .iter()
            .enumerate()
            .map(|(k, l)| {
                let s = if k == 0 { self.input_events } else { self.hidden_events[k - 1] };
                let e = if l.hidden { self.hidden_events[k] } else { l.outputs as u64 };
                (s, e)
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
/// idle layer 0: the encoder registers the event (+1), the input queue's
/// FIFO takes it (+1) and shows it at its head (+1).
const ARRIVAL_EDGES: i64 = 3;

/// The edge at which layer 0 starts its fire pass for an image whose first
/// pixel is taken at edge `base`, layer 0 being free to start an op from
/// edge `free`: event k (pixel i_k) starts its G accumulate ops at
/// `max(base + i_k + 3, start_{k-1} + G)`, and the fire pass starts at
/// `max(base + N_in + [last pixel > 0] + 2, start_{S-1} + G)` (the `last`
/// beat's arrival, or the end of the last event's ops).
fn layer0_fire_start(plan: &Plan, counts: &SpikeCounts, base: i64, free: i64) -> i64 {
    let g = plan.layers[0].blocks as i64;
    let next = counts.input_positions.iter().fold(free, |next, &i| (base + i64::from(i) + ARRIVAL_EDGES).max(next) + g);
    let last_arrival = base + plan.inputs as i64 + i64::from(counts.last_pixel_nonzero) + ARRIVAL_EDGES - 1;
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
            latency_formula: "F + G_0 + E_0 + LAT_0 + 3 + sum over layers k >= 1 of (G_k*(S_k + 1) + E_k + LAT_k + 4 + d_k) + 1, \
                 where layer 0 follows its events as they arrive (cut-through input queue): event j (pixel i_j) starts \
                 its G_0 accumulate ops at a_j = max(i_j + 3, a_(j-1) + G_0), and its fire pass starts at \
                 F = max(N_in + [last pixel > 0] + 2, a_(S_0 - 1) + G_0); S_k the layer's input events, E_k its output \
                 beats (hidden: neurons with q > 0; output: N_out), G_k its blocks, LAT_k = ceil(QOUT_W/FIRE_SPS) + 1 \
                 for hidden layers and 0 for the output layer, d_k = 1 if S_k = 0 else 0 (the store-and-forward spike \
                 queue); cycles from the edge taking the image's first pixel (edge 0) to the edge taking its result, one \
                 pixel per cycle, the pipeline idle"
                .into(),
            stage_formula: "encoder: N_in + [last pixel > 0]; layer k: G_k*(S_k + 1) + E_k + 1 (layer 0: plus the \
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
    let (_, e0) = per_layer[0];
    // From its fire pass on, layer 0 runs as its formula says (G + E + LAT + 4
    // cycles from the pass's first op to its `last` beat, both included).
    let fire = layer0_fire_start(plan, counts, 0, 0) as u64;
    let layer0 = fire + plan.layers[0].latency(0, e0) - 1;
    let rest: u64 =
        plan.layers[1..].iter().zip(&per_layer[1..]).map(|(l, &(s, e))| l.latency(s, e) + queue_delay(s)).sum();
    layer0 + rest + READOUT_CYCLES
}

/// Busy cycles per image of each stage: the encoder, then each layer.
pub fn stage_cycles(plan: &Plan, counts: &SpikeCounts) -> Vec<u64> {
    let mut stages = vec![plan.inputs as u64 + u64::from(counts.last_pixel_nonzero)];
    stages.extend(plan.layers.iter().zip(counts.per_layer(plan)).map(|(l, (s, e))| l.busy(s, e)));
    stages
}

/// The weight-bandwidth bound of one image: Σ_k S_k · G_k.
pub fn bandwidth_bound(plan: &Plan, counts: &SpikeCounts) -> u64 {
    plan.layers.iter().zip(counts.per_layer(plan)).map(|(l, (s, _))| l.bandwidth_bound(s)).sum()
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
}

/// Statistics of the model on `samples` (input codes, `inputs` values each).
pub fn stats(model: &Prepared, plan: &Plan, data: &str, codes: &[i64]) -> CycleStats {
    stats_of(plan, data, &counts(model, plan.inputs, codes))
}

/// The spike counts of `samples` (input codes, `inputs` values each), in parallel.
pub fn counts(model: &Prepared, inputs: usize, codes: &[i64]) -> Vec<SpikeCounts> {
    codes.par_chunks(inputs).map(|q0| SpikeCounts::of(model, q0)).collect()
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
        layer0_free = fire + plan.layers[0].blocks as i64 + per_layer[0].1 as i64 + 1;
        encoder_start += plan.inputs as i64 + i64::from(c.last_pixel_nonzero);
        finish[0] = layer0_free as u64;
        let mut ready = finish[0];
        for (k, layer) in plan.layers.iter().enumerate().skip(1) {
            let (s, e) = per_layer[k];
            finish[k] = ready.max(finish[k]) + layer.busy(s, e);
            ready = finish[k];
        }
        last_finish.push(ready);
    }
    if last_finish.len() < 2 {
        return counts.first().map_or(0.0, |c| stage_cycles(plan, c).into_iter().max().unwrap_or(0) as f64);
    }
    (last_finish[last_finish.len() - 1] - last_finish[0]) as f64 / (last_finish.len() - 1) as f64
}
