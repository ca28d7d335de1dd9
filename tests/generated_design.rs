//! Generated designs: they pass the linters and Yosys's checks, their
//! files are deterministic and snapshotted, and simulated (Icarus,
//! Verilator) they produce every hidden spike, every logit and every class
//! of the discrete reference, in the number of cycles the cycle model says.

mod common;

use common::{canonical_samples, convert_fixture, require};
use std::path::Path;
use std::process::Command;
use ttfs_convert::Options;
use ttfs_cosim::verilator::{FNV_OFFSET, fnv1a};
use ttfs_hw::Design;
use ttfs_hw::cycles::{self, SpikeCounts};
use ttfs_hw::plan::Plan;
use ttfs_hw::stage::build;
use ttfs_hw::target::{Family, Target};
use ttfs_hw::testbench::{self, Spike, Transcript};
use ttfs_ir::Network;
use ttfs_sim::{Prepared, quantized};
use ttfs_tools::{Tool, combined, run};

fn digits() -> Network {
    convert_fixture("digits_mlp.onnx", "digits/train_images.csv.gz", None, &Options::default())
}

fn mnist() -> Network {
    convert_fixture("mnist_mlp.onnx", "mnist/train5k-images-idx3-ubyte.gz", Some(1000), &Options::default())
}

/// Input codes of the first `count` samples of a fixture data file.
fn codes(net: &Network, data: &str, count: usize) -> Vec<i64> {
    let (values, _) = canonical_samples(net, data, Some(count));
    let width: usize = net.input.shape.iter().product();
    values.chunks(width).flat_map(|raw| ttfs_sim::encode::discrete(net, raw)).collect()
}

/// Writes `design` into a fresh temporary directory.
fn write(design: &Design) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    ttfs_hw::write(design, dir.path(), true).unwrap();
    dir
}

fn files_with_prefix(design: &Design, prefix: &str) -> Vec<String> {
    design.files.keys().filter(|p| p.starts_with(prefix) && p.ends_with(".v")).cloned().collect()
}

/// Compares a test bench transcript with the integer closed form, spike by
/// spike, and the measured cycles with the cycle model, image by image.
fn check_against_reference(net: &Network, plan: &Plan, codes: &[i64], transcript: &Transcript) {
    let model = Prepared::new(net);
    let width = plan.inputs;
    let images = codes.len() / width;
    assert_eq!(transcript.results.len(), images, "one result per image");
    let hw_layers = ttfs_hw::layers::hw_layers(net).expect("the network has hardware layers");
    let mut expected_spikes = Vec::new();
    for (image, q0) in codes.chunks(width).enumerate() {
        let trace = quantized::forward(&model, q0);
        let layers = trace.values.len();
        for (layer, values) in trace.values[..layers - 1].iter().enumerate() {
            for (neuron, &q) in values.iter().enumerate() {
                if q > 0 {
                    expected_spikes.push(Spike { layer, image, neuron, q });
                }
            }
        }
        let result = &transcript.results[image];
        assert_eq!(result.image, image);
        assert_eq!(result.logits, trace.logits(), "logits of image {image}");
        assert_eq!(result.class, ttfs_sim::argmax(trace.logits()), "class of image {image}");
        let counts = SpikeCounts::of(&model, &hw_layers, q0);
        assert_eq!(result.cycles, cycles::latency(plan, &counts), "cycles of image {image} ({counts:?})");
    }
    // Each layer emits in neuron order per image; the test bench prints
    // layers interleaved, so compare per layer.
    let mut actual = transcript.spikes.clone();
    actual.sort_by_key(|s| (s.layer, s.image, s.neuron));
    expected_spikes.sort_by_key(|s| (s.layer, s.image, s.neuron));
    assert_eq!(actual.len(), expected_spikes.len(), "number of hidden spikes");
    if let Some((a, e)) = actual.iter().zip(&expected_spikes).find(|(a, e)| a != e) {
        panic!("first mismatched spike: hardware {a:?}, reference {e:?}");
    }
}

/// Runs the generated test bench under Icarus on `codes`.
fn run_icarus(dir: &Path, design: &Design, codes: &[i64], images: usize, stream: bool) -> Option<Transcript> {
    let (iverilog, vvp) = (require(Tool::Iverilog)?, require(Tool::Vvp)?);
    std::fs::write(dir.join("images.hex"), testbench::stimulus_hex(codes)).unwrap();
    let mut compile = Command::new(iverilog);
    compile.current_dir(dir).args(["-g2005", "-o", "tb.vvp", "-y", "sim", "-s"]).arg(format!("{}_tb", design.top));
    compile.args(files_with_prefix(design, "rtl/")).arg(format!("sim/{}_tb.v", design.top));
    run(&mut compile).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Command::new(vvp);
    sim.current_dir(dir).args(["-n", "tb.vvp", "+images=images.hex"]).arg(format!("+count={images}"));
    if stream {
        sim.arg("+stream");
    }
    let out = run(&mut sim).unwrap_or_else(|e| panic!("{e}"));
    Some(testbench::parse(&combined(&out)).unwrap_or_else(|e| panic!("{e}")))
}

#[test]
fn digits_design_matches_the_reference_spike_for_spike_under_icarus() {
    let net = digits();
    // The test set, then two edge cases: no pixel spikes, every pixel spikes
    // as early as it can.
    let mut codes = codes(&net, "digits/test_images.csv.gz", 450);
    let t0 = net.input.code.unwrap().ticks as i64;
    codes.extend(std::iter::repeat_n(0, 64).chain(std::iter::repeat_n(t0, 64)));
    for (target, lanes) in [(Target::Ice40Hx8k, vec![]), (Target::Generic, vec![0]), (Target::Generic, vec![1, 3])] {
        let (plan, design) = build(&net, target, &lanes, None).unwrap();
        let dir = write(&design);
        // The slow configuration on a subset that keeps the edge cases.
        let subset: Vec<i64> =
            if lanes == [1, 3] { [&codes[..60 * 64], &codes[450 * 64..]].concat() } else { codes.clone() };
        let n = subset.len() / 64;
        let Some(transcript) = run_icarus(dir.path(), &design, &subset, n, false) else { return };
        check_against_reference(&net, &plan, &subset, &transcript);
        eprintln!("{target} lanes {lanes:?}: {n} images, {} spikes, all equal", transcript.spikes.len());
    }
}

/// Builds the generated test bench with Verilator and runs it on `codes`.
fn run_verilator(dir: &Path, design: &Design, codes: &[i64], images: usize, extra: &[&str]) -> Option<Transcript> {
    let verilator = require(Tool::Verilator)?;
    std::fs::write(dir.join("images.hex"), testbench::stimulus_hex(codes)).unwrap();
    let mut build = Command::new(verilator);
    build
        .current_dir(dir)
        .args(["--binary", "--timing", "-Wall", "-j", "2", "-y", "sim", "-Mdir", "obj", "-o", "tb", "--top-module"])
        .arg(format!("{}_tb", design.top))
        .arg(format!("-GMAX_IMAGES={images}"))
        .args(files_with_prefix(design, "rtl/"))
        .arg(format!("sim/{}_tb.v", design.top));
    run(&mut build).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Command::new(dir.join("obj/tb"));
    sim.current_dir(dir).arg("+images=images.hex").arg(format!("+count={images}")).args(extra);
    let out = run(&mut sim).unwrap_or_else(|e| panic!("{e}"));
    Some(testbench::parse(&combined(&out)).unwrap_or_else(|e| panic!("{e}")))
}

/// The MNIST 784-128-10 on the UP5K keeps its first layer's weights in
/// SPRAM: the test bench loads them through the design's own loader from
/// `mem/weights_spram.hex`, then 200 test images match the reference spike
/// for spike, and back to back they stream at the model's interval or better.
#[test]
fn mnist_design_on_the_up5k_loads_its_spram_and_matches_the_reference_under_verilator() {
    let net = mnist();
    let (plan, design) = build(&net, Target::Ice40Up5k, &[], None).unwrap();
    assert!(design.files.contains_key("mem/weights_spram.bin") && design.files.contains_key("sim/SB_SPRAM256KA.v"));
    let dir = write(&design);
    let images = 200;
    let codes = codes(&net, "mnist/t10k-images-idx3-ubyte.gz", images);
    let Some(transcript) = run_verilator(dir.path(), &design, &codes, images, &[]) else { return };
    check_against_reference(&net, &plan, &codes, &transcript);
    let spikes = transcript.spikes.len();
    // Streaming: the same results, and the images overlap in the pipeline.
    let Some(streamed) = run_verilator(dir.path(), &design, &codes, images, &["+stream"]) else { return };
    let classes = |t: &Transcript| t.results.iter().map(|r| (r.class, r.logits.clone())).collect::<Vec<_>>();
    assert_eq!(classes(&streamed), classes(&transcript));
    let model = Prepared::new(&net);
    let isolated: u64 = transcript.results.iter().map(|r| r.cycles).sum();
    let stats = cycles::stats(&model, &plan, "t10k", &codes);
    let interval = streamed.mean_interval();
    eprintln!(
        "MNIST UP5K: {images} images, {spikes} hidden spikes equal; latency mean {:.0} cycles (model {:.0}); \
         streaming {interval:.0} cycles per image (model {:.0})",
        isolated as f64 / images as f64,
        stats.latency_mean,
        stats.initiation_interval_mean
    );
    assert!(interval < isolated as f64 / images as f64, "streaming overlaps images");
    let off = (interval - stats.initiation_interval_mean).abs() / stats.initiation_interval_mean;
    assert!(off < 0.01, "streaming interval {interval:.1} against the model's {:.1}", stats.initiation_interval_mean);
}

/// Designs that cover the generator's choices: block RAM and SPRAM weights,
/// potentials in RAM and in flip-flops, one lane to all lanes, both families.
fn design_matrix() -> Vec<(String, Network, Target, Vec<usize>)> {
    let digits = digits();
    vec![
        ("digits_hx8k".into(), digits.clone(), Target::Ice40Hx8k, vec![]),
        ("digits_ecp5".into(), digits.clone(), Target::Ecp5_25f, vec![]),
        ("digits_all_lanes".into(), digits.clone(), Target::Generic, vec![0]),
        ("digits_1_lane".into(), digits, Target::Generic, vec![1, 2]),
        ("mnist_up5k".into(), mnist(), Target::Ice40Up5k, vec![]),
    ]
}

/// Yosys commands that read the target family's primitives as blackboxes.
fn cell_library(target: Target) -> &'static str {
    match target.family() {
        Family::Ecp5 => "read_verilog -lib +/ecp5/cells_bb.v",
        Family::Ice40 | Family::Generic => "read_verilog -lib +/ice40/cells_sim.v",
    }
}

/// Every generated design (top and test bench) passes `verilator
/// --lint-only -Wall`, compiles under `iverilog -g2005`, and passes Yosys's
/// `hierarchy -check; proc; check -assert` with the family's cells as `-lib`.
#[test]
fn generated_designs_are_lint_clean_and_pass_yosys_checks() {
    let (Some(verilator), Some(iverilog), Some(yosys)) =
        (require(Tool::Verilator), require(Tool::Iverilog), require(Tool::Yosys))
    else {
        return;
    };
    for (name, net, target, lanes) in design_matrix() {
        let (_, design) = build(&net, target, &lanes, None).unwrap();
        let dir = write(&design);
        let rtl = files_with_prefix(&design, "rtl/");
        let tb = format!("sim/{}_tb.v", design.top);
        for (top, extra) in
            [(design.top.clone(), vec![]), (format!("{}_tb", design.top), vec![tb.clone(), "--timing".into()])]
        {
            let mut lint = Command::new(&verilator);
            lint.current_dir(dir.path()).args(["--lint-only", "-Wall", "-y", "sim", "--top-module", &top]);
            lint.args(&rtl).args(&extra);
            run(&mut lint).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let mut icarus = Command::new(&iverilog);
        icarus.current_dir(dir.path()).args(["-g2005", "-Wall", "-o", "tb.vvp", "-y", "sim", "-s"]);
        icarus.arg(format!("{}_tb", design.top)).args(&rtl).arg(&tb);
        let out = run(&mut icarus).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!combined(&out).contains("warning"), "{name}: Icarus warns:\n{}", combined(&out));
        let script = format!(
            "{}; read_verilog {}; hierarchy -check -top {}; proc; check -assert",
            cell_library(target),
            rtl.join(" "),
            design.top
        );
        run(Command::new(&yosys).current_dir(dir.path()).args(["-q", "-p", &script]))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

/// Every generated design compiles in slang with no error and no warning of
/// [`common::SLANG_WARNINGS`]: the top, its test bench and, where the target
/// has a board, the board wrapper and its bench (block RAM and SPRAM
/// weights, one lane to all lanes).
#[test]
fn generated_designs_compile_in_slang() {
    let Some(slang) = require(Tool::Slang) else { return };
    for (name, net, target, lanes) in design_matrix() {
        let (_, design) = build(&net, target, &lanes, None).unwrap();
        let dir = write(&design);
        let benches = files_with_prefix(&design, "sim/").into_iter().filter(|f| f.ends_with("_tb.v"));
        let mut args: Vec<String> = common::SLANG_WARNINGS.iter().map(|w| w.to_string()).collect();
        let mut tops = vec![design.top.clone()];
        for bench in benches {
            let module = bench.trim_start_matches("sim/").trim_end_matches(".v").to_string();
            // A bench's design (the top or a board wrapper) is a top of its own too.
            tops.push(module.trim_end_matches("_tb").to_string());
            tops.push(module);
            args.push(bench);
        }
        tops.sort();
        tops.dedup();
        for top in tops {
            args.extend(["--top".into(), top]);
        }
        args.extend(["-y".into(), "sim".into()]);
        args.extend(files_with_prefix(&design, "rtl/"));
        common::slang_clean(&slang, dir.path(), &args, &name);
    }
}

/// The generated FuseSoC core works out of the box with FuseSoC 2.x's flow
/// API: `sim` runs the test bench under Icarus on its default images and
/// checks them (block RAM weights on the HX8K; SPRAM weights loaded through
/// the loader on the UP5K), `lint` runs Verilator, and the synthesis and
/// board targets set up (Yosys and nextpnr themselves are `ttfs synth`'s
/// tests). FuseSoC says nothing of a deprecated API.
#[test]
fn fusesoc_runs_the_generated_core() {
    let (Some(fusesoc), Some(_), Some(_), Some(_)) =
        (require(Tool::Fusesoc), require(Tool::Iverilog), require(Tool::Vvp), require(Tool::Verilator))
    else {
        return;
    };
    for (net, target, targets) in [
        (digits(), Target::Ice40Hx8k, &["sim", "lint", "synth", "hx8k_breakout"][..]),
        (mnist(), Target::Ice40Up5k, &["sim", "icebreaker"][..]),
    ] {
        let (_, design) = build(&net, target, &[], None).unwrap();
        let dir = write(&design);
        let core = format!("::{}", design.top);
        for t in targets {
            let mut cmd = Command::new(&fusesoc);
            cmd.current_dir(dir.path()).args(["--cores-root", ".", "run", "--target", t]);
            // Targets that run Yosys and nextpnr are only set up.
            if !["sim", "lint"].contains(t) {
                cmd.arg("--setup");
            }
            cmd.arg(&core);
            let text = combined(&run(&mut cmd).unwrap_or_else(|e| panic!("{target} {t}: {e}")));
            assert!(!text.to_lowercase().contains("deprecat"), "{target} {t}: FuseSoC warns:\n{text}");
            if *t == "sim" {
                assert!(
                    text.contains(&format!("all {} results as expected", ttfs_hw::stimulus::IMAGES))
                        && text.contains("*-* All Finished *-*"),
                    "{target} sim did not check its results:\n{text}"
                );
            }
        }
    }
}

/// The same network and options give byte-identical files, rendered twice
/// and written twice.
#[test]
fn generated_files_are_deterministic() {
    for (name, net, target, lanes) in design_matrix() {
        let (_, first) = build(&net, target, &lanes, None).unwrap();
        let (_, second) = build(&net, target, &lanes, None).unwrap();
        assert_eq!(first, second, "{name}");
        let (a, b) = (write(&first), write(&second));
        for rel in first.files.keys() {
            assert_eq!(
                std::fs::read(a.path().join(rel)).unwrap(),
                std::fs::read(b.path().join(rel)).unwrap(),
                "{name}: {rel}"
            );
        }
    }
}

/// Snapshots of the generated files of the digits MLP on the HX8K: the
/// wiring, the board wrapper, the test benches, the manifest and the
/// collateral. Copied blocks and models and the memory images are
/// summarised by size and hash.
#[test]
fn generated_files_snapshot() {
    let net = digits();
    let (values, _) = canonical_samples(&net, "digits/test_images.csv.gz", Some(100));
    let codes: Vec<i64> = values.chunks(64).flat_map(|raw| ttfs_sim::encode::discrete(&net, raw)).collect();
    let (_, design) = build(&net, Target::Ice40Hx8k, &[], Some(("test_images.csv.gz", &codes))).unwrap();
    let mut summary = String::new();
    for (rel, bytes) in &design.files {
        let text = String::from_utf8_lossy(bytes);
        let generated_rtl = rel.starts_with(&format!("rtl/{}", design.top));
        let copied = rel.starts_with("rtl/") && !generated_rtl
            || rel.starts_with("sim/") && !rel.ends_with("_tb.v")
            || rel.starts_with("mem/")
            || rel == "net.json"
            || rel == "net.safetensors";
        if copied {
            let hash = fnv1a(bytes, FNV_OFFSET);
            summary.push_str(&format!("{rel}: {} bytes, fnv1a {hash:016x}\n", bytes.len()));
        } else {
            insta::assert_snapshot!(format!("design_{}", rel.replace(['/', '.'], "_")), text);
        }
    }
    insta::assert_snapshot!("design_summary", summary);
}

/// The board wrappers end to end under Verilator: a host UART sends each
/// image as a frame, the design (after loading its SPRAM weights from the
/// flash model, for the UP5K) replies with the class and logits of the
/// discrete reference. The wrappers pass `verilator --lint-only -Wall` and
/// Yosys's checks too.
#[test]
fn board_wrappers_answer_over_the_uart_like_the_reference() {
    let (Some(verilator), Some(yosys)) = (require(Tool::Verilator), require(Tool::Yosys)) else { return };
    for (net, target, data, count, board) in [
        (digits(), Target::Ice40Hx8k, "digits/test_images.csv.gz", 20, "hx8k_breakout"),
        (mnist(), Target::Ice40Up5k, "mnist/t10k-images-idx3-ubyte.gz", 4, "icebreaker"),
        (digits(), Target::Ecp5_25f, "digits/test_images.csv.gz", 20, "ulx3s"),
    ] {
        let (_, design) = build(&net, target, &[], None).unwrap();
        let dir = write(&design);
        let rtl = files_with_prefix(&design, "rtl/");
        let wrapper = format!("{}_{board}", design.top);
        let mut lint = Command::new(&verilator);
        lint.current_dir(dir.path()).args(["--lint-only", "-Wall", "-y", "sim", "--top-module", &wrapper]).args(&rtl);
        run(&mut lint).unwrap_or_else(|e| panic!("{e}"));
        let script = format!(
            "{}; read_verilog {}; hierarchy -check -top {wrapper}; proc; check -assert",
            cell_library(target),
            rtl.join(" ")
        );
        run(Command::new(&yosys).current_dir(dir.path()).args(["-q", "-p", &script])).unwrap_or_else(|e| panic!("{e}"));
        let codes = codes(&net, data, count);
        std::fs::write(dir.path().join("images.hex"), testbench::stimulus_hex(&codes)).unwrap();
        let mut build_tb = Command::new(&verilator);
        build_tb
            .current_dir(dir.path())
            .args([
                "--binary",
                "--timing",
                "-Wall",
                "-j",
                "2",
                "-y",
                "sim",
                "-Mdir",
                "board_obj",
                "-o",
                "tb",
                "--top-module",
            ])
            .arg(format!("{wrapper}_tb"))
            .args(&rtl)
            .arg(format!("sim/{wrapper}_tb.v"));
        run(&mut build_tb).unwrap_or_else(|e| panic!("{e}"));
        let out = run(Command::new(dir.path().join("board_obj/tb"))
            .current_dir(dir.path())
            .args(["+images=images.hex", &format!("+count={count}")]))
        .unwrap_or_else(|e| panic!("{e}"));
        let transcript = testbench::parse(&combined(&out)).unwrap_or_else(|e| panic!("{e}"));
        let model = Prepared::new(&net);
        assert_eq!(transcript.results.len(), count);
        for (q0, result) in codes.chunks(plan_inputs(&net)).zip(&transcript.results) {
            let trace = quantized::forward(&model, q0);
            assert_eq!(result.logits, trace.logits(), "{board}: logits of image {}", result.image);
            assert_eq!(result.class, ttfs_sim::argmax(trace.logits()), "{board}: class of image {}", result.image);
        }
        eprintln!("{board}: {count} images over the UART equal the reference");
    }
}

fn plan_inputs(net: &Network) -> usize {
    net.input.shape.iter().product()
}
