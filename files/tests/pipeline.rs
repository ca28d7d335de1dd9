//! The file classifier end to end on a slice of the bundled deb-files set:
//! trained, written and read back, classifying a stream, and its hardware
//! (the record front end) co-simulated under Verilator with every hidden
//! spike compared; hostile model files refused with what is wrong.

use std::path::{Path, PathBuf};
use ttfs_files::classifier::{self, Setup, TtfsParams};
use ttfs_files::encoding::Encoding;
use ttfs_files::hardware;
use ttfs_files::model::{Classifier, FilesModel};
use ttfs_files::stage::{DataArgs, Split, classify_stream};
use ttfs_hw::planner::Lanes;
use ttfs_hw::target::Target;
use ttfs_tools::Tool;
use ttfs_tools::testing::require;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/deb_files.csv.gz")
}

fn split() -> Split {
    let exclude = ["package", "version", "section", "priority", "mtime"].map(String::from).to_vec();
    Split::load(&DataArgs { data: data(), label: "label".into(), exclude, test_fraction: 0.25, seed: 1, bins: 16 })
        .unwrap()
}

/// A small classifier: 3,000 training records, 16 hidden neurons, one
/// epoch (the full-size one is in the README's table).
fn small_model(split: &Split) -> FilesModel {
    let scratch = tempfile::tempdir().unwrap();
    let setup = Setup {
        label: "label",
        exclude: &[],
        features: split.features.clone(),
        encoding: Encoding::default(),
        classes: split.classes.clone(),
        checkpoints: scratch.path(),
        progress: false,
    };
    let params = TtfsParams { hidden: 16, epochs: 1, ..Default::default() };
    let train: Vec<usize> = split.train.iter().copied().step_by(7).collect();
    classifier::train(&split.records, &split.labels, &train, None, setup, &params).unwrap().model
}

#[test]
fn train_stream_and_cosimulate_the_record_front_end() {
    let split = split();
    let model = small_model(&split);
    let back = FilesModel::from_json(&model.to_json()).unwrap();
    assert_eq!(back, model, "a model file reads back as written");
    assert_eq!(model.to_json(), back.to_json(), "deterministic text");

    // The integer network beats guessing the largest class (14.7 %) by far.
    let c = Classifier::new(&model);
    let test: Vec<usize> = split.test.iter().copied().step_by(10).collect();
    let correct =
        test.iter().filter(|&&r| c.classify(&model.tokens(&split.records.values[r])) == split.labels[r]).count();
    let accuracy = correct as f64 / test.len() as f64;
    eprintln!("small classifier: {accuracy:.4} on {} test records", test.len());
    assert!(accuracy > 0.6, "{accuracy}");

    // classify: the header of the data file first, then records; the label
    // column and the excluded ones are ignored.
    let mut csv = String::from("package,path,dir1,dir2,dir3,depth,name,ext,type,size,mode,uname,gname,label\n");
    for &r in &test[..20] {
        let v: Vec<String> = split.records.values[r].iter().map(|v| v.clone().unwrap_or_default()).collect();
        csv += &format!("x,{},whatever\n", v.join(","));
    }
    let mut out = Vec::new();
    assert_eq!(classify_stream(&model, csv.as_bytes(), "stdin", &mut out).unwrap(), 20);
    let lines: Vec<String> = String::from_utf8(out).unwrap().lines().map(String::from).collect();
    let expected: Vec<String> = test[..20]
        .iter()
        .map(|&r| model.classes[c.classify(&model.tokens(&split.records.values[r]))].clone())
        .collect();
    assert_eq!(lines, expected);

    // The record design: every hidden spike and output of 150 test records
    // (keys sent in shuffled orders, missing values left out for two in
    // three) against the reference encoding and network.
    if require(Tool::Verilator).is_none() {
        return;
    }
    let records: Vec<_> = test[..150].iter().map(|&r| model.tokens(&split.records.values[r])).collect();
    let labels: Vec<usize> = test[..150].iter().map(|&r| split.labels[r]).collect();
    let report =
        hardware::cosim(&model, Target::Ice40Up5k, &Lanes::Fixed(vec![4, 1]), &records, Some(&labels), 0).unwrap();
    assert_eq!((report.mismatched_spikes, report.mismatched_outputs), (0, 0), "{:?}", report.first_difference);
    assert!(report.reference_spikes > 1000, "{report:?}");
    assert!(report.cycles_per_record > 0.0);
}

#[test]
fn hostile_model_files_are_refused_with_what_is_wrong() {
    let split = split();
    let model = small_model(&split);
    let text = model.to_json();
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let refuse = |v: &serde_json::Value, what: &str| {
        let err = FilesModel::from_json(&v.to_string()).unwrap_err();
        assert!(err.contains(what), "{err}");
    };
    refuse(&serde_json::json!({"format": "x"}), "not a files model");
    let mut v = value.clone();
    v["format"] = "ttfs-network".into();
    refuse(&v, "format");
    let mut v = value.clone();
    v["encoding"]["ticks"] = 12.into();
    refuse(&v, "encoding.ticks 12");
    let mut v = value.clone();
    v["encoding"]["neurons_per_key"] = 4.into();
    refuse(&v, "channels");
    let mut v = value.clone();
    v["features"]["kinds"].as_array_mut().unwrap().pop();
    refuse(&v, "kinds");
    let mut v = value.clone();
    v["classes"].as_array_mut().unwrap().pop();
    refuse(&v, "outputs");
    let size = model.features.keys.iter().position(|k| k == "size").unwrap();
    value["features"]["kinds"][size]["numeric"]["edges"][1] = serde_json::json!(-1.0);
    refuse(&value, "ascending");
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.json");
    assert!(FilesModel::load(&missing).unwrap_err().to_string().contains("none.json"));
}
