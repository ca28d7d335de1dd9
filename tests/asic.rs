//! The ASIC path: `--target asic` designs of the digits and MNIST MLPs hold
//! no vendor primitive, lint clean, co-simulate with 0 mismatches (the
//! MNIST MLP's first layer through the ROM macro's behavioural model), and
//! come with a well-formed OpenLane 2 `config.json` and an SDC with I/O
//! delays; `ttfs synth --asic` gives generic cells and transistors, and with
//! the SkyWater 130 nm liberty (tests/fixtures/asic) library cells, area and
//! ABC's delay, and on data the energy proxy per image against the
//! network unrolled; liberty files that are not liberty, or have no
//! flip-flop, are refused by name.

mod common;

use common::{convert_fixture, fixture};
use std::path::Path;
use std::process::Command;
use ttfs_convert::Options;
use ttfs_hw::manifest::Manifest;
use ttfs_hw::target::Target;
use ttfs_tools::Tool;
use ttfs_tools::testing::require;

fn digits() -> ttfs_ir::Network {
    convert_fixture("digits_mlp.onnx", "digits/train_images.csv.gz", None, &Options::default())
}

fn mnist() -> ttfs_ir::Network {
    convert_fixture("mnist_mlp.onnx", "mnist/train5k-images-idx3-ubyte.gz", Some(1000), &Options::default())
}

/// Generates `net` for the ASIC target with `lanes` into `dir`.
fn generate(net: &ttfs_ir::Network, lanes: &[usize], dir: &Path) -> Manifest {
    let (_, design) = ttfs_hw::stage::build(net, Target::Asic, lanes, None).unwrap();
    ttfs_hw::write(&design, dir, false).unwrap();
    Manifest::read(dir).unwrap()
}

/// `ttfs cosim DIR` on the first `count` images of a data set.
fn cosim(dir: &Path, images: &str, labels: &str, count: usize) -> ttfs_cosim::stage::Report {
    ttfs_cosim::stage::run(&ttfs_cosim::stage::Args {
        input: dir.to_path_buf(),
        data: fixture(images),
        labels: Some(fixture(labels)),
        count: Some(count),
        lanes: ttfs_hw::planner::Lanes::Fixed(Vec::new()),
        target: Target::Generic,
        simulator: ttfs_cosim::stage::Simulator::Verilator,
        load: ttfs_cosim::stage::WeightLoad::Loader,
        trace: None,
        trace_sample: 0,
        trust_design: false,
    })
    .unwrap()
}

/// No FPGA primitive in any RTL file, and Verilator's lint is clean.
fn primitive_free_and_lint_clean(dir: &Path, manifest: &Manifest) {
    for file in &manifest.files["rtl"] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        for primitive in ["SB_", "EHXPLLL", "DP16KD", "MULT18X18D", "TRELLIS", "ICESTORM"] {
            let code: String = text.lines().filter(|l| !l.trim_start().starts_with("//")).collect();
            assert!(!code.contains(primitive), "{file} instantiates {primitive}");
        }
    }
    let Some(verilator) = require(Tool::Verilator) else { return };
    let out = Command::new(verilator)
        .current_dir(dir)
        .args(["--lint-only", "-Wall", "-y", "sim", "--top-module", &manifest.top])
        .args(&manifest.files["rtl"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn asic_designs_are_primitive_free_exact_and_ready_for_openlane() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("digits");
    let manifest = generate(&digits(), &[4, 2], &dir);
    assert!(manifest.memory_macros.is_empty(), "the digits MLP's memories are ROM logic");
    assert!(manifest.memories.iter().all(|m| m.kind == "logic" || m.kind == "registers"), "{:?}", manifest.memories);
    primitive_free_and_lint_clean(&dir, &manifest);

    // OpenLane 2's configuration and the SDC.
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["DESIGN_NAME"], manifest.top.as_str());
    assert_eq!(config["CLOCK_PORT"], "clk");
    assert_eq!(config["CLOCK_PERIOD"], 20.0);
    let verilog: Vec<&str> = config["VERILOG_FILES"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(verilog.len(), manifest.files["rtl"].len());
    assert!(verilog.iter().all(|f| f.starts_with("dir::rtl/") && dir.join(&f[5..]).is_file()), "{verilog:?}");
    assert!(config.get("MACROS").is_none());
    let sdc = std::fs::read_to_string(dir.join(format!("constraints/{}.sdc", manifest.top))).unwrap();
    for line in [
        "create_clock -name clk -period 20.000 [get_ports clk]",
        "set_input_delay -clock clk 4.000 [all_inputs -no_clocks]",
        "set_output_delay -clock clk 4.000 [all_outputs]",
    ] {
        assert!(sdc.lines().any(|l| l == line), "the SDC has {line:?}:\n{sdc}");
    }

    if require(Tool::Verilator).is_some() && require(Tool::Cxx).is_some() {
        let report = cosim(&dir, "digits/test_images.csv.gz", "digits/test_labels.csv.gz", 450);
        assert_eq!((report.mismatched_spikes, report.mismatched_outputs), (0, 0));
        assert!(report.accuracy.unwrap() > 0.97, "{:?}", report.accuracy);
    }

    // The MNIST MLP: its first layer's 784 × 128 weights are a ROM macro.
    let dir = tmp.path().join("mnist");
    let manifest = generate(&mnist(), &[8, 5], &dir);
    assert_eq!(manifest.memory_macros.len(), 1, "{:?}", manifest.memory_macros);
    let m = &manifest.memory_macros[0];
    assert_eq!((m.instance.as_str(), m.words, m.width, m.bits), ("u_weights0", 12544, 64, 802_816));
    assert!(dir.join("sim/ttfs_rom_macro.v").is_file() && dir.join(&m.file).is_file());
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    assert!(config["MACROS"]["ttfs_rom_macro"]["instances"].get("u_weights0").is_some(), "{config}");
    primitive_free_and_lint_clean(&dir, &manifest);
    if require(Tool::Verilator).is_some() && require(Tool::Cxx).is_some() {
        let report = cosim(&dir, "mnist/t10k-images-idx3-ubyte.gz", "mnist/t10k-labels-idx1-ubyte.gz", 100);
        assert_eq!((report.mismatched_spikes, report.mismatched_outputs), (0, 0));
    }
}

#[test]
fn synth_asic_counts_cells_and_maps_to_sky130() {
    if require(Tool::Yosys).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("digits");
    generate(&digits(), &[2, 1], &dir);
    let args = |liberty: Option<&Path>| ttfs_synth::asic::Args {
        dir: dir.clone(),
        liberty: liberty.map(Path::to_path_buf),
        clock_ns: None,
        dont_use: Vec::new(),
        data: None,
        count: None,
        unrolled: None,
    };
    let with_data =
        ttfs_synth::asic::Args { data: Some(fixture("digits/test_images.csv.gz")), count: Some(100), ..args(None) };
    let generic = ttfs_synth::asic::run(&with_data, &mut |_| {}).unwrap();
    // The energy proxy: the TTFS design's multiply-accumulates per image
    // against the same network unrolled (64·32 + 32·10 every image).
    let energy = generic.energy.as_ref().expect("--data gives the energy proxy");
    assert_eq!((energy.samples, energy.unrolled_ops), (100, Some(64 * 32 + 32 * 10)));
    assert!(energy.input_events > 5.0 && energy.input_events < 64.0, "{energy:?}");
    assert!(energy.synaptic_ops > 0.0 && energy.weight_words_read > 0.0, "{energy:?}");
    assert!(energy.synaptic_ops < 64.0 * 32.0 + 32.0 * 10.0, "{energy:?}");
    assert!(generic.cells > 1000 && generic.transistors > 10 * generic.cells, "{generic:?}");
    assert!(generic.cells_by_type.keys().any(|k| k.starts_with("$_DFF") || k.starts_with("$_SDFF")));
    assert_eq!((generic.area_um2, generic.delay_ns), (None, None));

    let sky130 = fixture("asic/sky130_fd_sc_hd__tt_025C_1v80.lib.gz");
    let mapped = ttfs_synth::asic::run(&args(Some(&sky130)), &mut |_| {}).unwrap();
    eprintln!("{}", ttfs_synth::asic::render(&mapped));
    let json = serde_json::to_value(&mapped).unwrap();
    for key in ["cells", "transistors", "area_um2", "delay_ns", "memory_macros"] {
        assert!(json.get(key).is_some(), "no {key} in {json}");
    }
    let cells = mapped.library_cells_by_type.as_ref().unwrap();
    assert!(cells.keys().all(|c| c.starts_with("sky130_fd_sc_hd__")), "{cells:?}");
    assert!(cells.keys().all(|c| !c.contains("lpflow") && !c.contains("probe")), "dont_use holds: {cells:?}");
    assert!(cells.contains_key("sky130_fd_sc_hd__dfxtp_1"));
    let area = mapped.area_um2.unwrap();
    assert!(area > 10_000.0 && area < 1e7, "{area} µm²");
    let delay = mapped.delay_ns.unwrap();
    assert!(delay > 0.1 && delay < 100.0 && mapped.timing_met == Some(delay <= 20.0), "{delay} ns");
    // Deterministic: the same design and library give the same area.
    let again = ttfs_synth::asic::run(&args(Some(&sky130)), &mut |_| {}).unwrap();
    assert_eq!(again.area_um2, mapped.area_um2);

    // Libraries that cannot be used are refused by name, before Yosys runs.
    let bad = |name: &str, text: &str, what: &str| {
        let path = tmp.path().join(name);
        std::fs::write(&path, text).unwrap();
        let err = ttfs_synth::asic::run(&args(Some(&path)), &mut |_| {}).unwrap_err().to_string();
        assert!(err.contains(name) && err.contains(what), "{err}");
    };
    bad("notes.lib", "this is not a liberty file\n", "no `library (...)` group");
    bad("empty.lib", "library (x) {\n}\n", "no `cell (...)` groups");
    bad("noff.lib", "library (x) {\n  cell (INV) {\n    area : 1;\n  }\n}\n", "no flip-flop");
    let missing = tmp.path().join("missing.lib");
    let err = ttfs_synth::asic::run(&args(Some(&missing)), &mut |_| {}).unwrap_err().to_string();
    assert!(err.contains("missing.lib"), "{err}");

    // A design for an FPGA is not an ASIC design.
    let fpga = tmp.path().join("fpga");
    let (_, design) = ttfs_hw::stage::build(&digits(), Target::Ice40Hx8k, &[], None).unwrap();
    ttfs_hw::write(&design, &fpga, false).unwrap();
    let err = ttfs_synth::asic::run(&ttfs_synth::asic::Args { dir: fpga, ..args(None) }, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(err.contains("--target asic"), "{err}");
}

/// `--unrolled`: the digits MLP with every weight a constant multiplier,
/// checked against the reference under Icarus on 100 test images, and
/// synthesized for sky130 one neuron per layer (each layer's median neuron
/// × its neurons), next to the TTFS design from the same flow. The unrolled
/// RTL lints clean, and a convolutional network is refused with a reason.
#[test]
fn synth_asic_compares_with_the_network_unrolled() {
    if require(Tool::Yosys).is_none() || require(Tool::Iverilog).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("digits");
    let net = digits();
    generate(&net, &[2, 1], &dir);
    let args = ttfs_synth::asic::Args {
        dir: dir.clone(),
        liberty: Some(fixture("asic/sky130_fd_sc_hd__tt_025C_1v80.lib.gz")),
        clock_ns: None,
        dont_use: Vec::new(),
        data: Some(fixture("digits/test_images.csv.gz")),
        count: Some(100),
        unrolled: Some(ttfs_synth::unrolled::Mode::Auto),
    };
    // Auto picks the whole network for the digits MLP (2,368 weights); the
    // test synthesizes one neuron per layer, which is what auto does for
    // the MNIST MLP, and is quicker.
    const { assert!(64 * 32 + 32 * 10 <= ttfs_synth::unrolled::WHOLE_MAX_WEIGHTS) };
    let args = ttfs_synth::asic::Args { unrolled: Some(ttfs_synth::unrolled::Mode::PerNeuron), ..args };
    let report = ttfs_synth::asic::run(&args, &mut |_| {}).unwrap();
    let text = ttfs_synth::asic::render(&report);
    eprintln!("{text}");
    let u = report.unrolled.as_ref().expect("--unrolled reports the unrolled network");
    assert!(u.extrapolated && u.mode.contains("extrapolated"), "{u:?}");
    let layers = ttfs_hw::unrolled::layers(&net).unwrap();
    assert_eq!(u.parts.len(), 2);
    for (part, layer) in u.parts.iter().zip(&layers) {
        assert_eq!(
            (part.layer, part.neuron, part.times),
            (Some(layer.index), Some(layer.median_neuron()), layer.outputs as u64)
        );
        assert_eq!(part.checked, 100, "every image checked against the reference");
        assert!(part.area_um2.unwrap() > 1000.0 && part.delay_ns.unwrap() > 0.1, "{part:?}");
    }
    assert_eq!(u.multiply_accumulates, 64 * 32 + 32 * 10);
    let weight_bits: u64 = layers.iter().map(|l| l.weight_bits_total()).sum();
    assert_eq!((u.weight_bits, u.memory_bits), (weight_bits, 0));
    // No weight memory to read, so all of it in logic: larger than the
    // 2-lane TTFS design, which stores its weights and reuses two multipliers.
    let (ttfs_area, unrolled_area) = (report.area_um2.unwrap(), u.area_um2.unwrap());
    assert!(unrolled_area > 2.0 * ttfs_area, "unrolled {unrolled_area} µm² against TTFS {ttfs_area} µm²");
    assert!(
        text.contains("fully unrolled (one neuron per layer, extrapolated") && text.contains("0 mismatches"),
        "{text}"
    );

    // The unrolled RTL is lint clean.
    if let Some(verilator) = require(Tool::Verilator) {
        for part in &u.parts {
            let sub = dir.join("build/unrolled").join(&part.top);
            let out = Command::new(&verilator)
                .current_dir(&sub)
                .args(["--lint-only", "-Wall", "--top-module", &part.top, "-y", "rtl"])
                .arg(format!("rtl/{}.v", part.top))
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
    }

    // Convolutions are refused, by layer name, before anything runs.
    let cnn = convert_fixture("mnist_cnn.onnx", "mnist/train5k-images-idx3-ubyte.gz", Some(64), &Options::default());
    let err = ttfs_hw::unrolled::layers(&cnn).unwrap_err().to_string();
    assert!(err.contains("is a convolution") && err.contains("dense networks"), "{err}");
}
