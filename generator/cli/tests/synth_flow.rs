//! `ttfs synth` and `ttfs flow` through the binary, with the real Yosys,
//! nextpnr-ice40 and icepack: the bundled flow end to end (report, figures,
//! a bitstream that `build.sh` rebuilds byte for byte), the MNIST MLP on the
//! UP5K (SPRAM weights in the flash image, DSPs, the PLL set below Fmax),
//! the refusal of a design that does not fit, and the errors users meet.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// How close the pre-synthesis estimate comes to the logic cells, as a
/// fraction of them: the claim of `generator/hw/src/estimate.rs`, which
/// `tests/estimate.rs` checks on the 16 designs of `benches/estimate_fit.csv`.
const ESTIMATE_TOLERANCE: f64 = 0.08;

fn fixture(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(rel).display().to_string()
}

fn ttfs(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ttfs"));
    command.args(args);
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("ttfs runs")
}

fn text(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Whether the tools are here; under CI (`CI=true`) their absence fails.
fn tools_present(programs: &[&str]) -> bool {
    let missing: Vec<&str> = programs
        .iter()
        .copied()
        .filter(|p| {
            let flag = if *p == "icepack" { "-h" } else { "--version" };
            Command::new(p).arg(flag).output().is_err()
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    ttfs_tools::testing::skip(&format!("{missing:?} not installed"))
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

fn convert(dir: &Path, model: &str, calib: &str) -> PathBuf {
    let net = dir.join("net.json");
    let out = ttfs(&["convert", &fixture(model), "--calib", &fixture(calib), "-o", net.to_str().unwrap()], &[]);
    assert!(out.status.success(), "{:?}", text(&out));
    net
}

/// The README's first command: every stage runs, the hardware matches the
/// reference, the report is written, and the bitstream is rebuilt
/// identically by the build plan alone.
#[test]
fn flow_runs_the_bundled_digits_end_to_end() {
    if !tools_present(&["verilator", "g++", "yosys", "nextpnr-ice40", "icepack"]) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let out = ttfs(&["flow", "-o", dir.to_str().unwrap()], &[]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for stage in ["convert", "sim", "generate", "cosim", "synth"] {
        let line = stdout.lines().find(|l| l.starts_with(stage)).unwrap_or_else(|| panic!("no {stage} in {stdout}"));
        assert!(line.split_whitespace().nth(1) == Some("ok"), "{line}");
    }
    let synth = read_json(&dir.join("synth.json"));
    for key in [
        "device",
        "lc",
        "lc_available",
        "ff",
        "bram",
        "spram",
        "dsp",
        "io",
        "fmax_mhz",
        "clock_mhz",
        "fits",
        "cycles_per_inference",
        "cycles_worst_case",
        "latency_us",
        "inferences_per_second",
        "tools",
        "estimate",
    ] {
        assert!(synth.get(key).is_some(), "{key} missing in synth.json");
    }
    assert_eq!(synth["device"], "ice40-hx8k");
    assert_eq!(synth["fits"], true);
    assert_eq!(synth["timing_met"], true);
    let (fmax, clock) = (synth["fmax_mhz"].as_f64().unwrap(), synth["clock_mhz"].as_f64().unwrap());
    assert!(clock > 16.0 && clock <= fmax, "clock {clock} MHz, Fmax {fmax} MHz");
    let lc = synth["lc"].as_f64().unwrap();
    let estimate = synth["estimate"]["logic_cells"].as_f64().unwrap();
    assert!((estimate - lc).abs() <= ESTIMATE_TOLERANCE * lc, "estimate {estimate} against {lc} logic cells");
    // The plan's block RAM count is a safe bound for the fit check: Yosys
    // packs a deep, odd-sized ROM into mixed aspect ratios and may use fewer
    // (the 704 x 24 weights of layer 0 take 5 blocks where the plan says 6).
    let (bram, bram_planned) = (synth["bram"].as_u64().unwrap(), synth["estimate"]["bram_blocks"].as_u64().unwrap());
    assert!(bram <= bram_planned && 4 * bram >= 3 * bram_planned, "{bram} block RAMs, {bram_planned} planned");
    assert!(synth["tools"]["yosys"].as_str().unwrap().contains("Yosys"));
    // Latency at the clock, from the co-simulation's measured cycles.
    let cosim = read_json(&dir.join("cosim.json"));
    assert_eq!(cosim["mismatched_spikes"], 0);
    assert_eq!(cosim["mismatched_outputs"], 0);
    assert_eq!(synth["cycles_per_inference"], cosim["cycles_per_inference"]);
    let latency = synth["latency_us"].as_f64().unwrap();
    assert!((latency - cosim["cycles_per_inference"].as_f64().unwrap() / clock).abs() < 1e-9);
    // The report.
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 4, "four plots: spikes, raster, confusion matrix, resources");
    assert!(!html.contains("<script"));
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains("logic cells") && md.contains("Spike raster"), "{md}");
    // The build plan alone rebuilds the same bitstream.
    let build = dir.join("hw/build");
    let bin = build.join("ttfs_digits_mlp_hx8k_breakout.bin");
    let first = std::fs::read(&bin).unwrap();
    assert!(first.len() > 100_000, "an HX8K bitstream is ~135 kB");
    std::fs::remove_file(&bin).unwrap();
    let rebuilt = Command::new("sh").arg(build.join("build.sh")).output().unwrap();
    assert!(rebuilt.status.success(), "{:?}", text(&rebuilt));
    assert!(std::fs::read(&bin).unwrap() == first, "build.sh made a different bitstream");
    // A second flow into the same directory is allowed (it wrote it); its
    // co-simulation is skipped too, as it was run above.
    let again = ttfs(
        &["flow", "-o", dir.to_str().unwrap(), "--lanes", "2"],
        &[("NEXTPNR_ICE40", "/nonexistent/nextpnr"), ("VERILATOR", "/nonexistent/verilator")],
    );
    let (stdout, stderr) = text(&again);
    assert!(again.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("nextpnr-ice40 is not installed"), "{stdout}");
}

/// MNIST 784-128-10 on the UP5K: layer 1's weights in the four SPRAMs (and
/// in the flash image at 1 MiB, after the bitstream), eight DSPs, and the
/// PLL at or below the routed design's Fmax.
#[test]
fn synth_mnist_on_the_up5k() {
    if !tools_present(&["yosys", "nextpnr-ice40", "icepack"]) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let net = convert(tmp.path(), "mnist_mlp.onnx", "mnist/train5k-images-idx3-ubyte.gz");
    let hw = tmp.path().join("hw");
    let out = ttfs(&["generate", net.to_str().unwrap(), "-o", hw.to_str().unwrap(), "--target", "ice40-up5k"], &[]);
    assert!(out.status.success(), "{:?}", text(&out));
    let data = fixture("mnist/t10k-images-idx3-ubyte.gz");
    let out = ttfs(&["synth", hw.to_str().unwrap(), "--json", "--data", &data, "--count", "1000"], &[]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let r: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(r["device"], "ice40-up5k");
    assert_eq!(r["spram"], 4);
    assert_eq!(r["dsp"], 8);
    assert_eq!(r["fits"], true);
    let (fmax, clock) = (r["fmax_mhz"].as_f64().unwrap(), r["clock_mhz"].as_f64().unwrap());
    assert!(clock <= fmax || clock <= 16.0, "clock {clock} MHz above Fmax {fmax} MHz");
    let attempts = r["attempts"].as_array().unwrap();
    assert_eq!(attempts.last().unwrap()["pll_mhz"].as_f64().unwrap(), clock);
    let lc = r["lc"].as_f64().unwrap();
    let estimate = r["estimate"]["logic_cells"].as_f64().unwrap();
    assert!((estimate - lc).abs() <= ESTIMATE_TOLERANCE * lc, "estimate {estimate} against {lc} logic cells");
    let cycles = r["cycles_per_inference"].as_f64().unwrap();
    assert!((r["latency_us"].as_f64().unwrap() - cycles / clock).abs() < 1e-9);
    // The flash image: the bitstream, zeros up to 1 MiB, the load stream.
    let build = hw.join("build");
    let bitstream = std::fs::read(build.join("ttfs_mnist_mlp_icebreaker.bin")).unwrap();
    let flash = std::fs::read(build.join("ttfs_mnist_mlp_icebreaker_flash.bin")).unwrap();
    let weights = std::fs::read(hw.join("mem/weights_spram.bin")).unwrap();
    assert_eq!(weights.len(), 100_352);
    assert_eq!(&flash[..bitstream.len()], &bitstream[..]);
    assert_eq!(&flash[0x10_0000..], &weights[..]);
    assert!(std::fs::read_to_string(build.join("synth.ys")).unwrap().contains("synth_ice40 -dsp"));
}

/// A design too big for the device is refused after packing, before place
/// and route, with the numbers and what to change.
#[test]
fn synth_refuses_a_design_that_does_not_fit() {
    if !tools_present(&["yosys", "nextpnr-ice40", "icepack"]) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let net = convert(tmp.path(), "digits_mlp.onnx", "digits/train_images.csv.gz");
    let hw = tmp.path().join("hw");
    let out = ttfs(
        &["generate", net.to_str().unwrap(), "-o", hw.to_str().unwrap(), "--target", "ice40-hx8k", "--lanes", "0"],
        &[],
    );
    let (stdout, _) = text(&out);
    assert!(out.status.success());
    assert!(stdout.contains("probably too many"), "{stdout}");
    let out = ttfs(&["synth", hw.to_str().unwrap()], &[]);
    let (_, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(
        stderr.contains("does not fit the ice40-hx8k")
            && stderr.contains("logic cells of 7680")
            && stderr.contains("too many")
            && stderr.contains("--lanes-per-layer"),
        "{stderr}"
    );
    assert!(!hw.join("build/ttfs_digits_mlp_hx8k_breakout.asc").exists(), "no place and route was run");

    // In flow the refusal FAILS synth, names no staging directory, and the
    // reports are still written (co-simulation skipped to keep this short).
    let out_dir = tmp.path().join("flow");
    let out = ttfs(
        &["flow", "-o", out_dir.to_str().unwrap(), "--lanes", "0", "--count", "20"],
        &[("VERILATOR", "/nonexistent/verilator")],
    );
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("flow FAILED at synth") && stderr.contains("logic cells of 7680"), "{stderr}");
    assert!(!stderr.contains(".ttfs-flow-"), "{stderr}");
    assert!(out_dir.join("report.html").exists() && out_dir.join("hw/manifest.json").exists());
}

/// Errors users meet: not a design directory, a generic design, the wrong
/// device, a missing tool, a build directory that is not ours.
#[test]
fn synth_errors_say_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let net = convert(tmp.path(), "digits_mlp.onnx", "digits/train_images.csv.gz");
    let err = |args: &[&str], env: &[(&str, &str)]| {
        let out = ttfs(args, env);
        assert!(!out.status.success(), "{args:?} succeeded");
        text(&out).1
    };
    let missing = tmp.path().join("nothing");
    assert!(err(&["synth", missing.to_str().unwrap()], &[]).contains("not a directory written by `ttfs generate`"));
    let generic = tmp.path().join("generic");
    assert!(
        ttfs(&["generate", net.to_str().unwrap(), "-o", generic.to_str().unwrap(), "--target", "generic"], &[])
            .status
            .success()
    );
    assert!(
        err(&["synth", generic.to_str().unwrap()], &[]).contains("--target ice40-up5k, ice40-hx8k, ecp5-25f, ecp5-45f")
    );
    let hw = tmp.path().join("hw");
    assert!(
        ttfs(&["generate", net.to_str().unwrap(), "-o", hw.to_str().unwrap(), "--target", "ice40-hx8k"], &[])
            .status
            .success()
    );
    let e = err(&["synth", hw.to_str().unwrap(), "--device", "ice40-up5k"], &[]);
    assert!(e.contains("generated for the ice40-hx8k, not the ice40-up5k"), "{e}");
    for (var, program, package) in [
        ("YOSYS", "yosys", "yosys"),
        ("NEXTPNR_ICE40", "nextpnr-ice40", "nextpnr-ice40"),
        ("ICEPACK", "icepack", "fpga-icestorm"),
    ] {
        let e = err(&["synth", hw.to_str().unwrap()], &[(var, "/nonexistent/tool")]);
        assert!(
            e.contains(&format!("{program} is not installed")) && e.contains(&format!("apt-get install {package}")),
            "{e}"
        );
    }
    let e = err(&["synth", hw.to_str().unwrap(), "--freq", "0"], &[]);
    assert!(e.contains("not a frequency"), "{e}");
    let fresh = tmp.path().join("fresh");
    assert!(
        ttfs(&["generate", net.to_str().unwrap(), "-o", fresh.to_str().unwrap(), "--target", "ice40-hx8k"], &[])
            .status
            .success()
    );
    std::fs::create_dir_all(fresh.join("build")).unwrap();
    std::fs::write(fresh.join("build/mine.txt"), "keep").unwrap();
    let e = err(&["synth", fresh.to_str().unwrap()], &[]);
    assert!(e.contains("was not written by `ttfs synth`"), "{e}");
    assert_eq!(std::fs::read_to_string(fresh.join("build/mine.txt")).unwrap(), "keep");
}
