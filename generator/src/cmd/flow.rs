//! `ttfs flow`: the whole pipeline on one model, ending in a summary. With
//! no model it runs on the bundled digits MLP (skl2onnx) and the digits test
//! set, so a newcomer sees every stage work from one command.
//!
//! Stages so far: convert → sim → generate. Co-simulation and synthesis join
//! as they land.

use super::{convert as convert_cmd, generate as generate_cmd, sim as sim_cmd};
use crate::convert::Options;
use crate::generate::plan::PlanError;
use crate::generate::target::Target;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// The bundled default model and data (the digits set is small enough to
/// ship inside the binary, so `ttfs flow` works from any directory).
const DIGITS_MODEL: &[u8] = include_bytes!("../../../tests/fixtures/digits_mlp.onnx");
const DIGITS_TRAIN: &[u8] = include_bytes!("../../../tests/fixtures/digits/train_images.csv.gz");
const DIGITS_TEST: &[u8] = include_bytes!("../../../tests/fixtures/digits/test_images.csv.gz");
const DIGITS_TEST_LABELS: &[u8] = include_bytes!("../../../tests/fixtures/digits/test_labels.csv.gz");

/// A file in DIR that marks it as written by `ttfs flow` (so re-running may
/// replace what it wrote, and nothing else).
const MARKER: &str = ".ttfs-flow";

/// Arguments of `ttfs flow`.
pub struct Args {
    /// Model; `None` uses the bundled digits MLP.
    pub model: Option<PathBuf>,
    /// Calibration data (default: the data set).
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
}

/// Prepares DIR: creates it, or accepts it when empty or written by an earlier flow.
fn prepare(dir: &Path) -> Result<()> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?.next().is_none();
        if !empty && !dir.join(MARKER).exists() {
            anyhow::bail!(
                "{} exists and was not written by `ttfs flow`; choose another directory with -o",
                dir.display()
            );
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::write(dir.join(MARKER), "written by ttfs flow\n")
        .with_context(|| format!("cannot write in {}", dir.display()))
}

fn unpack(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// Runs the pipeline and returns the summary to print.
pub fn run(args: &Args) -> Result<String> {
    prepare(&args.output)?;
    let (model, calib, data, labels) = match &args.model {
        Some(model) => {
            let data = args.data.clone().context("--data is required with a model")?;
            (model.clone(), args.calib.clone().unwrap_or_else(|| data.clone()), data, args.labels.clone())
        }
        None => {
            let bundled = args.output.join("bundled");
            std::fs::create_dir_all(&bundled)?;
            (
                unpack(&bundled, "digits_mlp.onnx", DIGITS_MODEL)?,
                unpack(&bundled, "digits_train_images.csv.gz", DIGITS_TRAIN)?,
                unpack(&bundled, "digits_test_images.csv.gz", DIGITS_TEST)?,
                Some(unpack(&bundled, "digits_test_labels.csv.gz", DIGITS_TEST_LABELS)?),
            )
        }
    };
    let network = args.output.join("net.json");
    let mut out = String::from("== convert\n");
    out += &convert_cmd::run(&convert_cmd::Args {
        model,
        calib,
        calib_count: None,
        output: network.clone(),
        options: args.options.clone(),
        force: true,
    })?;
    out += "\n== sim\n";
    let report = sim_cmd::run(&sim_cmd::Args { network: network.clone(), data: data.clone(), labels, count: None })?;
    let report_path = args.output.join("sim.json");
    std::fs::write(&report_path, serde_json::to_string_pretty(&report)? + "\n")
        .with_context(|| format!("cannot write {}", report_path.display()))?;
    out += &sim_cmd::render(&report);
    out += &format!("\nwrote {} and {}\n", args.output.join("net.json").display(), report_path.display());

    out += "\n== generate\n";
    let target = args.target.unwrap_or(if args.model.is_none() { Target::Ice40Hx8k } else { Target::Ice40Up5k });
    let generated = generate_cmd::run(&generate_cmd::Args {
        network,
        output: args.output.join("hw"),
        target,
        lanes: Vec::new(),
        calib: Some(data),
        calib_count: None,
        force: true,
    });
    match generated {
        Ok(text) => out += &text,
        // A network the generator does not build yet still gets its
        // conversion and simulation; say why the hardware is missing.
        Err(e) if e.chain().any(|c| matches!(c.downcast_ref::<PlanError>(), Some(PlanError::Unsupported(_)))) => {
            out += &format!("skipped: {e:#}\n");
        }
        Err(e) => return Err(e),
    }
    Ok(out)
}
