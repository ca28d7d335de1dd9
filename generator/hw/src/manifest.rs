//! `manifest.json`: what a generated directory holds and how it is built
//! (ports, memories, the plan, the cycle model). `generate` writes it;
//! `cosim` and `synth` read it back with [`Manifest::read`], typed.

use crate::cycles::{CycleModel, CycleStats};
use crate::plan::LayerPlan;
use crate::target::{Resources, Target};
use crate::view::{QueueView, RecordsFront};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The value of [`Manifest::format`].
pub const FORMAT: &str = "ttfs-hdl-design";
/// The value of [`Manifest::version`] this crate writes and reads.
pub const VERSION: u32 = 2;

/// One port of the top module.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Port {
    /// Name.
    pub name: String,
    /// "input" or "output".
    pub direction: String,
    /// Bits.
    pub width: u64,
    /// What it carries.
    pub description: String,
}

/// One memory of the design.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Memory {
    /// Instance path.
    pub instance: String,
    /// What it holds.
    pub holds: String,
    /// "block_ram", "spram", or "registers" (small ROMs Yosys may map to LUTs).
    pub kind: String,
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

/// A memory macro an ASIC design needs (`ttfs generate --target asic`): one
/// instance of the `ttfs_rom_macro` placeholder, for the flow to map to a
/// real ROM or SRAM macro.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemoryMacro {
    /// Instance path.
    pub instance: String,
    /// The placeholder module.
    pub module: String,
    /// What it holds.
    pub holds: String,
    /// Words.
    pub words: u64,
    /// Bits per word.
    pub width: u64,
    /// words × width.
    pub bits: u64,
    /// Its ports and their timing.
    pub ports: String,
    /// Its contents (`$readmemh` image, one hex word per line).
    pub file: String,
}

/// The weight load stream of SPRAM designs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
    pub word_format: String,
}

/// The board wrapper of a design (targets with a board only): what a host
/// needs to talk to it over its UART.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoardInfo {
    /// Board identifier (`icebreaker`, `hx8k_breakout`).
    pub name: String,
    /// For people.
    pub title: String,
    /// The wrapper module (and `rtl/` file stem), the top of the bitstream.
    pub module: String,
    /// Its pin file in `constraints/`.
    pub pcf: String,
    /// UART speed, baud (8N1).
    pub baud: u32,
    /// Clock cycles per UART bit at `pll_mhz`.
    pub clks_per_bit: u32,
    /// The generated wrapper's PLL clock, MHz (`ttfs synth` may route
    /// another: its report says which; CLKS_PER_BIT follows it).
    pub pll_mhz: f64,
    /// Bytes the host sends per image: 0xA5 and one per pixel code.
    pub frame_bytes: u64,
    /// Bytes the board answers per image: 0x5A, the class, the logits.
    pub reply_bytes: u64,
    /// Bytes per logit in a reply (least significant first, two's complement).
    pub logit_bytes: u32,
    /// Where the SPRAM weights sit in the configuration flash (SPRAM designs).
    pub flash_offset: Option<u32>,
}

/// Cycles per record of a record design, measured by co-simulating it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordCycles {
    /// Records co-simulated.
    pub records: u64,
    /// Where they came from (a file name, and the split when one was taken).
    pub data: String,
    /// Mean cycles from a record's first pair to its result, one record at
    /// a time (the key-value encoder's cycles included).
    pub mean: f64,
    /// The most a record took.
    pub worst: u64,
}

/// The record front end of a file classifier's design (`ttfs files
/// generate`): the top `<top>_records` takes key-value pairs and computes
/// the input spikes on chip; the pixel top is in DIR too.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordsInfo {
    /// The record top module (and `rtl/` file stem).
    pub top: String,
    /// Its ports.
    pub ports: Vec<Port>,
    /// The encoding's parameters (keys, neurons per key, ticks, ...).
    pub front: RecordsFront,
    /// Its test bench (`sim/`).
    pub test_bench: String,
    /// The board wrapper's record framing (targets with a board): a header
    /// byte, then per pair `{last, key[6:0]}` and the 32-bit code, most
    /// significant byte first.
    pub frame_header: Option<u8>,
    /// Bytes per pair on the UART.
    pub pair_bytes: u64,
    /// Cycles per record, when `ttfs files generate --data` measured them.
    pub cycles: Option<RecordCycles>,
}

/// `manifest.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always "ttfs-hdl-design".
    pub format: String,
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
    pub clock: BTreeMap<String, String>,
    /// Ports of the top module.
    pub ports: Vec<Port>,
    /// Files by role.
    pub files: BTreeMap<String, Vec<String>>,
    /// The plan: lanes, widths, where weights live.
    pub layers: Vec<LayerPlan>,
    /// Spike queues in front of each layer.
    pub queues: Vec<QueueView>,
    /// Every memory.
    pub memories: Vec<Memory>,
    /// Memory bits by kind.
    pub memory_bits: BTreeMap<String, u64>,
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
    /// The board wrapper (absent for targets without a board, and in
    /// manifests written before it was recorded: those run at 115,200 baud).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub board: Option<BoardInfo>,
    /// The ROM macros of an ASIC design (absent for every other design, and
    /// for an ASIC design whose memories are all ROM logic).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub memory_macros: Vec<MemoryMacro>,
    /// The record front end of a file classifier's design (absent for
    /// every other design).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<RecordsInfo>,
}

impl Manifest {
    /// Reads `dir/manifest.json`. Guarantees on `Ok`: the file is a
    /// manifest of this format (any version this crate writes).
    pub fn read(dir: &Path) -> anyhow::Result<Manifest> {
        use anyhow::Context;
        let path = dir.join("manifest.json");
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let manifest: Manifest =
            serde_json::from_str(&text).with_context(|| format!("{} is not a design manifest", path.display()))?;
        if manifest.format != FORMAT || manifest.version != VERSION {
            anyhow::bail!(
                "{}: {:?} version {} is not a {FORMAT:?} manifest of version {VERSION}; generate the design again",
                path.display(),
                manifest.format,
                manifest.version
            );
        }
        Ok(manifest)
    }
}
