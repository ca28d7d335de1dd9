//! Shapes of tensors between layers and the arithmetic of convolution and
//! pooling windows.

use crate::Layer;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A tensor shape without the batch axis: `[n]` or `[C, H, W]`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Shape(pub Vec<usize>);

impl Shape {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.0.iter().product()
    }

    /// True when the shape holds no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The shape as `[C, H, W]`, if it has three axes.
    pub fn chw(&self) -> Option<[usize; 3]> {
        match self.0.as_slice() {
            &[c, h, w] => Some([c, h, w]),
            _ => None,
        }
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|d| d.to_string()).collect();
        write!(f, "[{}]", parts.join("×"))
    }
}

/// Output length of a convolution or pooling axis, or `None` when the
/// window does not fit (`in + pads < kernel`), the stride is zero, or the
/// padded length does not fit in `usize` (pads from a hostile file).
pub fn conv_out_dim(input: usize, kernel: usize, stride: usize, pad_lo: usize, pad_hi: usize) -> Option<usize> {
    let padded = input.checked_add(pad_lo)?.checked_add(pad_hi)?;
    if stride == 0 || kernel == 0 || padded < kernel {
        return None;
    }
    Some((padded - kernel) / stride + 1)
}

/// The output shape of `layer` given its input shape, or a message saying
/// why the two do not fit together.
pub(crate) fn output_shape(layer: &Layer, input: &Shape) -> Result<Shape, String> {
    match layer {
        Layer::Dense(d) => {
            if input.len() != d.inputs || input.0.len() != 1 {
                return Err(format!("dense layer expects a flat input of {} values, got {input}", d.inputs));
            }
            Ok(Shape(vec![d.outputs]))
        }
        Layer::Conv2d(c) => {
            check_chw(input, c.in_shape)?;
            let oh = conv_out_dim(c.in_shape[1], c.kernel[0], c.stride[0], c.pads[0], c.pads[2]);
            let ow = conv_out_dim(c.in_shape[2], c.kernel[1], c.stride[1], c.pads[1], c.pads[3]);
            match (oh, ow) {
                (Some(oh), Some(ow)) => Ok(Shape(vec![c.out_channels, oh, ow])),
                _ => Err(format!(
                    "kernel {:?} with stride {:?} and pads {:?} does not fit input {input}",
                    c.kernel, c.stride, c.pads
                )),
            }
        }
        Layer::MaxPool(p) => {
            check_chw(input, p.in_shape)?;
            if p.pads[0] >= p.kernel[0]
                || p.pads[2] >= p.kernel[0]
                || p.pads[1] >= p.kernel[1]
                || p.pads[3] >= p.kernel[1]
            {
                return Err(format!("pads {:?} must be smaller than the pool {:?}", p.pads, p.kernel));
            }
            let oh = conv_out_dim(p.in_shape[1], p.kernel[0], p.stride[0], p.pads[0], p.pads[2]);
            let ow = conv_out_dim(p.in_shape[2], p.kernel[1], p.stride[1], p.pads[1], p.pads[3]);
            match (oh, ow) {
                (Some(oh), Some(ow)) => Ok(Shape(vec![p.in_shape[0], oh, ow])),
                _ => Err(format!(
                    "pool {:?} with stride {:?} and pads {:?} does not fit input {input}",
                    p.kernel, p.stride, p.pads
                )),
            }
        }
        Layer::Flatten(f) => {
            check_chw(input, f.in_shape)?;
            Ok(Shape(vec![input.len()]))
        }
    }
}

fn check_chw(input: &Shape, declared: [usize; 3]) -> Result<(), String> {
    if input.0 != declared {
        return Err(format!(
            "declared input shape {} differs from the incoming shape {input}",
            Shape(declared.to_vec())
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_that_wrap_do_not_fit() {
        assert_eq!(conv_out_dim(28, 3, 1, usize::MAX, 2), None);
        assert_eq!(conv_out_dim(28, 3, 1, 1 << 62, 1 << 62), Some(28 + (1 << 63) - 2));
    }

    #[test]
    fn same_padding_keeps_size() {
        assert_eq!(conv_out_dim(28, 3, 1, 1, 1), Some(28));
        assert_eq!(conv_out_dim(28, 2, 2, 0, 0), Some(14));
        assert_eq!(conv_out_dim(7, 3, 2, 1, 1), Some(4));
        assert_eq!(conv_out_dim(2, 3, 1, 0, 0), None);
    }
}
