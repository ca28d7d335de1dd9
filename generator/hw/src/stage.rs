//! The generate stage (`ttfs generate NET.json -o DIR`): plan, render, then write (nothing is
//! written when the plan refuses).

use crate::cycles::{self, CycleModel, CycleStats};
use crate::plan::{self, Plan};
use crate::planner;
use crate::target::Target;
use crate::{Design, design};
use anyhow::{Context, Result};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use ttfs_ir::Network;
use ttfs_sim::Prepared;

/// What to generate (the arguments of `ttfs generate`).
pub struct Args {
    /// Network description.
    pub network: PathBuf,
    /// Output directory.
    pub output: PathBuf,
    /// Target device.
    pub target: Target,
    /// Lanes: one value, one per layer, or empty for the target's default.
    pub lanes: Vec<usize>,
    /// Data for the cycle statistics (optional).
    pub calib: Option<PathBuf>,
    /// Images of `calib` to use.
    pub calib_count: Option<usize>,
    /// Write into a non-empty DIR.
    pub force: bool,
}

/// Plans and renders a design in memory.
pub fn build(net: &Network, target: Target, lanes: &[usize], calib: Option<(&str, &[i64])>) -> Result<(Plan, Design)> {
    build_with_stats(net, target, lanes, calib).map(|(plan, design, _)| (plan, design))
}

/// [`build`], also returning the cycle statistics on `calib`.
fn build_with_stats(
    net: &Network,
    target: Target,
    lanes: &[usize],
    calib: Option<(&str, &[i64])>,
) -> Result<(Plan, Design, Option<CycleStats>)> {
    let plan = planner::plan(net, target, lanes)?;
    let model = CycleModel::new(&plan);
    let stats = calib.map(|(name, codes)| cycles::stats(&Prepared::new(net), &plan, name, codes));
    let design = design::render(net, &plan, &model, stats.as_ref());
    Ok((plan, design, stats))
}

/// Input codes of a data file for `net`.
pub fn input_codes(net: &Network, path: &Path, count: Option<usize>) -> Result<Vec<i64>> {
    let (_, canonical) = ttfs_data::load_samples(net, path, count)?;
    let width: usize = net.input.shape.iter().product();
    Ok(canonical.chunks(width).flat_map(|raw| ttfs_sim::encode::discrete(net, raw)).collect())
}

/// Runs the command; returns the summary it prints.
pub fn run(args: &Args) -> Result<String> {
    let net = ttfs_ir::load(&args.network)?;
    let codes = match &args.calib {
        Some(path) => Some(input_codes(&net, path, args.calib_count)?),
        None => None,
    };
    let name =
        args.calib.as_ref().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let (plan, design, stats) =
        build_with_stats(&net, args.target, &args.lanes, codes.as_deref().map(|c| (name.as_str(), c)))
            .with_context(|| format!("cannot generate hardware for {}", args.network.display()))?;
    crate::write(&design, &args.output, args.force)?;
    let mut text = summary(&plan, &design, &args.output);
    if let Some(s) = stats {
        let _ = writeln!(
            text,
            "  cycle model on {} ({} images): latency {:.1} cycles mean ({} to {}), one image every {:.1} cycles streaming; \
             layers {:.1} cycles against a weight-bandwidth bound of {:.1} ({:.2}x)",
            s.data,
            s.samples,
            s.latency_mean,
            s.latency_min,
            s.latency_max,
            s.initiation_interval_mean,
            s.layer_cycles_mean,
            s.bound_mean,
            s.ratio_to_bound
        );
    }
    Ok(text)
}

fn summary(plan: &Plan, design: &Design, dir: &Path) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "wrote {} ({} files, top module {}, target {})",
        dir.display(),
        design.files.len(),
        design.top,
        plan.target
    );
    for l in &plan.layers {
        let store = match l.weight_store {
            plan::WeightStore::BlockRam => "block RAM",
            plan::WeightStore::Spram => "SPRAM",
        };
        let _ = writeln!(
            text,
            "  layer {}: {} -> {}, {} lanes x {} blocks, weights in {store}, worst case {} cycles",
            crate::view::display_name(&l.name),
            l.inputs,
            l.outputs,
            l.lanes,
            l.blocks,
            l.worst_case_cycles()
        );
    }
    let n = plan.needs;
    let have = plan.target.resources();
    let _ = writeln!(text, "  needs {} block RAMs, {} SPRAMs, {} DSPs", n.bram_blocks, n.spram_blocks, n.dsp_blocks);
    if have.logic_cells != u64::MAX {
        let _ = writeln!(
            text,
            "  estimated {} logic cells of the device's {} ({:.0} %){}",
            n.logic_cells,
            have.logic_cells,
            100.0 * n.logic_cells as f64 / have.logic_cells as f64,
            if n.logic_cells > have.logic_cells {
                ": probably too many; `ttfs synth` will tell (fewer lanes shrink it)"
            } else {
                ""
            }
        );
    }
    text
}
