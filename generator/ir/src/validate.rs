//! Validation of a network description: every invariant the simulators and
//! the hardware generator rely on, checked once on load.

use crate::bounds::{fits_signed, layer_widths, max_weight};
use crate::geometry::{Shape, output_shape};
use crate::limits::{parameter_count, tensor_len};
use crate::{FORMAT, Layer, Network, NeuronModel, Params, Role, VERSION};
use thiserror::Error;

/// Why a network description was rejected.
#[derive(Debug, Error, PartialEq)]
pub enum IrError {
    /// The text is not JSON of the expected structure.
    #[error("not a valid network description: {0}")]
    Parse(String),
    /// The `format` field is not "ttfs-net".
    #[error("not a ttfs network description: format is {found:?}, expected \"{FORMAT}\"")]
    Format {
        /// The format found.
        found: String,
    },
    /// The schema version is not supported.
    #[error(
        "network description version {found} is not supported (this ttfs reads versions 1 to {VERSION}); convert the model again"
    )]
    Version {
        /// The version found.
        found: u32,
    },
    /// A field violates an invariant.
    #[error("{path}: {message}")]
    Invalid {
        /// Where, as a JSON-like path (`layers[2] (fc1).params.weights[17]`).
        path: String,
        /// What is wrong.
        message: String,
    },
}

fn invalid(path: impl Into<String>, message: impl Into<String>) -> IrError {
    IrError::Invalid { path: path.into(), message: message.into() }
}

fn check_finite(path: &str, values: &[f64]) -> Result<(), IrError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(invalid(format!("{path}[{i}]"), format!("{} is not a finite number", values[i]))),
        None => Ok(()),
    }
}

fn check_ticks(path: &str, time_bits: u32, ticks: u32) -> Result<(), IrError> {
    if !(1..=16).contains(&time_bits) {
        return Err(invalid(path, format!("time_bits {time_bits} is outside 1..=16")));
    }
    if ticks != (1u32 << time_bits) - 1 {
        return Err(invalid(path, format!("ticks {ticks} must be 2^time_bits − 1 = {}", (1u32 << time_bits) - 1)));
    }
    Ok(())
}

impl Network {
    /// Checks every invariant of the description.
    ///
    /// Guarantees on `Ok`: format and version match; shapes chain from the
    /// input through every layer; parameter arrays have the lengths their
    /// geometry implies and hold finite numbers; the last layer is the only
    /// output layer and is dense; hidden windows are back to back starting at
    /// the input's `t_max`; b1 networks carry integer parameters whose
    /// weights fit their bits and whose register widths cover the worst-case
    /// bounds; α/J networks carry none and satisfy `Σ_j W_ij < 1`.
    pub fn validate(&self) -> Result<(), IrError> {
        if self.format != FORMAT {
            return Err(IrError::Format { found: self.format.clone() });
        }
        if !(1..=VERSION).contains(&self.version) {
            return Err(IrError::Version { found: self.version });
        }
        self.validate_input()?;
        if self.layers.is_empty() {
            return Err(invalid("layers", "a network needs at least its output layer"));
        }
        let mut shape = Shape(self.input.shape.clone());
        let mut prev_t_max = self.input.window.t_max;
        let mut ticks_in = self.input.code.map(|c| c.ticks);
        let last = self.layers.len() - 1;
        for (k, layer) in self.layers.iter().enumerate() {
            let path = format!("layers[{k}] ({})", layer.name());
            let out = output_shape(layer, &shape).map_err(|m| invalid(&path, m))?;
            tensor_len(&out.0).map_err(|m| invalid(&path, format!("output {m}")))?;
            if out.0.contains(&0) {
                return Err(invalid(
                    &path,
                    format!("output shape {:?} has no values; every layer needs at least one", out.0),
                ));
            }
            if let Some(role) = layer.role() {
                let expected = if k == last { Role::Output } else { Role::Hidden };
                if role != expected {
                    return Err(invalid(
                        &path,
                        if k == last {
                            "the last layer must be the output layer (role \"output\")"
                        } else {
                            "only the last layer may have role \"output\""
                        },
                    ));
                }
            } else if k == last {
                return Err(invalid(&path, "the last layer must be a dense output layer"));
            }
            if let Layer::Conv2d(_) = layer
                && k == last
            {
                return Err(invalid(&path, "the output layer must be dense"));
            }
            if let Some(params) = layer.params() {
                let (channels, row_len) = layer.weight_rows().expect("weight layer");
                self.validate_params(&path, layer, params, row_len, channels, out.len(), prev_t_max, ticks_in)?;
                if let Some(w) = params.window {
                    prev_t_max = w.t_max;
                }
                ticks_in = params.quant.as_ref().and_then(|q| q.fire).map(|f| f.ticks);
            }
            shape = out;
        }
        Ok(())
    }

    fn validate_input(&self) -> Result<(), IrError> {
        let input = &self.input;
        if input.shape.is_empty() || input.shape.contains(&0) || input.shape.len() == 2 || input.shape.len() > 3 {
            return Err(invalid(
                "input.shape",
                format!("{:?} must be [features] or [C, H, W] with no zero axis", input.shape),
            ));
        }
        tensor_len(&input.shape).map_err(|m| invalid("input.shape", m))?;
        let perm = &input.data_permutation;
        let mut seen = vec![false; perm.len()];
        let is_perm = perm.len() == input.data_shape.len()
            && perm.iter().all(|&p| p < seen.len() && !std::mem::replace(&mut seen[p], true));
        if !is_perm
            || perm.len() != input.shape.len()
            || perm.iter().enumerate().any(|(i, &p)| input.data_shape[p] != input.shape[i])
        {
            return Err(invalid(
                "input.data_permutation",
                format!("{perm:?} does not map data_shape {:?} onto shape {:?}", input.data_shape, input.shape),
            ));
        }
        check_finite("input.range", &input.range)?;
        if input.range[0] >= input.range[1] {
            return Err(invalid("input.range", format!("{:?} must satisfy p < r", input.range)));
        }
        if let Some(ranges) = &input.feature_ranges {
            let n = input.shape.iter().product::<usize>();
            if self.version < 2 || ranges.len() != n {
                return Err(invalid(
                    "input.feature_ranges",
                    format!("has {} ranges; a version 2 description gives one per input element ({n})", ranges.len()),
                ));
            }
            for (i, [p, r]) in ranges.iter().enumerate() {
                if !(p.is_finite() && r.is_finite() && p < r) {
                    return Err(invalid(
                        format!("input.feature_ranges[{i}]"),
                        format!("[{p}, {r}] must be finite with p < r"),
                    ));
                }
            }
        }
        if input.window.t_min != 0.0 || input.window.t_max != 1.0 {
            return Err(invalid("input.window", "the input window is [0, 1]"));
        }
        match (self.neuron, input.code) {
            (NeuronModel::B1, None) => Err(invalid("input.code", "a b1 network needs the integer input coding")),
            (NeuronModel::Alpha, Some(_)) => Err(invalid("input.code", "an α/J network has no integer coding")),
            (_, Some(code)) => check_ticks("input.code", code.time_bits, code.ticks),
            _ => Ok(()),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn validate_params(
        &self,
        path: &str,
        layer: &Layer,
        params: &Params,
        row_len: usize,
        channels: usize,
        outputs: usize,
        prev_t_max: f64,
        ticks_in: Option<u32>,
    ) -> Result<(), IrError> {
        let hidden = layer.role() == Some(Role::Hidden);
        let weight_count = parameter_count(channels, row_len).map_err(|m| invalid(path, m))?;
        if params.weights.len() != weight_count {
            return Err(invalid(
                format!("{path}.params.weights"),
                format!(
                    "has {} values, the geometry needs {} ({channels} × {row_len})",
                    params.weights.len(),
                    weight_count
                ),
            ));
        }
        check_finite(&format!("{path}.params.weights"), &params.weights)?;
        if params.bias.len() != channels {
            return Err(invalid(
                format!("{path}.params.bias"),
                format!("has {} values, expected {channels}", params.bias.len()),
            ));
        }
        check_finite(&format!("{path}.params.bias"), &params.bias)?;
        if let Some(map) = &params.bias_map {
            if !matches!(layer, Layer::Conv2d(_)) || map.len() != outputs {
                return Err(invalid(
                    format!("{path}.params.bias_map"),
                    format!(
                        "only conv layers have a bias map, of one value per output ({outputs}); found {}",
                        map.len()
                    ),
                ));
            }
            check_finite(&format!("{path}.params.bias_map"), map)?;
        }
        match (hidden, params.window, params.x_max) {
            (true, Some(w), Some(x)) => {
                check_finite(&format!("{path}.params.window"), &[w.t_min, w.t_max, x])?;
                if w.t_min != prev_t_max {
                    return Err(invalid(
                        format!("{path}.params.window.t_min"),
                        format!("{} must equal the previous window's t_max {prev_t_max}", w.t_min),
                    ));
                }
                let length = w.t_max - w.t_min;
                if !(length.is_finite() && length > 0.0) || x < 0.0 {
                    return Err(invalid(
                        format!("{path}.params.window"),
                        "needs t_max > t_min with a finite length t_max − t_min, and x_max ≥ 0",
                    ));
                }
            }
            (true, _, _) => return Err(invalid(format!("{path}.params"), "a hidden layer needs a window and x_max")),
            (false, None, None) => {}
            (false, _, _) => {
                return Err(invalid(
                    format!("{path}.params"),
                    "the output layer has no window (it reads its potential at t_min)",
                ));
            }
        }
        if self.neuron == NeuronModel::Alpha {
            if params.quant.is_some() {
                return Err(invalid(format!("{path}.params.quant"), "an α/J network has no integer parameters"));
            }
            if hidden {
                for (i, row) in params.weights.chunks(row_len).enumerate() {
                    let sum: f64 = row.iter().sum();
                    if sum >= 1.0 {
                        return Err(invalid(
                            format!("{path}.params.weights"),
                            format!(
                                "channel {i}: the α/J mapping needs Σ_j W_ij < 1, found {sum}; convert again (weight-sum rescaling)"
                            ),
                        ));
                    }
                }
            }
            return Ok(());
        }
        let quant = params.quant.as_ref().ok_or_else(|| {
            invalid(format!("{path}.params.quant"), "a b1 network needs integer parameters on every weight layer")
        })?;
        let qpath = format!("{path}.params.quant");
        if !(2..=16).contains(&quant.weight_bits) {
            return Err(invalid(&qpath, format!("weight_bits {} is outside 2..=16", quant.weight_bits)));
        }
        if !(quant.potential_scale.is_finite() && quant.potential_scale > 0.0) {
            return Err(invalid(&qpath, "potential_scale must be a positive number"));
        }
        if quant.weights.len() != params.weights.len() {
            return Err(invalid(
                format!("{qpath}.weights"),
                format!("has {} values, expected {}", quant.weights.len(), params.weights.len()),
            ));
        }
        let limit = max_weight(quant.weight_bits);
        if let Some(i) = quant.weights.iter().position(|&w| i64::from(w).abs() > limit) {
            return Err(invalid(
                format!("{qpath}.weights[{i}]"),
                format!("{} does not fit {} bits (±{limit})", quant.weights[i], quant.weight_bits),
            ));
        }
        if quant.bias.len() != channels {
            return Err(invalid(
                format!("{qpath}.bias"),
                format!("has {} values, expected {channels}", quant.bias.len()),
            ));
        }
        let per_channel = outputs / channels;
        let bias_rows: Vec<Vec<i64>> = match (&quant.bias_map, &params.bias_map) {
            (Some(map), Some(_)) if map.len() == outputs => map.chunks(per_channel).map(<[i64]>::to_vec).collect(),
            (None, None) => quant.bias.iter().map(|&b| vec![b]).collect(),
            _ => {
                return Err(invalid(
                    format!("{qpath}.bias_map"),
                    "must be present exactly when the float bias map is, with one value per output",
                ));
            }
        };
        match (hidden, quant.fire) {
            (true, Some(fire)) => {
                check_ticks(&format!("{qpath}.fire"), fire.time_bits, fire.ticks)?;
                if fire.beta < 1 || !(fire.activation_scale.is_finite() && fire.activation_scale > 0.0) {
                    return Err(invalid(format!("{qpath}.fire"), "needs beta ≥ 1 and a positive activation_scale"));
                }
                // The discrete layer's time unit is σ·β, and its T ticks must
                // cover the float window (β = ⌈length / (σ·T)⌉ on conversion);
                // otherwise the integer and float networks compute different
                // functions.
                let unit = quant.potential_scale * fire.beta as f64;
                let length = params.window.map_or(0.0, |w| w.t_max - w.t_min);
                if (fire.activation_scale - unit).abs() > 1e-9 * unit
                    || fire.activation_scale * f64::from(fire.ticks) < length * (1.0 - 1e-9)
                {
                    return Err(invalid(
                        format!("{qpath}.fire.activation_scale"),
                        format!(
                            "{} must equal potential_scale·β = {unit} and cover the window: {} ticks × it ≥ the window length {length}",
                            fire.activation_scale, fire.ticks
                        ),
                    ));
                }
            }
            (false, None) => {}
            _ => return Err(invalid(format!("{qpath}.fire"), "hidden layers fire, the output layer does not")),
        }
        let ticks_in = ticks_in.ok_or_else(|| invalid(&qpath, "the previous spiking layer has no integer coding"))?;
        let needed =
            layer_widths(&quant.weights, row_len, &bias_rows, quant.weight_bits, ticks_in, quant.fire.as_ref())
                .map_err(|m| invalid(&qpath, m))?;
        let w = quant.widths;
        if let Some((name, bits)) =
            [("weight", w.weight), ("bias", w.bias), ("current", w.current), ("potential", w.potential)]
                .into_iter()
                .find(|(_, bits)| !(1..=64).contains(bits))
        {
            return Err(invalid(
                format!("{qpath}.widths.{name}"),
                format!("{bits} bits; registers are 1 to 64 bits wide (the simulators compute in 64 bits)"),
            ));
        }
        if !fits_signed(w.max_abs_current, w.current) || !fits_signed(w.max_abs_potential, w.potential) {
            return Err(invalid(
                format!("{qpath}.widths"),
                format!("{w:?}: max_abs_current and max_abs_potential must fit the current and potential widths"),
            ));
        }
        if w.weight < needed.weight
            || w.bias < needed.bias
            || w.current < needed.current
            || w.potential < needed.potential
            || w.max_abs_current < needed.max_abs_current
            || w.max_abs_potential < needed.max_abs_potential
        {
            return Err(invalid(
                format!("{qpath}.widths"),
                format!("{w:?} cannot hold the worst case; needs at least {needed:?}"),
            ));
        }
        Ok(())
    }
}
