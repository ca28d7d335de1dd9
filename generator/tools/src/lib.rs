//! External tools (Verilator, Icarus, Yosys, nextpnr; and for the tests
//! only, slang and FuseSoC): finding them, with an environment override
//! each, and running them so that a failure carries the command line and the
//! tool's whole output.

pub mod testing;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::{Command, Output};
use thiserror::Error;

/// An external tool the flow may need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    /// Verilator (lint, co-simulation).
    Verilator,
    /// Icarus Verilog compiler.
    Iverilog,
    /// Icarus Verilog runtime.
    Vvp,
    /// Yosys.
    Yosys,
    /// nextpnr for iCE40.
    NextpnrIce40,
    /// IceStorm's bitstream packer.
    Icepack,
    /// The C++ compiler that builds Verilated models.
    Cxx,
    /// slang, the strict SystemVerilog front end (tests only: `setup.sh`
    /// installs it with the pyslang wheel).
    Slang,
    /// FuseSoC, which runs the generated core's targets (tests only).
    Fusesoc,
    /// IceStorm's flash programmer (`ttfs prog`).
    Iceprog,
    /// openFPGALoader, the other programmer `ttfs prog` can run.
    OpenFpgaLoader,
}

/// Where `setup.sh` installs the Python tools (slang, FuseSoC): a virtual
/// environment in the checkout, ignored by git. Found there when not on PATH,
/// so that `cargo test` sees them without an activated environment.
pub const TOOLS_VENV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../.venv-tools");

impl Tool {
    /// Every external program `ttfs` may run (`docs/security.md` lists them,
    /// checked by a test).
    pub const ALL: [Tool; 9] = [
        Tool::Verilator,
        Tool::Cxx,
        Tool::Iverilog,
        Tool::Vvp,
        Tool::Yosys,
        Tool::NextpnrIce40,
        Tool::Icepack,
        Tool::Iceprog,
        Tool::OpenFpgaLoader,
    ];

    /// Programs only the tests run, never `ttfs` (`docs/security.md` lists
    /// them apart, checked by the same test).
    pub const TESTS_ONLY: [Tool; 2] = [Tool::Slang, Tool::Fusesoc];

    /// Program name on PATH.
    pub fn program(self) -> &'static str {
        match self {
            Tool::Verilator => "verilator",
            Tool::Iverilog => "iverilog",
            Tool::Vvp => "vvp",
            Tool::Yosys => "yosys",
            Tool::NextpnrIce40 => "nextpnr-ice40",
            Tool::Icepack => "icepack",
            Tool::Cxx => "g++",
            Tool::Slang => "slang",
            Tool::Fusesoc => "fusesoc",
            Tool::Iceprog => "iceprog",
            Tool::OpenFpgaLoader => "openFPGALoader",
        }
    }

    /// Environment variable that overrides the program's path.
    pub fn env_var(self) -> &'static str {
        match self {
            Tool::Verilator => "VERILATOR",
            Tool::Iverilog => "IVERILOG",
            Tool::Vvp => "VVP",
            Tool::Yosys => "YOSYS",
            Tool::NextpnrIce40 => "NEXTPNR_ICE40",
            Tool::Icepack => "ICEPACK",
            Tool::Cxx => "CXX",
            Tool::Slang => "SLANG",
            Tool::Fusesoc => "FUSESOC",
            Tool::Iceprog => "ICEPROG",
            Tool::OpenFpgaLoader => "OPENFPGALOADER",
        }
    }

    /// The package that provides it: Debian's, or PyPI's for the Python tools.
    pub fn package(self) -> &'static str {
        match self {
            Tool::Verilator => "verilator",
            Tool::Iverilog | Tool::Vvp => "iverilog",
            Tool::Yosys => "yosys",
            Tool::NextpnrIce40 => "nextpnr-ice40",
            Tool::Icepack | Tool::Iceprog => "fpga-icestorm",
            Tool::Cxx => "g++",
            Tool::Slang => "pyslang",
            Tool::Fusesoc => "fusesoc",
            Tool::OpenFpgaLoader => "openfpgaloader",
        }
    }

    /// How to install it, for the error that says it is missing.
    pub fn install_hint(self) -> String {
        match self {
            Tool::Slang | Tool::Fusesoc => {
                format!("run `bash setup.sh`, which installs {} (PyPI) into .venv-tools", self.package())
            }
            _ => format!("install it with `apt-get install {}` (Debian/Ubuntu)", self.package()),
        }
    }

    /// Finds the tool: `$ENV_VAR` if set, else the program on PATH, else
    /// (the Python tools) in [`TOOLS_VENV`].
    pub fn locate(self) -> Result<PathBuf, ToolError> {
        let found = match std::env::var_os(self.env_var()).map(PathBuf::from) {
            // An override names a file, or a bare program name looked up on PATH.
            Some(path) if path.is_file() => Some(path),
            Some(path) if path.components().count() > 1 => None,
            Some(name) => on_path(name.as_os_str()),
            None => on_path(self.program().as_ref()).or_else(|| {
                let venv = std::path::Path::new(TOOLS_VENV).join("bin").join(self.program());
                (Tool::TESTS_ONLY.contains(&self) && venv.is_file()).then_some(venv)
            }),
        };
        found.ok_or(ToolError::Missing { tool: self })
    }

    /// A command for the tool, located as [`Tool::locate`] does.
    pub fn command(self) -> Result<Command, ToolError> {
        Ok(Command::new(self.locate()?))
    }
}

/// The first file named `name` in a directory of PATH.
fn on_path(name: &std::ffi::OsStr) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|candidate| candidate.is_file())
}

/// A tool that could not be used.
#[derive(Debug, Error)]
pub enum ToolError {
    /// Not installed (or not on PATH).
    #[error("{} is not installed: {}, or point ${} at it", tool.program(), tool.install_hint(), tool.env_var())]
    Missing {
        /// Which tool.
        tool: Tool,
    },
    /// It ran and failed.
    #[error("command failed ({status}): {command}\n{output}")]
    Failed {
        /// The command line.
        command: String,
        /// Exit status.
        status: String,
        /// Its whole standard output and error.
        output: String,
    },
    /// It could not be started.
    #[error("cannot run {command}: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// The OS error.
        source: std::io::Error,
    },
}

/// The command line as a person would type it.
pub fn describe(command: &Command) -> String {
    let mut line = String::new();
    if let Some(dir) = command.get_current_dir() {
        let _ = write!(line, "(in {}) ", dir.display());
    }
    line.push_str(&command.get_program().to_string_lossy());
    for arg in command.get_args() {
        line.push(' ');
        line.push_str(&arg.to_string_lossy());
    }
    line
}

/// Runs a command to completion; a non-zero exit is an error carrying the
/// command line and everything it printed.
pub fn run(command: &mut Command) -> Result<Output, ToolError> {
    let line = describe(command);
    let output = command.output().map_err(|source| ToolError::Spawn { command: line.clone(), source })?;
    if output.status.success() {
        return Ok(output);
    }
    Err(ToolError::Failed { command: line, status: output.status.to_string(), output: combined(&output) })
}

/// Standard output then standard error, as text.
pub fn combined(output: &Output) -> String {
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    let err = String::from_utf8_lossy(&output.stderr);
    if !err.is_empty() {
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&err);
    }
    text
}
