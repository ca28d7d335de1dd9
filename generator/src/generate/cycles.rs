//! The generator's cycle model of a whole design: cycles per inference as a
//! function of one image's spike counts, its worst case, the initiation
//! interval, and statistics over a data set against the weight-bandwidth
//! bound. The per-layer terms are `ttfs_dense_layer`'s checked formula; the
//! constants of the top level (encoder, queues, readout) are those of the
//! wiring in `rtl-templates/top/top.v`, and the generated test bench checks
//! the whole formula image by image (tests/generate.rs).

use super::plan::Plan;
use rayon::prelude::*;
use serde::Serialize;
use ttfs_sim::{Prepared, quantized};

/// Spike counts of one image, the model's only input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SpikeCounts {
    /// Nonzero pixels (input events).
    pub input_events: u64,
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
        SpikeCounts {
            input_events: q0.iter().filter(|&&q| q > 0).count() as u64,
            last_pixel_nonzero: q0.last().is_some_and(|&q| q > 0),
            hidden_events: trace.values[..layers - 1]
                .iter()
                .map(|v| v.iter().filter(|&&q| q > 0).count() as u64)
                .collect(),
        }
    }

    /// The worst case of a plan: every pixel and every neuron spikes.
    pub fn worst(plan: &Plan) -> SpikeCounts {
        SpikeCounts {
            input_events: plan.inputs as u64,
            last_pixel_nonzero: true,
            hidden_events: plan.layers.iter().filter(|l| l.hidden).map(|l| l.outputs as u64).collect(),
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

/// Fixed cycles of the top level outside the layers: the edge that takes
/// the first pixel is cycle 0; the encoder's `last` beat enters queue 0 at
/// N_in (+1 when the last pixel spikes); the readout's result is taken the
/// cycle after the output layer's `last` beat (the +1 here).
const READOUT_CYCLES: u64 = 1;

/// The model of one design.
#[derive(Clone, Debug, Serialize)]
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
            latency_formula: "N_in + [last pixel > 0] + sum over layers k of (G_k*(S_k + 1) + E_k + LAT_k + 4 + d_k) + 1, \
                 with S_k the layer's input events, E_k its output beats (hidden: neurons with q > 0; output: N_out), \
                 G_k its blocks, LAT_k = ceil(QOUT_W/FIRE_SPS) + 1 for hidden layers and 0 for the output layer, \
                 d_k = 1 if S_k = 0 else 0 (the spike queue); cycles from the edge taking the image's first pixel to the edge taking its result, \
                 one pixel per cycle, the pipeline idle"
                .into(),
            stage_formula: "encoder: N_in + [last pixel > 0]; layer k: G_k*(S_k + 1) + E_k + 1"
                .into(),
            latency_worst_case: latency(plan, &worst),
            initiation_interval_worst_case: stages.iter().copied().max().unwrap_or(0),
            stage_worst_case: stages,
        }
    }
}

/// Latency of one image (see [`CycleModel::latency_formula`]).
pub fn latency(plan: &Plan, counts: &SpikeCounts) -> u64 {
    let encoder = plan.inputs as u64 + u64::from(counts.last_pixel_nonzero);
    let layers: u64 =
        plan.layers.iter().zip(counts.per_layer(plan)).map(|(l, (s, e))| l.latency(s, e) + queue_delay(s)).sum();
    encoder + layers + READOUT_CYCLES
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
#[derive(Clone, Debug, Serialize)]
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
    let counts: Vec<SpikeCounts> = codes.par_chunks(plan.inputs).map(|q0| SpikeCounts::of(model, q0)).collect();
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
        initiation_interval_mean: streaming_interval(&stages),
        layer_cycles_mean,
        bound_mean,
        ratio_to_bound: if bound_mean > 0.0 { layer_cycles_mean / bound_mean } else { 0.0 },
    }
}

/// The model's mean cycles between results when the images of `counts`
/// stream back to back.
pub fn initiation_interval(plan: &Plan, counts: &[SpikeCounts]) -> f64 {
    let stages: Vec<Vec<u64>> = counts.iter().map(|c| stage_cycles(plan, c)).collect();
    streaming_interval(&stages)
}

/// Mean cycles between finished images when images stream back to back:
/// stage k finishes image i at `max(f[k-1][i], f[k][i-1]) + s[k][i]`.
fn streaming_interval(stages: &[Vec<u64>]) -> f64 {
    if stages.len() < 2 {
        return stages.first().map_or(0.0, |s| s.iter().copied().max().unwrap_or(0) as f64);
    }
    let width = stages[0].len();
    let mut finish = vec![0u64; width];
    let mut last_finish = Vec::with_capacity(stages.len());
    for image in stages {
        let mut ready = 0;
        for (k, &s) in image.iter().enumerate() {
            finish[k] = ready.max(finish[k]) + s;
            ready = finish[k];
        }
        last_finish.push(ready);
    }
    (last_finish[last_finish.len() - 1] - last_finish[0]) as f64 / (last_finish.len() - 1) as f64
}
