//! The flow (`ttfs flow`): the whole pipeline on one model, convert → sim → generate →
//! cosim → synth, with a progress bar, a summary table, and a report in DIR
//! (`report.md`, a self-contained `report.html` with plots, `flow.json`).
//! With no model it runs on the bundled digits MLP (skl2onnx) and the digits
//! test set, so a newcomer sees every stage work from one command.
//!
//! A stage that needs a tool that is not installed (Verilator for cosim,
//! Yosys and nextpnr for synth) is skipped with the command that installs
//! it; every other failure stops the flow with its error.

use crate::report::{
    self, Confusion, Figure, HardwareLayer, LayerSpikes, Raster, RasterLayer, Resource, Stage, StageStatus,
};
use crate::sim_stage as sim_cmd;
use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use ttfs_convert::Options;
use ttfs_convert::stage as convert_cmd;
use ttfs_cosim::stage as cosim_cmd;
use ttfs_hw::cycles::SpikeCounts;
use ttfs_hw::planner::PlanError;
use ttfs_hw::stage as generate_cmd;
use ttfs_hw::target::Target;
use ttfs_sim::Prepared;
use ttfs_synth::stage as synth_cmd;
use ttfs_synth::{Cycles, SynthReport};
use ttfs_tools::ToolError;

/// The bundled default model and data (the digits set is small enough to
/// ship inside the binary, so `ttfs flow` works from any directory).
const DIGITS_MODEL: &[u8] = include_bytes!("../../../tests/fixtures/digits_mlp.onnx");
const DIGITS_TRAIN: &[u8] = include_bytes!("../../../tests/fixtures/digits/train_images.csv.gz");
const DIGITS_TEST: &[u8] = include_bytes!("../../../tests/fixtures/digits/test_images.csv.gz");
const DIGITS_TEST_LABELS: &[u8] = include_bytes!("../../../tests/fixtures/digits/test_labels.csv.gz");

/// A file in DIR that marks it as written by `ttfs flow` (so re-running may
/// replace what it wrote, and nothing else).
const MARKER: &str = ".ttfs-flow";

/// A stage's summary when `--stages` left it out.
pub const NOT_ASKED: &str = "not asked for (--stages)";

/// The stages, in order.
const STAGES: [&str; 5] = ["convert", "sim", "generate", "cosim", "synth"];

/// The stages after convert and sim that a flow runs (`--stages`): each
/// one left out is reported as skipped, "not asked for". Co-simulation and
/// synthesis need the generated design.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Stages {
    /// Generate the design.
    pub generate: bool,
    /// Co-simulate it with the reference.
    pub cosim: bool,
    /// Synthesize, place and route it.
    pub synth: bool,
}

impl Stages {
    /// Every stage.
    pub const ALL: Stages = Stages { generate: true, cosim: true, synth: true };

    /// Parses a list such as `sim,generate,cosim` (`convert` and `sim`
    /// always run and may be named; `all` is every stage). Refuses an
    /// unknown stage, and cosim or synth without generate, naming them.
    pub fn parse(list: &str) -> std::result::Result<Stages, String> {
        let mut stages = Stages { generate: false, cosim: false, synth: false };
        for name in list.split(',').map(str::trim) {
            match name {
                "convert" | "sim" => {}
                "generate" => stages.generate = true,
                "cosim" => stages.cosim = true,
                "synth" => stages.synth = true,
                "all" => stages = Stages::ALL,
                other => {
                    return Err(format!(
                        "`{}` is not a stage: the stages are convert, sim, generate, cosim and synth (or all)",
                        other.escape_debug()
                    ));
                }
            }
        }
        if (stages.cosim || stages.synth) && !stages.generate {
            return Err("cosim and synth run on the generated design: add generate to the stages".into());
        }
        Ok(stages)
    }

    /// The list [`Self::parse`] reads back.
    pub fn names(&self) -> String {
        let mut names = vec!["convert", "sim"];
        for (on, name) in [(self.generate, "generate"), (self.cosim, "cosim"), (self.synth, "synth")] {
            if on {
                names.push(name);
            }
        }
        names.join(",")
    }
}

/// Arguments of `ttfs flow`.
pub struct Args {
    /// Model; `None` uses the bundled digits MLP.
    pub model: Option<PathBuf>,
    /// Calibration data: required with a model (the bundled model uses its training split).
    pub calib: Option<PathBuf>,
    /// Evaluation data.
    pub data: Option<PathBuf>,
    /// Evaluation labels.
    pub labels: Option<PathBuf>,
    /// Output directory.
    pub output: PathBuf,
    /// Conversion options.
    pub options: Options,
    /// Target device (default: the HX8K for the bundled digits MLP, the UP5K otherwise).
    pub target: Option<Target>,
    /// How to choose the lanes.
    pub lanes: ttfs_hw::planner::Lanes,
    /// nextpnr's seed.
    pub seed: u64,
    /// Use only the first N evaluation samples (sim, cosim, the cycle model).
    pub count: Option<usize>,
    /// The clock to ask synthesis for, MHz (default: the board's PLL clock).
    pub freq_mhz: Option<f64>,
    /// Make any warning of the simulators (accuracy lost to the integer
    /// arithmetic, data off the calibrated ranges) fail the flow.
    pub strict: bool,
    /// Run the sim stage's literal simulators on every sample, not only on
    /// the checked subset (`ttfs sim --exhaustive`).
    pub exhaustive: bool,
    /// The board wrapper's UART speed, baud.
    pub baud: u32,
    /// The stages to run after convert and sim.
    pub stages: Stages,
    /// Show a progress bar (on a terminal).
    pub progress: bool,
}

/// Everything the flow measured (`flow.json`).
#[derive(Clone, Debug, Serialize)]
pub struct FlowResult {
    /// The report's content (stages, figures, plots' data).
    pub report: report::Report,
    /// The simulators' report.
    pub sim: Option<ttfs_sim::eval::Report>,
    /// The co-simulation's report.
    pub cosim: Option<cosim_cmd::Report>,
    /// The synthesis report.
    pub synth: Option<SynthReport>,
}

/// Prepares DIR: creates it, or accepts it when empty or written by an earlier flow.
/// Refuses an output directory that holds something `ttfs flow` did not
/// write (an empty one, or an earlier flow's, may be replaced).
fn check_output(dir: &Path) -> Result<()> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?.next().is_none();
        if !empty && !dir.join(MARKER).exists() {
            anyhow::bail!(
                "{} exists and was not written by `ttfs flow`; choose another directory with -o",
                dir.display()
            );
        }
    }
    Ok(())
}

/// Puts the finished `staged` directory at `dir`, replacing an earlier
/// flow's directory whole (never merging old files with new ones).
fn install(staged: &Path, dir: &Path, parent: &Path) -> Result<()> {
    let cannot = || format!("cannot move the results into {}", dir.display());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // A temporary directory is private (0700); results are ordinary files.
        std::fs::set_permissions(staged, std::fs::Permissions::from_mode(0o755)).with_context(cannot)?;
    }
    if dir.exists() {
        let old = tempfile::Builder::new().prefix(".ttfs-flow-old-").tempdir_in(parent).with_context(cannot)?;
        let previous = old.path().join("previous");
        std::fs::rename(dir, &previous).with_context(cannot)?;
        if let Err(e) = std::fs::rename(staged, dir) {
            // Put the earlier results back rather than lose them with `old`.
            let _ = std::fs::rename(&previous, dir);
            return Err(e).with_context(cannot);
        }
        // `old` and the earlier results in it are removed here.
    } else {
        std::fs::rename(staged, dir).with_context(cannot)?;
    }
    Ok(())
}

fn unpack(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// The missing tool behind an error, if that is what it is.
fn missing_tool(e: &anyhow::Error) -> Option<String> {
    e.chain().find_map(|c| match c.downcast_ref::<ToolError>() {
        Some(missing @ ToolError::Missing { .. }) => Some(missing.to_string()),
        _ => c.downcast_ref::<ttfs_synth::SynthError>().and_then(|s| match s {
            ttfs_synth::SynthError::Tool(missing @ ToolError::Missing { .. }) => Some(missing.to_string()),
            _ => None,
        }),
    })
}

/// The progress display: one bar over the stages, its message the step.
struct Progress {
    bar: ProgressBar,
    log: Vec<Stage>,
    started: Instant,
}

impl Progress {
    fn new(show: bool) -> Progress {
        let bar = if show { ProgressBar::new(STAGES.len() as u64) } else { ProgressBar::hidden() };
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:25} {pos}/{len} {prefix:>8}: {wide_msg}")
                .expect("a valid progress template"),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress { bar, log: Vec::new(), started: Instant::now() }
    }

    fn start(&mut self, stage: &str) {
        self.bar.set_prefix(stage.to_string());
        self.bar.set_message("");
        self.started = Instant::now();
    }

    fn step(&self, what: &str) {
        self.bar.set_message(what.to_string());
    }

    fn finish(&mut self, stage: &str, status: StageStatus, summary: String) {
        let seconds = self.started.elapsed().as_secs_f64();
        self.bar.println(format!("{stage:>8}: {} ({seconds:.1} s) {summary}", status_word(status)));
        self.log.push(Stage { name: stage.into(), status, seconds, summary });
        self.bar.inc(1);
    }
}

/// The status for the terminal: a failure stands out.
fn status_word(status: StageStatus) -> &'static str {
    if status == StageStatus::Failed { "FAILED" } else { status.as_str() }
}

/// Runs the pipeline, writes the report, and returns the summary to print.
///
/// Everything is written into a staging directory beside `args.output`
/// that replaces it whole once the flow has run to the end (with every
/// stage ok, skipped or FAILED): an error part way leaves an earlier
/// flow's results as they were and no half-written directory.
pub fn run(args: &Args) -> Result<String> {
    check_output(&args.output)?;
    let parent = args.output.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(".ttfs-flow-")
        .tempdir_in(parent)
        .with_context(|| format!("cannot write in {}", parent.display()))?;
    let outcome = run_in(args, staging.path());
    match &outcome {
        Ok(_) => {}
        Err(e) if e.is::<FlowFailed>() => {}
        // The staging directory is removed when `staging` drops.
        Err(_) => return outcome,
    }
    // On failure `staging` drops and takes the new results with it; on
    // success its path is gone (moved to `args.output`).
    install(staging.path(), &args.output, parent)?;
    let _ = staging.keep();
    outcome
}

/// Whether `path` holds a network description (`ttfs-net` JSON, as
/// `convert`, `train` and `finetune` write) rather than a model: a `.json`
/// file whose top-level `format` is [`ttfs_ir::FORMAT`]. Read as a stream
/// that keeps only that field, so a large model costs no memory here.
pub fn is_description(path: &Path) -> bool {
    #[derive(serde::Deserialize)]
    struct Peek {
        format: Option<String>,
    }
    if !path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
        return false;
    }
    let Ok(file) = std::fs::File::open(path) else { return false };
    serde_json::from_reader::<_, Peek>(std::io::BufReader::new(file))
        .is_ok_and(|p| p.format.as_deref() == Some(ttfs_ir::FORMAT))
}

/// The pipeline, writing into `dir` (the staging directory); paths in what
/// it reports name `args.output`, where the results will be.
fn run_in(args: &Args, dir: &Path) -> Result<String> {
    std::fs::write(dir.join(MARKER), "written by ttfs flow\n")
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    let (model, calib, data, labels) = match &args.model {
        Some(model) => {
            let data = args.data.clone().context("--data is required with a model")?;
            let calib = args.calib.clone().context(
                "--calib is required with a model: give representative training data for the time windows \
                 (the evaluation data --data would tune the windows on the test set)",
            )?;
            (model.clone(), calib, data, args.labels.clone())
        }
        None => {
            let bundled = dir.join("bundled");
            std::fs::create_dir_all(&bundled)?;
            (
                unpack(&bundled, "digits_mlp.onnx", DIGITS_MODEL)?,
                unpack(&bundled, "digits_train_images.csv.gz", DIGITS_TRAIN)?,
                unpack(&bundled, "digits_test_images.csv.gz", DIGITS_TEST)?,
                Some(unpack(&bundled, "digits_test_labels.csv.gz", DIGITS_TEST_LABELS)?),
            )
        }
    };
    let target = args.target.unwrap_or(if args.model.is_none() { Target::Ice40Hx8k } else { Target::Ice40Up5k });
    let mut p = Progress::new(args.progress);
    let mut notes = Vec::new();

    p.start("convert");
    let network = dir.join("net.json");
    let text = if is_description(&model) {
        // A converted (or trained, or fine-tuned) description keeps its
        // float weights and time windows; it is quantized again at the
        // flow's bits, as `ttfs passes run NET --from quantize` does.
        let text = convert_cmd::rerun(&convert_cmd::RerunArgs {
            network: model.clone(),
            from: "quantize".into(),
            calib: Some(calib),
            calib_count: None,
            options: args.options.clone(),
            output: network.clone(),
            force: true,
        })?;
        notes.push(format!(
            "{} is a network description: its time windows were kept (--margin does not apply) and it was \
             quantized at the flow's weight and time bits.",
            model.display()
        ));
        text
    } else {
        convert_cmd::run(&convert_cmd::Args {
            model: model.clone(),
            calib,
            calib_count: None,
            output: network.clone(),
            options: args.options.clone(),
            dump_after: Vec::new(),
            force: true,
        })?
    };
    p.finish("convert", StageStatus::Ok, first_line(&text));

    p.start("sim");
    let sim = sim_cmd::run(&sim_cmd::Args {
        network: network.clone(),
        data: data.clone(),
        labels: labels.clone(),
        count: args.count,
        exhaustive: args.exhaustive,
    })?;
    std::fs::write(dir.join("sim.json"), serde_json::to_string_pretty(&sim)? + "\n")?;
    let warnings = sim_cmd::warnings(&sim);
    notes.extend(warnings.iter().map(|w| format!("Warning: {w}.")));
    let mut sim_line = format!(
        "{} samples, accuracy ReLU {} / continuous {} / discrete {}",
        sim.samples,
        percent(sim.accuracy_relu),
        percent(sim.accuracy_continuous),
        percent(sim.accuracy_discrete)
    );
    // --strict: a warning fails the stage (the later stages still run and
    // report, and the flow exits non-zero).
    let status = if args.strict && !warnings.is_empty() {
        sim_line += &format!("; --strict: {} warning(s), see the notes", warnings.len());
        StageStatus::Failed
    } else {
        StageStatus::Ok
    };
    p.finish("sim", status, sim_line);

    p.start("generate");
    let hw = dir.join("hw");
    let generated = if args.stages.generate {
        generate(args, &mut p, &network, &hw, target, &data)?
    } else {
        p.finish("generate", StageStatus::Skipped, NOT_ASKED.into());
        false
    };

    let mut cosim = None;
    p.start("cosim");
    if generated && !args.stages.cosim {
        p.finish("cosim", StageStatus::Skipped, NOT_ASKED.into());
    } else if generated {
        p.step("verilating and running every sample");
        let result = cosim_cmd::run(&cosim_cmd::Args {
            input: hw.clone(),
            data: data.clone(),
            labels: labels.clone(),
            count: args.count,
            lanes: ttfs_hw::planner::Lanes::Fixed(Vec::new()),
            target,
            simulator: cosim_cmd::Simulator::Verilator,
            load: cosim_cmd::WeightLoad::Loader,
            trace: None,
            trace_sample: 0,
            trust_design: false,
        });
        match result {
            Ok(r) => {
                std::fs::write(dir.join("cosim.json"), serde_json::to_string_pretty(&r)? + "\n")?;
                let bad = r.mismatched_spikes + r.mismatched_outputs + r.comparison.cycle_model_mismatches;
                let status = if bad == 0 { StageStatus::Ok } else { StageStatus::Failed };
                p.finish(
                    "cosim",
                    status,
                    format!(
                        "{} samples, {} spikes and {} outputs mismatched, {:.1} cycles per inference",
                        r.samples, r.mismatched_spikes, r.mismatched_outputs, r.cycles_per_inference
                    ),
                );
                if bad > 0 {
                    notes.push(format!(
                        "The hardware differs from the reference: {} spikes, {} outputs, {} cycle counts (see cosim.json).",
                        r.mismatched_spikes, r.mismatched_outputs, r.comparison.cycle_model_mismatches
                    ));
                }
                cosim = Some(r);
            }
            Err(e) => match missing_tool(&e) {
                Some(why) => {
                    notes.push(format!("Co-simulation skipped: {why}."));
                    p.finish("cosim", StageStatus::Skipped, why);
                }
                None => return Err(e.context("co-simulation failed")),
            },
        }
    } else {
        p.finish("cosim", StageStatus::Skipped, "no hardware".into());
    }

    let mut synth = None;
    p.start("synth");
    if generated && !args.stages.synth {
        p.finish("synth", StageStatus::Skipped, NOT_ASKED.into());
    } else if generated {
        let cycles = cosim.as_ref().map(|r| Cycles {
            mean: r.cycles_per_inference,
            worst_case: r.comparison.model_cycles_worst_case,
            interval: r.initiation_interval,
            source: format!("co-simulation, mean over {} samples", r.samples),
        });
        let args_synth = synth_cmd::Args {
            dir: hw.clone(),
            device: Some(target),
            freq_mhz: args.freq_mhz,
            seed: args.seed,
            data: Some(data.clone()),
            count: args.count,
            cycles,
        };
        match synth_cmd::run(&args_synth, &mut |step| p.step(step)) {
            Ok(r) => {
                std::fs::write(dir.join("synth.json"), serde_json::to_string_pretty(&r)? + "\n")?;
                let status = if r.timing_met && r.fits { StageStatus::Ok } else { StageStatus::Failed };
                p.finish(
                    "synth",
                    status,
                    format!(
                        "{} / {} logic cells, Fmax {:.1} MHz, clock {} MHz, {:.2} µs per inference",
                        r.lc, r.lc_available, r.fmax_mhz, r.clock_mhz, r.latency_us
                    ),
                );
                if let Some(why) = r.timing_problem() {
                    notes.push(format!("Timing is not met: {why}."));
                }
                synth = Some(r);
            }
            Err(e) => match missing_tool(&e) {
                Some(why) => {
                    notes.push(format!("Synthesis skipped: {why}."));
                    p.finish("synth", StageStatus::Skipped, why);
                }
                // Too big after packing: the stage FAILS, the reports are
                // still written (as for a plan that does not fit).
                None if e
                    .chain()
                    .any(|c| matches!(c.downcast_ref(), Some(ttfs_synth::SynthError::DoesNotFit { .. }))) =>
                {
                    p.finish("synth", StageStatus::Failed, format!("{:#}", e.root_cause()));
                }
                None => {
                    p.bar.finish_and_clear();
                    return Err(e);
                }
            },
        }
    } else {
        p.finish("synth", StageStatus::Skipped, "no hardware".into());
    }
    p.bar.finish_and_clear();

    // Stage lines and notes name the files where they will be.
    let (staged, shown) = (dir.display().to_string(), args.output.display().to_string());
    for stage in &mut p.log {
        stage.summary = stage.summary.replace(&staged, &shown);
    }
    for note in &mut notes {
        *note = note.replace(&staged, &shown);
    }
    let net = ttfs_ir::load(&network)?;
    let codes = generate_cmd::input_codes(&net, &data, args.count)?;
    let model = Prepared::new(&net);
    let inputs: usize = net.input.shape.iter().product();
    let counts = ttfs_hw::cycles::counts(&model, inputs, &codes);
    let samples = codes.len() / inputs.max(1);
    let all_labels =
        labels.as_ref().and_then(|l| ttfs_data::load_labels_for(l, &data, samples, None, net.classes()).ok());
    let title = format!("{} on the {}", net.name, target);
    let report = report::Report {
        title,
        generator: format!("ttfs-hdl {}", env!("CARGO_PKG_VERSION")),
        stages: p.log,
        figures: figures(&sim, cosim.as_ref(), synth.as_ref()),
        layers: layer_spikes(&net, &counts),
        raster: raster(&net, &codes, all_labels.as_ref().and_then(|l| l.first().copied())),
        resources: synth.as_ref().map(resources).unwrap_or_default(),
        hardware: if generated { hardware_layers(&dir.join("hw"), target, &counts)? } else { Vec::new() },
        confusion: all_labels.map(|l| confusion(&model, &codes, &l, net.classes())),
        bring_up: if generated { ttfs_hw::subject::bring_up(&dir.join("hw"))? } else { None },
        notes,
    };
    std::fs::write(dir.join("report.md"), report::markdown(&report))?;
    std::fs::write(dir.join("report.html"), report::html(&report))?;
    let result = FlowResult { report, sim: Some(sim), cosim, synth };
    std::fs::write(dir.join("flow.json"), serde_json::to_string_pretty(&result)? + "\n")?;
    let text = summary(&result, &args.output);
    let failed: Vec<String> = result
        .report
        .stages
        .iter()
        .filter(|s| s.status == StageStatus::Failed)
        .map(|s| format!("{}: {}", s.name, s.summary))
        .collect();
    if failed.is_empty() { Ok(text) } else { Err(FlowFailed { summary: text, failed }.into()) }
}

/// The generate stage: whether there is a design. A network the generator
/// does not build yet, or a design that does not fit, finishes the stage
/// (skipped, or FAILED) and the flow goes on without hardware.
fn generate(args: &Args, p: &mut Progress, network: &Path, hw: &Path, target: Target, data: &Path) -> Result<bool> {
    let generated = generate_cmd::run(&generate_cmd::Args {
        network: network.to_path_buf(),
        output: hw.to_path_buf(),
        target,
        lanes: args.lanes.clone(),
        calib: Some(data.to_path_buf()),
        calib_count: args.count,
        force: true,
        requantize: Some(ttfs_convert::stage::requantize_weights),
        baud: args.baud,
    });
    Ok(match generated {
        Ok(text) => {
            p.finish("generate", StageStatus::Ok, first_line(&text));
            true
        }
        // A network the generator does not build yet still gets its
        // conversion and simulation; say why the hardware is missing.
        Err(e) if e.chain().any(|c| matches!(c.downcast_ref::<PlanError>(), Some(PlanError::Unsupported(_)))) => {
            p.finish("generate", StageStatus::Skipped, format!("{e:#}"));
            false
        }
        // A design that does not fit FAILS the stage; the reports are still
        // written, with the refusal's numbers and the commands that fit
        // (their paths name DIR, where net.json will be).
        Err(e) if e.chain().any(|c| matches!(c.downcast_ref::<PlanError>(), Some(PlanError::DoesNotFit { .. }))) => {
            p.finish("generate", StageStatus::Failed, format!("{e:#}"));
            false
        }
        Err(e) => return Err(e),
    })
}

/// A flow that ran to the end with a stage that FAILED (spikes that differ
/// from the reference, a design that misses timing or does not fit): the
/// reports are written, and the command must still exit non-zero.
#[derive(Debug, thiserror::Error)]
#[error("flow FAILED at {}", failed.join("; "))]
pub struct FlowFailed {
    /// The summary table, as printed after a successful flow.
    pub summary: String,
    /// Each failed stage with its one-line reason.
    pub failed: Vec<String>,
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("").trim().to_string()
}

fn percent(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| format!("{:.2} %", 100.0 * v))
}

/// The key figures, in the order a reader asks for them.
fn figures(
    sim: &ttfs_sim::eval::Report,
    cosim: Option<&cosim_cmd::Report>,
    synth: Option<&SynthReport>,
) -> Vec<Figure> {
    fn add(f: &mut Vec<Figure>, name: &str, value: String, numbers: Vec<f64>, unit: &str, note: &str) {
        f.push(Figure { name: name.into(), value, numbers, unit: unit.into(), note: note.into() });
    }
    /// An accuracy: shown as a percentage, kept as a fraction.
    fn accuracy(f: &mut Vec<Figure>, name: &str, v: Option<f64>, note: &str) {
        add(f, name, percent(v), v.into_iter().collect(), "fraction", note);
    }
    let mut f = Vec::new();
    add(&mut f, "samples", sim.samples.to_string(), vec![sim.samples as f64], "", "");
    accuracy(&mut f, "accuracy, ReLU network", sim.accuracy_relu, "");
    accuracy(&mut f, "accuracy, continuous TTFS", sim.accuracy_continuous, "");
    accuracy(&mut f, "accuracy, discrete TTFS", sim.accuracy_discrete, "the hardware's arithmetic");
    add(
        &mut f,
        "max relative logit error",
        format!("{:.1e}", sim.max_rel_error_continuous),
        vec![sim.max_rel_error_continuous],
        "",
        "continuous TTFS against ReLU",
    );
    if let Some(s) = sim.spikes_per_neuron {
        add(&mut f, "spikes per hidden neuron", format!("{s:.3}"), vec![s], "", "mean per inference");
    }
    if let Some(c) = cosim {
        accuracy(&mut f, "accuracy, hardware (Verilator)", c.accuracy, "");
        add(
            &mut f,
            "mismatched spikes / outputs",
            format!("{} / {}", c.mismatched_spikes, c.mismatched_outputs),
            vec![c.mismatched_spikes as f64, c.mismatched_outputs as f64],
            "",
            "every hidden spike's tick, every logit",
        );
        add(
            &mut f,
            "cycles per inference",
            format!("{:.1}", c.cycles_per_inference),
            vec![c.cycles_per_inference],
            "cycles",
            &format!("measured; the cycle model says {:.1}", c.model_cycles_per_inference),
        );
        add(
            &mut f,
            "cycles between results, streaming",
            format!("{:.1}", c.initiation_interval),
            vec![c.initiation_interval],
            "cycles",
            "",
        );
    }
    if let Some(s) = synth {
        add(
            &mut f,
            logic_name(s),
            format!("{} / {}", s.lc, s.lc_available),
            vec![s.lc as f64, s.lc_available as f64],
            "",
            &format!("estimate {}", s.estimate.logic_cells),
        );
        add(
            &mut f,
            "block RAM / SPRAM / DSP",
            format!("{} / {} / {}", s.bram, s.spram, s.dsp),
            vec![s.bram as f64, s.spram as f64, s.dsp as f64],
            "",
            "",
        );
        add(
            &mut f,
            "Fmax (post-route)",
            format!("{:.2} MHz", s.fmax_mhz),
            vec![s.fmax_mhz],
            "MHz",
            &format!("nextpnr seed {}", s.seed),
        );
        add(&mut f, "clock", format!("{} MHz", s.clock_mhz), vec![s.clock_mhz], "MHz", "the board PLL's output");
        add(
            &mut f,
            "latency",
            format!("{:.2} µs", s.latency_us),
            vec![s.latency_us],
            "µs",
            &format!("mean; worst case {:.2} µs", s.latency_worst_case_us),
        );
        if s.inferences_per_second > 0.0 {
            add(
                &mut f,
                "µs per inference, streaming",
                format!("{:.2} µs", 1e6 / s.inferences_per_second),
                vec![1e6 / s.inferences_per_second],
                "µs",
                "images back to back",
            );
        }
        add(
            &mut f,
            "inferences per second",
            format!("{:.0}", s.inferences_per_second),
            vec![s.inferences_per_second],
            "1/s",
            "the accelerator alone, images back to back",
        );
        add(
            &mut f,
            "images per second over the UART",
            format!("{:.1}", s.uart_images_per_second),
            vec![s.uart_images_per_second],
            "1/s",
            &format!("the board, one image at a time at {} baud (`ttfs run` measures it)", s.baud),
        );
    }
    f
}

/// Mean and largest spike counts per layer (the input's events first).
fn layer_spikes(net: &ttfs_ir::Network, counts: &[SpikeCounts]) -> Vec<LayerSpikes> {
    let inputs: usize = net.input.shape.iter().product();
    let n = counts.len().max(1) as f64;
    let mut layers = vec![LayerSpikes {
        name: "input".into(),
        neurons: inputs,
        mean_spikes: counts.iter().map(|c| c.input_events as f64).sum::<f64>() / n,
        max_spikes: counts.iter().map(|c| c.input_events as usize).max().unwrap_or(0),
    }];
    // The hidden layer blocks: dense layers, and convolutions with their
    // fused pools (whose spikes are the pool's).
    let shapes = net.shapes();
    let blocks = ttfs_hw::layers::hw_layers(net).unwrap_or_default();
    let hidden = blocks.iter().take(blocks.len().saturating_sub(1));
    for (k, b) in hidden.enumerate() {
        layers.push(LayerSpikes {
            name: net.layers[b.weights].name().to_string(),
            neurons: shapes[b.emits + 1].len(),
            mean_spikes: counts.iter().map(|c| c.hidden_events[k] as f64).sum::<f64>() / n,
            max_spikes: counts.iter().map(|c| c.hidden_events[k] as usize).max().unwrap_or(0),
        });
    }
    layers
}

/// Each layer of the design in `hw` (as its manifest planned it), with its
/// mean busy cycles on the samples of `counts` and its logic estimate.
fn hardware_layers(hw: &Path, target: Target, counts: &[SpikeCounts]) -> Result<Vec<HardwareLayer>> {
    let subject = ttfs_hw::subject::subject(hw, target, &ttfs_hw::planner::Lanes::Fixed(Vec::new()))?;
    let plan = &subject.plan;
    let stats = (!counts.is_empty()).then(|| ttfs_hw::cycles::stats_of(plan, "", counts));
    let estimate = ttfs_hw::estimate::estimate(plan);
    Ok(plan
        .layers
        .iter()
        .enumerate()
        .map(|(k, l)| HardwareLayer {
            name: l.name.clone(),
            inputs: l.inputs,
            outputs: l.outputs,
            weight_bits: l.weight_bits,
            time_bits: l.output_value_bits,
            potential_bits: l.potential_bits,
            lanes: l.lanes,
            blocks: l.blocks,
            weights_in: match l.weight_store {
                ttfs_hw::plan::WeightStore::BlockRam => "block RAM".into(),
                ttfs_hw::plan::WeightStore::Spram => "SPRAM".into(),
                ttfs_hw::plan::WeightStore::RomMacro => "ROM macro".into(),
            },
            cycles_mean: stats.as_ref().map(|s| s.stage_mean[k + 1]),
            cycles_worst: l.worst_case_cycles(),
            logic_cells_estimate: estimate.parts.get(k).map_or(0, |(_, cells)| *cells),
        })
        .collect())
}

/// Label against the integer network's class (the hardware's, which the
/// co-simulation checks sample by sample).
fn confusion(model: &Prepared, codes: &[i64], labels: &[usize], classes: usize) -> Confusion {
    let inputs: usize = model.net.input.shape.iter().product();
    let mut counts = vec![vec![0; classes]; classes];
    let predicted: Vec<usize> =
        codes.par_chunks(inputs).map(|q0| ttfs_sim::argmax(ttfs_sim::quantized::forward(model, q0).logits())).collect();
    for (&label, &class) in labels.iter().zip(&predicted) {
        if label < classes && class < classes {
            counts[label][class] += 1;
        }
    }
    Confusion { source: "integer network (the hardware's arithmetic)".into(), counts }
}

/// The spike raster of the first sample: every input and hidden spike at
/// its tick.
fn raster(net: &ttfs_ir::Network, codes: &[i64], label: Option<usize>) -> Option<Raster> {
    let inputs: usize = net.input.shape.iter().product();
    let q0 = codes.get(..inputs)?;
    let code = net.input.code?;
    let model = Prepared::new(net);
    let trace = ttfs_sim::discrete::run(&model, q0, false);
    let mut layers = vec![RasterLayer {
        name: "input".into(),
        neurons: inputs,
        ticks: code.ticks,
        spikes: q0.iter().enumerate().filter(|(_, q)| **q > 0).map(|(i, &q)| (i, code.ticks - q as u32)).collect(),
    }];
    let shapes = net.shapes();
    let hidden = net.layers.iter().enumerate().filter(|(_, l)| l.role() == Some(ttfs_ir::Role::Hidden));
    for (k, layer) in hidden {
        let fire = layer.params()?.quant.as_ref()?.fire?;
        let ticks = trace.ticks.get(k)?;
        layers.push(RasterLayer {
            name: layer.name().to_string(),
            neurons: shapes[k + 1].len(),
            ticks: fire.ticks,
            spikes: ticks
                .iter()
                .enumerate()
                .filter(|(_, t)| **t != ttfs_sim::discrete::NO_SPIKE)
                .map(|(i, &t)| (i, t))
                .collect(),
        });
    }
    let logits = ttfs_sim::quantized::forward(&model, q0);
    Some(Raster { sample: 0, label, predicted: ttfs_sim::argmax(logits.logits()), layers })
}

/// What the device's logic is counted in: LUT4s on the ECP5 (two to a
/// slice, beside two flip-flops), logic cells (a LUT4 and a flip-flop) on
/// the iCE40.
fn logic_name(s: &SynthReport) -> &'static str {
    if s.device.family() == ttfs_hw::target::Family::Ecp5 { "LUT4s" } else { "logic cells" }
}

fn resources(s: &SynthReport) -> Vec<Resource> {
    let mut r = vec![
        Resource {
            name: logic_name(s).into(),
            used: s.lc,
            available: s.lc_available,
            estimate: Some(s.estimate.logic_cells),
        },
        Resource {
            name: "block RAM".into(),
            used: s.bram,
            available: s.bram_available,
            estimate: Some(s.estimate.bram_blocks),
        },
    ];
    if s.spram_available > 0 {
        r.push(Resource {
            name: "SPRAM".into(),
            used: s.spram,
            available: s.spram_available,
            estimate: Some(s.estimate.spram_blocks),
        });
    }
    if s.dsp_available > 0 {
        r.push(Resource {
            name: "DSP".into(),
            used: s.dsp,
            available: s.dsp_available,
            estimate: Some(s.estimate.dsp_blocks),
        });
    }
    r.push(Resource { name: "IO".into(), used: s.io, available: s.io_available, estimate: None });
    r
}

/// The summary table printed at the end.
fn summary(result: &FlowResult, dir: &Path) -> String {
    let r = &result.report;
    let mut t = String::new();
    let _ = writeln!(t, "{}", r.title);
    let _ = writeln!(t, "{:<10} {:<8} {:>8}  summary", "stage", "status", "seconds");
    for s in &r.stages {
        let _ = writeln!(t, "{:<10} {:<8} {:>8.1}  {}", s.name, status_word(s.status), s.seconds, s.summary);
    }
    let _ = writeln!(t);
    let width = r.figures.iter().map(|f| f.name.chars().count()).max().unwrap_or(0);
    for f in &r.figures {
        let note = if f.note.is_empty() { String::new() } else { format!("  ({})", f.note) };
        let _ = writeln!(t, "{:<width$}  {}{note}", f.name, f.value);
    }
    for n in &r.notes {
        let _ = writeln!(t, "note: {n}");
    }
    let status = |name: &str| r.stages.iter().find(|s| s.name == name).map(|s| s.status);
    let hardware = match (status("generate"), status("synth")) {
        (Some(StageStatus::Ok), Some(StageStatus::Ok)) => "the design in hw/, its bitstream in hw/build/".to_string(),
        (Some(StageStatus::Ok), Some(StageStatus::Failed)) => {
            "the design in hw/; no usable bitstream (synth FAILED)".to_string()
        }
        (Some(StageStatus::Ok), _) => "the design in hw/; no bitstream (synth skipped)".to_string(),
        _ => "no hardware: generate was skipped, so there is no hw/".to_string(),
    };
    let _ = writeln!(
        t,
        "\nwrote {} (net.json with net.safetensors, report.md, report.html, flow.json; {hardware})",
        dir.display()
    );
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use report::Stage;

    fn result(generate: StageStatus, synth: StageStatus) -> FlowResult {
        let stage = |name: &str, status| Stage { name: name.into(), status, seconds: 0.0, summary: String::new() };
        let report = report::Report {
            stages: vec![stage("convert", StageStatus::Ok), stage("generate", generate), stage("synth", synth)],
            ..Default::default()
        };
        FlowResult { report, sim: None, cosim: None, synth: None }
    }

    #[test]
    fn the_last_line_says_what_was_written() {
        let last = |g, s| summary(&result(g, s), Path::new("out")).trim_end().lines().last().unwrap().to_string();
        assert!(last(StageStatus::Ok, StageStatus::Ok).ends_with("the design in hw/, its bitstream in hw/build/)"));
        assert!(last(StageStatus::Ok, StageStatus::Skipped).ends_with("no bitstream (synth skipped))"));
        assert!(last(StageStatus::Ok, StageStatus::Failed).ends_with("no usable bitstream (synth FAILED))"));
        let none = last(StageStatus::Skipped, StageStatus::Skipped);
        assert!(none.contains("no hardware") && !none.contains("hw/build"), "{none}");
    }
}
