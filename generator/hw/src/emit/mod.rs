//! Per-kind emission: each layer kind renders its own fragment of the top
//! module from its own template (`rtl-templates/top/layers/<kind>.v`) and
//! view, and the top template only strings the fragments together. A new
//! layer kind adds a module here and a template there, not branches in
//! `top.v`.

mod conv;
mod dense;

use crate::view::TopView;

/// The top module's layer fragments, in order.
pub fn layer_fragments(v: &TopView) -> Vec<String> {
    v.layers
        .iter()
        .map(|l| match &l.conv {
            Some(c) => conv::render(l, c),
            None => dense::render(l),
        })
        .collect()
}
