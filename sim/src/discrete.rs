//! Tick-by-tick simulation of the integer TTFS network: the golden model of
//! the hardware (`docs/net-json.md`, "discrete semantics").
//!
//! A value q of a T-tick window travels as one spike at tick `T − q`
//! (q = 0: no spike). A hidden neuron with integer weights W, bias b and
//! scale β:
//! - phase 1, ticks `k = 0 .. T_in − 1` of the input window: `I += Σ W_ij`
//!   over the inputs spiking at k, then `V += I` (from `I = 0`, `V = b`);
//! - phase 2, ticks `k = 0 .. T − 1` of its own window: the potential at
//!   tick k is `V + k·β` (compare first, then rise); it fires at the first k
//!   with `V + k·β ≥ T·β`, and not at all if there is none.
//!
//! Max pooling passes the first spike of each pool. The output layer stops
//! after phase 1: its potentials are the logits.

use crate::Prepared;
use crate::kernel::{Stage, Synapses};
use crate::quantized::bias_of;

/// Tick value meaning "no spike".
pub const NO_SPIKE: u32 = u32::MAX;

/// Result of one tick-by-tick simulation.
#[derive(Clone, Debug, Default)]
pub struct DiscreteTrace {
    /// Spike tick of every neuron after layer k ([`NO_SPIKE`]: none); empty
    /// for the output layer.
    pub ticks: Vec<Vec<u32>>,
    /// Potentials at the end of phase 1 of every weight layer (empty for
    /// pools and flatten).
    pub potentials: Vec<Vec<i64>>,
    /// The output potentials.
    pub logits: Vec<i64>,
    /// Hidden neurons whose potential exceeded the window (`floor(V/β) > T`).
    pub clipped: usize,
    /// Spikes of hidden (weight-layer) neurons.
    pub hidden_spikes: usize,
    /// Spikes delivered to synapses: Σ over input spikes of their fan-out.
    pub synaptic_events: usize,
    /// Per layer: the largest |I| and |V| seen (only with `check`; else 0).
    pub extremes: Vec<(i64, i64)>,
}

/// Simulates one sample from its input code `q0`, tick by tick.
///
/// With `check`, records the largest register magnitudes in
/// [`DiscreteTrace::extremes`] (slower). Assumes a b1 network.
pub fn run(model: &Prepared, q0: &[i64], check: bool) -> DiscreteTrace {
    let t0 = model.net.input.code.expect("integer input coding").ticks;
    let mut ticks: Vec<u32> = q0.iter().map(|&q| if q > 0 { t0 - q as u32 } else { NO_SPIKE }).collect();
    let mut ticks_in = t0;
    let mut trace = DiscreteTrace::default();
    let mut scratch = Scratch::default();
    for (k, stage) in model.stages.iter().enumerate() {
        let mut potentials = Vec::new();
        let mut extremes = (0, 0);
        match stage {
            Stage::Weights { layer, .. } => {
                let step = weight_layer(model, k, &ticks, ticks_in, check, &mut scratch);
                trace.synaptic_events += step.synaptic_events;
                extremes = step.extremes;
                potentials = step.potentials;
                match step.ticks {
                    None => {
                        trace.logits = potentials.clone();
                        ticks = Vec::new();
                    }
                    Some(out) => {
                        let fire =
                            model.net.layers[*layer].params().and_then(|p| p.quant.as_ref()).and_then(|q| q.fire);
                        let fire = fire.expect("hidden layer fires");
                        trace.clipped +=
                            potentials.iter().filter(|&&v| v.div_euclid(fire.beta) > i64::from(fire.ticks)).count();
                        trace.hidden_spikes += out.iter().filter(|&&t| t != NO_SPIKE).count();
                        ticks = out;
                        ticks_in = fire.ticks;
                    }
                }
            }
            Stage::Pool(pool) => {
                ticks = (0..pool.outputs())
                    .map(|o| {
                        let mut first = NO_SPIKE;
                        pool.for_each_input(o, |j| first = first.min(ticks[j]));
                        first
                    })
                    .collect();
            }
            Stage::Flatten => {}
        }
        trace.potentials.push(potentials);
        trace.extremes.push(extremes);
        if k + 1 < model.stages.len() {
            trace.ticks.push(ticks.clone());
        }
    }
    trace
}

/// What one weight layer did for one sample.
#[derive(Clone, Debug, Default)]
pub struct LayerStep {
    /// Potentials at the end of phase 1.
    pub potentials: Vec<i64>,
    /// Spike ticks of the layer's neurons (`None` for the output layer).
    pub ticks: Option<Vec<u32>>,
    /// Synapses reached by input spikes.
    pub synaptic_events: usize,
    /// Largest |I| and |V| (only with `check`).
    pub extremes: (i64, i64),
}

/// Runs stage `stage` (a weight layer) tick by tick on input spike ticks
/// `ticks` of a `ticks_in`-tick window. Any tick pattern may be given, so
/// tests can drive a layer with its worst-case inputs.
///
/// Assumes every tick is below `ticks_in` or [`NO_SPIKE`], and `ticks.len()`
/// is the layer's input size.
pub fn run_weight_layer(model: &Prepared, stage: usize, ticks: &[u32], ticks_in: u32, check: bool) -> LayerStep {
    weight_layer(model, stage, ticks, ticks_in, check, &mut Scratch::default())
}

fn weight_layer(
    model: &Prepared,
    stage: usize,
    ticks: &[u32],
    ticks_in: u32,
    check: bool,
    scratch: &mut Scratch,
) -> LayerStep {
    let Stage::Weights { layer, synapses, output } = &model.stages[stage] else {
        panic!("stage {stage} is not a weight layer");
    };
    let quant = model.net.layers[*layer].params().and_then(|p| p.quant.as_ref()).expect("integer layer");
    let n = synapses.outputs();
    let mut step = LayerStep::default();
    let mut v: Vec<i64> = (0..n).map(|o| bias_of(synapses, quant, o)).collect();
    scratch.bucket(ticks, ticks_in);
    let mut current = vec![0i64; n];
    let columns = model.dense_columns[*layer].as_deref();
    // Phase 1: at each tick, add the weights of that tick's spikes to I, then V += I.
    for tick in 0..ticks_in as usize {
        for &j in scratch.spiking_at(tick) {
            step.synaptic_events += add_fanout(synapses, &quant.weights, columns, j as usize, &mut current);
        }
        for (vo, io) in v.iter_mut().zip(&current) {
            *vo += io;
        }
        if check {
            step.extremes.0 = step.extremes.0.max(max_abs(&current));
            step.extremes.1 = step.extremes.1.max(max_abs(&v));
        }
    }
    if check {
        step.extremes.1 = step.extremes.1.max(max_abs(&v));
    }
    if !output {
        // Phase 2: the potential at tick k is V + k·β (compare first, then rise).
        let fire = quant.fire.expect("hidden layer fires");
        let threshold = i64::from(fire.ticks) * fire.beta;
        let mut out = vec![NO_SPIKE; n];
        let mut p = v.clone();
        for tick in 0..fire.ticks {
            for (po, to) in p.iter_mut().zip(out.iter_mut()) {
                let waiting = *to == NO_SPIKE;
                if waiting && *po >= threshold {
                    *to = tick;
                } else if waiting {
                    *po += fire.beta;
                }
            }
            if check {
                step.extremes.1 = step.extremes.1.max(max_abs(&p));
            }
        }
        step.ticks = Some(out);
    }
    step.potentials = v;
    step
}

/// Adds input `j`'s weights to the currents of its fan-out; returns the
/// number of synapses reached.
#[inline]
fn add_fanout(synapses: &Synapses, weights: &[i32], columns: Option<&[i32]>, j: usize, current: &mut [i64]) -> usize {
    match (synapses, columns) {
        (Synapses::Dense { outputs, .. }, Some(columns)) => {
            let column = &columns[j * outputs..(j + 1) * outputs];
            for (i, &w) in current.iter_mut().zip(column) {
                *i += i64::from(w);
            }
            *outputs
        }
        _ => {
            let mut n = 0;
            synapses.for_each_fanout(j, |o, w| {
                current[o] += i64::from(weights[w]);
                n += 1;
            });
            n
        }
    }
}

fn max_abs(values: &[i64]) -> i64 {
    values.iter().map(|v| v.abs()).max().unwrap_or(0)
}

/// Inputs grouped by spike tick (a counting sort, reused across layers).
#[derive(Default)]
struct Scratch {
    starts: Vec<u32>,
    order: Vec<u32>,
}

impl Scratch {
    fn bucket(&mut self, ticks: &[u32], window: u32) {
        self.starts.clear();
        self.starts.resize(window as usize + 2, 0);
        for &t in ticks {
            if t != NO_SPIKE {
                self.starts[t as usize + 2] += 1;
            }
        }
        for i in 2..self.starts.len() {
            self.starts[i] += self.starts[i - 1];
        }
        let spikes = self.starts[self.starts.len() - 1] as usize;
        self.order.clear();
        self.order.resize(spikes, 0);
        for (j, &t) in ticks.iter().enumerate() {
            if t != NO_SPIKE {
                let slot = &mut self.starts[t as usize + 1];
                self.order[*slot as usize] = j as u32;
                *slot += 1;
            }
        }
    }

    fn spiking_at(&self, tick: usize) -> &[u32] {
        &self.order[self.starts[tick] as usize..self.starts[tick + 1] as usize]
    }
}
