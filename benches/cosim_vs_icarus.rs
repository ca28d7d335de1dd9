//! Co-simulation speed: the MNIST 784-128-10 design for the UP5K (8-bit
//! weights, layer 1 in SPRAM) on the same MNIST test images, through
//! `ttfs cosim` with Verilator and with Icarus, in one run; prints each
//! one's simulated cycles per second and their ratio (goals: Verilator
//! ≥ 5 M cycles/s, ≥ 50× Icarus). Both runs load the SPRAM through the
//! design's loader and check every spike against the reference.
//!
//! Run: `cargo bench --bench cosim_vs_icarus` (`COSIM_IMAGES=N` to change
//! the 50 images; Icarus takes about a minute at 50).

#[path = "../tests/common/mod.rs"]
mod common;

use ttfs_convert::Options;
use ttfs_cosim::stage::{self as cosim, Args, Simulator, WeightLoad};
use ttfs_hw::target::Target;

fn main() {
    let images: usize = std::env::var("COSIM_IMAGES").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    let dir = tempfile::tempdir().unwrap();
    let net = common::convert_fixture(
        "mnist_mlp.onnx",
        "mnist/train5k-images-idx3-ubyte.gz",
        Some(1000),
        &Options::default(),
    );
    let path = dir.path().join("mnist.json");
    std::fs::write(&path, net.to_json()).unwrap();
    let run = |simulator| {
        let args = Args {
            input: path.clone(),
            data: common::fixture("mnist/t10k-images-idx3-ubyte.gz"),
            labels: Some(common::fixture("mnist/t10k-labels-idx1-ubyte.gz")),
            count: Some(images),
            lanes: ttfs_hw::planner::Lanes::Fixed(vec![]),
            target: Target::Ice40Up5k,
            simulator,
            load: WeightLoad::Loader,
            trace: None,
            trace_sample: 0,
            trust_design: false,
        };
        let report = cosim::run(&args).unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(report.mismatched_spikes + report.mismatched_outputs, 0, "{}", cosim::render(&report));
        report
    };
    // The Verilator build is cached; build it first so that both runs time only simulation.
    run(Simulator::Verilator);
    let verilator = run(Simulator::Verilator);
    let icarus = run(Simulator::Icarus);
    println!("MNIST 784-128-10 on the UP5K, {images} images, SPRAM through the loader, every spike checked:");
    println!("  Verilator {:>8.3} M simulated cycles/s", verilator.simulated_cycles_per_second / 1e6);
    println!("  Icarus    {:>8.3} M simulated cycles/s", icarus.simulated_cycles_per_second / 1e6);
    println!("  ratio     {:>8.1}x", verilator.simulated_cycles_per_second / icarus.simulated_cycles_per_second);
}
