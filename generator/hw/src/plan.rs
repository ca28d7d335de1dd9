//! The hardware plan of a network: lanes and blocks per layer, register
//! widths and where each layer's weights live, with the per-layer cycle
//! formulas of `ttfs_dense_layer`. [`crate::planner`] makes plans.

use crate::target::{Resources, Target};
use serde::{Deserialize, Serialize};

/// Where a layer's weights live.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightStore {
    /// Block RAM initialised by the bitstream (`$readmemh`).
    BlockRam,
    /// UP5K SPRAM, filled by the loader at power-up.
    Spram,
}

/// One dense layer in hardware.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerPlan {
    /// Index in the network's layers.
    pub layer: usize,
    /// Layer name.
    pub name: String,
    /// True for hidden (firing) layers, false for the output layer.
    pub hidden: bool,
    /// Inputs.
    pub inputs: usize,
    /// Neurons.
    pub outputs: usize,
    /// Neurons processed in parallel.
    pub lanes: usize,
    /// Blocks of lanes: ⌈outputs / lanes⌉.
    pub blocks: usize,
    /// Weight bits.
    pub weight_bits: u32,
    /// Bias register bits.
    pub bias_bits: u32,
    /// Input value bits (B of the previous spiking layer).
    pub input_value_bits: u32,
    /// Output value bits (hidden layers).
    pub output_value_bits: Option<u32>,
    /// β (hidden layers).
    pub beta: Option<i64>,
    /// Potential register bits.
    pub potential_bits: u32,
    /// Input index bits.
    pub input_index_bits: u32,
    /// Output index bits.
    pub output_index_bits: u32,
    /// Weight memory words (`inputs · blocks`).
    pub weight_words: u64,
    /// Weight memory word width (`lanes · weight_bits`).
    pub weight_word_bits: u64,
    /// Where the weights live.
    pub weight_store: WeightStore,
    /// Whether the lanes' multipliers map to DSP blocks.
    pub dsp_lanes: usize,
}

/// Division steps per pipeline stage of a layer's fire unit
/// (`ttfs_dense_layer`'s FIRE_SPS): one step per stage keeps the clock fast.
pub const FIRE_STEPS_PER_STAGE: u32 = 1;

impl LayerPlan {
    /// `ttfs_dense_layer`'s LATENCY for one image with `inputs_spiking`
    /// input events and `emitted` output beats (hidden: neurons with q > 0;
    /// output: all): `G·(S + 1) + E + LAT_FIRE + 4` cycles from the first
    /// cycle its first input beat is valid (the layer idle, biases loaded)
    /// to its `last` output beat, without back-pressure (the block's header;
    /// its test bench checks it image by image).
    pub fn latency(&self, inputs_spiking: u64, emitted: u64) -> u64 {
        let g = self.blocks as u64;
        let fire_latency = self.output_value_bits.map_or(0, |bits| u64::from(bits.div_ceil(FIRE_STEPS_PER_STAGE)) + 1);
        g * (inputs_spiking + 1) + emitted + fire_latency + 4
    }

    /// `ttfs_dense_layer`'s BUSY: cycles per image when images follow each
    /// other, `G·(S + 1) + E + 1` (the next image's accumulation starts as
    /// soon as this one's `last` beat leaves the serializer).
    pub fn busy(&self, inputs_spiking: u64, emitted: u64) -> u64 {
        self.blocks as u64 * (inputs_spiking + 1) + emitted + 1
    }

    /// Busy cycles in the worst case: every input spikes and every neuron emits.
    pub fn worst_case_cycles(&self) -> u64 {
        self.busy(self.inputs as u64, self.outputs as u64)
    }

    /// The weight-bandwidth bound for `inputs_spiking` events: each event
    /// reads its fan-out's weights once, one block of P weights per cycle.
    pub fn bandwidth_bound(&self, inputs_spiking: u64) -> u64 {
        inputs_spiking * self.blocks as u64
    }
}

/// The whole design.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Plan {
    /// Target device.
    pub target: Target,
    /// Input values per image.
    pub inputs: usize,
    /// Input value bits (B_0).
    pub input_value_bits: u32,
    /// Dense layers in order.
    pub layers: Vec<LayerPlan>,
    /// What the design needs: memory and DSP blocks as placed (checked
    /// against the device), logic cells as estimated (not checked).
    pub needs: Resources,
    /// The board wrapper's UART speed, baud ([`crate::board::BAUD`] unless
    /// `generate --baud` asked for another; checked by
    /// [`crate::board::check_baud`]).
    pub baud: u32,
}

/// Bits to index `n` items (at least 1).
pub fn index_bits(n: usize) -> u32 {
    (usize::BITS - n.saturating_sub(1).leading_zeros()).max(1)
}

/// Whether a layer keeps its potentials in block RAM rather than flip-flops.
pub fn potentials_in_ram(layer: &LayerPlan) -> bool {
    layer.blocks >= 2 && (layer.outputs as u64) * u64::from(layer.potential_bits) > POTENTIAL_FLIP_FLOPS
}

/// Potential bits above which block RAM beats flip-flops.
const POTENTIAL_FLIP_FLOPS: u64 = 1024;

/// Memories with fewer words than this are read from LUTs.
pub const SMALL_ROM_WORDS: usize = 64;

/// Address bits of the spike queue in front of a layer with `max_events`
/// inputs: its capacity `2^A + 1` beats holds two whole images (each at most
/// `max_events` events and a `last` beat), so the stage before can fill
/// the next image while this one works.
pub fn queue_addr_bits(max_events: u64) -> u32 {
    let beats = 2 * (max_events + 1) - 1;
    (u64::BITS - (beats - 1).leading_zeros()).max(1)
}
