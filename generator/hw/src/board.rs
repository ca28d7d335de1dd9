//! Board wrappers: the accelerator behind a UART, with the PLL, the reset,
//! and (for SPRAM weights) the power-up load from the configuration flash;
//! one per board of the target (iCEBreaker for the UP5K, the iCE40-HX8K
//! breakout for the HX8K), with a test bench that runs it end to end.

use super::pll::{self, Pll};
use super::target::Target;
use crate::deref_to_view;
use crate::target::clock_mhz;
use crate::view::{TopView, file_text};
use askama::Template;
use std::collections::BTreeMap;

/// The UART speed of the wrappers.
pub const BAUD: u32 = 115_200;

/// The oscillator of both boards, MHz (the PLL's input).
pub const BOARD_OSCILLATOR_MHZ: f64 = 12.0;

/// Where the SPRAM weights sit in the configuration flash (1 MiB, past any
/// iCE40 bitstream).
pub const FLASH_OFFSET: u32 = 0x10_0000;

/// One board, as its templates see it.
#[derive(Clone, Debug)]
pub struct BoardView {
    /// Identifier (module suffix).
    pub name: &'static str,
    /// For people.
    pub title: &'static str,
    /// Its pin file in `constraints/`.
    pub pcf: &'static str,
    /// The PLL primitive.
    pub pll_cell: &'static str,
    /// The PLL's clock input port.
    pub pll_input: &'static str,
    /// PLL settings.
    pub pll: Pll,
    /// UART baud rate.
    pub baud: u32,
    /// Clock cycles per UART bit.
    pub clks_per_bit: u32,
    /// Bytes per logit in a reply.
    pub logit_bytes: u32,
    /// Flash byte offset of the weights.
    pub flash_offset: u32,
    /// The same in hex.
    pub flash_offset_hex: String,
    /// Clock cycles the flash needs to wake up (3 µs, with margin).
    pub flash_wake_cycles: u32,
    /// Address bits of the bench's flash model (covers the load stream).
    pub flash_model_bits: u32,
    /// What the LEDs show.
    pub led_text: &'static str,
    /// A generous bound for the bench: reset, load and one reply.
    pub timeout_cycles: u64,
}

#[derive(Template)]
#[template(path = "board.v")]
struct BoardTemplate<'a> {
    v: &'a TopView,
    b: &'a BoardView,
}

#[derive(Template)]
#[template(path = "board_tb.v")]
struct BoardTbTemplate<'a> {
    v: &'a TopView,
    b: &'a BoardView,
}

deref_to_view!(BoardTemplate, BoardTbTemplate);

/// The board of a target, if it has one and the design suits a byte-wide
/// UART (pixel codes of at most 8 bits), clocked at the target's default.
pub fn board(target: Target, v: &TopView) -> Option<BoardView> {
    board_at(target, v, clock_mhz(target))
}

/// The board of a target with its PLL at the fastest clock not above
/// `max_mhz` (`None` also when the PLL cannot go that slow: 16 MHz).
pub fn board_at(target: Target, v: &TopView, max_mhz: f64) -> Option<BoardView> {
    if v.q0_bits > 8 {
        return None;
    }
    let (name, title, pcf, pll_cell, pll_input, led_text) = match target {
        Target::Ice40Up5k => (
            "icebreaker",
            "iCEBreaker (iCE40 UP5K)",
            "icebreaker.pcf",
            "SB_PLL40_PAD",
            "PACKAGEPIN",
            "green: ready for images; red: a UART or framing error was seen",
        ),
        Target::Ice40Hx8k => (
            "hx8k_breakout",
            "iCE40-HX8K breakout board",
            "hx8k-breakout.pcf",
            "SB_PLL40_CORE",
            "REFERENCECLK",
            "led[0]: ready for images; led[1]: a UART or framing error was seen",
        ),
        Target::Generic => return None,
    };
    let pll = pll::at_most(BOARD_OSCILLATOR_MHZ, max_mhz)?;
    let clks_per_bit = (pll.mhz * 1e6 / f64::from(BAUD)).round() as u32;
    let load = v.load_bytes.max(1);
    Some(BoardView {
        name,
        title,
        pcf,
        pll_cell,
        pll_input,
        pll,
        baud: BAUD,
        clks_per_bit,
        logit_bytes: v.logit_bits.div_ceil(8),
        flash_offset: FLASH_OFFSET,
        flash_offset_hex: format!("0x{FLASH_OFFSET:06X}"),
        flash_wake_cycles: (pll.mhz * 3.0).ceil() as u32 + 8,
        flash_model_bits: (u64::BITS - (load - 1).leading_zeros()).max(4),
        led_text,
        timeout_cycles: 100_000 + 40 * v.load_bytes,
    })
}

/// The wrapper's module name (and file stem).
pub fn module_name(v: &TopView, b: &BoardView) -> String {
    format!("{}_{}", v.top, b.name)
}

/// The wrapper's Verilog for board `b`.
pub fn render(v: &TopView, b: &BoardView) -> Vec<u8> {
    file_text(BoardTemplate { v, b }.render().expect("the board template renders"))
}

/// Adds the board wrapper and its bench to `files`.
pub fn add(files: &mut BTreeMap<String, Vec<u8>>, target: Target, v: &TopView) -> Option<BoardView> {
    let b = board(target, v)?;
    files.insert(format!("rtl/{}.v", module_name(v, &b)), render(v, &b));
    let tb = BoardTbTemplate { v, b: &b }.render().expect("the board bench renders");
    files.insert(format!("sim/{}_tb.v", module_name(v, &b)), file_text(tb));
    Some(b)
}
