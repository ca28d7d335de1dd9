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
    let (ok, stdout, stderr) = ttfs(&["flow", "-o", out.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("== sim") && stdout.contains("0.9733"), "{stdout}");
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
    // Running the flow again into its own directory is allowed.
    assert!(ttfs(&["flow", "-o", out.to_str().unwrap()]).0);
}

#[test]
fn bad_input_exits_nonzero_with_one_error_line() {
    let (ok, stdout, stderr) = ttfs(&["sim", "/nonexistent/net.json", "--data", "x.csv"]);
    assert!(!ok);
    assert!(stdout.is_empty());
    assert!(stderr.starts_with("error: cannot read /nonexistent/net.json"), "{stderr}");
}
