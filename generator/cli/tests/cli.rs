//! The `ttfs` binary as a user runs it: exit codes, JSON output, and the
//! error line on bad input.

use std::process::Command;

fn ttfs(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ttfs")).args(args).output().expect("ttfs runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn flow_then_sim_and_inspect_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("flow");
    // Co-simulation and synthesis are covered by tests/synth_flow.rs; here
    // they are skipped (as without the tools) to keep the test quick, and
    // the flow still converts, simulates and generates, and says what to
    // install for the rest.
    let run = Command::new(env!("CARGO_BIN_EXE_ttfs"))
        .args(["flow", "-o", out.to_str().unwrap()])
        .env("VERILATOR", "/nonexistent/verilator")
        .env("YOSYS", "/nonexistent/yosys")
        .output()
        .expect("ttfs runs");
    let (stdout, stderr) = (String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    assert!(run.status.success(), "{stderr}");
    assert!(stdout.contains("accuracy, discrete TTFS") && stdout.contains("97.33 %"), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("generate") && l.contains(" ok ")), "{stdout}");
    assert!(out.join("hw/manifest.json").exists() && out.join("report.html").exists(), "{stdout}");
    // The descriptions travel with their tensor sidecars.
    for file in ["net.json", "net.safetensors", "hw/net.json", "hw/net.safetensors"] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    for (stage, install) in [("cosim", "apt-get install verilator"), ("synth", "apt-get install yosys")] {
        let line = stdout.lines().find(|l| l.starts_with(stage)).unwrap();
        assert!(line.contains("skipped") && line.contains(install), "{line}");
    }
    // A directory the flow did not write is refused, and left alone.
    let other = dir.path().join("mine");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "keep").unwrap();
    let (ok, _, stderr) = ttfs(&["flow", "-o", other.to_str().unwrap()]);
    assert!(!ok);
    assert!(stderr.contains("was not written by `ttfs flow`"), "{stderr}");
    assert_eq!(std::fs::read_to_string(other.join("notes.txt")).unwrap(), "keep");
    let net = out.join("net.json");
    let data = out.join("bundled/digits_test_images.csv.gz");
    let labels = out.join("bundled/digits_test_labels.csv.gz");
    let (ok, stdout, stderr) = ttfs(&[
        "sim",
        net.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--labels",
        labels.to_str().unwrap(),
        "--json",
    ]);
    assert!(ok, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON object");
    for key in [
        "samples",
        "accuracy_relu",
        "accuracy_continuous",
        "accuracy_discrete",
        "agreement_continuous",
        "agreement_discrete",
        "max_abs_error_continuous",
        "max_rel_error_continuous",
        "clipped_activations",
        "spikes_per_neuron",
        "synaptic_events_per_inference",
        "sim_inferences_per_second",
    ] {
        assert!(report.get(key).is_some(), "missing {key} in {stdout}");
    }
    assert_eq!(report["samples"], 450);
    assert_eq!(report["agreement_continuous"], 1.0);
    let (ok, stdout, _) = ttfs(&["inspect", net.to_str().unwrap(), "--json"]);
    assert!(ok);
    let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(summary["layers"].as_array().unwrap().len(), 2);
    // A re-run that fails part way leaves the earlier results as they were
    // and nothing half-written beside them.
    std::fs::write(out.join("hw/earlier.txt"), "from the first run").unwrap();
    let cycle = format!("{}/../../tests/hostile/cycle.onnx", env!("CARGO_MANIFEST_DIR"));
    let train = fixture("digits/train_images.csv.gz");
    let (ok, _, stderr) =
        ttfs(&["flow", &cycle, "--calib", &train, "--data", data.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(!ok && stderr.contains("cycle"), "{stderr}");
    assert!(out.join("hw/earlier.txt").exists() && out.join("report.html").exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".ttfs-flow"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // Running the flow again into its own directory replaces it whole.
    assert!(ttfs(&["flow", "-o", out.to_str().unwrap()]).0);
    assert!(!out.join("hw/earlier.txt").exists(), "old files are not mixed with new ones");
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(!report.contains(".ttfs-flow-") && report.contains(out.to_str().unwrap()), "{report}");
}

#[test]
fn bad_input_exits_nonzero_with_one_error_line() {
    let (ok, stdout, stderr) = ttfs(&["sim", "/nonexistent/net.json", "--data", "x.csv"]);
    assert!(!ok);
    assert!(stdout.is_empty());
    assert!(stderr.starts_with("error: cannot read /nonexistent/net.json"), "{stderr}");
}

fn fixture(rel: &str) -> String {
    format!("{}/../../tests/fixtures/{rel}", env!("CARGO_MANIFEST_DIR"))
}

/// Converts a fixture model into `dir/name`.
fn convert(dir: &std::path::Path, model: &str, calib: &str, name: &str) -> String {
    let out = dir.join(name).to_str().unwrap().to_string();
    let (ok, _, stderr) =
        ttfs(&["convert", &fixture(model), "--calib", &fixture(calib), "--calib-count", "500", "-o", &out]);
    assert!(ok, "{stderr}");
    out
}

/// `ttfs generate`: writes a design with its manifest; refuses a design
/// that does not fit before writing anything (with the numbers and what to
/// change), a non-empty DIR without --force, a conflicting lanes option.
#[test]
fn generate_writes_a_design_and_refuses_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let digits = convert(dir.path(), "digits_mlp.onnx", "digits/train_images.csv.gz", "digits.json");
    let out = dir.path().join("hw");
    let hw = out.to_str().unwrap();
    let calib = fixture("digits/test_images.csv.gz");
    let (ok, stdout, stderr) = ttfs(&["generate", &digits, "-o", hw, "--target", "ice40-hx8k", "--calib", &calib]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("top module ttfs_digits_mlp") && stdout.contains("weight-bandwidth bound"), "{stdout}");
    assert!(
        stdout.contains("lanes chosen by --lanes auto") && stdout.contains("cycles on the --calib data"),
        "{stdout}"
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["target"], "ice40-hx8k");
    assert_eq!(manifest["top"], "ttfs_digits_mlp");
    assert!(manifest["cycle_stats"]["latency_mean"].as_f64().unwrap() > 0.0);
    assert!(out.join("rtl/ttfs_digits_mlp.v").exists() && out.join("ttfs_digits_mlp.core").exists());

    // A non-empty DIR is refused without --force; with it, the design is rewritten.
    let (ok, _, stderr) = ttfs(&["generate", &digits, "-o", hw, "--lanes", "2"]);
    assert!(!ok && stderr.contains("pass --force"), "{stderr}");
    let (ok, _, stderr) = ttfs(&["generate", &digits, "-o", hw, "--lanes", "2", "--force"]);
    assert!(ok, "{stderr}");

    // Does not fit: nothing written, and the message says by how much and
    // gives the exact command that fits, which then runs. The MNIST MLP fits
    // no lanes of the HX8K (the UP5K's SPRAM takes it); the bug report's
    // 784-64-32-10 torch MLP at 8 lanes misses the UP5K's block RAM by one.
    let mnist = convert(dir.path(), "mnist_mlp.onnx", "mnist/train5k-images-idx3-ubyte.gz", "mnist.json");
    let deep = convert(dir.path(), "users/torch_mlp3_dynamo.onnx", "mnist/train5k-images-idx3-ubyte.gz", "deep.json");
    for (net, target, lanes, fits_on) in
        [(&mnist, "ice40-hx8k", "auto", "ice40-up5k"), (&deep, "ice40-up5k", "8", "ice40-up5k")]
    {
        let absent = dir.path().join("absent");
        let (ok, _, stderr) =
            ttfs(&["generate", net, "-o", absent.to_str().unwrap(), "--target", target, "--lanes", lanes]);
        assert!(!ok);
        assert!(stderr.contains(&format!("does not fit the {target}")) && stderr.contains("too many"), "{stderr}");
        assert!(!absent.exists(), "nothing is written for a design that does not fit");
        let command = stderr.split("This fits").nth(1).and_then(|s| s.split(": ttfs ").nth(1)).expect(&stderr);
        let words: Vec<&str> = command.split_whitespace().collect();
        assert!(words.windows(2).any(|w| w == ["--target", fits_on]), "{command}");
        let (ok, stdout, stderr) = ttfs(&words);
        assert!(ok, "{command}: {stderr}");
        assert!(stdout.contains(&format!("target {fits_on}")), "{stdout}");
        std::fs::remove_dir_all(&absent).unwrap();
    }

    // Conflicting and malformed options.
    let (ok, _, stderr) = ttfs(&["generate", &digits, "-o", hw, "--lanes", "2", "--lanes-per-layer", "1,2"]);
    assert!(!ok && stderr.contains("cannot be used with"), "{stderr}");
    let (ok, _, stderr) = ttfs(&["generate", &digits, "-o", hw, "--lanes", "many"]);
    assert!(!ok && stderr.contains("expected auto or a number of lanes"), "{stderr}");
    let (ok, _, stderr) = ttfs(&["generate", &digits, "-o", hw, "--force", "--budget", "150"]);
    assert!(!ok && stderr.contains("--budget is 150 %"), "{stderr}");
    let (ok, _, stderr) = ttfs(&["generate", &digits, "-o", hw, "--target", "ecp5-12f"]);
    assert!(
        !ok && stderr.contains("use ice40-up5k, ice40-hx8k, ecp5-25f, ecp5-45f, ecp5-85f, generic or asic"),
        "{stderr}"
    );
    let (ok, _, stderr) = ttfs(&["generate", &digits, "-o", hw, "--force", "--lanes-per-layer", "1,2,3"]);
    assert!(!ok && stderr.contains("3 values for 2 layers"), "{stderr}");
}

/// `ttfs cosim` from the command line: a report and exit 0 when everything
/// matches; a missing Verilator or compiler is an error saying what to install.
#[test]
fn cosim_reports_and_says_what_to_install() {
    let dir = tempfile::tempdir().unwrap();
    let digits = convert(dir.path(), "digits_mlp.onnx", "digits/train_images.csv.gz", "digits.json");
    let data = fixture("digits/test_images.csv.gz");
    for (var, program) in [("VERILATOR", "verilator"), ("CXX", "g++")] {
        let out = Command::new(env!("CARGO_BIN_EXE_ttfs"))
            .args(["cosim", &digits, "--data", &data, "--count", "3"])
            .env(var, "/nonexistent/tool")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(
            stderr.contains(&format!("{program} is not installed")) && stderr.contains("apt-get install"),
            "{stderr}"
        );
    }
    if std::process::Command::new("verilator").arg("--version").output().is_err() {
        ttfs_tools::testing::skip("verilator is not installed");
        return;
    }
    let (ok, stdout, stderr) =
        ttfs(&["cosim", &digits, "--data", &data, "--count", "20", "--target", "ice40-hx8k", "--json"]);
    assert!(ok, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    for key in [
        "samples",
        "mismatched_spikes",
        "mismatched_outputs",
        "accuracy",
        "cycles_per_inference",
        "initiation_interval",
        "model_cycles_per_inference",
        "simulated_cycles_per_second",
    ] {
        assert!(report.get(key).is_some(), "{key} missing in {stdout}");
    }
    assert_eq!(report["mismatched_spikes"], 0);
    assert_eq!(report["samples"], 20);
}

/// Two co-simulations of the same design at once, on an empty cache: both
/// build, neither corrupts the other, and a third run finds the build.
#[test]
fn concurrent_cosims_share_the_build_cache_safely() {
    if std::process::Command::new("verilator").arg("--version").output().is_err() {
        ttfs_tools::testing::skip("verilator is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let digits = convert(dir.path(), "digits_mlp.onnx", "digits/train_images.csv.gz", "digits.json");
    let cache = dir.path().join("cache");
    let data = fixture("digits/test_images.csv.gz");
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_ttfs"))
            .args(["cosim", &digits, "--data", &data, "--count", "30", "--json"])
            .env("TTFS_CACHE_DIR", &cache)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["mismatched_spikes"], 0);
    }
    let out = spawn().wait_with_output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["build_seconds"], 0.0, "the third run uses the cached build");
    // Only finished builds are left: no private build directories.
    let leftovers: Vec<_> = std::fs::read_dir(cache.join("cosim"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// `ttfs passes` lists the passes; `ttfs passes run` re-quantizes a
/// description; `convert --dump-after` writes it between passes.
#[test]
fn passes_are_listed_and_run_again_on_a_description() {
    let (ok, stdout, stderr) = ttfs(&["passes"]);
    assert!(ok, "{stderr}");
    let names: Vec<&str> = stdout.lines().filter_map(|l| l.split_whitespace().next()).collect();
    assert_eq!(
        names,
        ["import", "rescale-alpha", "calibrate", "set-windows", "quantize", "validate", "count-clipping"]
    );

    let dir = tempfile::tempdir().unwrap();
    let net = convert(dir.path(), "digits_mlp.onnx", "digits/test_images.csv.gz", "net.json");
    let out = dir.path().join("net4.json").to_str().unwrap().to_string();
    let (ok, stdout, stderr) = ttfs(&["passes", "run", &net, "--from", "quantize", "--weight-bits", "4", "-o", &out]);
    assert!(ok, "{stderr}");
    assert!(stdout.starts_with("ran quantize, validate, count-clipping\n"), "{stdout}");
    let (ok, stdout, _) = ttfs(&["inspect", &out, "--json"]);
    assert!(ok);
    let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(summary["layers"][0]["weight_bits"], 4, "{stdout}");

    let dumped = dir.path().join("again.json").to_str().unwrap().to_string();
    let (ok, _, stderr) = ttfs(&[
        "convert",
        &fixture("digits_mlp.onnx"),
        "--calib",
        &fixture("digits/test_images.csv.gz"),
        "-o",
        &dumped,
        "--dump-after",
        "calibrate",
    ]);
    assert!(ok, "{stderr}");
    assert!(dir.path().join("again.after-calibrate.json").is_file());
    assert!(dir.path().join("again.after-calibrate.safetensors").is_file());
}

/// A version 2 description (tensors inline) still works, with one note on
/// stderr that the file is old, which is not copied into the network's own
/// notes; `passes run` writes it again as version 3 with a sidecar.
#[test]
fn an_old_description_is_noted_once_and_rewritten_as_version_3() {
    let dir = tempfile::tempdir().unwrap();
    let net = convert(dir.path(), "digits_mlp.onnx", "digits/test_images.csv.gz", "net.json");
    let mut old: serde_json::Value =
        serde_json::from_str(&ttfs_ir::load(std::path::Path::new(&net)).unwrap().to_json()).unwrap();
    old["version"] = 2.into();
    let v2 = dir.path().join("v2.json");
    std::fs::write(&v2, old.to_string()).unwrap();
    let (ok, stdout, stderr) = ttfs(&["inspect", v2.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    assert_eq!(stderr.matches("note: ").count(), 1, "{stderr}");
    assert!(stderr.contains("is a version 2 network description") && stderr.contains("write version 3"), "{stderr}");
    assert!(!stdout.contains("is a version 2"), "{stdout}");
    let v3 = dir.path().join("v3.json");
    let (ok, _, stderr) =
        ttfs(&["passes", "run", v2.to_str().unwrap(), "--from", "validate", "-o", v3.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    let written: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&v3).unwrap()).unwrap();
    assert_eq!(written["version"], 3);
    assert_eq!(written["tensors"]["file"], "v3.safetensors");
    assert!(!written["notes"].to_string().contains("version 2"), "the file note is not the network's");
    let (ok, _, stderr) = ttfs(&["inspect", v3.to_str().unwrap()]);
    assert!(ok && !stderr.contains("note: "), "{stderr}");
    // Without --force, neither file is replaced.
    std::fs::remove_file(&v3).unwrap();
    let (ok, _, stderr) =
        ttfs(&["passes", "run", v2.to_str().unwrap(), "--from", "validate", "-o", v3.to_str().unwrap()]);
    assert!(!ok && stderr.contains("v3.safetensors exists; pass --force"), "{stderr}");
}

/// One CLI: negative numbers parse, `--target` works where `--device` did,
/// and `flow` with a model needs training data for its windows.
#[test]
fn options_parse_alike_and_flow_needs_calibration_data() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures");
    let model = fixtures.join("digits_mlp.onnx");
    let train = fixtures.join("digits/train_images.csv.gz");
    let test = fixtures.join("digits/test_images.csv.gz");
    let net = dir.path().join("net.json");
    let (ok, stdout, stderr) = ttfs(&[
        "convert",
        model.to_str().unwrap(),
        "--calib",
        train.to_str().unwrap(),
        "--margin",
        "-0.2",
        "--input-range",
        "-1,16",
        "-o",
        net.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("margin ζ = -0.2"), "{stdout}");
    let (ok, _, stderr) = ttfs(&[
        "flow",
        model.to_str().unwrap(),
        "--data",
        test.to_str().unwrap(),
        "-o",
        dir.path().join("f").to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(stderr.contains("--calib is required with a model"), "{stderr}");
    // flow takes --count (and the pass options) like the stages it runs.
    let out = dir.path().join("counted");
    let run = Command::new(env!("CARGO_BIN_EXE_ttfs"))
        .args(["flow", model.to_str().unwrap(), "--calib", train.to_str().unwrap(), "--data", test.to_str().unwrap()])
        .args(["--count", "20", "--time-bits", "6", "-o", out.to_str().unwrap()])
        .env("VERILATOR", "/nonexistent/verilator")
        .env("YOSYS", "/nonexistent/yosys")
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let sim: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("sim.json")).unwrap()).unwrap();
    assert_eq!(sim["samples"], 20);
    let net: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("net.json")).unwrap()).unwrap();
    assert_eq!(net["input"]["code"]["time_bits"], 6);
    // flow.json's figures are numbers as well as text.
    let flow: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("flow.json")).unwrap()).unwrap();
    let figures = flow["report"]["figures"].as_array().unwrap();
    let samples = figures.iter().find(|f| f["name"] == "samples").unwrap();
    assert_eq!((samples["value"].as_str(), samples["numbers"][0].as_f64()), (Some("20"), Some(20.0)));
    let error = figures.iter().find(|f| f["name"] == "max relative logit error").unwrap();
    assert!(error["numbers"][0].as_f64().unwrap() < 1e-9, "{error}");
    // --strict: the simulators' warnings (here: 3-bit weights and times
    // lose accuracy) fail the flow, after every stage ran and reported.
    let strict = dir.path().join("strict");
    let labels = fixtures.join("digits/test_labels.csv.gz");
    let run = Command::new(env!("CARGO_BIN_EXE_ttfs"))
        .args(["flow", model.to_str().unwrap(), "--calib", train.to_str().unwrap(), "--data", test.to_str().unwrap()])
        .args(["--labels", labels.to_str().unwrap(), "--time-bits", "3", "--weight-bits", "3", "--strict"])
        .args(["-o", strict.to_str().unwrap()])
        .env("VERILATOR", "/nonexistent/verilator")
        .env("YOSYS", "/nonexistent/yosys")
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    assert_eq!(run.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("flow FAILED at sim") && stderr.contains("--strict"), "{stderr}");
    assert!(stdout.contains("points below the float network"), "{stdout}");
    assert!(strict.join("report.html").exists() && strict.join("hw/manifest.json").exists());
    for command in ["flow", "synth"] {
        let (_, stdout, _) = ttfs(&[command, "--help"]);
        assert!(stdout.contains("--target") && stdout.contains("device"), "{command}: {stdout}");
    }
}

/// A network too big for every iCE40 at 8-bit weights (784-176-10) is told
/// the weight bits and lanes that fit, as two commands that then run; in
/// `flow`, a design that does not fit FAILS the generate stage, and the
/// reports are still written.
#[test]
fn a_design_that_fits_nowhere_is_told_the_bits_that_fit() {
    let dir = tempfile::tempdir().unwrap();
    let dense = |name: &str, inputs: usize, outputs: usize, seed: f64| {
        let weights: Vec<f64> =
            (0..inputs * outputs).map(|i| ((i as f64 * 0.754_877 + seed).sin() * 1e4).fract() * 0.1).collect();
        serde_json::json!({"op": "dense", "name": name, "inputs": inputs, "outputs": outputs,
                           "weights": weights, "bias": vec![0.01; outputs]})
    };
    let model = serde_json::json!({
        "name": "wide_mlp", "producer": "cli test", "data_shape": [784], "data_permutation": [0],
        "ops": [dense("fc1", 784, 176, 0.1), {"op": "relu", "name": "relu1"}, dense("fc2", 176, 10, 0.2)]
    });
    let model_path = dir.path().join("wide_mlp.json");
    std::fs::write(&model_path, model.to_string()).unwrap();
    let net = dir.path().join("wide.json");
    let calib = fixture("mnist/train5k-images-idx3-ubyte.gz");
    let (ok, _, stderr) = ttfs(&[
        "convert",
        model_path.to_str().unwrap(),
        "--calib",
        &calib,
        "--calib-count",
        "200",
        "-o",
        net.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    let hw = dir.path().join("hw");
    let (ok, _, stderr) = ttfs(&["generate", net.to_str().unwrap(), "-o", hw.to_str().unwrap()]);
    assert!(!ok && stderr.contains("No lanes fit at 8-bit weights; at 4-bit weights it fits"), "{stderr}");
    assert!(!hw.exists());
    let commands = stderr.split("check the accuracy with `ttfs sim` first): ").nth(1).expect(&stderr).trim();
    for command in commands.split(" && ") {
        let words: Vec<&str> = command.split_whitespace().collect();
        assert_eq!(words[0], "ttfs", "{command}");
        let (ok, _, stderr) = ttfs(&words[1..]);
        assert!(ok, "{command}: {stderr}");
    }
    assert!(hw.join("manifest.json").exists());

    // flow: the MNIST MLP on the HX8K fails at generate, with the command
    // that fits, and still writes its reports.
    let out = dir.path().join("flow");
    let run = Command::new(env!("CARGO_BIN_EXE_ttfs"))
        .args(["flow", &fixture("mnist_mlp.onnx"), "--calib", &calib, "--data", &calib, "--count", "50"])
        .args(["--target", "ice40-hx8k", "-o", out.to_str().unwrap()])
        .env("VERILATOR", "/nonexistent/verilator")
        .env("YOSYS", "/nonexistent/yosys")
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    assert_eq!(run.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("flow FAILED at generate") && stderr.contains("--target ice40-up5k"), "{stderr}");
    assert!(out.join("report.html").exists() && out.join("net.json").exists() && !out.join("hw").exists());
}

/// A convolutional network too large for every iCE40 (the trained
/// LeNet-style CNN: its first convolution's potentials alone need 45 of the
/// UP5K's 30 block RAMs) is refused with the numbers, and pointed at the
/// smallest ECP5 that holds it, with the command; nothing is written.
#[test]
fn a_cnn_too_large_for_the_ice40_is_pointed_at_the_ecp5() {
    let dir = tempfile::tempdir().unwrap();
    let hw = dir.path().join("hw");
    let net = fixture("trained/mnist_lenet.json");
    let (ok, _, stderr) = ttfs(&["generate", &net, "-o", hw.to_str().unwrap(), "--target", "ice40-up5k"]);
    assert!(!ok, "{stderr}");
    assert!(stderr.contains("62 for potentials") && stderr.contains("the device has 30 block RAMs"), "{stderr}");
    assert!(stderr.contains("No iCE40 holds it; it fits the ecp5-25f"), "{stderr}");
    assert!(stderr.contains("--target ecp5-25f --lanes-per-layer"), "{stderr}");
    assert!(!hw.exists());
}
