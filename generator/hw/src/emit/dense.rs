//! A dense layer in the top module: `ttfs_dense_layer` with its weight
//! memory (a `ttfs_weight_rom` in block RAM, or a `ttfs_weight_spram` with
//! its `ttfs_weight_loader` in the load chain), and the wires between it,
//! the spike queue before it and the stage after it.

use crate::view::LayerView;
use askama::Template;

/// `rtl-templates/top/layers/dense.v`.
#[derive(Template)]
#[template(path = "layers/dense.v")]
struct DenseTemplate<'a> {
    l: &'a LayerView,
}

/// The layer's fragment of the top module.
pub fn render(l: &LayerView) -> String {
    DenseTemplate { l }.render().expect("the dense layer template renders")
}
