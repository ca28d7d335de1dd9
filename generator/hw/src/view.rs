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
    /// The block's stage X (`READ_REG`; [`crate::plan::LayerPlan::read_register`]).
    pub read_register: bool,
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
    /// The weights are in an ASIC ROM macro (`ttfs_rom_macro`).
    pub rom_macro: bool,
    /// The weights are ASIC ROM logic (`ttfs_weight_rom`, which Yosys turns
    /// into gates), not block RAM.
    pub rom_logic: bool,
    /// `$readmemh` file of the weights ("" for SPRAM layers).
    pub weight_file: String,
    /// `$readmemh` file of the biases.
    pub bias_file: String,
    /// Words of the bias memory (blocks, or blocks × kept positions for a
    /// convolution with a bias map).
    pub bias_words: u64,
    /// A convolution's geometry (`None`: a dense layer).
    pub conv: Option<ConvView>,
}

/// A convolution's geometry, as `ttfs_conv_layer`'s parameters.
#[derive(Clone, Debug, Serialize)]
pub struct ConvView {
    /// Input channels, height, width.
    pub c_in: usize,
    /// Input height.
    pub h_in: usize,
    /// Input width.
    pub w_in: usize,
    /// Output channels.
    pub c_out: usize,
    /// Kernel height.
    pub kh: usize,
    /// Kernel width.
    pub kw: usize,
    /// Stride along the height.
    pub sh: usize,
    /// Stride along the width.
    pub sw: usize,
    /// Padding on top.
    pub pt: usize,
    /// Padding on the left.
    pub pl: usize,
    /// The convolution's output height.
    pub h_out: usize,
    /// The convolution's output width.
    pub w_out: usize,
    /// Pool window height (1: none).
    pub pkh: usize,
    /// Pool window width (1: none).
    pub pkw: usize,
    /// Whether a pool is fused.
    pub pooled: bool,
    /// A bias per position.
    pub bias_map: bool,
    /// Flat output indices (a dense layer follows).
    pub out_flat: bool,
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
    /// Pixels per row when the first layer is a convolution (the encoder
    /// then sends packed coordinates `{c, y, x}`); 0: flat indices.
    pub in_row: usize,
    /// Rows per channel (with `in_row`).
    pub in_rows: usize,
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
    /// The board wrapper's UART speed, baud (the plan's).
    pub baud: u32,
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

/// The longest name a generated file shows (module names and comments).
pub const MAX_NAME_CHARS: usize = 64;

/// A name usable as a module name by Verilator, Icarus, Yosys and g++:
/// `ttfs_` + the network name in lower-case ASCII letters and digits, any
/// other run of characters turned into one `_` (Verilator rewrites `__` in
/// names, which then breaks the C++ it writes), at most
/// [`MAX_NAME_CHARS`] long.
///
/// Guarantees: the result matches `ttfs_[a-z0-9]+(_[a-z0-9]+)*`, whatever
/// the input (names come from strangers' files and are never code).
pub fn top_name(network: &str) -> String {
    let mut cleaned = String::new();
    for c in network.chars() {
        if c.is_ascii_alphanumeric() {
            cleaned.push(c.to_ascii_lowercase());
        } else if !cleaned.is_empty() && !cleaned.ends_with('_') {
            cleaned.push('_');
        }
    }
    cleaned.truncate(MAX_NAME_CHARS - "ttfs_".len());
    let trimmed = cleaned.trim_matches('_');
    if trimmed.is_empty() { "ttfs_top".into() } else { format!("ttfs_{trimmed}") }
}

/// A name as generated files show it in comments and descriptions (Verilog
/// `//` comments, the FuseSoC core's YAML, the design's README): ASCII
/// letters, digits and `_.:+()-` and spaces kept, anything else (line
/// breaks, quotes, backticks, `*/`, non-ASCII) shown as `_`, at most
/// [`MAX_NAME_CHARS`] characters.
///
/// Guarantees: the result cannot end a comment, a quoted string or a line,
/// so a name can never become code in a generated file.
pub fn display_name(name: &str) -> String {
    name.chars()
        .take(MAX_NAME_CHARS)
        .map(|c| if c.is_ascii_alphanumeric() || " _.:+()-".contains(c) { c } else { '_' })
        .collect()
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
        let mut layer = layer_view(index, lp, spram);
        layer.rom_logic = plan.target == crate::target::Target::Asic && !layer.rom_macro;
        layers.push(layer);
    }
    let output = plan.layers.last().expect("a plan has an output layer");
    TopView {
        top: top_name(&net.name),
        network: display_name(&net.name),
        version: VERSION.into(),
        target: plan.target.name().into(),
        n_in: plan.inputs,
        in_row: plan.layers[0].conv().map_or(0, |c| c.in_shape[2]),
        in_rows: plan.layers[0].conv().map_or(0, |c| c.in_shape[1]),
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
        settle_cycles: plan.layers.iter().map(crate::plan::potential_words).max().unwrap_or(0) + 8,
        baud: plan.baud,
    }
}

fn layer_view(index: usize, lp: &LayerPlan, spram: Option<usize>) -> LayerView {
    let weight_addr_bits = crate::plan::index_bits(lp.weight_words as usize);
    LayerView {
        index,
        name: display_name(&lp.name),
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
        read_register: lp.read_register,
        weight_words: lp.weight_words,
        weight_word_bits: lp.weight_word_bits,
        weight_addr_bits,
        store: match lp.weight_store {
            WeightStore::BlockRam => "block RAM".into(),
            WeightStore::Spram => "SPRAM".into(),
            WeightStore::RomMacro => "ROM macro".into(),
        },
        spram,
        rom_macro: lp.weight_store == WeightStore::RomMacro,
        rom_logic: false,
        dsp: lp.dsp_lanes > 0,
        weight_file: if spram.is_some() { String::new() } else { format!("mem/l{index}_weights.hex") },
        bias_file: format!("mem/l{index}_bias.hex"),
        bias_words: crate::plan::bias_words(lp),
        conv: lp.conv().map(|c| ConvView {
            c_in: c.in_shape[0],
            h_in: c.in_shape[1],
            w_in: c.in_shape[2],
            c_out: c.out_channels,
            kh: c.kernel[0],
            kw: c.kernel[1],
            sh: c.stride[0],
            sw: c.stride[1],
            pt: c.pad[0],
            pl: c.pad[1],
            h_out: c.out_hw[0],
            w_out: c.out_hw[1],
            pkh: c.pool[0],
            pkw: c.pool[1],
            pooled: c.pool != [1, 1],
            bias_map: c.bias_map,
            out_flat: c.out_flat,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_identifier(s: &str) -> bool {
        let rest = s.strip_prefix("ttfs_").unwrap_or("");
        !rest.is_empty()
            && !rest.starts_with('_')
            && !rest.ends_with('_')
            && !rest.contains("__")
            && rest.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    }

    #[test]
    fn module_names_are_identifiers_every_tool_accepts() {
        assert_eq!(top_name("digits_mlp"), "ttfs_digits_mlp");
        assert_eq!(top_name("my__model"), "ttfs_my_model");
        assert_eq!(top_name("mödel (1)"), "ttfs_m_del_1");
        assert_eq!(top_name("123"), "ttfs_123");
        assert_eq!(top_name(""), "ttfs_top");
        assert_eq!(top_name("__"), "ttfs_top");
        let payload = "x\n initial $system(\"touch pwned\"); //";
        assert_eq!(top_name(payload), "ttfs_x_initial_system_touch_pwned");
        assert_eq!(top_name(&"a".repeat(500)).len(), MAX_NAME_CHARS);
        // Every character class, in every position.
        let alphabet: Vec<char> = "aZ9_ _\n\"'`$;/*é\u{0}".chars().collect();
        for i in 0..alphabet.len().pow(3) {
            let s: String = [i % alphabet.len(), i / alphabet.len() % alphabet.len(), i / alphabet.len().pow(2)]
                .iter()
                .map(|&k| alphabet[k])
                .collect();
            let name = top_name(&s);
            assert!(is_identifier(&name) || name == "ttfs_top", "{s:?} -> {name:?}");
        }
    }

    #[test]
    fn display_names_cannot_leave_a_comment_or_a_string() {
        let shown = display_name("MatMul\n initial $system(\"touch pwned\"); // */ 'q' `r`\r\u{2028}");
        assert!(!shown.contains(['\n', '\r', '"', '\'', '`', '*', '/', '\\', '$', ';']), "{shown}");
        assert!(shown.is_ascii());
        assert_eq!(display_name("dense_1 (ReLU)"), "dense_1 (ReLU)");
        assert_eq!(display_name(&"x".repeat(500)).len(), MAX_NAME_CHARS);
    }
}

/// The key-value record front end of a file classifier (ttfs-files): the
/// correlative encoding's parameters, for `ttfs_files_encoder`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RecordsFront {
    /// K: keys.
    pub keys: usize,
    /// M: input neurons per key.
    pub neurons_per_key: u32,
    /// T: ticks (a power of two).
    pub ticks: u32,
    /// W: bins sharing neurons.
    pub spread: u32,
    /// The hash's seed.
    pub seed: u32,
    /// Bits of the key index.
    pub key_bits: u32,
    /// The input code q0 of an active channel.
    pub q_active: u32,
}

impl RecordsFront {
    /// Checks a front end read from a stranger's manifest against the
    /// network it feeds (`inputs` channels, input codes of `q0_bits`): keys
    /// from 1 to 1,024 and `key_bits` the bits their index needs, M from 1
    /// to 64, T a power of two from 2 to 256, W from 1 to 64, K·M·T =
    /// `inputs`, and an active channel's code q from 1 to 2^q0_bits − 1. On
    /// `Err`, what is wrong, in words.
    pub fn check(&self, inputs: usize, q0_bits: u32) -> Result<(), String> {
        let bits = (usize::BITS - (self.keys.max(2) - 1).leading_zeros()).max(1);
        if !(1..=1024).contains(&self.keys) || self.key_bits != bits {
            return Err(format!(
                "keys {} with key_bits {}: keys go from 1 to 1024, and key_bits is the bits of the largest key index",
                self.keys, self.key_bits
            ));
        }
        if !(1..=64).contains(&self.neurons_per_key) || !(1..=64).contains(&self.spread) {
            return Err(format!(
                "neurons_per_key {} and spread {}: each goes from 1 to 64",
                self.neurons_per_key, self.spread
            ));
        }
        if !(2..=256).contains(&self.ticks) || !self.ticks.is_power_of_two() {
            return Err(format!("ticks {}: a power of two from 2 to 256", self.ticks));
        }
        let channels = self.keys * self.neurons_per_key as usize * self.ticks as usize;
        if channels != inputs {
            return Err(format!("keys × neurons_per_key × ticks = {channels}, but the network takes {inputs} inputs"));
        }
        if self.q_active == 0 || u64::from(self.q_active) >= 1u64 << q0_bits.min(63) {
            return Err(format!("q_active {}: from 1 to 2^{q0_bits} − 1", self.q_active));
        }
        Ok(())
    }
}
