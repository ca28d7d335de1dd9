//! `ttfs synth DIR --asic`: standard-cell estimates of a design generated
//! with `--target asic`, from Yosys ([`crate::cells`]). Without a library:
//! generic synthesis, the cells by type and `stat -tech cmos`'s transistor
//! estimate. With a liberty file: the library's cells, the chip area in µm²
//! and ABC's critical-path delay estimate. ROM macros (`ttfs_rom_macro`)
//! are black boxes: their bits are reported, their area is the macro's,
//! which no liberty here describes.
//!
//! With `--data`, the energy proxy per inference (spikes, the lanes'
//! multiply-accumulates, weight words read); with `--unrolled`, the same
//! network fully unrolled, checked and synthesized the same way
//! ([`crate::unrolled`]), for the comparison.

use crate::cells;
use crate::{SynthError, version};
pub use cells::{DEFAULT_DONT_USE, MAX_LIBERTY_BYTES};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;
use ttfs_hw::manifest::{Manifest, MemoryMacro};
use ttfs_hw::target::Target;
use ttfs_tools::Tool;

/// What to build (the arguments of `ttfs synth --asic`).
pub struct Args {
    /// A directory written by `ttfs generate --target asic`.
    pub dir: PathBuf,
    /// A liberty file (`.lib`, or gzipped) to map to.
    pub liberty: Option<PathBuf>,
    /// The clock period, ns (default: the manifest's clock).
    pub clock_ns: Option<f64>,
    /// Cell-name patterns (`*` any text) not to use, besides
    /// [`DEFAULT_DONT_USE`].
    pub dont_use: Vec<String>,
    /// Data for the energy proxy per inference (the network's input format).
    pub data: Option<PathBuf>,
    /// Use only the first N samples of `data`.
    pub count: Option<usize>,
    /// Also build, check and synthesize the network fully unrolled.
    pub unrolled: Option<crate::unrolled::Mode>,
}

/// The energy proxy per inference: what the design does per image, on
/// data, next to what the same network fully unrolled does (every weight a
/// constant multiplier, one inference per cycle).
#[derive(Clone, Debug, Serialize)]
pub struct EnergyProxy {
    /// The data's file name.
    pub data: String,
    /// Images.
    pub samples: usize,
    /// Input spikes per image (nonzero input codes).
    pub input_events: f64,
    /// Spikes of the hidden layers per image.
    pub hidden_events: f64,
    /// Multiply-accumulates per image in the lanes: each event a layer takes
    /// costs its operations per block × blocks × lanes (idle lanes of a
    /// partial block included).
    pub synaptic_ops: f64,
    /// Weight memory words read per image (one per operation and block).
    pub weight_words_read: f64,
    /// The same in bits.
    pub weight_bits_read: f64,
    /// Multiply-accumulates per image of the network fully unrolled (dense
    /// layers: inputs × outputs, every image; `None` with convolutions); it
    /// reads no weight memory: its weights are constants in logic.
    pub unrolled_ops: Option<u64>,
}

/// The report (`--json` prints it).
#[derive(Clone, Debug, Serialize)]
pub struct AsicReport {
    /// The top module.
    pub top: String,
    /// Generic cells after synthesis (ROM macros included, as black boxes).
    pub cells: u64,
    /// Generic cells by type.
    pub cells_by_type: BTreeMap<String, u64>,
    /// `stat -tech cmos`'s transistor estimate of the generic netlist
    /// (flip-flops as plain D flip-flops; ROM macros not counted).
    pub transistors: u64,
    /// The liberty file mapped to, if any.
    pub liberty: Option<String>,
    /// Library cells after mapping, by type (with a liberty).
    pub library_cells_by_type: Option<BTreeMap<String, u64>>,
    /// Library cells in all (with a liberty).
    pub library_cells: Option<u64>,
    /// Chip area of the standard cells, µm² (with a liberty; ROM macros not
    /// included).
    pub area_um2: Option<f64>,
    /// ABC's critical-path delay estimate, ns (with a liberty): the logic
    /// between flip-flops and ports, without clock-to-Q, setup or wires.
    pub delay_ns: Option<f64>,
    /// The clock period asked for, ns.
    pub clock_ns: f64,
    /// Whether the delay estimate fits the period (with a liberty).
    pub timing_met: Option<bool>,
    /// Bits of ROM and RAM synthesized as logic.
    pub memory_bits_logic: u64,
    /// The ROM macros the design needs (black boxes here).
    pub memory_macros: Vec<MemoryMacro>,
    /// Their bits.
    pub memory_macro_bits: u64,
    /// The energy proxy per inference (with `--data`).
    pub energy: Option<EnergyProxy>,
    /// Cycles per inference from the manifest: the mean on `--calib` data,
    /// else the worst case.
    pub cycles_per_inference: f64,
    /// Where they come from.
    pub cycles_source: String,
    /// Latency per inference at the clock period, µs.
    pub latency_us: f64,
    /// The same network fully unrolled (with `--unrolled`).
    pub unrolled: Option<crate::unrolled::UnrolledReport>,
    /// `yosys -V`.
    pub yosys: String,
    /// Seconds in Yosys.
    pub seconds: f64,
    /// Files written, relative to DIR.
    pub files: Vec<String>,
}

/// Runs the ASIC estimate of `args.dir`; `progress` hears about each step.
pub fn run(args: &Args, progress: &mut dyn FnMut(&str)) -> Result<AsicReport, SynthError> {
    let dir = &args.dir;
    let s = ttfs_hw::subject::subject(dir, Target::Generic, &ttfs_hw::planner::Lanes::Fixed(Vec::new()))
        .map_err(|e| SynthError::Refused(format!("{e:#}")))?;
    if s.plan.target != Target::Asic {
        return Err(SynthError::Refused(format!(
            "{} was generated for the {}; `ttfs synth --asic` takes a design generated with --target asic \
             (no vendor primitives, ROM macros for large memories)",
            dir.display(),
            s.plan.target
        )));
    }
    let manifest = Manifest::read(dir).map_err(|e| SynthError::Refused(format!("{e:#}")))?;
    let clock_ns = args.clock_ns.unwrap_or(1000.0 / manifest.clock_mhz);
    if !(clock_ns.is_finite() && clock_ns > 0.0 && clock_ns <= 1e6) {
        return Err(SynthError::Refused(format!("--clock-ns {clock_ns} is not a clock period in ns")));
    }
    // The library is read and checked before anything runs.
    let patterns: Vec<String> =
        DEFAULT_DONT_USE.iter().map(|p| p.to_string()).chain(args.dont_use.iter().cloned()).collect();
    let library = args.liberty.as_deref().map(|path| cells::prepare_liberty(path, &patterns)).transpose()?;
    let data = match &args.data {
        Some(path) => Some((
            path,
            ttfs_hw::stage::input_codes(&s.net, path, args.count).map_err(|e| SynthError::Refused(format!("{e:#}")))?,
        )),
        None => None,
    };
    let energy = data.as_ref().map(|(path, codes)| energy(&s.net, &s.plan, path, codes));
    if args.unrolled.is_some() {
        // Refused before any synthesis runs.
        ttfs_hw::unrolled::layers(&s.net).map_err(|e| SynthError::Refused(format!("--unrolled: {e:#}")))?;
    }
    let build = dir.join("build");
    crate::prepare(&build)?;
    let top = manifest.top.clone();
    let mut rtl: Vec<String> =
        s.design.files.keys().filter(|p| p.starts_with("rtl/") && p.ends_with(".v")).cloned().collect();
    // The top last, after the blocks it uses.
    rtl.retain(|p| *p != format!("rtl/{top}.v"));
    rtl.push(format!("rtl/{top}.v"));
    let macro_model = format!("sim/{}", ttfs_hw::design::ROM_MACRO_MODEL.0);
    let mut read = String::new();
    if !manifest.memory_macros.is_empty() {
        read += &format!("read_verilog -lib {macro_model}\n");
    }
    read += &format!("read_verilog {}\n", rtl.join(" "));
    let started = Instant::now();
    let installed = library.as_ref().map(|l| cells::install(dir, l)).transpose()?;
    let period_ps = (clock_ns * 1000.0).round() as u64;
    let figures = cells::synthesize(
        dir,
        "build/asic_",
        &read,
        &top,
        cells::Style::Flat,
        installed.as_ref().map(|l| (l, period_ps)),
        progress,
    )?;
    let mut files = figures.files.clone();
    if let Some(installed) = &installed {
        files.push(installed.lib.clone());
        files.extend(installed.constr.clone());
    }
    let unrolled = match args.unrolled {
        Some(mode) => {
            let name = data
                .as_ref()
                .map(|(path, _)| path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default());
            let codes = data.as_ref().map(|(_, codes)| codes.as_slice());
            let report = crate::unrolled::run(
                dir,
                &s.net,
                mode,
                name.as_deref().zip(codes),
                installed.as_ref().map(|l| (l, period_ps)),
                progress,
            )?;
            files.push("build/unrolled".into());
            Some(report)
        }
        None => None,
    };
    let seconds = started.elapsed().as_secs_f64();
    let memory_macro_bits = manifest.memory_macros.iter().map(|m| m.bits).sum();
    let memory_bits_logic = manifest.memories.iter().filter(|m| m.kind != "rom_macro").map(|m| m.bits).sum();
    let (cycles, source) = match &manifest.cycle_stats {
        Some(st) => (st.latency_mean, format!("cycle model, mean over {} images of {}", st.samples, st.data)),
        None => (manifest.cycle_model.latency_worst_case as f64, "cycle model, worst case".to_string()),
    };
    let delay_ns = figures.mapped.as_ref().and_then(|m| m.delay_ps).map(|ps| ps / 1000.0);
    Ok(AsicReport {
        top,
        cells: figures.cells,
        cells_by_type: figures.cells_by_type,
        transistors: figures.transistors,
        liberty: args.liberty.as_ref().map(|p| p.display().to_string()),
        library_cells_by_type: figures.mapped.as_ref().map(|m| m.cells_by_type.clone()),
        library_cells: figures.mapped.as_ref().map(|m| m.cells),
        area_um2: figures.mapped.as_ref().map(|m| m.area_um2),
        delay_ns,
        clock_ns,
        timing_met: delay_ns.map(|d| d <= clock_ns),
        memory_bits_logic,
        memory_macros: manifest.memory_macros.clone(),
        memory_macro_bits,
        energy,
        unrolled,
        cycles_per_inference: cycles,
        cycles_source: source,
        latency_us: cycles * clock_ns / 1000.0,
        yosys: version(Tool::Yosys, "-V"),
        seconds,
        files,
    })
}

/// The energy proxy of `plan` on the samples of `path` (the integer closed
/// form's spike counts, as the cycle model takes them).
fn energy(net: &ttfs_ir::Network, plan: &ttfs_hw::plan::Plan, path: &Path, codes: &[i64]) -> EnergyProxy {
    let counts = ttfs_hw::cycles::counts(&ttfs_sim::Prepared::new(net), plan.inputs, codes);
    let n = counts.len().max(1) as f64;
    let mut ops = 0u64;
    let mut words = 0u64;
    let mut bits = 0u64;
    for c in &counts {
        for (layer, &taps) in plan.layers.iter().zip(&c.taps) {
            let reads = taps * layer.blocks as u64;
            ops += reads * layer.lanes as u64;
            words += reads;
            bits += reads * layer.weight_word_bits;
        }
    }
    let dense = plan.layers.iter().all(|l| l.conv().is_none());
    EnergyProxy {
        data: path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(),
        samples: counts.len(),
        input_events: counts.iter().map(|c| c.input_events).sum::<u64>() as f64 / n,
        hidden_events: counts.iter().map(|c| c.hidden_events.iter().sum::<u64>()).sum::<u64>() as f64 / n,
        synaptic_ops: ops as f64 / n,
        weight_words_read: words as f64 / n,
        weight_bits_read: bits as f64 / n,
        unrolled_ops: dense.then(|| plan.layers.iter().map(|l| (l.inputs * l.outputs) as u64).sum()),
    }
}

/// The report for people.
pub fn render(r: &AsicReport) -> String {
    use std::fmt::Write as _;
    let mut t = String::new();
    let _ = writeln!(t, "{} for an ASIC ({})", r.top, r.yosys);
    let _ = writeln!(
        t,
        "  generic: {} cells, about {} transistors (stat -tech cmos); {} bits of memory as logic",
        r.cells, r.transistors, r.memory_bits_logic
    );
    if let (Some(lib), Some(area), Some(cells)) = (&r.liberty, r.area_um2, r.library_cells) {
        let _ = writeln!(t, "  {lib}: {cells} cells, {area:.1} µm² of standard cells");
        match r.delay_ns {
            Some(d) => {
                let _ = writeln!(
                    t,
                    "  ABC's critical path {d:.2} ns against the {:.2} ns clock ({}; logic only: no clock-to-Q, setup or wires)",
                    r.clock_ns,
                    if d <= r.clock_ns { "fits" } else { "DOES NOT FIT" }
                );
            }
            None => {
                let _ = writeln!(t, "  ABC printed no delay estimate (it needs a buffer cell for its constraints)");
            }
        }
    }
    for m in &r.memory_macros {
        let _ = writeln!(
            t,
            "  ROM macro {}: {} words × {} bits ({} bits; {}), a black box here: its area is the macro's",
            m.instance, m.words, m.width, m.bits, m.holds
        );
    }
    if let Some(e) = &r.energy {
        let _ = writeln!(
            t,
            "  per image on {} ({} images): {:.1} input and {:.1} hidden spikes, {:.0} multiply-accumulates, {:.0} weight \
             words ({:.0} bits) read{}",
            e.data,
            e.samples,
            e.input_events,
            e.hidden_events,
            e.synaptic_ops,
            e.weight_words_read,
            e.weight_bits_read,
            e.unrolled_ops.map_or(String::new(), |u| format!(
                "; fully unrolled: {u} multiply-accumulates ({:.1} times as many), no weight memory",
                u as f64 / e.synaptic_ops.max(1.0)
            ))
        );
    }
    if let Some(u) = &r.unrolled {
        render_unrolled(&mut t, r, u);
    }
    let _ = writeln!(
        t,
        "  {:.1} cycles per inference ({}): {:.2} µs at a {:.2} ns clock",
        r.cycles_per_inference, r.cycles_source, r.latency_us, r.clock_ns
    );
    let _ = writeln!(t, "  wrote {}", r.files.join(", "));
    t
}

/// The unrolled comparison's lines of [`render`].
fn render_unrolled(t: &mut String, r: &AsicReport, u: &crate::unrolled::UnrolledReport) {
    use std::fmt::Write as _;
    let _ = writeln!(
        t,
        "  fully unrolled ({}; checked against the reference on {}, 0 mismatches): {} cells, about {} transistors{}",
        u.mode,
        u.checked_on,
        u.cells,
        u.transistors,
        if u.extrapolated { " (extrapolated; the argmax not counted)" } else { "" }
    );
    if let (Some(area), Some(cells)) = (u.area_um2, u.library_cells) {
        let ratio =
            r.area_um2.map_or(String::new(), |a| format!(", {:.1} times the TTFS design's", area / a.max(1e-9)));
        let _ = writeln!(t, "    {cells} library cells, {area:.1} µm²{ratio}");
    }
    if let Some(d) = u.delay_ns {
        let _ = writeln!(
            t,
            "    critical path {d:.2} ns: one inference per cycle, {} cycles from image to class",
            u.latency_cycles
        );
    }
    let _ = writeln!(
        t,
        "    {} weight bits as constants in logic, no memory (the TTFS design: {} bits of memory); {} \
         multiply-accumulates per inference",
        u.weight_bits,
        r.memory_bits_logic + r.memory_macro_bits,
        u.multiply_accumulates
    );
    for p in u.parts.iter().filter(|p| p.layer.is_some()) {
        let _ = writeln!(
            t,
            "    weight layer {}: neuron {} alone ({}), {} cells{} × {} neurons",
            p.layer.unwrap_or(0),
            p.neuron.unwrap_or(0),
            p.top,
            p.cells,
            p.area_um2.map_or(String::new(), |a| format!(", {a:.1} µm²")),
            p.times
        );
    }
}
