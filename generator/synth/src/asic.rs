//! `ttfs synth DIR --asic`: standard-cell estimates of a design generated
//! with `--target asic`, from Yosys. Without a library: generic synthesis,
//! the cells by type and `stat -tech cmos`'s transistor estimate (flip-flops
//! legalized to plain D flip-flops first, so that every cell has a count).
//! With a liberty file: flip-flops mapped by `dfflibmap`, logic by ABC
//! against the clock period, the cells of the library by type, the chip
//! area in µm² (`stat -liberty`) and ABC's critical-path delay estimate
//! (its `stime` report, which Yosys 0.23 prints when ABC gets a constraint
//! file). ROM macros (`ttfs_rom_macro`) are black boxes: their bits are
//! reported, their area is the macro's, which no liberty here describes.
//!
//! The liberty file comes from a stranger: it is read with a size limit
//! (plain or gzip), must name cells and a flip-flop, and is copied into
//! `DIR/build` with `dont_use` marked on cells the patterns name (by
//! default the power-management and probe cells of SkyWater's libraries,
//! which ABC would otherwise pick). Yosys parses the copy; its errors come
//! with the whole command and output.

use crate::{SynthError, io, tool, version, write};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Read as _;
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

/// Cells never used: SkyWater's power-management (`lpflow`) cells, which
/// need extra supply rails, and its probe cells.
pub const DEFAULT_DONT_USE: [&str; 2] = ["*__lpflow_*", "*__probe*"];

/// The most bytes of liberty text read (the SkyWater typical corner is 12.8 MB).
pub const MAX_LIBERTY_BYTES: u64 = 256 << 20;

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
    let library = args.liberty.as_deref().map(|path| prepare_liberty(path, &patterns)).transpose()?;
    let energy = match &args.data {
        Some(path) => {
            Some(energy(&s.net, &s.plan, path, args.count).map_err(|e| SynthError::Refused(format!("{e:#}")))?)
        }
        None => None,
    };
    let build = dir.join("build");
    crate::prepare(&build)?;
    let yosys = Tool::Yosys;
    yosys.locate()?;
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
    read += &format!("read_verilog {}\nsynth -top {top} -flatten\n", rtl.join(" "));
    let started = Instant::now();
    progress("yosys synth (generic cells)");
    let generic = format!(
        "{read}tee -q -o build/asic_cells.json stat -json\n\
         dfflegalize -cell $_DFF_P_ 01\nopt_clean\ntee -q -o build/asic_cmos.json stat -json -tech cmos\n"
    );
    write(&build.join("asic_generic.ys"), generic.as_bytes())?;
    tool(yosys, dir, &args_for("build/asic_generic.ys", "build/asic_generic.log"))?;
    let (cells_by_type, cells) = cells_of(&read_text(&build.join("asic_cells.json"))?, &top)?;
    let transistors = transistors_of(&read_text(&build.join("asic_cmos.json"))?, &top)?;
    let mut files = vec![
        "build/asic_generic.ys".to_string(),
        "build/asic_generic.log".into(),
        "build/asic_cells.json".into(),
        "build/asic_cmos.json".into(),
    ];
    let mut mapped = None;
    if let Some(library) = &library {
        progress("yosys dfflibmap and abc (library cells)");
        write(&build.join("asic_lib.lib"), library.text.as_bytes())?;
        let period_ps = (clock_ns * 1000.0).round() as u64;
        let mut script = format!("{read}dfflibmap -liberty build/asic_lib.lib\n");
        match &library.buffer {
            Some(buffer) => {
                write(&build.join("asic_abc.constr"), format!("set_driving_cell {buffer}\nset_load 5.0\n").as_bytes())?;
                script += &format!("abc -liberty build/asic_lib.lib -D {period_ps} -constr build/asic_abc.constr\n");
            }
            None => script += &format!("abc -liberty build/asic_lib.lib -D {period_ps}\n"),
        }
        script += "opt_clean\ntee -q -o build/asic_area.txt stat -liberty build/asic_lib.lib\n\
                   tee -q -o build/asic_mapped.json stat -json -liberty build/asic_lib.lib\n\
                   write_verilog -noattr build/asic_netlist.v\n";
        write(&build.join("asic_mapped.ys"), script.as_bytes())?;
        tool(yosys, dir, &args_for("build/asic_mapped.ys", "build/asic_mapped.log"))?;
        let (by_type, count) = cells_of(&read_text(&build.join("asic_mapped.json"))?, &top)?;
        let area = area_of(&read_text(&build.join("asic_area.txt"))?).ok_or_else(|| {
            SynthError::Report(format!("{} has no chip area line", build.join("asic_area.txt").display()))
        })?;
        let delay = delay_of(&read_text(&build.join("asic_mapped.log"))?);
        files.extend(
            [
                "asic_lib.lib",
                "asic_mapped.ys",
                "asic_mapped.log",
                "asic_area.txt",
                "asic_mapped.json",
                "asic_netlist.v",
            ]
            .map(|f| format!("build/{f}")),
        );
        if library.buffer.is_some() {
            files.push("build/asic_abc.constr".into());
        }
        mapped = Some((by_type, count, area, delay));
    }
    let seconds = started.elapsed().as_secs_f64();
    let memory_macro_bits = manifest.memory_macros.iter().map(|m| m.bits).sum();
    let memory_bits_logic = manifest.memories.iter().filter(|m| m.kind != "rom_macro").map(|m| m.bits).sum();
    let (cycles, source) = match &manifest.cycle_stats {
        Some(st) => (st.latency_mean, format!("cycle model, mean over {} images of {}", st.samples, st.data)),
        None => (manifest.cycle_model.latency_worst_case as f64, "cycle model, worst case".to_string()),
    };
    let delay_ns = mapped.as_ref().and_then(|m| m.3).map(|ps| ps / 1000.0);
    Ok(AsicReport {
        top,
        cells,
        cells_by_type,
        transistors,
        liberty: args.liberty.as_ref().map(|p| p.display().to_string()),
        library_cells_by_type: mapped.as_ref().map(|m| m.0.clone()),
        library_cells: mapped.as_ref().map(|m| m.1),
        area_um2: mapped.as_ref().map(|m| m.2),
        delay_ns,
        clock_ns,
        timing_met: delay_ns.map(|d| d <= clock_ns),
        memory_bits_logic,
        memory_macros: manifest.memory_macros.clone(),
        memory_macro_bits,
        energy,
        cycles_per_inference: cycles,
        cycles_source: source,
        latency_us: cycles * clock_ns / 1000.0,
        yosys: version(yosys, "-V"),
        seconds,
        files,
    })
}

/// The energy proxy of `plan` on the samples of `path` (the integer closed
/// form's spike counts, as the cycle model takes them).
fn energy(
    net: &ttfs_ir::Network,
    plan: &ttfs_hw::plan::Plan,
    path: &Path,
    count: Option<usize>,
) -> anyhow::Result<EnergyProxy> {
    let codes = ttfs_hw::stage::input_codes(net, path, count)?;
    let counts = ttfs_hw::cycles::counts(&ttfs_sim::Prepared::new(net), plan.inputs, &codes);
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
    Ok(EnergyProxy {
        data: path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(),
        samples: counts.len(),
        input_events: counts.iter().map(|c| c.input_events).sum::<u64>() as f64 / n,
        hidden_events: counts.iter().map(|c| c.hidden_events.iter().sum::<u64>()).sum::<u64>() as f64 / n,
        synaptic_ops: ops as f64 / n,
        weight_words_read: words as f64 / n,
        weight_bits_read: bits as f64 / n,
        unrolled_ops: dense.then(|| plan.layers.iter().map(|l| (l.inputs * l.outputs) as u64).sum()),
    })
}

/// Yosys's arguments for a script, quiet, with its log.
fn args_for(script: &str, log: &str) -> Vec<String> {
    ["-q", "-l", log, "-s", script].map(String::from).to_vec()
}

fn read_text(path: &Path) -> Result<String, SynthError> {
    std::fs::read_to_string(path).map_err(io(path))
}

/// The module `top`'s entry of a `stat -json` report.
fn module<'a>(json: &'a serde_json::Value, top: &str) -> Option<&'a serde_json::Value> {
    json.get("modules").and_then(|m| m.get(format!("\\{top}")).or_else(|| m.get(top)))
}

/// Cells by type and in all, from `stat -json`.
fn cells_of(text: &str, top: &str) -> Result<(BTreeMap<String, u64>, u64), SynthError> {
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| SynthError::Report(format!("Yosys's stat -json: {e}")))?;
    let m = module(&json, top).ok_or_else(|| SynthError::Report(format!("Yosys's stat has no module {top}")))?;
    let by_type: BTreeMap<String, u64> = m
        .get("num_cells_by_type")
        .and_then(|c| c.as_object())
        .map(|o| o.iter().map(|(k, v)| (k.trim_start_matches('\\').to_string(), v.as_u64().unwrap_or(0))).collect())
        .unwrap_or_default();
    let count = m.get("num_cells").and_then(|c| c.as_u64()).unwrap_or_else(|| by_type.values().sum());
    Ok((by_type, count))
}

/// `estimated_num_transistors` of `stat -json -tech cmos` (a string; a
/// trailing `+` marks cells without a count, the black boxes).
fn transistors_of(text: &str, top: &str) -> Result<u64, SynthError> {
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| SynthError::Report(format!("Yosys's stat -json -tech cmos: {e}")))?;
    let value = module(&json, top).and_then(|m| m.get("estimated_num_transistors"));
    let number = match value {
        Some(serde_json::Value::String(s)) => s.trim_end_matches('+').parse().ok(),
        Some(v) => v.as_u64(),
        None => None,
    };
    number.ok_or_else(|| SynthError::Report(format!("Yosys's stat -tech cmos gave no transistor count for {top}")))
}

/// `Chip area for module '\top': N` of `stat -liberty`.
fn area_of(text: &str) -> Option<f64> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("Chip area for module "))
        .find_map(|rest| rest.rsplit_once(':').and_then(|(_, n)| n.trim().parse().ok()))
}

/// The largest `Delay = N ps` of ABC's `stime` reports in a Yosys log, ps.
fn delay_of(log: &str) -> Option<f64> {
    log.lines()
        .filter(|l| l.contains("WireLoad"))
        .filter_map(|l| l.split("Delay =").nth(1))
        .filter_map(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
        .fold(None, |best: Option<f64>, d| Some(best.map_or(d, |b| b.max(d))))
}

/// A liberty file's text with `dont_use` marked, and a buffer for ABC's
/// driving cell.
struct Library {
    text: String,
    buffer: Option<String>,
}

/// Reads and checks the liberty at `path` (plain or gzip, at most
/// [`MAX_LIBERTY_BYTES`]): it must be text with cells and a flip-flop
/// (`ff` group). Cells whose names match `dont_use` get `dont_use : true`.
fn prepare_liberty(path: &Path, dont_use: &[String]) -> Result<Library, SynthError> {
    let name = path.display();
    let file = std::fs::File::open(path).map_err(io(path))?;
    let mut raw = Vec::new();
    std::io::Read::take(file, MAX_LIBERTY_BYTES + 1).read_to_end(&mut raw).map_err(io(path))?;
    let mut bytes = Vec::new();
    if raw.starts_with(&[0x1f, 0x8b]) {
        let decoder = flate2::read::MultiGzDecoder::new(&raw[..]);
        decoder
            .take(MAX_LIBERTY_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| SynthError::Refused(format!("{name}: not a readable gzip file: {e}")))?;
    } else {
        bytes = raw;
    }
    if bytes.len() as u64 > MAX_LIBERTY_BYTES {
        return Err(SynthError::Refused(format!(
            "{name} holds more than {MAX_LIBERTY_BYTES} bytes of liberty text; a library may hold at most that"
        )));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        SynthError::Refused(format!("{name} is not a liberty file: not text (byte {})", e.utf8_error().valid_up_to()))
    })?;
    if !text.trim_start().starts_with("library") && !text.contains("\nlibrary") {
        return Err(SynthError::Refused(format!(
            "{name} is not a liberty file: it has no `library (...)` group (a liberty file starts with one)"
        )));
    }
    let cells = cell_names(&text);
    if cells.is_empty() {
        return Err(SynthError::Refused(format!(
            "{name} has no `cell (...)` groups: a liberty file describes its cells"
        )));
    }
    if !text.lines().any(|l| {
        let t = l.trim_start();
        t.starts_with("ff (") || t.starts_with("ff(")
    }) {
        return Err(SynthError::Refused(format!(
            "{name} has {} cells but no flip-flop (no `ff (...)` group): the design's registers cannot be mapped",
            cells.len()
        )));
    }
    let mut out = String::with_capacity(text.len() + 64 * cells.len());
    let mut buffer = None;
    let mut current: Option<(String, bool)> = None;
    for line in text.split_inclusive('\n') {
        out.push_str(line);
        if let Some(cell) = cell_name(line) {
            let banned = dont_use.iter().any(|p| glob(p, &cell));
            if banned {
                out.push_str("    dont_use : true;\n");
            }
            current = Some((cell, banned));
        } else if buffer.is_none()
            && let Some((cell, false)) = &current
        {
            let t: String = line.chars().filter(|c| !c.is_whitespace()).collect();
            // The name goes into ABC's constraint file: plain names only.
            let plain = cell.chars().all(|c| c.is_ascii_alphanumeric() || "_.$-".contains(c));
            if plain
                && t.starts_with("function:")
                && (t.contains("\"A\"") || t.contains("\"(A)\""))
                && !cell.contains("clk")
            {
                buffer = Some(cell.clone());
            }
        }
    }
    Ok(Library { text: out, buffer })
}

/// Every cell name of a liberty text.
fn cell_names(text: &str) -> Vec<String> {
    text.lines().filter_map(cell_name).collect()
}

/// The name of a `cell ("name") {` or `cell (name) {` line.
fn cell_name(line: &str) -> Option<String> {
    let t = line.trim_start();
    let rest = t.strip_prefix("cell")?.trim_start().strip_prefix('(')?;
    let (name, _) = rest.split_once(')')?;
    let name = name.trim().trim_matches('"');
    (!name.is_empty()).then(|| name.to_string())
}

/// Whether `text` matches `pattern`, where `*` stands for any text.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || !text[first.len()..].ends_with(last) || text.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
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
    let _ = writeln!(
        t,
        "  {:.1} cycles per inference ({}): {:.2} µs at a {:.2} ns clock",
        r.cycles_per_inference, r.cycles_source, r.latency_us, r.clock_ns
    );
    let _ = writeln!(t, "  wrote {}", r.files.join(", "));
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_a_shell_and_cells_are_named() {
        assert!(glob("*__lpflow_*", "sky130_fd_sc_hd__lpflow_inputiso1p_1"));
        assert!(glob("*__probe*", "sky130_fd_sc_hd__probec_p_8"));
        assert!(!glob("*__probe*", "sky130_fd_sc_hd__buf_1"));
        assert!(glob("exact", "exact") && !glob("exact", "exactly"));
        assert!(glob("a*b*c", "aXbYc") && !glob("a*b*c", "acb"));
        assert_eq!(cell_name("  cell (\"sky130_fd_sc_hd__a2111o_1\") {"), Some("sky130_fd_sc_hd__a2111o_1".into()));
        assert_eq!(cell_name("cell(INV) {"), Some("INV".into()));
        assert_eq!(cell_name("  cell_footprint : \"x\";"), None);
    }

    #[test]
    fn yosys_reports_are_read() {
        assert_eq!(area_of("   Chip area for module '\\top': 6023.276800\n"), Some(6023.2768));
        let log = "ABC: WireLoad = \"none\"  Gates = 923 (  8.1 %)   Delay =  5467.72 ps  (  7.5 %)\n\
                   ABC: WireLoad = \"none\"  Gates = 9   Delay =  12.5 ps\n";
        assert_eq!(delay_of(log), Some(5467.72));
        assert_eq!(delay_of("nothing"), None);
        let json = r#"{"modules": {"\\top": {"num_cells": 3, "num_cells_by_type": {"$_AND_": 2, "\\ttfs_rom_macro": 1},
                       "estimated_num_transistors": "12+"}}}"#;
        let (by_type, n) = cells_of(json, "top").unwrap();
        assert_eq!((n, by_type["ttfs_rom_macro"]), (3, 1));
        assert_eq!(transistors_of(json, "top").unwrap(), 12);
    }
}
