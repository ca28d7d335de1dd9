//! The Verilator driver layer, shared by the two ways ttfs-hdl drives
//! verilated models from Rust: generated designs, verilated at run time
//! into a shared library and loaded through the co-simulation shim
//! (`ttfs-cosim`), and the fixed blocks of `rtl-templates/lib`, verilated
//! at build time and linked with `cc` into the block tests (`rtl-unit`).
//!
//! Both translate with the same flags, compile Verilator's runtime with the
//! same defines and include paths, and locate Verilator the same way (the
//! `VERILATOR` override, then `PATH`), so a fix here serves both.

use std::path::PathBuf;
use std::process::Command;
use ttfs_tools::{Tool, ToolError, combined, run};

/// How Verilator translates a model, for both paths: C++ output, full
/// optimisation, X values resolved fast (the designs reset every register
/// they read), assertions off (the benches check behaviour).
pub const TRANSLATE_FLAGS: &[&str] = &["--cc", "-O3", "--x-assign", "fast", "--x-initial", "fast", "--noassert"];

/// Verilator's runtime sources every model links (relative to
/// [`Verilator::include`]); with `trace`, the VCD writer too.
pub fn runtime_sources(trace: bool) -> Vec<&'static str> {
    let mut sources = vec!["verilated.cpp", "verilated_threads.cpp"];
    if trace {
        sources.push("verilated_vcd_c.cpp");
    }
    sources
}

/// The preprocessor definitions Verilator's generated makefiles pass when
/// compiling the runtime and the model (no coverage, no SystemC, VCD
/// tracing only with `trace`).
pub fn defines(trace: bool) -> Vec<(&'static str, &'static str)> {
    let t = if trace { "1" } else { "0" };
    vec![("VM_COVERAGE", "0"), ("VM_SC", "0"), ("VM_TRACE", t), ("VM_TRACE_FST", "0"), ("VM_TRACE_VCD", t)]
}

/// A located Verilator installation.
#[derive(Clone, Debug)]
pub struct Verilator {
    /// The `verilator` program.
    pub program: PathBuf,
    /// `VERILATOR_ROOT` (its `include` folder holds the runtime).
    pub root: PathBuf,
    /// What `verilator --version` printed.
    pub version: String,
}

impl Verilator {
    /// Finds Verilator (`$VERILATOR`, else `PATH`) and asks it for its
    /// version and root. Errors carry the command and its output.
    pub fn locate() -> Result<Verilator, ToolError> {
        let program = Tool::Verilator.locate()?;
        let version = combined(&run(Command::new(&program).arg("--version"))?).trim().to_string();
        let root = combined(&run(Command::new(&program).args(["--getenv", "VERILATOR_ROOT"]))?).trim().to_string();
        Ok(Verilator { program, root: PathBuf::from(root), version })
    }

    /// The runtime's include folder.
    pub fn include(&self) -> PathBuf {
        self.root.join("include")
    }

    /// The folders every model and runtime source is compiled with.
    pub fn include_dirs(&self) -> [PathBuf; 2] {
        [self.include(), self.include().join("vltstd")]
    }

    /// A translation command with [`TRANSLATE_FLAGS`]; the caller adds
    /// warnings policy, the top module, sources and the output folder.
    pub fn translate(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(TRANSLATE_FLAGS);
        cmd
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_adds_the_vcd_writer_and_its_defines() {
        assert_eq!(runtime_sources(false), ["verilated.cpp", "verilated_threads.cpp"]);
        assert!(runtime_sources(true).contains(&"verilated_vcd_c.cpp"));
        let on: Vec<_> = defines(true).into_iter().filter(|(_, v)| *v == "1").map(|(k, _)| k).collect();
        assert_eq!(on, ["VM_TRACE", "VM_TRACE_VCD"]);
        assert!(defines(false).iter().all(|(_, v)| *v == "0"));
    }
}
