//! Reference simulators of ttfs-hdl.
//!
//! - [`relu`]: the ReLU network (closed form, f64): the function to reproduce;
//! - [`continuous`]: the spiking network in continuous time, event driven,
//!   f64, for both neuron models (b1 and α/J): equals [`relu`] to rounding
//!   error while no activation leaves its window;
//! - [`quantized`]: the integer network's closed form;
//! - [`discrete`]: the integer network tick by tick, the golden model of
//!   the hardware: equals [`quantized`] exactly;
//! - [`batch`]: the ReLU network and both closed forms over many samples
//!   at once, as matrix products (calibration, `ttfs sim`);
//! - [`eval`]: all of them over a data set, in parallel, with the figures
//!   `ttfs sim` reports.
//!
//! Every simulator takes a [`Prepared`] network (validated, connectivity
//! resolved once) and one sample; [`batch`] takes [`Samples`].

pub mod batch;
pub mod continuous;
pub mod discrete;
pub mod encode;
pub mod eval;
pub mod kernel;
pub mod quantized;
pub mod relu;

use kernel::{Stage, Synapses};
use ttfs_ir::{Layer, Network, NeuronModel};

/// Per-layer constants of the α/J mapping (paper 1).
#[derive(Clone, Debug)]
pub struct AlphaLayer {
    /// S_c = Σ_j W_cj per output channel (all taps, padding included).
    pub sum_w: Vec<f64>,
    /// κ_c = 1/(1 − S_c): J = κ·W.
    pub kappa: Vec<f64>,
    /// Conv: per neuron, Σ of the weights on taps that fall in the padding.
    pub pad_w: Option<Vec<f64>>,
}

/// A network ready to simulate: connectivity resolved and per-layer
/// constants computed once.
#[derive(Clone, Debug)]
pub struct Prepared<'a> {
    /// The network (assumed validated).
    pub net: &'a Network,
    /// One stage per layer.
    pub stages: Vec<Stage>,
    /// Dense b1 layers: integer weights laid out for the tick-by-tick
    /// simulator's blocks of neurons.
    pub dense_columns: Vec<Option<discrete::DenseBlocks>>,
    /// α/J layers: the mapping constants.
    pub alpha: Vec<Option<AlphaLayer>>,
}

impl<'a> Prepared<'a> {
    /// Prepares a validated network for simulation.
    pub fn new(net: &'a Network) -> Self {
        let stages = kernel::stages(net);
        let mut dense_columns = vec![None; net.layers.len()];
        let mut alpha = vec![None; net.layers.len()];
        for stage in &stages {
            let Stage::Weights { layer, synapses, output } = stage else { continue };
            let params = net.layers[*layer].params().expect("weight layer");
            if let (Synapses::Dense { inputs, outputs }, Some(q)) = (synapses, &params.quant) {
                dense_columns[*layer] = Some(discrete::DenseBlocks::new(&q.weights, *inputs, *outputs));
            }
            if net.neuron == NeuronModel::Alpha && !output {
                let (_, row_len) = net.layers[*layer].weight_rows().expect("weight layer");
                let sum_w: Vec<f64> = params.weights.chunks(row_len).map(|r| r.iter().sum()).collect();
                let kappa = sum_w.iter().map(|s| 1.0 / (1.0 - s)).collect();
                let pad_w = matches!(net.layers[*layer], Layer::Conv2d(_)).then(|| {
                    (0..synapses.outputs())
                        .map(|o| {
                            let mut inside = 0.0;
                            synapses.for_each_fanin(o, |_, w| inside += params.weights[w]);
                            sum_w[synapses.channel(o)] - inside
                        })
                        .collect()
                });
                alpha[*layer] = Some(AlphaLayer { sum_w, kappa, pad_w });
            }
        }
        Prepared { net, stages, dense_columns, alpha }
    }

    /// Whether the network has an integer (discrete) form.
    pub fn is_discrete(&self) -> bool {
        self.net.neuron == NeuronModel::B1
    }
}

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

    /// Sample `i`'s values (assumes `i < count()`).
    pub fn sample(&self, i: usize) -> &[f64] {
        &self.values[i * self.sample_len..(i + 1) * self.sample_len]
    }
}

/// Index of the largest value; ties go to the lower index.
pub fn argmax<T: PartialOrd + Copy>(values: &[T]) -> usize {
    let mut best = 0;
    for (i, v) in values.iter().enumerate() {
        if *v > values[best] {
            best = i;
        }
    }
    best
}
