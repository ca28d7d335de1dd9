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
#[derive(Clone, Copy, Debug, PartialEq)]
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
    match synapses {
        Synapses::Dense { inputs, .. } => integrate_dense(*inputs, weights, kappa, events, neurons, theta),
        _ => integrate_events(synapses, weights, kappa, events, neurons, theta),
    }
}

/// [`integrate`] event by event, each event reaching its fan-out.
fn integrate_events(
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

/// [`integrate`] for a dense layer. Every event reaches every neuron, and a
/// neuron's state depends only on its own weights and the events, so each
/// neuron runs through all events in turn: the same arithmetic in the same
/// order as event by event (the results are identical), but reading the
/// neuron's weight row instead of a weight column strided across all rows
/// (a cache miss per synapse in a wide layer), with the state in registers.
fn integrate_dense(
    inputs: usize,
    weights: &[f64],
    kappa: Option<&[f64]>,
    events: &[(f64, usize)],
    neurons: &mut [Neuron],
    theta: Option<&[f64]>,
) -> usize {
    /// b1 neurons integrated side by side: independent chains of additions
    /// overlap instead of waiting on each other's latency.
    const GROUP: usize = 4;
    let rows = weights.chunks_exact(inputs.max(1));
    if theta.is_none() && kappa.is_none() {
        let total = neurons.len();
        let done = total - total % GROUP;
        let mut groups = neurons[..done].chunks_exact_mut(GROUP);
        let mut row_groups = weights.chunks_exact(inputs.max(1) * GROUP);
        for (group, block) in (&mut groups).zip(&mut row_groups) {
            let mut state: [Neuron; GROUP] = std::array::from_fn(|l| group[l]);
            let rows: [&[f64]; GROUP] = std::array::from_fn(|l| &block[l * inputs..(l + 1) * inputs]);
            for &(t, j) in events {
                for l in 0..GROUP {
                    let s = &mut state[l];
                    s.v += s.slope * (t - s.t_last);
                    s.t_last = t;
                    s.slope += rows[l][j];
                }
            }
            group.copy_from_slice(&state);
        }
        for (s, row) in neurons[done..].iter_mut().zip(rows.skip(done)) {
            let mut n = *s;
            for &(t, j) in events {
                n.v += n.slope * (t - n.t_last);
                n.t_last = t;
                n.slope += row[j];
            }
            *s = n;
        }
        return events.len() * neurons.len();
    }
    for (o, (s, row)) in neurons.iter_mut().zip(rows).enumerate() {
        let mut n = *s;
        for &(t, j) in events {
            if let Some(theta) = theta {
                if n.fired.is_finite() {
                    break;
                }
                cross(&mut n, theta[o], t);
                if n.fired.is_finite() {
                    break;
                }
            }
            n.v += n.slope * (t - n.t_last);
            n.t_last = t;
            // A dense neuron's output channel is the neuron itself.
            n.slope += match kappa {
                Some(k) => k[o] * row[j],
                None => row[j],
            };
        }
        *s = n;
    }
    events.len() * neurons.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The neuron-by-neuron dense path computes exactly what event by event
    /// does, for b1 (no threshold) and α/J (thresholds, κ) neurons.
    #[test]
    fn dense_rows_equal_events_bit_for_bit() {
        let mut seed = 12345u64;
        let mut next = move || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((seed >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        };
        let (inputs, outputs) = (37, 23);
        let synapses = Synapses::Dense { inputs, outputs };
        let weights: Vec<f64> = (0..inputs * outputs).map(|_| next()).collect();
        let mut events: Vec<(f64, usize)> = (0..inputs).filter(|j| j % 5 != 0).map(|j| (next().abs(), j)).collect();
        events.sort_by(|a, b| a.0.total_cmp(&b.0));
        let kappa: Vec<f64> = (0..outputs).map(|_| 1.0 + next().abs()).collect();
        let theta: Vec<f64> = (0..outputs).map(|_| next().abs()).collect();
        for (kappa, theta, slope) in [(None, None, 0.0), (Some(&kappa[..]), Some(&theta[..]), 1.0)] {
            let start = vec![Neuron { v: 0.0, slope, t_last: 0.0, fired: f64::INFINITY }; outputs];
            let (mut by_event, mut by_row) = (start.clone(), start);
            let a = integrate_events(&synapses, &weights, kappa, &events, &mut by_event, theta);
            let b = integrate_dense(inputs, &weights, kappa, &events, &mut by_row, theta);
            assert_eq!(a, b);
            let bits = |n: &[Neuron]| {
                n.iter().map(|s| [s.v, s.slope, s.t_last, s.fired].map(f64::to_bits)).collect::<Vec<_>>()
            };
            assert_eq!(bits(&by_event), bits(&by_row));
        }
    }
}
