//! `ttfs convert MODEL --calib FILE -o NET.json`: read a model, map it to a
//! TTFS network, calibrate and quantize it, and write the description.

use crate::convert::{self, CalibrationData, Graph, Options};
use crate::data::{self, Element};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use ttfs_ir::NeuronModel;

/// Arguments of `ttfs convert`.
pub struct Args {
    /// ONNX model, or a model in the JSON form (`.json`).
    pub model: PathBuf,
    /// Representative data.
    pub calib: PathBuf,
    /// Use only the first N calibration samples.
    pub calib_count: Option<usize>,
    /// Output network description.
    pub output: PathBuf,
    /// Conversion options.
    pub options: Options,
    /// Replace an existing output file.
    pub force: bool,
}

/// Reads a model: ONNX, or the JSON model form when the name ends in `.json`.
pub fn read_model(path: &Path) -> Result<Graph> {
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        return serde_json::from_str(&text)
            .with_context(|| format!("{} is not a model in the JSON form", path.display()));
    }
    Ok(convert::onnx::read(path)?)
}

/// Runs the conversion and returns the summary to print.
pub fn run(args: &Args) -> Result<String> {
    if args.output.exists() && !args.force {
        anyhow::bail!("{} exists; pass --force to overwrite it", args.output.display());
    }
    let graph = read_model(&args.model)?;
    let mut calib = data::load_data(&args.calib)?;
    if let Some(n) = args.calib_count {
        calib.truncate(n);
    }
    calib.check_fits(&graph.data_shape).map_err(|e| anyhow::anyhow!("calibration data do not match the model: {e}"))?;
    let natural_range = matches!(calib.element, Element::U8).then_some([0.0, 255.0]);
    let name = args.calib.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let net = convert::convert(
        &graph,
        &CalibrationData { name, values: &calib.values, count: calib.count, natural_range },
        &args.options,
    )?;
    super::write_new(&args.output, &net.to_json(), args.force)?;
    let mut out = format!(
        "wrote {} ({} neuron, {} layers, input range [{}, {}])\n",
        args.output.display(),
        net.neuron.as_str(),
        net.layers.len(),
        net.input.range[0],
        net.input.range[1]
    );
    for note in &net.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    let c = &net.calibration;
    out.push_str(&format!(
        "calibration on {} samples of {} (margin ζ = {}): {} inputs outside the range, {} activations clipped (continuous){}\n",
        c.samples,
        c.data,
        c.margin,
        c.clipped_inputs,
        c.clipped_continuous,
        c.clipped_discrete.map_or(String::new(), |d| format!(", {d} clipped (discrete)"))
    ));
    if net.neuron == NeuronModel::B1 {
        out.push_str("register widths are derived from worst-case bounds: no overflow is possible for any input\n");
    } else {
        out.push_str(
            "α/J network: continuous simulation only (hardware uses the b1 neuron; convert with --neuron b1)\n",
        );
    }
    Ok(out)
}
