//! The synth stage (`ttfs synth DIR`): synthesis, place and route and bitstream of a design
//! written by `ttfs generate` (its board wrapper), with the resources, the
//! clock and the latency at that clock.

use crate::{Cycles, Options, SynthReport};
use anyhow::{Context, Result, bail};
use std::path::PathBuf;
use ttfs_hw::cycles::{self, CycleModel};
use ttfs_hw::estimate;
use ttfs_hw::manifest::Manifest;
use ttfs_hw::subject::subject;
use ttfs_hw::target::Target;
use ttfs_sim::Prepared;

/// What to build (the arguments of `ttfs synth`).
pub struct Args {
    /// A directory written by `ttfs generate`.
    pub dir: PathBuf,
    /// The device (must be the one DIR was generated for).
    pub device: Option<Target>,
    /// The clock to ask for, MHz.
    pub freq_mhz: Option<f64>,
    /// nextpnr's seed.
    pub seed: u64,
    /// Data for the mean cycles per inference (else DIR's manifest).
    pub data: Option<PathBuf>,
    /// Images of `data` to use.
    pub count: Option<usize>,
    /// Cycle figures measured elsewhere (co-simulation), taking precedence.
    pub cycles: Option<Cycles>,
}

/// Runs the command; `progress` hears about each step.
pub fn run(args: &Args, progress: &mut dyn FnMut(&str)) -> Result<SynthReport> {
    if !args.dir.join("manifest.json").is_file() {
        bail!("{} is not a directory written by `ttfs generate` (it has no manifest.json)", args.dir.display());
    }
    let s = subject(&args.dir, Target::Generic, &ttfs_hw::planner::Lanes::Fixed(Vec::new()))?;
    let device = s.plan.target;
    if let Some(asked) = args.device.filter(|&d| d != device) {
        bail!(
            "{} was generated for the {device}, not the {asked}: its memories, multipliers and board wrapper \
             are built for that device; run `ttfs generate --target {asked}` first",
            args.dir.display()
        );
    }
    if let Some(f) = args.freq_mhz.filter(|f| !(f.is_finite() && *f > 0.0)) {
        bail!("--freq {f} is not a frequency in MHz");
    }
    let model = CycleModel::new(&s.plan);
    if let Some(records) = &s.records {
        if args.data.is_some() {
            bail!(
                "{} is a record design: --data takes images; its cycles per record come from `ttfs files generate \
                 --data` (in manifest.json) or `ttfs files cosim`",
                args.dir.display()
            );
        }
        let cycles = args.cycles.clone().unwrap_or_else(|| record_cycles(records, &model));
        let mut estimate = estimate::estimate(&s.plan);
        estimate.parts.push(("record front end".into(), ttfs_hw::design::RECORDS_FRONT_LOGIC_CELLS));
        estimate.logic_cells += ttfs_hw::design::RECORDS_FRONT_LOGIC_CELLS;
        let options = Options { freq_mhz: args.freq_mhz, seed: args.seed, records: Some(records.front.clone()) };
        return crate::run(&args.dir, &s.view, device, estimate, &cycles, &options, progress)
            .with_context(|| format!("cannot build {}", args.dir.display()));
    }
    let cycles = match (&args.cycles, &args.data) {
        (Some(c), _) => c.clone(),
        (None, Some(path)) => {
            let codes = ttfs_hw::stage::input_codes(&s.net, path, args.count)?;
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let st = cycles::stats(&Prepared::new(&s.net), &s.plan, &name, &codes);
            Cycles {
                mean: st.latency_mean,
                worst_case: model.latency_worst_case,
                interval: st.initiation_interval_mean,
                source: format!("cycle model, mean over {} images of {name}", st.samples),
            }
        }
        (None, None) => manifest_cycles(&args.dir, &model)?,
    };
    let estimate = estimate::estimate(&s.plan);
    let options = Options { freq_mhz: args.freq_mhz, seed: args.seed, records: None };
    crate::run(&args.dir, &s.view, device, estimate, &cycles, &options, progress)
        .with_context(|| format!("cannot build {}", args.dir.display()))
}

/// The cycle figures of a record design: those measured by co-simulation
/// (`ttfs files generate --data`), else an upper bound: the encoder's pair
/// stage for every key one after the other (ttfs_files_encoder.v: max(16,
/// M + 3) cycles per key, 31 more per key for the serial divider when W is
/// not a power of two), its pipeline, then the pixel top's worst case, as
/// if nothing overlapped. Records go one at a time: the interval is the
/// latency.
fn record_cycles(records: &ttfs_hw::manifest::RecordsInfo, model: &CycleModel) -> Cycles {
    if let Some(c) = &records.cycles {
        return Cycles {
            mean: c.mean,
            worst_case: c.worst,
            interval: c.mean,
            source: format!("co-simulated, mean over {} records of {}, one at a time", c.records, c.data),
        };
    }
    let f = &records.front;
    let divider = if f.spread.is_power_of_two() { 0 } else { 31 };
    let per_key = 16.max(u64::from(f.neurons_per_key) + 3) + divider;
    let bound = f.keys as u64 * per_key + 32 + model.latency_worst_case;
    Cycles {
        mean: bound as f64,
        worst_case: bound,
        interval: bound as f64,
        source: "upper bound: encoder then layers, nothing overlapped; `ttfs files generate --data` measures it".into(),
    }
}

/// The cycle figures DIR's manifest holds: the mean from `--calib`, else
/// the worst case.
fn manifest_cycles(dir: &std::path::Path, model: &CycleModel) -> Result<Cycles> {
    Ok(match Manifest::read(dir)?.cycle_stats {
        Some(stats) => Cycles {
            mean: stats.latency_mean,
            worst_case: model.latency_worst_case,
            interval: stats.initiation_interval_mean,
            source: format!("cycle model, mean over {} images of {} (manifest)", stats.samples, stats.data),
        },
        None => Cycles {
            mean: model.latency_worst_case as f64,
            worst_case: model.latency_worst_case,
            interval: model.initiation_interval_worst_case as f64,
            source: "cycle model, worst case (no data: pass --data for the mean)".into(),
        },
    })
}
