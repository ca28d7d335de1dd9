//! Networks of any size built in Rust, as real ONNX files, for the scaling
//! benchmark and the large-network tests: no large model is committed and no
//! Python runs.
//!
//! A [`Spec`] is a chain of layers (dense, 3×3-style convolutions with zero
//! padding, batch-norm after the ReLU as in the seeds' VGGs, 2×2 max-pooling,
//! flatten); [`Spec::onnx`] writes it as an ONNX model whose weights are
//! drawn from a seeded generator with He-uniform scale, so activations stay
//! non-degenerate through many layers. [`images`] makes seeded byte images
//! (smooth gradients plus noise) to calibrate and simulate them on.

#![allow(dead_code)]

use onnx_protobuf::tensor_proto::DataType;
use onnx_protobuf::{
    AttributeProto, GraphProto, Message, ModelProto, NodeProto, OperatorSetIdProto, TensorProto, TensorShapeProto,
    TypeProto, ValueInfoProto, attribute_proto::AttributeType, tensor_shape_proto::Dimension, type_proto,
};

/// One layer of a synthetic network.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Block {
    /// Fully connected layer with this many outputs, then ReLU (unless last).
    Dense(usize),
    /// Convolution: output channels, square kernel, zero padding each side
    /// (stride 1), then ReLU.
    Conv { out: usize, kernel: usize, pad: usize },
    /// Batch normalization (after a ReLU, folded into the next layer).
    BatchNorm,
    /// 2×2 max-pooling, stride 2.
    Pool,
}

/// A synthetic network: input shape (`[n]` or `[C, H, W]`) and layers; the
/// last layer must be [`Block::Dense`] (the logits, no ReLU).
#[derive(Clone, Debug, PartialEq)]
pub struct Spec {
    /// Name (the model's graph name).
    pub name: String,
    /// Input shape without the batch axis.
    pub input: Vec<usize>,
    /// Layers in order.
    pub blocks: Vec<Block>,
}

/// A SplitMix64 generator: one seed describes a whole network and its data,
/// with no dependency (shared by the synthetic networks and the property
/// tests).
pub struct Rng(pub u64);

impl Rng {
    /// Seeded generator (the seed mixed with the golden-ratio constant, so
    /// that small seeds start far apart).
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// Next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[lo, hi)`.
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next() >> 11) as f64 / (1u64 << 53) as f64)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// `n` values uniform in `[lo, hi)`.
    pub fn vec(&mut self, n: usize, lo: f64, hi: f64) -> Vec<f64> {
        (0..n).map(|_| self.uniform(lo, hi)).collect()
    }
}

impl Spec {
    /// An MLP `inputs-h1-…-classes`.
    pub fn mlp(widths: &[usize]) -> Spec {
        Spec {
            name: format!("mlp_{}", widths.iter().map(|w| w.to_string()).collect::<Vec<_>>().join("_")),
            input: vec![widths[0]],
            blocks: widths[1..].iter().map(|&w| Block::Dense(w)).collect(),
        }
    }

    /// The seeds' 15-layer CIFAR-10 VGG (conv 64, 64, P, 128, 128, P, 256×3,
    /// P, 512×3, P, 512×3, P, dense 512, dense 10; batch-norm after every
    /// convolution's ReLU), with every width divided by `divide`.
    pub fn cifar_vgg(divide: usize) -> Spec {
        let c = |w: usize| (w / divide).max(1);
        let mut blocks = Vec::new();
        let stages: [&[usize]; 5] = [&[64, 64], &[128, 128], &[256, 256, 256], &[512, 512, 512], &[512, 512, 512]];
        for stage in stages {
            for &w in stage {
                blocks.push(Block::Conv { out: c(w), kernel: 3, pad: 1 });
                blocks.push(Block::BatchNorm);
            }
            blocks.push(Block::Pool);
        }
        blocks.push(Block::Dense(c(512)));
        blocks.push(Block::Dense(10));
        Spec { name: format!("cifar_vgg15_div{divide}"), input: vec![3, 32, 32], blocks }
    }

    /// Weights and biases (batch-norm statistics included).
    pub fn parameters(&self) -> usize {
        let mut shape = self.input.clone();
        let mut total = 0;
        for b in &self.blocks {
            match *b {
                Block::Dense(n) => {
                    total += shape.iter().product::<usize>() * n + n;
                    shape = vec![n];
                }
                Block::Conv { out, kernel, pad } => {
                    total += out * shape[0] * kernel * kernel + out;
                    shape = vec![out, shape[1] + 2 * pad + 1 - kernel, shape[2] + 2 * pad + 1 - kernel];
                }
                Block::BatchNorm => total += 4 * shape[0],
                Block::Pool => shape = vec![shape[0], shape[1] / 2, shape[2] / 2],
            }
        }
        total
    }

    /// Multiply-accumulates of one forward pass.
    pub fn macs(&self) -> usize {
        let mut shape = self.input.clone();
        let mut total = 0;
        for b in &self.blocks {
            match *b {
                Block::Dense(n) => {
                    total += shape.iter().product::<usize>() * n;
                    shape = vec![n];
                }
                Block::Conv { out, kernel, pad } => {
                    let taps = shape[0] * kernel * kernel;
                    shape = vec![out, shape[1] + 2 * pad + 1 - kernel, shape[2] + 2 * pad + 1 - kernel];
                    total += shape.iter().product::<usize>() * taps;
                }
                Block::BatchNorm => {}
                Block::Pool => shape = vec![shape[0], shape[1] / 2, shape[2] / 2],
            }
        }
        total
    }

    /// The model as ONNX bytes (opset 13, float32 initializers), weights
    /// drawn from `seed`.
    pub fn onnx(&self, seed: u64) -> Vec<u8> {
        let mut rng = Rng::new(seed);
        let mut g = GraphProto::new();
        g.name = self.name.clone();
        g.input.push(value_info("input", &self.input));
        let mut current = "input".to_string();
        let mut shape = self.input.clone();
        let last = self.blocks.len() - 1;
        for (k, block) in self.blocks.iter().enumerate() {
            let name = format!("n{k}");
            match *block {
                Block::Dense(n) => {
                    if shape.len() > 1 {
                        let mut flat = node("Flatten", &format!("{name}_flatten"), &[&current]);
                        flat.attribute.push(int_attr("axis", 1));
                        current = flat.output[0].clone();
                        g.node.push(flat);
                        shape = vec![shape.iter().product()];
                    }
                    let fan_in = shape[0];
                    let limit = (6.0 / fan_in as f64).sqrt();
                    let w: Vec<f32> = (0..n * fan_in).map(|_| rng.uniform(-limit, limit) as f32).collect();
                    let b: Vec<f32> = (0..n).map(|_| rng.uniform(-0.05, 0.05) as f32).collect();
                    g.initializer.push(tensor(&format!("{name}_w"), &[n, fan_in], &w));
                    g.initializer.push(tensor(&format!("{name}_b"), &[n], &b));
                    let mut gemm = node("Gemm", &name, &[&current, &format!("{name}_w"), &format!("{name}_b")]);
                    gemm.attribute.push(int_attr("transB", 1));
                    current = gemm.output[0].clone();
                    g.node.push(gemm);
                    shape = vec![n];
                    if k != last {
                        current = push_relu(&mut g, &name, &current);
                    }
                }
                Block::Conv { out, kernel, pad } => {
                    let fan_in = shape[0] * kernel * kernel;
                    let limit = (6.0 / fan_in as f64).sqrt();
                    let w: Vec<f32> = (0..out * fan_in).map(|_| rng.uniform(-limit, limit) as f32).collect();
                    let b: Vec<f32> = (0..out).map(|_| rng.uniform(-0.05, 0.05) as f32).collect();
                    g.initializer.push(tensor(&format!("{name}_w"), &[out, shape[0], kernel, kernel], &w));
                    g.initializer.push(tensor(&format!("{name}_b"), &[out], &b));
                    let mut conv = node("Conv", &name, &[&current, &format!("{name}_w"), &format!("{name}_b")]);
                    conv.attribute.push(ints_attr("kernel_shape", &[kernel as i64, kernel as i64]));
                    conv.attribute.push(ints_attr("pads", &[pad as i64; 4]));
                    conv.attribute.push(ints_attr("strides", &[1, 1]));
                    current = conv.output[0].clone();
                    g.node.push(conv);
                    shape = vec![out, shape[1] + 2 * pad + 1 - kernel, shape[2] + 2 * pad + 1 - kernel];
                    current = push_relu(&mut g, &name, &current);
                }
                Block::BatchNorm => {
                    let c = shape[0];
                    let mut values = |lo: f64, hi: f64| (0..c).map(|_| rng.uniform(lo, hi) as f32).collect::<Vec<_>>();
                    let (gamma, beta, mean, var) =
                        (values(0.8, 1.2), values(-0.1, 0.1), values(0.0, 0.3), values(0.5, 1.5));
                    for (suffix, v) in [("scale", gamma), ("bias", beta), ("mean", mean), ("var", var)] {
                        g.initializer.push(tensor(&format!("{name}_{suffix}"), &[c], &v));
                    }
                    let inputs: Vec<String> =
                        ["scale", "bias", "mean", "var"].iter().map(|s| format!("{name}_{s}")).collect();
                    let mut all = vec![current.as_str()];
                    all.extend(inputs.iter().map(String::as_str));
                    let bn = node("BatchNormalization", &name, &all);
                    current = bn.output[0].clone();
                    g.node.push(bn);
                }
                Block::Pool => {
                    let mut pool = node("MaxPool", &name, &[&current]);
                    pool.attribute.push(ints_attr("kernel_shape", &[2, 2]));
                    pool.attribute.push(ints_attr("strides", &[2, 2]));
                    current = pool.output[0].clone();
                    g.node.push(pool);
                    shape = vec![shape[0], shape[1] / 2, shape[2] / 2];
                }
            }
        }
        g.output.push(value_info(&current, &shape));
        let mut model = ModelProto::new();
        model.ir_version = 8;
        model.producer_name = "ttfs synthetic".into();
        model.producer_version = "1".into();
        let mut opset = OperatorSetIdProto::new();
        opset.version = 13;
        model.opset_import.push(opset);
        model.graph = Some(g).into();
        model.write_to_bytes().expect("the model serializes")
    }
}

/// `count` seeded byte images of `shape` (`[C, H, W]`, or `[n]` taken as
/// one channel): per-channel gradients in random directions plus noise, so
/// that neighbouring pixels correlate as in natural images.
pub fn images(shape: &[usize], count: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let (c, h, w) = match shape {
        [c, h, w] => (*c, *h, *w),
        _ => (1, 1, shape.iter().product()),
    };
    let mut out = Vec::with_capacity(count * c * h * w);
    for _ in 0..count {
        for _ in 0..c {
            let (base, dx, dy) = (rng.uniform(40.0, 200.0), rng.uniform(-4.0, 4.0), rng.uniform(-4.0, 4.0));
            for y in 0..h {
                for x in 0..w {
                    let v = base
                        + dx * (x as f64 - w as f64 / 2.0)
                        + dy * (y as f64 - h as f64 / 2.0)
                        + rng.uniform(-40.0, 40.0);
                    out.push(v.clamp(0.0, 255.0) as u8);
                }
            }
        }
    }
    out
}

fn push_relu(g: &mut GraphProto, name: &str, input: &str) -> String {
    let relu = node("Relu", &format!("{name}_relu"), &[input]);
    let out = relu.output[0].clone();
    g.node.push(relu);
    out
}

fn node(op: &str, name: &str, inputs: &[&str]) -> NodeProto {
    let mut n = NodeProto::new();
    n.op_type = op.into();
    n.name = name.into();
    n.input = inputs.iter().map(|s| s.to_string()).collect();
    n.output.push(format!("{name}_out"));
    n
}

fn int_attr(name: &str, v: i64) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.into();
    a.type_ = AttributeType::INT.into();
    a.i = v;
    a
}

fn ints_attr(name: &str, v: &[i64]) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.into();
    a.type_ = AttributeType::INTS.into();
    a.ints = v.to_vec();
    a
}

fn tensor(name: &str, dims: &[usize], values: &[f32]) -> TensorProto {
    let mut t = TensorProto::new();
    t.name = name.into();
    t.data_type = DataType::FLOAT as i32;
    t.dims = dims.iter().map(|&d| d as i64).collect();
    t.raw_data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    t
}

fn value_info(name: &str, shape: &[usize]) -> ValueInfoProto {
    let mut dims = TensorShapeProto::new();
    let mut batch = Dimension::new();
    batch.set_dim_param("N".into());
    dims.dim.push(batch);
    for &d in shape {
        let mut dim = Dimension::new();
        dim.set_dim_value(d as i64);
        dims.dim.push(dim);
    }
    let mut tensor_type = type_proto::Tensor::new();
    tensor_type.elem_type = DataType::FLOAT as i32;
    tensor_type.shape = Some(dims).into();
    let mut t = TypeProto::new();
    t.set_tensor_type(tensor_type);
    let mut v = ValueInfoProto::new();
    v.name = name.into();
    v.type_ = Some(t).into();
    v
}
