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

impl Graph {
    /// The graph without a Flatten at its input: an MLP exported from
    /// PyTorch or Keras reads an image (`[1, 28, 28]`) and flattens it before
    /// the first dense layer. The hardware has no use for that layer: the
    /// image arrives as a row of values anyway. When every op before the
    /// first Flatten is element-wise (Affine) and a Dense layer reads it, the
    /// input becomes flat (`[n]`, in the data file's own row-major order),
    /// the element-wise ops and the dense layer's columns are reordered to
    /// match (the input permutation and the Flatten's order are absorbed),
    /// and the Flatten is gone. Returns the new graph and a note for the
    /// user, or `None` when the graph has no such Flatten.
    ///
    /// Assumes a graph that passed [`Graph::validate`]; the result computes
    /// the same function of the data and passes it too.
    pub fn without_input_flatten(&self) -> Option<(Graph, String)> {
        let k = self.ops.iter().position(|op| !matches!(op, Op::Affine { .. }))?;
        let Op::Flatten { name: flatten, order } = &self.ops[k] else { return None };
        let Some(Op::Dense { name: dense, .. }) = self.ops.get(k + 1) else { return None };
        if self.data_shape.len() < 2 {
            return None;
        }
        // Canonical element c is data element canonical_to_data[c].
        let canonical_to_data = ttfs_ir::canonical_to_data(&self.data_shape, &self.data_permutation);
        let n = canonical_to_data.len();
        let mut ops = Vec::with_capacity(self.ops.len() - 1);
        for op in &self.ops[..k] {
            let Op::Affine { name, scale, offset } = op else { unreachable!("only affine ops before k") };
            let reorder = |values: &[f64]| {
                let mut out = vec![0.0; n];
                for (c, &d) in canonical_to_data.iter().enumerate() {
                    out[d] = values[c];
                }
                out
            };
            ops.push(Op::Affine { name: name.clone(), scale: reorder(scale), offset: reorder(offset) });
        }
        let Op::Dense { name, inputs, outputs, weights, bias } = &self.ops[k + 1] else {
            unreachable!("checked above")
        };
        let mut reordered = vec![0.0; weights.len()];
        for o in 0..*outputs {
            for f in 0..*inputs {
                let d = canonical_to_data[order.as_ref().map_or(f, |order| order[f])];
                reordered[o * inputs + d] = weights[o * inputs + f];
            }
        }
        ops.push(Op::Dense {
            name: name.clone(),
            inputs: *inputs,
            outputs: *outputs,
            weights: reordered,
            bias: bias.clone(),
        });
        ops.extend(self.ops[k + 2..].iter().cloned());
        let note = format!(
            "the Flatten '{flatten}' at the input is folded into '{dense}': the network reads each {:?} sample as {n} values in the data file's row-major order",
            self.data_shape
        );
        let graph = Graph {
            name: self.name.clone(),
            producer: self.producer.clone(),
            data_shape: vec![n],
            data_permutation: vec![0],
            ops,
            notes: self.notes.clone(),
        };
        Some((graph, note))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Evaluates a graph of Affine, Flatten, Dense and Relu ops on one data
    /// row (in the data file's layout).
    fn eval(graph: &Graph, row: &[f64]) -> Vec<f64> {
        let rank = graph.data_shape.len();
        let mut strides = vec![1usize; rank];
        for a in (0..rank.saturating_sub(1)).rev() {
            strides[a] = strides[a + 1] * graph.data_shape[a + 1];
        }
        let canonical: Vec<usize> = graph.data_permutation.iter().map(|&a| graph.data_shape[a]).collect();
        let mut x = Vec::new();
        let mut index = vec![0usize; rank];
        for _ in 0..row.len() {
            x.push(row[(0..rank).map(|i| index[i] * strides[graph.data_permutation[i]]).sum::<usize>()]);
            for a in (0..rank).rev() {
                index[a] += 1;
                if index[a] < canonical[a] {
                    break;
                }
                index[a] = 0;
            }
        }
        for op in &graph.ops {
            x = match op {
                Op::Affine { scale, offset, .. } => {
                    x.iter().zip(scale.iter().zip(offset)).map(|(v, (s, o))| v * s + o).collect()
                }
                Op::Flatten { order, .. } => match order {
                    Some(order) => order.iter().map(|&c| x[c]).collect(),
                    None => x,
                },
                Op::Dense { inputs, outputs, weights, bias, .. } => (0..*outputs)
                    .map(|o| bias[o] + (0..*inputs).map(|i| weights[o * inputs + i] * x[i]).sum::<f64>())
                    .collect(),
                Op::Relu { .. } => x.iter().map(|v| v.max(0.0)).collect(),
                _ => unreachable!("not in these graphs"),
            };
        }
        x
    }

    #[test]
    fn an_input_flatten_folds_into_the_first_dense_layer_exactly() {
        // NHWC data [2, 3, 4] read as canonical [4, 2, 3], an element-wise
        // op, a Flatten in a scrambled order, then an MLP.
        let n = 24;
        let value = |k: usize| ((k * 7919) % 101) as f64 / 50.0 - 1.0;
        let order: Vec<usize> = (0..n).map(|f| (f * 5) % n).collect();
        let graph = Graph {
            name: "m".into(),
            producer: "test".into(),
            data_shape: vec![2, 3, 4],
            data_permutation: vec![2, 0, 1],
            ops: vec![
                Op::Affine {
                    name: "scale".into(),
                    scale: (0..n).map(|k| 1.0 + value(k) / 4.0).collect(),
                    offset: (0..n).map(|k| value(k + 3) / 5.0).collect(),
                },
                Op::Flatten { name: "flat".into(), order: Some(order) },
                Op::Dense {
                    name: "fc1".into(),
                    inputs: n,
                    outputs: 5,
                    weights: (0..5 * n).map(value).collect(),
                    bias: (0..5).map(value).collect(),
                },
                Op::Relu { name: "r".into() },
                Op::Dense {
                    name: "fc2".into(),
                    inputs: 5,
                    outputs: 3,
                    weights: (0..15).map(|k| value(k + 11)).collect(),
                    bias: vec![0.1, 0.0, -0.1],
                },
            ],
            notes: vec![],
        };
        graph.validate().unwrap();
        let (flat, note) = graph.without_input_flatten().expect("a flatten at the input");
        flat.validate().unwrap();
        assert_eq!((flat.data_shape.clone(), flat.data_permutation.clone()), (vec![n], vec![0]));
        assert!(!flat.ops.iter().any(|op| matches!(op, Op::Flatten { .. })));
        assert!(note.contains("'flat'") && note.contains("'fc1'"), "{note}");
        for s in 0..10 {
            let row: Vec<f64> = (0..n).map(|k| value(k * 3 + s * 17)).collect();
            let (a, b) = (eval(&graph, &row), eval(&flat, &row));
            for (x, y) in a.iter().zip(&b) {
                assert!((x - y).abs() < 1e-12, "sample {s}: {a:?} vs {b:?}");
            }
        }
        // A conv net's Flatten is not at the input.
        let conv = Graph { ops: vec![Op::Relu { name: "r".into() }], ..graph.clone() };
        assert!(conv.without_input_flatten().is_none());
    }
}
