//! Board wrappers: the accelerator behind a UART, with the PLL, the reset,
//! and (for SPRAM weights) the power-up load from the configuration flash;
//! one per board of the target (iCEBreaker for the UP5K, the iCE40-HX8K
//! breakout for the HX8K, the ULX3S for every ECP5 part), with a test bench
//! that runs it end to end. A file classifier's design (ttfs-files) gets a
//! records wrapper instead ([`render_records_board`]): the same board, PLL
//! and reply, with records framed by `ttfs_record_framer` in front of
//! `<top>_records`.

use super::pll::BoardPll;
use super::target::{Family, Target};
use crate::deref_to_view;
use crate::plan::Plan;
use crate::target::clock_mhz;
use crate::view::RecordsFront;
use crate::view::{TopView, file_text};
use askama::Template;
use std::collections::BTreeMap;
use ttfs_ir::Network;

/// The UART speed of the wrappers unless `generate --baud` says otherwise.
pub const BAUD: u32 = 115_200;

/// The fastest UART the boards' USB bridges carry, baud: the iCEBreaker
/// and the iCE40-HX8K breakout both use an FTDI FT2232H, whose UART runs up
/// to 12 Mbaud in theory but whose baud generator makes only 3 MHz / n
/// (n ≥ 1, in eighths) at the usual 3 Mbaud ceiling of its drivers; the
/// ULX3S's FT231X stops at 3 Mbaud too. Faster is refused.
pub const MAX_BAUD: u32 = 3_000_000;

/// The slowest UART `--baud` takes, baud (a frame of a 784-pixel image
/// already takes 26 s at 300 baud).
pub const MIN_BAUD: u32 = 300;

/// The largest error of the baud the wrapper makes (clock / CLKS_PER_BIT)
/// against the one asked for: both ends sample mid-bit, so a frame of ten
/// bits tolerates about 4 % between them; half of that is ours.
pub const MAX_BAUD_ERROR: f64 = 0.02;

/// The fewest clock cycles per UART bit `ttfs_uart_rx` works with (it
/// samples mid-bit and needs a start-bit middle to check).
pub const MIN_CLKS_PER_BIT: u32 = 4;

/// The wrapper's UART at one clock: cycles per bit, and the baud that makes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UartTiming {
    /// Clock cycles per bit: clock / baud, rounded.
    pub clks_per_bit: u32,
    /// The baud the wrapper really runs at: clock / `clks_per_bit`.
    pub actual_baud: f64,
    /// `actual_baud / baud − 1`.
    pub error: f64,
}

/// Checks a UART speed against the boards' USB bridge ([`MIN_BAUD`] to
/// [`MAX_BAUD`]) and, at `clock_mhz`, against what a whole number of clock
/// cycles per bit can make (within [`MAX_BAUD_ERROR`], at least
/// [`MIN_CLKS_PER_BIT`] cycles). The error says which limit and what to
/// change.
pub fn check_baud(baud: u32, clock_mhz: f64) -> Result<UartTiming, String> {
    if !(MIN_BAUD..=MAX_BAUD).contains(&baud) {
        return Err(format!(
            "--baud {baud} is outside {MIN_BAUD} to {MAX_BAUD} baud (the boards' FTDI FT2232H UART bridge goes up \
             to 3 Mbaud; common rates: 115200, 230400, 460800, 921600, 1000000, 2000000, 3000000)"
        ));
    }
    let clock = clock_mhz * 1e6;
    let clks_per_bit = (clock / f64::from(baud)).round().max(1.0) as u32;
    let actual_baud = clock / f64::from(clks_per_bit);
    let error = actual_baud / f64::from(baud) - 1.0;
    if clks_per_bit < MIN_CLKS_PER_BIT {
        return Err(format!(
            "--baud {baud} leaves {clks_per_bit} clock cycles per bit at {clock_mhz} MHz; the UART receiver \
             needs {MIN_CLKS_PER_BIT} or more: choose at most {} baud",
            (clock / f64::from(MIN_CLKS_PER_BIT)) as u64
        ));
    }
    if error.abs() > MAX_BAUD_ERROR {
        return Err(format!(
            "--baud {baud} cannot be made from the {clock_mhz} MHz clock: {clks_per_bit} cycles per bit give \
             {:.0} baud, {:+.1} % off (at most ±{:.0} % works); choose a baud near {clock_mhz} MHz divided by a \
             whole number",
            actual_baud,
            100.0 * error,
            100.0 * MAX_BAUD_ERROR
        ));
    }
    Ok(UartTiming { clks_per_bit, actual_baud, error })
}

/// The oscillator of both iCE40 boards, MHz (the PLL's input).
pub const BOARD_OSCILLATOR_MHZ: f64 = 12.0;

/// The ULX3S's oscillator, MHz (the ECP5 PLL's input).
pub const ULX3S_OSCILLATOR_MHZ: f64 = 25.0;

/// The oscillator that feeds the PLL of `target`'s board, MHz.
pub fn oscillator_mhz(target: Target) -> f64 {
    match target.family() {
        Family::Ecp5 => ULX3S_OSCILLATOR_MHZ,
        Family::Ice40 | Family::Generic => BOARD_OSCILLATOR_MHZ,
    }
}

/// Where the SPRAM weights sit in the configuration flash (1 MiB, past any
/// iCE40 bitstream).
pub const FLASH_OFFSET: u32 = 0x10_0000;

/// Board pin files (`constraints/`), copied into every design.
pub const PIN_FILES: &[(&str, &str)] = &[
    ("icebreaker.pcf", include_str!("../../../constraints/icebreaker.pcf")),
    ("hx8k-breakout.pcf", include_str!("../../../constraints/hx8k-breakout.pcf")),
    ("ulx3s.lpf", include_str!("../../../constraints/ulx3s.lpf")),
];

/// The pins of a pin file: (signal, package pin, what it carries), in
/// file order.
pub fn pins(pcf: &str) -> Vec<(String, String, String)> {
    let text = PIN_FILES.iter().find(|(name, _)| *name == pcf).map_or("", |(_, t)| t);
    let mut out = Vec::new();
    for line in text.lines() {
        // PCF: `set_io -nowarn SIGNAL PIN`; comments may have four words too.
        // LPF: `LOCATE COMP "SIGNAL" SITE "PIN";`.
        match line.split_whitespace().collect::<Vec<_>>()[..] {
            ["set_io", _, signal, pin] => {
                out.push((signal.to_string(), pin.to_string(), signal_text(signal).to_string()));
            }
            ["LOCATE", "COMP", signal, "SITE", pin] => {
                let signal = signal.trim_matches('"');
                let pin = pin.trim_end_matches(';').trim_matches('"');
                // The LPF's board (the ULX3S) has an FT231X for its UART.
                out.push((signal.to_string(), pin.to_string(), signal_text(signal).replace("FT2232H", "FT231X")));
            }
            _ => {}
        }
    }
    out
}

/// What a board wrapper's pin carries.
fn signal_text(signal: &str) -> &'static str {
    match signal {
        "clk_12mhz" => "12 MHz oscillator, into the PLL",
        "clk_25mhz" => "25 MHz oscillator, into the PLL",
        "uart_rx" => "UART into the FPGA (the FT2232H's TXD): frames from the host",
        "uart_tx" => "UART out of the FPGA (the FT2232H's RXD): replies to the host",
        "led_green_n" | "led[0]" => "LED: ready for images",
        "led_red_n" | "led[1]" => "LED: a UART or framing error was seen",
        "flash_sck" | "flash_ssb" | "flash_mosi" | "flash_miso" => {
            "configuration flash (SPI): the power-up weight load"
        }
        _ => "unused (driven low)",
    }
}

/// Bytes the host sends per image: the 0xA5 header and one per pixel code.
pub fn frame_bytes(v: &TopView) -> u64 {
    1 + v.n_in as u64
}

/// Bytes the board answers per image: 0x5A, the class, and every logit in
/// ⌈logit bits / 8⌉ bytes.
pub fn reply_bytes(v: &TopView) -> u64 {
    2 + v.classes as u64 * u64::from(v.logit_bits.div_ceil(8))
}

/// One board, as its templates see it.
#[derive(Clone, Debug)]
pub struct BoardView {
    /// Identifier (module suffix).
    pub name: &'static str,
    /// For people.
    pub title: &'static str,
    /// Its pin file in `constraints/` (a PCF for the iCE40, an LPF for the ECP5).
    pub pcf: &'static str,
    /// The wrapper's clock input (the oscillator's pin).
    pub clock_port: &'static str,
    /// The oscillator's frequency, MHz.
    pub oscillator_mhz: f64,
    /// The PLL primitive.
    pub pll_cell: &'static str,
    /// The PLL's clock input port.
    pub pll_input: &'static str,
    /// PLL settings.
    pub pll: BoardPll,
    /// UART baud rate (asked for).
    pub baud: u32,
    /// Clock cycles per UART bit.
    pub clks_per_bit: u32,
    /// The baud the wrapper makes: the PLL clock / `clks_per_bit`.
    pub actual_baud: f64,
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
    /// The record front end: the wrapper frames records for `<top>_records`
    /// (`None`: pixel frames for `<top>`).
    records: Option<&'a RecordsFront>,
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
/// `max_mhz` at which the UART makes `v.baud` ([`check_baud`]); `None`
/// also when no PLL setting from 16 MHz up to `max_mhz` does.
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
        Target::Ecp5_25f | Target::Ecp5_45f | Target::Ecp5_85f => (
            "ulx3s",
            match target {
                Target::Ecp5_25f => "ULX3S (ECP5 LFE5U-25F)",
                Target::Ecp5_45f => "ULX3S (ECP5 LFE5U-45F)",
                _ => "ULX3S (ECP5 LFE5U-85F)",
            },
            "ulx3s.lpf",
            "EHXPLLL",
            "CLKI",
            "led[0]: ready for images; led[1]: a UART or framing error was seen",
        ),
        Target::Generic | Target::Asic => return None,
    };
    let oscillator = oscillator_mhz(target);
    // The fastest PLL clock at which the baud comes out right (at the
    // default baud, every clock from 16 MHz does).
    let mut limit = max_mhz;
    let (pll, uart) = loop {
        let pll = BoardPll::at_most(target.family(), oscillator, limit)?;
        match check_baud(v.baud, pll.mhz) {
            Ok(uart) => break (pll, uart),
            Err(_) => limit = pll.mhz - 1e-6,
        }
    };
    let load = v.load_bytes.max(1);
    Some(BoardView {
        name,
        title,
        pcf,
        clock_port: if target.family() == Family::Ecp5 { "clk_25mhz" } else { "clk_12mhz" },
        oscillator_mhz: oscillator,
        pll_cell,
        pll_input,
        pll,
        baud: v.baud,
        clks_per_bit: uart.clks_per_bit,
        actual_baud: uart.actual_baud,
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
    file_text(BoardTemplate { v, b, records: None }.render().expect("the board template renders"))
}

/// Logic cells the record front end takes on an iCE40
/// (`ttfs_files_encoder` and the board's `ttfs_record_framer`), measured:
/// the encoder alone packs into about 1,400 of them for deb-files (12
/// keys; its two hash multiplies are shift-and-add trees whatever the
/// keys), the framer 20. The planner's `--lanes auto` and `ttfs synth`'s
/// estimate add it to the layers'.
pub const RECORDS_FRONT_LOGIC_CELLS: u64 = 1_450;

/// The header byte of a record on the board's UART (`ttfs_record_framer`).
pub const RECORD_FRAME_HEADER: u8 = 0xA6;
/// Bytes per (key, code) pair on the board's UART: `{last, key}` and the
/// code's four bytes.
pub const RECORD_PAIR_BYTES: u64 = 5;

/// Bytes a record of `keys` pairs takes on the board's UART: the header
/// and [`RECORD_PAIR_BYTES`] per pair.
pub fn record_frame_bytes(keys: usize) -> u64 {
    1 + RECORD_PAIR_BYTES * keys as u64
}

/// The record wrappers' framing block.
pub const RECORD_FRAMER: (&str, &str) =
    ("ttfs_record_framer.v", include_str!("../../../rtl-templates/lib/ttfs_record_framer.v"));

/// The widest key index the record framing carries: 7 bits, keys 0 to 127
/// (the first byte of a pair holds the `last` flag and the key).
pub const MAX_RECORD_KEY_BITS: u32 = 7;

/// The records wrapper's Verilog for board `b`: the module of [`render`]'s
/// name, ports and PLL, with `ttfs_record_framer` and `<top>_records` in
/// place of `ttfs_uart_framer` and `<top>`.
pub fn render_records(v: &TopView, b: &BoardView, front: &RecordsFront) -> Vec<u8> {
    file_text(BoardTemplate { v, b, records: Some(front) }.render().expect("the board template renders"))
}

/// The records board wrapper of a file classifier's design, to go over the
/// files of its pixel design ([`crate::design::render_records_design`]).
#[derive(Clone, Debug)]
pub struct RecordsBoard {
    /// Files to insert, replacing any of the same path: the wrapper
    /// `rtl/<top>_<board>.v` (the pixel wrapper's path and module, so that
    /// `ttfs synth DIR` builds it) and `rtl/ttfs_record_framer.v`.
    pub files: BTreeMap<String, Vec<u8>>,
    /// The board.
    pub board: BoardView,
}

/// The records board wrapper for `net` planned as `plan` with the record
/// front end `front`; `None` when the pixel design has no board wrapper
/// either ([`board`]: no board for the target, or pixel codes over 8 bits)
/// or when the keys do not fit the framing ([`MAX_RECORD_KEY_BITS`]).
/// `ttfs synth` renders it again ([`render_records`]) for each clock it
/// tries, as it does the pixel wrapper.
pub fn render_records_board(net: &Network, plan: &Plan, front: &RecordsFront) -> Option<RecordsBoard> {
    if front.key_bits > MAX_RECORD_KEY_BITS {
        return None;
    }
    let v = crate::view::view(net, plan);
    let b = board(plan.target, &v)?;
    let module = module_name(&v, &b);
    let mut files = BTreeMap::new();
    files.insert(format!("rtl/{module}.v"), render_records(&v, &b, front));
    files.insert(format!("rtl/{}", RECORD_FRAMER.0), RECORD_FRAMER.1.as_bytes().to_vec());
    Some(RecordsBoard { files, board: b })
}

/// Adds the board wrapper and its bench to `files`.
pub fn add(files: &mut BTreeMap<String, Vec<u8>>, target: Target, v: &TopView) -> Option<BoardView> {
    let b = board(target, v)?;
    files.insert(format!("rtl/{}.v", module_name(v, &b)), render(v, &b));
    let tb = BoardTbTemplate { v, b: &b }.render().expect("the board bench renders");
    files.insert(format!("sim/{}_tb.v", module_name(v, &b)), file_text(tb));
    Some(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bauds_the_bridge_and_the_clock_can_make() {
        let t = check_baud(115_200, 48.0).unwrap();
        assert_eq!(t.clks_per_bit, 417);
        assert!(t.error.abs() < 0.001);
        assert_eq!(check_baud(1_000_000, 48.0).unwrap().clks_per_bit, 48);
        assert_eq!(check_baud(3_000_000, 48.0).unwrap().clks_per_bit, 16);
        // Above the FT2232H, below anything useful, or too coarse at this clock.
        assert!(check_baud(4_000_000, 48.0).unwrap_err().contains("3 Mbaud"));
        assert!(check_baud(100, 48.0).is_err());
        assert!(check_baud(2_900_000, 48.0).unwrap_err().contains("-2.6 %"));
        assert!(check_baud(3_000_000, 10.0).unwrap_err().contains("needs 4 or more"));
    }

    #[test]
    fn the_pins_of_both_boards_are_read_from_their_files() {
        let ice = pins("icebreaker.pcf");
        assert!(ice.iter().any(|(s, p, _)| s == "uart_rx" && p == "6"));
        assert!(ice.iter().all(|(s, _, _)| s != "btn_n"), "the wrapper has no button input");
        let hx = pins("hx8k-breakout.pcf");
        assert!(hx.iter().any(|(s, p, _)| s == "uart_tx" && p == "B12"));
        // Only set_io lines: a four-word comment ("# 12 MHz oscillator") is no pin.
        assert!(ice.iter().chain(&hx).all(|(s, _, _)| s.starts_with(char::is_lowercase)), "{hx:?}");
        assert_eq!(hx.len(), 15);
        // The ULX3S: 25 MHz on G2, the FPGA's TX on L4 and RX on M1, eight LEDs.
        let ulx = pins("ulx3s.lpf");
        for (signal, pin) in
            [("clk_25mhz", "G2"), ("uart_tx", "L4"), ("uart_rx", "M1"), ("led[0]", "B2"), ("led[7]", "H3")]
        {
            assert!(ulx.iter().any(|(s, p, _)| s == signal && p == pin), "{signal} on {pin}: {ulx:?}");
        }
        assert_eq!(ulx.len(), 11);
    }
}
