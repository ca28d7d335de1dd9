//! `ttfs sweep` as a stage: a new sweep (or the rest of one), one
//! configuration (`run-one`), and `collect`, with the lines they print.

use crate::grid::{self, Axis};
use crate::report::{self, Constraints, Cost};
use crate::run::{self, PointResult, RunSummary};
use crate::spec::{FORMAT, Spec, VERSION};
use anyhow::{Context, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};
use ttfs_flow::pipeline::Stages;

/// A batch system to write the sweep for instead of running it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Emit {
    /// A Slurm job-array script, `DIR/sweep.sbatch`.
    Slurm,
    /// One command per configuration, `DIR/commands.txt`.
    List,
}

/// What `ttfs sweep` was asked.
pub struct Request {
    /// The model; `None`: the bundled digits MLP.
    pub model: Option<PathBuf>,
    /// Evaluation data.
    pub data: Option<PathBuf>,
    /// Evaluation labels.
    pub labels: Option<PathBuf>,
    /// Calibration data.
    pub calib: Option<PathBuf>,
    /// Use only the first N evaluation samples.
    pub count: Option<usize>,
    /// The stages after convert and sim.
    pub stages: Stages,
    /// The grid's `--grid` axes.
    pub grid: Vec<Axis>,
    /// A grid file whose axes come before `grid`'s ([`grid::from_toml`]).
    pub grid_file: Option<PathBuf>,
    /// Configurations at once.
    pub jobs: usize,
    /// Write for a batch system instead of running.
    pub emit: Option<Emit>,
    /// With `Emit::Slurm`: array tasks at once.
    pub parallel: usize,
    /// Replace another sweep in `output`.
    pub force: bool,
    /// The sweep's directory.
    pub output: PathBuf,
    /// The `ttfs` executable the emitted commands run.
    pub ttfs: PathBuf,
    /// What a point must meet to take part in the fronts.
    pub constraints: Constraints,
    /// Run the expensive stages only for configurations on a front
    /// ([`Spec::place_front`]).
    pub place_front: bool,
    /// With `place_front`: the fronts' accuracy resolution, in points (%).
    pub place_resolution: f64,
}

/// What a sweep did.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Ran here.
    Ran {
        /// Its directory.
        dir: PathBuf,
        /// The counts.
        summary: RunSummary,
        /// The constraints the fronts respect.
        constraints: Constraints,
        /// The Pareto front of accuracy against logic cells: configuration
        /// indices, cheapest first.
        front_logic_cells: Vec<usize>,
        /// The Pareto front of accuracy against µs per inference.
        front_microseconds: Vec<usize>,
    },
    /// Written for a batch system.
    Emitted {
        /// Configurations.
        configurations: usize,
        /// The file written.
        file: PathBuf,
    },
}

/// Starts (or resumes) a sweep. The grid and the directory are checked
/// before anything runs; `progress` hears about each finished configuration.
pub fn start(r: &Request, progress: &(dyn Fn(&PointResult) + Sync)) -> Result<Outcome> {
    let mut axes = match &r.grid_file {
        Some(path) => {
            let file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
            let mut text = String::new();
            std::io::Read::read_to_string(
                &mut std::io::Read::take(file, grid::MAX_GRID_FILE_BYTES as u64 + 1),
                &mut text,
            )
            .with_context(|| format!("cannot read {} (a grid file is UTF-8 TOML)", path.display()))?;
            grid::from_toml(&text, &path.display().to_string()).map_err(anyhow::Error::msg)?
        }
        None => Vec::new(),
    };
    axes.extend(r.grid.iter().cloned());
    let count = grid::check(&axes).map_err(anyhow::Error::msg)?;
    // Models in the grid: absolute (array tasks run elsewhere), and there.
    for axis in axes.iter_mut().filter(|a| a.key == grid::Key::Model) {
        for value in &mut axis.values {
            let path = PathBuf::from(&*value);
            if !path.is_file() {
                anyhow::bail!("--grid model={}: no such file", path.display());
            }
            *value = run::absolute(&path)?.display().to_string();
        }
        if let Some(twice) = axis.values.iter().enumerate().find(|(i, v)| axis.values[..*i].contains(v)) {
            anyhow::bail!("--grid model: {} is given twice", twice.1);
        }
    }
    let models_in_grid = axes.iter().any(|a| a.key == grid::Key::Model);
    if models_in_grid && r.model.is_some() {
        anyhow::bail!("the model is given twice: as MODEL and in --grid model=...; give it in one place");
    }
    if (r.model.is_some() || models_in_grid) && (r.data.is_none() || r.calib.is_none()) {
        anyhow::bail!("with a model, --data and --calib are required (as for ttfs flow)");
    }
    let abs = |p: &Option<PathBuf>| p.as_deref().map(run::absolute).transpose();
    let spec = Spec {
        format: FORMAT.into(),
        version: VERSION,
        model: abs(&r.model)?,
        data: abs(&r.data)?,
        labels: abs(&r.labels)?,
        calib: abs(&r.calib)?,
        count: r.count,
        stages: r.stages,
        grid: axes,
        place_front: r.place_front,
        place_resolution: r.place_resolution,
    };
    let dir = run::absolute(&r.output)?;
    if r.emit.is_some() && r.place_front {
        anyhow::bail!(
            "--place-front decides on this machine which configurations to place; for a batch system, emit a sweep \
             with --stages generate, then one with the expensive stages over the configurations you pick"
        );
    }
    if r.emit.is_some() {
        // A script's comment and #SBATCH lines end at a line break, quoted or not.
        for path in [&dir, &r.ttfs] {
            if path.to_string_lossy().chars().any(char::is_control) {
                anyhow::bail!("{} has a control character in its name; a batch script cannot name it", path.display());
            }
        }
    }
    run::prepare(&dir, &spec, r.force)?;
    if let Some(emit) = r.emit {
        let (name, text) = match emit {
            Emit::Slurm => ("sweep.sbatch", crate::emit::slurm(&r.ttfs, &dir, &spec, r.parallel)),
            Emit::List => ("commands.txt", crate::emit::list(&r.ttfs, &dir, &spec)),
        };
        if emit == Emit::Slurm {
            // sbatch writes the tasks' output there and does not create it.
            let logs = dir.join("slurm");
            std::fs::create_dir_all(&logs).with_context(|| format!("cannot create {}", logs.display()))?;
        }
        let file = dir.join(name);
        std::fs::write(&file, text).with_context(|| format!("cannot write {}", file.display()))?;
        return Ok(Outcome::Emitted { configurations: count, file });
    }
    let constraints = r.constraints;
    let resolution = spec.place_resolution / 100.0;
    let on_a_front = move |all: &[PointResult]| report::fronts_per_target(all, &constraints, resolution);
    let (summary, results) = run::run_all(&dir, &spec, r.jobs, &on_a_front, progress)?;
    write_report(&dir, &spec, &results, &r.constraints)?;
    Ok(Outcome::Ran {
        dir,
        summary,
        constraints: r.constraints,
        front_logic_cells: report::front(&results, Cost::LogicCells, &r.constraints),
        front_microseconds: report::front(&results, Cost::Microseconds, &r.constraints),
    })
}

/// Writes `DIR/report.html` for `results`.
fn write_report(dir: &Path, spec: &Spec, results: &[PointResult], constraints: &Constraints) -> Result<()> {
    let model = spec.model.as_deref().and_then(Path::file_name);
    let models = spec.grid.iter().find(|a| a.key == grid::Key::Model).map_or(0, |a| a.values.len());
    let title = match model {
        _ if models > 0 => format!("Sweep of {models} models"),
        Some(name) => format!("Sweep of {}", name.to_string_lossy()),
        None => "Sweep of the bundled digits MLP".into(),
    };
    run::write_whole(&dir.join(report::REPORT_FILE), &report::html(&title, spec.configs().len(), results, constraints))
}

/// The outcome for people.
pub fn render(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Emitted { configurations, file } => {
            format!("{configurations} configurations: wrote {}\n", file.display())
        }
        Outcome::Ran { dir, summary: s, constraints, front_logic_cells, front_microseconds } => format!(
            "{} configurations: {} run now, {} done before, {} failed, {:.1} s; results in {}, the Pareto fronts in {}\n{}",
            s.configurations,
            s.ran,
            s.skipped,
            s.failed,
            s.seconds,
            dir.join(run::RESULTS_FILE).display(),
            dir.join(report::REPORT_FILE).display(),
            fronts(constraints, front_logic_cells, front_microseconds)
        ),
    }
}

/// The fronts' lines, after the constraints they respect.
fn fronts(constraints: &Constraints, logic_cells: &[usize], microseconds: &[usize]) -> String {
    let mut text = String::new();
    if constraints.any() {
        text += &format!("constraints: {}\n", constraints.describe());
    }
    text + &format!(
        "front, accuracy against logic cells: {logic_cells:?}\nfront, accuracy against µs per inference: {microseconds:?}\n"
    )
}

/// `ttfs sweep run-one DIR K`: what it prints.
pub fn run_one(dir: &Path, index: usize) -> Result<String> {
    let spec = Spec::read(dir)?;
    Ok(match run::run_one(dir, &spec, index)? {
        Some(r) => line(&r),
        None => format!("configuration {index} is done already\n"),
    })
}

/// `ttfs sweep collect DIR`: what it prints. The report is written again
/// with `constraints` (so the fronts can be narrowed without running
/// anything).
pub fn collect(dir: &Path, constraints: &Constraints) -> Result<String> {
    let spec = Spec::read(dir)?;
    let results = run::collect(dir, &spec)?;
    write_report(dir, &spec, &results, constraints)?;
    let failed = results.iter().filter(|r| r.status != "ok").count();
    let mut text = format!(
        "{} of {} configurations finished ({failed} failed): {}\n",
        results.len(),
        spec.configs().len(),
        dir.join(run::RESULTS_FILE).display()
    );
    text += &fronts(
        constraints,
        &report::front(&results, Cost::LogicCells, constraints),
        &report::front(&results, Cost::Microseconds, constraints),
    );
    for (cost, what) in [(Cost::LogicCells, "fewest logic cells"), (Cost::Microseconds, "fastest")] {
        if let Some(best) =
            report::cheapest(&results, cost, constraints).and_then(|i| results.iter().find(|r| r.index == i))
        {
            text += &format!("{what}: {}", line(best));
        }
    }
    Ok(text)
}

/// One finished configuration, for the terminal.
pub fn line(r: &PointResult) -> String {
    let f = &r.figures;
    let pct = |v: Option<f64>| v.map_or("-".into(), |v| format!("{:.2} %", 100.0 * v));
    let mut text = format!("[{}] {} {}: accuracy {}", r.index, r.name, r.status, pct(f.accuracy_discrete));
    match (f.logic_cells, f.estimated_logic_cells) {
        (Some(lc), _) => text += &format!(", {lc} logic cells"),
        (None, Some(lc)) => text += &format!(", {lc} logic cells (plan)"),
        (None, None) => {}
    }
    match (f.latency_us, f.model_latency_us) {
        (Some(us), _) => text += &format!(", {us:.2} µs"),
        (None, Some(us)) => text += &format!(", {us:.2} µs (plan)"),
        (None, None) => {}
    }
    if let Some(e) = &r.error {
        text += &format!(" ({})", e.lines().next().unwrap_or_default());
    }
    text + "\n"
}
