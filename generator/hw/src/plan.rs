//! The hardware plan of a network: lanes and blocks per layer, register
//! widths and where each layer's weights live, with the per-layer cycle
//! formulas of `ttfs_dense_layer`. [`crate::planner`] makes plans.

use crate::layers::LayerShape;
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
    /// An ASIC's ROM macro (`ttfs_rom_macro`: a placeholder for the ROM or
    /// SRAM macro the user's flow provides; a behavioural model simulates it).
    RomMacro,
}

/// The most bits an ASIC weight memory may hold as ROM logic (gates); a
/// larger one is a ROM macro ([`WeightStore::RomMacro`]). 32 kbit: the
/// digits MLP's memories are logic, the MNIST MLP's first layer a macro.
pub const ROM_LOGIC_MAX_BITS: u64 = 32 * 1024;

/// One layer block in hardware: a dense layer, or a convolution with its
/// fused max pooling.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerPlan {
    /// Index of its weight layer in the network's layers.
    pub layer: usize,
    /// Index of the layer whose values it emits (a convolution's fused
    /// pool; otherwise the layer itself).
    pub emits: usize,
    /// Dense, or a convolution's geometry.
    pub shape: LayerShape,
    /// Σ over its inputs of the operations per block an event there costs
    /// (a dense layer: one per input), for the worst case.
    pub worst_taps: u64,
    /// Its inputs whose events reach no output it keeps (convolutions).
    pub worst_silent: u64,
    /// Layer name.
    pub name: String,
    /// True for hidden (firing) layers, false for the output layer.
    pub hidden: bool,
    /// Inputs (a convolution's C·H·W).
    pub inputs: usize,
    /// Neurons it emits (a convolution's channels × pooled positions).
    pub outputs: usize,
    /// Neurons (a convolution's channels) processed in parallel.
    pub lanes: usize,
    /// Blocks of lanes: ⌈outputs / lanes⌉ (a convolution's ⌈channels / lanes⌉).
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
    /// Whether the block has its stage X, which registers what its memories
    /// read before they are used (one cycle of latency, for the clock; a
    /// dense layer gets an input register with it, one more): a
    /// convolution always, a dense layer on the ECP5 (whose block RAM
    /// output takes most of a cycle). Absent in manifests before it
    /// existed: false.
    #[serde(default)]
    pub read_register: bool,
}

/// Division steps per pipeline stage of a layer's fire unit
/// (`ttfs_dense_layer`'s FIRE_SPS): one step per stage keeps the clock fast.
pub const FIRE_STEPS_PER_STAGE: u32 = 1;

impl LayerPlan {
    /// Cycles between the layer's input and its controller:
    /// `ttfs_conv_layer`'s input and decode registers (2); a dense layer's
    /// input register when it has the stage X ([`Self::read_register`]: 1),
    /// else none.
    pub fn decode_cycles(&self) -> u64 {
        match self.shape {
            LayerShape::Conv(_) => 2,
            LayerShape::Dense => u64::from(self.read_register),
        }
    }

    /// Operations of its fire pass: one per block (dense), one per block
    /// and kept position (a convolution: F = H_USE·W_USE·G).
    pub fn fire_ops(&self) -> u64 {
        let positions = match &self.shape {
            LayerShape::Dense => 1,
            LayerShape::Conv(c) => c.positions() as u64,
        };
        positions * self.blocks as u64
    }

    /// Accumulate cycles of one image whose input events cost `taps`
    /// operations per block in all, `silent` of them reaching no kept
    /// output (one cycle each): `A = G·taps + silent` (a dense layer:
    /// `taps` = its input events, `silent` = 0).
    pub fn acc_cycles(&self, taps: u64, silent: u64) -> u64 {
        self.blocks as u64 * taps + silent
    }

    /// The block's LATENCY for one image with input taps `taps`, `silent`
    /// (see [`Self::acc_cycles`]) and `emitted` output beats (hidden:
    /// neurons with q > 0; output: all): `D + A + F + E + LAT_FIRE + 4 + X`
    /// cycles from the first cycle its first input beat is valid (the layer
    /// idle, biases loaded) to its `last` output beat, without
    /// back-pressure (`ttfs_dense_layer`'s and `ttfs_conv_layer`'s headers;
    /// their test benches check it image by image).
    pub fn latency(&self, taps: u64, silent: u64, emitted: u64) -> u64 {
        self.decode_cycles() + self.acc_cycles(taps, silent) + self.latency_from_fire(emitted)
    }

    /// Cycles between reading an op's memories and using their words: 1
    /// with the stage X ([`Self::read_register`]), else 0.
    pub fn read_register_cycles(&self) -> u64 {
        u64::from(self.read_register)
    }

    /// Cycles from the first op of its fire pass to its `last` output beat,
    /// both included: `F + E + LAT_FIRE + 4 + X` (X: the read register).
    pub fn latency_from_fire(&self, emitted: u64) -> u64 {
        let fire_latency = self.output_value_bits.map_or(0, |bits| u64::from(bits.div_ceil(FIRE_STEPS_PER_STAGE)) + 1);
        self.fire_ops() + emitted + fire_latency + 4 + self.read_register_cycles()
    }

    /// The block's BUSY: cycles per image when images follow each other,
    /// `A + F + E + 1` (the next image's accumulation starts as soon as
    /// this one's `last` beat leaves the serializer).
    pub fn busy(&self, taps: u64, silent: u64, emitted: u64) -> u64 {
        self.acc_cycles(taps, silent) + self.fire_ops() + emitted + 1
    }

    /// Busy cycles in the worst case: every input spikes and every neuron emits.
    pub fn worst_case_cycles(&self) -> u64 {
        self.busy(self.worst_taps, self.worst_silent, self.outputs as u64)
    }

    /// The weight-bandwidth bound for input events worth `taps` operations
    /// per block: each event reads its fan-out's weights once, one block of
    /// P weights per cycle (a convolution: input spikes × kernel taps ×
    /// output channels ÷ lanes, counting only taps that reach a kept output).
    pub fn bandwidth_bound(&self, taps: u64) -> u64 {
        taps * self.blocks as u64
    }

    /// The convolution geometry, if it is one.
    pub fn conv(&self) -> Option<&crate::layers::ConvShape> {
        match &self.shape {
            LayerShape::Conv(c) => Some(c),
            LayerShape::Dense => None,
        }
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

/// Whether a layer keeps its potentials in block RAM rather than flip-flops
/// (a convolution always does).
pub fn potentials_in_ram(layer: &LayerPlan) -> bool {
    layer.conv().is_some()
        || (layer.blocks >= 2 && (layer.outputs as u64) * u64::from(layer.potential_bits) > POTENTIAL_FLIP_FLOPS)
}

/// Words of a layer's potential store: one per block (a convolution: per
/// block and kept position).
pub fn potential_words(layer: &LayerPlan) -> u64 {
    layer.fire_ops()
}

/// Words of a layer's bias memory: one per block, or per block and kept
/// position for a convolution with a bias map.
pub fn bias_words(layer: &LayerPlan) -> u64 {
    match layer.conv() {
        Some(c) if c.bias_map => layer.fire_ops(),
        _ => layer.blocks as u64,
    }
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
