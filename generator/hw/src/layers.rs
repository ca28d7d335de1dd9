//! The network as hardware layers: each dense or convolution layer of the
//! description becomes one layer block (`ttfs_dense_layer` or
//! `ttfs_conv_layer`), a max pooling right after a convolution is fused
//! into that convolution's fire pass, and a flatten only relabels indices.
//! Everything the blocks cannot build is refused here, naming the layer and
//! the limit.

use serde::{Deserialize, Serialize};
use std::fmt;
use ttfs_ir::{Layer, Network, Role};

/// What a hardware layer computes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LayerShape {
    /// A fully connected layer (`ttfs_dense_layer`).
    #[default]
    Dense,
    /// A convolution, maybe with a fused max pooling (`ttfs_conv_layer`).
    Conv(ConvShape),
}

/// The geometry of a convolution block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvShape {
    /// Input `[C, H, W]`.
    pub in_shape: [usize; 3],
    /// Output channels.
    pub out_channels: usize,
    /// Kernel `[kh, kw]`.
    pub kernel: [usize; 2],
    /// Stride `[sh, sw]` (powers of two).
    pub stride: [usize; 2],
    /// Zero padding on top and on the left (the bottom and right padding
    /// only set the output size).
    pub pad: [usize; 2],
    /// The convolution's output `[H, W]`.
    pub out_hw: [usize; 2],
    /// The fused pool's window `[kh, kw]` (stride = window); `[1, 1]`: none.
    pub pool: [usize; 2],
    /// A bias per output position (the description's bias map).
    pub bias_map: bool,
    /// Output indices flat (a dense layer follows) rather than packed
    /// coordinates (another convolution follows).
    pub out_flat: bool,
}

/// Bits to hold `0 .. n − 1` (at least 1): one field of a packed index.
pub fn field_bits(n: usize) -> u32 {
    (usize::BITS - n.saturating_sub(1).leading_zeros()).max(1)
}

impl ConvShape {
    /// The pooled output `[H, W]`.
    pub fn pooled(&self) -> [usize; 2] {
        [self.out_hw[0] / self.pool[0], self.out_hw[1] / self.pool[1]]
    }

    /// The convolution outputs the block keeps (those inside a pool window).
    pub fn used(&self) -> [usize; 2] {
        let [ph, pw] = self.pooled();
        [ph * self.pool[0], pw * self.pool[1]]
    }

    /// Kept output positions (potential words per block).
    pub fn positions(&self) -> usize {
        let [h, w] = self.used();
        h * w
    }

    /// Neurons the block emits: channels × pooled positions.
    pub fn outputs(&self) -> usize {
        let [ph, pw] = self.pooled();
        self.out_channels * ph * pw
    }

    /// Inputs: C·H·W.
    pub fn inputs(&self) -> usize {
        self.in_shape.iter().product()
    }

    /// Bits of a packed input index `{c, y, x}`.
    pub fn input_index_bits(&self) -> u32 {
        let [c, h, w] = self.in_shape;
        field_bits(c) + field_bits(h) + field_bits(w)
    }

    /// Bits of the output index: flat, or packed `{c, py, px}`.
    pub fn output_index_bits(&self) -> u32 {
        let [ph, pw] = self.pooled();
        if self.out_flat {
            field_bits(self.outputs())
        } else {
            field_bits(self.out_channels) + field_bits(ph) + field_bits(pw)
        }
    }

    /// The flat (CHW) neuron index of a hardware output index.
    pub fn flat_output(&self, index: u32) -> usize {
        if self.out_flat {
            return index as usize;
        }
        let [ph, pw] = self.pooled();
        let (xb, yb) = (field_bits(pw), field_bits(ph));
        let x = index as usize & ((1 << xb) - 1);
        let y = (index as usize >> xb) & ((1 << yb) - 1);
        let c = index as usize >> (xb + yb);
        (c * ph + y) * pw + x
    }

    /// Taps along one axis of input coordinate `u`: the kernel offsets k
    /// with `(u + pad − k)` divisible by the stride and its quotient a kept
    /// output coordinate.
    fn axis_taps(u: usize, pad: usize, kernel: usize, stride: usize, kept: usize) -> u64 {
        let r = u + pad;
        (0..kernel.min(r + 1)).filter(|&k| (r - k).is_multiple_of(stride) && (r - k) / stride < kept).count() as u64
    }

    /// Taps of input pixel `(y, x)`: the kept output positions it reaches
    /// (the block's operations per block of lanes for one event there).
    pub fn taps(&self, y: usize, x: usize) -> u64 {
        let [uh, uw] = self.used();
        Self::axis_taps(y, self.pad[0], self.kernel[0], self.stride[0], uh)
            * Self::axis_taps(x, self.pad[1], self.kernel[1], self.stride[1], uw)
    }

    /// [`Self::taps`] of every pixel of one channel, row-major.
    pub fn taps_by_pixel(&self) -> Vec<u32> {
        let [_, h, w] = self.in_shape;
        (0..h * w).map(|p| self.taps(p / w, p % w) as u32).collect()
    }
}

/// One hardware layer.
#[derive(Clone, Debug, PartialEq)]
pub struct HwLayer {
    /// Index of its weight layer in the description.
    pub weights: usize,
    /// Index of the layer whose values it emits (its fused pool, or itself).
    pub emits: usize,
    /// What it computes.
    pub shape: LayerShape,
    /// Taps per input pixel (convolutions; empty for dense layers, where
    /// every input event costs one operation per block).
    pub taps: Vec<u32>,
}

impl HwLayer {
    /// Taps of input `j` (flat index): 1 for a dense layer.
    pub fn taps_of(&self, j: usize) -> u32 {
        if self.taps.is_empty() { 1 } else { self.taps[j % self.taps.len()] }
    }
}

/// Why the blocks cannot build a network: the layer and the limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsupported(pub String);

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unsupported {}

fn unsupported(text: String) -> Unsupported {
    Unsupported(text)
}

/// The hardware layers of a b1 network, or why the blocks cannot build it.
pub fn hw_layers(net: &Network) -> Result<Vec<HwLayer>, Unsupported> {
    let mut out: Vec<HwLayer> = Vec::new();
    for (k, layer) in net.layers.iter().enumerate() {
        match layer {
            Layer::Dense(d) => {
                if d.params.quant.as_ref().is_some_and(|q| q.bias_map.is_some()) {
                    return Err(unsupported(format!(
                        "layer '{}' has a per-position bias map, which a dense layer cannot have",
                        d.name
                    )));
                }
                out.push(HwLayer { weights: k, emits: k, shape: LayerShape::Dense, taps: Vec::new() });
            }
            Layer::Conv2d(c) => {
                if c.role == Role::Output {
                    return Err(unsupported(format!(
                        "layer '{}' is a convolution that gives the logits; the generator needs a dense output layer \
                         (add a flatten and a dense layer, or convert a model that ends in one)",
                        c.name
                    )));
                }
                for (axis, &s) in ["height", "width"].iter().zip(&c.stride) {
                    if !s.is_power_of_two() {
                        return Err(unsupported(format!(
                            "layer '{}' has stride {s} along its {axis}; the convolution block takes strides that are powers of two (1, 2, 4, ...)",
                            c.name
                        )));
                    }
                }
                if c.pads[0] >= c.kernel[0] || c.pads[1] >= c.kernel[1] {
                    return Err(unsupported(format!(
                        "layer '{}' pads {:?} (top, left, bottom, right) with a {}×{} kernel; the convolution block takes padding smaller than the kernel",
                        c.name, c.pads, c.kernel[0], c.kernel[1]
                    )));
                }
                let [_, h, w] = c.in_shape;
                let oh = ttfs_ir::conv_out_dim(h, c.kernel[0], c.stride[0], c.pads[0], c.pads[2]);
                let ow = ttfs_ir::conv_out_dim(w, c.kernel[1], c.stride[1], c.pads[1], c.pads[3]);
                let (Some(oh), Some(ow)) = (oh, ow) else {
                    return Err(unsupported(format!("layer '{}' has no output positions", c.name)));
                };
                let shape = ConvShape {
                    in_shape: c.in_shape,
                    out_channels: c.out_channels,
                    kernel: c.kernel,
                    stride: c.stride,
                    pad: [c.pads[0], c.pads[1]],
                    out_hw: [oh, ow],
                    pool: [1, 1],
                    bias_map: c.params.quant.as_ref().is_some_and(|q| q.bias_map.is_some()),
                    out_flat: true,
                };
                out.push(HwLayer { weights: k, emits: k, taps: shape.taps_by_pixel(), shape: LayerShape::Conv(shape) });
            }
            Layer::MaxPool(p) => {
                let Some(prev) = out.last_mut().filter(|l| l.emits + 1 == k) else {
                    return Err(unsupported(format!(
                        "layer '{}' is a max pooling that does not follow a convolution; the generator fuses max pooling into the convolution before it",
                        p.name
                    )));
                };
                let LayerShape::Conv(conv) = &mut prev.shape else {
                    return Err(unsupported(format!(
                        "layer '{}' is a max pooling after a dense layer; the generator fuses max pooling into a convolution",
                        p.name
                    )));
                };
                if conv.pool != [1, 1] {
                    return Err(unsupported(format!(
                        "layer '{}' is a second max pooling in a row; the generator fuses one pooling into each convolution",
                        p.name
                    )));
                }
                if p.stride != p.kernel {
                    return Err(unsupported(format!(
                        "layer '{}' pools {}×{} windows with stride {}×{}: its windows {}; the generator builds pools whose stride equals the window",
                        p.name,
                        p.kernel[0],
                        p.kernel[1],
                        p.stride[0],
                        p.stride[1],
                        if p.stride[0] < p.kernel[0] || p.stride[1] < p.kernel[1] { "overlap" } else { "leave gaps" }
                    )));
                }
                if p.pads.iter().any(|&x| x != 0) {
                    return Err(unsupported(format!(
                        "layer '{}' pads its pool {:?}; the generator builds pools without padding",
                        p.name, p.pads
                    )));
                }
                if p.kernel[0] > conv.out_hw[0] || p.kernel[1] > conv.out_hw[1] {
                    return Err(unsupported(format!("layer '{}' pools a window larger than its input", p.name)));
                }
                conv.pool = p.kernel;
                prev.emits = k;
                prev.taps = conv.taps_by_pixel();
            }
            Layer::Flatten(_) => {}
        }
    }
    // A convolution feeding another convolution sends packed coordinates.
    for i in 1..out.len() {
        let next_is_conv = matches!(out[i].shape, LayerShape::Conv(_));
        if let LayerShape::Conv(c) = &mut out[i - 1].shape {
            c.out_flat = !next_is_conv;
        }
    }
    if out.is_empty() {
        return Err(unsupported("the network has no weight layer".into()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(h: usize, k: usize, s: usize, p: usize, pool: usize) -> ConvShape {
        let out = (h + 2 * p - k) / s + 1;
        ConvShape {
            in_shape: [1, h, h],
            out_channels: 1,
            kernel: [k, k],
            stride: [s, s],
            pad: [p, p],
            out_hw: [out, out],
            pool: [pool, pool],
            bias_map: false,
            out_flat: false,
        }
    }

    #[test]
    fn taps_count_the_kept_outputs_an_input_reaches() {
        // 3×3, padding 1, stride 1 on 6×6: corners reach 2×2 outputs, the
        // interior 3×3.
        let s = shape(6, 3, 1, 1, 1);
        assert_eq!(s.taps(0, 0), 4);
        assert_eq!(s.taps(2, 3), 9);
        // Brute force over every output position, for several geometries.
        for (h, k, st, p, pool) in [(7, 3, 2, 1, 1), (8, 5, 1, 0, 3), (6, 2, 2, 0, 1), (5, 3, 1, 2, 2)] {
            let s = shape(h, k, st, p, pool);
            let [uh, uw] = s.used();
            for y in 0..h {
                for x in 0..h {
                    let mut n = 0;
                    for oy in 0..uh {
                        for ox in 0..uw {
                            let (ky, kx) =
                                ((y + p) as isize - (oy * st) as isize, (x + p) as isize - (ox * st) as isize);
                            n += u64::from((0..k as isize).contains(&ky) && (0..k as isize).contains(&kx));
                        }
                    }
                    assert_eq!(s.taps(y, x), n, "{h} {k} {st} {p} {pool} at {y},{x}");
                }
            }
        }
    }

    #[test]
    fn packed_outputs_unpack_to_flat_indices() {
        let mut s = shape(6, 3, 1, 1, 2);
        s.out_channels = 5;
        let [ph, pw] = s.pooled();
        for c in 0..5 {
            for y in 0..ph {
                for x in 0..pw {
                    let packed = (c << (field_bits(ph) + field_bits(pw))) | (y << field_bits(pw)) | x;
                    assert_eq!(s.flat_output(packed as u32), (c * ph + y) * pw + x);
                }
            }
        }
    }
}
