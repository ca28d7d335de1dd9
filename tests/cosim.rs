//! `ttfs cosim`: the generated hardware in Verilator (and Icarus) against
//! the discrete reference: every hidden spike, every logit and every
//! latency, on whole data sets; a broken design is caught and its first
//! divergence named; SPRAM weights through the loader and preloaded.

mod common;

use common::{fixture, require};
use std::path::{Path, PathBuf};
use ttfs_cosim::stage::{self as cosim, Args, Report, Simulator, WeightLoad};
use ttfs_hw::target::Target;
use ttfs_ir::Network;
use ttfs_tools::Tool;

/// Converts a fixture model into `dir` and returns the network's path.
fn convert(dir: &Path, model: &str, calib: &str, calib_count: Option<usize>) -> PathBuf {
    let net = common::convert_fixture(model, calib, calib_count, &ttfs_convert::Options::default());
    let path = dir.join(format!("{model}.json"));
    std::fs::write(&path, net.to_json()).unwrap();
    path
}

fn args(input: &Path, data: &str, labels: Option<&str>, count: Option<usize>) -> Args {
    Args {
        input: input.to_path_buf(),
        data: fixture(data),
        labels: labels.map(fixture),
        count,
        lanes: ttfs_hw::planner::Lanes::Fixed(vec![]),
        target: Target::Ice40Up5k,
        simulator: Simulator::Verilator,
        load: WeightLoad::Loader,
        trace: None,
        trace_sample: 0,
        trust_design: false,
    }
}

/// Everything equal: spikes, outputs, every latency, the streaming interval.
fn assert_exact(r: &Report, what: &str) {
    let c = &r.comparison;
    assert_eq!(r.mismatched_spikes, 0, "{what}: {:?}", c.first_divergence);
    assert_eq!(r.mismatched_outputs, 0, "{what}: {:?}", c.first_output_mismatch);
    assert_eq!(c.cycle_model_mismatches, 0, "{what}: measured latency differs from the model");
    assert!(r.streaming_outputs_equal, "{what}: streamed outputs differ");
    let off = (r.initiation_interval - r.model_initiation_interval).abs() / r.model_initiation_interval;
    assert!(
        off < 0.01,
        "{what}: interval {} against the model's {}",
        r.initiation_interval,
        r.model_initiation_interval
    );
    assert!(c.reference_spikes > 0);
}

/// The full digits test set for 1, 4 and all lanes, and for 4 lanes on the
/// ECP5 (whose dense layers have the stage X): zero mismatches.
#[test]
fn digits_full_test_set_for_1_4_and_all_lanes() {
    if require(Tool::Verilator).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let net = convert(dir.path(), "digits_mlp.onnx", "digits/train_images.csv.gz", None);
    for (lanes, target) in
        [(1, Target::Ice40Hx8k), (4, Target::Ice40Hx8k), (0, Target::Ice40Hx8k), (4, Target::Ecp5_25f)]
    {
        let mut a = args(&net, "digits/test_images.csv.gz", Some("digits/test_labels.csv.gz"), None);
        a.target = target;
        a.lanes = ttfs_hw::planner::Lanes::Fixed(vec![lanes]);
        let r = cosim::run(&a).unwrap_or_else(|e| panic!("{e:#}"));
        eprintln!("{}", cosim::render(&r));
        assert_eq!(r.samples, 450);
        assert_exact(&r, &format!("digits, lanes {lanes}, {}", target.name()));
        assert!((r.accuracy.unwrap() - 0.9733).abs() < 1e-3);
    }
}

/// 200 MNIST test images on the UP5K design, its SPRAM weights once through
/// the design's own loader and once preloaded into the memory models.
#[test]
fn mnist_on_the_up5k_through_the_loader_and_preloaded() {
    if require(Tool::Verilator).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let net = convert(dir.path(), "mnist_mlp.onnx", "mnist/train5k-images-idx3-ubyte.gz", Some(1000));
    for load in [WeightLoad::Loader, WeightLoad::Preload] {
        let mut a = args(&net, "mnist/t10k-images-idx3-ubyte.gz", Some("mnist/t10k-labels-idx1-ubyte.gz"), Some(200));
        a.load = load;
        let r = cosim::run(&a).unwrap_or_else(|e| panic!("{e:#}"));
        eprintln!("{}", cosim::render(&r));
        assert_exact(&r, &format!("MNIST, {load:?}"));
        assert_eq!(r.weight_load, Some(load));
        match load {
            WeightLoad::Loader => assert!(r.load_cycles >= 100_352, "{} load cycles", r.load_cycles),
            WeightLoad::Preload => assert_eq!(r.load_cycles, 0),
        }
    }
}

/// Slow tier (`cargo test -- --ignored`): the MNIST design on the UP5K on
/// all 10,000 test images, weights through the loader, exactly the
/// reference's spikes, outputs and latencies (about a minute here).
#[test]
#[ignore = "slow tier: the full MNIST test set in co-simulation"]
fn mnist_full_test_set_on_the_up5k() {
    if require(Tool::Verilator).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let net = convert(dir.path(), "mnist_mlp.onnx", "mnist/train5k-images-idx3-ubyte.gz", None);
    let a = args(&net, "mnist/t10k-images-idx3-ubyte.gz", Some("mnist/t10k-labels-idx1-ubyte.gz"), None);
    let r = cosim::run(&a).unwrap_or_else(|e| panic!("{e:#}"));
    eprintln!("{}", cosim::render(&r));
    assert_eq!(r.samples, 10_000);
    assert_exact(&r, "MNIST, all test images");
    assert!(r.accuracy.unwrap() > 0.97, "{:?}", r.accuracy);
}

/// The lanes the convolution tests use: the MNIST CNN fixture's three
/// convolutions and two dense layers, and the trained LeNet-style CNN's two
/// convolutions and its dense layer.
const CNN_LANES: [usize; 5] = [8, 16, 16, 32, 10];
const LENET_LANES: [usize; 3] = [16, 32, 10];

/// The convolutional networks on 200 MNIST test images: the tf2onnx CNN
/// (padded convolutions with bias maps after folding the input offset and a
/// batch norm, fused 2×2 pools, a flatten, two dense layers) and the
/// LeNet-style CNN trained by `ttfs train` (5×5 convolutions without
/// padding): every spike, logit and latency equal to the reference and the
/// cycle model, and the layers within 1.3× of their weight-bandwidth bound.
#[test]
fn convolutional_networks_on_200_images() {
    if require(Tool::Verilator).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cnn = convert(dir.path(), "mnist_cnn.onnx", "mnist/train5k-images-idx3-ubyte.gz", Some(1000));
    let lenet = fixture("trained/mnist_lenet.json");
    for (net, lanes, what) in [(cnn, &CNN_LANES[..], "MNIST CNN (tf2onnx)"), (lenet, &LENET_LANES[..], "trained LeNet")]
    {
        let mut a = args(&net, "mnist/t10k-images-idx3-ubyte.gz", Some("mnist/t10k-labels-idx1-ubyte.gz"), Some(200));
        a.target = Target::Generic;
        a.lanes = ttfs_hw::planner::Lanes::Fixed(lanes.to_vec());
        let r = cosim::run(&a).unwrap_or_else(|e| panic!("{e:#}"));
        eprintln!("{what}: {}", cosim::render(&r));
        assert_eq!(r.samples, 200);
        assert_exact(&r, what);
        assert!(r.accuracy.unwrap() >= 0.98, "{what}: {:?}", r.accuracy);
        let bound = bound_ratio(&net, lanes, 200);
        assert!(bound <= 1.3, "{what}: layers take {bound:.2}× their bound");
    }
}

/// The layers' mean busy cycles over their weight-bandwidth bound on the
/// first `count` MNIST test images.
fn bound_ratio(net: &Path, lanes: &[usize], count: usize) -> f64 {
    let net = ttfs_ir::load(net).unwrap();
    let plan = ttfs_hw::planner::plan(&net, Target::Generic, lanes).unwrap();
    let codes = ttfs_hw::stage::input_codes(&net, &fixture("mnist/t10k-images-idx3-ubyte.gz"), Some(count)).unwrap();
    let model = ttfs_sim::Prepared::new(&net);
    ttfs_hw::cycles::stats(&model, &plan, "t10k", &codes).ratio_to_bound
}

/// Slow tier (`cargo test -- --ignored`): both convolutional networks on
/// all 10,000 MNIST test images, exactly the reference's spikes, outputs
/// and latencies.
#[test]
#[ignore = "slow tier: the full MNIST test set through both CNNs in co-simulation"]
fn convolutional_networks_on_the_full_test_set() {
    if require(Tool::Verilator).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cnn = convert(dir.path(), "mnist_cnn.onnx", "mnist/train5k-images-idx3-ubyte.gz", Some(1000));
    let lenet = fixture("trained/mnist_lenet.json");
    for (net, lanes, what, accuracy) in
        [(cnn, &CNN_LANES[..], "MNIST CNN (tf2onnx)", 0.97), (lenet, &LENET_LANES[..], "trained LeNet", 0.99)]
    {
        let mut a = args(&net, "mnist/t10k-images-idx3-ubyte.gz", Some("mnist/t10k-labels-idx1-ubyte.gz"), None);
        a.target = Target::Generic;
        a.lanes = ttfs_hw::planner::Lanes::Fixed(lanes.to_vec());
        let r = cosim::run(&a).unwrap_or_else(|e| panic!("{e:#}"));
        eprintln!("{what}: {}", cosim::render(&r));
        assert_eq!(r.samples, 10_000);
        assert_exact(&r, what);
        assert!(r.accuracy.unwrap() >= accuracy, "{what}: {:?}", r.accuracy);
    }
}

/// One weight flipped in a generated design's ROM image: the co-simulation
/// finds mismatches, and its first divergence is exactly where the
/// reference with the same flipped weight first differs from the original.
#[test]
fn a_flipped_weight_is_caught_and_its_first_divergence_named() {
    if require(Tool::Verilator).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let net_path = convert(dir.path(), "digits_mlp.onnx", "digits/train_images.csv.gz", None);
    let net = Network::from_json(&std::fs::read_to_string(&net_path).unwrap()).unwrap();
    let hw = dir.path().join("hw");
    let (plan, design) = ttfs_hw::stage::build(&net, Target::Ice40Hx8k, &[], None).unwrap();
    ttfs_hw::write(&design, &hw, false).unwrap();
    // Flip the sign bit of the weight from input 36 (a central pixel) to
    // neuron 5: layer 0 word 36·G + 5 / P, lane 5 mod P (8-bit weights).
    let (input, neuron) = (36usize, 5usize);
    let layer = &plan.layers[0];
    let word = input * layer.blocks + neuron / layer.lanes;
    let bit = (neuron % layer.lanes) * layer.weight_bits as usize + layer.weight_bits as usize - 1;
    let rom_path = hw.join("mem/l0_weights.hex");
    let mut lines: Vec<String> = std::fs::read_to_string(&rom_path).unwrap().lines().map(String::from).collect();
    let value = u64::from_str_radix(&lines[word], 16).unwrap() ^ (1 << bit);
    lines[word] = format!("{value:0width$X}", width = lines[word].len());
    std::fs::write(&rom_path, lines.join("\n") + "\n").unwrap();

    let mut a = args(&hw, "digits/test_images.csv.gz", None, None);
    a.target = Target::Ice40Hx8k;
    let r = cosim::run(&a).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(r.mismatched_spikes > 0, "the broken weight must show");
    let d = r.comparison.first_divergence.clone().expect("a first divergence");

    // The reference with the same flip, against the original, image by image.
    let mut broken = net.clone();
    if let ttfs_ir::Layer::Dense(dense) = &mut broken.layers[0] {
        let q = dense.params.quant.as_mut().unwrap();
        let w = &mut q.weights[neuron * dense.inputs + input];
        *w = ((*w as u8) ^ 0x80) as i8 as i32;
    }
    let (good, bad) = (ttfs_sim::Prepared::new(&net), ttfs_sim::Prepared::new(&broken));
    let codes = ttfs_hw::stage::input_codes(&net, &fixture("digits/test_images.csv.gz"), None).unwrap();
    let (sample, q0) = codes
        .chunks(64)
        .enumerate()
        .find(|(_, q0)| {
            let (a, b) = (ttfs_sim::quantized::forward(&good, q0), ttfs_sim::quantized::forward(&bad, q0));
            a.values[0] != b.values[0]
        })
        .expect("the flip changes some spike");
    let (a, b) = (ttfs_sim::quantized::forward(&good, q0), ttfs_sim::quantized::forward(&bad, q0));
    let first = (0..a.values[0].len()).find(|&i| a.values[0][i] != b.values[0][i]).unwrap();
    assert_eq!((d.sample, d.layer, d.neuron), (sample, 0, first), "{d:?}");
    assert_eq!(first, neuron);
    let ticks = net.input.code.unwrap().ticks; // the hidden layer's T equals the input's here (8 bits)
    let tick = |q: i64| (q > 0).then(|| ticks - q as u32);
    assert_eq!(d.expected_tick, tick(a.values[0][first]));
    assert_eq!(d.actual_tick, tick(b.values[0][first]));
    assert_eq!(d.reference_potential, a.potentials[0][first]);
}

/// Icarus on the generated test bench, a second opinion on a subset: the
/// same exact agreement (SPRAM design included, through its loader).
#[test]
fn icarus_second_opinion_agrees() {
    if require(Tool::Iverilog).is_none() || require(Tool::Vvp).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let net = convert(dir.path(), "digits_mlp.onnx", "digits/train_images.csv.gz", None);
    let mut a = args(&net, "digits/test_images.csv.gz", None, Some(40));
    a.target = Target::Ice40Up5k;
    a.simulator = Simulator::Icarus;
    let r = cosim::run(&a).unwrap_or_else(|e| panic!("{e:#}"));
    eprintln!("{}", cosim::render(&r));
    assert_exact(&r, "digits under Icarus");
}

/// `--trace` writes a VCD of the chosen sample.
#[test]
fn trace_writes_a_waveform() {
    if require(Tool::Verilator).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let net = convert(dir.path(), "digits_mlp.onnx", "digits/train_images.csv.gz", None);
    let vcd = dir.path().join("one.vcd");
    let mut a = args(&net, "digits/test_images.csv.gz", None, Some(5));
    a.trace = Some(vcd.clone());
    a.trace_sample = 3;
    let r = cosim::run(&a).unwrap_or_else(|e| panic!("{e:#}"));
    assert_exact(&r, "traced run");
    let text = std::fs::read_to_string(&vcd).unwrap();
    assert!(text.contains("$enddefinitions") && text.contains("s_valid") && text.contains("\n#"), "a VCD");
}

/// A design Verilator cannot translate: the error carries the command line
/// and Verilator's whole output.
#[test]
fn a_verilator_failure_carries_the_command_and_its_output() {
    if require(Tool::Verilator).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let net_path = convert(dir.path(), "digits_mlp.onnx", "digits/train_images.csv.gz", None);
    let net = Network::from_json(&std::fs::read_to_string(&net_path).unwrap()).unwrap();
    let hw = dir.path().join("hw");
    let (_, design) = ttfs_hw::stage::build(&net, Target::Ice40Hx8k, &[], None).unwrap();
    ttfs_hw::write(&design, &hw, false).unwrap();
    let top = hw.join(format!("rtl/{}.v", design.top));
    let mut text = std::fs::read_to_string(&top).unwrap();
    text.push_str("\nmodule broken_by_the_test (input wire a;\n");
    std::fs::write(&top, text).unwrap();
    let mut a = args(&hw, "digits/test_images.csv.gz", None, Some(2));
    a.target = Target::Ice40Hx8k;
    let err = format!("{:#}", cosim::run(&a).expect_err("Verilator must fail"));
    assert!(err.contains("verilator") && err.contains("--cc") && err.contains("%Error"), "{err}");
}

/// The shim's interface is checked when a library loads: one without
/// `ttfs_abi`, or one that reports another version, run-request layout or
/// design shape, is refused with what it reported and what was expected.
#[test]
fn a_library_for_another_shim_interface_is_refused_at_load() {
    let Some(cxx) = require(Tool::Cxx) else { return };
    let net = common::convert_fixture("digits_mlp.onnx", "digits/train_images.csv.gz", Some(200), &Default::default());
    let plan = ttfs_hw::planner::plan(&net, Target::Generic, &[]).unwrap();
    let view = ttfs_hw::view::view(&net, &plan);
    let dir = tempfile::tempdir().unwrap();
    let build = |name: &str, source: &str| -> ttfs_cosim::verilator::Built {
        let src = dir.path().join(format!("{name}.cpp"));
        std::fs::write(&src, source).unwrap();
        let library = dir.path().join(format!("lib{name}.so"));
        let mut cmd = std::process::Command::new(&cxx);
        cmd.args(["-shared", "-fPIC", "-o"]).arg(&library).arg(&src);
        ttfs_tools::run(&mut cmd).unwrap_or_else(|e| panic!("{e}"));
        ttfs_cosim::verilator::Built { library, cached: false, seconds: 0.0 }
    };
    let refused = |built: &ttfs_cosim::verilator::Built| match ttfs_cosim::verilator::Model::open(built, &view, None) {
        Ok(_) => panic!("{} was accepted", built.library.display()),
        Err(e) => format!("{e:#}"),
    };

    let none = build("none", "extern \"C\" int ttfs_new(void) { return 0; }\n");
    assert!(refused(&none).contains("no ttfs_abi"), "{}", refused(&none));

    let abi = |version: u32, bytes: u32, inputs: u64| {
        format!(
            "#include <cstdint>\nstruct A {{ uint32_t v; uint32_t b; uint64_t i; uint64_t c; }};\n\
             extern \"C\" void ttfs_abi(A* a) {{ a->v = {version}; a->b = {bytes}; a->i = {inputs}; a->c = 10; }}\n"
        )
    };
    // A run request is 12 eight-byte fields and two four-byte ones on a
    // 64-bit machine: 96 bytes.
    let (n_in, current) = (view.n_in as u64, ttfs_cosim::verilator::SHIM_ABI_VERSION);
    for (name, source, reported) in [
        ("old", abi(1, 96, n_in), "shim version 1, 96-byte run requests"),
        ("layout", abi(current, 88, n_in), "88-byte run requests"),
        ("shape", abi(current, 96, 784), "784 inputs"),
    ] {
        let message = refused(&build(name, &source));
        assert!(
            message.contains("was built for another interface or design") && message.contains(reported),
            "{message}"
        );
        let expected = format!("this ttfs expects version {current}, 96 bytes, {n_in} inputs, 10 classes");
        assert!(message.contains(&expected), "{message}");
    }
}
