//! One epoch of training and the evaluation of the float network: the loss
//! (cross-entropy on the output potentials, plus the spike penalty), the
//! optimiser step, window adaptation, and the statistics the log prints.

use crate::data::TrainSet;
use crate::net::{Pass, SpikingNet};
use crate::optim::State;
use crate::rng::SplitMix64;
use candle_core::{D, Result as CResult, Tensor};
use rayon::prelude::*;

/// What one epoch measured.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EpochStats {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean cross-entropy over the epoch's batches.
    pub loss: f64,
    /// Training accuracy of the float network during the epoch (the batches
    /// as they were trained).
    pub train_accuracy: f64,
    /// Spikes per hidden neuron during the epoch (b1: positive potentials).
    pub spikes_per_neuron: f64,
    /// Float accuracy on the test set after the epoch, when one is given.
    pub test_accuracy: Option<f64>,
    /// Spikes that came before their window opened (b1: an activation
    /// longer than its window); window adaptation makes the next step's
    /// windows long enough.
    pub early_spikes: u64,
    /// Wall-clock seconds of the epoch (not written to checkpoints'
    /// comparisons: it differs run to run).
    pub seconds: f64,
}

/// Why an epoch stopped.
#[derive(Debug)]
pub enum StepError {
    /// The loss or a parameter became NaN or infinite.
    Diverged {
        /// 0-based step within the epoch.
        step: usize,
        /// The loss at that step.
        loss: f64,
    },
    /// A tensor operation failed (a bug, or memory).
    Tensor(candle_core::Error),
}

impl From<candle_core::Error> for StepError {
    fn from(e: candle_core::Error) -> Self {
        StepError::Tensor(e)
    }
}

/// Training hyper-parameters of one run.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// Mini-batch size.
    pub batch: usize,
    /// Seed of every random draw.
    pub seed: u64,
    /// λ: weight of the spike penalty (0: none).
    pub spike_penalty: f64,
    /// Train the ReLU twin instead ([`SpikingNet::relu_forward`], the same
    /// loop otherwise): the baseline of the training-speed benchmark.
    pub relu_twin: bool,
}

/// Stream identifiers for [`SplitMix64::stream`].
pub const SHUFFLE_STREAM: u64 = 1;

/// Cross-entropy of `logits` `[B, C]` against one-hot `targets`, averaged over the batch.
pub fn cross_entropy(logits: &Tensor, targets: &Tensor) -> CResult<Tensor> {
    let shifted = logits.broadcast_sub(&logits.max_keepdim(D::Minus1)?.detach())?;
    let log_sum = shifted.exp()?.sum_keepdim(D::Minus1)?.log()?;
    let log_p = shifted.broadcast_sub(&log_sum)?;
    let b = logits.dim(0)? as f64;
    log_p.mul(targets)?.sum_all()?.affine(-1.0 / b, 0.0)
}

/// The smooth spike count: per hidden neuron `x/(x + κ)` with `x = max(u, 0)`
/// the activation and `κ` a tenth of the layer's mean positive activation in
/// the batch (held constant for the gradient), so it is 0 for a silent
/// neuron and near 1 for one that fires clearly. Averaged over the batch and
/// the hidden neurons: an estimate of spikes per neuron whose gradient
/// pushes small activations to silence.
pub fn spike_surrogate(pass: &Pass) -> CResult<Tensor> {
    let mut total: Option<Tensor> = None;
    let mut neurons = 0usize;
    let batch = pass.logits.dim(0)?;
    for h in &pass.hidden {
        let x = h.u.relu()?;
        let positive = h.u.gt(0.0)?.to_dtype(candle_core::DType::F64)?.sum_all()?.to_scalar::<f64>()?;
        let sum = x.sum_all()?.to_scalar::<f64>()?;
        let kappa = (0.1 * sum / positive.max(1.0)).max(1e-12);
        let s = x.div(&x.affine(1.0, kappa)?)?.sum_all()?;
        total = Some(match total {
            Some(t) => (t + s)?,
            None => s,
        });
        neurons += h.u.elem_count() / batch.max(1);
    }
    match total {
        Some(t) => t.affine(1.0 / (batch * neurons.max(1)) as f64, 0.0),
        None => Tensor::new(0.0f64, &candle_core::Device::Cpu),
    }
}

/// Spikes (positive potentials), early spikes (before `t_min`: an
/// activation longer than the window) and each hidden layer's largest
/// activation, from one pass over the potentials.
pub fn activity(net: &SpikingNet, pass: &Pass) -> CResult<(f64, u64, Vec<f64>)> {
    let mut spikes = 0usize;
    let mut early = 0u64;
    let mut largest = Vec::with_capacity(pass.hidden.len());
    for h in &pass.hidden {
        let window = net.layers[h.layer].window().expect("hidden layer has a window");
        let length = window.t_max - window.t_min;
        let u = h.u.flatten_all()?.to_vec1::<f64>()?;
        let mut top = 0.0f64;
        for &v in &u {
            spikes += usize::from(v > 0.0);
            early += u64::from(v > length);
            top = top.max(v);
        }
        largest.push(top);
    }
    Ok((spikes as f64, early, largest))
}

/// Number of rows of `logits` whose argmax is the label.
///
/// Ties go to the lower class, as in the simulators (candle's argmax may
/// pick another of equal logits, which integer logits often have).
pub fn correct(logits: &Tensor, labels: &[usize]) -> CResult<usize> {
    let rows = logits.to_vec2::<f64>()?;
    Ok(rows.iter().zip(labels).filter(|(row, l)| ttfs_sim::argmax(row) == **l).count())
}

/// Samples per shard of a mini-batch (a fixed number, so that results do
/// not depend on the machine's threads).
pub const SHARD: usize = 16;

/// What one shard of a mini-batch computed.
struct Shard {
    /// Its share of the batch's loss (penalty included).
    loss: f64,
    /// Its share of the batch's cross-entropy.
    cross_entropy: f64,
    /// Gradients of the variables, in [`SpikingNet::vars`] order.
    grads: Vec<Option<Tensor>>,
    correct: usize,
    spikes: f64,
    early: u64,
    neurons: f64,
    largest: Vec<f64>,
}

/// Forward and backward on the rows `rows` of a batch of `batch` samples.
fn shard(net: &SpikingNet, data: &TrainSet, settings: &Settings, rows: &[usize], batch: usize) -> CResult<Shard> {
    let (x, targets, labels) = data.batch(rows)?;
    let pass = if settings.relu_twin { net.relu_forward(&x)? } else { net.forward(&x)? };
    let share = rows.len() as f64 / batch as f64;
    let ce = cross_entropy(&pass.logits, &targets)?.affine(share, 0.0)?;
    let loss = if settings.spike_penalty > 0.0 {
        (&ce + spike_surrogate(&pass)?.affine(settings.spike_penalty * share, 0.0)?)?
    } else {
        ce.clone()
    };
    let grads = loss.backward()?;
    let (spikes, early, largest) = activity(net, &pass)?;
    Ok(Shard {
        loss: loss.to_scalar::<f64>()?,
        cross_entropy: ce.to_scalar::<f64>()?,
        grads: net.vars().iter().map(|v| grads.get(v.as_tensor()).cloned()).collect(),
        correct: correct(&pass.logits, &labels)?,
        spikes,
        early,
        neurons: (SpikingNet::hidden_neurons(&pass) * rows.len()) as f64,
        largest,
    })
}

/// Trains one epoch (`epoch` is 1-based; its shuffle is drawn from the
/// seed and the epoch number alone).
pub fn epoch(
    net: &mut SpikingNet,
    state: &mut State,
    data: &TrainSet,
    settings: &Settings,
    epoch: usize,
    mut progress: impl FnMut(usize, usize, &EpochStats),
) -> Result<EpochStats, StepError> {
    let start = std::time::Instant::now();
    let order = SplitMix64::stream(settings.seed, SHUFFLE_STREAM, epoch as u64).permutation(data.count);
    let batches = data.count.div_ceil(settings.batch);
    let mut stats = EpochStats { epoch, ..EpochStats::default() };
    let (mut loss_sum, mut right, mut spikes, mut neurons) = (0.0, 0usize, 0.0, 0.0);
    for (step, rows) in order.chunks(settings.batch).enumerate() {
        // The mini-batch's shards run forward and backward in parallel;
        // their gradients are summed in shard order, so the result does not
        // depend on the number of threads.
        let shards: Vec<CResult<Shard>> = rows
            .chunks(SHARD)
            .map(|r| (r, rows.len()))
            .collect::<Vec<_>>()
            .par_iter()
            .map(|&(r, n)| shard(net, data, settings, r, n))
            .collect();
        let shards: Vec<Shard> = shards.into_iter().collect::<CResult<_>>()?;
        let value: f64 = shards.iter().map(|s| s.loss).sum();
        if !value.is_finite() {
            return Err(StepError::Diverged { step, loss: value });
        }
        let vars = net.vars();
        let mut g: Vec<Option<Tensor>> = vec![None; vars.len()];
        for s in &shards {
            for (total, part) in g.iter_mut().zip(&s.grads) {
                *total = match (total.take(), part) {
                    (Some(t), Some(p)) => Some((t + p)?),
                    (t, p) => t.or_else(|| p.clone()),
                };
            }
        }
        // A non-finite gradient shows in the next step's loss.
        state.update(&vars, &g)?;
        let mut largest = vec![0.0f64; shards.first().map_or(0, |s| s.largest.len())];
        for s in &shards {
            largest.iter_mut().zip(&s.largest).for_each(|(l, x)| *l = l.max(*x));
            loss_sum += s.cross_entropy;
            right += s.correct;
            spikes += s.spikes;
            stats.early_spikes += s.early;
            neurons += s.neurons;
        }
        net.adapt_windows_to(&largest);
        stats.loss = loss_sum / (step + 1) as f64;
        let seen = (step * settings.batch + rows.len()).min(data.count);
        stats.train_accuracy = right as f64 / seen as f64;
        stats.spikes_per_neuron = spikes / neurons.max(1.0);
        progress(step + 1, batches, &stats);
    }
    stats.seconds = start.elapsed().as_secs_f64();
    Ok(stats)
}

/// Float accuracy and spikes per hidden neuron of the network on `data`.
pub fn evaluate(net: &SpikingNet, data: &TrainSet) -> CResult<(f64, f64)> {
    let mut right = 0;
    let (mut spikes, mut neurons) = (0.0, 0.0);
    let all: Vec<usize> = (0..data.count).collect();
    for rows in all.chunks(EVAL_BATCH) {
        let (x, _, labels) = data.batch(rows)?;
        let pass = net.forward(&x.detach())?;
        right += correct(&pass.logits, &labels)?;
        spikes += activity(net, &pass)?.0;
        neurons += (SpikingNet::hidden_neurons(&pass) * rows.len()) as f64;
    }
    Ok((right as f64 / data.count.max(1) as f64, spikes / neurons.max(1.0)))
}

/// Samples per forward pass when evaluating.
pub const EVAL_BATCH: usize = 500;
