//! Conversion as named passes: `convert` is the import step followed by
//! the passes; a pass run again on an existing description (with every
//! pass after it) gives what a fresh conversion with the new options gives;
//! `--dump-after` writes the description between passes.

mod common;

use common::fixture;
use std::path::Path;
use ttfs_convert::Options;
use ttfs_convert::passes::{IMPORT, PASSES};
use ttfs_convert::stage::{self, Args, RerunArgs};

const MODEL: &str = "digits_mlp.onnx";
const CALIB: &str = "digits/train_images.csv.gz";

fn convert(dir: &Path, name: &str, options: Options, dump_after: &[&str]) -> anyhow::Result<String> {
    stage::run(&Args {
        model: fixture(MODEL),
        calib: fixture(CALIB),
        calib_count: Some(300),
        output: dir.join(name),
        options,
        dump_after: dump_after.iter().map(|s| s.to_string()).collect(),
        force: false,
    })
}

fn bits(time: u32, weight: u32) -> Options {
    Options { time_bits: vec![time], weight_bits: vec![weight], ..Options::default() }
}

#[test]
fn the_passes_have_unique_kebab_case_names_and_descriptions() {
    let mut names: Vec<&str> = PASSES.iter().map(|p| p.name).collect();
    names.push(IMPORT.0);
    for p in PASSES {
        assert!(p.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{}", p.name);
        assert!(!p.description.is_empty() && !p.description.contains('\n'), "{}", p.name);
    }
    let n = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), n, "pass names are unique");
}

#[test]
fn quantizing_again_at_other_bits_equals_converting_at_those_bits() {
    let dir = tempfile::tempdir().unwrap();
    convert(dir.path(), "at8.json", bits(8, 8), &[]).unwrap();
    convert(dir.path(), "at6x4.json", bits(6, 4), &[]).unwrap();
    let text = stage::rerun(&RerunArgs {
        network: dir.path().join("at8.json"),
        from: "quantize".into(),
        calib: Some(fixture(CALIB)),
        calib_count: Some(300),
        options: bits(6, 4),
        output: dir.path().join("requantized.json"),
        force: false,
    })
    .unwrap();
    assert!(text.starts_with("ran quantize, validate, count-clipping\n"), "{text}");
    // The JSON files differ in the sidecar's name only; the networks and
    // the sidecars are identical.
    let read = |name: &str| ttfs_ir::load(&dir.path().join(name)).unwrap().to_json();
    let fresh = read("at6x4.json");
    let again = read("requantized.json");
    assert_eq!(again, fresh, "re-quantizing gives the fresh conversion, byte for byte");
    let sidecar = |name: &str| std::fs::read(dir.path().join(name)).unwrap();
    assert_eq!(sidecar("requantized.safetensors"), sidecar("at6x4.safetensors"));
    let at8 = read("at8.json");
    assert_ne!(at8, again, "the bits changed something");
}

#[test]
fn new_windows_without_calibration_data_mark_the_clipping_counts_as_stale() {
    let dir = tempfile::tempdir().unwrap();
    convert(dir.path(), "net.json", Options::default(), &[]).unwrap();
    let out = dir.path().join("wide.json");
    stage::rerun(&RerunArgs {
        network: dir.path().join("net.json"),
        from: "set-windows".into(),
        calib: None,
        calib_count: None,
        options: Options { margin: 1.0, ..Options::default() },
        output: out.clone(),
        force: false,
    })
    .unwrap();
    let net = ttfs_ir::load(&out).unwrap();
    assert_eq!(net.calibration.margin, 1.0);
    assert_eq!(net.calibration.clipped_discrete, None);
    assert!(net.notes.iter().any(|n| n.contains("not counted again")), "{:?}", net.notes);
    // Windows are (1 + ζ)·X_n.
    let p = net.layers[0].params().unwrap();
    let w = p.window.unwrap();
    assert!(((w.t_max - w.t_min) - 2.0 * p.x_max.unwrap()).abs() < 1e-12);

    let err = stage::rerun(&RerunArgs {
        network: dir.path().join("net.json"),
        from: "calibrate".into(),
        calib: None,
        calib_count: None,
        options: Options::default(),
        output: dir.path().join("never.json"),
        force: false,
    })
    .unwrap_err();
    assert!(format!("{err:#}").contains("pass calibrate needs calibration data; pass --calib FILE"), "{err:#}");
    assert!(!dir.path().join("never.json").exists());
}

#[test]
fn dump_after_writes_the_description_between_passes() {
    let dir = tempfile::tempdir().unwrap();
    let text = convert(dir.path(), "net.json", Options::default(), &["import", "set-windows"]).unwrap();
    assert!(text.contains("net.after-import.json") && text.contains("net.after-set-windows.json"), "{text}");
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.path().join(name)).unwrap()).unwrap()
    };
    let imported = read("net.after-import.json");
    assert!(imported["layers"][0]["params"]["window"].is_null(), "no windows before set-windows");
    let windowed = read("net.after-set-windows.json");
    assert!(windowed["layers"][0]["params"]["window"].is_object());
    assert!(windowed["layers"][0]["params"]["quant"].is_null(), "not quantized yet");
    let last = read("net.json");
    assert!(last["layers"][0]["params"]["quant"].is_object());

    let err = convert(dir.path(), "other.json", Options::default(), &["fold-everything"]).unwrap_err();
    let shown = format!("{err:#}");
    assert!(shown.contains("no pass \"fold-everything\"; the passes are rescale-alpha, calibrate"), "{shown}");
    assert!(!dir.path().join("other.json").exists(), "nothing written when a pass name is wrong");
}

#[test]
fn an_unknown_pass_and_import_are_refused_on_an_existing_description() {
    let dir = tempfile::tempdir().unwrap();
    convert(dir.path(), "net.json", Options::default(), &[]).unwrap();
    for (from, expected) in [("import", "import needs the model"), ("requantize", "no pass \"requantize\"")] {
        let err = stage::rerun(&RerunArgs {
            network: dir.path().join("net.json"),
            from: from.into(),
            calib: None,
            calib_count: None,
            options: Options::default(),
            output: dir.path().join("out.json"),
            force: false,
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains(expected), "{err:#}");
    }
}
