//! Target devices and what they hold: logic cells, block RAM, SPRAM, DSPs,
//! and the boards the constraints are written for. Two families: Lattice
//! iCE40 (UP5K, HX8K; Debian's Yosys, nextpnr-ice40 and IceStorm) and
//! Lattice ECP5 (LFE5U-25F, -45F, -85F in the ULX3S's CABGA381 package;
//! YoWASP's Yosys, nextpnr-ecp5 and Project Trellis).

use serde::{Deserialize, Serialize};
use std::fmt;

/// A device family member the generator can target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    /// Lattice iCE40 UltraPlus UP5K (iCEBreaker board).
    Ice40Up5k,
    /// Lattice iCE40 HX8K (iCE40-HX8K breakout board).
    Ice40Hx8k,
    /// Lattice ECP5 LFE5U-25F (ULX3S board).
    #[serde(rename = "ecp5-25f")]
    Ecp5_25f,
    /// Lattice ECP5 LFE5U-45F (ULX3S board).
    #[serde(rename = "ecp5-45f")]
    Ecp5_45f,
    /// Lattice ECP5 LFE5U-85F (ULX3S board).
    #[serde(rename = "ecp5-85f")]
    Ecp5_85f,
    /// No device limits; plain inferred memories.
    Generic,
    /// An ASIC: no vendor primitives and no device limits; small weight
    /// memories are ROM logic (`$readmemh`-initialised, which Yosys turns
    /// into gates), large ones instances of a ROM macro placeholder
    /// (`ttfs_rom_macro`, with a behavioural model in `sim/`) listed in the
    /// manifest's `memory_macros`.
    Asic,
}

/// A device family: what synthesizes it and how its memories are built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// iCE40: SB_RAM40_4K, SB_SPRAM256KA, SB_MAC16, SB_PLL40_*.
    Ice40,
    /// ECP5: DP16KD block RAM, MULT18X18D, EHXPLLL.
    Ecp5,
    /// No device.
    Generic,
}

/// Resources of a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resources {
    /// Logic cells: iCE40 LUT4 + flip-flop pairs (ICESTORM_LC); ECP5 LUT4s
    /// (TRELLIS_COMB, two to a slice with two flip-flops).
    pub logic_cells: u64,
    /// Block RAMs: iCE40 SB_RAM40_4K (4 kbit each); ECP5 DP16KD (18 kbit).
    pub bram_blocks: u64,
    /// SB_SPRAM256KA blocks (16 k × 16 bits each; UP5K only).
    pub spram_blocks: u64,
    /// Multipliers: iCE40 SB_MAC16; ECP5 MULT18X18D.
    pub dsp_blocks: u64,
}

impl Target {
    /// Every target, in the order the command line lists them.
    pub const ALL: [Target; 7] = [
        Target::Ice40Up5k,
        Target::Ice40Hx8k,
        Target::Ecp5_25f,
        Target::Ecp5_45f,
        Target::Ecp5_85f,
        Target::Generic,
        Target::Asic,
    ];

    /// The devices of each family from the smallest up (what a design that
    /// does not fit may move to).
    pub const ECP5: [Target; 3] = [Target::Ecp5_25f, Target::Ecp5_45f, Target::Ecp5_85f];

    /// Parses the `--target` value (`ecp5` alone is the smallest ECP5,
    /// the ULX3S's usual part).
    pub fn parse(text: &str) -> Option<Target> {
        match text {
            "ice40-up5k" | "up5k" => Some(Target::Ice40Up5k),
            "ice40-hx8k" | "hx8k" => Some(Target::Ice40Hx8k),
            "ecp5-25f" | "ecp5" => Some(Target::Ecp5_25f),
            "ecp5-45f" => Some(Target::Ecp5_45f),
            "ecp5-85f" => Some(Target::Ecp5_85f),
            "generic" => Some(Target::Generic),
            "asic" => Some(Target::Asic),
            _ => None,
        }
    }

    /// The names `--target` takes, for error messages.
    pub fn names() -> String {
        let names: Vec<&str> = Target::ALL.iter().map(|t| t.name()).collect();
        format!("{} or {}", names[..names.len() - 1].join(", "), names[names.len() - 1])
    }

    /// The name used on the command line and in the manifest.
    pub fn name(self) -> &'static str {
        match self {
            Target::Ice40Up5k => "ice40-up5k",
            Target::Ice40Hx8k => "ice40-hx8k",
            Target::Ecp5_25f => "ecp5-25f",
            Target::Ecp5_45f => "ecp5-45f",
            Target::Ecp5_85f => "ecp5-85f",
            Target::Generic => "generic",
            Target::Asic => "asic",
        }
    }

    /// The device's family.
    pub fn family(self) -> Family {
        match self {
            Target::Ice40Up5k | Target::Ice40Hx8k => Family::Ice40,
            Target::Ecp5_25f | Target::Ecp5_45f | Target::Ecp5_85f => Family::Ecp5,
            Target::Generic | Target::Asic => Family::Generic,
        }
    }

    /// The next larger device of the same family, if any (ECP5 only: the
    /// iCE40s differ in kind, SPRAM and DSPs against block RAM and logic).
    pub fn next_larger(self) -> Option<Target> {
        let i = Target::ECP5.iter().position(|&t| t == self)?;
        Target::ECP5.get(i + 1).copied()
    }

    /// What the device holds (generic: unlimited). ECP5 figures are
    /// nextpnr-ecp5's for the LFE5U parts (LUT4s, DP16KD, MULT18X18D).
    pub fn resources(self) -> Resources {
        match self {
            Target::Ice40Up5k => Resources { logic_cells: 5280, bram_blocks: 30, spram_blocks: 4, dsp_blocks: 8 },
            Target::Ice40Hx8k => Resources { logic_cells: 7680, bram_blocks: 32, spram_blocks: 0, dsp_blocks: 0 },
            Target::Ecp5_25f => Resources { logic_cells: 24288, bram_blocks: 56, spram_blocks: 0, dsp_blocks: 28 },
            Target::Ecp5_45f => Resources { logic_cells: 43848, bram_blocks: 108, spram_blocks: 0, dsp_blocks: 72 },
            Target::Ecp5_85f => Resources { logic_cells: 83640, bram_blocks: 208, spram_blocks: 0, dsp_blocks: 156 },
            Target::Generic | Target::Asic => {
                Resources { logic_cells: u64::MAX, bram_blocks: u64::MAX, spram_blocks: u64::MAX, dsp_blocks: u64::MAX }
            }
        }
    }

    /// The nextpnr device and package flags (nextpnr-ice40 or
    /// nextpnr-ecp5, by [`Target::family`]); `None` for the generic target.
    pub fn nextpnr_device(self) -> Option<(&'static str, &'static str)> {
        match self {
            Target::Ice40Up5k => Some(("--up5k", "sg48")),
            Target::Ice40Hx8k => Some(("--hx8k", "ct256")),
            Target::Ecp5_25f => Some(("--25k", "CABGA381")),
            Target::Ecp5_45f => Some(("--45k", "CABGA381")),
            Target::Ecp5_85f => Some(("--85k", "CABGA381")),
            Target::Generic | Target::Asic => None,
        }
    }

    /// Block RAMs for a memory of `words` × `width` bits on this target:
    /// [`bram_blocks`] for the iCE40 (and the generic target), [`ebr_blocks`]
    /// for the ECP5, where memories of [`ECP5_LUTRAM_WORDS`] words or fewer
    /// take none (Yosys puts them in distributed RAM, TRELLIS_DPR16X4).
    pub fn memory_blocks(self, words: u64, width: u64) -> u64 {
        match self.family() {
            Family::Ecp5 if words <= ECP5_LUTRAM_WORDS => 0,
            Family::Ecp5 => ebr_blocks(words, width),
            Family::Ice40 | Family::Generic => bram_blocks(words, width),
        }
    }

    /// The product width (signed operands, bits) up to which a lane's
    /// multiplier takes one DSP block: MULT18X18D multiplies 18 × 18 bits;
    /// SB_MAC16 16 × 16, with the operands the designs give it.
    pub fn dsp_operand_bits(self) -> u32 {
        match self.family() {
            Family::Ecp5 => 18,
            Family::Ice40 | Family::Generic => 16,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Bits in one SB_RAM40_4K.
pub const BRAM_BITS: u64 = 4096;
/// Words and width of one SB_SPRAM256KA.
pub const SPRAM_WORDS: u64 = 16384;
/// Data width of one SB_SPRAM256KA.
pub const SPRAM_WIDTH: u64 = 16;

/// Block RAMs for a memory of `words` × `width` bits: the best of the
/// SB_RAM40_4K modes (256×16, 512×8, 1024×4, 2048×2), as Yosys maps them.
pub fn bram_blocks(words: u64, width: u64) -> u64 {
    [(256u64, 16u64), (512, 8), (1024, 4), (2048, 2)]
        .iter()
        .map(|&(depth, w)| words.div_ceil(depth) * width.div_ceil(w))
        .min()
        .unwrap_or(0)
}

/// The deepest memory `synth_ecp5` builds from distributed RAM (16 × 4
/// bits per TRELLIS_DPR16X4) rather than block RAM: measured with YoWASP
/// Yosys 0.70 on a registered-read memory, 16 and 32 words went to
/// distributed RAM at 160 bits wide, 64 words × 64 bits to two DP16KD.
pub const ECP5_LUTRAM_WORDS: u64 = 32;

/// ECP5 block RAMs (DP16KD, 18 kbit) for a memory of `words` × `width`
/// bits: the best of the modes 16384×1, 8192×2, 4096×4, 2048×9, 1024×18
/// and 512×36 (the last as a pseudo-dual-port PDPW16KD, which is how the
/// designs' one-write one-read memories use it).
pub fn ebr_blocks(words: u64, width: u64) -> u64 {
    [(16384u64, 1u64), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36)]
        .iter()
        .map(|&(depth, w)| words.div_ceil(depth) * width.div_ceil(w))
        .min()
        .unwrap_or(0)
}

/// SPRAMs for a memory of `words` × `width` bits (side by side for width,
/// banked for depth).
pub fn spram_blocks(words: u64, width: u64) -> u64 {
    words.div_ceil(SPRAM_WORDS) * width.div_ceil(SPRAM_WIDTH)
}

/// The clock a target is constrained for by default, MHz: the UP5K
/// iCEBreaker's PLL from 12 MHz, the HX8K breakout's, the ULX3S's EHXPLLL
/// from 25 MHz (the fixture MLPs route at 60 to 75 MHz on the ECP5), and a
/// round number for other flows. `ttfs synth` reports the real Fmax and
/// moves the PLL to it.
pub fn clock_mhz(target: Target) -> f64 {
    match target {
        Target::Ice40Up5k => 24.0,
        Target::Ice40Hx8k => 48.0,
        Target::Ecp5_25f | Target::Ecp5_45f | Target::Ecp5_85f => 50.0,
        Target::Generic => 100.0,
        // A 20 ns clock: what the SkyWater 130 nm cells make of the lanes'
        // multiply-accumulate with room to spare (`ttfs synth --asic`
        // reports ABC's delay estimate; `--clock-ns` sets another).
        Target::Asic => 50.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_block_counts() {
        assert_eq!(bram_blocks(256, 16), 1);
        assert_eq!(bram_blocks(784 * 16, 64), 196);
        assert_eq!(bram_blocks(64, 256), 16);
        assert_eq!(spram_blocks(784 * 16, 64), 4);
        assert_eq!(spram_blocks(20000, 16), 2);
    }

    #[test]
    fn ecp5_block_ram_counts() {
        // One DP16KD holds 1024 × 18, 2048 × 9 or 512 × 36 (and the narrow modes).
        assert_eq!(ebr_blocks(1024, 18), 1);
        assert_eq!(ebr_blocks(2048, 9), 1);
        assert_eq!(ebr_blocks(512, 36), 1);
        assert_eq!(ebr_blocks(16384, 1), 1);
        assert_eq!(ebr_blocks(256, 16), 1);
        // The MNIST MLP's first layer at 8 lanes of 8-bit weights: 12,544 × 64 bits,
        // 25 blocks deep × 2 wide at 512 × 36.
        assert_eq!(ebr_blocks(784 * 16, 64), 50);
        // At 10 lanes: 10,192 × 80, 5 deep × 9 wide at 2048 × 9.
        assert_eq!(ebr_blocks(784 * 13, 80), 45);
        // The spike queue of a 784-input layer: 2048 × 19 bits.
        assert_eq!(ebr_blocks(2048, 19), 3);
        assert_eq!(Target::Ecp5_25f.memory_blocks(2048, 19), 3);
        assert_eq!(Target::Ice40Hx8k.memory_blocks(2048, 19), 10);
        // Shallow memories go to distributed RAM on the ECP5 (not on the iCE40).
        assert_eq!(Target::Ecp5_25f.memory_blocks(16, 160), 0);
        assert_eq!(Target::Ecp5_25f.memory_blocks(32, 160), 0);
        assert_eq!(Target::Ecp5_25f.memory_blocks(64, 64), 2);
        assert_eq!(Target::Ice40Hx8k.memory_blocks(16, 160), 10);
        assert_eq!(ebr_blocks(0, 8), 0);
    }

    #[test]
    fn target_names_round_trip_and_ecp5_parts_grow() {
        for t in Target::ALL {
            assert_eq!(Target::parse(t.name()), Some(t));
            assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{}\"", t.name()));
        }
        assert_eq!(Target::parse("ecp5"), Some(Target::Ecp5_25f));
        assert_eq!(Target::parse("ecp5-12f"), None);
        assert_eq!(Target::Ecp5_25f.next_larger(), Some(Target::Ecp5_45f));
        assert_eq!(Target::Ecp5_45f.next_larger(), Some(Target::Ecp5_85f));
        assert_eq!(Target::Ecp5_85f.next_larger(), None);
        assert_eq!(Target::Ice40Up5k.next_larger(), None);
        for pair in Target::ECP5.windows(2) {
            let (a, b) = (pair[0].resources(), pair[1].resources());
            assert!(a.logic_cells < b.logic_cells && a.bram_blocks < b.bram_blocks && a.dsp_blocks < b.dsp_blocks);
        }
        assert!(Target::names().ends_with("ecp5-85f, generic or asic"), "{}", Target::names());
    }
}
