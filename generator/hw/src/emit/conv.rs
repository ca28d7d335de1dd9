//! A convolution in the top module: `ttfs_conv_layer` (with its fused max
//! pooling) and its weight memory, wired like a dense layer's.

use crate::view::{ConvView, LayerView};
use askama::Template;

/// `rtl-templates/top/layers/conv.v`.
#[derive(Template)]
#[template(path = "layers/conv.v")]
struct ConvTemplate<'a> {
    l: &'a LayerView,
    c: &'a ConvView,
}

/// The layer's fragment of the top module.
pub fn render(l: &LayerView, c: &ConvView) -> String {
    ConvTemplate { l, c }.render().expect("the conv layer template renders")
}
