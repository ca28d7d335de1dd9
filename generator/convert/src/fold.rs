//! Folding: turns an imported [`Graph`] into the float layers of a TTFS
//! network whose first layer reads the encoded input `x0 ∈ [0, 1]`.
//!
//! Every affine or linear operation that is not a layer of its own is
//! folded away, as paper 1's preprocessing does:
//! - the input encoding `v = p + (r − p)·x0` and any input normalisation
//!   (Sub/Div/Mul/Add) fold into the first layer's weights and bias;
//! - an affine right after a linear layer (bias Add, BatchNormalization
//!   before ReLU) folds into that layer's output;
//! - an affine after ReLU (BatchNormalization after ReLU) folds into the
//!   next layer's inputs, passing through max-pooling when its scale is
//!   positive per channel;
//! - average pooling folds into a following dense layer.
//!
//! When an input offset folds into a zero-padded convolution, the padded
//! taps of the original model saw 0 where the folded layer sees no input,
//! so the bias differs at the borders: the layer gets an exact per-position
//! bias map (paper 1 stores one bias per border region; a map is the same
//! thing, spelled out).

use super::error::{ConvertError, Result};
use super::graph::{Graph, Op};
use ttfs_ir::{Conv2d, Dense, Flatten, Layer, MaxPool, Params, Role, Shape, conv_out_dim};

/// A linear map waiting for the next layer to absorb it: the next op sees
/// `M·x + offset`, where x is the output of the last emitted layer.
#[derive(Clone, Debug)]
struct Pending {
    /// Row f of M as (column, value) pairs.
    rows: Vec<Vec<(usize, f64)>>,
    offset: Vec<f64>,
    /// Names of the ops folded into it, for messages.
    sources: Vec<String>,
}

impl Pending {
    fn identity(n: usize) -> Self {
        Pending { rows: (0..n).map(|i| vec![(i, 1.0)]).collect(), offset: vec![0.0; n], sources: Vec::new() }
    }

    fn is_identity(&self) -> bool {
        self.offset.iter().all(|&c| c == 0.0) && self.rows.iter().enumerate().all(|(i, r)| r.as_slice() == [(i, 1.0)])
    }

    /// Per-element scale when M is diagonal.
    fn diagonal(&self) -> Option<Vec<f64>> {
        self.rows
            .iter()
            .enumerate()
            .map(|(i, r)| match r.as_slice() {
                [(j, s)] if *j == i => Some(*s),
                [] => Some(0.0),
                _ => None,
            })
            .collect()
    }

    fn affine(&mut self, name: &str, scale: &[f64], offset: &[f64]) {
        for ((row, c), (s, o)) in self.rows.iter_mut().zip(&mut self.offset).zip(scale.iter().zip(offset)) {
            row.iter_mut().for_each(|(_, v)| *v *= s);
            *c = s * *c + o;
        }
        self.sources.push(name.to_string());
    }

    fn describe(&self) -> String {
        if self.sources.is_empty() { "the input encoding".into() } else { format!("'{}'", self.sources.join("', '")) }
    }
}

/// Per-channel values when `values` (over `[C, H, W]`) is constant within each channel.
fn per_channel(values: &[f64], channels: usize) -> Option<Vec<f64>> {
    let per = values.len() / channels.max(1);
    values.chunks(per.max(1)).map(|c| c.iter().all(|v| *v == c[0]).then_some(c[0])).collect()
}

/// The folded float layers and what the converter noted.
pub struct Folded {
    /// Canonical input shape.
    pub input_shape: Vec<usize>,
    /// Layers with float parameters (windows and integers not yet set).
    pub layers: Vec<Layer>,
    /// Notes for the user.
    pub notes: Vec<String>,
}

/// Folds `graph` for the input ranges `[p_i, r_i]`, one per canonical
/// input element.
///
/// Guarantees: the layers compute, on `x0_i = (v_i − p_i)/(r_i − p_i)`,
/// exactly what the graph computes on v (up to float rounding); the last
/// layer is a dense output layer and every other weight layer is followed
/// by ReLU. Assumes `ranges` has one entry per canonical input element.
pub fn fold(graph: &Graph, ranges: &[[f64; 2]]) -> Result<Folded> {
    let input_shape: Vec<usize> = graph.data_permutation.iter().map(|&a| graph.data_shape[a]).collect();
    let n: usize = input_shape.iter().product();
    let mut state = State {
        layers: Vec::new(),
        base: Shape(input_shape.clone()),
        shape: Shape(input_shape.clone()),
        pending: Pending::identity(n),
        open: None,
        open_through: None,
        notes: Vec::new(),
    };
    debug_assert_eq!(ranges.len(), n);
    let scale: Vec<f64> = ranges.iter().map(|[p, r]| r - p).collect();
    let offset: Vec<f64> = ranges.iter().map(|[p, _]| *p).collect();
    state.pending.affine("input encoding", &scale, &offset);
    state.pending.sources.clear();
    for op in &graph.ops {
        state.op(op)?;
    }
    let Some(last) = state.open else {
        return Err(ConvertError::Structure {
            message: match state.layers.iter().rev().find_map(|l| l.params().map(|_| l.name().to_string())) {
                Some(name) => format!(
                    "the model's last layer '{name}' is followed by ReLU; the logits must come from a linear layer without activation"
                ),
                None => "the model has no dense or convolution layer".into(),
            },
        });
    };
    if last + 1 != state.layers.len() {
        let after = state.layers[last + 1].name().to_string();
        return Err(ConvertError::Structure {
            message: format!("'{after}' follows the last linear layer; the logits must be the output of a dense layer"),
        });
    }
    if !matches!(state.layers[last], Layer::Dense(_)) {
        return Err(ConvertError::Structure {
            message: format!(
                "the output layer '{}' is a convolution; the logits must come from a dense layer",
                state.layers[last].name()
            ),
        });
    }
    Ok(Folded { input_shape, layers: state.layers, notes: state.notes })
}

struct State {
    layers: Vec<Layer>,
    /// Shape of the last emitted layer's output (the input at first): the
    /// columns of the pending map.
    base: Shape,
    /// Shape of the tensor the next op reads.
    shape: Shape,
    /// Linear map between the last emitted layer's output and that tensor.
    pending: Pending,
    /// Index of the last weight layer while no ReLU has followed it.
    open: Option<usize>,
    /// The op (max-pool or flatten) the open layer's output went through, if any.
    open_through: Option<String>,
    notes: Vec<String>,
}

impl State {
    fn op(&mut self, op: &Op) -> Result<()> {
        match op {
            Op::Affine { name, scale, offset } => self.affine(name, scale, offset),
            Op::Dense { name, inputs, outputs, weights, bias } => self.dense(name, *inputs, *outputs, weights, bias),
            Op::Conv { name, out_channels, kernel, stride, pads, weights, bias } => {
                self.conv(name, *out_channels, *kernel, *stride, *pads, weights, bias)
            }
            Op::Relu { name } => self.relu(name),
            Op::MaxPool { name, kernel, stride, pads } => self.max_pool(name, *kernel, *stride, *pads),
            Op::AvgPool { name, kernel, stride, pads, count_include_pad } => {
                self.avg_pool(name, *kernel, *stride, *pads, *count_include_pad)
            }
            Op::Flatten { name, order } => self.flatten(name, order.as_deref()),
        }
    }

    fn structure(message: String) -> ConvertError {
        ConvertError::Structure { message }
    }

    fn check_len(&self, name: &str, len: usize) -> Result<()> {
        if len != self.shape.len() {
            return Err(Self::structure(format!(
                "'{name}' has {len} values for a tensor of shape {} ({} values)",
                self.shape,
                self.shape.len()
            )));
        }
        Ok(())
    }

    fn affine(&mut self, name: &str, scale: &[f64], offset: &[f64]) -> Result<()> {
        self.check_len(name, scale.len())?;
        self.check_len(name, offset.len())?;
        let Some(k) = self.open else {
            self.pending.affine(name, scale, offset);
            return Ok(());
        };
        if let Some(through) = &self.open_through {
            return Err(Self::structure(format!(
                "'{name}' scales the output of '{}' after '{through}' and before its ReLU; move it before the pooling or after the ReLU",
                self.layers[k].name()
            )));
        }
        // Fold into the open layer's output: W ← s·W, b ← s·b + c per output channel.
        let (channels, row_len) = self.layers[k].weight_rows().expect("weight layer");
        let is_conv = matches!(self.layers[k], Layer::Conv2d(_));
        let (s, c) = if is_conv {
            let s = per_channel(scale, channels).ok_or_else(|| {
                Self::structure(format!(
                    "'{name}' scales a convolution's output per position; only per-channel scales can be folded"
                ))
            })?;
            (s, offset.to_vec())
        } else {
            (scale.to_vec(), offset.to_vec())
        };
        let params = self.layers[k].params_mut().expect("weight layer");
        for (ch, row) in params.weights.chunks_mut(row_len).enumerate() {
            row.iter_mut().for_each(|w| *w *= s[ch]);
        }
        if is_conv {
            let per = self.shape.len() / channels;
            let map: Vec<f64> = (0..self.shape.len())
                .map(|o| {
                    let b = params.bias_map.as_ref().map_or(params.bias[o / per], |m| m[o]);
                    s[o / per] * b + c[o]
                })
                .collect();
            set_bias(params, map, channels);
        } else {
            params.bias.iter_mut().zip(s.iter().zip(&c)).for_each(|(b, (s, c))| *b = s * *b + c);
        }
        Ok(())
    }

    fn close_check(&self, name: &str) -> Result<()> {
        if let Some(k) = self.open {
            return Err(Self::structure(format!(
                "'{name}' follows '{}' with no ReLU between them; two linear layers in a row are not supported",
                self.layers[k].name()
            )));
        }
        Ok(())
    }

    fn dense(&mut self, name: &str, inputs: usize, outputs: usize, weights: &[f64], bias: &[f64]) -> Result<()> {
        self.close_check(name)?;
        if self.shape.0.len() != 1 || inputs != self.shape.len() {
            return Err(Self::structure(format!(
                "dense layer '{name}' reads {inputs} inputs but receives a tensor of shape {}",
                self.shape
            )));
        }
        let base_len = self.base.len();
        if self.base.0.len() != 1 {
            return Err(Self::structure(format!(
                "dense layer '{name}' reads an image tensor {}; add a Flatten",
                self.base
            )));
        }
        let mut folded_w = vec![0.0; outputs * base_len];
        let mut folded_b = bias.to_vec();
        for o in 0..outputs {
            let row = &weights[o * inputs..(o + 1) * inputs];
            let out = &mut folded_w[o * base_len..(o + 1) * base_len];
            for (f, &w) in row.iter().enumerate() {
                if w == 0.0 {
                    continue;
                }
                for &(col, m) in &self.pending.rows[f] {
                    out[col] += w * m;
                }
                folded_b[o] += w * self.pending.offset[f];
            }
        }
        self.layers.push(Layer::Dense(Dense {
            name: name.to_string(),
            inputs: base_len,
            outputs,
            role: Role::Output,
            params: float_params(folded_w, folded_b),
        }));
        self.after_linear(outputs, Shape(vec![outputs]));
        Ok(())
    }

    fn after_linear(&mut self, outputs: usize, shape: Shape) {
        self.open = Some(self.layers.len() - 1);
        self.open_through = None;
        self.pending = Pending::identity(outputs);
        self.base = shape.clone();
        self.shape = shape;
    }

    #[allow(clippy::too_many_arguments)]
    fn conv(
        &mut self,
        name: &str,
        out_channels: usize,
        kernel: [usize; 2],
        stride: [usize; 2],
        pads: [usize; 4],
        weights: &[f64],
        bias: &[f64],
    ) -> Result<()> {
        self.close_check(name)?;
        let Some([c, h, w]) = self.shape.chw() else {
            return Err(Self::structure(format!(
                "convolution '{name}' needs an image tensor, got shape {}",
                self.shape
            )));
        };
        let scale = self.pending.diagonal().and_then(|d| per_channel(&d, c)).ok_or_else(|| {
            Self::structure(format!(
                "{} before convolution '{name}' cannot be folded into it (only per-channel scaling can be; average pooling before a convolution is not supported)",
                self.pending.describe()
            ))
        })?;
        let taps = kernel[0] * kernel[1];
        let row_len = c * taps;
        let mut folded_w = weights.to_vec();
        for co in 0..out_channels {
            for ci in 0..c {
                folded_w[co * row_len + ci * taps..co * row_len + (ci + 1) * taps]
                    .iter_mut()
                    .for_each(|v| *v *= scale[ci]);
            }
        }
        let (Some(oh), Some(ow)) = (
            conv_out_dim(h, kernel[0], stride[0], pads[0], pads[2]),
            conv_out_dim(w, kernel[1], stride[1], pads[1], pads[3]),
        ) else {
            return Err(Self::structure(format!("convolution '{name}' does not fit its input {}", self.shape)));
        };
        // Offsets reach a neuron only through taps inside the image.
        let offset = &self.pending.offset;
        let mut params = float_params(folded_w, bias.to_vec());
        if offset.iter().any(|&o| o != 0.0) {
            let mut map = Vec::with_capacity(out_channels * oh * ow);
            for co in 0..out_channels {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut b = bias[co];
                        for ky in 0..kernel[0] {
                            let Some(y) = (oy * stride[0] + ky).checked_sub(pads[0]).filter(|&y| y < h) else {
                                continue;
                            };
                            for kx in 0..kernel[1] {
                                let Some(x) = (ox * stride[1] + kx).checked_sub(pads[1]).filter(|&x| x < w) else {
                                    continue;
                                };
                                for ci in 0..c {
                                    b += weights[co * row_len + ci * taps + ky * kernel[1] + kx]
                                        * offset[(ci * h + y) * w + x];
                                }
                            }
                        }
                        map.push(b);
                    }
                }
            }
            set_bias(&mut params, map, out_channels);
            if params.bias_map.is_some() {
                self.notes.push(format!(
                    "'{name}': the offset of {} reaches border neurons through fewer taps; the layer keeps an exact bias per position",
                    self.pending.describe()
                ));
            }
        }
        self.layers.push(Layer::Conv2d(Conv2d {
            name: name.to_string(),
            in_shape: [c, h, w],
            out_channels,
            kernel,
            stride,
            pads,
            role: Role::Output,
            params,
        }));
        self.after_linear(out_channels * oh * ow, Shape(vec![out_channels, oh, ow]));
        Ok(())
    }

    fn relu(&mut self, name: &str) -> Result<()> {
        if let Some(k) = self.open.take() {
            match &mut self.layers[k] {
                Layer::Dense(d) => d.role = Role::Hidden,
                Layer::Conv2d(c) => c.role = Role::Hidden,
                _ => unreachable!("open layers are weight layers"),
            }
            self.open_through = None;
            return Ok(());
        }
        if self.layers.is_empty() || !self.pending.is_identity() {
            return Err(Self::structure(format!(
                "ReLU '{name}' acts on {} with no linear layer before it; it cannot be mapped",
                if self.layers.is_empty() { "the input".to_string() } else { self.pending.describe() }
            )));
        }
        // A second ReLU on non-negative values changes nothing.
        Ok(())
    }

    fn max_pool(&mut self, name: &str, kernel: [usize; 2], stride: [usize; 2], pads: [usize; 4]) -> Result<()> {
        let Some([c, h, w]) = self.shape.chw() else {
            return Err(Self::structure(format!("max-pool '{name}' needs an image tensor, got shape {}", self.shape)));
        };
        // max(s·x + o) = s·max(x) + o when s > 0 and o are uniform per channel.
        let diag = self.pending.diagonal();
        let scale = diag.as_deref().and_then(|d| per_channel(d, c));
        let offset = per_channel(&self.pending.offset, c);
        let (Some(scale), Some(offset)) = (scale, offset) else {
            return Err(Self::structure(format!(
                "{} before max-pool '{name}' cannot be moved past it",
                self.pending.describe()
            )));
        };
        if let Some(ch) = scale.iter().position(|&s| s <= 0.0) {
            return Err(Self::structure(format!(
                "{} scales channel {ch} by {} before max-pool '{name}': a non-positive scale turns max into min, which a first-spike pool cannot compute",
                self.pending.describe(),
                scale[ch]
            )));
        }
        let pool = MaxPool { name: name.to_string(), in_shape: [c, h, w], kernel, stride, pads };
        let out = Layer::MaxPool(pool.clone())
            .output_shape(&self.shape)
            .map_err(|m| Self::structure(format!("max-pool '{name}': {m}")))?;
        if out == self.shape && kernel == [1, 1] && stride == [1, 1] {
            return Ok(());
        }
        let [_, oh, ow] = out.chw().expect("pooling keeps [C, H, W]");
        let sources = std::mem::take(&mut self.pending.sources);
        self.layers.push(Layer::MaxPool(pool));
        let per = oh * ow;
        let n = c * per;
        let mut pending = Pending::identity(n);
        pending.affine(
            "",
            &(0..n).map(|i| scale[i / per]).collect::<Vec<_>>(),
            &(0..n).map(|i| offset[i / per]).collect::<Vec<_>>(),
        );
        pending.sources = sources;
        self.pending = pending;
        if self.open.is_some() {
            self.open_through = Some(name.to_string());
        }
        self.base = out.clone();
        self.shape = out;
        Ok(())
    }

    fn avg_pool(
        &mut self,
        name: &str,
        kernel: [usize; 2],
        stride: [usize; 2],
        pads: [usize; 4],
        count_include_pad: bool,
    ) -> Result<()> {
        if let Some(k) = self.open {
            return Err(Self::structure(format!(
                "average pool '{name}' follows '{}' before its ReLU; only pooling of ReLU outputs is supported",
                self.layers[k].name()
            )));
        }
        let Some([c, h, w]) = self.shape.chw() else {
            return Err(Self::structure(format!(
                "average pool '{name}' needs an image tensor, got shape {}",
                self.shape
            )));
        };
        let (Some(oh), Some(ow)) = (
            conv_out_dim(h, kernel[0], stride[0], pads[0], pads[2]),
            conv_out_dim(w, kernel[1], stride[1], pads[1], pads[3]),
        ) else {
            return Err(Self::structure(format!("average pool '{name}' does not fit its input {}", self.shape)));
        };
        // Averaging is linear: compose it into the pending map.
        let mut rows = Vec::with_capacity(c * oh * ow);
        let mut offset = Vec::with_capacity(c * oh * ow);
        for ch in 0..c {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut members = Vec::new();
                    for ky in 0..kernel[0] {
                        let Some(y) = (oy * stride[0] + ky).checked_sub(pads[0]).filter(|&y| y < h) else { continue };
                        for kx in 0..kernel[1] {
                            let Some(x) = (ox * stride[1] + kx).checked_sub(pads[1]).filter(|&x| x < w) else {
                                continue;
                            };
                            members.push((ch * h + y) * w + x);
                        }
                    }
                    let divisor = if count_include_pad { (kernel[0] * kernel[1]) as f64 } else { members.len() as f64 };
                    let mut row: Vec<(usize, f64)> = Vec::new();
                    let mut off = 0.0;
                    for &m in &members {
                        for &(col, v) in &self.pending.rows[m] {
                            match row.iter_mut().find(|(c2, _)| *c2 == col) {
                                Some(entry) => entry.1 += v / divisor,
                                None => row.push((col, v / divisor)),
                            }
                        }
                        off += self.pending.offset[m] / divisor;
                    }
                    row.sort_by_key(|e| e.0);
                    rows.push(row);
                    offset.push(off);
                }
            }
        }
        self.pending.rows = rows;
        self.pending.offset = offset;
        self.pending.sources.push(name.to_string());
        self.notes.push(format!("average pool '{name}' is linear: it is folded into the next dense layer's weights"));
        self.shape = Shape(vec![c, oh, ow]);
        Ok(())
    }

    fn flatten(&mut self, name: &str, order: Option<&[usize]>) -> Result<()> {
        if self.shape.chw().is_none() {
            return Ok(()); // already flat
        }
        let n = self.shape.len();
        if let Some(order) = order {
            if order.len() != n {
                return Err(Self::structure(format!(
                    "flatten '{name}' reorders {} values of a tensor of {n}",
                    order.len()
                )));
            }
            // The model flattens in its own axis order: permute the rows.
            self.pending.rows = order.iter().map(|&i| self.pending.rows[i].clone()).collect();
            self.pending.offset = order.iter().map(|&i| self.pending.offset[i]).collect();
            self.pending.sources.push(name.to_string());
        }
        // Flatten the base tensor; the pending map's columns keep their
        // indices because canonical flattening is row-major.
        if let Some(chw) = self.base.chw() {
            self.layers.push(Layer::Flatten(Flatten { name: name.to_string(), in_shape: chw }));
            self.base = Shape(vec![self.base.len()]);
        }
        if self.open.is_some() {
            self.open_through = Some(name.to_string());
        }
        self.shape = Shape(vec![n]);
        Ok(())
    }
}

fn float_params(weights: Vec<f64>, bias: Vec<f64>) -> Params {
    Params { weights, bias, bias_map: None, window: None, x_max: None, quant: None }
}

/// Stores a per-position bias, collapsing it to per-channel when every
/// position of a channel has the same value.
fn set_bias(params: &mut Params, map: Vec<f64>, channels: usize) {
    match per_channel(&map, channels) {
        Some(uniform) => {
            params.bias = uniform;
            params.bias_map = None;
        }
        None => {
            let per = map.len() / channels;
            // The map replaces the per-channel bias; keep the most common
            // value of each channel (the interior one) for people reading the file.
            params.bias = map.chunks(per).map(most_common).collect();
            params.bias_map = Some(map);
        }
    }
}

/// The value that occurs most often (the smallest of them on ties).
fn most_common(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut best = (sorted[0], 0);
    for run in sorted.chunk_by(|a, b| a == b) {
        if run.len() > best.1 {
            best = (run[0], run.len());
        }
    }
    best.0
}
