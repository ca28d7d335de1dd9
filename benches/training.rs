//! Training speed through spike times against training the same ReLU
//! network with the same crate, the same loop and the same optimiser,
//! measured in the same run (issue goal for b1: ≤ 1.5×).
//!
//! Each side trains one epoch from the same initial weights, alternately,
//! `ROUNDS` times; the figures are the medians. The MLP is paper 2's FC2
//! (784-340-10) on the 5,000 MNIST training images of the fixtures; the CNN
//! (`c16k5-p2-c32k5-p2-10`) on their first 1,000. Batch 32, Adam.
//!
//! Run: `cargo bench --bench training` (prints a table; writes
//! `target/training-bench.json`).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;
use ttfs_train::data::{TrainSet, input_range};
use ttfs_train::epoch::{Settings, epoch};
use ttfs_train::net::{Neuron, SpikingNet};
use ttfs_train::optim::{Optimizer, State};

const ROUNDS: usize = 3;

fn seconds(arch: &str, set: &TrainSet, shape: &[usize], relu_twin: bool) -> f64 {
    let spec = ttfs_train::spec::parse(arch).unwrap();
    let mut net = SpikingNet::new(&spec, shape, Neuron::B1, 1).unwrap();
    let mut state = State::new(Optimizer::adam(5e-4), &net.vars()).unwrap();
    let settings = Settings { batch: 32, seed: 1, spike_penalty: 0.0, relu_twin };
    let start = Instant::now();
    epoch(&mut net, &mut state, set, &settings, 1, |_, _, _| {}).map_err(|e| format!("{e:?}")).unwrap();
    start.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut data = ttfs_data::load_data(&common::fixture("mnist/train5k-images-idx3-ubyte.gz")).unwrap();
    let labels = common::labels("mnist/train5k-labels-idx1-ubyte.gz", data.count);
    let range = input_range(&data, None).unwrap();
    let mlp_set = TrainSet::new(&data, labels.clone(), range, 10);
    data.truncate(1000);
    let cnn_set = TrainSet::new(&data, labels[..1000].to_vec(), range, 10);
    let cases = [("784-340-10", &mlp_set, vec![784]), ("c16k5-p2-c32k5-p2-10", &cnn_set, vec![1, 28, 28])];
    let mut rows = Vec::new();
    println!("{:<24} {:>8} {:>10} {:>10} {:>7}", "network", "samples", "b1 s", "ReLU s", "ratio");
    for (arch, set, shape) in cases {
        let (mut snn, mut relu) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            snn.push(seconds(arch, set, &shape, false));
            relu.push(seconds(arch, set, &shape, true));
        }
        let (s, r) = (median(snn), median(relu));
        println!("{arch:<24} {:>8} {s:>10.2} {r:>10.2} {:>7.2}", set.count, s / r);
        rows.push(serde_json::json!({
            "arch": arch, "samples": set.count, "b1_seconds": s, "relu_seconds": r, "ratio": s / r,
            "b1_epoch_seconds_per_60k": s * 60000.0 / set.count as f64,
        }));
    }
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/training-bench.json");
    std::fs::write(&out, serde_json::to_string_pretty(&rows).unwrap()).unwrap();
    println!("wrote {}", out.display());
}
