//! The pre-synthesis estimate of a design's logic cells, block RAMs,
//! SPRAMs and DSPs, from its plan alone (no tools), so `generate` can say
//! what a design costs before Yosys runs and `synth` can show how close
//! the estimate came.
//!
//! Memories and DSPs are counted exactly as the plan places them. Logic
//! cells are a sum over the blocks of `rtl-templates/lib`, each a linear
//! function of its widths: [`COEFFICIENTS`] times the quantities of
//! [`TERMS`] ([`features`]). The coefficients were fitted to Yosys 0.23 +
//! nextpnr-ice40 0.4 packing (the multiplier term refitted when the logic
//! multipliers became adder trees). `benches/estimate_fit.csv` holds the
//! data they are checked against, written by `cargo bench --bench
//! estimate_fit`: 16 designs (the digits MLP at 1 to all lanes on the HX8K
//! and the UP5K, the MNIST MLP with SPRAM weights on the UP5K at 1, 5 and 10
//! lanes in layer 1, 6- and 8-bit codes), each board wrapper synthesized and
//! packed. On each the estimate is within 8 % of the packed count (worst
//! 7.0 %: it runs low on the digits MLP on the UP5K), and a least-squares
//! refit of the terms does no better in the worst case; `tests/estimate.rs`
//! checks both and that the data are this code's. `ttfs synth` reports
//! both figures.
//!
//! On the ECP5 the unit is the LUT4 (TRELLIS_COMB: a slice holds two LUT4s
//! and two flip-flops, and a carry bit takes a LUT4 slot as on the iCE40):
//! the same terms times [`ECP5_COEFFICIENTS`], fitted to the packing of
//! YoWASP Yosys 0.70 and nextpnr-ecp5 0.11 of the digits MLP on the
//! LFE5U-25F at 1, 2, 8 and all lanes and the MNIST MLP at 43 and 1 lanes
//! (within 8 % of each) (`benches/estimate_fit_ecp5.csv`, written by `cargo bench
//! --bench estimate_fit_ecp5`, checked by `tests/estimate_ecp5.rs`).

use super::plan::{LayerPlan, Plan, WeightStore, potentials_in_ram};
use super::target::Family;
use serde::Serialize;

/// Logic cells per bit-product of a shift-and-add multiplier (one adder
/// bit per partial product bit, plus the gating of the partial product).
/// Fitted at 0.92 with the first (chain) multiplier; the adder trees split
/// over two stages cost more: 1.15 puts the digits MLP at 2, 3 and 4 lanes
/// and the MNIST MLP within 2 % of nextpnr's packed counts.
const LC_PER_MULTIPLIER_BIT: f64 = 1.15;
/// Logic cells per potential bit of a lane: the accumulator, the bias
/// multiplexer, the q > 0 comparator and the serializer's register and
/// lane multiplexer.
const LC_PER_LANE_BIT: f64 = 3.74;
/// Logic cells per potential bit held in a flip-flop ring.
const LC_PER_RING_BIT: f64 = 1.37;
/// Logic cells per potential bit and output bit of a fire unit (a
/// pipelined restoring divider).
const LC_PER_FIRE_BIT: f64 = 1.3;
/// Logic cells per logit bit in the readout (argmax) and result sender.
const LC_PER_LOGIT_BIT: f64 = 2.5;
/// Logic cells of one layer's controller, spike queue and address
/// arithmetic, with its share of what every design has (input encoder,
/// UART, framer, reset): the fit cannot tell the two apart.
const LC_PER_LAYER: f64 = 145.0;
/// Logic cells of a power-up weight loader with its share of the flash
/// reader and the SPRAM address and data multiplexers.
const LC_PER_LOADER: f64 = 967.0;

/// ECP5 LUT4s per unit of each of [`TERMS`]. A logic multiplier costs
/// somewhat more than on the iCE40 (1.37 against 1.15: 1.18 fits the
/// digits MLP at all lanes, 1.57 the MNIST MLP at 43 lanes, whose
/// distributed RAM adds LUT4s no term counts; 1.37 splits the error, +7.7 %
/// and −7.9 %); a lane's accumulator and multiplexers cost more
/// (4.86 against 3.74: the ECP5 builds its wide multiplexers from LUT4s
/// and PFUMX); what is mostly flip-flops costs less (the potential ring,
/// the fire units, the per-layer control and the readout at 0.59 times the
/// iCE40 figures: an ECP5 flip-flop sits beside a LUT4 where an iCE40
/// flip-flop without logic takes a cell of its own). The fit data cannot
/// tell the mostly-flip-flop terms apart (they change with the model only),
/// so they share one factor. The SPRAM loader does not exist on the ECP5.
pub const ECP5_COEFFICIENTS: [f64; 7] = [1.37, 4.86, 0.81, 0.77, 0.0, 85.5, 1.48];

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
    /// Logic cells by part (layer names, then "readout").
    pub parts: Vec<(String, u64)>,
}

/// What each logic-cell coefficient multiplies, in the order of
/// [`COEFFICIENTS`] (the columns of `benches/estimate_fit.csv`).
pub const TERMS: [&str; 7] =
    ["multiplier_bits", "lane_bits", "ring_bits", "fire_bits", "loaders", "layers", "logit_bits"];

/// Logic cells per unit of each of [`TERMS`].
pub const COEFFICIENTS: [f64; 7] = [
    LC_PER_MULTIPLIER_BIT,
    LC_PER_LANE_BIT,
    LC_PER_RING_BIT,
    LC_PER_FIRE_BIT,
    LC_PER_LOADER,
    LC_PER_LAYER,
    LC_PER_LOGIT_BIT,
];

/// What a convolution adds to a dense layer of the same lanes and widths,
/// from Yosys `synth_ice40 -dsp` of `ttfs_conv_layer` (16×12×12 → 32
/// channels, 5×5, pool 2×2, 8 lanes, VW = 23: 1,767 LUT4) against
/// `ttfs_dense_layer` (512 → 32, 8 lanes, VW = 23: 1,189 LUT4): the decode
/// stage, the tap and window counters and address adders count as this many
/// layers' worth of controller ...
const CONV_EXTRA_LAYERS: f64 = 2.0;
/// ... and the pool's lane-wise maximum (a comparator and a multiplexer per
/// potential bit) as this share of a lane bit. Not fitted to placed designs
/// as the dense terms are (`benches/estimate_fit.csv` holds dense designs).
const POOL_LANE_BITS: f64 = 0.5;
/// ... and the forwarding into its stage X (a multiplexer per potential
/// bit) as this share of a lane bit: adding the stage X to both
/// convolutions of the LeNet-style CNN (16 and 32 lanes at 20 and 23 bits,
/// 1,056 potential bits) added 1,398 LUT4s on the ECP5-45F, 0.27 of the
/// ECP5's 4.86 LUT4s per lane bit. One measurement, not a fit.
const FORWARD_LANE_BITS: f64 = 0.27;

/// One layer's quantities of [`TERMS`] (no logit bits).
fn layer_terms(layer: &LayerPlan) -> [f64; 7] {
    let lanes = layer.lanes as f64;
    let vw = f64::from(layer.potential_bits);
    let (extra_layers, pool_bits) = match layer.conv() {
        Some(c) => {
            let pool = if c.pool == [1, 1] { 0.0 } else { POOL_LANE_BITS };
            (CONV_EXTRA_LAYERS, (pool + FORWARD_LANE_BITS) * lanes * vw)
        }
        None => (0.0, 0.0),
    };
    let product_bits = f64::from(layer.weight_bits + layer.input_value_bits + 1);
    let logic_lanes = (layer.lanes - layer.dsp_lanes) as f64;
    let ring = if potentials_in_ram(layer) { 0.0 } else { layer.blocks as f64 * lanes * vw };
    [
        logic_lanes * product_bits * f64::from(layer.input_value_bits),
        lanes * vw + pool_bits,
        ring,
        layer.output_value_bits.map_or(0.0, |q| f64::from(q) * vw),
        if layer.weight_store == WeightStore::Spram { 1.0 } else { 0.0 },
        1.0 + extra_layers,
        0.0,
    ]
}

/// The readout's quantities of [`TERMS`]: the logits are the output
/// layer's potentials.
fn readout_terms(plan: &Plan) -> [f64; 7] {
    let logit_bits = plan.layers.last().map_or(0.0, |l| l.outputs as f64 * f64::from(l.potential_bits));
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, logit_bits]
}

/// A part's quantities times `coefficients`, unrounded.
fn cells_with(terms: &[f64; 7], coefficients: &[f64; 7]) -> f64 {
    terms.iter().zip(coefficients).fold(0.0, |sum, (x, c)| sum + x * c)
}

/// The design's quantities of [`TERMS`], summed over its layers and
/// readout: the estimate's logic cells are these times [`COEFFICIENTS`]
/// (up to the rounding of each part).
pub fn features(plan: &Plan) -> [f64; 7] {
    let mut sum = readout_terms(plan);
    for layer in &plan.layers {
        for (s, x) in sum.iter_mut().zip(layer_terms(layer)) {
            *s += x;
        }
    }
    sum
}

/// Estimates `plan` on its target, board wrapper included (logic cells on
/// the iCE40, LUT4s on the ECP5).
pub fn estimate(plan: &Plan) -> Estimate {
    let coefficients = if plan.target.family() == Family::Ecp5 { &ECP5_COEFFICIENTS } else { &COEFFICIENTS };
    let mut parts: Vec<(String, u64)> = plan
        .layers
        .iter()
        .map(|layer| (layer.name.clone(), cells_with(&layer_terms(layer), coefficients).round() as u64))
        .collect();
    parts.push(("readout".into(), cells_with(&readout_terms(plan), coefficients).round() as u64));
    Estimate {
        logic_cells: parts.iter().map(|(_, n)| n).sum(),
        bram_blocks: plan.needs.bram_blocks,
        spram_blocks: plan.needs.spram_blocks,
        dsp_blocks: plan.needs.dsp_blocks,
        parts,
    }
}
