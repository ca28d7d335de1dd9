//! The generate stage (`ttfs generate NET.json -o DIR`): plan, render, then write (nothing is
//! written when the plan refuses).

use crate::cycles::{self, CycleModel, CycleStats};
use crate::plan::{self, Plan};
use crate::planner::{self, Lanes};
use crate::target::{Family, Target};
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
    /// How to choose the lanes.
    pub lanes: Lanes,
    /// Data for the cycle statistics (optional).
    pub calib: Option<PathBuf>,
    /// Images of `calib` to use.
    pub calib_count: Option<usize>,
    /// Write into a non-empty DIR.
    pub force: bool,
    /// Quantizes a network again at fewer weight bits, so that a refusal can
    /// propose bits that fit (the converter's own passes; `None`: lanes and
    /// devices only).
    pub requantize: Option<Requantize>,
    /// The board wrapper's UART speed ([`crate::board::BAUD`] by default).
    pub baud: u32,
}

/// Quantizes a network again at the given weight bits (time bits kept).
pub type Requantize = fn(&Network, u32) -> Result<Network>;

/// Plans and renders a design in memory with fixed lanes (one value, one
/// per layer, or empty for the target's default), the board wrapper's UART
/// at [`crate::board::BAUD`].
pub fn build(net: &Network, target: Target, lanes: &[usize], calib: Option<(&str, &[i64])>) -> Result<(Plan, Design)> {
    build_at_baud(net, target, lanes, crate::board::BAUD, calib)
}

/// [`build`] with the board wrapper's UART at `baud`, checked against the
/// boards' UART bridge and the wrapper's clock ([`check_baud`]) before
/// anything is planned.
pub fn build_at_baud(
    net: &Network,
    target: Target,
    lanes: &[usize],
    baud: u32,
    calib: Option<(&str, &[i64])>,
) -> Result<(Plan, Design)> {
    build_with_stats(net, target, &Lanes::Fixed(lanes.to_vec()), baud, calib).map(|(plan, design, _)| (plan, design))
}

/// Checks `--baud` for `target`: a target without a board takes only the
/// default (it has no UART); a board's must suit its bridge and clock.
pub fn check_baud(target: Target, baud: u32) -> Result<()> {
    if target.nextpnr_device().is_none() {
        if baud != crate::board::BAUD {
            anyhow::bail!("--baud sets the board wrapper's UART; the {target} target has no board wrapper");
        }
        return Ok(());
    }
    crate::board::check_baud(baud, crate::target::clock_mhz(target)).map_err(anyhow::Error::msg)?;
    Ok(())
}

/// Plans (with `lanes`, steered by the spike counts of `calib` when given)
/// with the board wrapper's UART at `baud` ([`check_baud`]), renders, and
/// returns the cycle statistics on `calib`.
pub fn build_with_stats(
    net: &Network,
    target: Target,
    lanes: &Lanes,
    baud: u32,
    calib: Option<(&str, &[i64])>,
) -> Result<(Plan, Design, Option<CycleStats>)> {
    check_baud(target, baud)?;
    let inputs: usize = net.input.shape.iter().product();
    let counts = calib.map(|(name, codes)| (name, cycles::counts(&Prepared::new(net), inputs, codes)));
    let mut plan = planner::choose(net, target, lanes, counts.as_ref().map(|(_, c)| c.as_slice()))?;
    plan.baud = baud;
    let model = CycleModel::new(&plan);
    let stats = counts.map(|(name, c)| cycles::stats_of(&plan, name, &c));
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
        build_with_stats(&net, args.target, &args.lanes, args.baud, codes.as_deref().map(|c| (name.as_str(), c)))
            .map_err(|e| with_fitting_command(e, &net, args))
            .with_context(|| format!("cannot generate hardware for {}", args.network.display()))?;
    crate::write(&design, &args.output, args.force)?;
    let mut text = summary(&plan, &design, &args.output);
    if let Some(b) = crate::board::board(plan.target, &crate::view::view(&net, &plan)) {
        let _ = writeln!(
            text,
            "  board wrapper for the {}: UART {} baud 8N1 ({} cycles per bit at {} MHz); the README's bring-up \
             section says how to program and talk to it",
            b.title, b.baud, b.clks_per_bit, b.pll.mhz
        );
    }
    if let Lanes::Auto(goal) = &args.lanes {
        let _ = writeln!(
            text,
            "  lanes chosen by --lanes auto ({}, within {} % of the device's logic cells{}): --lanes-per-layer {}",
            if goal.rate.is_some() { "the fewest logic cells for the rate" } else { "the most inferences per second" },
            goal.budget_percent,
            if stats.is_some() { ", cycles on the --calib data" } else { ", worst-case cycles" },
            planner::lanes_text(&plan.layers.iter().map(|l| l.lanes).collect::<Vec<_>>())
        );
    }
    if let Some(s) = stats {
        let _ = writeln!(
            text,
            "  cycle model on {} ({} images): latency {:.1} cycles mean ({} to {}), one image every {:.1} cycles streaming; \
             layers {:.1} cycles against a weight-bandwidth bound of {:.1} ({:.2}x; per layer {})",
            s.data,
            s.samples,
            s.latency_mean,
            s.latency_min,
            s.latency_max,
            s.initiation_interval_mean,
            s.layer_cycles_mean,
            s.bound_mean,
            s.ratio_to_bound,
            s.ratio_to_bound_per_layer.iter().map(|r| format!("{r:.2}x")).collect::<Vec<_>>().join(", ")
        );
    }
    Ok(text)
}

/// A refusal for lack of room, completed with a command that fits (found by
/// the same planner, so it is exact): `--lanes auto` on this target, then on
/// the other devices.
fn with_fitting_command(error: anyhow::Error, net: &Network, args: &Args) -> anyhow::Error {
    let Some(planner::PlanError::DoesNotFit { target, details }) = error.downcast_ref::<planner::PlanError>() else {
        return error;
    };
    let command = |t: Target, lanes: &[usize]| {
        format!(
            "ttfs generate {} -o {} --target {t} --lanes-per-layer {}",
            shell_word(&args.network),
            shell_word(&args.output),
            planner::lanes_text(lanes)
        )
    };
    let details = match planner::alternatives(net, *target, &args.lanes).first() {
        Some((t, plan)) => format!(
            "{details}. This fits ({} estimated logic cells of {}, {} block RAMs, {} SPRAMs): {}",
            plan.needs.logic_cells,
            t.resources().logic_cells,
            plan.needs.bram_blocks,
            plan.needs.spram_blocks,
            command(*t, &plan.layers.iter().map(|l| l.lanes).collect::<Vec<_>>())
        ),
        None => {
            // An iCE40 design that fits no iCE40: the smallest ECP5 that holds it.
            let ecp5 = (target.family() != Family::Ecp5)
                .then(|| {
                    Target::ECP5.into_iter().find_map(|t| {
                        planner::auto(net, t, &planner::Goal::DEFAULT, None).ok().map(|(plan, _)| (t, plan))
                    })
                })
                .flatten()
                .map(|(t, plan)| {
                    format!(
                        "it fits the {t} ({} estimated LUT4s of {}, {} block RAMs): {}",
                        plan.needs.logic_cells,
                        t.resources().logic_cells,
                        plan.needs.bram_blocks,
                        command(t, &plan.layers.iter().map(|l| l.lanes).collect::<Vec<_>>())
                    )
                });
            match (fewer_bits(net, args), ecp5) {
                (Some(fits), Some(other)) => format!("{details}. As it is, {other}. On the iCE40: {fits}"),
                (Some(fits), None) => format!("{details}. {fits}"),
                (None, Some(other)) => format!("{details}. No iCE40 holds it; {other}"),
                (None, None) => format!(
                    "{details}. No lanes fit on any {} target{}; use --target generic for other devices, or a smaller network",
                    if args.target.family() == Family::Ecp5 { "ECP5" } else { "iCE40 or ECP5" },
                    if args.requantize.is_some() { ", even at 4-bit weights" } else { "" }
                ),
            }
        }
    };
    planner::PlanError::DoesNotFit { target: *target, details }.into()
}

/// The devices a refusal may suggest beside the asked one: the ECP5 parts
/// for an ECP5 target, else the iCE40s.
fn family_targets(target: Target) -> Vec<Target> {
    match target.family() {
        Family::Ecp5 => Target::ECP5.to_vec(),
        Family::Ice40 | Family::Generic => vec![Target::Ice40Up5k, Target::Ice40Hx8k],
    }
}

/// The first of 6- and 4-bit weights at which the network fits some
/// device with `--lanes auto`, as the two commands that build it.
fn fewer_bits(net: &Network, args: &Args) -> Option<String> {
    let requantize = args.requantize?;
    let now = net.layers.iter().filter_map(|l| l.params()?.quant.as_ref()).map(|q| q.weight_bits).max()?;
    for bits in [6, 4].into_iter().filter(|&b| b < now) {
        let Ok(smaller) = requantize(net, bits) else { continue };
        let fits = std::iter::once(args.target)
            .chain(family_targets(args.target))
            .find_map(|t| planner::auto(&smaller, t, &planner::Goal::DEFAULT, None).ok().map(|(plan, _)| (t, plan)));
        if let Some((t, plan)) = fits {
            let stem = args.network.file_stem().map_or("net".into(), |s| s.to_string_lossy().into_owned());
            let renamed = args.network.with_file_name(format!("{stem}-w{bits}.json"));
            let time_bits: Vec<String> = net.time_bits().iter().map(u32::to_string).collect();
            return Some(format!(
                "No lanes fit at {now}-bit weights; at {bits}-bit weights it fits the {t} ({} estimated logic cells, \
                 {} block RAMs, {} SPRAMs; check the accuracy with `ttfs sim` first): \
                 ttfs passes run {} --from quantize --weight-bits {bits} --time-bits {} -o {} && \
                 ttfs generate {} -o {} --target {t} --lanes-per-layer {}",
                plan.needs.logic_cells,
                plan.needs.bram_blocks,
                plan.needs.spram_blocks,
                shell_word(&args.network),
                time_bits.join(","),
                shell_word(&renamed),
                shell_word(&renamed),
                shell_word(&args.output),
                planner::lanes_text(&plan.layers.iter().map(|l| l.lanes).collect::<Vec<_>>())
            ));
        }
    }
    None
}

/// A path as one shell word (quoted when it holds anything but plain characters).
fn shell_word(path: &Path) -> String {
    let text = path.display().to_string();
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+=,:@".contains(c)) {
        text
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
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
            plan::WeightStore::BlockRam if plan.target == Target::Asic => "ROM logic",
            plan::WeightStore::BlockRam => "block RAM",
            plan::WeightStore::Spram => "SPRAM",
            plan::WeightStore::RomMacro => "ROM macro",
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
    if plan.target == Target::Asic {
        let macros = plan.layers.iter().filter(|l| l.weight_store == plan::WeightStore::RomMacro).count();
        let _ = writeln!(
            text,
            "  needs {} multipliers and {macros} ROM macros (manifest.json: memory_macros); `ttfs synth {} --asic \
             [--liberty LIB]` estimates its area; config.json and constraints/ start an OpenLane 2 run",
            n.dsp_blocks,
            shell_word(dir)
        );
    } else {
        let _ =
            writeln!(text, "  needs {} block RAMs, {} SPRAMs, {} DSPs", n.bram_blocks, n.spram_blocks, n.dsp_blocks);
    }
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
