//! `ttfs train`: a TTFS network trained from scratch through its spike
//! times, written as a calibrated, quantized network description and
//! evaluated with the discrete (hardware) simulator.

use crate::checkpoint::{self, Meta};
use crate::data::{TrainSet, input_range, load};
use crate::epoch::{self, EpochStats, Settings, StepError};
use crate::export::export;
use crate::net::{Neuron, SpikingNet};
use crate::optim::{Optimizer, State};
use crate::spec;
use anyhow::{Context, Result, bail};
use serde::Serialize;
use std::path::{Path, PathBuf};
use ttfs_data::Data;
use ttfs_ir::Network;

/// The `ttfs train` request.
#[derive(Clone, Debug)]
pub struct Args {
    /// Architecture SPEC (see [`crate::spec`]).
    pub arch: String,
    /// Training data.
    pub data: PathBuf,
    /// Training labels.
    pub labels: PathBuf,
    /// Test data for the per-epoch float accuracy and the final discrete one.
    pub test_data: Option<PathBuf>,
    /// Test labels (required with `test_data`).
    pub test_labels: Option<PathBuf>,
    /// Epochs to train in total (a resumed run continues up to this number).
    pub epochs: usize,
    /// Mini-batch size.
    pub batch: usize,
    /// The optimiser.
    pub optimizer: Optimizer,
    /// Seed of every random draw.
    pub seed: u64,
    /// λ of the spike penalty.
    pub spike_penalty: f64,
    /// Conversion options for the written description (bits, margin, and
    /// the raw input range: default `[0, 255]` for bytes, else the data's).
    pub convert: ttfs_convert::Options,
    /// The network description to write.
    pub output: PathBuf,
    /// Overwrite `output`.
    pub force: bool,
    /// Continue from the checkpoint in the checkpoint directory.
    pub resume: bool,
    /// Checkpoint directory (default: `OUTPUT.ckpt` beside the output, the
    /// output's extension replaced).
    pub checkpoint_dir: Option<PathBuf>,
    /// Draw progress bars on a terminal.
    pub progress: bool,
}

/// What `ttfs train` reports.
#[derive(Serialize, Clone, Debug)]
pub struct Report {
    /// The description written.
    pub output: String,
    /// The architecture trained.
    pub arch: String,
    /// Training samples.
    pub train_samples: usize,
    /// Samples of the final evaluation, and which set they are.
    pub eval_samples: usize,
    /// "test" or "training".
    pub eval_set: String,
    /// Per epoch (all, including those before a resume).
    pub history: Vec<EpochStats>,
    /// Float (ReLU-equivalent) accuracy of the trained network, final evaluation set.
    pub accuracy_float: Option<f64>,
    /// Discrete (hardware) accuracy of the written description, final evaluation set.
    pub accuracy_discrete: Option<f64>,
    /// Spikes per hidden neuron per inference in the discrete network.
    pub spikes_per_neuron_discrete: Option<f64>,
    /// Literal tick-by-tick simulations that disagreed with the closed form (must be 0).
    pub discrete_closed_form_mismatches: Option<usize>,
    /// The checkpoint directory.
    pub checkpoints: String,
}

/// The default checkpoint directory for `output`.
pub fn default_checkpoint_dir(output: &Path) -> PathBuf {
    output.with_extension("ckpt")
}

/// Checks the numeric options.
fn check_settings(args: &Args) -> Result<()> {
    if args.epochs == 0 {
        bail!("--epochs 0 trains nothing; give 1 or more");
    }
    if args.batch == 0 {
        bail!("--batch 0: a mini-batch needs at least one sample");
    }
    let lr = args.optimizer.learning_rate(0);
    if !(lr.is_finite() && lr > 0.0) {
        bail!("--lr {lr} must be a positive number");
    }
    if !(args.spike_penalty.is_finite() && args.spike_penalty >= 0.0) {
        bail!("--spike-penalty {} must be a number ≥ 0", args.spike_penalty);
    }
    Ok(())
}

/// The input shape: the SPEC's, or the data's (`HxW` images get one channel).
pub fn input_shape(arch: &spec::Arch, data: &Data) -> Result<Vec<usize>> {
    let from_data = match data.sample_shape.as_slice() {
        [h, w] => vec![1, *h, *w],
        other => other.to_vec(),
    };
    let needs_image = arch.layers.iter().any(|l| !matches!(l, spec::LayerSpec::Dense(_)));
    let shape = match &arch.input {
        Some(s) => s.clone(),
        None if needs_image && from_data.len() != 3 => bail!(
            "{}: samples of shape {:?} are not images; give the input as CxHxW at the start of --arch",
            data.path.display(),
            data.sample_shape
        ),
        None if needs_image => from_data,
        None => vec![data.sample_len()],
    };
    let elements: usize = shape.iter().product();
    if elements != data.sample_len() {
        bail!(
            "{}: each sample has {} values (shape {:?}) but the architecture's input {:?} needs {elements}",
            data.path.display(),
            data.sample_len(),
            data.sample_shape,
            shape
        );
    }
    Ok(shape)
}

/// Loads the evaluation set: the test set when given, else the training set.
fn eval_data(args: &Args, classes: usize) -> Result<Option<(Data, Vec<usize>)>> {
    match (&args.test_data, &args.test_labels) {
        (Some(d), Some(l)) => Ok(Some(load(d, l, classes)?)),
        (None, None) => Ok(None),
        _ => bail!("--test-data and --test-labels go together"),
    }
}

/// The number of classes of an architecture string: its last layer's width.
pub fn classes_of(arch: &str) -> Result<usize> {
    match spec::parse(arch)?.layers.last() {
        Some(spec::LayerSpec::Dense(n)) => Ok(*n),
        _ => unreachable!("parse guarantees a dense output layer"),
    }
}

/// Runs `ttfs train`: loads the files `args` names, trains, and writes the
/// network to `args.output`.
pub fn run(args: &Args) -> Result<Report> {
    ttfs_convert::stage::refuse_existing(&args.output, args.force)?;
    check_settings(args)?;
    let classes = classes_of(&args.arch)?;
    let (data, labels) = load(&args.data, &args.labels, classes)?;
    let test = eval_data(args, classes)?;
    let (network, report) = train_loaded(args, &data, labels, test)?;
    ttfs_ir::save(&network, &args.output, args.force)?;
    Ok(report)
}

/// Trains on data already in memory (`args.data`, `args.labels` and the
/// test files are not read; `data.path` names the data in messages, and
/// `args.output` names the network and its checkpoints) and returns the
/// exported network with its report, writing nothing but the checkpoints.
/// `labels` must be below the architecture's class count.
pub fn train_loaded(
    args: &Args,
    data: &Data,
    labels: Vec<usize>,
    test: Option<(Data, Vec<usize>)>,
) -> Result<(Network, Report)> {
    check_settings(args)?;
    let arch = spec::parse(&args.arch)?;
    let classes = classes_of(&args.arch)?;
    if let Some(bad) = labels.iter().find(|&&l| l >= classes) {
        bail!("{}: label {bad} but the architecture has {classes} classes", data.path.display());
    }
    let shape = input_shape(&arch, data)?;
    let range = input_range(data, args.convert.input_range)?;
    let train = TrainSet::new(data, labels, range, classes);
    let test_set = match &test {
        Some((d, l)) => {
            d.check_fits(&shape)?;
            Some(TrainSet::new(d, l.clone(), range, classes))
        }
        None => None,
    };
    let mut net = SpikingNet::new(&arch, &shape, Neuron::B1, args.seed)
        .map_err(|e| anyhow::anyhow!("--arch {:?}: {e}", args.arch))?;
    let fingerprint = format!(
        "arch {} on {:?}, b1, data {} ({} samples), seed {}, batch {}, {:?}, spike penalty {}",
        args.arch,
        shape,
        file_name(&data.path),
        data.count,
        args.seed,
        args.batch,
        args.optimizer,
        args.spike_penalty
    );
    let mut state = State::new(args.optimizer, &net.vars())?;
    let dir = args.checkpoint_dir.clone().unwrap_or_else(|| default_checkpoint_dir(&args.output));
    let mut history = Vec::new();
    if args.resume {
        let meta = checkpoint::load(&dir, &fingerprint, &mut net, &mut state)?;
        history = meta.history;
    }
    let settings = Settings { batch: args.batch, seed: args.seed, spike_penalty: args.spike_penalty, relu_twin: false };
    for e in history.len() + 1..=args.epochs {
        let bar = progress_bar(args.progress, train.count.div_ceil(args.batch), e, args.epochs);
        let result = epoch::epoch(&mut net, &mut state, &train, &settings, e, |_, _, s| {
            bar.set_message(format!(
                "epoch {e}/{}: loss {:.4}, acc {:.2} %, {:.3} spikes/neuron",
                args.epochs,
                s.loss,
                100.0 * s.train_accuracy,
                s.spikes_per_neuron
            ));
            bar.inc(1);
        });
        bar.finish_and_clear();
        let mut stats = match result {
            Ok(s) => s,
            Err(StepError::Diverged { step, loss }) => {
                let kept = if history.is_empty() {
                    "no checkpoint was written (the first epoch diverged)".to_string()
                } else {
                    format!("the last good checkpoint (epoch {}) is in {}", history.len(), dir.display())
                };
                bail!(
                    "training diverged at epoch {e}, step {} (loss {loss}): lower --lr (now {}); {kept}; nothing was written to {}",
                    step + 1,
                    args.optimizer.learning_rate(0),
                    args.output.display()
                );
            }
            Err(StepError::Tensor(err)) => return Err(err).context(format!("training epoch {e}")),
        };
        if let Some(t) = &test_set {
            stats.test_accuracy = Some(epoch::evaluate(&net, t)?.0);
        }
        eprintln!("{}", render_epoch(&stats, args.epochs));
        history.push(stats);
        let meta = Meta {
            format: checkpoint::FORMAT.into(),
            fingerprint: fingerprint.clone(),
            epochs_done: history.len(),
            step: state.step,
            windows: net.windows().iter().map(|w| [w.t_min, w.t_max]).collect(),
            history: history.clone(),
        };
        checkpoint::save(&dir, &net, &state, &meta)?;
    }
    let name = args.output.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "trained".into());
    let network = export(&net, &name, data, range, &args.convert)?;
    let (eval, eval_set) = match &test {
        Some((d, l)) => ((d, l.as_slice()), "test"),
        None => ((data, train.labels.as_slice()), "training"),
    };
    let report = evaluate_discrete(&network, eval.0, eval.1)?;
    let report = Report {
        output: args.output.display().to_string(),
        arch: args.arch.clone(),
        train_samples: train.count,
        eval_samples: eval.0.count,
        eval_set: eval_set.into(),
        history,
        accuracy_float: report.accuracy_relu,
        accuracy_discrete: report.accuracy_discrete,
        spikes_per_neuron_discrete: report.spikes_per_neuron,
        discrete_closed_form_mismatches: report.discrete_closed_form_mismatches,
        checkpoints: dir.display().to_string(),
    };
    Ok((network, report))
}

/// Runs the simulators on `data` (raw values in the model's layout).
pub fn evaluate_discrete(net: &Network, data: &Data, labels: &[usize]) -> Result<ttfs_sim::eval::Report> {
    data.check_fits(&net.input.data_shape)?;
    let canonical: Vec<f64> = (0..data.count).flat_map(|i| net.input.to_canonical(data.sample(i))).collect();
    let model = ttfs_sim::Prepared::new(net);
    let samples =
        ttfs_sim::Samples { values: &canonical, sample_len: net.input.shape.iter().product(), labels: Some(labels) };
    Ok(ttfs_sim::eval::evaluate_with(&model, samples, ttfs_sim::eval::EvalOptions { exhaustive: false }))
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

pub fn progress_bar(enabled: bool, len: usize, epoch: usize, epochs: usize) -> indicatif::ProgressBar {
    if !enabled {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({eta})") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(format!("epoch {epoch}/{epochs}"));
    bar
}

/// One line of the training log.
pub fn render_epoch(s: &EpochStats, epochs: usize) -> String {
    let test = s.test_accuracy.map_or(String::new(), |a| format!(", test {:.2} % (float)", 100.0 * a));
    let early = if s.early_spikes > 0 { format!(", {} early spikes", s.early_spikes) } else { String::new() };
    format!(
        "epoch {}/{epochs}: loss {:.4}, train {:.2} %{test}, {:.3} spikes/neuron{early}, {:.1} s",
        s.epoch,
        s.loss,
        100.0 * s.train_accuracy,
        s.spikes_per_neuron,
        s.seconds
    )
}

/// The text `ttfs train` prints.
pub fn render(r: &Report) -> String {
    let pct = |a: Option<f64>| a.map_or("n/a".to_string(), |a| format!("{:.2} %", 100.0 * a));
    // The epochs' lines went to stderr as they finished (and are in --json).
    let mut out = String::new();
    out.push_str(&format!(
        "wrote {} ({} trained on {} samples)\n{} set ({} samples): float {}, discrete (hardware) {}, {} spikes per hidden neuron\n",
        r.output,
        r.arch,
        r.train_samples,
        r.eval_set,
        r.eval_samples,
        pct(r.accuracy_float),
        pct(r.accuracy_discrete),
        r.spikes_per_neuron_discrete.map_or("n/a".into(), |s| format!("{s:.3}")),
    ));
    if let Some(m) = r.discrete_closed_form_mismatches {
        out.push_str(&format!("tick-by-tick simulation against the closed form: {m} mismatches\n"));
    }
    if let (Some(f), Some(d)) = (r.accuracy_float, r.accuracy_discrete)
        && f - d > 0.005
    {
        out.push_str(&format!(
            "warning: the integer network loses {:.2} points against the float one; try more --time-bits or --weight-bits, or `ttfs finetune`\n",
            100.0 * (f - d)
        ));
    }
    out.push_str(&format!("checkpoints in {}\n", r.checkpoints));
    out
}
