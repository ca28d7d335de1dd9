//! The README's hardware results, from one run of `ttfs flow` per design
//! (convert → sim → generate → cosim → synth with the real Verilator, Yosys,
//! nextpnr-ice40 and icepack): the digits MLP on the iCE40-HX8K with all
//! lanes (which does not fit), the device's default 3 lanes and `--lanes
//! auto`, the MNIST 784-128-10 MLP (8-bit weights) and a PyTorch
//! 784-64-32-10 MLP (the dynamo exporter's model with its external data)
//! on the UP5K with `--lanes auto`, every test image of each.
//!
//! Prints a Markdown table (accuracy, spikes per neuron, measured cycles and
//! their ratio to the weight-bandwidth bound, Fmax, clock, µs per inference
//! one image at a time and streaming, inferences per second, utilisation)
//! and writes it to `target/hardware-results.md`. A design that does not
//! fit gets a row saying by how much.
//!
//! Run: `cargo bench --bench hardware` (about 10 minutes on 2 cores).

#[path = "../tests/common/mod.rs"]
mod common;

use serde_json::Value;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use ttfs_convert::Options;
use ttfs_flow::pipeline::{self as flow, Args};
use ttfs_hw::planner::{Goal, Lanes};
use ttfs_hw::target::Target;

struct Case {
    name: &'static str,
    model: &'static str,
    calib: &'static str,
    data: &'static str,
    labels: &'static str,
    target: Target,
    lanes: Lanes,
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

fn row(case: &Case, out: &Path) -> String {
    let (sim, cosim, synth) =
        (read(&out.join("sim.json")), read(&out.join("cosim.json")), read(&out.join("synth.json")));
    let manifest = read(&out.join("hw/manifest.json"));
    let f = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    let lanes: Vec<String> = manifest["layers"].as_array().unwrap().iter().map(|l| l["lanes"].to_string()).collect();
    let clock = f(&synth["clock_mhz"]);
    format!(
        "| {} | {} | {:.2} % | {:.3} | {:.1} | {:.2}× | {:.1} | {} | {:.1} | {:.1} | {:.0} | {} / {} ({:.0} %) | {} | {} | {} |",
        case.name,
        lanes.join(", "),
        100.0 * f(&cosim["accuracy"]),
        f(&sim["spikes_per_neuron"]),
        f(&cosim["cycles_per_inference"]),
        f(&manifest["cycle_stats"]["ratio_to_bound"]),
        f(&synth["fmax_mhz"]),
        clock,
        f(&synth["latency_us"]),
        f(&cosim["initiation_interval"]) / clock,
        f(&synth["inferences_per_second"]),
        synth["lc"],
        synth["lc_available"],
        100.0 * f(&synth["lc"]) / f(&synth["lc_available"]),
        synth["bram"],
        synth["spram"],
        synth["dsp"],
    )
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let work = root.join("target/hardware-bench");
    let cases = [
        Case {
            name: "digits MLP 64-32-10, iCE40-HX8K, all lanes",
            model: "digits_mlp.onnx",
            calib: "digits/train_images.csv.gz",
            data: "digits/test_images.csv.gz",
            labels: "digits/test_labels.csv.gz",
            target: Target::Ice40Hx8k,
            lanes: Lanes::Fixed(vec![0]),
        },
        Case {
            name: "digits MLP 64-32-10, iCE40-HX8K, the device's default lanes",
            model: "digits_mlp.onnx",
            calib: "digits/train_images.csv.gz",
            data: "digits/test_images.csv.gz",
            labels: "digits/test_labels.csv.gz",
            target: Target::Ice40Hx8k,
            lanes: Lanes::Fixed(Vec::new()),
        },
        Case {
            name: "digits MLP 64-32-10, iCE40-HX8K, --lanes auto",
            model: "digits_mlp.onnx",
            calib: "digits/train_images.csv.gz",
            data: "digits/test_images.csv.gz",
            labels: "digits/test_labels.csv.gz",
            target: Target::Ice40Hx8k,
            lanes: Lanes::Auto(Goal::DEFAULT),
        },
        Case {
            name: "MNIST MLP 784-128-10, iCE40-UP5K, --lanes auto",
            model: "mnist_mlp.onnx",
            calib: "mnist/train5k-images-idx3-ubyte.gz",
            data: "mnist/t10k-images-idx3-ubyte.gz",
            labels: "mnist/t10k-labels-idx1-ubyte.gz",
            target: Target::Ice40Up5k,
            lanes: Lanes::Auto(Goal::DEFAULT),
        },
        Case {
            name: "PyTorch MLP 784-64-32-10 (dynamo export), iCE40-UP5K, --lanes auto",
            model: "users/torch_mlp3_dynamo.onnx",
            calib: "mnist/train5k-images-idx3-ubyte.gz",
            data: "mnist/t10k-images-idx3-ubyte.gz",
            labels: "mnist/t10k-labels-idx1-ubyte.gz",
            target: Target::Ice40Up5k,
            lanes: Lanes::Auto(Goal::DEFAULT),
        },
    ];
    let mut table = String::from(
        "| design | lanes per layer | accuracy (hardware) | spikes / hidden neuron | cycles / inference | cycles / bound \
         | Fmax MHz | clock MHz | µs / inference | µs / inference, streaming | inferences / s | logic cells | BRAM | SPRAM | DSP |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for (i, case) in cases.iter().enumerate() {
        let out = work.join(format!("case{i}"));
        if out.exists() {
            std::fs::remove_dir_all(&out).unwrap();
        }
        let started = std::time::Instant::now();
        let result = flow::run(&Args {
            model: Some(common::fixture(case.model)),
            calib: Some(common::fixture(case.calib)),
            data: Some(common::fixture(case.data)),
            labels: Some(common::fixture(case.labels)),
            output: out.clone(),
            options: Options::default(),
            target: Some(case.target),
            lanes: case.lanes.clone(),
            seed: 1,
            count: None,
            freq_mhz: None,
            strict: false,
            exhaustive: false,
            baud: ttfs_hw::board::BAUD,
            stages: flow::Stages::ALL,
            progress: false,
        });
        eprintln!("{}: {:.0} s", case.name, started.elapsed().as_secs_f64());
        match result {
            Ok(_) => table += &(row(case, &out) + "\n"),
            Err(e) => {
                let why = format!("{e:#}").replace('\n', " ").replace('|', "\\|");
                let lanes = match &case.lanes {
                    Lanes::Auto(_) => "auto".to_string(),
                    Lanes::Fixed(l) if l.is_empty() => "default".to_string(),
                    Lanes::Fixed(l) if l == &[0] => "all".to_string(),
                    Lanes::Fixed(l) => l.iter().map(usize::to_string).collect::<Vec<_>>().join(", "),
                };
                let _ = writeln!(table, "| {} | {lanes} | {why} |||||||||||||", case.name);
            }
        }
    }
    println!("{table}");
    std::fs::create_dir_all(root.join("target")).unwrap();
    std::fs::write(root.join("target/hardware-results.md"), &table).unwrap();
}
