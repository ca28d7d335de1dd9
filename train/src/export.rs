//! From a trained b1 network to a network description: the trained layers
//! become the converter's [`Graph`] (the input scaling as an affine op that
//! the converter folds back), and [`ttfs_convert::convert`] calibrates the
//! windows on the training data and quantizes at the bits asked, exactly as
//! for an imported model. The result goes to `sim`, `generate`, `cosim` and
//! `synth` unchanged.

use crate::net::{Layer, Neuron, SpikingNet};
use anyhow::{Context, Result, bail};
use ttfs_convert::{CalibrationData, Graph, Op, Options};
use ttfs_data::{Data, Element};
use ttfs_ir::Network;

/// The trained network as a ReLU graph on raw inputs of `data_shape`, whose
/// first op maps raw values in `range` onto `[0, 1]` as training did.
pub fn to_graph(net: &SpikingNet, name: &str, data_shape: &[usize], range: [f64; 2]) -> Result<Graph> {
    if net.neuron != Neuron::B1 {
        bail!("only b1 networks become network descriptions (the α/J neuron is trained for the gradient analysis)");
    }
    let elements: usize = net.input_shape.iter().product();
    let scale = 1.0 / (range[1] - range[0]);
    let mut ops = vec![Op::Affine {
        name: "input_scaling".into(),
        scale: vec![scale; elements],
        offset: vec![-range[0] * scale; elements],
    }];
    let mut shape = net.input_shape.clone();
    let values = |v: &candle_core::Var| -> Result<Vec<f64>> { Ok(v.as_tensor().flatten_all()?.to_vec1::<f64>()?) };
    for (k, layer) in net.layers.iter().enumerate() {
        match layer {
            Layer::Dense { w, b, window } => {
                if shape.len() > 1 {
                    ops.push(Op::Flatten { name: format!("flatten{k}"), order: None });
                }
                let (outputs, inputs) = w.as_tensor().dims2()?;
                ops.push(Op::Dense {
                    name: format!("dense{k}"),
                    inputs,
                    outputs,
                    weights: values(w)?,
                    bias: values(b)?,
                });
                if window.is_some() {
                    ops.push(Op::Relu { name: format!("relu{k}") });
                }
                shape = vec![outputs];
            }
            Layer::Conv { w, b, stride, pad, .. } => {
                let (co, _, kh, kw) = w.as_tensor().dims4()?;
                ops.push(Op::Conv {
                    name: format!("conv{k}"),
                    out_channels: co,
                    kernel: [kh, kw],
                    stride: [*stride, *stride],
                    pads: [*pad; 4],
                    weights: values(w)?,
                    bias: values(b)?,
                });
                ops.push(Op::Relu { name: format!("relu{k}") });
                let out = |d: usize| (d + 2 * pad - kh) / stride + 1;
                shape = vec![co, out(shape[1]), out(shape[2])];
            }
            Layer::Pool { kernel, stride } => {
                ops.push(Op::MaxPool {
                    name: format!("pool{k}"),
                    kernel: [*kernel, *kernel],
                    stride: [*stride, *stride],
                    pads: [0; 4],
                });
                let out = |d: usize| (d - kernel) / stride + 1;
                shape = vec![shape[0], out(shape[1]), out(shape[2])];
            }
        }
    }
    let data_shape = if data_shape.iter().product::<usize>() == elements && data_shape.len() == net.input_shape.len() {
        data_shape.to_vec()
    } else {
        net.input_shape.clone()
    };
    Ok(Graph {
        name: name.to_string(),
        producer: format!("ttfs train {}", env!("CARGO_PKG_VERSION")),
        data_permutation: (0..data_shape.len()).collect(),
        data_shape,
        ops,
        notes: Vec::new(),
    })
}

/// Converts the trained network into a calibrated, quantized description:
/// windows from `calibration` (raw values, the training data), the integer
/// network at `options`' bits, the input range fixed to `range`.
pub fn export(net: &SpikingNet, name: &str, calibration: &Data, range: [f64; 2], options: &Options) -> Result<Network> {
    let graph = to_graph(net, name, &calibration.sample_shape, range)?;
    let calib_name = calibration
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "training data".into());
    let mut options = options.clone();
    options.input_range = Some(range);
    let natural_range = (calibration.element == Element::U8).then_some([0.0, 255.0]);
    ttfs_convert::convert(
        &graph,
        &CalibrationData { name: calib_name, values: &calibration.values, count: calibration.count, natural_range },
        &options,
    )
    .context("converting the trained network into a network description")
}
