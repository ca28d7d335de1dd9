//! Continuous-time, event-driven simulation of the TTFS network in f64.
//!
//! This integrates the neuron dynamics literally, event by event (it does
//! not use the closed form): between two input spikes a neuron's potential
//! grows linearly with its current slope, and every input spike adds its
//! weight to the slope.
//!
//! - **b1 (paper 2)**, hidden neuron of window `[t_min, t_max]`, length B:
//!   phase 1 on `[t_min_prev, t_min)`: `dV/dt = Σ_j W_ij H(t − t_j)` from
//!   `V = 0`; phase 2: `dV/dt = 1`, fire when `V = ϑ = B − b` (the comparator
//!   is enabled from `t_min`); no crossing before `t_max` means no spike.
//!   So `x = t_max − t = b + V(t_min) = ReLU(b + Σ W x_in)`.
//! - **α/J (paper 1)**: `dV/dt = α + Σ_j J_ij H(t − t_j)` from `V = 0` at
//!   `t_min_prev`, `J = W/(1 − S)`, `ϑ = α(t_max − t_min_prev) + D`,
//!   `D = B·ΣJ − (α + ΣJ)·b`; the first crossing fires (at any time), and a
//!   neuron that has not fired by `t_max` is forced to fire there. Every
//!   input spikes (zero at `t_max` of its window; zero padding at `t_min`).
//! - **Output layer** (both): a constant current `b/(t_min − t_min_prev)`
//!   plus `Σ_j W_ij H(t − t_j)`; the logits are `V(t_min)`.
//!
//! A hidden activation that leaves its window (b1: `V(t_min) > ϑ`; α/J: a
//! crossing before `t_min`) is counted in [`ContinuousTrace::clipped`], so
//! any departure from the ReLU network is explained.

use crate::Prepared;
use crate::kernel::{Stage, Synapses};
use crate::relu::bias_of;
use ttfs_ir::NeuronModel;

/// Result of one continuous simulation.
#[derive(Clone, Debug)]
pub struct ContinuousTrace {
    /// Spike time of every neuron after layer k (`f64::INFINITY`: no spike);
    /// empty for the output layer.
    pub times: Vec<Vec<f64>>,
    /// Output potentials at `t_min` of the output layer.
    pub logits: Vec<f64>,
    /// Hidden activations that left their window.
    pub clipped: usize,
    /// Spikes of hidden (weight-layer) neurons.
    pub hidden_spikes: usize,
    /// Spikes delivered to synapses: Σ over input spikes of their fan-out.
    pub synaptic_events: usize,
}

/// Per-neuron state during phase 1.
#[derive(Clone, Copy)]
struct Neuron {
    v: f64,
    slope: f64,
    t_last: f64,
    fired: f64,
}

/// Simulates one sample, given its encoded input `x0 ∈ [0, 1]`.
pub fn run(model: &Prepared, x0: &[f64]) -> ContinuousTrace {
    let alpha = model.net.neuron == NeuronModel::Alpha;
    // Input spikes at 1 − x0; a b1 zero sends no spike.
    let mut times: Vec<f64> = x0.iter().map(|&x| if alpha || x > 0.0 { 1.0 - x } else { f64::INFINITY }).collect();
    let mut t_start = 0.0; // start of the current input window (t_min of the previous layer)
    let mut t_end = 1.0; // its end: t_min of the layer being computed
    let mut trace = ContinuousTrace {
        times: Vec::with_capacity(model.stages.len()),
        logits: Vec::new(),
        clipped: 0,
        hidden_spikes: 0,
        synaptic_events: 0,
    };
    for (k, stage) in model.stages.iter().enumerate() {
        match stage {
            Stage::Weights { layer, synapses, output } => {
                let params = model.net.layers[*layer].params().expect("weight layer");
                let mut events: Vec<(f64, usize)> =
                    times.iter().enumerate().filter(|(_, t)| t.is_finite()).map(|(j, &t)| (t, j)).collect();
                events.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                let n = synapses.outputs();
                if *output {
                    let len = t_end - t_start;
                    let mut neurons: Vec<Neuron> = (0..n)
                        .map(|o| Neuron {
                            v: 0.0,
                            slope: bias_of(synapses, params, o) / len,
                            t_last: t_start,
                            fired: f64::INFINITY,
                        })
                        .collect();
                    trace.synaptic_events += integrate(synapses, &params.weights, None, &events, &mut neurons, None);
                    trace.logits = neurons.iter().map(|s| s.v + s.slope * (t_end - s.t_last)).collect();
                    trace.times.push(Vec::new());
                    continue;
                }
                let window = params.window.expect("hidden window");
                let b_len = window.length();
                let out = if alpha {
                    let a = model.alpha[*layer].as_ref().expect("α/J parameters");
                    let theta: Vec<f64> = (0..n)
                        .map(|o| {
                            let c = synapses.channel(o);
                            let sum_j = a.sum_w[c] * a.kappa[c];
                            let d = b_len * sum_j - (1.0 + sum_j) * bias_of(synapses, params, o);
                            (window.t_max - t_start) + d
                        })
                        .collect();
                    let mut neurons = vec![Neuron { v: 0.0, slope: 1.0, t_last: t_start, fired: f64::INFINITY }; n];
                    trace.synaptic_events +=
                        integrate(synapses, &params.weights, Some(&a.kappa), &events, &mut neurons, Some(&theta));
                    (0..n)
                        .map(|o| {
                            let mut s = neurons[o];
                            if s.fired.is_infinite() {
                                cross(&mut s, theta[o], t_end);
                            }
                            if s.fired.is_infinite() {
                                s.v += s.slope * (t_end - s.t_last);
                                s.t_last = t_end;
                                // Zero-padding taps spike at t_min (x = 0).
                                s.slope += a.kappa[synapses.channel(o)] * a.pad_w.as_ref().map_or(0.0, |p| p[o]);
                                if s.slope > 0.0 {
                                    s.fired = t_end + (theta[o] - s.v) / s.slope;
                                }
                            }
                            if s.fired < t_end {
                                trace.clipped += 1;
                            }
                            s.fired.min(window.t_max)
                        })
                        .collect::<Vec<f64>>()
                } else {
                    let mut neurons = vec![Neuron { v: 0.0, slope: 0.0, t_last: t_start, fired: f64::INFINITY }; n];
                    trace.synaptic_events += integrate(synapses, &params.weights, None, &events, &mut neurons, None);
                    (0..n)
                        .map(|o| {
                            let s = neurons[o];
                            let v = s.v + s.slope * (t_end - s.t_last);
                            let theta = b_len - bias_of(synapses, params, o);
                            if v > theta {
                                trace.clipped += 1;
                            }
                            // Phase 2: slope 1 from V(t_min); comparator enabled from t_min.
                            let t = t_end + (theta - v).max(0.0);
                            if t < window.t_max { t } else { f64::INFINITY }
                        })
                        .collect()
                };
                trace.hidden_spikes += out.iter().filter(|t| t.is_finite()).count();
                t_start = t_end;
                t_end = window.t_max;
                times = out;
            }
            Stage::Pool(pool) => {
                // The first spike in the pool wins.
                times = (0..pool.outputs())
                    .map(|o| {
                        let mut first = f64::INFINITY;
                        pool.for_each_input(o, |j| first = first.min(times[j]));
                        first
                    })
                    .collect();
            }
            Stage::Flatten => {}
        }
        if k + 1 < model.stages.len() {
            trace.times.push(times.clone());
        }
    }
    trace
}

/// Checks for a threshold crossing of `s` between `s.t_last` and `t` and
/// records it; α/J neurons fire at the first crossing.
#[inline]
fn cross(s: &mut Neuron, theta: f64, t: f64) {
    if s.v >= theta {
        s.fired = s.t_last;
    } else if s.slope > 0.0 && s.v + s.slope * (t - s.t_last) >= theta {
        s.fired = s.t_last + (theta - s.v) / s.slope;
    }
}

/// Integrates every neuron through the time-ordered input events. Weights are
/// scaled per output channel by `kappa` (α/J: J = κ·W). With `theta`, fired
/// neurons ignore further input (infinite refractoriness). Returns the number
/// of synaptic events.
fn integrate(
    synapses: &Synapses,
    weights: &[f64],
    kappa: Option<&[f64]>,
    events: &[(f64, usize)],
    neurons: &mut [Neuron],
    theta: Option<&[f64]>,
) -> usize {
    let mut delivered = 0;
    for &(t, j) in events {
        synapses.for_each_fanout(j, |o, w| {
            delivered += 1;
            let s = &mut neurons[o];
            if let Some(theta) = theta {
                if s.fired.is_finite() {
                    return;
                }
                cross(s, theta[o], t);
                if s.fired.is_finite() {
                    return;
                }
            }
            s.v += s.slope * (t - s.t_last);
            s.t_last = t;
            s.slope += match kappa {
                Some(k) => k[synapses.channel(o)] * weights[w],
                None => weights[w],
            };
        });
    }
    delivered
}
