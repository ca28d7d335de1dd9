//! The hand-written Verilog blocks in `rtl-templates/lib`: each is lint-clean
//! under `verilator --lint-only -Wall`, compiles under Icarus, passes Yosys's
//! `hierarchy -check; proc; check -assert`, and passes its own self-checking
//! test bench (`rtl-templates/tb/<module>_tb.v`) under both Icarus and
//! Verilator.

mod common;

use common::{require, rtl_dir};
use std::path::{Path, PathBuf};
use std::process::Command;
use ttfs_tools::{Tool, combined, run};

const SENTINEL: &str = "*-* All Finished *-*";

fn verilog_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "v"));
    files.sort();
    files
}

fn module_name(file: &Path) -> String {
    file.file_stem().unwrap().to_string_lossy().into_owned()
}

fn lib_modules() -> Vec<PathBuf> {
    let files = verilog_files(&rtl_dir().join("lib"));
    assert!(!files.is_empty(), "rtl-templates/lib holds the blocks");
    files
}

#[test]
fn blocks_are_lint_clean_under_verilator() {
    let Some(verilator) = require(Tool::Verilator) else { return };
    let (lib, sim) = (rtl_dir().join("lib"), rtl_dir().join("sim"));
    for file in lib_modules() {
        let mut cmd = Command::new(&verilator);
        cmd.args(["--lint-only", "-Wall", "--top-module"])
            .arg(module_name(&file))
            .arg("-y")
            .arg(&lib)
            .arg("-y")
            .arg(&sim)
            .arg(&file);
        run(&mut cmd).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn blocks_compile_under_icarus() {
    let Some(iverilog) = require(Tool::Iverilog) else { return };
    let dir = tempfile::tempdir().unwrap();
    for file in lib_modules() {
        let mut cmd = Command::new(&iverilog);
        cmd.args(["-g2005", "-Wall", "-o"])
            .arg(dir.path().join("out"))
            .arg("-y")
            .arg(rtl_dir().join("lib"))
            .arg("-y")
            .arg(rtl_dir().join("sim"))
            .arg("-s")
            .arg(module_name(&file))
            .arg(&file);
        run(&mut cmd).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn blocks_pass_yosys_checks() {
    let Some(yosys) = require(Tool::Yosys) else { return };
    let all: Vec<String> = lib_modules().iter().map(|p| p.display().to_string()).collect();
    for file in lib_modules() {
        let script = format!(
            "read_verilog -lib +/ice40/cells_sim.v; read_verilog {}; hierarchy -check -top {}; proc; check -assert",
            all.join(" "),
            module_name(&file)
        );
        run(Command::new(&yosys).args(["-q", "-p", &script])).unwrap_or_else(|e| panic!("{e}"));
    }
}

fn test_benches() -> Vec<PathBuf> {
    let benches = verilog_files(&rtl_dir().join("tb"));
    let modules: Vec<String> = lib_modules().iter().map(|f| module_name(f)).collect();
    for module in &modules {
        assert!(benches.iter().any(|b| module_name(b) == format!("{module}_tb")), "{module} has no test bench");
    }
    benches
}

fn check_passed(bench: &Path, simulator: &str, text: &str) {
    assert!(
        text.contains(SENTINEL) && !text.contains("FAIL"),
        "{} under {simulator} did not pass:\n{text}",
        bench.display()
    );
}

#[test]
fn test_benches_pass_under_icarus() {
    let (Some(iverilog), Some(vvp)) = (require(Tool::Iverilog), require(Tool::Vvp)) else { return };
    let dir = tempfile::tempdir().unwrap();
    for bench in test_benches() {
        let out = dir.path().join(module_name(&bench));
        let mut compile = Command::new(&iverilog);
        compile
            .args(["-g2005", "-o"])
            .arg(&out)
            .arg("-y")
            .arg(rtl_dir().join("lib"))
            .arg("-y")
            .arg(rtl_dir().join("sim"))
            .arg(&bench);
        run(&mut compile).unwrap_or_else(|e| panic!("{e}"));
        let result = run(Command::new(&vvp).arg("-n").arg(&out).current_dir(rtl_dir().join("tb")))
            .unwrap_or_else(|e| panic!("{e}"));
        check_passed(&bench, "Icarus", &combined(&result));
    }
}

#[test]
fn test_benches_pass_under_verilator() {
    let Some(verilator) = require(Tool::Verilator) else { return };
    let dir = tempfile::tempdir().unwrap();
    let benches = test_benches();
    // Verilator's C++ builds dominate: build two benches at a time.
    std::thread::scope(|scope| {
        for chunk in benches.chunks(benches.len().div_ceil(2).max(1)) {
            let (verilator, dir) = (&verilator, dir.path());
            scope.spawn(move || {
                for bench in chunk {
                    let top = module_name(bench);
                    let mdir = dir.join(&top);
                    let mut build = Command::new(verilator);
                    build
                        .args(["--binary", "--timing", "-Wno-fatal", "-j", "1", "--top-module", &top, "--Mdir"])
                        .arg(&mdir)
                        .arg("-y")
                        .arg(rtl_dir().join("lib"))
                        .arg("-y")
                        .arg(rtl_dir().join("sim"))
                        .arg(bench);
                    run(&mut build).unwrap_or_else(|e| panic!("{e}"));
                    let result = run(Command::new(mdir.join(format!("V{top}"))).current_dir(rtl_dir().join("tb")))
                        .unwrap_or_else(|e| panic!("{e}"));
                    check_passed(bench, "Verilator", &combined(&result));
                }
            });
        }
    });
}
