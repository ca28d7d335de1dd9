//! `ttfs cosim DIR` on a design directory from a stranger: malformed
//! memory images and symbolic links are refused before anything runs;
//! hand-edited Verilog with constructs `ttfs generate` never writes
//! (`$system`, ...) is refused unless `--trust-design`; a `$fatal` in the
//! simulated design is our error, and the process survives it; an
//! unedited design co-simulates as before, with no note.

mod common;

use common::{fixture, require};
use std::path::{Path, PathBuf};
use ttfs_cosim::stage::{self as cosim, Args, Simulator, WeightLoad};
use ttfs_hw::target::Target;
use ttfs_tools::Tool;

/// Generates the digits design (iCE40 HX8K, ROM weights) into `dir/hw`;
/// returns the directory and the top module's name.
fn generate(dir: &Path) -> (PathBuf, String) {
    let net = common::convert_fixture(
        "digits_mlp.onnx",
        "digits/train_images.csv.gz",
        None,
        &ttfs_convert::Options::default(),
    );
    let hw = dir.join("hw");
    let (_, design) = ttfs_hw::stage::build(&net, Target::Ice40Hx8k, &[], None).unwrap();
    ttfs_hw::write(&design, &hw, false).unwrap();
    (hw, design.top)
}

fn args(input: &Path, count: usize, trust_design: bool) -> Args {
    Args {
        input: input.to_path_buf(),
        data: fixture("digits/test_images.csv.gz"),
        labels: None,
        count: Some(count),
        lanes: ttfs_hw::planner::Lanes::Fixed(vec![]),
        target: Target::Ice40Hx8k,
        simulator: Simulator::Verilator,
        load: WeightLoad::Loader,
        trace: None,
        trace_sample: 0,
        trust_design,
    }
}

/// Inserts `line` before the top module's last `endmodule`; returns the
/// line number it lands on.
fn inject(hw: &Path, top: &str, line: &str) -> usize {
    let path = hw.join(format!("rtl/{top}.v"));
    let text = std::fs::read_to_string(&path).unwrap();
    let at = text.rfind("endmodule").expect("the top module ends");
    let number = text[..at].lines().count() + 1;
    std::fs::write(&path, format!("{}{line}\n{}", &text[..at], &text[at..])).unwrap();
    number
}

fn refused(a: &Args) -> String {
    match cosim::run(a) {
        Ok(_) => panic!("{} was co-simulated", a.input.display()),
        Err(e) => format!("{e:#}"),
    }
}

/// A non-hex token and one line too many in a weight image: refused before
/// the run (no simulator is needed), naming file, line and what is allowed.
#[test]
fn a_corrupted_memory_image_is_refused_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let (hw, _) = generate(dir.path());
    let image = hw.join("mem/l0_weights.hex");
    let good = std::fs::read_to_string(&image).unwrap();
    let mut lines: Vec<&str> = good.lines().collect();
    lines[2] = "zz";
    std::fs::write(&image, lines.join("\n") + "\n").unwrap();
    let message = refused(&args(&hw, 2, false));
    assert!(message.contains("mem/l0_weights.hex line 3") && message.contains("\"zz\" is not a hex word"), "{message}");
    assert!(message.contains("hex digits") && message.contains("at most"), "{message}");

    let words = good.lines().count();
    std::fs::write(&image, format!("{good}00\n")).unwrap();
    let message = refused(&args(&hw, 2, true));
    assert!(
        message.contains(&format!("mem/l0_weights.hex line {}", words + 1))
            && message.contains(&format!("more than {words} words")),
        "{message}"
    );
}

/// `$system` in a hand-edited file is refused, with file, line and
/// construct, and never runs; the same text in a string or a comment is
/// harmless.
#[test]
fn a_system_task_in_a_hand_edited_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (hw, top) = generate(dir.path());
    let marker = dir.path().join("MARKER");
    inject(&hw, &top, "  // initial $system(\"harmless in a comment\");");
    let line = inject(&hw, &top, &format!("  initial $system(\"touch {}\");", marker.display()));
    let message = refused(&args(&hw, 2, false));
    assert!(message.contains(&format!("rtl/{top}.v:{line}: the system task $system")), "{message}");
    assert!(message.contains("--trust-design"), "{message}");
    assert!(!message.contains("harmless"), "{message}");
    assert!(!marker.exists(), "the $system call ran");
}

/// A symbolic link in mem/ is refused, wherever it points.
#[test]
fn a_symlink_in_mem_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (hw, _) = generate(dir.path());
    let image = hw.join("mem/l0_weights.hex");
    let copy = dir.path().join("weights.hex");
    std::fs::rename(&image, &copy).unwrap();
    std::os::unix::fs::symlink(&copy, &image).unwrap();
    let message = refused(&args(&hw, 2, true));
    assert!(message.contains("mem/l0_weights.hex is a symbolic link"), "{message}");
}

/// The design's tensor sidecar travels with its net.json: a symbolic link
/// in its place is refused like any other, and a missing one is named
/// with both files.
#[test]
fn the_design_sidecar_is_checked_like_the_rest_of_dir() {
    let dir = tempfile::tempdir().unwrap();
    let (hw, _) = generate(dir.path());
    let sidecar = hw.join("net.safetensors");
    let copy = dir.path().join("copy.safetensors");
    std::fs::rename(&sidecar, &copy).unwrap();
    let message = refused(&args(&hw, 2, true));
    assert!(
        message.contains(&hw.join("net.json").display().to_string())
            && message.contains(&sidecar.display().to_string())
            && message.contains("cannot open"),
        "{message}"
    );
    std::os::unix::fs::symlink(&copy, &sidecar).unwrap();
    let message = refused(&args(&hw, 2, true));
    assert!(message.contains("net.safetensors is a symbolic link"), "{message}");
}

/// A `$fatal` at time 0 in the design: refused as a construct generate
/// never writes; with --trust-design, the Verilated model's stop comes back
/// as our error (file, line and the design's message) and this process,
/// which loaded the model, goes on.
#[test]
fn a_fatal_in_the_design_is_our_error_and_the_process_survives() {
    if require(Tool::Verilator).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (hw, top) = generate(dir.path());
    let line = inject(&hw, &top, "  initial $fatal(1, \"stopped by the test\");");
    let message = refused(&args(&hw, 2, false));
    assert!(message.contains("the system task $fatal"), "{message}");
    let message = refused(&args(&hw, 2, true));
    assert!(message.contains(&format!("co-simulating {}", hw.display())), "{message}");
    assert!(
        message.contains(&format!("the simulated design stopped with a fatal error: rtl/{top}.v:{line}:")),
        "{message}"
    );
    assert!(message.contains("stopped by the test"), "{message}");
    // Still here: the same model fails the same way again.
    let again = refused(&args(&hw, 2, true));
    assert!(again.contains("stopped by the test"), "{again}");
}

/// An unedited design co-simulates as before, without a note.
#[test]
fn an_unedited_design_cosimulates_without_notes() {
    if require(Tool::Verilator).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (hw, _) = generate(dir.path());
    let r = cosim::run(&args(&hw, 20, false)).unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!((r.mismatched_spikes, r.mismatched_outputs), (0, 0));
    assert_eq!(r.comparison.cycle_model_mismatches, 0);
    assert!(r.notes.is_empty(), "{:?}", r.notes);
    assert!(!cosim::render(&r).contains("differs"));
}

/// A hand edit without dangerous constructs runs, with a note naming it.
#[test]
fn a_harmless_hand_edit_is_noted() {
    if require(Tool::Verilator).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (hw, top) = generate(dir.path());
    inject(&hw, &top, "  // a comment added by hand");
    let r = cosim::run(&args(&hw, 5, false)).unwrap_or_else(|e| panic!("{e:#}"));
    let note = format!("rtl/{top}.v differs from what `ttfs generate` writes for this net.json (hand-edited)");
    assert_eq!(r.notes, std::slice::from_ref(&note));
    assert!(cosim::render(&r).contains(&note));
}
