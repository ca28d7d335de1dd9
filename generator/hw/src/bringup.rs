//! The bring-up section of a design's README: how to program the board,
//! what the clock and reset really are, the UART framing, the pixel-code
//! formula with a worked example from the network's own input encoding,
//! the logit scale, the pins, and the images per second to expect over
//! the UART (not the accelerator's figure). [`markdown`] renders it; the
//! flow's report can include the same text
//! ([`crate::subject::bring_up`] for a design directory).

use crate::board::{self, BoardView};
use crate::cycles::CycleModel;
use crate::manifest::RecordsInfo;
use crate::plan::Plan;
use crate::view::TopView;
use std::fmt::Write as _;
use ttfs_ir::Network;

/// Bits on the wire per UART byte (8N1: start, 8 data, stop).
pub const BITS_PER_BYTE: u64 = 10;

/// The file `iceprog` must write for this design, relative to DIR: the
/// flash image (bitstream, then the SPRAM weights at
/// [`board::FLASH_OFFSET`]) when the weights live in SPRAM, else the
/// bitstream itself. `ttfs synth` writes both into `build/`.
pub fn program_file(v: &TopView, b: &BoardView) -> String {
    let wrapper = board::module_name(v, b);
    if b.pll.ecp5.is_some() {
        // ecppack's bitstream; ECP5 designs keep every weight in block RAM.
        format!("build/{wrapper}.bit")
    } else if v.loaders.is_empty() {
        format!("build/{wrapper}.bin")
    } else {
        format!("build/{wrapper}_flash.bin")
    }
}

/// Seconds one image takes on the wire at `baud`: its frame out and the
/// reply back (10 bits per byte), with nothing between them.
pub fn wire_seconds(v: &TopView, baud: f64) -> f64 {
    ((board::frame_bytes(v) + board::reply_bytes(v)) * BITS_PER_BYTE) as f64 / baud
}

/// Images per second over the UART, one image at a time (the host sends
/// the next frame when the reply is in): the wire time plus
/// `latency_cycles` of the accelerator at `clock_mhz`.
pub fn uart_images_per_second(v: &TopView, baud: f64, latency_cycles: f64, clock_mhz: f64) -> f64 {
    1.0 / (wire_seconds(v, baud) + latency_cycles / (clock_mhz * 1e6))
}

/// Records per second over the UART, one at a time, each with every key
/// (`0xA6`, five bytes per pair, and the reply on the wire) plus
/// `latency_cycles` at `clock_mhz`.
pub fn uart_records_per_second(
    v: &TopView,
    front: &crate::view::RecordsFront,
    baud: f64,
    latency_cycles: f64,
    clock_mhz: f64,
) -> f64 {
    let bytes = board::record_frame_bytes(front.keys) + board::reply_bytes(v);
    1.0 / ((bytes * BITS_PER_BYTE) as f64 / baud + latency_cycles / (clock_mhz * 1e6))
}

/// A number with thousands separators and `decimals` decimals.
fn grouped(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    let (int, frac) = text.split_once('.').map_or((text.as_str(), None), |(i, f)| (i, Some(f)));
    let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}

/// The worked example of the pixel-code formula: a raw value 30 % into
/// element 0's range (a whole number when the range's ends are), and its
/// code.
fn worked_example(net: &Network) -> (f64, [f64; 2], u32, i64) {
    let [p, r] = net.input.range_of(0);
    let ticks = net.input.code.map_or(255, |c| c.ticks);
    let mut v = p + 0.3 * (r - p);
    if p.fract() == 0.0 && r.fract() == 0.0 {
        v = v.round();
    }
    let q = ttfs_sim::encode::discrete(net, &[v])[0];
    (v, [p, r], ticks, q)
}

/// The bring-up section (Markdown, starting with a `##` heading) of a
/// design for board `b`. Assumes `v` and `b` come from `net` and `plan`
/// (as `generate` makes them); every figure is computed from them.
/// With `records` (a file classifier's design), the UART carries records
/// (`ttfs_record_framer`) and the sections on framing, input codes and rate
/// speak of records.
pub fn markdown(net: &Network, plan: &Plan, v: &TopView, b: &BoardView, records: Option<&RecordsInfo>) -> String {
    let mut t = String::new();
    let wrapper = board::module_name(v, b);
    let file = program_file(v, b);
    let spram = !v.loaders.is_empty();
    let _ = writeln!(t, "## Bring-up on the {}\n", b.title);
    let ecp5 = b.pll.ecp5.is_some();
    let _ = writeln!(
        t,
        "`rtl/{wrapper}.v` puts the accelerator behind the board's USB UART ({}) with its PLL and a power-up \
         reset; pins in `constraints/{}`.\n",
        if ecp5 {
            "the FTDI FT231X on the US1 port, usually `/dev/ttyUSB0` on Linux"
        } else {
            "the FTDI FT2232H's second interface, usually `/dev/ttyUSB1` on Linux"
        },
        b.pcf
    );
    let _ = writeln!(t, "### Programming\n");
    if ecp5 {
        let _ = writeln!(
            t,
            "`ttfs synth .` builds the bitstream `{file}` with YoWASP's Yosys, nextpnr-ecp5 and ecppack (every \
             weight is in block RAM, so the bitstream is all the board needs). Plug the board's US1 port in and \
             write it into the configuration flash:\n\n    openFPGALoader --board ulx3s --write-flash {file}\n\n\
             `ttfs prog .` runs exactly this (openFPGALoader is a Debian package, `openfpgaloader`); \
             `openFPGALoader --board ulx3s {file}` loads it into the FPGA alone, until the next power cycle."
        );
    } else {
        let _ = writeln!(
            t,
            "`ttfs synth .` builds the bitstream `build/{wrapper}.bin`{}. Plug the board in and write `{file}` into \
         its configuration flash:\n\n    iceprog {file}\n\n`ttfs prog .` runs exactly this (`ttfs prog . \
         --programmer openfpgaloader` runs `openFPGALoader --board {} --write-flash {file}`); both programmers \
         come in Debian packages (`fpga-icestorm`, `openfpgaloader`).",
            if spram {
                format!(
                    " and the flash image `{file}`: the bitstream, zero-padded to {}, then `mem/weights_spram.bin` \
                 ({} bytes)",
                    b.flash_offset_hex, v.load_bytes
                )
            } else {
                String::new()
            },
            if b.name == "icebreaker" { "icebreaker" } else { "ice40_generic" }
        );
    }
    if spram {
        let _ = writeln!(
            t,
            "\nProgram the flash image, not the plain `.bin`: the weights live in the SPRAM, which no bitstream \
             can fill; at power-up the wrapper reads them from the flash at {} and takes images only once they \
             are in. With the plain `.bin` the board never turns ready and never answers.",
            b.flash_offset_hex
        );
    }
    let _ = writeln!(
        t,
        "\nThe {} LED shows the board is ready for {}; {}.\n",
        if b.name == "icebreaker" { "green" } else { "`led[0]`" },
        if records.is_some() { "records" } else { "images" },
        if b.name == "icebreaker" {
            "the red one, that a UART or framing error was seen (sticky until reset)"
        } else {
            "`led[1]`, that a UART or framing error was seen (sticky until reset)"
        }
    );
    let _ = writeln!(t, "### Clock and reset\n");
    let dividers = match (b.pll.ice40, b.pll.ecp5) {
        (Some(p), _) => format!("DIVR {}, DIVF {}, DIVQ {}", p.divr, p.divf, p.divq),
        (None, Some(p)) => format!(
            "CLKI_DIV {}, CLKFB_DIV {}, CLKOP_DIV {}, VCO {} MHz",
            p.clki_div, p.clkfb_div, p.clkop_div, p.vco_mhz
        ),
        (None, None) => String::new(),
    };
    let _ = writeln!(
        t,
        "The generated wrapper's PLL ({}, {dividers}) makes {} MHz from the {} MHz oscillator, \
         the target's default clock. `ttfs synth` re-targets the PLL to the fastest setting the routed design \
         meets and, when that differs, routes `build/{wrapper}.v` with it: the clock the bitstream runs at is \
         the one `ttfs synth` reports (`clock_mhz` in `ttfs synth --json`), not this one. CLKS_PER_BIT follows \
         the clock, so the UART stays at {} baud within {:.0} %.\n",
        b.pll_cell,
        b.pll.mhz,
        b.oscillator_mhz,
        b.baud,
        100.0 * board::MAX_BAUD_ERROR
    );
    let _ = writeln!(
        t,
        "Reset: the wrapper has no reset input. It holds the accelerator in reset from configuration until \
         the PLL has locked for 16 cycles (and again whenever the lock drops){}. To start over (after an \
         error, say), reconfigure the FPGA: unplug and replug the board, or program it again. No button is \
         wired; the user button is free.\n",
        if spram { ", then loads the weights from the flash" } else { "" }
    );
    if let Some(r) = records {
        records_sections(&mut t, v, b, r);
    } else {
        pixel_sections(&mut t, net, v, b);
    }
    logits_and_pins(&mut t, net, v, b);
    if records.is_none() {
        pixel_rate(&mut t, plan, v, b);
    }
    t
}

/// The UART framing and the pixel-code formula of a pixel design.
fn pixel_sections(t: &mut String, net: &Network, v: &TopView, b: &BoardView) {
    let _ = writeln!(t, "### The UART\n");
    let lb = b.logit_bytes;
    let _ = writeln!(
        t,
        "8N1 at {} baud ({} clock cycles per bit at {} MHz: {:.0} baud, {:+.2} %). Per image:\n\n\
         - host → board, {} bytes: `0xA5`, then the {} pixel codes q0 in the network's canonical input order, \
         one byte each (0 to {}). Bytes other than `0xA5` between frames are skipped: to resynchronise, send {} \
         zero bytes.\n\
         - board → host, {} bytes: `0x5A`, the class (the first index of the largest logit), then the {} logits, \
         {lb} byte{} each, least significant first, two's complement.\n\n\
         Send the next frame once the reply is in: the receiver holds one byte, and a frame that arrives while \
         the accelerator is still busy can overrun it (the error LED then lights).\n",
        b.baud,
        b.clks_per_bit,
        b.pll.mhz,
        b.actual_baud,
        100.0 * (b.actual_baud / f64::from(b.baud) - 1.0),
        board::frame_bytes(v),
        v.n_in,
        (1u32 << v.q0_bits) - 1,
        v.n_in + 1,
        board::reply_bytes(v),
        v.classes,
        if lb == 1 { "" } else { "s" }
    );
    let (value, [p, r], ticks, q) = worked_example(net);
    let _ = writeln!(t, "### Pixel codes\n");
    let per_feature = net.input.feature_ranges.is_some();
    let _ = writeln!(
        t,
        "A raw value v becomes `q0 = clamp(floor(T0·(v − p)/(r − p) + 1/2), 0, T0)` with T0 = {ticks} and \
         {}. Example: v = {value} gives floor({ticks}·({value} − {p})/({r} − {p}) + 1/2) = floor({:.3}) = {q}. \
         `ttfs run` encodes data files this way (`ttfs_sim::encode::discrete`).\n",
        if per_feature {
            format!("each element's own [p, r] from `input.feature_ranges` in `net.json` (element 0: [{p}, {r}])")
        } else {
            format!("[p, r] = [{p}, {r}] (`input.range` in `net.json`)")
        },
        f64::from(ticks) * (value - p) / (r - p) + 0.5
    );
}

/// The UART framing, the token codes and the rate of a record design.
fn records_sections(t: &mut String, v: &TopView, b: &BoardView, r: &RecordsInfo) {
    let lb = b.logit_bytes;
    let keys = r.front.keys;
    let _ = writeln!(t, "### The UART\n");
    let _ = writeln!(
        t,
        "8N1 at {} baud ({} clock cycles per bit at {} MHz: {:.0} baud, {:+.2} %). Per record:\n\n\
         - host → board: `0xA6`, then one pair per key with a value, {} bytes each, in any key order: \
         `{{last, key}}` (bit 7 set on the record's final pair, bits 6..0 the key index, 0 to {}), then the \
         value's 32-bit token code, most significant byte first. Keys the record does not send are missing \
         values (the encoder fills them in); a record of missing values only is the one pair `{{last, 0}}` \
         with code 0. A record with every key is {} bytes. Bytes other than `0xA6` between records are \
         skipped: to resynchronise, send ten `0x80` bytes (they end any record in progress) and then a record.\n\
         - board → host, {} bytes: `0x5A`, the class (the first index of the largest logit), then the {} logits, \
         {lb} byte{} each, least significant first, two's complement.\n\n\
         Send the next record once the reply is in.\n",
        b.baud,
        b.clks_per_bit,
        b.pll.mhz,
        b.actual_baud,
        100.0 * (b.actual_baud / f64::from(b.baud) - 1.0),
        board::RECORD_PAIR_BYTES,
        keys - 1,
        board::record_frame_bytes(keys),
        board::reply_bytes(v),
        v.classes,
        if lb == 1 { "" } else { "s" }
    );
    let _ = writeln!(t, "### Token codes\n");
    let _ = writeln!(
        t,
        "The host turns each value into a 32-bit code (ttfs-files' `Token::code`): 0 for a missing value; \
         1 + b for bin b of a numeric key (the bin edges are in the model file, fitted on the training split); \
         for any other value the FNV-1a hash of its bytes with bit 31 set. The chip computes the spike times \
         from (key, code) alone, {} neurons per key in a window of {} ticks, so a value never seen in training \
         is encoded like any other. `ttfs files classify MODEL.json` computes the same classes on the host.\n",
        r.front.neurons_per_key, r.front.ticks
    );
    let bytes = board::record_frame_bytes(keys) + board::reply_bytes(v);
    let wire = (bytes * BITS_PER_BYTE) as f64 / f64::from(b.baud);
    let _ = writeln!(t, "### Records per second over the UART\n");
    let latency = match &r.cycles {
        Some(c) => format!(
            "{:.1} cycles per record, {:.1} µs at {} MHz, co-simulated over {} records of {}",
            c.mean,
            c.mean / b.pll.mhz,
            b.pll.mhz,
            c.records,
            c.data
        ),
        None => "`ttfs files cosim` measures its cycles per record".to_string(),
    };
    let rate = r.cycles.as_ref().map_or(String::new(), |c| {
        let rate = uart_records_per_second(v, &r.front, f64::from(b.baud), c.mean, b.pll.mhz);
        format!(": about {} records per second", grouped(rate, 1))
    });
    let _ = writeln!(
        t,
        "A record with every key and its reply are {bytes} bytes of 10 bits at {} baud, {:.2} ms on the wire, \
         plus the accelerator's latency ({latency}){rate}. The UART, not the accelerator, sets the pace.\n",
        b.baud,
        1e3 * wire
    );
}

/// The logit scale and the pin table.
fn logits_and_pins(t: &mut String, net: &Network, v: &TopView, b: &BoardView) {
    let spram = !v.loaders.is_empty();
    let scale = net.dense_layers().last().and_then(|(_, d)| d.params.quant.as_ref()).map_or(0.0, |q| q.potential_scale);
    let _ = writeln!(t, "### Logits\n");
    let _ = writeln!(
        t,
        "The logits are the output layer's integer potentials V ({} bits, signed). The float network's logits \
         are ≈ σ·V with σ = {scale:e} (the output layer's `quant.potential_scale` in `net.json`); for example \
         V = 1000 stands for {:.4}. The class is the same either way.\n",
        v.logit_bits,
        1000.0 * scale
    );
    let _ = writeln!(t, "### Pins (`constraints/{}`)\n", b.pcf);
    let _ = writeln!(t, "| signal | pin | what |\n|---|---|---|");
    for (signal, pin, what) in board::pins(b.pcf) {
        if !spram && signal.starts_with("flash_") {
            continue;
        }
        let _ = writeln!(t, "| `{signal}` | {pin} | {what} |");
    }
}

/// Images per second over the UART of a pixel design.
fn pixel_rate(t: &mut String, plan: &Plan, v: &TopView, b: &BoardView) {
    let model = CycleModel::new(plan);
    let worst = model.latency_worst_case as f64;
    let wire = wire_seconds(v, f64::from(b.baud));
    let rate = uart_images_per_second(v, f64::from(b.baud), worst, b.pll.mhz);
    let accelerator = b.pll.mhz * 1e6 / model.initiation_interval_worst_case.max(1) as f64;
    let _ = writeln!(t, "\n### Images per second over the UART\n");
    let _ = writeln!(
        t,
        "One image at a time over the UART: {} + {} bytes of 10 bits at {} baud are {:.2} ms on the wire, plus \
         the accelerator's latency (at most {} cycles, {:.1} µs at {} MHz): about {} images per second. That \
         is the board's figure over the UART. The accelerator alone, streaming, does at least {} inferences \
         per second at {} MHz (the cycle model's worst-case interval; `ttfs synth` reports the mean at the \
         routed clock): the UART, not the accelerator, sets the pace. `ttfs run . --port /dev/ttyUSB1 --data \
         FILE` measures it on the board; `ttfs board-sim .` serves this wrapper in simulation on a \
         pseudo-terminal for `ttfs run` to talk to.",
        board::frame_bytes(v),
        board::reply_bytes(v),
        b.baud,
        1e3 * wire,
        model.latency_worst_case,
        worst / b.pll.mhz,
        b.pll.mhz,
        grouped(rate, 1),
        grouped(accelerator, 0),
        b.pll.mhz
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(grouped(1234567.891, 1), "1,234,567.9");
        assert_eq!(grouped(999.0, 0), "999");
        assert_eq!(grouped(-1000.0, 0), "-1,000");
        assert_eq!(grouped(15.04, 1), "15.0");
    }
}
