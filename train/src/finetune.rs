//! `ttfs finetune`: fine-tuning a converted b1 network with the hardware's
//! exact arithmetic in the forward pass.
//!
//! Every step quantizes the current float weights with the converter's own
//! quantize pass ([`ttfs_convert::quantize`]: integer weights, biases, β at
//! the bits asked, windows fixed) and runs the integer network on the
//! batch's input codes exactly as the discrete simulator does (integer
//! products in f64, exact below 2^53; `q = clamp(floor(V/β), 0, T)`; pools
//! pass the largest q), optionally moving every spike by Gaussian jitter of
//! σ ticks. Gradients reach the float weights straight through the
//! quantization: each layer's output is `a + (s·q − a)` with the second
//! term held constant, where `a = b + W·x` is the float pre-activation,
//! clamped to the window for hidden layers. The result is re-quantized by the
//! same pass, so the written description computes exactly what the last
//! forward pass did: its discrete accuracy equals the log's.

use crate::net::{Layer, SpikingNet};
use crate::optim::{Optimizer, State};
use crate::rng::SplitMix64;
use crate::stage::progress_bar;
use anyhow::{Context, Result, bail};
use candle_core::{Device, Result as CResult, Tensor};
use serde::Serialize;
use std::path::PathBuf;
use ttfs_convert::stage::refuse_existing;
use ttfs_ir::{Network, Quant};

/// The `ttfs finetune` request.
#[derive(Clone, Debug)]
pub struct Args {
    /// The converted network description.
    pub network: PathBuf,
    /// Training data (raw values, as for `sim`).
    pub data: PathBuf,
    /// Training labels.
    pub labels: PathBuf,
    /// Evaluation data (default: the training data).
    pub test_data: Option<PathBuf>,
    /// Evaluation labels.
    pub test_labels: Option<PathBuf>,
    /// Time bits (one, or one per spiking layer); default the network's.
    pub time_bits: Option<Vec<u32>>,
    /// Weight bits (one, or one per weight layer); default the network's.
    pub weight_bits: Option<Vec<u32>>,
    /// σ of the spike-time jitter in ticks during training (0: none).
    pub noise: f64,
    /// Epochs.
    pub epochs: usize,
    /// Mini-batch size.
    pub batch: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Seed of shuffles and jitter.
    pub seed: u64,
    /// Output description.
    pub output: PathBuf,
    /// Overwrite the output.
    pub force: bool,
    /// Draw progress bars.
    pub progress: bool,
}

/// What `ttfs finetune` reports.
#[derive(Serialize, Clone, Debug)]
pub struct Report {
    /// The description written.
    pub output: String,
    /// Time bits per spiking layer and weight bits per weight layer used.
    pub time_bits: Vec<u32>,
    /// Weight bits per weight layer.
    pub weight_bits: Vec<u32>,
    /// Evaluation set and its size.
    pub eval_set: String,
    /// Samples evaluated.
    pub eval_samples: usize,
    /// Float (ReLU) accuracy of the network before fine-tuning.
    pub accuracy_float_before: f64,
    /// Discrete accuracy at the requested bits before fine-tuning.
    pub accuracy_discrete_before: f64,
    /// Per epoch: mean loss and the discrete accuracy on the evaluation set
    /// by the training forward pass (no jitter).
    pub epochs: Vec<FinetuneEpoch>,
    /// Discrete accuracy of the written description by the discrete simulator.
    pub accuracy_discrete_after: f64,
    /// Float (ReLU) accuracy of the fine-tuned weights.
    pub accuracy_float_after: f64,
    /// With jitter: accuracy under jitter σ before and after (one draw per sample).
    pub jitter: Option<JitterFigures>,
    /// Tick-by-tick simulations that disagreed with the closed form (must be 0).
    pub discrete_closed_form_mismatches: Option<usize>,
    /// Spikes per hidden neuron after fine-tuning (discrete).
    pub spikes_per_neuron: Option<f64>,
}

/// One epoch of fine-tuning.
#[derive(Serialize, Clone, Copy, Debug)]
pub struct FinetuneEpoch {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean cross-entropy.
    pub loss: f64,
    /// Discrete accuracy on the evaluation set after the epoch.
    pub accuracy_discrete: f64,
    /// Seconds.
    pub seconds: f64,
}

/// Accuracy under spike-time jitter.
#[derive(Serialize, Clone, Copy, Debug)]
pub struct JitterFigures {
    /// σ in ticks.
    pub sigma: f64,
    /// Before fine-tuning.
    pub before: f64,
    /// After.
    pub after: f64,
}

/// The stream of jitter draws for evaluation (training draws per step).
const JITTER_EVAL_STREAM: u64 = 3;
const JITTER_TRAIN_STREAM: u64 = 2;

/// The network's own bits: the input's and each hidden layer's time bits,
/// each weight layer's weight bits.
fn own_bits(net: &Network) -> Result<(Vec<u32>, Vec<u32>)> {
    let mut time =
        vec![net.input.code.context("the network has no integer network; convert it with --neuron b1")?.time_bits];
    let mut weight = Vec::new();
    for l in &net.layers {
        if let Some(q) = l.params().and_then(|p| p.quant.as_ref()) {
            weight.push(q.weight_bits);
            if let Some(f) = q.fire {
                time.push(f.time_bits);
            }
        }
    }
    Ok((time, weight))
}

/// Integer input codes and labels of a data set, for `net`.
pub struct Coded {
    /// `count × n0` input codes q0 (as f64 integers).
    pub q0: Vec<f64>,
    /// Raw values in canonical layout (for the simulator and calibration).
    pub canonical: Vec<f64>,
    /// Labels.
    pub labels: Vec<usize>,
    /// Samples.
    pub count: usize,
    /// Values per sample.
    pub sample_len: usize,
}

fn coded(net: &Network, data: &std::path::Path, labels: &std::path::Path) -> Result<Coded> {
    let (d, canonical) = ttfs_data::load_samples(net, data, None)?;
    let labels = ttfs_data::load_labels_for(labels, data, d.count, d.total, quant_classes(net))?;
    let sample_len: usize = net.input.shape.iter().product();
    let q0 = canonical
        .chunks(sample_len)
        .flat_map(|s| ttfs_sim::encode::discrete(net, s).into_iter().map(|q| q as f64))
        .collect();
    Ok(Coded { q0, canonical, labels, count: d.count, sample_len })
}

/// `net` with `ours`' float weights, quantized at the bits.
fn quantized(base: &Network, ours: &SpikingNet, time_bits: &[u32], weight_bits: &[u32]) -> Result<Network> {
    let mut net = base.clone();
    ours.write_back(&mut net)?;
    ttfs_convert::quantize(&mut net, time_bits, weight_bits)?;
    for l in &net.layers {
        if let Some(q) = l.params().and_then(|p| p.quant.as_ref())
            && q.widths.max_abs_potential >= 1 << 53
        {
            bail!(
                "layer '{}': potentials reach {} (beyond 2^53), too wide for exact f64 arithmetic in fine-tuning",
                l.name(),
                q.widths.max_abs_potential
            );
        }
    }
    Ok(net)
}

fn f64s(values: impl IntoIterator<Item = f64>, dims: &[usize]) -> CResult<Tensor> {
    Tensor::from_vec(values.into_iter().collect::<Vec<f64>>(), dims, &Device::Cpu)
}

/// Moves every spike (q > 0) by a Gaussian number of ticks (rounded), to a
/// value in `0..=ticks` (a spike pushed past the window's end is lost).
fn jitter(q: &mut [f64], ticks: f64, sigma: f64, rng: &mut SplitMix64) {
    for v in q.iter_mut().filter(|v| **v > 0.0) {
        *v = (*v - (sigma * rng.normal()).round()).clamp(0.0, ticks);
    }
}

/// The training forward pass: the exact integer network on input codes
/// `q0` (`[B, n0]`), with optional jitter, and the straight-through float
/// path. Returns the logits (values: `σ_out·V_out`, exactly the integer
/// logits scaled) and the spikes of the hidden layers.
pub fn forward(
    ours: &SpikingNet,
    quant: &Network,
    q0: &[f64],
    batch: usize,
    noise: Option<(f64, &mut SplitMix64)>,
) -> CResult<(Tensor, f64)> {
    let mut noise = noise;
    let code = quant.input.code.expect("quantized");
    let mut q = q0.to_vec();
    if let Some((sigma, rng)) = noise.as_mut() {
        jitter(&mut q, f64::from(code.ticks), *sigma, rng);
    }
    let mut dims: Vec<usize> = std::iter::once(batch).chain(ours.input_shape.iter().copied()).collect();
    let s0 = 1.0 / f64::from(code.ticks);
    let mut x = f64s(q.iter().map(|v| v * s0), &dims)?;
    let mut spikes = 0.0;
    let mut quants = quant.layers.iter().filter_map(|l| l.params().and_then(|p| p.quant.as_ref()));
    for layer in &ours.layers {
        match layer {
            Layer::Pool { kernel, stride } => {
                let qt = f64s(q.iter().map(|v| -v), &dims)?;
                let pooled = crate::ops::first_spike_pool(&qt, *kernel, *stride)?.neg()?;
                dims = pooled.dims().to_vec();
                q = pooled.flatten_all()?.to_vec1::<f64>()?;
                x = crate::ops::first_spike_pool(&x.neg()?, *kernel, *stride)?.neg()?;
            }
            Layer::Dense { w, b, .. } | Layer::Conv { w, b, .. } => {
                let qn: &Quant =
                    quants.next().ok_or_else(|| candle_core::Error::Msg("missing integer layer".into()))?;
                let hidden = !matches!(layer, Layer::Dense { window: None, .. });
                let q_in = f64s(q.iter().copied(), &dims)?;
                let w_int = f64s(qn.weights.iter().map(|&v| f64::from(v)), w.as_tensor().dims())?;
                let (v, a) = match layer {
                    Layer::Conv { stride, pad, .. } => {
                        let co = b.as_tensor().dim(0)?;
                        let b_int = f64s(qn.bias.iter().map(|&v| v as f64), &[1, co, 1, 1])?;
                        let v = q_in.conv2d(&w_int, *pad, *stride, 1, 1)?.broadcast_add(&b_int)?;
                        let a = x
                            .conv2d(w.as_tensor(), *pad, *stride, 1, 1)?
                            .broadcast_add(&b.as_tensor().reshape((1, co, 1, 1))?)?;
                        (v, a)
                    }
                    _ => {
                        let (flat_q, flat_x) = if q_in.rank() > 2 {
                            (q_in.flatten_from(1)?, x.flatten_from(1)?)
                        } else {
                            (q_in, x.clone())
                        };
                        let b_int = f64s(qn.bias.iter().map(|&v| v as f64), &[qn.bias.len()])?;
                        let v = flat_q.matmul(&w_int.t()?)?.broadcast_add(&b_int)?;
                        let a = flat_x.matmul(&w.as_tensor().t()?)?.broadcast_add(b.as_tensor())?;
                        (v, a)
                    }
                };
                dims = v.dims().to_vec();
                let potentials = v.flatten_all()?.to_vec1::<f64>()?;
                match qn.fire {
                    Some(fire) if hidden => {
                        let (beta, ticks) = (fire.beta as f64, f64::from(fire.ticks));
                        q = potentials.iter().map(|&v| floor_div(v, beta).clamp(0.0, ticks)).collect();
                        if let Some((sigma, rng)) = noise.as_mut() {
                            jitter(&mut q, ticks, *sigma, rng);
                        }
                        spikes += q.iter().filter(|v| **v > 0.0).count() as f64;
                        let s = fire.activation_scale;
                        let a = a.clamp(0.0, ticks * s)?;
                        let exact = f64s(q.iter().map(|v| v * s), &dims)?;
                        x = straight_through(&exact, &a)?;
                    }
                    _ => {
                        let exact = f64s(potentials.iter().map(|v| v * qn.potential_scale), &dims)?;
                        return Ok((straight_through(&exact, &a)?, spikes));
                    }
                }
            }
        }
    }
    candle_core::bail!("the network has no output layer")
}

/// `exact` in value (bit for bit: `a − a` is exactly 0) with `a`'s
/// gradient: the straight-through estimator. (`a + (exact − a)` held
/// constant would round, and move argmaxes of near-tied logits.)
fn straight_through(exact: &Tensor, a: &Tensor) -> CResult<Tensor> {
    exact + (a - a.detach())?
}

/// `floor(v / beta)` for integers in f64, corrected for the rounding of the quotient.
fn floor_div(v: f64, beta: f64) -> f64 {
    let mut q = (v / beta).floor();
    if q * beta > v {
        q -= 1.0;
    } else if (q + 1.0) * beta <= v {
        q += 1.0;
    }
    q
}

/// Accuracy of the training forward pass over a coded set.
fn accuracy(ours: &SpikingNet, quant: &Network, set: &Coded, jitter_seed: Option<(f64, u64)>) -> Result<f64> {
    let mut right = 0;
    let mut rng = jitter_seed.map(|(_, seed)| SplitMix64::stream(seed, JITTER_EVAL_STREAM, 0));
    let all: Vec<usize> = (0..set.count).collect();
    for rows in all.chunks(crate::epoch::EVAL_BATCH) {
        let q0: Vec<f64> =
            rows.iter().flat_map(|&r| set.q0[r * set.sample_len..(r + 1) * set.sample_len].iter().copied()).collect();
        let labels: Vec<usize> = rows.iter().map(|&r| set.labels[r]).collect();
        let noise = match (&jitter_seed, rng.as_mut()) {
            (Some((sigma, _)), Some(g)) => Some((*sigma, g)),
            _ => None,
        };
        let (logits, _) = forward(ours, quant, &q0, rows.len(), noise)?;
        right += crate::epoch::correct(&logits.detach(), &labels)?;
    }
    Ok(right as f64 / set.count.max(1) as f64)
}

/// Runs `ttfs finetune`.
pub fn run(args: &Args) -> Result<Report> {
    refuse_existing(&args.output, args.force)?;
    if args.epochs == 0 || args.batch == 0 {
        bail!("--epochs and --batch must be at least 1");
    }
    if !(args.lr.is_finite() && args.lr > 0.0) {
        bail!("--lr {} must be a positive number", args.lr);
    }
    if !(args.noise.is_finite() && args.noise >= 0.0) {
        bail!("--noise {} must be a number of ticks ≥ 0", args.noise);
    }
    let base = ttfs_ir::load(&args.network).map_err(|e| anyhow::anyhow!("{e}"))?;
    let ours = SpikingNet::from_network(&base).map_err(|e| anyhow::anyhow!("{}: {e}", args.network.display()))?;
    let (own_time, own_weight) = own_bits(&base).with_context(|| args.network.display().to_string())?;
    let time_bits = args.time_bits.clone().unwrap_or(own_time);
    let weight_bits = args.weight_bits.clone().unwrap_or(own_weight);
    let mut quant = quantized(&base, &ours, &time_bits, &weight_bits)?;
    // The input codes at the requested input time bits (not the base's).
    let train = coded(&quant, &args.data, &args.labels)?;
    let eval = match (&args.test_data, &args.test_labels) {
        (Some(d), Some(l)) => coded(&quant, d, l)?,
        (None, None) => coded(&quant, &args.data, &args.labels)?,
        _ => bail!("--test-data and --test-labels go together"),
    };
    let eval_set = if args.test_data.is_some() { "test" } else { "training" };
    let float_before = float_accuracy(&base, &eval)?;
    let before = accuracy(&ours, &quant, &eval, None)?;
    let jitter_before =
        (args.noise > 0.0).then(|| accuracy(&ours, &quant, &eval, Some((args.noise, args.seed)))).transpose()?;
    eprintln!(
        "before: float {:.2} %, discrete at these bits {:.2} %{}",
        100.0 * float_before,
        100.0 * before,
        jitter_before.map_or(String::new(), |j| format!(", under jitter σ = {} ticks {:.2} %", args.noise, 100.0 * j))
    );
    let mut state = State::new(Optimizer::adam(args.lr), &ours.vars())?;
    let mut epochs = Vec::new();
    for e in 1..=args.epochs {
        let start = std::time::Instant::now();
        let order = SplitMix64::stream(args.seed, crate::epoch::SHUFFLE_STREAM, e as u64).permutation(train.count);
        let bar = progress_bar(args.progress, train.count.div_ceil(args.batch), e, args.epochs);
        let mut rng = SplitMix64::stream(args.seed, JITTER_TRAIN_STREAM, e as u64);
        let mut loss_sum = 0.0;
        let batches = order.len().div_ceil(args.batch);
        for (step, rows) in order.chunks(args.batch).enumerate() {
            let q0: Vec<f64> = rows
                .iter()
                .flat_map(|&r| train.q0[r * train.sample_len..(r + 1) * train.sample_len].iter().copied())
                .collect();
            let classes = quant_classes(&quant);
            let mut one_hot = vec![0.0; rows.len() * classes];
            for (i, &r) in rows.iter().enumerate() {
                one_hot[i * classes + train.labels[r]] = 1.0;
            }
            let noise = (args.noise > 0.0).then_some((args.noise, &mut rng));
            let (logits, _) = forward(&ours, &quant, &q0, rows.len(), noise)?;
            let loss = crate::epoch::cross_entropy(&logits, &f64s(one_hot, &[rows.len(), classes])?)?;
            let value = loss.to_scalar::<f64>()?;
            if !value.is_finite() {
                bail!(
                    "fine-tuning diverged at epoch {e}, step {} (loss {value}): lower --lr; nothing was written",
                    step + 1
                );
            }
            loss_sum += value;
            let grads = loss.backward()?;
            let vars = ours.vars();
            let g: Vec<Option<Tensor>> = vars.iter().map(|v| grads.get(v.as_tensor()).cloned()).collect();
            state.update(&vars, &g)?;
            quant = quantized(&base, &ours, &time_bits, &weight_bits)?;
            bar.set_message(format!("epoch {e}/{}: loss {:.4}", args.epochs, loss_sum / (step + 1) as f64));
            bar.inc(1);
        }
        bar.finish_and_clear();
        let acc = accuracy(&ours, &quant, &eval, None)?;
        let stats = FinetuneEpoch {
            epoch: e,
            loss: loss_sum / batches as f64,
            accuracy_discrete: acc,
            seconds: start.elapsed().as_secs_f64(),
        };
        eprintln!("{}", render_epoch(&stats, args.epochs));
        epochs.push(stats);
    }
    // The description: new float weights, then the passes from quantize on
    // (same bits, same windows), with the training data for the clipping counts.
    let mut out = base.clone();
    ours.write_back(&mut out)?;
    let options = ttfs_convert::Options {
        neuron: ttfs_ir::NeuronModel::B1,
        margin: base.calibration.margin,
        time_bits: time_bits.clone(),
        weight_bits: weight_bits.clone(),
        input_range: None,
        input_encoding: ttfs_convert::InputEncoding::Auto,
    };
    let cx = ttfs_convert::passes::PassContext {
        options: &options,
        calibration: Some(&train.canonical),
        calibration_name: &base.calibration.data,
        fresh: false,
    };
    ttfs_convert::passes::run_from(&mut out, "quantize", &cx, &mut |_, _| Ok(()))?;
    out.notes.push(format!(
        "fine-tuned by ttfs finetune for {} epochs at {:?} time bits and {:?} weight bits{}",
        args.epochs,
        time_bits,
        weight_bits,
        if args.noise > 0.0 { format!(" with spike-time jitter σ = {} ticks", args.noise) } else { String::new() }
    ));
    let sim = ttfs_sim::eval::evaluate_with(
        &ttfs_sim::Prepared::new(&out),
        ttfs_sim::Samples { values: &eval.canonical, sample_len: eval.sample_len, labels: Some(&eval.labels) },
        ttfs_sim::eval::EvalOptions { exhaustive: false },
    );
    let after = sim.accuracy_discrete.unwrap_or(0.0);
    let logged = epochs.last().map_or(before, |e| e.accuracy_discrete);
    if after != logged {
        bail!(
            "internal error: the written description simulates to {:.4} % but fine-tuning's forward pass gave {:.4} %; nothing was written",
            100.0 * after,
            100.0 * logged
        );
    }
    let jitter_after =
        (args.noise > 0.0).then(|| accuracy(&ours, &quant, &eval, Some((args.noise, args.seed)))).transpose()?;
    ttfs_ir::save(&out, &args.output, args.force)?;
    // Per layer, as the quantize pass spread them.
    let (time_bits, weight_bits) = own_bits(&out)?;
    Ok(Report {
        output: args.output.display().to_string(),
        time_bits,
        weight_bits,
        eval_set: eval_set.into(),
        eval_samples: eval.count,
        accuracy_float_before: float_before,
        accuracy_discrete_before: before,
        epochs,
        accuracy_discrete_after: after,
        accuracy_float_after: sim.accuracy_relu.unwrap_or(0.0),
        jitter: jitter_before.zip(jitter_after).map(|(b, a)| JitterFigures { sigma: args.noise, before: b, after: a }),
        discrete_closed_form_mismatches: sim.discrete_closed_form_mismatches,
        spikes_per_neuron: sim.spikes_per_neuron,
    })
}

/// The output layer's width (0 when the last layer is not dense, which
/// validation rules out).
fn quant_classes(net: &Network) -> usize {
    match net.layers.last() {
        Some(ttfs_ir::Layer::Dense(d)) => d.outputs,
        _ => 0,
    }
}

/// Float (ReLU) accuracy of the description's float layers.
fn float_accuracy(base: &Network, set: &Coded) -> Result<f64> {
    let model = ttfs_sim::Prepared::new(base);
    let summary = ttfs_sim::batch::Batch::new(&model).relu(ttfs_sim::Samples {
        values: &set.canonical,
        sample_len: set.sample_len,
        labels: None,
    });
    Ok(summary.classes.iter().zip(&set.labels).filter(|(c, l)| c == l).count() as f64 / set.count.max(1) as f64)
}

/// One line of the fine-tuning log.
pub fn render_epoch(s: &FinetuneEpoch, epochs: usize) -> String {
    format!(
        "epoch {}/{epochs}: loss {:.4}, discrete {:.2} %, {:.1} s",
        s.epoch,
        s.loss,
        100.0 * s.accuracy_discrete,
        s.seconds
    )
}

/// The text `ttfs finetune` prints.
pub fn render(r: &Report) -> String {
    // The epochs' lines went to stderr as they finished (and are in --json).
    let mut out = String::new();
    out.push_str(&format!(
        "wrote {}\n{} set ({} samples) at {:?} time bits, {:?} weight bits: discrete {:.2} % before, {:.2} % after (float {:.2} % before, {:.2} % after)\n",
        r.output,
        r.eval_set,
        r.eval_samples,
        r.time_bits,
        r.weight_bits,
        100.0 * r.accuracy_discrete_before,
        100.0 * r.accuracy_discrete_after,
        100.0 * r.accuracy_float_before,
        100.0 * r.accuracy_float_after,
    ));
    if let Some(j) = r.jitter {
        out.push_str(&format!(
            "under spike-time jitter σ = {} ticks: {:.2} % before, {:.2} % after\n",
            j.sigma,
            100.0 * j.before,
            100.0 * j.after
        ));
    }
    if let Some(m) = r.discrete_closed_form_mismatches {
        out.push_str(&format!("tick-by-tick simulation against the closed form: {m} mismatches\n"));
    }
    out
}
