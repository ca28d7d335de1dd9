//! `ttfs board-sim DIR`: the design's board wrapper, Verilated with its PLL
//! and flash models ([`ttfs_cosim::board_model`]), served on a
//! pseudo-terminal as if it were the board's USB UART: bytes the host
//! writes go onto the wrapper's `uart_rx` at its own bit timing, bytes on
//! its `uart_tx` come back. `ttfs run DIR --port PATH` then talks to it as
//! to a board, so the whole path is tested without hardware.
//!
//! The simulated clock only runs while something happens (a frame on the
//! line, the accelerator working, a reply going out); idle time between
//! the host's frames is not simulated. Round trips are counted in
//! simulated cycles (frame's first bit to reply's last) and reported as
//! simulated time at the wrapper's PLL clock, beside the wall-clock time.

use crate::run::design;
use anyhow::{Context, Result, bail};
use serde::Serialize;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use ttfs_cosim::board_model::{self, BoardModel, BoardState};
use ttfs_hw::cycles::CycleModel;

/// What to serve (the arguments of `ttfs board-sim`).
pub struct Args {
    /// A directory written by `ttfs generate`.
    pub dir: PathBuf,
    /// Stop after this many replies (default: serve until killed).
    pub count: Option<u64>,
    /// Compile the directory's Verilog even when hand-edited files hold
    /// constructs outside the generator's own (`--trust-design`).
    pub trust_design: bool,
}

/// What the simulated board did (printed when it stops).
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// The pseudo-terminal it served.
    pub port: String,
    /// The board wrapper simulated.
    pub wrapper: String,
    /// The wrapper's PLL clock, MHz (one simulated cycle is one of its cycles).
    pub clock_mhz: f64,
    /// UART speed, baud.
    pub baud: u32,
    /// Clock cycles per UART bit.
    pub clks_per_bit: u64,
    /// Cycles from power-up to the ready LED (PLL lock, reset, weight load).
    pub power_up_cycles: u64,
    /// Replies sent.
    pub replies: u64,
    /// Simulated seconds of the replies' round trips (each from its
    /// frame's first bit to its reply's last), summed.
    pub simulated_seconds: f64,
    /// What a frame carries: "image", or "record" for a file classifier's
    /// record design.
    pub unit: String,
    /// Images (records) per second over the UART in simulated time, the host
    /// answering at once: the board's figure, simulated.
    pub simulated_images_per_second: f64,
    /// Wall-clock seconds from the first byte in to the last byte out.
    pub wall_seconds: f64,
    /// Images per second in wall-clock time (the simulation's speed).
    pub wall_images_per_second: f64,
    /// Bytes from the board with a bad stop bit (should be 0).
    pub frame_errors: u64,
    /// The board's error LED was on at the end (a UART or framing error).
    pub fault: bool,
}

/// Serves the board until `count` replies have gone out (or forever);
/// `announce` hears notes on hand-edited files, then the pseudo-terminal's
/// path once the board is ready (the last thing it hears).
pub fn run(args: &Args, announce: &mut dyn FnMut(&str)) -> Result<Summary> {
    let (s, b) = design(&args.dir)?;
    let wrapper = ttfs_hw::board::module_name(&s.view, &b);
    // The directory's Verilog is compiled and run: checked like `cosim`'s.
    for note in ttfs_cosim::stage::check_design(&s, args.trust_design, "simulate the board")? {
        announce(&format!("note: {note}"));
    }
    if !s.view.loaders.is_empty() && !s.design.files.contains_key("mem/weights_spram.hex") {
        bail!("{} has no mem/weights_spram.hex, the flash contents of its SPRAM weights", args.dir.display());
    }
    let built = board_model::build(&s.design, &s.view, &b)
        .with_context(|| format!("cannot build the simulated board of {}", args.dir.display()))?;
    let mut model = BoardModel::open(&built, &s.view)?;
    let cpb = model.clks_per_bit;
    // Power-up: PLL lock, reset, and for SPRAM designs the flash load.
    let limit = 1_000_000 + 64 * s.view.load_bytes;
    let mut sink = Vec::new();
    let mut state = BoardState::default();
    while !state.ready {
        if state.cycle > limit {
            bail!(
                "the simulated board was not ready {} cycles after power-up{}",
                state.cycle,
                if state.fault { " (its error LED is on)" } else { "" }
            );
        }
        state = model.step(&[], &mut sink, 1_000, 0)?;
    }
    let power_up_cycles = state.cycle;
    let (mut master, slave) = serialport::TTYPort::pair().context("cannot open a pseudo-terminal")?;
    let port = serialport::SerialPort::name(&slave).context("the pseudo-terminal has no path")?;
    announce(&port);
    // The accelerator may be silent for its whole latency after a frame.
    let quiet_stop = CycleModel::new(&s.plan).latency_worst_case + 30 * cpb + 1_000;
    let chunk = 200 * cpb;
    let mut input = vec![0u8; 4096];
    let mut output = Vec::new();
    let mut busy = false;
    let mut first_byte: Option<Instant> = None;
    let mut last_out = Instant::now();
    let start_replies = state.replies;
    let start_cycles = state.round_trip_cycles;
    loop {
        // Host bytes: wait for them when the board is idle, take what is
        // there when it is not.
        let waiting = serialport::SerialPort::bytes_to_read(&master).unwrap_or(0) as usize;
        let mut got = 0;
        if waiting > 0 || !busy {
            let timeout = if busy { Duration::from_millis(1) } else { Duration::from_millis(200) };
            let _ = serialport::SerialPort::set_timeout(&mut master, timeout);
            let want = waiting.clamp(1, input.len());
            match master.read(&mut input[..want]) {
                Ok(n) => got = n,
                Err(e) if matches!(e.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::Interrupted) => {}
                Err(e) => bail!("{port}: {e}"),
            }
        }
        if got > 0 {
            first_byte.get_or_insert_with(Instant::now);
            busy = true;
        }
        if busy {
            let before = state.cycle;
            output.clear();
            state = model.step(&input[..got], &mut output, chunk, quiet_stop)?;
            if !output.is_empty() {
                master
                    .write_all(&output)
                    .and_then(|()| master.flush())
                    .with_context(|| format!("{port}: cannot write"))?;
                last_out = Instant::now();
            }
            busy = state.pending > 0 || state.cycle - before >= chunk;
        }
        if args.count.is_some_and(|n| state.replies - start_replies >= n) {
            // Let the host read the last reply before the terminal goes
            // away: the bytes reach the terminal's input queue a moment
            // after they are written, so wait until it has stayed empty
            // for a while (at most 5 s).
            let deadline = Instant::now() + Duration::from_secs(5);
            let mut empty_since = Instant::now();
            while Instant::now() < deadline && empty_since.elapsed() < Duration::from_millis(300) {
                if serialport::SerialPort::bytes_to_read(&slave).unwrap_or(0) > 0 {
                    empty_since = Instant::now();
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            break;
        }
    }
    let replies = state.replies - start_replies;
    let simulated_seconds = (state.round_trip_cycles - start_cycles) as f64 / (b.pll.mhz * 1e6);
    let wall_seconds = first_byte.map_or(0.0, |t| last_out.duration_since(t).as_secs_f64());
    let rate = |seconds: f64| if seconds > 0.0 { replies as f64 / seconds } else { 0.0 };
    Ok(Summary {
        port,
        wrapper,
        clock_mhz: b.pll.mhz,
        baud: b.baud,
        clks_per_bit: cpb,
        power_up_cycles,
        replies,
        simulated_seconds,
        simulated_images_per_second: rate(simulated_seconds),
        unit: if s.records.is_some() { "record" } else { "image" }.into(),
        wall_seconds,
        wall_images_per_second: rate(wall_seconds),
        frame_errors: state.frame_errors,
        fault: state.fault,
    })
}

/// The summary for people.
pub fn render(s: &Summary) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "{} replies from the simulated {} ({} MHz, {} baud, {} cycles per bit; ready {} cycles after power-up)",
        s.replies, s.wrapper, s.clock_mhz, s.baud, s.clks_per_bit, s.power_up_cycles
    );
    let _ = writeln!(
        t,
        "  simulated time: {:.1} {}s/s over the UART (round trips {:.4} s in all, frame's first bit to reply's last)",
        s.simulated_images_per_second, s.unit, s.simulated_seconds
    );
    let _ = writeln!(
        t,
        "  wall clock: {:.1} {}s/s ({:.2} s; the simulation's speed, not the board's)",
        s.wall_images_per_second, s.unit, s.wall_seconds
    );
    if s.fault || s.frame_errors > 0 {
        let _ = writeln!(t, "  the board flagged an error: error LED {}, {} bad stop bits", s.fault, s.frame_errors);
    }
    t
}
