//! Everything in DIR besides the Verilog: `manifest.json`, the FuseSoC core,
//! pin and timing constraints, and the README on building DIR without ttfs.

use super::cycles::{CycleModel, CycleStats};
use super::design::{TopView, VERSION, file_text};
use super::plan::{Plan, SMALL_ROM_WORDS, WeightStore, potentials_in_ram};
use super::target::{Resources, Target, bram_blocks, spram_blocks};
use askama::Template;
use serde::Serialize;
use std::collections::BTreeMap;
use ttfs_ir::Network;

/// The clock a target is constrained for by default, MHz: the UP5K
/// iCEBreaker's PLL from 12 MHz, the HX8K breakout's, and a round number
/// for other flows. `ttfs synth` reports the real Fmax.
pub fn clock_mhz(target: Target) -> f64 {
    match target {
        Target::Ice40Up5k => 24.0,
        Target::Ice40Hx8k => 48.0,
        Target::Generic => 100.0,
    }
}

/// One port of the top module.
#[derive(Clone, Debug, Serialize)]
pub struct Port {
    /// Name.
    pub name: String,
    /// "input" or "output".
    pub direction: &'static str,
    /// Bits.
    pub width: u64,
    /// What it carries.
    pub description: String,
}

/// One memory of the design.
#[derive(Clone, Debug, Serialize)]
pub struct Memory {
    /// Instance path.
    pub instance: String,
    /// What it holds.
    pub holds: String,
    /// "block_ram", "spram", or "registers" (small ROMs Yosys may map to LUTs).
    pub kind: &'static str,
    /// Words.
    pub words: u64,
    /// Bits per word.
    pub width: u64,
    /// words × width.
    pub bits: u64,
    /// Device blocks it takes (SB_RAM40_4K or SB_SPRAM256KA; 0 for registers).
    pub blocks: u64,
    /// Its `$readmemh` file, if bitstream-initialised.
    pub file: Option<String>,
}

/// The weight load stream of SPRAM designs.
#[derive(Clone, Debug, Serialize)]
pub struct Load {
    /// Bytes in the stream.
    pub bytes: u64,
    /// Raw bytes (for a flash image).
    pub file: String,
    /// The same bytes as hex, one per line (for `$readmemh`).
    pub hex_file: String,
    /// Memories in stream order.
    pub order: Vec<String>,
    /// Byte order of a word.
    pub word_format: &'static str,
}

/// `manifest.json`.
#[derive(Clone, Debug, Serialize)]
pub struct Manifest {
    /// Always "ttfs-hdl-design".
    pub format: &'static str,
    /// Manifest version.
    pub version: u32,
    /// ttfs-hdl version that wrote DIR.
    pub generator: String,
    /// Network name.
    pub network: String,
    /// Target device.
    pub target: Target,
    /// Top module.
    pub top: String,
    /// Clock the constraints ask for.
    pub clock_mhz: f64,
    /// Clock and reset.
    pub clock: BTreeMap<&'static str, &'static str>,
    /// Ports of the top module.
    pub ports: Vec<Port>,
    /// Files by role.
    pub files: BTreeMap<&'static str, Vec<String>>,
    /// The plan: lanes, widths, where weights live.
    pub layers: Vec<super::plan::LayerPlan>,
    /// Spike queues in front of each layer.
    pub queues: Vec<super::design::QueueView>,
    /// Every memory.
    pub memories: Vec<Memory>,
    /// Memory bits by kind.
    pub memory_bits: BTreeMap<&'static str, u64>,
    /// The SPRAM load stream, when weights live in SPRAM.
    pub load: Option<Load>,
    /// What the design needs (memory and DSP blocks; logic comes from `ttfs synth`).
    pub resources_needed: Resources,
    /// What the device has.
    pub resources_available: Resources,
    /// The cycle model.
    pub cycle_model: CycleModel,
    /// The cycle model over the calibration data, when given.
    pub cycle_stats: Option<CycleStats>,
}

fn ports(v: &TopView) -> Vec<Port> {
    let port = |name: &str, direction, width: u64, description: &str| Port {
        name: name.into(),
        direction,
        width,
        description: description.into(),
    };
    vec![
        port("clk", "input", 1, "clock; every register is on its rising edge"),
        port("rst", "input", 1, "synchronous reset, active high"),
        port("ld_valid", "input", 1, "weight byte stream (power-up, SPRAM designs)"),
        port("ld_ready", "output", 1, "weight byte stream ready (0 when nothing is loaded)"),
        port("ld_data", "input", 8, "weight byte"),
        port("loaded", "output", 1, "weights loaded; pixels are accepted only after"),
        port("s_valid", "input", 1, "pixel stream valid"),
        port("s_ready", "output", 1, "pixel stream ready"),
        port("s_last", "input", 1, "the image's final pixel"),
        port("s_data", "input", u64::from(v.q0_bits), "pixel code q0 (unsigned)"),
        port("m_valid", "output", 1, "result valid"),
        port("m_ready", "input", 1, "result ready"),
        port("m_class", "output", u64::from(v.cls_bits), "class: first index of the largest logit"),
        port(
            "m_logits",
            "output",
            (v.classes as u64) * u64::from(v.logit_bits),
            "logits, signed, logit i at [i*logit_bits +: logit_bits]",
        ),
        port("error", "output", 1, "sticky: an image with the wrong number of pixels"),
    ]
}

fn memories(v: &TopView, plan: &Plan) -> Vec<Memory> {
    let mut list = Vec::new();
    let block_ram = |instance: String, holds: String, words: u64, width: u64, file: Option<String>| Memory {
        instance,
        holds,
        kind: "block_ram",
        words,
        width,
        bits: words * width,
        blocks: bram_blocks(words, width),
        file,
    };
    for (q, k) in v.queues.iter().zip(0..) {
        let words = 1u64 << q.addr_bits;
        let width = u64::from(1 + q.idx_bits + q.q_bits);
        list.push(block_ram(
            format!("u_queue{k}.u_fifo.mem"),
            format!("spike queue {k}: {}", q.role),
            words,
            width,
            None,
        ));
    }
    for (l, lp) in v.layers.iter().zip(&plan.layers) {
        let k = l.index;
        if lp.weight_store == WeightStore::Spram {
            list.push(Memory {
                instance: format!("u_weights{k}"),
                holds: format!("weights of layer {k}"),
                kind: "spram",
                words: lp.weight_words,
                width: lp.weight_word_bits,
                bits: lp.weight_words * lp.weight_word_bits,
                blocks: spram_blocks(lp.weight_words, lp.weight_word_bits),
                file: None,
            });
        } else {
            list.push(block_ram(
                format!("u_weights{k}.mem"),
                format!("weights of layer {k}"),
                lp.weight_words,
                lp.weight_word_bits,
                Some(l.weight_file.clone()),
            ));
        }
        let bias_width = (lp.lanes as u64) * u64::from(lp.bias_bits);
        let bias = block_ram(
            format!("u_layer{k} (biases)"),
            format!("biases of layer {k}"),
            lp.blocks as u64,
            bias_width,
            Some(l.bias_file.clone()),
        );
        list.push(if lp.blocks >= SMALL_ROM_WORDS { bias } else { Memory { kind: "registers", blocks: 0, ..bias } });
        let pot_width = (lp.lanes as u64) * u64::from(lp.potential_bits);
        let pot = block_ram(
            format!("u_layer{k} (potentials)"),
            format!("potentials of layer {k}"),
            lp.blocks as u64,
            pot_width,
            None,
        );
        list.push(if potentials_in_ram(lp) { pot } else { Memory { kind: "registers", blocks: 0, ..pot } });
    }
    list
}

#[derive(Template)]
#[template(path = "README.md")]
struct ReadmeTemplate<'a> {
    v: &'a TopView,
    m: &'a Manifest,
    nextpnr: Option<(&'static str, &'static str)>,
    rtl: String,
    board: Option<super::board::BoardView>,
}

#[derive(Template)]
#[template(path = "design.core")]
struct CoreTemplate<'a> {
    v: &'a TopView,
    m: &'a Manifest,
}

#[derive(Template)]
#[template(path = "timing.sdc")]
struct SdcTemplate<'a> {
    v: &'a TopView,
    period_ns: String,
}

/// Board pin files, copied into every design.
const BOARD_PINS: &[(&str, &str)] = &[
    ("icebreaker.pcf", include_str!("../../../constraints/icebreaker.pcf")),
    ("hx8k-breakout.pcf", include_str!("../../../constraints/hx8k-breakout.pcf")),
];

/// Adds the collateral files to `files` (which holds the Verilog and
/// memory images already).
pub fn add(
    files: &mut BTreeMap<String, Vec<u8>>,
    net: &Network,
    plan: &Plan,
    v: &TopView,
    model: &CycleModel,
    stats: Option<&CycleStats>,
) {
    let clock = clock_mhz(plan.target);
    let period_ns = format!("{:.3}", 1000.0 / clock);
    let sdc = SdcTemplate { v, period_ns }.render().expect("the SDC template renders");
    files.insert(format!("constraints/{}.sdc", v.top), file_text(sdc.clone()));
    // Vivado reads the same create_clock line.
    files.insert(format!("constraints/{}.xdc", v.top), file_text(sdc));
    for (name, text) in BOARD_PINS {
        files.insert(format!("constraints/{name}"), text.as_bytes().to_vec());
    }

    let mut by_role: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    for path in files.keys() {
        let role = match path.split('/').next() {
            Some("rtl") => "rtl",
            Some("sim") if path.ends_with("_tb.v") => "test_bench",
            Some("sim") => "simulation_models",
            Some("mem") => "memory_images",
            Some("constraints") => "constraints",
            _ => continue,
        };
        by_role.entry(role).or_default().push(path.clone());
    }
    // The top goes last among the RTL sources (after the blocks it uses).
    let top_file = format!("rtl/{}.v", v.top);
    if let Some(rtl) = by_role.get_mut("rtl") {
        rtl.retain(|p| *p != top_file);
        rtl.push(top_file);
    }
    let memories = memories(v, plan);
    let mut memory_bits: BTreeMap<&'static str, u64> = BTreeMap::new();
    for m in &memories {
        *memory_bits.entry(m.kind).or_default() += m.bits;
    }
    let load = (!v.loaders.is_empty()).then(|| Load {
        bytes: v.load_bytes,
        file: "mem/weights_spram.bin".into(),
        hex_file: "mem/weights_spram.hex".into(),
        order: v.loaders.iter().map(|k| format!("u_weights{k}")).collect(),
        word_format: "words in address order, each ceil(width/8) bytes, least significant byte first",
    });
    let manifest = Manifest {
        format: "ttfs-hdl-design",
        version: 1,
        generator: format!("ttfs-hdl {VERSION}"),
        network: net.name.clone(),
        target: plan.target,
        top: v.top.clone(),
        clock_mhz: clock,
        clock: BTreeMap::from([("clock", "clk"), ("reset", "rst"), ("reset_kind", "synchronous, active high")]),
        ports: ports(v),
        files: by_role,
        layers: plan.layers.clone(),
        queues: v.queues.clone(),
        memories,
        memory_bits,
        load,
        resources_needed: plan.needs,
        resources_available: plan.target.resources(),
        cycle_model: model.clone(),
        cycle_stats: stats.cloned(),
    };
    let rtl = manifest.files.get("rtl").map(|f| f.join(" ")).unwrap_or_default();
    let readme = ReadmeTemplate {
        v,
        m: &manifest,
        nextpnr: plan.target.nextpnr_device(),
        rtl,
        board: super::board::board(plan.target, v),
    }
    .render()
    .expect("renders");
    let core = CoreTemplate { v, m: &manifest }.render().expect("the core template renders");
    files.insert("README.md".into(), file_text(readme));
    files.insert(format!("{}.core", v.top), file_text(core));
    let mut json = serde_json::to_string_pretty(&manifest).expect("the manifest serializes");
    json.push('\n');
    files.insert("manifest.json".into(), json.into_bytes());
}
