//! ONNX reader: follows the data path from the graph input to the logits and
//! turns each node into a [`Graph`] operation in canonical layout.
//!
//! Assumes a single-input chain (no branches, no residual connections).
//! Classifier tails after the logits (Softmax, ArgMax, ZipMap, ...) are
//! dropped with a note. Layout-only transposes (as tf2onnx writes around
//! NHWC convolutions) are tracked, so a Flatten in NHWC order becomes a
//! permutation of the next dense layer's columns.

use super::error::{ConvertError, Result};
use super::graph::{Graph, Op};
use onnx_protobuf::attribute_proto::AttributeType;
use onnx_protobuf::tensor_proto::DataType;
use onnx_protobuf::{Message, ModelProto, NodeProto, TensorProto};
use protobuf::Enum;
use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};

/// Ops that mark the start of a classifier tail: the tensor they read is the logits.
const TAIL_START: &[&str] = &["Softmax", "LogSoftmax", "Sigmoid", "ArgMax", "ZipMap", "ArrayFeatureExtractor"];
/// Ops allowed anywhere in a dropped tail.
const TAIL_ANY: &[&str] = &[
    "Softmax",
    "LogSoftmax",
    "Sigmoid",
    // skl2onnx's binary head: [1 − p, p] from the sigmoid p.
    "Sub",
    "Concat",
    "Unsqueeze",
    "ArgMax",
    "ZipMap",
    "ArrayFeatureExtractor",
    "Cast",
    "Reshape",
    "Identity",
    "Flatten",
    "Squeeze",
];

/// A decoded constant.
#[derive(Clone, Debug)]
struct Tensor {
    dims: Vec<usize>,
    values: Vec<f64>,
}

/// Reads an ONNX file into a [`Graph`].
pub fn read(path: &Path) -> Result<Graph> {
    let bytes = std::fs::read(path).map_err(|source| ConvertError::Io { path: path.to_path_buf(), source })?;
    import(&bytes, path)
}

/// Parses ONNX bytes (`path` is only used in messages and for the name).
pub fn import(bytes: &[u8], path: &Path) -> Result<Graph> {
    let model = ModelProto::parse_from_bytes(bytes)
        .map_err(|e| ConvertError::Malformed { path: path.to_path_buf(), message: e.to_string() })?;
    let Some(graph) = model.graph.as_ref() else {
        return Err(ConvertError::Malformed { path: path.to_path_buf(), message: "the model has no graph".into() });
    };
    if graph.node.is_empty() {
        return Err(ConvertError::Malformed { path: path.to_path_buf(), message: "the graph has no nodes".into() });
    }
    let producer = format!("{} {}", model.producer_name, model.producer_version).trim().to_string();
    let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "model".into());
    let graph_inputs: Vec<&str> = graph.input.iter().map(|i| i.name.as_str()).collect();
    let mut walker = Walker::new(graph.node.as_slice(), &graph.initializer, &graph_inputs)?;
    walker.model_dir =
        Some(path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf());
    let input = graph
        .input
        .iter()
        .find(|i| !walker.initializers.contains_key(i.name.as_str()))
        .ok_or_else(|| ConvertError::Structure { message: "the graph has no data input".into() })?;
    if let Some(output) = graph.output.iter().find(|o| !walker.producers.contains_key(o.name.as_str())) {
        return Err(ConvertError::Structure {
            message: format!("graph output '{}' is produced by no node of the graph", output.name),
        });
    }
    let data_shape = input_shape(input)?;
    walker.shape = data_shape.clone();
    walker.layout = (0..data_shape.len()).collect();
    walker.data_shape = data_shape.clone();
    walker.data_permutation = (0..data_shape.len()).collect();
    let outputs: HashSet<&str> = graph.output.iter().map(|o| o.name.as_str()).collect();
    let reached = walker.walk(&input.name, &outputs)?;
    if let Some(output) = graph.output.iter().find(|o| !reached.contains(o.name.as_str())) {
        return Err(ConvertError::Structure {
            message: format!(
                "graph output '{}' is not reached by the chain of layers from input '{}' to the logits; \
                 only single-output chains (plus a classifier tail) are supported",
                output.name, input.name
            ),
        });
    }
    let canonical: Vec<usize> = walker.data_permutation.iter().map(|&p| walker.data_shape[p]).collect();
    let graph = Graph {
        name,
        producer,
        data_shape,
        data_permutation: walker.data_permutation,
        ops: walker.ops,
        notes: walker.notes,
    };
    // Any shape that a Flatten at the input turns into features (a Keras
    // image of [H, W] pixels) is fine: the flatten is folded into the first
    // dense layer.
    if (canonical.len() == 2 || canonical.len() > 3) && graph.without_input_flatten().is_none() {
        return Err(ConvertError::Structure {
            message: format!(
                "input '{}' has shape {:?} (without the batch axis); supported are [features], [C, H, W], \
                 and any shape that a Flatten at the input (after elementwise scaling) feeds into a dense layer",
                input.name, graph.data_shape
            ),
        });
    }
    Ok(graph)
}

/// The input's shape without the batch axis.
fn input_shape(input: &onnx_protobuf::ValueInfoProto) -> Result<Vec<usize>> {
    let dims: Vec<Option<usize>> = input
        .type_
        .as_ref()
        .and_then(|t| t.tensor_type().shape.as_ref())
        .map(|s| {
            s.dim
                .iter()
                .map(|d| d.has_dim_value().then(|| usize::try_from(d.dim_value()).ok()).flatten().filter(|&v| v > 0))
                .collect()
        })
        .unwrap_or_default();
    if dims.len() < 2 {
        return Err(ConvertError::Structure {
            message: format!(
                "input '{}' must have a batch axis and at least one data axis; found rank {}",
                input.name,
                dims.len()
            ),
        });
    }
    dims[1..]
        .iter()
        .enumerate()
        .map(|(axis, d)| {
            d.ok_or_else(|| ConvertError::Structure {
                message: format!(
                    "input '{}' has an unknown size on axis {}: every axis but the batch must be fixed",
                    input.name,
                    axis + 1
                ),
            })
        })
        .collect::<Result<Vec<usize>>>()
        .and_then(|shape| {
            ttfs_ir::limits::tensor_len(&shape)
                .map_err(|m| ConvertError::Structure { message: format!("input '{}': {m}", input.name) })?;
            Ok(shape)
        })
}

struct Walker<'a> {
    nodes: &'a [NodeProto],
    initializers: HashMap<&'a str, &'a TensorProto>,
    /// The node (index into `nodes`) that writes each tensor; graph inputs
    /// and initializers map to `None`.
    producers: HashMap<&'a str, Option<usize>>,
    /// The non-Constant nodes reading each tensor, in graph order (an index
    /// built once, so that walking the chain is linear in the graph's size).
    readers: HashMap<&'a str, Vec<usize>>,
    constants: HashMap<String, Tensor>,
    /// ONNX shape of the current tensor, without the batch axis.
    shape: Vec<usize>,
    /// ONNX axis `a` of the current tensor is canonical axis `layout[a]`.
    layout: Vec<usize>,
    data_shape: Vec<usize>,
    data_permutation: Vec<usize>,
    /// True while only identity-like nodes have been seen (a Transpose here
    /// redefines the canonical input layout instead of the current layout).
    at_input: bool,
    ops: Vec<Op>,
    notes: Vec<String>,
    /// The folder of the model file, where external tensor data lie.
    model_dir: Option<PathBuf>,
}

impl<'a> Walker<'a> {
    /// Indexes the graph, refusing what ONNX forbids and the walk cannot
    /// judge: duplicate tensor names, tensors read before (or without) being
    /// written, which includes every cycle.
    fn new(nodes: &'a [NodeProto], initializer_list: &'a [TensorProto], graph_inputs: &[&'a str]) -> Result<Self> {
        let structure = |message: String| ConvertError::Structure { message };
        let mut initializers: HashMap<&str, &TensorProto> = HashMap::with_capacity(initializer_list.len());
        let mut producers: HashMap<&str, Option<usize>> = HashMap::new();
        for t in initializer_list {
            if initializers.insert(t.name.as_str(), t).is_some() {
                return Err(structure(format!(
                    "initializer '{}' is defined twice; ONNX requires unique tensor names",
                    t.name
                )));
            }
            producers.insert(t.name.as_str(), None);
        }
        for name in graph_inputs {
            producers.insert(name, None);
        }
        let node_name = |k: usize| {
            if nodes[k].name.is_empty() { format!("#{k} ({})", nodes[k].op_type) } else { nodes[k].name.clone() }
        };
        for (k, node) in nodes.iter().enumerate() {
            for output in node.output.iter().filter(|o| !o.is_empty()) {
                if let Some(previous) = producers.insert(output.as_str(), Some(k)) {
                    let by = previous
                        .map_or("an initializer or graph input".to_string(), |p| format!("node '{}'", node_name(p)));
                    return Err(structure(format!(
                        "tensor '{output}' is written by node '{}' and by {by}; ONNX requires unique tensor names",
                        node_name(k)
                    )));
                }
            }
        }
        let mut readers: HashMap<&str, Vec<usize>> = HashMap::new();
        for (k, node) in nodes.iter().enumerate() {
            for input in node.input.iter().filter(|i| !i.is_empty()) {
                match producers.get(input.as_str()) {
                    None => {
                        return Err(structure(format!(
                            "node '{}' reads tensor '{input}', which no node, initializer or graph input provides",
                            node_name(k)
                        )));
                    }
                    Some(Some(p)) if *p >= k => {
                        return Err(structure(format!(
                            "node '{}' reads tensor '{input}' before node '{}' writes it: the graph has a cycle \
                             or is not in topological order (ONNX requires nodes in topological order)",
                            node_name(k),
                            node_name(*p)
                        )));
                    }
                    Some(_) => {}
                }
                if node.op_type != "Constant" {
                    let list = readers.entry(input.as_str()).or_default();
                    // A node reading one tensor twice (x·x) is one reader.
                    if list.last() != Some(&k) {
                        list.push(k);
                    }
                }
            }
        }
        let mut constants = HashMap::new();
        for node in nodes.iter().filter(|n| n.op_type == "Constant") {
            let value = constant_node_value(node)?;
            if let Some(out) = node.output.first() {
                constants.insert(out.clone(), value);
            }
        }
        Ok(Walker {
            nodes,
            initializers,
            producers,
            readers,
            constants,
            shape: Vec::new(),
            layout: Vec::new(),
            data_shape: Vec::new(),
            data_permutation: Vec::new(),
            at_input: true,
            ops: Vec::new(),
            notes: Vec::new(),
            model_dir: None,
        })
    }

    fn is_constant(&self, name: &str) -> bool {
        self.initializers.contains_key(name) || self.constants.contains_key(name)
    }

    fn constant(&self, node: &NodeProto, name: &str) -> Result<Tensor> {
        if let Some(t) = self.constants.get(name) {
            return Ok(t.clone());
        }
        match self.initializers.get(name) {
            Some(t) if !t.external_data.is_empty() => decode(&with_external_data(t, self.model_dir.as_deref())?),
            Some(t) => decode(t),
            None => {
                Err(unsupported(node, format!("input '{name}' must be a constant (an initializer or a Constant node)")))
            }
        }
    }

    fn consumers(&self, tensor: &str) -> Vec<&'a NodeProto> {
        let nodes = self.nodes;
        self.readers.get(tensor).map_or_else(Vec::new, |list| list.iter().map(|&k| &nodes[k]).collect())
    }

    fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Follows the chain from `input` to the logits, turning each node into
    /// an operation. Returns the tensors it ended on: the logits and the
    /// dropped classifier tail's tensors.
    fn walk(&mut self, input: &str, outputs: &HashSet<&str>) -> Result<HashSet<String>> {
        let mut current = input.to_string();
        let mut visited: HashSet<*const NodeProto> = HashSet::new();
        loop {
            // Shape nodes only feed dynamic Reshape targets; they are not data.
            let consumers: Vec<&NodeProto> =
                self.consumers(&current).into_iter().filter(|n| n.op_type != "Shape").collect();
            if consumers.is_empty() {
                if !outputs.contains(current.as_str()) {
                    self.notes.push(format!("tensor '{current}' is not a graph output; it is taken as the logits"));
                }
                return Ok(HashSet::from([current]));
            }
            if consumers.iter().any(|n| TAIL_START.contains(&n.op_type.as_str())) {
                let mut reached = self.drop_tail(&current)?;
                reached.insert(current);
                return Ok(reached);
            }
            if consumers.len() > 1 {
                let names: Vec<String> = consumers.iter().map(|n| format!("'{}' ({})", n.name, n.op_type)).collect();
                return Err(ConvertError::Structure {
                    message: format!(
                        "the graph branches at tensor '{current}', read by {}; only chains of layers are supported (no residual or parallel paths)",
                        names.join(", ")
                    ),
                });
            }
            let node = consumers[0];
            if !visited.insert(node as *const NodeProto) {
                return Err(ConvertError::Structure {
                    message: format!("the graph has a cycle through node '{}'", node.name),
                });
            }
            self.node(node, &current)?;
            // Checked before the next node allocates anything of this size.
            ttfs_ir::limits::tensor_len(&self.shape)
                .and_then(|n| if n == 0 { Err(format!("shape {:?} holds no values", self.shape)) } else { Ok(n) })
                .map_err(|m| unsupported(node, format!("its output {m}")))?;
            current =
                node.output.first().cloned().ok_or_else(|| ConvertError::Structure {
                    message: format!("node '{}' has no output", node.name),
                })?;
        }
    }

    /// Drops every node downstream of the logits, checking it belongs to a
    /// classifier tail. Returns the tensors the tail writes.
    fn drop_tail(&mut self, logits: &str) -> Result<HashSet<String>> {
        let mut tensors = vec![logits.to_string()];
        let mut seen: HashSet<String> = HashSet::new();
        let mut dropped = Vec::new();
        let mut written = HashSet::new();
        while let Some(t) = tensors.pop() {
            for node in self.consumers(&t) {
                if !seen.insert(node.name.clone() + "\0" + &node.op_type + &node.output.join(",")) {
                    continue;
                }
                if !TAIL_ANY.contains(&node.op_type.as_str()) {
                    return Err(ConvertError::UnsupportedOp {
                        node: node.name.clone(),
                        op: node.op_type.clone(),
                        detail: format!(
                            " after the logits (tensor '{logits}'); a classifier tail may only hold {}",
                            TAIL_ANY.join(", ")
                        ),
                    });
                }
                dropped.push(node.op_type.clone());
                tensors.extend(node.output.iter().cloned());
                written.extend(node.output.iter().cloned());
            }
        }
        self.notes.push(format!(
            "dropped the classifier tail after the logits (tensor '{logits}'): {}; the spiking network outputs the logits, whose argmax is the class",
            dropped.join(", ")
        ));
        Ok(written)
    }

    fn node(&mut self, node: &NodeProto, current: &str) -> Result<()> {
        let op = node.op_type.as_str();
        if node.domain == "ai.onnx.ml" && op == "Scaler" {
            self.at_input = false;
            return self.scaler(node);
        }
        if node.domain == "ai.onnx.ml" && op == "Normalizer" {
            let norm = attr_string(node, "norm").unwrap_or_default();
            return Err(unsupported(
                node,
                format!(
                    "scikit-learn's Normalizer divides each sample by its own {norm} norm, which no fixed layer \
                     computes; normalize the data before they reach the network and export the model without it"
                ),
            ));
        }
        if !node.domain.is_empty() && node.domain != "ai.onnx" {
            return Err(ConvertError::UnsupportedOp {
                node: node.name.clone(),
                op: format!("{}:{}", node.domain, node.op_type),
                detail: String::new(),
            });
        }
        // Element-wise ops do not fix a layout: a layout change right after
        // them can still redefine the canonical input layout.
        let keeps_input_layout = matches!(op, "Identity" | "Dropout" | "Cast" | "Add" | "Sub" | "Mul" | "Div");
        let result = match op {
            "Identity" => Ok(()),
            "Dropout" => {
                if node.output.len() > 1 && !node.output[1].is_empty() && !self.consumers(&node.output[1]).is_empty() {
                    return Err(unsupported(node, "the dropout mask output is used".into()));
                }
                Ok(())
            }
            "Cast" => {
                let to = attr_int(node, "to").unwrap_or(0) as i32;
                if [DataType::FLOAT.value(), DataType::DOUBLE.value(), DataType::FLOAT16.value()].contains(&to) {
                    Ok(())
                } else {
                    Err(unsupported(
                        node,
                        format!("a Cast to data type {to} on the data path; only casts to float are supported"),
                    ))
                }
            }
            "Gemm" => self.gemm(node, current),
            "MatMul" => self.matmul(node, current),
            "Add" | "Sub" | "Mul" | "Div" => self.elementwise(node, current),
            "BatchNormalization" => self.batch_norm(node),
            "Relu" => {
                self.ops.push(Op::Relu { name: node.name.clone() });
                Ok(())
            }
            "Conv" => self.conv(node),
            "MaxPool" | "AveragePool" => self.pool(node),
            "GlobalAveragePool" => self.global_pool(node),
            "Flatten" => {
                let axis = attr_int(node, "axis").unwrap_or(1);
                if axis != 1 {
                    return Err(unsupported(
                        node,
                        format!("axis {axis}; only axis 1 (keep the batch axis) is supported"),
                    ));
                }
                self.flatten(node);
                Ok(())
            }
            "Reshape" => self.reshape(node),
            "Transpose" => self.transpose(node),
            _ => Err(ConvertError::UnsupportedOp {
                node: node.name.clone(),
                op: node.op_type.clone(),
                detail: String::new(),
            }),
        };
        if !keeps_input_layout && op != "Transpose" && op != "Reshape" {
            self.at_input = false;
        }
        result
    }

    fn require_flat(&self, node: &NodeProto) -> Result<usize> {
        if self.shape.len() != 1 {
            return Err(unsupported(
                node,
                format!("reads a tensor of shape {:?}; a dense layer needs a flat input (add a Flatten)", self.shape),
            ));
        }
        Ok(self.shape[0])
    }

    fn require_chw(&self, node: &NodeProto) -> Result<[usize; 3]> {
        match *self.shape.as_slice() {
            [c, h, w] if self.layout == [0, 1, 2] => Ok([c, h, w]),
            [_, _, _] => Err(unsupported(
                node,
                "reads a tensor whose axes are not in channel-first order (a Transpose before it); only NCHW is supported here".into(),
            )),
            _ => Err(unsupported(node, format!("needs an image tensor [C, H, W], found shape {:?}", self.shape))),
        }
    }

    fn gemm(&mut self, node: &NodeProto, current: &str) -> Result<()> {
        if node.input.first().map(String::as_str) != Some(current) {
            return Err(unsupported(
                node,
                "the data must be input A; a constant A with the data as B is not supported".into(),
            ));
        }
        if attr_int(node, "transA").unwrap_or(0) != 0 {
            return Err(unsupported(
                node,
                "transA=1 on the data input (batch must be the first axis); only transA=0 is supported".into(),
            ));
        }
        let trans_b = attr_int(node, "transB").unwrap_or(0) != 0;
        let alpha = f64::from(attr_float(node, "alpha").unwrap_or(1.0));
        let beta = f64::from(attr_float(node, "beta").unwrap_or(1.0));
        let inputs = self.require_flat(node)?;
        let b = self.constant(node, input_name(node, 1)?)?;
        if b.dims.len() != 2 {
            return Err(unsupported(node, format!("weight B has shape {:?}; expected a matrix", b.dims)));
        }
        let (k, m) = if trans_b { (b.dims[1], b.dims[0]) } else { (b.dims[0], b.dims[1]) };
        if k != inputs {
            return Err(unsupported(
                node,
                format!(
                    "weight B has shape {:?} (transB={}) for an input of {inputs} features",
                    b.dims,
                    u8::from(trans_b)
                ),
            ));
        }
        let weights = (0..m)
            .flat_map(|o| (0..k).map(move |i| (o, i)))
            .map(|(o, i)| alpha * if trans_b { b.values[o * k + i] } else { b.values[i * m + o] })
            .collect();
        let bias = match node.input.get(2).filter(|n| !n.is_empty()) {
            Some(c) => {
                let c = self.constant(node, c)?;
                broadcast(node, &c, &[m])?.into_iter().map(|v| beta * v).collect()
            }
            None => vec![0.0; m],
        };
        self.ops.push(Op::Dense { name: node.name.clone(), inputs, outputs: m, weights, bias });
        self.shape = vec![m];
        self.layout = vec![0];
        Ok(())
    }

    fn matmul(&mut self, node: &NodeProto, current: &str) -> Result<()> {
        if node.input.first().map(String::as_str) != Some(current) {
            return Err(unsupported(node, "the data must be the left operand (data × weights)".into()));
        }
        let inputs = self.require_flat(node)?;
        let w = self.constant(node, input_name(node, 1)?)?;
        if w.dims.len() != 2 || w.dims[0] != inputs {
            return Err(unsupported(
                node,
                format!("weight shape {:?} does not fit an input of {inputs} features", w.dims),
            ));
        }
        let m = w.dims[1];
        let weights = (0..m).flat_map(|o| (0..inputs).map(move |i| (o, i))).map(|(o, i)| w.values[i * m + o]).collect();
        self.ops.push(Op::Dense { name: node.name.clone(), inputs, outputs: m, weights, bias: vec![0.0; m] });
        self.shape = vec![m];
        self.layout = vec![0];
        Ok(())
    }

    fn elementwise(&mut self, node: &NodeProto, current: &str) -> Result<()> {
        let (data_first, other) = match node.input.as_slice() {
            [a, b] if a == current && self.is_constant(b) => (true, b),
            [a, b] if b == current && self.is_constant(a) => (false, a),
            _ => {
                return Err(ConvertError::Structure {
                    message: format!(
                        "node '{}' ({}) combines two data tensors; only an element-wise op with a constant can be folded (no residual connections)",
                        node.name, node.op_type
                    ),
                });
            }
        };
        let c = self.constant(node, other)?;
        let c = self.to_canonical(broadcast(node, &c, &self.shape)?);
        let n = c.len();
        let (scale, offset): (Vec<f64>, Vec<f64>) = match (node.op_type.as_str(), data_first) {
            ("Add", _) => (vec![1.0; n], c),
            ("Sub", true) => (vec![1.0; n], c.iter().map(|v| -v).collect()),
            ("Sub", false) => (vec![-1.0; n], c),
            ("Mul", _) => (c, vec![0.0; n]),
            ("Div", true) => {
                if let Some(i) = c.iter().position(|v| *v == 0.0) {
                    return Err(unsupported(node, format!("divides by zero (element {i} of the constant)")));
                }
                (c.iter().map(|v| 1.0 / v).collect(), vec![0.0; n])
            }
            _ => {
                return Err(unsupported(
                    node,
                    "divides a constant by the data; only data / constant can be folded".into(),
                ));
            }
        };
        self.ops.push(Op::Affine { name: node.name.clone(), scale, offset });
        Ok(())
    }

    /// scikit-learn's `StandardScaler`/`MinMaxScaler` as skl2onnx writes
    /// them (`ai.onnx.ml` Scaler): `y = (x − offset)·scale`, per feature
    /// (one value, or one per feature), an element-wise op that folds into
    /// the next layer.
    fn scaler(&mut self, node: &NodeProto) -> Result<()> {
        let n = self.require_flat(node)?;
        let floats = |name: &str| -> Result<Vec<f64>> {
            let values: Vec<f64> =
                attribute(node, name).map(|a| a.floats.iter().map(|&v| f64::from(v)).collect()).unwrap_or_default();
            match values.len() {
                0 => Ok(vec![if name == "scale" { 1.0 } else { 0.0 }; n]),
                1 => Ok(vec![values[0]; n]),
                len if len == n => Ok(values),
                len => Err(unsupported(node, format!("{name} has {len} values for {n} features; expected 1 or {n}"))),
            }
        };
        let (offset, scale) = (floats("offset")?, floats("scale")?);
        if let Some(i) = offset.iter().chain(&scale).position(|v| !v.is_finite()) {
            return Err(unsupported(node, format!("holds a value that is not a finite number (element {i})")));
        }
        let shift = offset.iter().zip(&scale).map(|(o, s)| -o * s).collect();
        self.ops.push(Op::Affine { name: node.name.clone(), scale, offset: shift });
        Ok(())
    }

    fn batch_norm(&mut self, node: &NodeProto) -> Result<()> {
        if attr_int(node, "training_mode").unwrap_or(0) != 0 {
            return Err(unsupported(node, "training_mode=1; export the model in inference mode".into()));
        }
        let eps = f64::from(attr_float(node, "epsilon").unwrap_or(1e-5));
        let channels = self.shape.first().copied().unwrap_or(0);
        let mut params = Vec::new();
        for k in 1..=4 {
            let t = self.constant(node, input_name(node, k)?)?;
            if t.values.len() != channels {
                return Err(unsupported(
                    node,
                    format!("parameter {k} has {} values for {channels} channels", t.values.len()),
                ));
            }
            params.push(t.values);
        }
        if self.shape.len() == 3 {
            self.require_chw(node)?;
        }
        let per_channel = self.len() / channels.max(1);
        let mut scale = Vec::with_capacity(self.len());
        let mut offset = Vec::with_capacity(self.len());
        let [gamma, beta, mean, variance] = [&params[0], &params[1], &params[2], &params[3]];
        for (c, &var) in variance.iter().enumerate() {
            if var + eps <= 0.0 {
                return Err(unsupported(
                    node,
                    format!("variance {var} + epsilon {eps} of channel {c} is not positive"),
                ));
            }
            let kappa = gamma[c] / (var + eps).sqrt();
            let shift = beta[c] - mean[c] * kappa;
            scale.extend(std::iter::repeat_n(kappa, per_channel));
            offset.extend(std::iter::repeat_n(shift, per_channel));
        }
        self.ops.push(Op::Affine { name: node.name.clone(), scale, offset });
        Ok(())
    }

    fn conv(&mut self, node: &NodeProto) -> Result<()> {
        let [c, h, w] = self.require_chw(node)?;
        let group = attr_int(node, "group").unwrap_or(1);
        if group != 1 {
            return Err(unsupported(node, format!("grouped convolution (group={group}); only group=1 is supported")));
        }
        let wt = self.constant(node, input_name(node, 1)?)?;
        if wt.dims.len() != 4 || wt.dims[1] != c {
            return Err(unsupported(
                node,
                format!("weight shape {:?} does not fit an input with {c} channels", wt.dims),
            ));
        }
        let (co, kernel) = (wt.dims[0], [wt.dims[2], wt.dims[3]]);
        check_unit_dilations(node)?;
        let stride = pair(node, "strides", [1, 1])?;
        let pads = pads(node, [h, w], kernel, stride)?;
        let bias = match node.input.get(2).filter(|n| !n.is_empty()) {
            Some(b) => broadcast(node, &self.constant(node, b)?, &[co])?,
            None => vec![0.0; co],
        };
        let oh = ttfs_ir::conv_out_dim(h, kernel[0], stride[0], pads[0], pads[2]);
        let ow = ttfs_ir::conv_out_dim(w, kernel[1], stride[1], pads[1], pads[3]);
        let (Some(oh), Some(ow)) = (oh, ow) else {
            return Err(unsupported(node, format!("kernel {kernel:?} does not fit the input [{c}, {h}, {w}]")));
        };
        self.ops.push(Op::Conv {
            name: node.name.clone(),
            out_channels: co,
            kernel,
            stride,
            pads,
            weights: wt.values,
            bias,
        });
        self.shape = vec![co, oh, ow];
        Ok(())
    }

    fn pool(&mut self, node: &NodeProto) -> Result<()> {
        let [c, h, w] = self.require_chw(node)?;
        let kernel = match attr_ints(node, "kernel_shape") {
            Some(k) if k.len() == 2 && k.iter().all(|&v| v > 0) => [k[0] as usize, k[1] as usize],
            _ => return Err(unsupported(node, "needs a 2-D kernel_shape".into())),
        };
        if attr_int(node, "ceil_mode").unwrap_or(0) != 0 {
            return Err(unsupported(node, "ceil_mode=1; only floor mode (ceil_mode=0) is supported".into()));
        }
        check_unit_dilations(node)?;
        if node.output.len() > 1 && !node.output[1].is_empty() {
            return Err(unsupported(node, "the indices output is used".into()));
        }
        let stride = pair(node, "strides", [1, 1])?;
        let pads = pads(node, [h, w], kernel, stride)?;
        let oh = ttfs_ir::conv_out_dim(h, kernel[0], stride[0], pads[0], pads[2]);
        let ow = ttfs_ir::conv_out_dim(w, kernel[1], stride[1], pads[1], pads[3]);
        let (Some(oh), Some(ow)) = (oh, ow) else {
            return Err(unsupported(node, format!("pool {kernel:?} does not fit the input [{c}, {h}, {w}]")));
        };
        let name = node.name.clone();
        self.ops.push(if node.op_type == "MaxPool" {
            Op::MaxPool { name, kernel, stride, pads }
        } else {
            let count_include_pad = attr_int(node, "count_include_pad").unwrap_or(0) != 0;
            Op::AvgPool { name, kernel, stride, pads, count_include_pad }
        });
        self.shape = vec![c, oh, ow];
        Ok(())
    }

    fn global_pool(&mut self, node: &NodeProto) -> Result<()> {
        let [c, h, w] = self.require_chw(node)?;
        self.ops.push(Op::AvgPool {
            name: node.name.clone(),
            kernel: [h, w],
            stride: [1, 1],
            pads: [0; 4],
            count_include_pad: false,
        });
        self.shape = vec![c, 1, 1];
        Ok(())
    }

    fn flatten(&mut self, node: &NodeProto) {
        if self.shape.len() == 1 {
            return;
        }
        let map = self.onnx_to_canonical();
        let identity = map.iter().enumerate().all(|(i, &m)| i == m);
        self.ops.push(Op::Flatten { name: node.name.clone(), order: (!identity).then_some(map) });
        self.shape = vec![self.len()];
        self.layout = vec![0];
    }

    fn reshape(&mut self, node: &NodeProto) -> Result<()> {
        let n = self.len();
        let shape_input = input_name(node, 1)?;
        let target: Option<Vec<i64>> = if self.is_constant(shape_input) {
            Some(self.constant(node, shape_input)?.values.iter().map(|&v| v as i64).collect())
        } else {
            None
        };
        if let (true, Some(t)) = (self.at_input, target.as_deref())
            && let Some(p) = unit_axis_permutation(&self.shape, t)
        {
            // Only size-1 axes move (NHWC with one channel to NCHW): the
            // element order is unchanged, so this is a layout change.
            self.relayout_input(&p);
            return Ok(());
        }
        self.at_input = false;
        let flat = match target.as_deref() {
            // A shape computed at run time (Shape → Gather → Concat): only a
            // flatten of the batch's rows is meaningful for a chain.
            None => {
                self.notes
                    .push(format!("Reshape '{}' has a computed target shape; it is taken as a flatten", node.name));
                true
            }
            Some([_, b]) if *b == n as i64 || *b == -1 => true,
            Some(t)
                if t.len() == 1 + self.shape.len() && t[1..].iter().zip(&self.shape).all(|(a, b)| *a == *b as i64) =>
            {
                return Ok(()); // no change
            }
            Some(t) => {
                return Err(unsupported(
                    node,
                    format!(
                        "reshape to {t:?} of a tensor of shape {:?}; only a flatten to [batch, {n}] is supported",
                        self.shape
                    ),
                ));
            }
        };
        if flat {
            self.flatten(node);
        }
        Ok(())
    }

    fn transpose(&mut self, node: &NodeProto) -> Result<()> {
        let rank = self.shape.len() + 1;
        let perm: Vec<usize> = match attr_ints(node, "perm") {
            Some(p) => p.iter().map(|&v| v as usize).collect(),
            None => (0..rank).rev().collect(),
        };
        let mut sorted = perm.clone();
        sorted.sort_unstable();
        if sorted != (0..rank).collect::<Vec<_>>() || perm[0] != 0 {
            return Err(unsupported(
                node,
                format!("perm {perm:?} moves the batch axis or is not a permutation of {rank} axes"),
            ));
        }
        let p: Vec<usize> = perm[1..].iter().map(|&a| a - 1).collect();
        if self.at_input {
            self.relayout_input(&p);
        } else {
            self.layout = p.iter().map(|&a| self.layout[a]).collect();
            self.shape = p.iter().map(|&a| self.shape[a]).collect();
        }
        Ok(())
    }

    /// Redefines the canonical input layout as the current one transposed by
    /// `p` (canonical axis i = current axis p[i]): the data arrive in the
    /// model's layout and are reordered on load. Element-wise ops already
    /// read are reordered to match.
    fn relayout_input(&mut self, p: &[usize]) {
        let old_shape = self.shape.clone();
        let new_shape: Vec<usize> = p.iter().map(|&a| old_shape[a]).collect();
        let mut old_strides = vec![1usize; old_shape.len()];
        for a in (0..old_shape.len().saturating_sub(1)).rev() {
            old_strides[a] = old_strides[a + 1] * old_shape[a + 1];
        }
        let n: usize = old_shape.iter().product();
        let mut new_to_old = Vec::with_capacity(n);
        let mut index = vec![0usize; new_shape.len()];
        for _ in 0..n {
            new_to_old.push((0..p.len()).map(|i| index[i] * old_strides[p[i]]).sum::<usize>());
            for a in (0..new_shape.len()).rev() {
                index[a] += 1;
                if index[a] < new_shape[a] {
                    break;
                }
                index[a] = 0;
            }
        }
        for op in &mut self.ops {
            if let Op::Affine { scale, offset, .. } = op {
                *scale = new_to_old.iter().map(|&o| scale[o]).collect();
                *offset = new_to_old.iter().map(|&o| offset[o]).collect();
            }
        }
        self.data_permutation = p.iter().map(|&a| self.data_permutation[a]).collect();
        self.shape = new_shape;
        self.layout = (0..self.shape.len()).collect();
    }

    /// For each element of the current tensor in ONNX order, its index in
    /// canonical order.
    fn onnx_to_canonical(&self) -> Vec<usize> {
        let rank = self.shape.len();
        let mut canonical_shape = vec![0; rank];
        for a in 0..rank {
            canonical_shape[self.layout[a]] = self.shape[a];
        }
        let mut canonical_strides = vec![1; rank];
        for a in (0..rank.saturating_sub(1)).rev() {
            canonical_strides[a] = canonical_strides[a + 1] * canonical_shape[a + 1];
        }
        let mut map = Vec::with_capacity(self.len());
        let mut index = vec![0; rank];
        for _ in 0..self.len() {
            map.push((0..rank).map(|a| index[a] * canonical_strides[self.layout[a]]).sum());
            for a in (0..rank).rev() {
                index[a] += 1;
                if index[a] < self.shape[a] {
                    break;
                }
                index[a] = 0;
            }
        }
        map
    }

    /// Reorders values given in ONNX order into canonical order.
    fn to_canonical(&self, values: Vec<f64>) -> Vec<f64> {
        if self.layout.iter().enumerate().all(|(i, &l)| i == l) {
            return values;
        }
        let mut out = vec![0.0; values.len()];
        for (f, c) in self.onnx_to_canonical().into_iter().enumerate() {
            out[c] = values[f];
        }
        out
    }
}

/// The permutation that turns `from` into the reshape target `target`
/// (with its batch axis) when the reshape only moves size-1 axes.
fn unit_axis_permutation(from: &[usize], target: &[i64]) -> Option<Vec<usize>> {
    let n: usize = from.iter().product();
    let rest = target.get(1..)?;
    let known: i64 = rest.iter().filter(|&&d| d > 0).product();
    let to: Vec<usize> = rest
        .iter()
        .map(|&d| match d {
            d if d > 0 => Some(d as usize),
            -1 if known > 0 && n as i64 % known == 0 => Some(n / known as usize),
            _ => None,
        })
        .collect::<Option<_>>()?;
    if to.len() != from.len() || to.iter().product::<usize>() != n || to == from {
        return None;
    }
    let non_unit = |s: &[usize]| s.iter().copied().enumerate().filter(|(_, d)| *d != 1).collect::<Vec<_>>();
    let (nf, nt) = (non_unit(from), non_unit(&to));
    if nf.len() != nt.len() || nf.iter().zip(&nt).any(|(a, b)| a.1 != b.1) {
        return None;
    }
    let mut units = from.iter().enumerate().filter(|(_, d)| **d == 1).map(|(a, _)| a);
    let mut next_non_unit = nf.iter().map(|(a, _)| *a);
    to.iter().map(|&d| if d == 1 { units.next() } else { next_non_unit.next() }).collect()
}

fn unsupported(node: &NodeProto, message: String) -> ConvertError {
    ConvertError::Unsupported { node: node.name.clone(), op: node.op_type.clone(), message }
}

fn input_name(node: &NodeProto, k: usize) -> Result<&str> {
    node.input
        .get(k)
        .map(String::as_str)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| unsupported(node, format!("input {k} is missing")))
}

fn attribute<'n>(node: &'n NodeProto, name: &str) -> Option<&'n onnx_protobuf::AttributeProto> {
    node.attribute.iter().find(|a| a.name == name)
}

fn attr_int(node: &NodeProto, name: &str) -> Option<i64> {
    attribute(node, name).map(|a| a.i)
}

fn attr_float(node: &NodeProto, name: &str) -> Option<f32> {
    attribute(node, name).map(|a| a.f)
}

fn attr_ints<'n>(node: &'n NodeProto, name: &str) -> Option<&'n [i64]> {
    attribute(node, name).map(|a| a.ints.as_slice())
}

fn attr_string(node: &NodeProto, name: &str) -> Option<String> {
    attribute(node, name).map(|a| String::from_utf8_lossy(&a.s).into_owned())
}

fn pair(node: &NodeProto, name: &str, default: [usize; 2]) -> Result<[usize; 2]> {
    match attr_ints(node, name) {
        None => Ok(default),
        Some([a, b]) if *a > 0 && *b > 0 => Ok([*a as usize, *b as usize]),
        Some(v) => Err(unsupported(node, format!("{name} {v:?}; expected two positive values"))),
    }
}

fn check_unit_dilations(node: &NodeProto) -> Result<()> {
    match attr_ints(node, "dilations") {
        Some(d) if d.iter().any(|&v| v != 1) => Err(unsupported(node, format!("dilations {d:?}; only 1 is supported"))),
        _ => Ok(()),
    }
}

/// Padding `[top, left, bottom, right]` from `pads` or `auto_pad`.
fn pads(node: &NodeProto, input: [usize; 2], kernel: [usize; 2], stride: [usize; 2]) -> Result<[usize; 4]> {
    let auto = attr_string(node, "auto_pad").unwrap_or_default();
    match auto.as_str() {
        "" | "NOTSET" => match attr_ints(node, "pads") {
            None => Ok([0; 4]),
            Some(p) if p.len() == 4 && p.iter().all(|&v| v >= 0) => {
                Ok([p[0] as usize, p[1] as usize, p[2] as usize, p[3] as usize])
            }
            Some(p) => Err(unsupported(node, format!("pads {p:?}; expected four non-negative values"))),
        },
        "VALID" => Ok([0; 4]),
        "SAME_UPPER" | "SAME_LOWER" => {
            let mut out = [0; 4];
            for axis in 0..2 {
                let o = input[axis].div_ceil(stride[axis]);
                let total = ((o - 1) * stride[axis] + kernel[axis]).saturating_sub(input[axis]);
                let (lo, hi) =
                    if auto == "SAME_UPPER" { (total / 2, total - total / 2) } else { (total - total / 2, total / 2) };
                out[axis] = lo;
                out[axis + 2] = hi;
            }
            Ok(out)
        }
        other => Err(unsupported(node, format!("auto_pad {other}"))),
    }
}

/// Broadcasts a constant to `shape` (no batch axis) with NumPy rules, a
/// leading batch axis of 1 allowed.
fn broadcast(node: &NodeProto, c: &Tensor, shape: &[usize]) -> Result<Vec<f64>> {
    let mut dims = c.dims.clone();
    if dims.len() == shape.len() + 1 {
        if dims[0] != 1 {
            return Err(unsupported(node, format!("constant of shape {:?} has a batch axis of {}", c.dims, dims[0])));
        }
        dims.remove(0);
    }
    if dims.len() > shape.len() {
        return Err(unsupported(node, format!("constant of shape {:?} does not broadcast to {shape:?}", c.dims)));
    }
    let pad = shape.len() - dims.len();
    let dims: Vec<usize> = std::iter::repeat_n(1, pad).chain(dims).collect();
    if dims.iter().zip(shape).any(|(d, s)| *d != 1 && d != s) {
        return Err(unsupported(node, format!("constant of shape {:?} does not broadcast to {shape:?}", c.dims)));
    }
    let n: usize = shape.iter().product();
    let mut strides = vec![0usize; dims.len()];
    let mut stride = 1;
    for a in (0..dims.len()).rev() {
        strides[a] = if dims[a] == 1 { 0 } else { stride };
        stride *= dims[a];
    }
    let mut out = Vec::with_capacity(n);
    let mut index = vec![0; shape.len()];
    for _ in 0..n {
        out.push(c.values[index.iter().zip(&strides).map(|(i, s)| i * s).sum::<usize>()]);
        for a in (0..shape.len()).rev() {
            index[a] += 1;
            if index[a] < shape[a] {
                break;
            }
            index[a] = 0;
        }
    }
    Ok(out)
}

fn constant_node_value(node: &NodeProto) -> Result<Tensor> {
    for a in &node.attribute {
        let ty = a.type_.enum_value().ok();
        match (a.name.as_str(), ty) {
            ("value", _) => {
                return match a.t.as_ref() {
                    Some(t) => decode(t),
                    None => Err(unsupported(node, "has no tensor value".into())),
                };
            }
            ("value_float", _) => return Ok(Tensor { dims: vec![], values: vec![f64::from(a.f)] }),
            ("value_floats", _) => {
                return Ok(Tensor {
                    dims: vec![a.floats.len()],
                    values: a.floats.iter().map(|&v| f64::from(v)).collect(),
                });
            }
            ("value_int", _) => return Ok(Tensor { dims: vec![], values: vec![a.i as f64] }),
            ("value_ints", Some(AttributeType::INTS)) | ("value_ints", _) => {
                return Ok(Tensor { dims: vec![a.ints.len()], values: a.ints.iter().map(|&v| v as f64).collect() });
            }
            _ => {}
        }
    }
    Err(unsupported(node, "has no supported value attribute".into()))
}

/// The largest external data file read for one tensor: 2^30 weights of 8 bytes.
const MAX_EXTERNAL_BYTES: u64 = 8 << 30;

/// `t` with its external data (PyTorch's exporter writes large weights to
/// `MODEL.onnx.data`) read into `raw_data`. The data file is untrusted
/// like the model: its name must be a plain relative path inside the
/// model's folder (no `..`, no absolute path, no link out of the folder),
/// and offset and length must lie inside the file; only those bytes are
/// read.
fn with_external_data(t: &TensorProto, model_dir: Option<&Path>) -> Result<TensorProto> {
    let refuse = |message: String| ConvertError::Structure { message: format!("tensor '{}': {message}", t.name) };
    let field = |key: &str| t.external_data.iter().find(|e| e.key == key).map(|e| e.value.as_str());
    let location = field("location").ok_or_else(|| refuse("external data without a location".into()))?;
    let relative = Path::new(location);
    if location.is_empty() || !relative.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(refuse(format!(
            "external data location {location:?} must be a file name relative to the model's folder (no '..', no absolute path)"
        )));
    }
    let dir = model_dir.ok_or_else(|| refuse("external data, but the model was not read from a file".into()))?;
    let file = dir.join(relative);
    let inside = match (dir.canonicalize(), file.canonicalize()) {
        (Ok(d), Ok(f)) => f.starts_with(&d) && f.is_file(),
        _ => false,
    };
    if !inside {
        return Err(refuse(format!(
            "external data file {} is missing, or not a file inside the model's folder",
            file.display()
        )));
    }
    let number = |key: &str| -> Result<Option<u64>> {
        field(key)
            .map(|v| v.parse::<u64>().map_err(|_| refuse(format!("external data {key} {v:?} is not a byte count"))))
            .transpose()
    };
    let size = std::fs::metadata(&file).map_err(|e| refuse(format!("cannot read {}: {e}", file.display())))?.len();
    let offset = number("offset")?.unwrap_or(0);
    let length = match number("length")? {
        Some(l) => l,
        None => size.saturating_sub(offset),
    };
    if offset.checked_add(length).is_none_or(|end| end > size) || length > MAX_EXTERNAL_BYTES {
        return Err(refuse(format!(
            "external data at offset {offset}, length {length} does not lie inside {} ({size} bytes)",
            file.display()
        )));
    }
    use std::io::{Read, Seek, SeekFrom};
    let mut raw = vec![0u8; length as usize];
    std::fs::File::open(&file)
        .and_then(|mut f| {
            f.seek(SeekFrom::Start(offset))?;
            f.read_exact(&mut raw)
        })
        .map_err(|e| refuse(format!("cannot read {}: {e}", file.display())))?;
    let mut inline = t.clone();
    inline.external_data.clear();
    inline.data_location = protobuf::EnumOrUnknown::new(onnx_protobuf::tensor_proto::DataLocation::DEFAULT);
    inline.raw_data = raw;
    Ok(inline)
}

/// Decodes an initializer from raw_data or the typed fields; floats must be finite.
fn decode(t: &TensorProto) -> Result<Tensor> {
    let malformed = |message: String| ConvertError::Structure { message: format!("tensor '{}': {message}", t.name) };
    if !t.external_data.is_empty() {
        return Err(malformed("its data is stored in an external file; save the model with the weights inside".into()));
    }
    let dims: Vec<usize> = t
        .dims
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| malformed(format!("negative dimension {d}"))))
        .collect::<Result<_>>()?;
    let n = ttfs_ir::limits::checked_product(&dims)
        .ok_or_else(|| malformed(format!("dimensions {dims:?} hold more values than can be counted")))?;
    let raw = &t.raw_data;
    let ty = DataType::from_i32(t.data_type);
    let values: Vec<f64> = match ty {
        Some(DataType::FLOAT) if !raw.is_empty() => {
            raw.chunks_exact(4).map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))).collect()
        }
        Some(DataType::FLOAT) => t.float_data.iter().map(|&v| f64::from(v)).collect(),
        Some(DataType::DOUBLE) if !raw.is_empty() => {
            raw.chunks_exact(8).map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])).collect()
        }
        Some(DataType::DOUBLE) => t.double_data.clone(),
        Some(DataType::INT64) if !raw.is_empty() => raw
            .chunks_exact(8)
            .map(|b| i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f64)
            .collect(),
        Some(DataType::INT64) => t.int64_data.iter().map(|&v| v as f64).collect(),
        Some(DataType::INT32) if !raw.is_empty() => {
            raw.chunks_exact(4).map(|b| f64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))).collect()
        }
        Some(DataType::INT32 | DataType::INT16 | DataType::INT8 | DataType::UINT8) if raw.is_empty() => {
            t.int32_data.iter().map(|&v| f64::from(v)).collect()
        }
        Some(DataType::UINT8) => raw.iter().map(|&v| f64::from(v)).collect(),
        Some(DataType::INT8) => raw.iter().map(|&v| f64::from(v as i8)).collect(),
        _ => {
            return Err(malformed(format!(
                "data type {} is not supported (float, double or integer tensors are)",
                t.data_type
            )));
        }
    };
    if values.len() != n {
        return Err(malformed(format!("holds {} values for dimensions {dims:?} ({n} values)", values.len())));
    }
    if let Some(index) = values.iter().position(|v| !v.is_finite()) {
        return Err(ConvertError::NonFinite { tensor: t.name.clone(), index, value: values[index] });
    }
    Ok(Tensor { dims, values })
}
