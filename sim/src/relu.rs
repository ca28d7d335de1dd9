//! The ReLU network's forward pass (closed form, f64): the function every
//! spiking simulator must reproduce.

use crate::Prepared;
use crate::kernel::{Stage, Synapses};
use ttfs_ir::Params;

/// Pre-activation of every neuron of a weight layer: `b + Σ W·x`.
pub(crate) fn preactivation(synapses: &Synapses, params: &Params, x: &[f64]) -> Vec<f64> {
    let mut z = vec![0.0; synapses.outputs()];
    match synapses {
        Synapses::Dense { inputs, .. } => {
            for (o, (zo, row)) in z.iter_mut().zip(params.weights.chunks_exact(*inputs)).enumerate() {
                let dot: f64 = row.iter().zip(x).map(|(w, v)| w * v).sum();
                *zo = params.bias[o] + dot;
            }
        }
        Synapses::Conv(_) => {
            for (o, zo) in z.iter_mut().enumerate() {
                let mut acc = bias_of(synapses, params, o);
                synapses.for_each_fanin(o, |j, w| acc += params.weights[w] * x[j]);
                *zo = acc;
            }
        }
    }
    z
}

/// The float bias of neuron `o` (its position's entry when there is a bias map).
#[inline]
pub(crate) fn bias_of(synapses: &Synapses, params: &Params, o: usize) -> f64 {
    match &params.bias_map {
        Some(map) => map[o],
        None => params.bias[synapses.channel(o)],
    }
}

/// The ReLU network on encoded input `x0`.
///
/// Returns the activation after every layer (index k is layer k's output);
/// the last entry is the logits.
pub fn forward(model: &Prepared, x0: &[f64]) -> Vec<Vec<f64>> {
    let mut outs: Vec<Vec<f64>> = Vec::with_capacity(model.stages.len());
    let mut current: &[f64] = x0;
    for stage in &model.stages {
        let next = match stage {
            Stage::Weights { layer, synapses, output } => {
                let params = model.net.layers[*layer].params().expect("weight layer");
                let mut z = preactivation(synapses, params, current);
                if !output {
                    z.iter_mut().for_each(|v| *v = v.max(0.0));
                }
                z
            }
            Stage::Pool(pool) => (0..pool.outputs())
                .map(|o| {
                    let mut m = f64::NEG_INFINITY;
                    pool.for_each_input(o, |j| m = m.max(current[j]));
                    m
                })
                .collect(),
            Stage::Flatten => current.to_vec(),
        };
        outs.push(next);
        current = outs.last().expect("just pushed");
    }
    outs
}
