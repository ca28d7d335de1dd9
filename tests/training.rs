//! `ttfs train`, `finetune` and `gradients` on real data (the digits set and
//! MNIST subsets; the full-data runs are in the README's slow tier): the
//! trained description goes through the hardware unchanged, seeds fix every
//! byte, a resumed run equals an uninterrupted one, fine-tuning at few bits
//! recovers accuracy, and bad input is refused with a clear message.

mod common;

use common::{fixture, require};
use std::path::Path;
use ttfs_train::optim::Optimizer;
use ttfs_train::stage::{self as train, Args};

fn args(dir: &Path, arch: &str, epochs: usize) -> Args {
    Args {
        arch: arch.into(),
        data: fixture("digits/train_images.csv.gz"),
        labels: fixture("digits/train_labels.csv.gz"),
        test_data: Some(fixture("digits/test_images.csv.gz")),
        test_labels: Some(fixture("digits/test_labels.csv.gz")),
        epochs,
        batch: 16,
        optimizer: Optimizer::adam(2e-3),
        seed: 7,
        spike_penalty: 0.0,
        convert: ttfs_convert::Options::default(),
        output: dir.join("net.json"),
        force: false,
        resume: false,
        checkpoint_dir: None,
        progress: false,
    }
}

fn bytes(json: &Path) -> (Vec<u8>, Vec<u8>) {
    (std::fs::read(json).unwrap(), std::fs::read(ttfs_ir::sidecar_path(json)).unwrap())
}

/// A trained MLP is a network description like any other: the discrete
/// simulator agrees with the closed form, and the generated hardware in
/// Verilator spikes exactly as the reference on the whole test set.
#[test]
fn a_trained_mlp_runs_on_the_hardware_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let a = args(dir.path(), "64-32-10", 8);
    let r = train::run(&a).unwrap_or_else(|e| panic!("{e:#}"));
    eprintln!("{}", train::render(&r));
    assert_eq!(r.history.len(), 8);
    assert!(r.history.windows(2).all(|w| w[1].loss < w[0].loss), "{:?}", r.history);
    let discrete = r.accuracy_discrete.unwrap();
    assert!(discrete >= 0.92, "discrete test accuracy {discrete}");
    assert_eq!(r.discrete_closed_form_mismatches, Some(0));
    let spikes = r.spikes_per_neuron_discrete.unwrap();
    assert!(spikes > 0.0 && spikes < 1.0);
    let net = ttfs_ir::load(&a.output).unwrap();
    assert!(net.source.producer.starts_with("ttfs train"), "{}", net.source.producer);
    if require(ttfs_tools::Tool::Verilator).is_none() {
        return;
    }
    let cosim = ttfs_cosim::stage::run(&ttfs_cosim::stage::Args {
        input: a.output.clone(),
        data: fixture("digits/test_images.csv.gz"),
        labels: Some(fixture("digits/test_labels.csv.gz")),
        count: None,
        lanes: ttfs_hw::planner::Lanes::Fixed(vec![4]),
        target: ttfs_hw::target::Target::Ice40Hx8k,
        simulator: ttfs_cosim::stage::Simulator::Verilator,
        load: ttfs_cosim::stage::WeightLoad::Loader,
        trace: None,
        trace_sample: 0,
        trust_design: false,
    })
    .unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!((cosim.samples, cosim.mismatched_spikes, cosim.mismatched_outputs), (450, 0, 0));
    assert_eq!(cosim.accuracy, Some(discrete));
}

/// The same seed gives the same bytes; a run stopped after one epoch and
/// resumed gives the bytes of the uninterrupted run.
#[test]
fn seeds_fix_every_byte_and_resume_continues_exactly() {
    let runs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let arch = "1x8x8-c4k3z1-p2-24-10";
    train::run(&args(runs[0].path(), arch, 3)).unwrap();
    train::run(&args(runs[1].path(), arch, 3)).unwrap();
    let first = bytes(&runs[0].path().join("net.json"));
    assert_eq!(first, bytes(&runs[1].path().join("net.json")));
    train::run(&args(runs[2].path(), arch, 1)).unwrap();
    let mut resumed = args(runs[2].path(), arch, 3);
    resumed.resume = true;
    resumed.force = true;
    let r = train::run(&resumed).unwrap();
    assert_eq!(r.history.len(), 3);
    assert_eq!(first, bytes(&runs[2].path().join("net.json")));
    // Another seed is another network, and a checkpoint of another run is refused.
    let mut other = args(runs[2].path(), arch, 4);
    other.seed = 8;
    other.resume = true;
    other.force = true;
    let err = format!("{:#}", train::run(&other).unwrap_err());
    assert!(err.contains("another run"), "{err}");
}

/// A small CNN trains through convolutions and first-spike pooling, and its
/// description has the conv and pool layers.
#[test]
fn a_small_cnn_trains() {
    let dir = tempfile::tempdir().unwrap();
    let r = train::run(&args(dir.path(), "1x8x8-c6k3z1-p2-10", 6)).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(r.accuracy_discrete.unwrap() >= 0.85, "{:?}", r.accuracy_discrete);
    let net = ttfs_ir::load(&dir.path().join("net.json")).unwrap();
    let kinds: Vec<&str> = net.layers.iter().map(|l| l.kind()).collect();
    assert_eq!(kinds, ["conv2d", "max_pool", "flatten", "dense"]);
}

/// The spike penalty trades a little accuracy for fewer spikes.
#[test]
fn the_spike_penalty_cuts_spikes() {
    let spikes = |penalty: f64| {
        let dir = tempfile::tempdir().unwrap();
        let mut a = args(dir.path(), "64-48-10", 5);
        a.spike_penalty = penalty;
        let r = train::run(&a).unwrap();
        (r.spikes_per_neuron_discrete.unwrap(), r.accuracy_discrete.unwrap())
    };
    let (free, free_acc) = spikes(0.0);
    let (penalised, acc) = spikes(1.0);
    eprintln!("spikes per neuron {free:.3} → {penalised:.3}, accuracy {free_acc:.3} → {acc:.3}");
    assert!(penalised < 0.6 * free, "{free} → {penalised}");
    assert!(acc > 0.85, "{acc}");
}

/// Fine-tuning the digits MLP, converted at 8 bits, at 3-bit time and 3-bit
/// weights in the hardware's arithmetic raises its discrete accuracy at
/// those bits, and the written description simulates to exactly the
/// accuracy the log reports.
#[test]
fn finetuning_at_few_bits_recovers_accuracy() {
    let dir = tempfile::tempdir().unwrap();
    let net = common::convert_fixture(
        "digits_mlp.onnx",
        "digits/train_images.csv.gz",
        None,
        &ttfs_convert::Options::default(),
    );
    let input = dir.path().join("net.json");
    ttfs_ir::save(&net, &input, false).unwrap();
    let output = dir.path().join("tuned.json");
    let request = ttfs_train::finetune::Args {
        network: input.clone(),
        data: fixture("digits/train_images.csv.gz"),
        labels: fixture("digits/train_labels.csv.gz"),
        test_data: Some(fixture("digits/test_images.csv.gz")),
        test_labels: Some(fixture("digits/test_labels.csv.gz")),
        time_bits: Some(vec![3]),
        weight_bits: Some(vec![3]),
        noise: 0.0,
        epochs: 4,
        batch: 16,
        lr: 1e-3,
        seed: 1,
        output: output.clone(),
        force: false,
        progress: false,
    };
    let r = ttfs_train::finetune::run(&request).unwrap_or_else(|e| panic!("{e:#}"));
    eprintln!("{}", ttfs_train::finetune::render(&r));
    assert_eq!(r.time_bits, vec![3, 3]);
    assert!(
        r.accuracy_discrete_after > r.accuracy_discrete_before + 0.01,
        "{} → {}",
        r.accuracy_discrete_before,
        r.accuracy_discrete_after
    );
    assert_eq!(r.discrete_closed_form_mismatches, Some(0));
    let tuned = ttfs_ir::load(&output).unwrap();
    let (values, _) = common::canonical_samples(&tuned, "digits/test_images.csv.gz", None);
    let labels = common::labels("digits/test_labels.csv.gz", 450);
    let sim = ttfs_sim::eval::evaluate(
        &ttfs_sim::Prepared::new(&tuned),
        ttfs_sim::Samples { values: &values, sample_len: 64, labels: Some(&labels) },
    );
    assert_eq!(sim.accuracy_discrete, Some(r.accuracy_discrete_after));
    // Jitter-aware fine-tuning: accuracy under σ = 1 tick rises.
    let mut noisy = request.clone();
    noisy.noise = 1.0;
    noisy.output = dir.path().join("noisy.json");
    let r = ttfs_train::finetune::run(&noisy).unwrap();
    let j = r.jitter.unwrap();
    assert!(j.after > j.before, "{j:?}");
}

/// Paper 2's analysis on a small deep MLP: b1's gradients are the ReLU
/// network's in every layer; α/J's are not.
#[test]
fn b1_gradients_equal_relu_and_alpha_gradients_do_not() {
    let r = ttfs_train::gradients::run(&ttfs_train::gradients::Args {
        data: fixture("digits/train_images.csv.gz"),
        labels: fixture("digits/train_labels.csv.gz"),
        count: 400,
        depth: 4,
        width: 24,
        depths: vec![2, 4],
        steps: 20,
        batch: 16,
        lr: 1e-3,
        seed: 3,
        svg: None,
        force: false,
    })
    .unwrap_or_else(|e| panic!("{e:#}"));
    eprintln!("{}", ttfs_train::gradients::render(&r));
    let b1 = r.setups.iter().find(|s| s.setup == "b1").unwrap();
    assert_eq!(b1.snapshots.len(), 3);
    for snap in &b1.snapshots {
        for l in &snap.layers {
            assert!(l.cosine >= 1.0 - 1e-9 && (l.norm_ratio - 1.0).abs() <= 1e-9, "b1 step {} {l:?}", snap.step);
            if let (Some(r), Some(c)) = (l.error_norm_ratio, l.error_cosine) {
                assert!(c >= 1.0 - 1e-9 && (r - 1.0).abs() <= 1e-9, "b1 error signal, step {} {l:?}", snap.step);
            }
        }
    }
    // α/J with ordinary initialisation: the error signal vanishes or
    // explodes layer by layer, more with depth.
    let spread = |setup: &str, depth: usize| r.spread_by_depth.iter().find(|s| s.0 == setup && s.1 == depth).unwrap().2;
    assert!(spread("alpha-ordinary", 4) > 10.0 * spread("alpha-ordinary", 2).max(1.0), "{:?}", r.spread_by_depth);
    // The slope-normalising initialisation gives the ReLU error signal at
    // initialisation, but not the ReLU weight gradients (another trajectory).
    let slope = &r.setups.iter().find(|s| s.setup == "alpha-slope").unwrap().snapshots[0];
    for l in &slope.layers {
        if let Some(ratio) = l.error_norm_ratio {
            assert!((ratio - 1.0).abs() < 1e-9, "{l:?}");
        }
    }
    assert!(slope.layers.iter().any(|l| l.cosine < 0.9), "{slope:?}");
}

/// Bad input: clear errors naming the file or option, nothing written.
#[test]
fn bad_input_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let refused = |a: &Args, expected: &str| {
        let err = format!("{:#}", train::run(a).unwrap_err());
        assert!(err.contains(expected), "expected {expected:?} in: {err}");
    };
    let check = |a: Args, expected: &str| {
        refused(&a, expected);
        assert!(!a.output.exists(), "{} was written", a.output.display());
    };
    let mut a = args(dir.path(), "64-32-10", 1);
    a.labels = fixture("digits/test_labels.csv.gz");
    check(a, "labels for 1347 samples");
    check(args(dir.path(), "64-32-5", 1), "is not a class of this network");
    check(args(dir.path(), "64-3x-10", 1), "token 2");
    check(args(dir.path(), "63-32-10", 1), "each sample has 64 values");
    check(args(dir.path(), "c4k3-10", 1), "are not images");
    let mut a = args(dir.path(), "64-32-10", 2);
    a.optimizer = Optimizer::adam(1e200);
    check(a, "diverged");
    let mut a = args(dir.path(), "64-32-10", 1);
    a.batch = 0;
    check(a, "--batch 0");
    let existing = dir.path().join("exists.json");
    std::fs::write(&existing, "{}").unwrap();
    let mut a = args(dir.path(), "64-32-10", 1);
    a.output = existing.clone();
    refused(&a, "pass --force");
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "{}");
    let mut a = args(dir.path(), "64-32-10", 1);
    a.resume = true;
    check(a, "--resume");
}
