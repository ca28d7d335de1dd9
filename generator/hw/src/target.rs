//! Target devices and what they hold: logic cells, block RAM, SPRAM, DSPs,
//! and the boards the constraints are written for.

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
    /// No device limits; plain inferred memories.
    Generic,
}

/// Resources of a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resources {
    /// Logic cells (LUT4 + flip-flop).
    pub logic_cells: u64,
    /// SB_RAM40_4K blocks (4 kbit each).
    pub bram_blocks: u64,
    /// SB_SPRAM256KA blocks (16 k × 16 bits each).
    pub spram_blocks: u64,
    /// SB_MAC16 blocks.
    pub dsp_blocks: u64,
}

impl Target {
    /// Parses the `--target` value.
    pub fn parse(text: &str) -> Option<Target> {
        match text {
            "ice40-up5k" | "up5k" => Some(Target::Ice40Up5k),
            "ice40-hx8k" | "hx8k" => Some(Target::Ice40Hx8k),
            "generic" => Some(Target::Generic),
            _ => None,
        }
    }

    /// The name used on the command line and in the manifest.
    pub fn name(self) -> &'static str {
        match self {
            Target::Ice40Up5k => "ice40-up5k",
            Target::Ice40Hx8k => "ice40-hx8k",
            Target::Generic => "generic",
        }
    }

    /// What the device holds (generic: unlimited).
    pub fn resources(self) -> Resources {
        match self {
            Target::Ice40Up5k => Resources { logic_cells: 5280, bram_blocks: 30, spram_blocks: 4, dsp_blocks: 8 },
            Target::Ice40Hx8k => Resources { logic_cells: 7680, bram_blocks: 32, spram_blocks: 0, dsp_blocks: 0 },
            Target::Generic => {
                Resources { logic_cells: u64::MAX, bram_blocks: u64::MAX, spram_blocks: u64::MAX, dsp_blocks: u64::MAX }
            }
        }
    }

    /// The nextpnr-ice40 device and package flags.
    pub fn nextpnr_device(self) -> Option<(&'static str, &'static str)> {
        match self {
            Target::Ice40Up5k => Some(("--up5k", "sg48")),
            Target::Ice40Hx8k => Some(("--hx8k", "ct256")),
            Target::Generic => None,
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

/// SPRAMs for a memory of `words` × `width` bits (side by side for width,
/// banked for depth).
pub fn spram_blocks(words: u64, width: u64) -> u64 {
    words.div_ceil(SPRAM_WORDS) * width.div_ceil(SPRAM_WIDTH)
}

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
}
