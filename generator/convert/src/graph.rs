//! The imported model: a chain of float operations in the canonical layout,
//! before any folding. This is what a model reader (ONNX, or the documented
//! JSON model form) produces, and what [`super::fold`] consumes.

use serde::{Deserialize, Serialize};

/// A ReLU network as a chain of operations on one tensor.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Graph {
    /// Model name (the file stem).
    pub name: String,
    /// The tool that wrote the model ("skl2onnx 1.20.0").
    pub producer: String,
    /// The model's input shape without the batch axis, as data rows arrive.
    pub data_shape: Vec<usize>,
    /// Canonical axis `i` of the input is data axis `data_permutation[i]`
    /// (a leading NHWC→NCHW transpose is absorbed here).
    pub data_permutation: Vec<usize>,
    /// The operations, in order.
    pub ops: Vec<Op>,
    /// Notes for the user (dropped classifier tails and the like).
    #[serde(default)]
    pub notes: Vec<String>,
}

/// One operation; tensors are in canonical layout (`[n]` or `[C, H, W]`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Op {
    /// Element-wise `y = scale·x + offset` (one value per element).
    Affine {
        /// Node name(s) it came from.
        name: String,
        /// Per-element scale.
        scale: Vec<f64>,
        /// Per-element offset.
        offset: Vec<f64>,
    },
    /// `y = W x + b`, W row-major `[outputs][inputs]`.
    Dense {
        /// Node name.
        name: String,
        /// Inputs.
        inputs: usize,
        /// Outputs.
        outputs: usize,
        /// Weights.
        weights: Vec<f64>,
        /// Bias.
        bias: Vec<f64>,
    },
    /// 2-D convolution, group 1, weights `[co][ci][kh][kw]`, zero padding.
    Conv {
        /// Node name.
        name: String,
        /// Output channels.
        out_channels: usize,
        /// `[kh, kw]`.
        kernel: [usize; 2],
        /// `[sh, sw]`.
        stride: [usize; 2],
        /// `[top, left, bottom, right]`.
        pads: [usize; 4],
        /// Weights.
        weights: Vec<f64>,
        /// Bias per output channel.
        bias: Vec<f64>,
    },
    /// Rectified linear unit.
    Relu {
        /// Node name.
        name: String,
    },
    /// Max pooling (padding never wins).
    MaxPool {
        /// Node name.
        name: String,
        /// `[kh, kw]`.
        kernel: [usize; 2],
        /// `[sh, sw]`.
        stride: [usize; 2],
        /// `[top, left, bottom, right]`.
        pads: [usize; 4],
    },
    /// Average pooling.
    AvgPool {
        /// Node name.
        name: String,
        /// `[kh, kw]`.
        kernel: [usize; 2],
        /// `[sh, sw]`.
        stride: [usize; 2],
        /// `[top, left, bottom, right]`.
        pads: [usize; 4],
        /// Whether padded positions count in the divisor (ONNX `count_include_pad`).
        count_include_pad: bool,
    },
    /// Flatten to a vector. Element `f` of the result is canonical element
    /// `order[f]` (absent: canonical row-major order).
    Flatten {
        /// Node name.
        name: String,
        /// Source index of each flattened element, when the model's layout
        /// differs from the canonical one (NHWC flatten).
        order: Option<Vec<usize>>,
    },
}

impl Graph {
    /// Checks that every operation's parameters fit the tensor it reads, so
    /// that a hand-written model cannot make a later stage index out of
    /// bounds. Returns a message naming the op and the mismatch.
    pub fn validate(&self) -> Result<(), String> {
        let rank = self.data_shape.len();
        let mut seen = vec![false; rank];
        let is_perm = self.data_permutation.len() == rank
            && self.data_permutation.iter().all(|&a| a < rank && !std::mem::replace(&mut seen[a], true));
        if rank == 0 || self.data_shape.contains(&0) || !is_perm {
            return Err(format!(
                "data_shape {:?} with data_permutation {:?}: the shape needs no zero axis and the permutation must reorder its axes",
                self.data_shape, self.data_permutation
            ));
        }
        let mut shape: Vec<usize> = self.data_permutation.iter().map(|&a| self.data_shape[a]).collect();
        for (k, op) in self.ops.iter().enumerate() {
            let at = format!("ops[{k}] ({} '{}')", op_kind(op), op.name());
            let len: usize = shape.iter().product();
            let finite = |what: &str, values: &[f64]| match values.iter().position(|v| !v.is_finite()) {
                Some(i) => Err(format!("{at}: {what}[{i}] is {}, not a finite number", values[i])),
                None => Ok(()),
            };
            let sized = |what: &str, values: &[f64], expected: usize| {
                if values.len() == expected {
                    finite(what, values)
                } else {
                    Err(format!("{at}: {what} has {} values, expected {expected}", values.len()))
                }
            };
            let window = |kernel: [usize; 2], stride: [usize; 2], pads: [usize; 4], shape: &[usize]| match shape {
                &[c, h, w] => match (
                    ttfs_ir::conv_out_dim(h, kernel[0], stride[0], pads[0], pads[2]),
                    ttfs_ir::conv_out_dim(w, kernel[1], stride[1], pads[1], pads[3]),
                ) {
                    (Some(oh), Some(ow)) => Ok((c, oh, ow)),
                    _ => Err(format!(
                        "{at}: kernel {kernel:?}, stride {stride:?}, pads {pads:?} do not fit the input {shape:?}"
                    )),
                },
                _ => Err(format!("{at}: needs an image input [C, H, W], got {shape:?}")),
            };
            match op {
                Op::Affine { scale, offset, .. } => {
                    sized("scale", scale, len)?;
                    sized("offset", offset, len)?;
                }
                Op::Dense { inputs, outputs, weights, bias, .. } => {
                    if shape.len() != 1 || *inputs != len {
                        return Err(format!("{at}: reads {inputs} inputs, but the tensor has shape {shape:?}"));
                    }
                    sized("weights", weights, inputs * outputs)?;
                    sized("bias", bias, *outputs)?;
                    shape = vec![*outputs];
                }
                Op::Conv { out_channels, kernel, stride, pads, weights, bias, .. } => {
                    let (c, oh, ow) = window(*kernel, *stride, *pads, &shape)?;
                    sized("weights", weights, out_channels * c * kernel[0] * kernel[1])?;
                    sized("bias", bias, *out_channels)?;
                    shape = vec![*out_channels, oh, ow];
                }
                Op::MaxPool { kernel, stride, pads, .. } | Op::AvgPool { kernel, stride, pads, .. } => {
                    let (c, oh, ow) = window(*kernel, *stride, *pads, &shape)?;
                    shape = vec![c, oh, ow];
                }
                Op::Flatten { order, .. } => {
                    if let Some(order) = order {
                        let mut seen = vec![false; len];
                        if order.len() != len
                            || !order.iter().all(|&i| i < len && !std::mem::replace(&mut seen[i], true))
                        {
                            return Err(format!("{at}: order must list each of the {len} elements once"));
                        }
                    }
                    shape = vec![len];
                }
                Op::Relu { .. } => {}
            }
        }
        Ok(())
    }
}

fn op_kind(op: &Op) -> &'static str {
    match op {
        Op::Affine { .. } => "affine",
        Op::Dense { .. } => "dense",
        Op::Conv { .. } => "conv",
        Op::Relu { .. } => "relu",
        Op::MaxPool { .. } => "max_pool",
        Op::AvgPool { .. } => "avg_pool",
        Op::Flatten { .. } => "flatten",
    }
}

impl Op {
    /// The node name the operation came from.
    pub fn name(&self) -> &str {
        match self {
            Op::Affine { name, .. }
            | Op::Dense { name, .. }
            | Op::Conv { name, .. }
            | Op::Relu { name }
            | Op::MaxPool { name, .. }
            | Op::AvgPool { name, .. }
            | Op::Flatten { name, .. } => name,
        }
    }
}
