//! Connectivity of each layer kind, shared by every simulator: which inputs
//! a neuron reads (fan-in, for closed forms) and which neurons an input spike
//! reaches (fan-out, for event-driven simulation), each with the index of
//! the weight on that synapse.

use ttfs_ir::{Conv2d, Layer, MaxPool, Network, Shape};

/// The connectivity of one weight layer.
#[derive(Clone, Debug)]
pub enum Synapses {
    /// Every input reaches every neuron; weight `[i][j]` at `i·inputs + j`.
    Dense {
        /// Inputs.
        inputs: usize,
        /// Neurons.
        outputs: usize,
    },
    /// A convolution; weight `[co][ci][ky][kx]`.
    Conv(ConvGeometry),
}

/// Convolution geometry with the output size resolved.
#[derive(Clone, Debug)]
pub struct ConvGeometry {
    /// Input `[C, H, W]`.
    pub in_shape: [usize; 3],
    /// Output `[C, H, W]`.
    pub out_shape: [usize; 3],
    /// `[kh, kw]`.
    pub kernel: [usize; 2],
    /// `[sh, sw]`.
    pub stride: [usize; 2],
    /// `[top, left]` padding (bottom/right only shape the output size).
    pub pad: [usize; 2],
}

impl ConvGeometry {
    fn new(
        in_shape: [usize; 3],
        out_shape: [usize; 3],
        kernel: [usize; 2],
        stride: [usize; 2],
        pads: [usize; 4],
    ) -> Self {
        ConvGeometry { in_shape, out_shape, kernel, stride, pad: [pads[0], pads[1]] }
    }

    /// Calls `f(input_index, tap)` for every tap of output position
    /// `(oy, ox)` that falls inside the input, where `tap = ky·kw + kx`;
    /// taps in the padding are skipped (they carry zero).
    #[inline]
    pub fn for_each_tap(&self, oy: usize, ox: usize, mut f: impl FnMut(usize, usize)) {
        let [_, h, w] = self.in_shape;
        let [kh, kw] = self.kernel;
        for ky in 0..kh {
            let y = (oy * self.stride[0] + ky) as isize - self.pad[0] as isize;
            if y < 0 || y >= h as isize {
                continue;
            }
            for kx in 0..kw {
                let x = (ox * self.stride[1] + kx) as isize - self.pad[1] as isize;
                if x < 0 || x >= w as isize {
                    continue;
                }
                f(y as usize * w + x as usize, ky * kw + kx);
            }
        }
    }

    /// Calls `f(oy, ox, tap)` for every output position whose window holds
    /// input pixel `(y, x)`, with the tap that pixel sits on.
    #[inline]
    pub fn for_each_covering(&self, y: usize, x: usize, mut f: impl FnMut(usize, usize, usize)) {
        let [_, oh, ow] = self.out_shape;
        let [kh, kw] = self.kernel;
        let [sh, sw] = self.stride;
        let py = y + self.pad[0];
        let px = x + self.pad[1];
        for ky in 0..kh.min(py + 1) {
            let num = py - ky;
            if !num.is_multiple_of(sh) || num / sh >= oh {
                continue;
            }
            for kx in 0..kw.min(px + 1) {
                let numx = px - kx;
                if !numx.is_multiple_of(sw) || numx / sw >= ow {
                    continue;
                }
                f(num / sh, numx / sw, ky * kw + kx);
            }
        }
    }

    /// Number of taps of output position `(oy, ox)` that fall in the padding.
    pub fn padded_taps(&self, oy: usize, ox: usize) -> usize {
        let mut inside = 0;
        self.for_each_tap(oy, ox, |_, _| inside += 1);
        self.kernel[0] * self.kernel[1] - inside
    }
}

impl Synapses {
    /// Number of neurons.
    pub fn outputs(&self) -> usize {
        match self {
            Synapses::Dense { outputs, .. } => *outputs,
            Synapses::Conv(g) => g.out_shape.iter().product(),
        }
    }

    /// Number of inputs.
    pub fn inputs(&self) -> usize {
        match self {
            Synapses::Dense { inputs, .. } => *inputs,
            Synapses::Conv(g) => g.in_shape.iter().product(),
        }
    }

    /// Output channel of neuron `o` (its weight row and bias index).
    #[inline]
    pub fn channel(&self, o: usize) -> usize {
        match self {
            Synapses::Dense { .. } => o,
            Synapses::Conv(g) => o / (g.out_shape[1] * g.out_shape[2]),
        }
    }

    /// Calls `f(input, weight_index)` for every synapse into neuron `o`.
    #[inline]
    pub fn for_each_fanin(&self, o: usize, mut f: impl FnMut(usize, usize)) {
        match self {
            Synapses::Dense { inputs, .. } => {
                for j in 0..*inputs {
                    f(j, o * inputs + j);
                }
            }
            Synapses::Conv(g) => {
                let [ci_n, h, w] = g.in_shape;
                let [_, oh, ow] = g.out_shape;
                let taps = g.kernel[0] * g.kernel[1];
                let co = o / (oh * ow);
                let oy = (o / ow) % oh;
                let ox = o % ow;
                g.for_each_tap(oy, ox, |pix, tap| {
                    for ci in 0..ci_n {
                        f(ci * h * w + pix, (co * ci_n + ci) * taps + tap);
                    }
                });
            }
        }
    }

    /// Calls `f(neuron, weight_index)` for every synapse out of input `j`.
    #[inline]
    pub fn for_each_fanout(&self, j: usize, mut f: impl FnMut(usize, usize)) {
        match self {
            Synapses::Dense { inputs, outputs } => {
                for o in 0..*outputs {
                    f(o, o * inputs + j);
                }
            }
            Synapses::Conv(g) => {
                let [ci_n, h, w] = g.in_shape;
                let [co_n, oh, ow] = g.out_shape;
                let taps = g.kernel[0] * g.kernel[1];
                let ci = j / (h * w);
                let y = (j / w) % h;
                let x = j % w;
                g.for_each_covering(y, x, |oy, ox, tap| {
                    for co in 0..co_n {
                        f((co * oh + oy) * ow + ox, (co * ci_n + ci) * taps + tap);
                    }
                });
            }
        }
    }

    /// Number of synapses out of input `j` (its fan-out).
    pub fn fanout_len(&self, j: usize) -> usize {
        let mut n = 0;
        self.for_each_fanout(j, |_, _| n += 1);
        n
    }
}

/// Pooling geometry with the output size resolved.
#[derive(Clone, Debug)]
pub struct PoolGeometry {
    inner: ConvGeometry,
}

impl PoolGeometry {
    /// Calls `f(input)` for every input of pooled output `o` (padding skipped).
    #[inline]
    pub fn for_each_input(&self, o: usize, mut f: impl FnMut(usize)) {
        let [_, h, w] = self.inner.in_shape;
        let [_, oh, ow] = self.inner.out_shape;
        let c = o / (oh * ow);
        let oy = (o / ow) % oh;
        let ox = o % ow;
        self.inner.for_each_tap(oy, ox, |pix, _| f(c * h * w + pix));
    }

    /// Number of pooled outputs.
    pub fn outputs(&self) -> usize {
        self.inner.out_shape.iter().product()
    }
}

/// One layer prepared for simulation.
#[derive(Clone, Debug)]
pub enum Stage {
    /// A weight layer: index into the network's layers and its synapses.
    Weights {
        /// Index in `Network::layers`.
        layer: usize,
        /// Connectivity.
        synapses: Synapses,
        /// True for the output layer.
        output: bool,
    },
    /// Max pooling.
    Pool(PoolGeometry),
    /// Flatten: nothing to do.
    Flatten,
}

/// Resolves the connectivity of every layer of a validated network.
pub fn stages(net: &Network) -> Vec<Stage> {
    let shapes = net.shapes();
    net.layers
        .iter()
        .enumerate()
        .map(|(k, layer)| {
            let out: Shape = shapes[k + 1].clone();
            match layer {
                Layer::Dense(d) => Stage::Weights {
                    layer: k,
                    synapses: Synapses::Dense { inputs: d.inputs, outputs: d.outputs },
                    output: k + 1 == net.layers.len(),
                },
                Layer::Conv2d(Conv2d { in_shape, kernel, stride, pads, .. }) => Stage::Weights {
                    layer: k,
                    synapses: Synapses::Conv(ConvGeometry::new(
                        *in_shape,
                        out.chw().expect("conv output is CHW"),
                        *kernel,
                        *stride,
                        *pads,
                    )),
                    output: false,
                },
                Layer::MaxPool(MaxPool { in_shape, kernel, stride, pads, .. }) => Stage::Pool(PoolGeometry {
                    inner: ConvGeometry::new(
                        *in_shape,
                        out.chw().expect("pool output is CHW"),
                        *kernel,
                        *stride,
                        *pads,
                    ),
                }),
                Layer::Flatten(_) => Stage::Flatten,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv() -> Synapses {
        // 2 input channels 5×4, 3 output channels, 3×2 kernel, stride (2,1), pads (1,0,1,1).
        let in_shape = [2, 5, 4];
        let oh = ttfs_ir::conv_out_dim(5, 3, 2, 1, 1).unwrap();
        let ow = ttfs_ir::conv_out_dim(4, 2, 1, 0, 1).unwrap();
        Synapses::Conv(ConvGeometry::new(in_shape, [3, oh, ow], [3, 2], [2, 1], [1, 0, 1, 1]))
    }

    #[test]
    fn fanout_is_the_transpose_of_fanin() {
        let s = conv();
        let mut forward = Vec::new();
        for o in 0..s.outputs() {
            s.for_each_fanin(o, |j, w| forward.push((o, j, w)));
        }
        let mut backward = Vec::new();
        for j in 0..s.inputs() {
            s.for_each_fanout(j, |o, w| backward.push((o, j, w)));
        }
        forward.sort_unstable();
        backward.sort_unstable();
        assert_eq!(forward, backward);
        assert!(!forward.is_empty());
    }
}
