//! `ttfs files bench`: every model on one stratified split of one data
//! set, with the same tokens: the logistic regression and the two SVMs on
//! hashed one-hot features, the STDP network with its spike-pattern
//! readout and the TTFS classifier on the correlative encoding; optionally
//! the ablations of the STDP network.
//!
//! Figures per model: accuracy and macro-F1 on the test split, training
//! seconds (from the features to a fitted model) and records per second
//! when classifying the test split (from the tokens to a class, one
//! thread).

use crate::baselines::{LOGREG_ALPHA, LOGREG_DIMS, LOGREG_ITERATIONS, LogisticRegression, hashed_indices};
use crate::classifier::{self, Setup, TtfsParams};
use crate::encoding::Encoding;
use crate::features::Token;
use crate::model::Classifier;
use crate::stage::{DataArgs, Split};
use crate::stdp::{self, Readout, ReadoutParams, StdpLayer, StdpParams};
use crate::svm::{LinearSvm, LinearSvmParams, RbfSvm, RbfSvmParams};
use anyhow::{Result, anyhow};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Instant;

/// Dimensions of the baselines' hashed one-hot vectors.
pub const HASHED_DIMS: usize = 1 << 16;

/// How one model did.
#[derive(Serialize, Clone, Debug)]
pub struct Figures {
    /// Accuracy on the test split.
    pub accuracy: f64,
    /// The mean over classes of F1 (classes with neither a test record nor
    /// a prediction left out).
    pub macro_f1: f64,
    /// Seconds to fit.
    pub train_seconds: f64,
    /// Test records classified per second.
    pub records_per_second: f64,
    /// What the model is, with its settings.
    pub note: String,
}

/// What `ttfs files bench` reports.
#[derive(Serialize, Clone, Debug)]
pub struct BenchReport {
    /// The data file.
    pub data: String,
    /// Training records.
    pub train_records: usize,
    /// Test records.
    pub test_records: usize,
    /// Classes.
    pub classes: usize,
    /// The test split's largest class share (what always guessing it
    /// scores).
    pub majority: f64,
    /// Per model key (`logreg`, `svm_linear`, `svm_rbf`, `stdp`, `ttfs`).
    pub models: BTreeMap<String, Figures>,
    /// The STDP network's ablations, when asked for.
    pub ablations: BTreeMap<String, Figures>,
    /// Warnings from the data.
    pub warnings: Vec<String>,
}

/// What to run besides the five models.
#[derive(Clone, Debug, Default)]
pub struct BenchOptions {
    /// Run the STDP ablations too.
    pub ablations: bool,
    /// Draw progress bars (the TTFS training).
    pub progress: bool,
}

/// Accuracy and macro-F1 of `predicted` against `truth` over `classes`.
pub fn scores(truth: &[usize], predicted: &[usize], classes: usize) -> (f64, f64) {
    let mut tp = vec![0usize; classes];
    let mut fp = vec![0usize; classes];
    let mut fn_ = vec![0usize; classes];
    for (&t, &p) in truth.iter().zip(predicted) {
        if t == p {
            tp[t] += 1;
        } else {
            fp[p] += 1;
            fn_[t] += 1;
        }
    }
    let correct: usize = tp.iter().sum();
    let f1: Vec<f64> = (0..classes)
        .filter(|&c| tp[c] + fp[c] + fn_[c] > 0)
        .map(|c| 2.0 * tp[c] as f64 / (2 * tp[c] + fp[c] + fn_[c]) as f64)
        .collect();
    let accuracy = correct as f64 / truth.len().max(1) as f64;
    (accuracy, f1.iter().sum::<f64>() / f1.len().max(1) as f64)
}

/// Times `fit`, then `predict` over `test`, and scores it.
fn measure<M>(
    truth: &[usize],
    classes: usize,
    note: String,
    fit: impl FnOnce() -> Result<M>,
    predict: impl FnOnce(&M) -> Vec<usize>,
) -> Result<Figures> {
    let start = Instant::now();
    let model = fit()?;
    let train_seconds = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let predicted = predict(&model);
    let seconds = start.elapsed().as_secs_f64().max(1e-9);
    let (accuracy, macro_f1) = scores(truth, &predicted, classes);
    Ok(Figures { accuracy, macro_f1, train_seconds, records_per_second: truth.len() as f64 / seconds, note })
}

/// The STDP network on records given as active channels.
#[allow(clippy::too_many_arguments)] // the split's four halves and the settings, named
fn stdp_figures(
    train: &[Vec<usize>],
    test: &[Vec<usize>],
    y_train: &[usize],
    y_test: &[usize],
    channels: usize,
    classes: usize,
    hidden_layer: Option<&StdpParams>,
    note: String,
) -> Result<Figures> {
    let readout = ReadoutParams::default();
    measure(
        y_test,
        classes,
        note,
        || {
            let layer = match hidden_layer {
                Some(p) => Some(StdpLayer::train(train, channels, p).map_err(|e| anyhow!(e))?),
                None => None,
            };
            let spikes: Vec<Vec<stdp::Spike>> = train.iter().map(|a| respond(layer.as_ref(), a)).collect();
            let inputs = layer.as_ref().map_or(channels, StdpLayer::hidden);
            let out = Readout::train(&spikes, y_train, inputs, classes, &readout).map_err(|e| anyhow!(e))?;
            Ok((layer, out))
        },
        |(layer, out)| test.iter().map(|a| out.classify(&respond(layer.as_ref(), a))).collect(),
    )
}

fn respond(layer: Option<&StdpLayer>, active: &[usize]) -> Vec<stdp::Spike> {
    match layer {
        Some(l) => l.respond(active),
        None => stdp::channel_spikes(active),
    }
}

/// Runs every model on the split of `a` with `encoding`.
pub fn bench(a: &DataArgs, encoding: Encoding, options: &BenchOptions) -> Result<BenchReport> {
    crate::stage::check_encoding(&encoding)?;
    let split = Split::load(a)?;
    let classes = split.classes.len();
    let tokens: Vec<Vec<Token>> = split.records.values.iter().map(|v| split.features.tokens(v)).collect();
    let y_train: Vec<usize> = split.train.iter().map(|&r| split.labels[r]).collect();
    let y_test: Vec<usize> = split.test.iter().map(|&r| split.labels[r]).collect();
    let mut models = BTreeMap::new();

    let hashed =
        |set: &[usize]| -> Vec<Vec<usize>> { set.iter().map(|&r| hashed_indices(&tokens[r], HASHED_DIMS)).collect() };
    let h_train = hashed(&split.train);
    // The baselines' predictions include hashing the tokens, as the spiking
    // models' include encoding them.
    let (dims, iterations, alpha) = (LOGREG_DIMS, LOGREG_ITERATIONS, LOGREG_ALPHA);
    let lr_rows =
        |set: &[usize]| -> Vec<Vec<usize>> { set.iter().map(|&r| hashed_indices(&tokens[r], dims)).collect() };
    models.insert(
        "logreg".into(),
        measure(
            &y_test,
            classes,
            format!("multinomial, L-BFGS (linfa-logistic), {dims} hashed dims, {iterations} iterations, α {alpha}"),
            || {
                LogisticRegression::fit(&lr_rows(&split.train), &y_train, dims, iterations, alpha)
                    .map_err(|e| anyhow!(e))
            },
            |m| m.predict(&lr_rows(&split.test)),
        )?,
    );
    let lin = LinearSvmParams::default();
    models.insert(
        "svm_linear".into(),
        measure(
            &y_test,
            classes,
            format!("one-vs-rest, dual coordinate descent, C {}, {HASHED_DIMS} hashed dims", lin.c),
            || LinearSvm::fit(&h_train, &y_train, HASHED_DIMS, &lin).map_err(|e| anyhow!(e)),
            |m| m.predict(&hashed(&split.test)),
        )?,
    );
    let rbf = RbfSvmParams::default();
    let rbf_note = format!(
        "one-vs-rest, exact kernel on a stratified subsample of {} of the {} training records, γ {}, C {} (C chosen on this split)",
        crate::svm::stratified_subsample(&y_train, rbf.subsample).len(),
        h_train.len(),
        rbf.gamma,
        rbf.c
    );
    models.insert(
        "svm_rbf".into(),
        measure(
            &y_test,
            classes,
            rbf_note,
            || RbfSvm::fit(&h_train, &y_train, &rbf).map_err(|e| anyhow!(e)),
            |m| m.predict(&hashed(&split.test)),
        )?,
    );

    let channels = encoding.channel_count(split.records.keys.len());
    let encoded =
        |set: &[usize], e: &Encoding| -> Vec<Vec<usize>> { set.iter().map(|&r| e.channels(&tokens[r])).collect() };
    let (c_train, c_test) = (encoded(&split.train, &encoding), encoded(&split.test, &encoding));
    let sp = StdpParams::default();
    let describe = |p: &StdpParams| {
        format!(
            "{} hidden, {}-WTA, {} epochs, LTP/LTD {}/{}, {}; ReSuMe readout",
            p.hidden,
            p.winners,
            p.epochs,
            p.ltp,
            p.ltd,
            match p.memristor {
                Some(m) => format!("memristive ({} levels, write noise {} levels)", m.levels, m.write_noise),
                None => "ideal synapses".into(),
            }
        )
    };
    models.insert(
        "stdp".into(),
        stdp_figures(&c_train, &c_test, &y_train, &y_test, channels, classes, Some(&sp), describe(&sp))?,
    );

    let scratch = tempfile::tempdir()?;
    let params = TtfsParams::default();
    let setup = Setup {
        label: &a.label,
        exclude: &a.exclude,
        features: split.features.clone(),
        encoding,
        classes: split.classes.clone(),
        checkpoints: scratch.path(),
        progress: options.progress,
    };
    let start = Instant::now();
    let trained = classifier::train(&split.records, &split.labels, &split.train, None, setup, &params)?;
    let train_seconds = start.elapsed().as_secs_f64();
    let classifier = Classifier::new(&trained.model);
    let start = Instant::now();
    let predicted: Vec<usize> = split.test.iter().map(|&r| classifier.classify(&tokens[r])).collect();
    let seconds = start.elapsed().as_secs_f64().max(1e-9);
    let (accuracy, macro_f1) = scores(&y_test, &predicted, classes);
    models.insert(
        "ttfs".into(),
        Figures {
            accuracy,
            macro_f1,
            train_seconds,
            records_per_second: y_test.len() as f64 / seconds,
            note: format!(
                "{channels}-{}-{classes}, trained through spike times, {} epochs; the integer (hardware) network",
                params.hidden, params.epochs
            ),
        },
    );

    let mut ablations = BTreeMap::new();
    if options.ablations {
        ablations.insert(
            "stdp_without_hidden_layer".into(),
            stdp_figures(
                &c_train,
                &c_test,
                &y_train,
                &y_test,
                channels,
                classes,
                None,
                "the readout on the input channels".into(),
            )?,
        );
        let memristive = StdpParams { memristor: Some(Default::default()), ..sp.clone() };
        ablations.insert(
            "stdp_memristive".into(),
            stdp_figures(
                &c_train,
                &c_test,
                &y_train,
                &y_test,
                channels,
                classes,
                Some(&memristive),
                describe(&memristive),
            )?,
        );
        let w1 = Encoding { spread: 1, ..encoding };
        ablations.insert(
            "stdp_bins_uncorrelated".into(),
            stdp_figures(
                &encoded(&split.train, &w1),
                &encoded(&split.test, &w1),
                &y_train,
                &y_test,
                channels,
                classes,
                Some(&sp),
                "neighbouring bins share no input neurons (W = 1)".into(),
            )?,
        );
        let neurons = channels / encoding.ticks as usize;
        let random = |set: &[usize]| -> Vec<Vec<usize>> {
            set.iter()
                .map(|&r| stdp::random_channels(r as u32, encoding.seed, neurons, encoding.ticks as usize))
                .collect()
        };
        ablations.insert(
            "stdp_random_patterns".into(),
            stdp_figures(
                &random(&split.train),
                &random(&split.test),
                &y_train,
                &y_test,
                channels,
                classes,
                Some(&sp),
                "every record an independent random pattern: no value is encoded".into(),
            )?,
        );
    }

    let mut counts = vec![0usize; classes];
    y_test.iter().for_each(|&c| counts[c] += 1);
    Ok(BenchReport {
        data: a.data.display().to_string(),
        train_records: split.train.len(),
        test_records: split.test.len(),
        classes,
        majority: counts.iter().copied().max().unwrap_or(0) as f64 / y_test.len().max(1) as f64,
        models,
        ablations,
        warnings: split.warnings,
    })
}

/// The report as a table.
pub fn render(r: &BenchReport) -> String {
    let mut s = String::new();
    for w in &r.warnings {
        s += &format!("warning: {w}\n");
    }
    s += &format!(
        "{}: {} training and {} test records, {} classes (the largest class is {:.1} % of the test split)\n\n",
        r.data,
        r.train_records,
        r.test_records,
        r.classes,
        100.0 * r.majority
    );
    s += "| model | accuracy | macro-F1 | training (s) | records/s | what |\n|---|---:|---:|---:|---:|---|\n";
    for (name, f) in r.models.iter().chain(&r.ablations) {
        s += &format!(
            "| {name} | {:.4} | {:.4} | {:.1} | {:.0} | {} |\n",
            f.accuracy, f.macro_f1, f.train_seconds, f.records_per_second, f.note
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_and_macro_f1() {
        // Class 0: 2 of 3 right; class 1: 1 of 1; class 2 never occurs.
        let (a, f1) = scores(&[0, 0, 0, 1], &[0, 0, 1, 1], 3);
        assert!((a - 0.75).abs() < 1e-12);
        // F1(0) = 4/5, F1(1) = 2/3; class 2 is left out.
        assert!((f1 - (0.8 + 2.0 / 3.0) / 2.0).abs() < 1e-12, "{f1}");
    }
}
