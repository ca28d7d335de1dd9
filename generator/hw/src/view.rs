//! What the templates see: a plan turned into named numbers for the top
//! module, its test bench, the board wrapper and the collateral, and the
//! helpers every rendered file shares.

use crate::plan::{LayerPlan, Plan, WeightStore, potentials_in_ram, queue_addr_bits};
use serde::{Deserialize, Serialize};
use ttfs_ir::Network;

/// The generator's version, written into every generated file's header.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// One spike queue in front of a stage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueView {
    /// What the queue carries.
    pub role: String,
    /// Index bits of its events.
    pub idx_bits: u32,
    /// Value bits of its events.
    pub q_bits: u32,
    /// FIFO address bits (capacity 2^addr_bits + 1 beats).
    pub addr_bits: u32,
    /// Most events of one image (every input spiking), plus its `last` beat.
    pub max_beats_per_image: u64,
    /// Events pass as soon as they are in (the input queue: layer 0 works
    /// during the pixel stream); otherwise whole images only.
    pub cut_through: bool,
}

/// One dense layer, as the templates see it.
#[derive(Clone, Debug, Serialize)]
pub struct LayerView {
    /// Position among the dense layers.
    pub index: usize,
    /// Layer name.
    pub name: String,
    /// Inputs.
    pub n_in: usize,
    /// Neurons.
    pub n_out: usize,
    /// Lanes.
    pub lanes: usize,
    /// Blocks of lanes.
    pub blocks: usize,
    /// Hidden (fires) or output (logits).
    pub hidden: bool,
    /// Weight bits.
    pub weight_bits: u32,
    /// Bias bits.
    pub bias_bits: u32,
    /// Input value bits.
    pub q_in_bits: u32,
    /// Output value bits (1 for the output layer, whose values are unused).
    pub q_out_bits: u32,
    /// Input index bits.
    pub idx_in_bits: u32,
    /// Output index bits.
    pub idx_out_bits: u32,
    /// Potential bits.
    pub potential_bits: u32,
    /// β (1 for the output layer, unused).
    pub beta: i64,
    /// Division steps per stage of the fire unit.
    pub fire_steps: u32,
    /// Potentials in block RAM.
    pub potentials_in_ram: bool,
    /// Weight words.
    pub weight_words: u64,
    /// Weight word bits.
    pub weight_word_bits: u64,
    /// Weight read address bits.
    pub weight_addr_bits: u32,
    /// "block RAM" or "SPRAM".
    pub store: String,
    /// Multipliers in DSP blocks (the `*` operator) rather than logic.
    pub dsp: bool,
    /// The loader feeding this layer's SPRAM, if it has one.
    pub spram: Option<usize>,
    /// `$readmemh` file of the weights ("" for SPRAM layers).
    pub weight_file: String,
    /// `$readmemh` file of the biases.
    pub bias_file: String,
}

/// Common fields of the top-level templates.
#[derive(Clone, Debug, Serialize)]
pub struct TopView {
    /// Top module name.
    pub top: String,
    /// Network name.
    pub network: String,
    /// Generator version.
    pub version: String,
    /// Target name.
    pub target: String,
    /// Pixels per image.
    pub n_in: usize,
    /// Input value bits.
    pub q0_bits: u32,
    /// Queues in front of each layer.
    pub queues: Vec<QueueView>,
    /// Dense layers.
    pub layers: Vec<LayerView>,
    /// Classes (output neurons).
    pub classes: usize,
    /// Class index bits.
    pub cls_bits: u32,
    /// Logit bits.
    pub logit_bits: u32,
    /// Bits of all logits (`m_logits`).
    pub logits_width: u64,
    /// Loaders, one per SPRAM layer: the layer index.
    pub loaders: Vec<usize>,
    /// Bytes of the weight load stream.
    pub load_bytes: u64,
    /// Test bench timeout per image, cycles.
    pub timeout_per_image: u64,
    /// Cycles after reset before every layer has loaded its biases (the
    /// benches wait this long, so the first image meets an idle pipeline).
    pub settle_cycles: u64,
}

/// Lets templates whose field `v` is a [`TopView`] name the view's fields
/// directly (`{{ top }}` rather than `{{ v.top }}`).
#[macro_export]
macro_rules! deref_to_view {
    ($($template:ident),+) => {$(
        impl std::ops::Deref for $template<'_> {
            type Target = $crate::view::TopView;
            fn deref(&self) -> &Self::Target {
                self.v
            }
        }
    )+};
}

/// A rendered template as file contents, ending in a newline (askama drops
/// the template file's final newline).
pub fn file_text(rendered: String) -> Vec<u8> {
    let mut text = rendered.into_bytes();
    if text.last() != Some(&b'\n') {
        text.push(b'\n');
    }
    text
}

/// A name usable as a Verilog identifier: `ttfs_` + the network name with
/// anything but letters, digits and `_` replaced by `_`.
pub fn top_name(network: &str) -> String {
    let cleaned: String = network
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c.to_ascii_lowercase() } else { '_' })
        .collect();
    let trimmed = cleaned.trim_matches('_');
    if trimmed.is_empty() { "ttfs_top".into() } else { format!("ttfs_{trimmed}") }
}

/// The template view of a plan.
pub fn view(net: &Network, plan: &Plan) -> TopView {
    let mut loaders = Vec::new();
    let mut load_bytes = 0;
    let mut layers = Vec::new();
    let mut queues = Vec::new();
    for (index, lp) in plan.layers.iter().enumerate() {
        let spram = (lp.weight_store == WeightStore::Spram).then(|| {
            loaders.push(index);
            load_bytes += lp.weight_words * lp.weight_word_bits.div_ceil(8);
            loaders.len() - 1
        });
        queues.push(QueueView {
            role: if index == 0 { "input events".into() } else { format!("events of layer {}", index - 1) },
            idx_bits: lp.input_index_bits,
            q_bits: lp.input_value_bits,
            addr_bits: queue_addr_bits(lp.inputs as u64),
            max_beats_per_image: lp.inputs as u64 + 1,
            cut_through: index == 0,
        });
        layers.push(layer_view(index, lp, spram));
    }
    let output = plan.layers.last().expect("a plan has an output layer");
    TopView {
        top: top_name(&net.name),
        network: net.name.clone(),
        version: VERSION.into(),
        target: plan.target.name().into(),
        n_in: plan.inputs,
        q0_bits: plan.input_value_bits,
        queues,
        layers,
        classes: output.outputs,
        cls_bits: output.output_index_bits,
        logit_bits: output.potential_bits,
        logits_width: output.outputs as u64 * u64::from(output.potential_bits),
        loaders,
        load_bytes,
        timeout_per_image: plan.layers.iter().map(|l| l.worst_case_cycles()).sum::<u64>() + plan.inputs as u64 * 2 + 64,
        settle_cycles: plan.layers.iter().map(|l| l.blocks as u64).max().unwrap_or(0) + 8,
    }
}

fn layer_view(index: usize, lp: &LayerPlan, spram: Option<usize>) -> LayerView {
    let weight_addr_bits = crate::plan::index_bits(lp.weight_words as usize);
    LayerView {
        index,
        name: lp.name.clone(),
        n_in: lp.inputs,
        n_out: lp.outputs,
        lanes: lp.lanes,
        blocks: lp.blocks,
        hidden: lp.hidden,
        weight_bits: lp.weight_bits,
        bias_bits: lp.bias_bits,
        q_in_bits: lp.input_value_bits,
        q_out_bits: lp.output_value_bits.unwrap_or(1),
        idx_in_bits: lp.input_index_bits,
        idx_out_bits: lp.output_index_bits,
        potential_bits: lp.potential_bits,
        beta: lp.beta.unwrap_or(1),
        fire_steps: crate::plan::FIRE_STEPS_PER_STAGE,
        potentials_in_ram: potentials_in_ram(lp),
        weight_words: lp.weight_words,
        weight_word_bits: lp.weight_word_bits,
        weight_addr_bits,
        store: match lp.weight_store {
            WeightStore::BlockRam => "block RAM".into(),
            WeightStore::Spram => "SPRAM".into(),
        },
        spram,
        dsp: lp.dsp_lanes > 0,
        weight_file: if spram.is_some() { String::new() } else { format!("mem/l{index}_weights.hex") },
        bias_file: format!("mem/l{index}_bias.hex"),
    }
}
