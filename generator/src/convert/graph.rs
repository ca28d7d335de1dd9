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
