//! Standard-cell synthesis with Yosys, shared by `ttfs synth --asic` and its
//! unrolled comparison: a liberty file read and checked (a stranger's file:
//! size limit, plain or gzip, cells and a flip-flop required, `dont_use`
//! marked on cells the patterns name), and a module synthesized to generic
//! cells (counts by type, `stat -tech cmos` transistors) and, with a
//! library, mapped to its cells (`dfflibmap`, ABC against the clock period)
//! with the chip area and ABC's critical-path delay estimate read back.

use crate::{SynthError, io, tool};
use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;
use ttfs_tools::Tool;

/// Cells never used: SkyWater's power-management (`lpflow`) cells, which
/// need extra supply rails, and its probe cells.
pub const DEFAULT_DONT_USE: [&str; 2] = ["*__lpflow_*", "*__probe*"];

/// The most bytes of liberty text read (the SkyWater typical corner is 12.8 MB).
pub const MAX_LIBERTY_BYTES: u64 = 256 << 20;

/// Yosys's arguments for a script, quiet, with its log.
fn args_for(script: &str, log: &str) -> Vec<String> {
    ["-q", "-l", log, "-s", script].map(String::from).to_vec()
}

fn read_text(path: &Path) -> Result<String, SynthError> {
    std::fs::read_to_string(path).map_err(io(path))
}

/// The module `top`'s entry of a `stat -json` report.
/// With `hierarchy`, the totals of the design under it (`design`: the
/// cells of every module below the top, counted per instance).
fn module<'a>(json: &'a serde_json::Value, top: &str, hierarchy: bool) -> Option<&'a serde_json::Value> {
    if hierarchy {
        return json.get("design");
    }
    json.get("modules").and_then(|m| m.get(format!("\\{top}")).or_else(|| m.get(top)))
}

/// Cells by type and in all, from `stat -json`.
fn cells_of(text: &str, top: &str, hierarchy: bool) -> Result<(BTreeMap<String, u64>, u64), SynthError> {
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| SynthError::Report(format!("Yosys's stat -json: {e}")))?;
    let m =
        module(&json, top, hierarchy).ok_or_else(|| SynthError::Report(format!("Yosys's stat has no module {top}")))?;
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
fn transistors_of(text: &str, top: &str, hierarchy: bool) -> Result<u64, SynthError> {
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| SynthError::Report(format!("Yosys's stat -json -tech cmos: {e}")))?;
    let value = module(&json, top, hierarchy).and_then(|m| m.get("estimated_num_transistors"));
    let number = match value {
        Some(serde_json::Value::String(s)) => s.trim_end_matches('+').parse().ok(),
        Some(v) => v.as_u64(),
        None => None,
    };
    number.ok_or_else(|| SynthError::Report(format!("Yosys's stat -tech cmos gave no transistor count for {top}")))
}

/// `Chip area for module '\top': N` of `stat -liberty`.
fn area_of(text: &str) -> Option<f64> {
    let find = |prefix: &str| {
        text.lines()
            .filter_map(|l| l.trim().strip_prefix(prefix))
            .find_map(|rest| rest.rsplit_once(':').and_then(|(_, n)| n.trim().parse().ok()))
    };
    // A hierarchy's total comes after its modules' areas.
    find("Chip area for top module ").or_else(|| find("Chip area for module "))
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
pub struct Library {
    /// The text Yosys reads.
    pub text: String,
    /// A plain buffer cell, ABC's driving cell for its delay estimate.
    pub buffer: Option<String>,
}

/// The library as Yosys reads it: files relative to DIR.
pub struct LibraryFiles {
    /// The marked liberty file.
    pub lib: String,
    /// ABC's constraint file (driving cell and load), with a buffer.
    pub constr: Option<String>,
}

/// Writes `library` into `dir/build` (`asic_lib.lib`, `asic_abc.constr`).
pub fn install(dir: &Path, library: &Library) -> Result<LibraryFiles, SynthError> {
    let build = dir.join("build");
    crate::write(&build.join("asic_lib.lib"), library.text.as_bytes())?;
    let constr = match &library.buffer {
        Some(buffer) => {
            crate::write(
                &build.join("asic_abc.constr"),
                format!("set_driving_cell {buffer}\nset_load 5.0\n").as_bytes(),
            )?;
            Some("build/asic_abc.constr".to_string())
        }
        None => None,
    };
    Ok(LibraryFiles { lib: "build/asic_lib.lib".into(), constr })
}

/// How a design is synthesized.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Flattened into one module, mapped by ABC's default script (the TTFS
    /// designs: control logic, memories and a few multipliers).
    Flat,
    /// Module by module (ABC maps each on its own; the figures are the
    /// design's totals), by ABC's fast script: for wide constant-multiplier
    /// arithmetic (the unrolled networks), where the default script's SAT
    /// sweeping takes far longer than the mapping.
    Modules,
}

/// What Yosys made of one module.
#[derive(Clone, Debug)]
pub struct Figures {
    /// Generic cells.
    pub cells: u64,
    /// Generic cells by type.
    pub cells_by_type: BTreeMap<String, u64>,
    /// `stat -tech cmos`'s transistor estimate (flip-flops as plain D
    /// flip-flops; black boxes not counted).
    pub transistors: u64,
    /// With a library: its cells.
    pub mapped: Option<Mapped>,
    /// Files written, relative to DIR.
    pub files: Vec<String>,
}

/// A module mapped to a library's cells.
#[derive(Clone, Debug)]
pub struct Mapped {
    /// Library cells by type.
    pub cells_by_type: BTreeMap<String, u64>,
    /// Library cells.
    pub cells: u64,
    /// Chip area of the cells, µm².
    pub area_um2: f64,
    /// ABC's critical-path delay estimate, ps (absent without a buffer for
    /// its constraints).
    pub delay_ps: Option<f64>,
}

/// Synthesizes `top` with Yosys run in `dir`: `read` is the script's
/// `read_verilog` lines (paths relative to `dir`); scripts, logs and
/// reports go to `{prefix}generic.ys`, `{prefix}cells.json`, ... (`prefix`
/// relative to `dir`, e.g. `build/asic_`). With `library` (and the clock
/// period in ps), the design is mapped to its cells too, in `style`.
pub fn synthesize(
    dir: &Path,
    prefix: &str,
    read: &str,
    top: &str,
    style: Style,
    library: Option<(&LibraryFiles, u64)>,
    progress: &mut dyn FnMut(&str),
) -> Result<Figures, SynthError> {
    let yosys = Tool::Yosys;
    yosys.locate()?;
    let hierarchy = style == Style::Modules;
    let file = |name: &str| format!("{prefix}{name}");
    // One Yosys run: synthesis once, its generic figures, then (from the
    // saved netlist) the library mapping.
    let mut script = format!(
        "{read}synth -top {top}{flatten}\ntee -q -o {cells} stat -json\ndesign -save synthesized\n\
         dfflegalize -cell $_DFF_P_ 01\nopt_clean\ntee -q -o {cmos} stat -json -tech cmos\n",
        cells = file("cells.json"),
        cmos = file("cmos.json"),
        flatten = if hierarchy { "" } else { " -flatten" },
    );
    let mut files: Vec<String> = ["synth.ys", "synth.log", "cells.json", "cmos.json"].iter().map(|f| file(f)).collect();
    if let Some((lib, period_ps)) = library {
        script += &format!("design -load synthesized\ndfflibmap -liberty {}\n", lib.lib);
        // ABC's default script sweeps the logic with SAT (`&fraig -x`,
        // `scorr`, `&dch`), which on wide constant-multiplier arithmetic
        // takes far longer than the mapping: the flattened unrolled digits
        // MLP ran over 35 minutes without finishing. Modules are mapped by
        // the fast script instead (`strash; dretime; map`, then buffering
        // and sizing against the constraints): one unrolled digits neuron in
        // a sixth of the time, to 1.1 % more area. Its `cleanup` removes
        // the dangling nodes `map` can leave, on which `buffer` stops.
        let abc = match (style, &lib.constr) {
            (Style::Flat, Some(constr)) => format!("abc -liberty {} -D {period_ps} -constr {constr}", lib.lib),
            (Style::Flat, None) => format!("abc -liberty {} -D {period_ps}", lib.lib),
            (Style::Modules, Some(constr)) => format!(
                "abc -liberty {} -D {period_ps} -constr {constr} \
                 -script +strash;dretime;map,{{D}};cleanup;buffer;upsize,{{D}};dnsize,{{D}};stime,-p",
                lib.lib
            ),
            (Style::Modules, None) => format!("abc -liberty {} -fast -D {period_ps}", lib.lib),
        };
        script += &abc;
        script += "\n";
        script += &format!(
            "opt_clean\ntee -q -o {area} stat -liberty {lib}\ntee -q -o {json} stat -json -liberty {lib}\n\
             write_verilog -noattr {netlist}\n",
            area = file("area.txt"),
            lib = lib.lib,
            json = file("mapped.json"),
            netlist = file("netlist.v"),
        );
        files.extend(["area.txt", "mapped.json", "netlist.v"].iter().map(|f| file(f)));
        progress(&format!("yosys synth, dfflibmap and abc: {top} (generic and library cells)"));
    } else {
        progress(&format!("yosys synth: {top} (generic cells)"));
    }
    crate::write(&dir.join(file("synth.ys")), script.as_bytes())?;
    tool(yosys, dir, &args_for(&file("synth.ys"), &file("synth.log")))?;
    let (cells_by_type, cells) = cells_of(&read_text(&dir.join(file("cells.json")))?, top, hierarchy)?;
    let transistors = transistors_of(&read_text(&dir.join(file("cmos.json")))?, top, hierarchy)?;
    let mut mapped = None;
    if library.is_some() {
        let (by_type, count) = cells_of(&read_text(&dir.join(file("mapped.json")))?, top, hierarchy)?;
        let area_path = dir.join(file("area.txt"));
        let area = area_of(&read_text(&area_path)?)
            .ok_or_else(|| SynthError::Report(format!("{} has no chip area line", area_path.display())))?;
        let delay_ps = delay_of(&read_text(&dir.join(file("synth.log")))?);
        mapped = Some(Mapped { cells_by_type: by_type, cells: count, area_um2: area, delay_ps });
    }
    Ok(Figures { cells, cells_by_type, transistors, mapped, files })
}

/// Reads and checks the liberty at `path` (plain or gzip, at most
/// [`MAX_LIBERTY_BYTES`]): it must be text with cells and a flip-flop
/// (`ff` group). Cells whose names match `dont_use` get `dont_use : true`.
pub fn prepare_liberty(path: &Path, dont_use: &[String]) -> Result<Library, SynthError> {
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
        let (by_type, n) = cells_of(json, "top", false).unwrap();
        assert_eq!((n, by_type["ttfs_rom_macro"]), (3, 1));
        assert_eq!(transistors_of(json, "top", false).unwrap(), 12);
        let hierarchy = r#"{"modules": {"\\top": {"num_cells": 1}, "\\leaf": {"num_cells": 5}},
                            "design": {"num_cells": 10, "num_cells_by_type": {"$_XOR_": 10}, "estimated_num_transistors": "120"}}"#;
        assert_eq!(cells_of(hierarchy, "top", true).unwrap().1, 10);
        assert_eq!(transistors_of(hierarchy, "top", true).unwrap(), 120);
        let areas = "   Chip area for module '\\leaf': 10.5\n   Chip area for top module '\\top': 21.0\n";
        assert_eq!(area_of(areas), Some(21.0));
    }
}
