//! `ttfs convert MODEL --calib FILE -o NET.json`.

use super::Neuron;
use anyhow::Result;
use std::path::PathBuf;
use ttfs_convert::stage::{Args as Request, run as convert};

/// Map an ONNX (or JSON-form) ReLU model to a TTFS network description.
#[derive(clap::Args)]
pub struct Args {
    /// The model: .onnx, or .json in the documented model form.
    model: PathBuf,
    /// Representative data for the time windows (IDX, .npy or CSV; .gz allowed).
    #[arg(long)]
    calib: PathBuf,
    /// Use only the first N calibration samples.
    #[arg(long)]
    calib_count: Option<usize>,
    /// Where to write the network description (NET.json; its tensors go to
    /// NET.safetensors beside it).
    #[arg(short, long)]
    output: PathBuf,
    /// Neuron model.
    #[arg(long, value_enum, default_value = "b1")]
    neuron: Neuron,
    #[command(flatten)]
    passes: super::PassOptions,
    /// Also write the description after this pass (or `import`), to
    /// OUTPUT with `.json` replaced by `.after-PASS.json` (tensors in
    /// `.after-PASS.safetensors`); repeatable
    /// (`ttfs passes` lists the passes).
    #[arg(long, value_name = "PASS")]
    dump_after: Vec<String>,
    /// Overwrite the output files (description, sidecar, dumps) if they exist.
    #[arg(long)]
    force: bool,
}

/// Runs `ttfs convert`; returns what it prints.
pub fn run(a: Args) -> Result<String> {
    let options = a.passes.options(a.neuron);
    convert(&Request {
        model: a.model,
        calib: a.calib,
        calib_count: a.calib_count,
        output: a.output,
        options,
        dump_after: a.dump_after,
        force: a.force,
    })
}
