//! `ttfs convert MODEL --calib FILE -o NET.json`.

use super::Neuron;
use anyhow::Result;
use std::path::PathBuf;
use ttfs_convert::Options;
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
    /// Where to write the network description.
    #[arg(short, long)]
    output: PathBuf,
    /// Neuron model.
    #[arg(long, value_enum, default_value = "b1")]
    neuron: Neuron,
    #[command(flatten)]
    passes: super::PassOptions,
    /// Raw input range P,R mapped onto the input window (default: 0,255
    /// for byte data, else the calibration data's min and max).
    #[arg(long, value_name = "P,R", value_parser = parse_range, allow_hyphen_values = true)]
    input_range: Option<[f64; 2]>,
    /// Also write the description after this pass (or `import`), to
    /// OUTPUT with `.json` replaced by `.after-PASS.json`; repeatable
    /// (`ttfs passes` lists the passes).
    #[arg(long, value_name = "PASS")]
    dump_after: Vec<String>,
    /// Overwrite the output file (and dumps) if they exist.
    #[arg(long)]
    force: bool,
}

/// Parses `P,R` into an input range.
fn parse_range(text: &str) -> Result<[f64; 2], String> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let [p, r] = parts.as_slice() else {
        return Err(format!("expected two numbers P,R (e.g. 0,255), got {text:?}"));
    };
    let number = |s: &str| s.parse::<f64>().map_err(|_| format!("{s:?} is not a number"));
    Ok([number(p)?, number(r)?])
}

/// Runs `ttfs convert`; returns what it prints.
pub fn run(a: Args) -> Result<String> {
    let options = Options {
        neuron: a.neuron.into(),
        margin: a.passes.margin,
        time_bits: a.passes.time_bits,
        weight_bits: a.passes.weight_bits,
        input_range: a.input_range,
    };
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
