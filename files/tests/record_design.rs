//! The record design as `ttfs files generate` writes it and `ttfs synth`
//! builds it: a small classifier (12 keys × 4 neurons × 8 ticks, 8 hidden
//! neurons) generated with its cycles per record measured by
//! co-simulation, its manifest, README and FuseSoC core describing the
//! record top (the core's record bench and lint run), byte-identical when
//! generated twice; then placed and routed
//! for the iCEBreaker at a clock other than the generated one, so that the
//! board wrapper is rendered again, as the records wrapper; a manifest whose
//! record front end does not match its network is refused before any tool
//! runs.

use std::path::{Path, PathBuf};
use ttfs_files::classifier::{self, Setup, TtfsParams};
use ttfs_files::encoding::Encoding;
use ttfs_files::hardware::{self, Measure};
use ttfs_files::stage::{DataArgs, Split};
use ttfs_hw::manifest::Manifest;
use ttfs_hw::planner::Lanes;
use ttfs_hw::target::Target;
use ttfs_tools::Tool;
use ttfs_tools::testing::require;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/deb_files.csv.gz")
}

/// Trains the small classifier on every seventh training record and
/// writes it to `path`.
fn small_model(path: &Path) {
    let exclude = ["package", "version", "section", "priority", "mtime"].map(String::from).to_vec();
    let args = DataArgs { data: data(), label: "label".into(), exclude, test_fraction: 0.25, seed: 1, bins: 16 };
    let split = Split::load(&args).unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let setup = Setup {
        label: "label",
        exclude: &args.exclude,
        features: split.features.clone(),
        encoding: Encoding { neurons_per_key: 4, ticks: 8, spread: 4, seed: 1 },
        classes: split.classes.clone(),
        checkpoints: scratch.path(),
        progress: false,
    };
    let params = TtfsParams { hidden: 8, epochs: 1, ..Default::default() };
    let train: Vec<usize> = split.train.iter().copied().step_by(7).collect();
    let model = classifier::train(&split.records, &split.labels, &train, None, setup, &params).unwrap().model;
    std::fs::write(path, model.to_json()).unwrap();
}

#[test]
fn the_record_design_is_described_measured_and_built_as_records() {
    if require(Tool::Verilator).is_none() {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let model = scratch.path().join("model.json");
    small_model(&model);
    let data = data();
    let measure = || Some(Measure { data: &data, split: Some((0.25, 1)), count: 40 });
    let lanes = Lanes::Fixed(vec![1, 1]);
    let dir = scratch.path().join("hw");
    let summary = hardware::generate(&model, &dir, Target::Ice40Up5k, &lanes, false, measure()).unwrap();
    assert!(summary.contains("co-simulated, 0 mismatches"), "{summary}");

    let manifest = Manifest::read(&dir).unwrap();
    let records = manifest.records.as_ref().expect("a record design's manifest has `records`");
    assert_eq!(records.top, format!("{}_records", manifest.top));
    let cycles = records.cycles.as_ref().expect("measured");
    assert_eq!(cycles.records, 40);
    assert!(cycles.mean > 16.0 * 12.0 && cycles.worst as f64 >= cycles.mean, "{cycles:?}");
    let key = records.ports.iter().find(|p| p.name == "s_key").expect("s_key");
    assert_eq!(key.width, 4, "12 keys take 4 bits");
    assert!(records.ports.iter().all(|p| p.name != "s_data"));
    let board = manifest.board.as_ref().expect("the iCEBreaker wrapper");
    assert_eq!(board.frame_bytes, 1 + 5 * 12, "0xA6 and five bytes per pair, every key sent");
    assert_eq!(manifest.files["test_stimulus"].iter().filter(|f| f.contains("records")).count(), 2);

    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    for text in ["## Records", "`0xA6`", "### Token codes", "records per second", "run `ttfs files generate` again"] {
        assert!(readme.contains(text), "the README has {text:?}");
    }
    assert!(!readme.contains("### Pixel codes"), "the wrapper takes no pixels");
    let core = std::fs::read_to_string(dir.join(format!("{}.core", manifest.top))).unwrap();
    assert!(core.contains("sim_records:") && core.contains(&format!("toplevel: {}_tb", records.top)), "{core}");

    // Deterministic: the same model and records give the same files.
    let again = scratch.path().join("again");
    hardware::generate(&model, &again, Target::Ice40Up5k, &lanes, false, measure()).unwrap();
    for entry in walk(&dir) {
        let relative = entry.strip_prefix(&dir).unwrap();
        assert_eq!(std::fs::read(&entry).unwrap(), std::fs::read(again.join(relative)).unwrap(), "{relative:?}");
    }

    // The core's record targets run as the README says (in the copy: FuseSoC
    // writes build/, which `ttfs synth` keeps for its own).
    if let (Some(fusesoc), Some(_), Some(_)) = (require(Tool::Fusesoc), require(Tool::Iverilog), require(Tool::Vvp)) {
        for target in ["sim_records", "lint_records"] {
            let out = std::process::Command::new(&fusesoc)
                .current_dir(&again)
                .args(["--cores-root", ".", "run", "--target", target, &format!("::{}", manifest.top)])
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "fusesoc {target}: {text}");
            if target == "sim_records" {
                assert!(text.contains("results as expected"), "{text}");
            }
        }
    }

    // A stranger's manifest whose front end does not match the network is
    // refused by name, before any tool runs.
    let mut value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(again.join("manifest.json")).unwrap()).unwrap();
    value["records"]["front"]["keys"] = 13.into();
    std::fs::write(again.join("manifest.json"), value.to_string()).unwrap();
    let err = ttfs_synth::stage::run(&synth_args(&again, Some(20.0)), &mut |_| {}).unwrap_err();
    assert!(format!("{err:#}").contains("records.front: keys × neurons_per_key × ticks = 416"), "{err:#}");

    // ttfs synth at 20 MHz (the wrapper was generated at 24): the records
    // wrapper is rendered again for that clock, and the latency is the
    // co-simulated one.
    if require(Tool::Yosys).is_none() || require(Tool::NextpnrIce40).is_none() {
        return;
    }
    let report = ttfs_synth::stage::run(&synth_args(&dir, Some(20.0)), &mut |_| {}).unwrap();
    assert_eq!(report.input_unit, "record");
    assert!(report.fits, "{report:?}");
    assert!(report.cycles_source.contains("co-simulated"), "{}", report.cycles_source);
    assert_eq!(report.cycles_per_inference, cycles.mean);
    assert!(report.clock_mhz <= 20.0);
    let rendered = std::fs::read_to_string(dir.join("build").join(format!("{}.v", board.module))).unwrap();
    assert!(rendered.contains("ttfs_record_framer") && rendered.contains(&records.top), "the records wrapper");
    assert!(report.estimate.parts.iter().any(|(part, _)| part == "record front end"));
    let text = ttfs_synth::render(&report);
    assert!(text.contains("cycles per record") && text.contains("records/s"), "{text}");
}

fn synth_args(dir: &Path, freq_mhz: Option<f64>) -> ttfs_synth::stage::Args {
    ttfs_synth::stage::Args {
        dir: dir.to_path_buf(),
        device: None,
        freq_mhz,
        seed: 1,
        data: None,
        count: None,
        cycles: None,
    }
}

/// Every file below `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { files.extend(walk(&path)) } else { files.push(path) }
    }
    files
}
