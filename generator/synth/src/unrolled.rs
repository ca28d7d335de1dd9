//! `ttfs synth DIR --asic --unrolled`: the same network fully unrolled
//! (every weight a constant multiplier, one inference per cycle; see
//! `ttfs_hw::unrolled`), checked against the discrete reference under
//! Icarus and synthesized by Yosys against the same library and clock as
//! the TTFS design, for a comparison from one tool and one library. It is
//! synthesized module by module with ABC's fast script
//! ([`cells::Style::Modules`]): every neuron is a module of its own, and
//! the default script's SAT sweeping of 300,000 gates of adder trees does
//! not finish in half an hour.
//!
//! A network too large to synthesize unrolled here (the MNIST MLP's 784 ×
//! 128 constant multipliers) is estimated from one neuron per layer: the
//! layer's median neuron by its weights' partial products, synthesized
//! alone, times the layer's neurons. The report says which figures are
//! extrapolated, and the argmax is then not counted.

use crate::cells::{self, Figures, LibraryFiles};
use crate::{SynthError, io, tool};
use serde::Serialize;
use std::path::Path;
use ttfs_hw::unrolled::{self as hw, Scope};
use ttfs_ir::Network;
use ttfs_tools::Tool;

/// How much of the network to synthesize unrolled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The whole network up to [`WHOLE_MAX_WEIGHTS`] weights, one neuron
    /// per layer above.
    Auto,
    /// The whole network, whatever its size.
    Whole,
    /// One neuron per layer, extrapolated.
    PerNeuron,
}

/// The most weights [`Mode::Auto`] synthesizes as one unrolled design
/// (the digits MLP has 2,368; the MNIST MLP's 101,632 would take Yosys
/// hours and tens of GiB).
pub const WHOLE_MAX_WEIGHTS: u64 = 16_384;

/// Input images the unrolled designs are checked on without data: a fixed
/// pseudo-random set (the first all zero, the second all at the largest code).
pub const CHECK_IMAGES: usize = 64;

/// One synthesized piece of the unrolled network.
#[derive(Clone, Debug, Serialize)]
pub struct Part {
    /// Its top module (in `DIR/build/unrolled/<top>`).
    pub top: String,
    /// The weight layer of a one-neuron part.
    pub layer: Option<usize>,
    /// Which neuron of it.
    pub neuron: Option<usize>,
    /// How many times it counts in the network (a layer's neurons for a
    /// one-neuron part; 1 for the whole network).
    pub times: u64,
    /// Generic cells.
    pub cells: u64,
    /// `stat -tech cmos` transistors.
    pub transistors: u64,
    /// Library cells (with a liberty).
    pub library_cells: Option<u64>,
    /// Area, µm² (with a liberty).
    pub area_um2: Option<f64>,
    /// ABC's critical-path delay estimate, ns (with a liberty).
    pub delay_ns: Option<f64>,
    /// Vectors its bench checked against the reference (all matched).
    pub checked: usize,
}

/// The unrolled network's figures.
#[derive(Clone, Debug, Serialize)]
pub struct UnrolledReport {
    /// `whole` or `one neuron per layer, extrapolated`.
    pub mode: String,
    /// Whether the totals are extrapolated from one neuron per layer (the
    /// argmax not counted).
    pub extrapolated: bool,
    /// Generic cells (Σ part × times).
    pub cells: u64,
    /// Transistors (Σ part × times).
    pub transistors: u64,
    /// Library cells (with a liberty).
    pub library_cells: Option<u64>,
    /// Area, µm² (with a liberty).
    pub area_um2: Option<f64>,
    /// The longest critical path of the parts, ns (with a liberty): the
    /// clock period at which it takes one inference per cycle.
    pub delay_ns: Option<f64>,
    /// Weight bits held in logic as constants (no memory).
    pub weight_bits: u64,
    /// Bits of memory: none.
    pub memory_bits: u64,
    /// Multiply-accumulates per inference: every weight, every image.
    pub multiply_accumulates: u64,
    /// Cycles from an image to its result (the whole network's pipeline).
    pub latency_cycles: u32,
    /// Where the check vectors came from.
    pub checked_on: String,
    /// The pieces synthesized.
    pub parts: Vec<Part>,
}

/// Builds, checks and synthesizes the unrolled form of `net` into
/// `dir/build/unrolled`. `codes`: the images to check on (whole images of
/// the network's input codes; `None`: [`CHECK_IMAGES`] fixed pseudo-random
/// ones); `library`: the installed liberty and clock period (ps).
pub fn run(
    dir: &Path,
    net: &Network,
    mode: Mode,
    codes: Option<(&str, &[i64])>,
    library: Option<(&LibraryFiles, u64)>,
    progress: &mut dyn FnMut(&str),
) -> Result<UnrolledReport, SynthError> {
    let layers = hw::layers(net).map_err(refused)?;
    let weights: u64 = layers.iter().map(|l| (l.inputs * l.outputs) as u64).sum();
    let whole = match mode {
        Mode::Auto => weights <= WHOLE_MAX_WEIGHTS,
        Mode::Whole => true,
        Mode::PerNeuron => false,
    };
    let scopes: Vec<(Scope, u64)> = if whole {
        vec![(Scope::Whole, 1)]
    } else {
        layers.iter().map(|l| (Scope::Neuron { layer: l.index, neuron: l.median_neuron() }, l.outputs as u64)).collect()
    };
    let generated;
    let (source, codes): (String, &[i64]) = match codes {
        Some((name, codes)) => (format!("{} images of {name}", codes.len() / layers[0].inputs.max(1)), codes),
        None => {
            generated = hw::check_images(net, CHECK_IMAGES);
            (format!("{CHECK_IMAGES} fixed pseudo-random images"), &generated)
        }
    };
    let count = codes.len() / layers[0].inputs.max(1);
    let mut parts = Vec::new();
    for (scope, times) in scopes {
        let rel = format!("build/unrolled/{}", hw::top(net, scope));
        progress(&format!("icarus: {} against the reference on {count} images", hw::top(net, scope)));
        let (design, checked) = write_and_check(&dir.join(&rel), net, scope, codes)?;
        let mut rtl: Vec<String> = design.files.keys().filter(|p| p.starts_with("rtl/")).cloned().collect();
        // The top last, after the blocks it uses.
        let top_file = format!("rtl/{}.v", design.top);
        rtl.retain(|p| *p != top_file);
        rtl.push(top_file);
        let read: String =
            format!("read_verilog {}\n", rtl.iter().map(|p| format!("{rel}/{p}")).collect::<Vec<_>>().join(" "));
        let figures =
            cells::synthesize(dir, &format!("{rel}/"), &read, &design.top, cells::Style::Modules, library, progress)?;
        parts.push(part(&design, scope, times, &figures, checked));
    }
    let sum = |f: &dyn Fn(&Part) -> u64| parts.iter().map(|p| f(p) * p.times).sum::<u64>();
    let mapped = library.is_some();
    Ok(UnrolledReport {
        mode: if whole { "whole".into() } else { "one neuron per layer, extrapolated".into() },
        extrapolated: !whole,
        cells: sum(&|p| p.cells),
        transistors: sum(&|p| p.transistors),
        library_cells: mapped.then(|| sum(&|p| p.library_cells.unwrap_or(0))),
        area_um2: mapped.then(|| parts.iter().map(|p| p.area_um2.unwrap_or(0.0) * p.times as f64).sum()),
        delay_ns: parts
            .iter()
            .filter_map(|p| p.delay_ns)
            .fold(None, |m: Option<f64>, d| Some(m.map_or(d, |m| m.max(d)))),
        weight_bits: layers.iter().map(|l| l.weight_bits_total()).sum(),
        memory_bits: 0,
        multiply_accumulates: weights,
        latency_cycles: hw::latency(&layers),
        checked_on: source,
        parts,
    })
}

/// A network or scope the unrolled comparison cannot build.
fn refused(e: anyhow::Error) -> SynthError {
    SynthError::Refused(format!("the unrolled comparison: {e:#}"))
}

fn part(design: &hw::Unrolled, scope: Scope, times: u64, figures: &Figures, checked: usize) -> Part {
    let (layer, neuron) = match scope {
        Scope::Whole => (None, None),
        Scope::Neuron { layer, neuron } => (Some(layer), Some(neuron)),
    };
    Part {
        top: design.top.clone(),
        layer,
        neuron,
        times,
        cells: figures.cells,
        transistors: figures.transistors,
        library_cells: figures.mapped.as_ref().map(|m| m.cells),
        area_um2: figures.mapped.as_ref().map(|m| m.area_um2),
        delay_ns: figures.mapped.as_ref().and_then(|m| m.delay_ps).map(|ps| ps / 1000.0),
        checked,
    }
}

/// Renders the unrolled form of `net` in `scope` into `sub` (created; files
/// of an earlier run replaced) with its bench and vectors for `codes`
/// (whole images), and runs the bench under Icarus. Returns the design and
/// the vectors checked; a mismatch is an error.
pub fn write_and_check(
    sub: &Path,
    net: &Network,
    scope: Scope,
    codes: &[i64],
) -> Result<(hw::Unrolled, usize), SynthError> {
    let count = codes.len() / net.input.shape.iter().product::<usize>().max(1);
    let design = hw::render(net, scope, count).map_err(refused)?;
    let (inputs, expected) = hw::vectors(net, scope, codes).map_err(refused)?;
    crate::prepare(sub)?;
    for (path, bytes) in &design.files {
        let path = sub.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        crate::write(&path, bytes)?;
    }
    crate::write(&sub.join(hw::IN_FILE), inputs.as_bytes())?;
    crate::write(&sub.join(hw::EXPECTED_FILE), expected.as_bytes())?;
    let checked = check(sub, &design)?;
    Ok((design, checked))
}

/// Runs the design's bench under Icarus in `sub`; returns the vectors
/// checked. A mismatch is an error with the bench's whole output.
fn check(sub: &Path, design: &hw::Unrolled) -> Result<usize, SynthError> {
    let (iverilog, vvp) = (Tool::Iverilog, Tool::Vvp);
    iverilog.locate()?;
    vvp.locate()?;
    let mut args: Vec<String> =
        vec!["-g2005".into(), "-o".into(), "bench.vvp".into(), "-s".into(), format!("{}_tb", design.top)];
    args.extend(design.files.keys().filter(|p| p.ends_with(".v")).cloned());
    tool(iverilog, sub, &args)?;
    let output = ttfs_tools::combined(&tool(vvp, sub, &["-n".to_string(), "bench.vvp".to_string()])?);
    let line = output.lines().find_map(|l| l.strip_prefix("unrolled "));
    let numbers: Vec<usize> =
        line.map(|l| l.split_whitespace().filter_map(|n| n.parse().ok()).collect()).unwrap_or_default();
    match numbers.as_slice() {
        [vectors, 0, _] if output.contains("*-* All Finished *-*") => Ok(*vectors),
        _ => Err(SynthError::Report(format!(
            "the unrolled design {} does not compute what the reference computes (a bug in ttfs-hdl; please report it); \
             its bench in {} said:\n{output}",
            design.top,
            sub.display()
        ))),
    }
}
