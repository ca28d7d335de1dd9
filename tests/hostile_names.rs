//! Names are data, never code: a network description whose network and
//! layer names carry Verilog (a line break and `initial $system(...)`), as
//! a stranger's model or net.json may, generates a design in which every
//! such text stays inside a comment, whose module names every tool
//! accepts, and which co-simulates exactly under Verilator and Icarus
//! without running the payload.

mod common;

use common::{convert_fixture, fixture, require};
use std::path::Path;
use ttfs_cosim::stage::{self as cosim, Args, Simulator, WeightLoad};
use ttfs_hw::target::Target;
use ttfs_ir::Network;
use ttfs_tools::Tool;

/// The digits network with `payload` in its name and every layer's name.
fn hostile_network(payload: &str) -> Network {
    let net = convert_fixture("digits_mlp.onnx", "digits/train_images.csv.gz", Some(300), &Default::default());
    let mut json: serde_json::Value = serde_json::from_str(&net.to_json()).unwrap();
    json["name"] = format!("my__model {payload}").into();
    for layer in json["layers"].as_array_mut().unwrap() {
        layer["name"] = format!("dense {payload}").into();
    }
    Network::from_json(&json.to_string()).expect("names are free text in net.json")
}

fn payload(marker: &Path) -> String {
    format!("'\n*/ initial $system(\"touch {}\"); // \"`\r\n", marker.display())
}

#[test]
fn names_in_generated_files_stay_comments() {
    let dir = tempfile::tempdir().unwrap();
    let net = hostile_network(&payload(&dir.path().join("pwned")));
    let (_, design) = ttfs_hw::stage::build(&net, Target::Ice40Hx8k, &[], None).unwrap();
    assert!(design.top.starts_with("ttfs_my_model_initial_system_touch_"), "{}", design.top);
    assert!(
        !design.top.contains("__")
            && design.top.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
        "a module name every tool accepts: {}",
        design.top
    );
    for (path, bytes) in &design.files {
        let code = path.ends_with(".v") || path.ends_with(".sdc") || path.ends_with(".xdc") || path.ends_with(".core");
        if !code {
            continue;
        }
        let text = String::from_utf8_lossy(bytes);
        // The names show up (as comments and descriptions), with every
        // character that could end a comment, a string or a line replaced.
        assert!(!text.contains("$system") && !text.contains("*/ initial"), "{path} holds the payload as code:\n{text}");
        for (n, line) in text.lines().enumerate().filter(|(_, l)| l.contains("dense ")) {
            assert!(line.trim_start().starts_with("//"), "{path}:{}: a layer name outside a comment: {line}", n + 1);
        }
    }
}

#[test]
fn a_payload_in_every_name_never_runs_in_cosimulation() {
    let Some(_) = require(Tool::Verilator) else { return };
    let Some(_) = require(Tool::Iverilog) else { return };
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("pwned");
    let net = hostile_network(&payload(&marker));
    let (_, design) = ttfs_hw::stage::build(&net, Target::Ice40Hx8k, &[], None).unwrap();
    let hw = dir.path().join("hw");
    ttfs_hw::write(&design, &hw, false).unwrap();
    for simulator in [Simulator::Verilator, Simulator::Icarus] {
        let report = cosim::run(&Args {
            input: hw.clone(),
            data: fixture("digits/test_images.csv.gz"),
            labels: None,
            count: Some(20),
            lanes: ttfs_hw::planner::Lanes::Fixed(vec![]),
            target: Target::Ice40Hx8k,
            simulator,
            load: WeightLoad::Loader,
            trace: None,
            trace_sample: 0,
            trust_design: false,
        })
        .unwrap_or_else(|e| panic!("{simulator:?}: {e:#}"));
        assert_eq!(report.difference(), None, "{simulator:?}");
        assert!(!marker.exists(), "{simulator:?} ran the payload in a name");
    }
}
