//! Running a sweep's configurations and gathering their results.
//!
//! Each configuration runs `ttfs flow` into `DIR/points/<name>/flow` and
//! then writes `DIR/points/<name>/result.json` (written whole, by rename):
//! a configuration with a result is done, whatever its outcome, and a
//! re-run skips it. `DIR/results.jsonl` holds one line per finished
//! configuration: lines are appended as configurations finish (a crash or a
//! kill loses nothing already finished) and the file is rewritten in index
//! order from the results when a run or `collect` ends.

use crate::grid::Config;
use crate::spec::{SPEC_FILE, Spec};
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

/// The results file in DIR.
pub const RESULTS_FILE: &str = "results.jsonl";

/// The points' directory in DIR.
pub const POINTS_DIR: &str = "points";

/// A point's result file, in its directory.
pub const RESULT_FILE: &str = "result.json";

/// One finished configuration: a line of `results.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PointResult {
    /// Its index in the grid's expansion.
    pub index: usize,
    /// Its directory name under `points/`.
    pub name: String,
    /// Each grid key's value (`{"weight-bits": "4", "lanes": "auto"}`).
    pub config: std::collections::BTreeMap<String, String>,
    /// `ok`: every stage it asked for ran and passed; `failed`: one failed
    /// (a design that does not fit, misses timing or mismatches) or the
    /// flow stopped with an error.
    pub status: String,
    /// Why it failed.
    pub error: Option<String>,
    /// Each stage: name, status (`ok`, `skipped`, `failed`), seconds, summary.
    pub stages: Vec<StageOutcome>,
    /// What it measured.
    pub figures: Figures,
    /// Seconds it took.
    pub seconds: f64,
    /// The `ttfs flow` command that rebuilds it.
    pub command: String,
}

/// One stage of a point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StageOutcome {
    /// `convert`, `sim`, `generate`, `cosim` or `synth`.
    pub name: String,
    /// `ok`, `skipped` or `failed`.
    pub status: String,
    /// Seconds.
    pub seconds: f64,
    /// Its one-line summary.
    pub summary: String,
}

/// A point's figures; each is absent when its stage did not run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// sim: accuracy of the ReLU network (fraction).
    pub accuracy_relu: Option<f64>,
    /// sim: accuracy of the integer TTFS network, the hardware's (fraction).
    pub accuracy_discrete: Option<f64>,
    /// sim: spikes per hidden neuron per inference.
    pub spikes_per_neuron: Option<f64>,
    /// generate: logic cells by the pre-synthesis estimate.
    pub estimated_logic_cells: Option<u64>,
    /// generate: cycles per inference by the cycle model (mean on the data).
    pub model_cycles: Option<f64>,
    /// generate: the target's clock, MHz.
    pub clock_mhz: Option<f64>,
    /// generate: latency at that clock by the cycle model, µs.
    pub model_latency_us: Option<f64>,
    /// generate: inferences per second streaming at that clock, by the
    /// cycle model (its mean initiation interval on the data, else the
    /// worst case).
    pub model_inferences_per_second: Option<f64>,
    /// generate: the target device's logic cells (the plan's figure).
    pub device_logic_cells: Option<u64>,
    /// cosim: spikes and outputs that differ from the reference.
    pub mismatches: Option<u64>,
    /// synth: logic cells (LUT4s on the ECP5) after place and route.
    pub logic_cells: Option<u64>,
    /// synth: the device's logic cells.
    pub logic_cells_available: Option<u64>,
    /// synth: nextpnr's Fmax, MHz.
    pub fmax_mhz: Option<f64>,
    /// synth: the clock the design runs at, MHz.
    pub synth_clock_mhz: Option<f64>,
    /// synth: µs per inference at that clock.
    pub latency_us: Option<f64>,
    /// synth: inferences per second, streaming.
    pub inferences_per_second: Option<f64>,
}

/// Runs configuration `index` of the sweep in `dir` (unless it is done) and
/// returns its result; `None` when it was done already.
pub fn run_one(dir: &Path, spec: &Spec, index: usize) -> Result<Option<PointResult>> {
    let Some(config) = crate::grid::config(&spec.grid, index) else {
        bail!(
            "the sweep in {} has {} configurations; there is no configuration {index}",
            dir.display(),
            spec.configs().len()
        );
    };
    let point = dir.join(POINTS_DIR).join(config.name());
    if point.join(RESULT_FILE).exists() {
        return Ok(None);
    }
    std::fs::create_dir_all(&point).with_context(|| format!("cannot create {}", point.display()))?;
    remove_stale_staging(&point)?;
    let output = point.join("flow");
    let started = Instant::now();
    let outcome = ttfs_flow::run(&spec.flow_args(&config, output.clone()));
    let seconds = started.elapsed().as_secs_f64();
    let error = match &outcome {
        Ok(_) => None,
        Err(e) => Some(format!("{e:#}")),
    };
    let result = result_of(spec, &config, &output, error, seconds);
    write_whole(&point.join(RESULT_FILE), &(serde_json::to_string_pretty(&result)? + "\n"))?;
    Ok(Some(result))
}

/// Removes what a killed run of this configuration left in its directory:
/// the flow's staging directories (`.ttfs-flow-*`), which it removes itself
/// whenever it ends. The directory is the sweep's, so nothing else is there.
fn remove_stale_staging(point: &Path) -> Result<()> {
    let entries = std::fs::read_dir(point).with_context(|| format!("cannot read {}", point.display()))?;
    for entry in entries.flatten() {
        let stale = entry.file_name().to_string_lossy().starts_with(".ttfs-flow-");
        if stale && entry.file_type().is_ok_and(|t| t.is_dir()) {
            std::fs::remove_dir_all(entry.path())
                .with_context(|| format!("cannot remove {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// The result of a configuration whose flow wrote `output` (or stopped
/// with `error` before writing it).
fn result_of(spec: &Spec, config: &Config, output: &Path, error: Option<String>, seconds: f64) -> PointResult {
    let flow: Option<serde_json::Value> =
        std::fs::read_to_string(output.join("flow.json")).ok().and_then(|t| serde_json::from_str(&t).ok());
    let manifest: Option<serde_json::Value> =
        std::fs::read_to_string(output.join("hw/manifest.json")).ok().and_then(|t| serde_json::from_str(&t).ok());
    let stages: Vec<StageOutcome> = flow
        .as_ref()
        .and_then(|f| f.pointer("/report/stages")?.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .map(|s| StageOutcome {
            name: s["name"].as_str().unwrap_or_default().into(),
            status: s["status"].as_str().unwrap_or_default().into(),
            seconds: s["seconds"].as_f64().unwrap_or(0.0),
            summary: s["summary"].as_str().unwrap_or_default().into(),
        })
        .collect();
    let failed = error.is_some() || stages.iter().any(|s| s.status == "failed");
    PointResult {
        index: config.index,
        name: config.name(),
        config: config.values.iter().map(|(k, v)| (k.name().to_string(), v.clone())).collect(),
        status: if failed { "failed".into() } else { "ok".into() },
        error,
        stages,
        figures: figures(flow.as_ref(), manifest.as_ref()),
        seconds,
        command: spec.command(config, output),
    }
}

/// The figures from `flow.json` and the design's `manifest.json`.
fn figures(flow: Option<&serde_json::Value>, manifest: Option<&serde_json::Value>) -> Figures {
    let f = |path: &str| flow.and_then(|v| v.pointer(path)).and_then(serde_json::Value::as_f64);
    let u = |path: &str| flow.and_then(|v| v.pointer(path)).and_then(serde_json::Value::as_u64);
    let m = |path: &str| manifest.and_then(|v| v.pointer(path)).and_then(serde_json::Value::as_f64);
    let model_cycles = m("/cycle_stats/latency_mean").or_else(|| m("/cycle_model/latency_worst_case"));
    let clock = m("/clock_mhz");
    let interval =
        m("/cycle_stats/initiation_interval_mean").or_else(|| m("/cycle_model/initiation_interval_worst_case"));
    Figures {
        accuracy_relu: f("/sim/accuracy_relu"),
        accuracy_discrete: f("/sim/accuracy_discrete"),
        spikes_per_neuron: f("/sim/spikes_per_neuron"),
        estimated_logic_cells: manifest.and_then(|v| v.pointer("/resources_needed/logic_cells")?.as_u64()),
        model_cycles,
        clock_mhz: clock,
        model_latency_us: model_cycles.zip(clock).map(|(c, mhz)| c / mhz),
        model_inferences_per_second: interval.zip(clock).filter(|(i, _)| *i > 0.0).map(|(i, mhz)| mhz * 1e6 / i),
        device_logic_cells: manifest.and_then(|v| v.pointer("/resources_available/logic_cells")?.as_u64()),
        mismatches: u("/cosim/mismatched_spikes").zip(u("/cosim/mismatched_outputs")).map(|(a, b)| a + b),
        logic_cells: u("/synth/lc"),
        logic_cells_available: u("/synth/lc_available"),
        fmax_mhz: f("/synth/fmax_mhz"),
        synth_clock_mhz: f("/synth/clock_mhz"),
        latency_us: f("/synth/latency_us"),
        inferences_per_second: f("/synth/inferences_per_second"),
    }
}

/// Writes `text` to `path` whole: into a temporary file beside it, then
/// renamed (a reader never sees half a file).
pub fn write_whole(path: &Path, text: &str) -> Result<()> {
    let parent = path.parent().unwrap_or(Path::new("."));
    let mut tmp =
        tempfile::NamedTempFile::new_in(parent).with_context(|| format!("cannot write in {}", parent.display()))?;
    tmp.write_all(text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // A temporary file is private (0600); results are ordinary files.
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    tmp.persist(path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// What a local run did.
#[derive(Clone, Debug, Serialize)]
pub struct RunSummary {
    /// Configurations in the grid.
    pub configurations: usize,
    /// Run now.
    pub ran: usize,
    /// Done by an earlier run, skipped.
    pub skipped: usize,
    /// Of all finished, those that failed.
    pub failed: usize,
    /// Seconds of this run.
    pub seconds: f64,
}

impl RunSummary {
    fn with(self, results: Vec<PointResult>) -> (RunSummary, Vec<PointResult>) {
        (self, results)
    }
}

/// Runs every configuration not done yet, `jobs` at a time, appending each
/// result to `results.jsonl` as it finishes; then rewrites the file in
/// index order. Returns the counts and every finished configuration's
/// result. `progress` hears about each finished configuration.
///
/// With `spec.place_front`, the configurations first run the cheap stages;
/// then those `pick` chooses from the finished results (the ones on a
/// Pareto front of their device) run every stage the sweep asks for, again and again until
/// it picks only such configurations (placing one can move a front onto a
/// configuration only planned so far).
pub fn run_all(
    dir: &Path,
    spec: &Spec,
    jobs: usize,
    pick: &dyn Fn(&[PointResult]) -> Vec<usize>,
    progress: &(dyn Fn(&PointResult) + Sync),
) -> Result<(RunSummary, Vec<PointResult>)> {
    let started = Instant::now();
    let configs = spec.configs();
    // Lines of an interrupted run first, so that the file lists every
    // finished configuration before new ones are appended.
    collect(dir, spec)?;
    let todo: Vec<usize> = configs
        .iter()
        .filter(|c| !dir.join(POINTS_DIR).join(c.name()).join(RESULT_FILE).exists())
        .map(|c| c.index)
        .collect();
    let skipped = configs.len() - todo.len();
    let mut ran = if spec.place_front {
        run_some(dir, &spec.cheap(), &todo, jobs, Replace::Nothing, progress)?
    } else {
        run_some(dir, spec, &todo, jobs, Replace::Nothing, progress)?
    };
    if spec.place_front {
        loop {
            let all = collect(dir, spec)?;
            let picked = pick(&all);
            let planned_only: Vec<usize> = all
                .iter()
                .filter(|r| picked.contains(&r.index) && !ran_every_stage(r, spec))
                .map(|r| r.index)
                .collect();
            if planned_only.is_empty() {
                break;
            }
            ran += run_some(dir, spec, &planned_only, jobs, Replace::Plan, progress)?;
        }
    }
    let all = collect(dir, spec)?;
    Ok(RunSummary {
        configurations: configs.len(),
        ran,
        skipped,
        failed: all.iter().filter(|r| r.status != "ok").count(),
        seconds: started.elapsed().as_secs_f64(),
    }
    .with(all))
}

/// [`run_one`] after removing the configuration's earlier result when asked.
fn replace_then_run(dir: &Path, spec: &Spec, config: &Config, replace: Replace) -> Result<Option<PointResult>> {
    if replace == Replace::Plan {
        let path = dir.join(POINTS_DIR).join(config.name()).join(RESULT_FILE);
        std::fs::remove_file(&path).with_context(|| format!("cannot replace the plan in {}", path.display()))?;
    }
    run_one(dir, spec, config.index)
}

/// Whether `r` ran every stage `spec` asks for (a failed one counts: it
/// will not do better the next time).
fn ran_every_stage(r: &PointResult, spec: &Spec) -> bool {
    let asked = [("cosim", spec.stages.cosim), ("synth", spec.stages.synth)];
    r.status != "ok"
        || asked.iter().all(|(name, wanted)| {
            !wanted || r.stages.iter().any(|s| s.name == *name && s.summary != ttfs_flow::pipeline::NOT_ASKED)
        })
}

/// What [`run_some`] does with a configuration's earlier result.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Replace {
    /// Keeps it (the configuration is skipped).
    Nothing,
    /// Removes it just before the configuration runs again, so that a kill
    /// loses only the plans of the configurations running at that moment.
    Plan,
}

/// Runs `indices` of `spec`, `jobs` at a time, appending each result to
/// `results.jsonl` as it finishes; returns how many ran.
fn run_some(
    dir: &Path,
    spec: &Spec,
    indices: &[usize],
    jobs: usize,
    replace: Replace,
    progress: &(dyn Fn(&PointResult) + Sync),
) -> Result<usize> {
    let configs = spec.configs();
    let todo: Vec<&Config> = indices.iter().map(|&i| &configs[i]).collect();
    let results = Mutex::new(Vec::new());
    let lines = Mutex::new(
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(dir.join(RESULTS_FILE))
            .with_context(|| format!("cannot write {}", dir.join(RESULTS_FILE).display()))?,
    );
    let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs.max(1)).build().context("cannot start the workers")?;
    let errors: Mutex<Vec<String>> = Mutex::new(Vec::new());
    pool.scope(|scope| {
        for config in &todo {
            let (results, lines, errors) = (&results, &lines, &errors);
            scope.spawn(move |_| match replace_then_run(dir, spec, config, replace) {
                Ok(Some(result)) => {
                    let line = serde_json::to_string(&result).expect("a result serializes");
                    let mut file = lines.lock().expect("no worker panics holding the file");
                    if let Err(e) = writeln!(file, "{line}") {
                        errors.lock().expect("no panic").push(format!("cannot append to {RESULTS_FILE}: {e}"));
                    }
                    drop(file);
                    progress(&result);
                    results.lock().expect("no panic").push(result);
                }
                Ok(None) => {}
                Err(e) => errors.lock().expect("no panic").push(format!("configuration {}: {e:#}", config.index)),
            });
        }
    });
    let errors = errors.into_inner().expect("no panic");
    if !errors.is_empty() {
        bail!("the sweep could not record every configuration:\n{}", errors.join("\n"));
    }
    Ok(results.into_inner().expect("no panic").len())
}

/// Gathers every finished configuration's result into `results.jsonl`, in
/// index order, and returns them. A result file that does not parse (a
/// stranger's, or a disk that filled up) is an error naming it.
pub fn collect(dir: &Path, spec: &Spec) -> Result<Vec<PointResult>> {
    let mut results = Vec::new();
    for config in spec.configs() {
        let path = dir.join(POINTS_DIR).join(config.name()).join(RESULT_FILE);
        if !path.exists() {
            continue;
        }
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let result: PointResult =
            serde_json::from_str(&text).with_context(|| format!("{} is not a point's result", path.display()))?;
        if result.index != config.index || result.name != config.name() {
            bail!(
                "{} holds the result of configuration {} ({}), not {}",
                path.display(),
                result.index,
                result.name,
                config.index
            );
        }
        results.push(result);
    }
    let mut text = String::new();
    for r in &results {
        text += &serde_json::to_string(r)?;
        text.push('\n');
    }
    write_whole(&dir.join(RESULTS_FILE), &text)?;
    Ok(results)
}

/// Prepares DIR for `spec`: creates it and writes `sweep.json`; an existing
/// sweep with the same description is resumed. A directory holding
/// something else, or another sweep, is refused unless `force` (which
/// removes the other sweep's points and results first).
pub fn prepare(dir: &Path, spec: &Spec, force: bool) -> Result<()> {
    let spec_path = dir.join(SPEC_FILE);
    if spec_path.exists() {
        let same = Spec::read(dir).map(|old| old == *spec).unwrap_or(false);
        if !same {
            if !force {
                bail!(
                    "{} holds another sweep (its {SPEC_FILE} differs); pass --force to replace it, or choose another -o",
                    dir.display()
                );
            }
            for stale in [POINTS_DIR, RESULTS_FILE, SPEC_FILE] {
                let path = dir.join(stale);
                if path.is_dir() {
                    std::fs::remove_dir_all(&path).with_context(|| format!("cannot remove {}", path.display()))?;
                } else if path.exists() {
                    std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
                }
            }
        }
    } else if dir.exists()
        && std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?.next().is_some()
    {
        bail!("{} exists and holds no sweep; choose an empty or new directory with -o", dir.display());
    }
    std::fs::create_dir_all(dir.join(POINTS_DIR)).with_context(|| format!("cannot create {}", dir.display()))?;
    write_whole(&spec_path, &(serde_json::to_string_pretty(spec)? + "\n"))
}

/// Absolute form of a path given on the command line.
pub fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("cannot resolve {}", path.display()))
}
