//! `ttfs gradients`: paper 2's analysis (`seeds.md` C.1). For a deep MLP,
//! each layer's SNN weight gradient is compared with the gradient of the
//! equivalent ReLU network (norm ratio and cosine similarity), at
//! initialisation and during training, for three set-ups:
//!
//! * `alpha-ordinary`: paper 1's α/J neuron, J drawn like ANN weights, α = 1;
//! * `alpha-slope`: α/J with α_i = 1 − Σ_j J_ij, so every slope starts at 1;
//! * `b1`: paper 2's constant-slope neuron.
//!
//! The equivalent ReLU network of an α/J layer is `W = J/(α + ΣJ)` and
//! `b = (B·ΣJ − D)/(α + ΣJ)` with `D = ϑ − α·(t_max − t_min_prev)`
//! (`seeds.md` B.1 solved for W and b); of a b1 layer, its own W and D.
//! The output layer reads potentials with ordinary weights in every set-up.

use crate::epoch::cross_entropy;
use crate::net::{AlphaInit, Hidden, Layer, Neuron, SpikingNet, tensor};
use crate::optim::{Optimizer, State};
use crate::rng::SplitMix64;
use crate::spec::{Arch, LayerSpec};
use anyhow::{Result, bail};
use candle_core::{Result as CResult, Tensor, Var};
use serde::Serialize;
use std::path::PathBuf;

/// The `ttfs gradients` request.
#[derive(Clone, Debug)]
pub struct Args {
    /// Data (any data set; the MLP reads the flattened samples).
    pub data: PathBuf,
    /// Labels.
    pub labels: PathBuf,
    /// Samples used (the first N).
    pub count: usize,
    /// Hidden layers of the main analysis.
    pub depth: usize,
    /// Neurons per hidden layer.
    pub width: usize,
    /// Depths for the spread-with-depth table.
    pub depths: Vec<usize>,
    /// Training steps (snapshots at 0, half way and the end).
    pub steps: u64,
    /// Mini-batch size.
    pub batch: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Seed.
    pub seed: u64,
    /// Where to write the SVG plot.
    pub svg: Option<PathBuf>,
    /// Overwrite the SVG.
    pub force: bool,
}

/// One layer's comparison.
#[derive(Serialize, Clone, Copy, Debug)]
pub struct LayerFigure {
    /// 1-based weight layer (the last is the output layer).
    pub layer: usize,
    /// ‖∂L/∂J‖ / ‖∂L/∂W‖ (b1: ‖∂L/∂W_snn‖ / ‖∂L/∂W_relu‖).
    pub norm_ratio: f64,
    /// Cosine similarity of the two gradients.
    pub cosine: f64,
    /// Hidden layers: ‖∂L/∂t‖ / ‖∂L/∂x‖, the error signal reaching the
    /// layer's spike times against the ReLU activations' (the vanishing or
    /// exploding factor accumulated from the output down to this layer).
    pub error_norm_ratio: Option<f64>,
    /// Hidden layers: cosine of −∂L/∂t and ∂L/∂x (`t = t_max − x`).
    pub error_cosine: Option<f64>,
}

/// The comparison at one training step.
#[derive(Serialize, Clone, Debug)]
pub struct Snapshot {
    /// Optimiser steps taken.
    pub step: u64,
    /// Per weight layer.
    pub layers: Vec<LayerFigure>,
    /// Largest over smallest error-signal norm ratio across the hidden layers.
    pub spread: f64,
    /// Loss of the SNN on the analysis batch.
    pub loss: f64,
}

/// One set-up's analysis.
#[derive(Serialize, Clone, Debug)]
pub struct SetupReport {
    /// `alpha-ordinary`, `alpha-slope` or `b1`.
    pub setup: String,
    /// Hidden layers.
    pub depth: usize,
    /// Snapshots during training.
    pub snapshots: Vec<Snapshot>,
}

/// What `ttfs gradients` reports.
#[derive(Serialize, Clone, Debug)]
pub struct Report {
    /// The main analysis (depth `depth`), per set-up.
    pub setups: Vec<SetupReport>,
    /// Spread of the norm ratios at initialisation per set-up and depth.
    pub spread_by_depth: Vec<(String, usize, f64)>,
    /// The SVG written, if any.
    pub svg: Option<String>,
}

const SETUPS: [(&str, Neuron); 3] = [
    ("alpha-ordinary", Neuron::Alpha(AlphaInit::Ordinary)),
    ("alpha-slope", Neuron::Alpha(AlphaInit::SlopeNormalised)),
    ("b1", Neuron::B1),
];

/// The equivalent ReLU parameters of every weight layer of `net`, as fresh variables.
fn relu_equivalent(net: &SpikingNet) -> CResult<Vec<(Var, Var)>> {
    let mut out = Vec::new();
    let mut t_min_prev = 0.0;
    let mut t_min = 1.0;
    for layer in &net.layers {
        let Layer::Dense { w, b, window } = layer else { candle_core::bail!("dense layers only") };
        let (wv, bv) = match (window, net.neuron) {
            (Some(win), Neuron::Alpha(_)) => {
                let (m, n) = w.as_tensor().dims2()?;
                let j = w.as_tensor().flatten_all()?.to_vec1::<f64>()?;
                let p = b.as_tensor().flatten_all()?.to_vec1::<f64>()?;
                let length = win.t_max - win.t_min;
                let mut wv = Vec::with_capacity(m * n);
                let mut bv = Vec::with_capacity(m);
                for i in 0..m {
                    let row = &j[i * n..(i + 1) * n];
                    let sum: f64 = row.iter().sum();
                    let (alpha, theta) = (p[2 * i], p[2 * i + 1]);
                    let slope = alpha + sum;
                    let d = theta - alpha * (win.t_max - t_min_prev);
                    wv.extend(row.iter().map(|v| v / slope));
                    bv.push((length * sum - d) / slope);
                }
                (tensor(wv, &[m, n])?, tensor(bv, &[m])?)
            }
            _ => (w.as_tensor().copy()?, b.as_tensor().copy()?),
        };
        out.push((Var::from_tensor(&wv)?, Var::from_tensor(&bv)?));
        if let Some(win) = window {
            t_min_prev = t_min;
            t_min = win.t_max;
        }
    }
    Ok(out)
}

/// The logits of the ReLU network `params`, and a tap (a zero variable
/// added, whose gradient is `∂L/∂x`) on each hidden layer's activations.
fn relu_logits(params: &[(Var, Var)], x0: &Tensor) -> CResult<(Tensor, Vec<Var>)> {
    let mut x = x0.clone();
    let mut taps = Vec::new();
    for (k, (w, b)) in params.iter().enumerate() {
        let a = x.matmul(&w.as_tensor().t()?)?.broadcast_add(b.as_tensor())?;
        if k + 1 == params.len() {
            return Ok((a, taps));
        }
        let tap = Var::zeros(a.shape(), candle_core::DType::F64, &candle_core::Device::Cpu)?;
        x = a.relu()?.add(tap.as_tensor())?;
        taps.push(tap);
    }
    candle_core::bail!("no layers")
}

/// Norm ratio ‖a‖/‖b‖ and cosine of `sign·a` and `b` (NaN ratio when ‖b‖ = 0).
fn compare(a: &[f64], b: &[f64], sign: f64) -> (f64, f64) {
    let dot: f64 = a.iter().zip(b).map(|(p, q)| sign * p * q).sum();
    let na = a.iter().map(|v| v * v).sum::<f64>().sqrt();
    let nb = b.iter().map(|v| v * v).sum::<f64>().sqrt();
    let cosine = if na > 0.0 && nb > 0.0 { dot / (na * nb) } else { 0.0 };
    (if nb > 0.0 { na / nb } else { f64::NAN }, cosine)
}

/// Compares the gradients on the batch `(x, y)`.
fn snapshot(net: &SpikingNet, step: u64, x: &Tensor, y: &Tensor) -> CResult<Snapshot> {
    let pass = net.forward_tapped(x, true)?;
    let snn_loss = cross_entropy(&pass.logits, y)?;
    let snn = snn_loss.backward()?;
    let relu = relu_equivalent(net)?;
    let (relu_out, acts) = relu_logits(&relu, x)?;
    let relu_grads = cross_entropy(&relu_out, y)?.backward()?;
    let values = |g: Option<&Tensor>, like: &Tensor| -> CResult<Vec<f64>> {
        match g {
            Some(g) => g.flatten_all()?.to_vec1::<f64>(),
            None => Ok(vec![0.0; like.elem_count()]),
        }
    };
    let mut layers = Vec::new();
    for (k, (layer, (rw, _))) in net.layers.iter().zip(&relu).enumerate() {
        let Layer::Dense { w, .. } = layer else { continue };
        let a = values(snn.get(w.as_tensor()), w.as_tensor())?;
        let b = values(relu_grads.get(rw.as_tensor()), rw.as_tensor())?;
        let (norm_ratio, cosine) = compare(&a, &b, 1.0);
        let (error_norm_ratio, error_cosine) = match (pass.hidden.get(k), acts.get(k)) {
            (Some(Hidden { tap: Some(tap), .. }), Some(act)) => {
                let (snn_t, relu_x) = (tap.as_tensor(), act.as_tensor());
                let (r, c) = compare(&values(snn.get(snn_t), snn_t)?, &values(relu_grads.get(relu_x), relu_x)?, -1.0);
                (Some(r), Some(c))
            }
            _ => (None, None),
        };
        layers.push(LayerFigure { layer: k + 1, norm_ratio, cosine, error_norm_ratio, error_cosine });
    }
    Ok(Snapshot { step, spread: spread(&layers), layers, loss: snn_loss.to_scalar::<f64>()? })
}

/// Largest over smallest finite, positive error-signal norm ratio across
/// the hidden layers: how much the vanishing or exploding factor varies
/// with depth (1 when every layer's error signal is the ReLU network's up
/// to one common scale).
fn spread(layers: &[LayerFigure]) -> f64 {
    let ratios: Vec<f64> =
        layers.iter().filter_map(|l| l.error_norm_ratio).filter(|r| r.is_finite() && *r > 0.0).collect();
    let (lo, hi) = ratios.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &r| (lo.min(r), hi.max(r)));
    if ratios.is_empty() { f64::NAN } else { hi / lo }
}

fn arch(input: usize, depth: usize, width: usize, classes: usize) -> Arch {
    let mut layers = vec![LayerSpec::Dense(width); depth];
    layers.push(LayerSpec::Dense(classes));
    Arch { input: Some(vec![input]), layers }
}

/// Runs the analysis.
pub fn run(args: &Args) -> Result<Report> {
    if args.depth == 0 || args.width == 0 || args.batch == 0 || args.count == 0 {
        bail!("--depth, --width, --batch and --count must be at least 1");
    }
    if let Some(svg) = &args.svg
        && svg.exists()
        && !args.force
    {
        bail!("{} exists; pass --force to overwrite it", svg.display());
    }
    let (data, labels) = {
        let d = ttfs_data::load_data_limited(&args.data, Some(args.count))?;
        let l = ttfs_data::load_labels_for(&args.labels, &args.data, d.count, d.total, usize::MAX)?;
        (d, l)
    };
    let classes = labels.iter().max().map_or(1, |m| m + 1);
    let range = crate::data::input_range(&data, None)?;
    let set = crate::data::TrainSet::new(&data, labels, range, classes);
    let probe: Vec<usize> = (0..set.count.min(256)).collect();
    let (px, py, _) = set.batch(&probe)?;
    let mut setups = Vec::new();
    for (name, neuron) in SETUPS {
        let mut net = SpikingNet::new(
            &arch(set.sample_len, args.depth, args.width, classes),
            &[set.sample_len],
            neuron,
            args.seed,
        )
        .map_err(|e| anyhow::anyhow!(e))?;
        let mut state = State::new(Optimizer::adam(args.lr), &net.vars())?;
        let mut snapshots = vec![snapshot(&net, 0, &px, &py)?];
        let mut order =
            SplitMix64::stream(args.seed, crate::epoch::SHUFFLE_STREAM, 0).permutation(set.count).into_iter().cycle();
        for step in 1..=args.steps {
            let rows: Vec<usize> = order.by_ref().take(args.batch).collect();
            let (x, y, _) = set.batch(&rows)?;
            let pass = net.forward(&x)?;
            let loss = cross_entropy(&pass.logits, &y)?;
            if !loss.to_scalar::<f64>()?.is_finite() {
                eprintln!("{name}: the loss is not finite at step {step}; training of this set-up stops here");
                break;
            }
            let grads = loss.backward()?;
            let vars = net.vars();
            let g: Vec<Option<Tensor>> = vars.iter().map(|v| grads.get(v.as_tensor()).cloned()).collect();
            state.update(&vars, &g)?;
            net.adapt_windows(&pass)?;
            if step == args.steps / 2 || step == args.steps {
                snapshots.push(snapshot(&net, step, &px, &py)?);
            }
        }
        setups.push(SetupReport { setup: name.into(), depth: args.depth, snapshots });
    }
    let mut spread_by_depth = Vec::new();
    for (name, neuron) in SETUPS {
        for &depth in &args.depths {
            let net = SpikingNet::new(
                &arch(set.sample_len, depth, args.width, classes),
                &[set.sample_len],
                neuron,
                args.seed,
            )
            .map_err(|e| anyhow::anyhow!(e))?;
            spread_by_depth.push((name.to_string(), depth, snapshot(&net, 0, &px, &py)?.spread));
        }
    }
    let svg = match &args.svg {
        Some(path) => {
            std::fs::write(path, plot(&setups)).map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
            Some(path.display().to_string())
        }
        None => None,
    };
    Ok(Report { setups, spread_by_depth, svg })
}

/// The table `ttfs gradients` prints.
pub fn render(r: &Report) -> String {
    let number = |v: f64| if v.is_finite() { format!("{v:.3e}") } else { "n/a".into() };
    let mut out = String::from(
        "weight gradients, per layer: norm ratio SNN/ReLU (cosine); a NaN loss or ratio (n/a) means that set-up diverged\n",
    );
    out.push_str("set-up          step   loss       layers\n");
    for s in &r.setups {
        for snap in &s.snapshots {
            let cells: Vec<String> = snap
                .layers
                .iter()
                .map(|l| format!("{}: {} ({:.6})", l.layer, number(l.norm_ratio), l.cosine))
                .collect();
            out.push_str(&format!(
                "{:<15} {:>5}  {:<10} {}\n",
                s.setup,
                snap.step,
                number(snap.loss),
                cells.join(", ")
            ));
        }
    }
    out.push_str("\nerror signals at the hidden spike times, per layer: norm ratio ‖∂L/∂t‖/‖∂L/∂x‖ (cosine)\n");
    for s in &r.setups {
        for snap in &s.snapshots {
            let cells: Vec<String> = snap
                .layers
                .iter()
                .filter_map(|l| Some(format!("{}: {} ({:.6})", l.layer, number(l.error_norm_ratio?), l.error_cosine?)))
                .collect();
            out.push_str(&format!("{:<15} {:>5}  {}\n", s.setup, snap.step, cells.join(", ")));
        }
    }
    out.push_str(
        "\nspread of the error-signal norm ratios across the hidden layers at initialisation (largest / smallest):\n",
    );
    for (setup, depth, spread) in &r.spread_by_depth {
        out.push_str(&format!("  {setup:<15} depth {depth:>2}: {}\n", number(*spread)));
    }
    if let Some(svg) = &r.svg {
        out.push_str(&format!("wrote {svg}\n"));
    }
    out
}

/// An SVG plot of log10 of the error-signal norm ratio per hidden layer, one
/// line per set-up and snapshot (solid at initialisation, dashed at the end
/// of training; a layer whose ratio is 0 or undefined is left out).
pub fn plot(setups: &[SetupReport]) -> String {
    const W: f64 = 640.0;
    const H: f64 = 360.0;
    const M: f64 = 50.0;
    let colours = ["#d62728", "#ff7f0e", "#1f77b4"];
    let points: Vec<(usize, f64)> = setups
        .iter()
        .flat_map(|s| {
            s.snapshots.iter().flat_map(|n| n.layers.iter().filter_map(|l| Some((l.layer, l.error_norm_ratio?))))
        })
        .filter(|(_, r)| r.is_finite() && *r > 0.0)
        .collect();
    let layers = points.iter().map(|p| p.0).max().unwrap_or(1).max(2);
    let (lo, hi) = points.iter().fold((0.0f64, 0.0f64), |(lo, hi), (_, r)| (lo.min(r.log10()), hi.max(r.log10())));
    let (lo, hi) = (lo.floor() - 0.5, hi.ceil() + 0.5);
    let x = |layer: usize| M + (W - 2.0 * M) * (layer - 1) as f64 / (layers - 1) as f64;
    let y = |v: f64| H - M - (H - 2.0 * M) * (v - lo) / (hi - lo);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"20\" text-anchor=\"middle\">error signal at the spike times, SNN / ReLU norm per hidden layer (log10; solid: init, dashed: trained)</text>\n\
         <line x1=\"{M}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n<line x1=\"{M}\" y1=\"{M}\" x2=\"{M}\" y2=\"{}\" stroke=\"black\"/>\n",
        W / 2.0,
        H - M,
        W - M,
        H - M,
        H - M
    );
    for v in (lo.ceil() as i64)..=(hi.floor() as i64) {
        svg += &format!(
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{v}</text><line x1=\"{M}\" y1=\"{:.1}\" x2=\"{}\" y2=\"{:.1}\" stroke=\"#ddd\"/>\n",
            M - 6.0,
            y(v as f64) + 4.0,
            y(v as f64),
            W - M,
            y(v as f64)
        );
    }
    for l in 1..=layers {
        svg += &format!("<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{l}</text>\n", x(l), H - M + 16.0);
    }
    svg += &format!(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">hidden layer (1 = nearest the input)</text>\n",
        W / 2.0,
        H - 12.0
    );
    for (i, s) in setups.iter().enumerate() {
        let colour = colours[i % colours.len()];
        for (k, snap) in [s.snapshots.first(), s.snapshots.last()].into_iter().flatten().enumerate() {
            let path: Vec<String> = snap
                .layers
                .iter()
                .filter_map(|l| l.error_norm_ratio.map(|r| (l.layer, r)))
                .filter(|(_, r)| r.is_finite() && *r > 0.0)
                .map(|(layer, r)| format!("{:.1},{:.1}", x(layer), y(r.log10())))
                .collect();
            let dash = if k == 0 { "" } else { " stroke-dasharray=\"5,4\"" };
            svg += &format!(
                "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"{dash} points=\"{}\"/>\n",
                path.join(" ")
            );
        }
        svg += &format!(
            "<text x=\"{}\" y=\"{}\" fill=\"{colour}\">{}</text>\n",
            W - M - 110.0,
            M + 16.0 * i as f64,
            s.setup
        );
    }
    svg + "</svg>\n"
}
