//! The hand-written Verilog blocks in `rtl-templates/lib`: each is lint-clean
//! under `verilator --lint-only -Wall`, compiles under Icarus, passes Yosys's
//! `hierarchy -check; proc; check -assert`, and passes its own self-checking
//! test bench (`rtl-templates/tb/<module>_tb.v`) under both Icarus and
//! Verilator; each compiles in slang with no error or warning; and each
//! refuses a parameter it cannot build, with its rule as the message, under
//! Verilator, Icarus and Yosys.

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

/// Every block compiles in slang, the strict SystemVerilog front end users'
/// vendor and ASIC tools resemble more than Verilator and Icarus do, with no
/// error and no warning of [`common::SLANG_WARNINGS`]; and every block's
/// test bench compiles there with no error or default warning.
#[test]
fn blocks_and_benches_compile_in_slang() {
    let Some(slang) = require(Tool::Slang) else { return };
    let dir = rtl_dir();
    let files = |sub: &str| -> Vec<String> {
        verilog_files(&dir.join(sub)).iter().map(|f| format!("{sub}/{}.v", module_name(f))).collect()
    };
    // One run over all blocks, each its own top (default parameters).
    let mut args: Vec<String> = common::SLANG_WARNINGS.iter().map(|w| w.to_string()).collect();
    for file in lib_modules() {
        args.extend(["--top".into(), module_name(&file)]);
    }
    args.extend(["-y".into(), "sim".into()]);
    args.extend(files("lib"));
    common::slang_clean(&slang, &dir, &args, "the blocks");
    let mut args: Vec<String> = vec!["-I".into(), "tb".into(), "-y".into(), "lib".into(), "-y".into(), "sim".into()];
    for bench in test_benches() {
        args.extend(["--top".into(), module_name(&bench)]);
    }
    args.extend(files("tb"));
    common::slang_clean(&slang, &dir, &args, "the block test benches");
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

/// Parameter overrides: name and value.
type Overrides = &'static [(&'static str, i64)];

/// One parameter set per block that its checks refuse: the module, the
/// overrides, and the rule the check states. Verilator and Yosys print
/// `<module>: <rule>`; Icarus names the undefined `<module>_<rule>` (spaces
/// as underscores).
const BAD_PARAMETERS: &[(&str, Overrides, &str)] = &[
    ("ttfs_argmax", &[("N", 17)], "CLS_W must be 1 to 31 and hold N minus 1"),
    ("ttfs_block_serializer", &[("LANE_STRIDE", 0)], "LANE_STRIDE must be 1 or more"),
    ("ttfs_conv_layer", &[("SH", 3)], "SH and SW must be powers of two"),
    ("ttfs_dense_layer", &[("P", 5)], "P must be 1 to N_OUT"),
    ("ttfs_event_fifo", &[("ADDR_W", 0)], "ADDR_W must be 1 to 30"),
    ("ttfs_files_encoder", &[("T", 12)], "T must be a power of two"),
    ("ttfs_fire", &[("BETA", 0)], "BETA must be 1 or more"),
    ("ttfs_input_encoder", &[("IDX_W", 9)], "IDX_W must be 1 to 32 and hold N_IN minus 1"),
    ("ttfs_mac_lanes", &[("P", 0)], "P must be 1 or more"),
    ("ttfs_potential_ram", &[("WORDS", 0)], "WORDS must be 1 or more"),
    ("ttfs_power_on_reset", &[("HOLD_BITS", -1)], "HOLD_BITS must be 0 or more"),
    ("ttfs_readout", &[("N", 17)], "CLS_W must be 1 to 31 and hold N minus 1"),
    ("ttfs_record_framer", &[("KEY_W", 8)], "KEY_W must be 1 to 7"),
    ("ttfs_result_sender", &[("CLS_W", 9)], "CLS_W must be 1 to 8"),
    ("ttfs_shift_add_mul", &[("QW", 0)], "QW must be 1 or more"),
    ("ttfs_spi_flash_reader", &[("START", 1 << 24)], "START must be 0 to 16777215"),
    ("ttfs_spike_queue", &[("Q_W", 0)], "Q_W must be 1 or more"),
    ("ttfs_uart_framer", &[("QW", 9)], "QW must be 1 to 8"),
    ("ttfs_uart_rx", &[("CLKS_PER_BIT", 3)], "CLKS_PER_BIT must be 4 or more"),
    ("ttfs_uart_tx", &[("CLKS_PER_BIT", 0)], "CLKS_PER_BIT must be 1 or more"),
    ("ttfs_unrolled_neuron", &[("WB", 1)], "WB must be 2 to VW minus 1"),
    ("ttfs_weight_loader", &[("WORDS", 17), ("ADDR_W", 4)], "ADDR_W must be 1 to 32 and hold WORDS minus 1"),
    ("ttfs_weight_rom", &[("DEPTH", 257)], "DEPTH must be 1 to 2 to the power ADDR_W"),
    ("ttfs_weight_spram", &[("DATA_W", 65)], "DATA_W must be 1 to 64"),
];

/// Runs a tool on a refused parameter set: it must fail, and say `message`.
fn check_refused(cmd: &mut Command, tool: &str, module: &str, message: &str) {
    let output = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let text = combined(&output);
    assert!(!output.status.success(), "{tool} accepted bad parameters for {module}: {cmd:?}\n{text}");
    assert!(text.contains(message), "{tool} refused {module} without saying `{message}`: {cmd:?}\n{text}");
}

#[test]
fn every_block_has_a_refused_parameter_set() {
    for file in lib_modules() {
        let module = module_name(&file);
        let text = std::fs::read_to_string(&file).unwrap();
        if text.contains(&format!("module {module} #(")) {
            assert!(BAD_PARAMETERS.iter().any(|b| b.0 == module), "{module} has parameters but no refused set");
        }
    }
    for (module, _, rule) in BAD_PARAMETERS {
        let text = std::fs::read_to_string(rtl_dir().join("lib").join(format!("{module}.v"))).unwrap();
        assert!(text.contains(&format!("$error(\"{module}: {rule}\")")), "{module} has no check `{rule}`");
    }
}

#[test]
fn bad_parameters_are_refused_under_verilator() {
    let Some(verilator) = require(Tool::Verilator) else { return };
    let dir = tempfile::tempdir().unwrap();
    for (module, params, rule) in BAD_PARAMETERS {
        // A lint run, and a build whose warnings are not fatal: the check
        // stops both.
        let mut lint = Command::new(&verilator);
        lint.args(["--lint-only", "-Wall"]);
        let mut build = Command::new(&verilator);
        build.args(["--cc", "-Wno-fatal", "--Mdir"]).arg(dir.path().join(module));
        for mut cmd in [lint, build] {
            cmd.args(["--top-module", module, "-y"])
                .arg(rtl_dir().join("lib"))
                .arg("-y")
                .arg(rtl_dir().join("sim"))
                .args(params.iter().map(|(name, value)| format!("-G{name}={value}")))
                .arg(rtl_dir().join("lib").join(format!("{module}.v")));
            check_refused(&mut cmd, "Verilator", module, &format!("{module}: {rule}"));
        }
    }
}

#[test]
fn bad_parameters_are_refused_under_icarus() {
    let Some(iverilog) = require(Tool::Iverilog) else { return };
    let dir = tempfile::tempdir().unwrap();
    for (module, params, rule) in BAD_PARAMETERS {
        let mut cmd = Command::new(&iverilog);
        cmd.args(["-g2005", "-Wall", "-o"])
            .arg(dir.path().join("out"))
            .arg("-y")
            .arg(rtl_dir().join("lib"))
            .arg("-y")
            .arg(rtl_dir().join("sim"))
            .args(["-s", module]);
        cmd.args(params.iter().map(|(name, value)| format!("-P{module}.{name}={value}")));
        cmd.arg(rtl_dir().join("lib").join(format!("{module}.v")));
        // At compile time, with the instance path.
        let message = format!("{module}_{}' in `{module}.g_check_", rule.replace(' ', "_"));
        check_refused(&mut cmd, "Icarus", module, &message);
    }
}

#[test]
fn bad_parameters_are_refused_under_yosys() {
    let Some(yosys) = require(Tool::Yosys) else { return };
    let all: Vec<String> = lib_modules().iter().map(|p| p.display().to_string()).collect();
    for (module, params, rule) in BAD_PARAMETERS {
        // chparam takes Verilog constants: a negative value as 32 signed bits.
        let chparams: String = params
            .iter()
            .map(|&(name, value)| {
                let value = if value < 0 { format!("32'sh{:08x}", value as u32) } else { value.to_string() };
                format!("chparam -set {name} {value} {module}; ")
            })
            .collect();
        let script = format!(
            "read_verilog -lib +/ice40/cells_sim.v; read_verilog {}; {chparams}hierarchy -check -top {module}",
            all.join(" ")
        );
        check_refused(Command::new(&yosys).args(["-q", "-p", &script]), "Yosys", module, &format!("{module}: {rule}"));
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
            .arg("-I")
            .arg(rtl_dir().join("tb"))
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
                        .arg(format!("-I{}", rtl_dir().join("tb").display()))
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
