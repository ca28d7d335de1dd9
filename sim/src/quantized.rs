//! The integer network's closed form: `V = b + Σ W·q`, then
//! `q = clamp(floor(V/β), 0, T)` for hidden layers; the output potentials
//! are the logits. The tick-by-tick simulator must equal this exactly.

use crate::Prepared;
use crate::kernel::{Stage, Synapses};
use ttfs_ir::Quant;

/// Integer bias of neuron `o`.
#[inline]
pub(crate) fn bias_of(synapses: &Synapses, quant: &Quant, o: usize) -> i64 {
    match &quant.bias_map {
        Some(map) => map[o],
        None => quant.bias[synapses.channel(o)],
    }
}

/// Potentials `V = b + Σ W·q` of every neuron of a weight layer, in exact
/// `i64` arithmetic (assumes the validated widths: no overflow).
pub(crate) fn potentials(synapses: &Synapses, quant: &Quant, q: &[i64]) -> Vec<i64> {
    (0..synapses.outputs())
        .map(|o| {
            let mut acc = bias_of(synapses, quant, o);
            synapses.for_each_fanin(o, |j, w| acc += i64::from(quant.weights[w]) * q[j]);
            acc
        })
        .collect()
}

/// Result of the integer closed form for one sample.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntegerTrace {
    /// Layer k's output values: q for spiking layers and pools, V for the output layer.
    pub values: Vec<Vec<i64>>,
    /// Layer k's potentials at the end of phase 1 (weight layers only; empty otherwise).
    pub potentials: Vec<Vec<i64>>,
}

impl IntegerTrace {
    /// The logits (output layer potentials).
    pub fn logits(&self) -> &[i64] {
        self.values.last().expect("network has an output layer")
    }
}

/// The integer network on input code `q0`. Assumes a b1 network.
pub fn forward(model: &Prepared, q0: &[i64]) -> IntegerTrace {
    let mut values: Vec<Vec<i64>> = Vec::with_capacity(model.stages.len());
    let mut potentials = Vec::with_capacity(model.stages.len());
    let mut current: &[i64] = q0;
    for stage in &model.stages {
        let (next, pot) = match stage {
            Stage::Weights { layer, synapses, .. } => {
                let quant = model.net.layers[*layer].params().and_then(|p| p.quant.as_ref()).expect("integer layer");
                let v = self::potentials(synapses, quant, current);
                let q = match quant.fire {
                    Some(fire) => v.iter().map(|&p| p.div_euclid(fire.beta).clamp(0, i64::from(fire.ticks))).collect(),
                    None => v.clone(),
                };
                (q, v)
            }
            Stage::Pool(pool) => {
                let q = (0..pool.outputs())
                    .map(|o| {
                        let mut m = 0;
                        pool.for_each_input(o, |j| m = m.max(current[j]));
                        m
                    })
                    .collect();
                (q, Vec::new())
            }
            Stage::Flatten => (current.to_vec(), Vec::new()),
        };
        values.push(next);
        potentials.push(pot);
        current = values.last().expect("just pushed");
    }
    IntegerTrace { values, potentials }
}
