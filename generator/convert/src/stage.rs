//! The convert stage (`ttfs convert MODEL --calib FILE -o NET.json`): read a model, map it to a
//! TTFS network, calibrate and quantize it, and write the description (`NET.json` with its
//! tensors in the sidecar `NET.safetensors`, through [`ttfs_ir::save`]).

use crate::passes::{self, PassContext};
use crate::{CalibrationData, ConvertError, Graph, Options};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use ttfs_data::Element;
use ttfs_ir::{Network, NeuronModel};

/// What to convert (the arguments of `ttfs convert`).
pub struct Args {
    /// ONNX model, or a model in the JSON form (`.json`).
    pub model: PathBuf,
    /// Representative data.
    pub calib: PathBuf,
    /// Use only the first N calibration samples.
    pub calib_count: Option<usize>,
    /// Output network description (its tensors go to the sidecar beside it,
    /// [`ttfs_ir::sidecar_path`]).
    pub output: PathBuf,
    /// Conversion options.
    pub options: Options,
    /// Passes (or `import`) after which to write the description too, to
    /// `OUTPUT` with `.json` replaced by `.after-PASS.json` (and its sidecar
    /// `.after-PASS.safetensors`).
    pub dump_after: Vec<String>,
    /// Replace an existing output file.
    pub force: bool,
}

/// What to run again on an existing description (`ttfs passes run`).
pub struct RerunArgs {
    /// The network description to start from.
    pub network: PathBuf,
    /// The first pass to run; every pass after it runs too.
    pub from: String,
    /// Calibration data (needed from `calibrate`; without it, clipping is
    /// not counted again).
    pub calib: Option<PathBuf>,
    /// Use only the first N calibration samples.
    pub calib_count: Option<usize>,
    /// Margin and bits for the passes (the neuron is the network's).
    pub options: Options,
    /// Where to write the result (and its sidecar beside it).
    pub output: PathBuf,
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
    crate::onnx::read(path).map_err(|e| match e {
        // These already start with the file.
        ConvertError::Io { .. } | ConvertError::Malformed { .. } => anyhow::Error::new(e),
        other => anyhow::Error::new(other).context(path.display().to_string()),
    })
}

/// Runs the conversion and returns the summary to print.
pub fn run(args: &Args) -> Result<String> {
    refuse_existing(&args.output, args.force)?;
    let graph = read_model(&args.model)?;
    let calib = ttfs_data::load_data_limited(&args.calib, args.calib_count)?;
    calib.check_fits(&graph.data_shape).map_err(|e| anyhow::anyhow!("calibration data do not match the model: {e}"))?;
    let natural_range = matches!(calib.element, Element::U8).then_some([0.0, 255.0]);
    let name = args.calib.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let dumps = dump_paths(&args.output, &args.dump_after, args.force)?;
    let net = crate::convert_observed(
        &graph,
        &CalibrationData { name, values: &calib.values, count: calib.count, natural_range },
        &args.options,
        &mut |pass, net| {
            if let Some((_, path)) = dumps.iter().find(|(p, _)| p == pass) {
                write_new(path, net, args.force).map_err(|e| ConvertError::Option(format!("{e:#}")))?;
            }
            Ok(())
        },
    )
    .map_err(|e| match e {
        // About the command line, not the model.
        ConvertError::Option(_) => anyhow::Error::new(e),
        other => anyhow::Error::new(other).context(args.model.display().to_string()),
    })?;
    write_new(&args.output, &net, args.force)?;
    let mut out = String::new();
    for (_, path) in &dumps {
        out.push_str(&format!("wrote {} and {}\n", path.display(), ttfs_ir::sidecar_path(path).display()));
    }
    out.push_str(&summary(&net, &args.output));
    Ok(out)
}

/// Runs a pass and every pass after it on an existing description.
pub fn rerun(args: &RerunArgs) -> Result<String> {
    refuse_existing(&args.output, args.force)?;
    let mut net = ttfs_ir::load(&args.network)?;
    let calib = match &args.calib {
        Some(path) => Some(ttfs_data::load_samples(&net, path, args.calib_count)?),
        None => None,
    };
    let calibration_name = match args.calib.as_ref().and_then(|p| p.file_name()) {
        Some(n) => n.to_string_lossy().into_owned(),
        None => net.calibration.data.clone(),
    };
    let options = Options { neuron: net.neuron, ..args.options.clone() };
    let cx = PassContext {
        options: &options,
        calibration: calib.as_ref().map(|(_, canonical)| canonical.as_slice()),
        calibration_name: &calibration_name,
        fresh: false,
    };
    let mut ran = Vec::new();
    passes::run_from(&mut net, &args.from, &cx, &mut |pass, _| {
        ran.push(pass.to_string());
        Ok(())
    })
    .with_context(|| format!("cannot run the passes on {}", args.network.display()))?;
    write_new(&args.output, &net, args.force)?;
    Ok(format!("ran {}\n", ran.join(", ")) + &summary(&net, &args.output))
}

/// `net` quantized again at `weight_bits` in every weight layer (its time
/// bits kept): what `ttfs passes run NET --from quantize --weight-bits B
/// --time-bits ...` writes (without calibration data, so clipping is not
/// counted again).
pub fn requantize_weights(net: &Network, weight_bits: u32) -> anyhow::Result<Network> {
    let mut net = net.clone();
    let options = Options {
        neuron: net.neuron,
        time_bits: net.time_bits(),
        weight_bits: vec![weight_bits],
        ..Options::default()
    };
    let cx = PassContext { options: &options, calibration: None, calibration_name: "", fresh: false };
    passes::run_from(&mut net, "quantize", &cx, &mut |_, _| Ok(()))?;
    Ok(net)
}

/// The files `--dump-after` writes: (pass, path), checked before anything runs.
fn dump_paths(output: &Path, passes: &[String], force: bool) -> Result<Vec<(String, PathBuf)>> {
    let stem = output.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "net".into());
    let mut out = Vec::new();
    for pass in passes {
        if pass != passes::IMPORT.0 {
            passes::find(pass)?;
        }
        let path = output.with_file_name(format!("{stem}.after-{pass}.json"));
        refuse_existing(&path, force)?;
        out.push((pass.clone(), path));
    }
    Ok(out)
}

/// What `convert` and `passes run` print about the description they wrote.
fn summary(net: &Network, output: &Path) -> String {
    let range = match &net.input.feature_ranges {
        Some(r) => format!("a range per input feature ({})", r.len()),
        None => format!("input range [{}, {}]", net.input.range[0], net.input.range[1]),
    };
    let mut out =
        format!("wrote {} ({} neuron, {} layers, {range})\n", output.display(), net.neuron.as_str(), net.layers.len());
    out.push_str(&format!(
        "tensors in {} (beside it; keep the two together)\n",
        ttfs_ir::sidecar_path(output).display()
    ));
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
        // Said only when proven: validation re-derives every worst-case bound
        // from the integer parameters and checks the widths hold it.
        match net.validate() {
            Ok(()) => out.push_str(
                "register widths are derived from worst-case bounds: no overflow is possible for any input\n",
            ),
            Err(e) => out.push_str(&format!("warning: the register widths are not proven: {e}\n")),
        }
    } else {
        out.push_str(
            "α/J network: continuous simulation only (hardware uses the b1 neuron; convert with --neuron b1)\n",
        );
    }
    out
}

/// Refuses to start when the description `path` or its sidecar exists,
/// unless `force`: checked before anything runs, so that a long conversion
/// is not thrown away at the end.
pub fn refuse_existing(path: &Path, force: bool) -> Result<()> {
    if !force {
        for file in [path.to_path_buf(), ttfs_ir::sidecar_path(path)] {
            if file.exists() {
                anyhow::bail!("{} exists; pass --force to overwrite it", file.display());
            }
        }
    }
    Ok(())
}

/// Writes `net` to `path` and its sidecar, refusing to replace either
/// unless `force`. Both go to temporary files beside `path` that are
/// renamed into place ([`ttfs_ir::save`]), so a failure never leaves half a
/// description behind.
fn write_new(path: &Path, net: &Network, force: bool) -> Result<()> {
    ttfs_ir::save(net, path, force)?;
    Ok(())
}

/// Parses `P,R` (the `--input-range` option) into an input range.
pub fn parse_range(text: &str) -> Result<[f64; 2], String> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let [p, r] = parts.as_slice() else {
        return Err(format!("expected two numbers P,R (e.g. 0,255), got {text:?}"));
    };
    let number = |s: &str| s.parse::<f64>().map_err(|_| format!("{s:?} is not a number"));
    Ok([number(p)?, number(r)?])
}
