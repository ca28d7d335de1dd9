//! Conversion as named passes over a network description.
//!
//! `convert` imports a model into a float [`Network`] (the `import` step:
//! folding needs the model's graph, so it is not a pass over a network) and
//! then runs [`PASSES`] in order. Each pass has a kebab-case name and a
//! one-line description (`ttfs passes` lists them); a pass may be run again
//! on an existing description with [`run_from`], which also runs every pass
//! after it, since each depends on what the earlier ones wrote (new windows
//! need new integer parameters, new parameters need new clipping counts).

use crate::{ConvertError, Options, Result, calibrate, quantize, rescale_for_alpha, set_windows};
use ttfs_ir::{Network, NeuronModel};
use ttfs_sim::Prepared;

/// What a pass may read besides the network.
pub struct PassContext<'a> {
    /// The conversion options (margin, bits, neuron).
    pub options: &'a Options,
    /// Calibration samples in the network's canonical layout, if any.
    pub calibration: Option<&'a [f64]>,
    /// The calibration data's name (recorded in the network).
    pub calibration_name: &'a str,
    /// Whether the network came from this conversion (an invalid result is
    /// then our bug) or from a file (the file's problem).
    pub fresh: bool,
}

/// One named step of the conversion.
pub struct Pass {
    /// Kebab-case name (`--dump-after NAME`, `ttfs passes run --from NAME`).
    pub name: &'static str,
    /// What it does, in one line.
    pub description: &'static str,
    /// Whether it needs calibration data.
    pub needs_calibration: bool,
    run: fn(&mut Network, &PassContext) -> Result<()>,
}

impl Pass {
    /// Runs the pass on `net`.
    pub fn run(&self, net: &mut Network, cx: &PassContext) -> Result<()> {
        (self.run)(net, cx)
    }
}

/// The name and description of the import step that precedes the passes.
pub const IMPORT: (&str, &str) = (
    "import",
    "read the model and fold input normalisation, batch-norm, average pooling and flattening into float layers on the encoded input (needs the model, so `convert` runs it first)",
);

/// The passes, in the order `convert` runs them.
pub const PASSES: &[Pass] = &[
    Pass {
        name: "rescale-alpha",
        description: "α/J neuron only: rescale neurons whose weight sums fall outside [−10, 0.99] (ReLU is positively homogeneous, so the function is unchanged)",
        needs_calibration: false,
        run: rescale_alpha_pass,
    },
    Pass {
        name: "calibrate",
        description: "run the ReLU network on the calibration data and record each hidden layer's largest activation X_n",
        needs_calibration: true,
        run: calibrate_pass,
    },
    Pass {
        name: "set-windows",
        description: "give each hidden layer the time window (1 + ζ)·X_n, back to back after the input window",
        needs_calibration: false,
        run: set_windows_pass,
    },
    Pass {
        name: "quantize",
        description: "b1 neuron only: integer weights, biases, scales β and register widths at the time and weight bits asked",
        needs_calibration: false,
        run: quantize_pass,
    },
    Pass {
        name: "validate",
        description: "check every invariant of the network description (shapes, windows, finite numbers, weights within their bits, widths covering the worst case)",
        needs_calibration: false,
        run: validate_pass,
    },
    Pass {
        name: "count-clipping",
        description: "count the calibration inputs outside the input range and the activations clipped at the end of their windows (continuous and integer)",
        needs_calibration: false,
        run: count_clipping_pass,
    },
];

/// The pass called `name`, or an error listing the passes.
pub fn find(name: &str) -> Result<&'static Pass> {
    PASSES.iter().find(|p| p.name == name).ok_or_else(|| {
        let names: Vec<&str> = PASSES.iter().map(|p| p.name).collect();
        let import = if name == IMPORT.0 { " (import needs the model: run `ttfs convert`)" } else { "" };
        ConvertError::Option(format!("no pass {name:?}{import}; the passes are {}", names.join(", ")))
    })
}

/// Runs `passes` in order, calling `after` with each pass's name and the
/// network it left.
pub fn run(
    net: &mut Network,
    passes: &[Pass],
    cx: &PassContext,
    after: &mut dyn FnMut(&str, &Network) -> Result<()>,
) -> Result<()> {
    for pass in passes {
        if pass.needs_calibration && cx.calibration.is_none() {
            return Err(ConvertError::Option(format!("pass {} needs calibration data; pass --calib FILE", pass.name)));
        }
        pass.run(net, cx)?;
        after(pass.name, net)?;
    }
    Ok(())
}

/// Runs the pass called `from` and every pass after it on an existing
/// network description.
///
/// Guarantees: on `Ok`, the network passed the `validate` pass; without
/// calibration data, passes that need it fail with a message, and the
/// clipping counts are marked as not counted (`clipped_discrete: null`, a
/// note) rather than left stale.
pub fn run_from(
    net: &mut Network,
    from: &str,
    cx: &PassContext,
    after: &mut dyn FnMut(&str, &Network) -> Result<()>,
) -> Result<()> {
    let name = find(from)?.name;
    let start = PASSES.iter().position(|p| p.name == name).expect("find returns a pass of PASSES");
    run(net, &PASSES[start..], cx, after)
}

fn rescale_alpha_pass(net: &mut Network, _: &PassContext) -> Result<()> {
    if net.neuron == NeuronModel::Alpha {
        let rescaled = rescale_for_alpha(&mut net.layers);
        if rescaled > 0 {
            net.notes.push(format!(
                "α/J mapping: {rescaled} neurons had Σ_j W_ij outside [−10, 0.99]; their weights were rescaled (ReLU is positively homogeneous, so the function is unchanged)"
            ));
        }
    }
    Ok(())
}

fn calibrate_pass(net: &mut Network, cx: &PassContext) -> Result<()> {
    let canonical = cx.calibration.expect("checked by run");
    let x_max = calibrate(net, canonical);
    for (layer, x) in net.layers.iter_mut().zip(x_max) {
        if let Some(params) = layer.params_mut() {
            params.x_max = x;
        }
    }
    let samples = canonical.len() / net.input.shape.iter().product::<usize>().max(1);
    net.calibration.data = cx.calibration_name.to_string();
    net.calibration.samples = samples;
    Ok(())
}

fn set_windows_pass(net: &mut Network, cx: &PassContext) -> Result<()> {
    if !(cx.options.margin.is_finite() && cx.options.margin > -1.0) {
        return Err(ConvertError::Option(format!("margin ζ = {} must be a number greater than −1", cx.options.margin)));
    }
    let x_max: Vec<Option<f64>> = net.layers.iter().map(|l| l.params().and_then(|p| p.x_max)).collect();
    set_windows(net, &x_max, cx.options.margin);
    net.calibration.margin = cx.options.margin;
    Ok(())
}

fn quantize_pass(net: &mut Network, cx: &PassContext) -> Result<()> {
    if net.neuron == NeuronModel::B1 {
        quantize(net, &cx.options.time_bits, &cx.options.weight_bits)?;
    }
    Ok(())
}

fn validate_pass(net: &mut Network, cx: &PassContext) -> Result<()> {
    net.validate().map_err(|e| ConvertError::Structure {
        message: if cx.fresh {
            format!("internal error: the converted network is invalid: {e}")
        } else {
            format!("the network is invalid after the passes: {e}")
        },
    })
}

fn count_clipping_pass(net: &mut Network, cx: &PassContext) -> Result<()> {
    let Some(canonical) = cx.calibration else {
        const NOTE: &str = "clipping was not counted again after the passes (no --calib)";
        net.calibration.clipped_discrete = None;
        if !net.notes.iter().any(|n| n == NOTE) {
            net.notes.push(NOTE.into());
        }
        return Ok(());
    };
    let (inputs, continuous, discrete) = ttfs_sim::eval::clipping(
        &Prepared::new(net),
        ttfs_sim::eval::Samples { values: canonical, sample_len: net.input.shape.iter().product(), labels: None },
    );
    net.calibration.clipped_inputs = inputs;
    net.calibration.clipped_continuous = continuous;
    net.calibration.clipped_discrete = discrete;
    Ok(())
}
