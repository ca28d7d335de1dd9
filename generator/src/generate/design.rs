//! The generated design: the files of DIR as a pure function of the network,
//! its plan and the cycle statistics. Templates (askama, in
//! `rtl-templates/top`) only wire the hand-written blocks of
//! `rtl-templates/lib`, which are embedded in the binary and copied as they are.

use super::cycles::{CycleModel, CycleStats};
use super::plan::{LayerPlan, Plan, WeightStore, potentials_in_ram, queue_addr_bits};
use super::rom;
use askama::Template;
use serde::Serialize;
use std::collections::BTreeMap;
use ttfs_ir::Network;

/// The generator's version, written into every generated file's header.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The hand-written blocks, copied into `rtl/` of every design.
const BLOCKS: &[(&str, &str)] = &[
    ("ttfs_dense_layer.v", include_str!("../../../rtl-templates/lib/ttfs_dense_layer.v")),
    ("ttfs_event_fifo.v", include_str!("../../../rtl-templates/lib/ttfs_event_fifo.v")),
    ("ttfs_fire.v", include_str!("../../../rtl-templates/lib/ttfs_fire.v")),
    ("ttfs_input_encoder.v", include_str!("../../../rtl-templates/lib/ttfs_input_encoder.v")),
    ("ttfs_readout.v", include_str!("../../../rtl-templates/lib/ttfs_readout.v")),
    ("ttfs_shift_add_mul.v", include_str!("../../../rtl-templates/lib/ttfs_shift_add_mul.v")),
    ("ttfs_spike_queue.v", include_str!("../../../rtl-templates/lib/ttfs_spike_queue.v")),
    ("ttfs_spi_flash_reader.v", include_str!("../../../rtl-templates/lib/ttfs_spi_flash_reader.v")),
    ("ttfs_weight_loader.v", include_str!("../../../rtl-templates/lib/ttfs_weight_loader.v")),
    ("ttfs_weight_rom.v", include_str!("../../../rtl-templates/lib/ttfs_weight_rom.v")),
    ("ttfs_weight_spram.v", include_str!("../../../rtl-templates/lib/ttfs_weight_spram.v")),
];

/// The board wrappers' blocks (designs for a board only).
const BOARD_BLOCKS: &[(&str, &str)] = &[
    ("ttfs_power_on_reset.v", include_str!("../../../rtl-templates/lib/ttfs_power_on_reset.v")),
    ("ttfs_result_sender.v", include_str!("../../../rtl-templates/lib/ttfs_result_sender.v")),
    ("ttfs_uart_framer.v", include_str!("../../../rtl-templates/lib/ttfs_uart_framer.v")),
    ("ttfs_uart_rx.v", include_str!("../../../rtl-templates/lib/ttfs_uart_rx.v")),
    ("ttfs_uart_tx.v", include_str!("../../../rtl-templates/lib/ttfs_uart_tx.v")),
];

/// Simulation models the board benches use.
const BOARD_MODELS: &[(&str, &str)] = &[
    ("SB_PLL40_CORE.v", include_str!("../../../rtl-templates/sim/SB_PLL40_CORE.v")),
    ("SB_PLL40_PAD.v", include_str!("../../../rtl-templates/sim/SB_PLL40_PAD.v")),
    ("ttfs_spi_flash_model.v", include_str!("../../../rtl-templates/sim/ttfs_spi_flash_model.v")),
];

/// Blocks only designs with SPRAM weights get (the flash reader is for the
/// board wrapper that feeds the loaders).
const SPRAM_BLOCKS: &[&str] = &["ttfs_spi_flash_reader.v", "ttfs_weight_loader.v", "ttfs_weight_spram.v"];

/// Behavioural models of the iCE40 primitives, for Verilator and Icarus.
const SPRAM_MODEL: (&str, &str) = ("SB_SPRAM256KA.v", include_str!("../../../rtl-templates/sim/SB_SPRAM256KA.v"));

/// One spike queue in front of a stage.
#[derive(Clone, Debug, Serialize)]
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
macro_rules! deref_to_view {
    ($($template:ident),+) => {$(
        impl std::ops::Deref for $template<'_> {
            type Target = $crate::generate::design::TopView;
            fn deref(&self) -> &Self::Target {
                self.v
            }
        }
    )+};
}
pub(crate) use deref_to_view;

/// The top module (`rtl-templates/top/top.v`); fields are the view's.
#[derive(Template)]
#[template(path = "top.v")]
struct TopTemplate<'a> {
    v: &'a TopView,
}

/// The test bench (`rtl-templates/top/tb.v`).
#[derive(Template)]
#[template(path = "tb.v")]
struct TbTemplate<'a> {
    v: &'a TopView,
}

deref_to_view!(TopTemplate, TbTemplate);

/// A rendered template as file contents, ending in a newline (askama drops
/// the template file's final newline).
pub fn file_text(rendered: String) -> Vec<u8> {
    let mut text = rendered.into_bytes();
    if text.last() != Some(&b'\n') {
        text.push(b'\n');
    }
    text
}

/// A generated design: relative path → contents.
#[derive(Clone, Debug, PartialEq)]
pub struct Design {
    /// Top module name.
    pub top: String,
    /// Files of DIR, by relative path (`/`-separated).
    pub files: BTreeMap<String, Vec<u8>>,
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
    let weight_addr_bits = super::plan::index_bits(lp.weight_words as usize);
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
        fire_steps: super::plan::FIRE_STEPS_PER_STAGE,
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

/// The weight bytes of the SPRAM layers, in the loaders' order: each word
/// least significant byte first (`ttfs_weight_loader`'s stream format).
pub fn load_stream(net: &Network, plan: &Plan) -> Vec<u8> {
    let mut bytes = Vec::new();
    for (lp, d) in plan.layers.iter().zip(net.dense_layers().map(|(_, d)| d)) {
        if lp.weight_store != WeightStore::Spram {
            continue;
        }
        let quant = d.params.quant.as_ref().expect("b1 layers are quantized");
        for word in rom::weight_words(&quant.weights, lp.inputs, lp.outputs, lp.lanes) {
            bytes.extend(rom::pack_bytes(&word, lp.lanes, lp.weight_bits));
        }
    }
    bytes
}

/// Renders every file of the design. Deterministic: the same inputs give
/// byte-identical files (no dates, no absolute paths, sorted maps).
pub fn render(net: &Network, plan: &Plan, model: &CycleModel, stats: Option<&CycleStats>) -> Design {
    let v = view(net, plan);
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let uses_spram = !v.loaders.is_empty();
    for (name, text) in BLOCKS {
        if uses_spram || !SPRAM_BLOCKS.contains(name) {
            files.insert(format!("rtl/{name}"), text.as_bytes().to_vec());
        }
    }
    if uses_spram {
        files.insert(format!("sim/{}", SPRAM_MODEL.0), SPRAM_MODEL.1.as_bytes().to_vec());
    }
    let top = TopTemplate { v: &v }.render().expect("the top template renders");
    files.insert(format!("rtl/{}.v", v.top), file_text(top));
    let tb = TbTemplate { v: &v }.render().expect("the test bench template renders");
    files.insert(format!("sim/{}_tb.v", v.top), file_text(tb));
    for (layer, (lp, d)) in v.layers.iter().zip(plan.layers.iter().zip(net.dense_layers().map(|(_, d)| d))) {
        let quant = d.params.quant.as_ref().expect("b1 layers are quantized");
        if layer.spram.is_none() {
            files.insert(
                layer.weight_file.clone(),
                rom::weight_image(&quant.weights, lp.inputs, lp.outputs, lp.lanes, lp.weight_bits).into_bytes(),
            );
        }
        files.insert(layer.bias_file.clone(), rom::bias_image(&quant.bias, lp.lanes, lp.bias_bits).into_bytes());
    }
    if uses_spram {
        let stream = load_stream(net, plan);
        let hex: String = stream.iter().map(|b| format!("{b:02X}\n")).collect();
        files.insert("mem/weights_spram.hex".into(), hex.into_bytes());
        files.insert("mem/weights_spram.bin".into(), stream);
    }
    if super::board::add(&mut files, plan.target, &v).is_some() {
        for (name, text) in BOARD_BLOCKS {
            files.insert(format!("rtl/{name}"), text.as_bytes().to_vec());
        }
        for (name, text) in BOARD_MODELS {
            files.insert(format!("sim/{name}"), text.as_bytes().to_vec());
        }
        // The flash reader comes with SPRAM designs; a board always needs it then.
    }
    // The network itself, so that DIR alone is enough for `ttfs cosim DIR`.
    files.insert("net.json".into(), net.to_json().into_bytes());
    super::collateral::add(&mut files, net, plan, &v, model, stats);
    Design { top: v.top, files }
}
