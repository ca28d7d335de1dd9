//! `ttfs run DIR --port DEV --data FILE`: images to the board over its
//! UART, one at a time (the next frame leaves when the reply is in), every
//! reply compared with the integer closed form of DIR's network: accuracy,
//! mismatched outputs, images per second and round-trip latency, measured
//! over the UART (or, on a pseudo-terminal, against the simulated board,
//! and labelled so).
//!
//! A port that does not answer, answers garbage or drops bytes ends in an
//! error naming the port, the sample and the bytes seen; a reply of another
//! length, from a board that runs another design, is named as such rather
//! than read as wrong answers.

use crate::protocol::{Protocol, hex};
use anyhow::{Context, Result, bail};
use serde::Serialize;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use ttfs_hw::board::BoardView;
use ttfs_hw::subject::Subject;
use ttfs_sim::{Prepared, quantized};

/// What to run (the arguments of `ttfs run`).
pub struct Args {
    /// A directory written by `ttfs generate` (the design on the board).
    pub dir: PathBuf,
    /// The serial port (`/dev/ttyUSB1`, or the path `ttfs board-sim` prints).
    pub port: String,
    /// Data.
    pub data: PathBuf,
    /// Labels.
    pub labels: Option<PathBuf>,
    /// Use only the first N samples.
    pub count: Option<usize>,
    /// Seconds to wait for a reply (default: [`default_timeout`]).
    pub timeout: Option<f64>,
}

/// The first reply that differs from the reference.
#[derive(Clone, Debug, Serialize)]
pub struct Mismatch {
    /// Sample index.
    pub sample: usize,
    /// The reference's class.
    pub expected_class: usize,
    /// The board's class.
    pub actual_class: usize,
    /// The reference's logits.
    pub expected_logits: Vec<i64>,
    /// The board's logits.
    pub actual_logits: Vec<i64>,
}

/// The report (`--json` prints it).
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The port.
    pub port: String,
    /// The design's UART speed, baud.
    pub baud: u32,
    /// The port is a pseudo-terminal: the board is simulated (`ttfs
    /// board-sim`), and times are the simulation's wall-clock times.
    pub simulated: bool,
    /// What the speed figures measure.
    pub measures: String,
    /// Samples sent.
    pub samples: usize,
    /// Accuracy of the board's classes (with labels).
    pub accuracy: Option<f64>,
    /// Accuracy of the reference's classes (with labels).
    pub accuracy_reference: Option<f64>,
    /// Replies whose class or logits differ from the reference.
    pub mismatched_outputs: usize,
    /// The first of them.
    pub first_mismatch: Option<Mismatch>,
    /// What a sample is: "image", or "record" (`ttfs files run`).
    pub unit: String,
    /// Images (or records) per second, one at a time over the UART (wall clock).
    pub images_per_second: f64,
    /// Mean round trip per image, ms: the frame written to the reply read.
    pub latency_ms_mean: f64,
    /// Longest round trip, ms.
    pub latency_ms_max: f64,
    /// What the wire alone allows at this baud, images per second (frame
    /// and reply bits, nothing between them).
    pub wire_images_per_second: f64,
    /// Seconds for all samples.
    pub seconds: f64,
}

impl Report {
    /// What differs from the reference, or `None`.
    pub fn difference(&self) -> Option<String> {
        (self.mismatched_outputs > 0).then(|| {
            format!(
                "the board's replies differ from the reference on {} of {} samples",
                self.mismatched_outputs, self.samples
            )
        })
    }
}

/// The design in `dir` and its board, or why it has none.
pub fn design(dir: &Path) -> Result<(Subject, BoardView)> {
    if !dir.join("manifest.json").is_file() {
        bail!("{} is not a directory written by `ttfs generate` (it has no manifest.json)", dir.display());
    }
    let s =
        ttfs_hw::subject::subject(dir, ttfs_hw::target::Target::Generic, &ttfs_hw::planner::Lanes::Fixed(Vec::new()))?;
    let b = ttfs_hw::board::board(s.plan.target, &s.view).with_context(|| {
        format!(
            "{} has no board wrapper (target {}, {}-bit pixel codes): generate it for ice40-up5k or ice40-hx8k \
             with --time-bits 8 or fewer",
            dir.display(),
            s.plan.target,
            s.view.q0_bits
        )
    })?;
    Ok((s, b))
}

/// The default reply timeout for a design: on a board, two seconds more
/// than ten times the wire time of a frame and its reply (a board answers
/// within the wire time); on a pseudo-terminal (`simulated`), two minutes,
/// as a simulation on a busy machine runs a thousand times slower.
pub fn default_timeout(p: &Protocol, baud: u32, simulated: bool) -> f64 {
    if simulated {
        return 120.0;
    }
    2.0 + 10.0 * ((p.frame_bytes() + p.reply_bytes()) * 10) as f64 / f64::from(baud)
}

/// Whether a port path names a pseudo-terminal (a simulated board).
pub fn is_pseudo_terminal(port: &str) -> bool {
    std::fs::canonicalize(port).map(|p| p.starts_with("/dev/pts")).unwrap_or(false)
}

/// An open port with the context for its errors.
struct Link<'a> {
    port: serialport::TTYPort,
    name: &'a str,
    timeout: Duration,
}

impl Link<'_> {
    /// Reads until `want` bytes or the deadline; returns what came.
    fn read_until(&mut self, want: usize, deadline: Instant) -> Result<Vec<u8>> {
        let mut got = Vec::with_capacity(want);
        let mut buffer = vec![0u8; want.max(1)];
        while got.len() < want {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            let _ = serialport::SerialPort::set_timeout(&mut self.port, deadline - now);
            match self.port.read(&mut buffer[..want - got.len()]) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&buffer[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => bail!("cannot read from {}: {e} (bytes seen: {})", self.name, hex(&got, 64)),
            }
        }
        Ok(got)
    }

    /// Bytes that arrive within `quiet` of each other from now on.
    fn read_quiet(&mut self, quiet: Duration, limit: usize) -> Result<Vec<u8>> {
        let mut all = Vec::new();
        loop {
            let more = self.read_until(64, Instant::now() + quiet)?;
            if more.is_empty() || all.len() > limit {
                return Ok(all);
            }
            all.extend(more);
        }
    }
}

/// Runs the samples of `args.data` through the board; returns the report.
/// Refuses a file classifier's record design (its wrapper takes records:
/// `ttfs files run`).
pub fn run(args: &Args) -> Result<Report> {
    let (s, b) = design(&args.dir)?;
    if ttfs_hw::manifest::Manifest::read(&args.dir)?.records.is_some() {
        bail!(
            "{} is a file classifier's record design: its board takes records, not images; run `ttfs files run \
             MODEL.json {} --port {} --data RECORDS.csv`",
            args.dir.display(),
            args.dir.display(),
            args.port
        );
    }
    let protocol = Protocol::of(&s.view);
    let codes = ttfs_hw::stage::input_codes(&s.net, &args.data, args.count)?;
    let samples = codes.len() / protocol.inputs;
    let labels = match &args.labels {
        Some(path) => {
            let total = if args.count == Some(samples) { None } else { Some(samples) };
            Some(ttfs_data::load_labels_for(path, &args.data, samples, total, s.view.classes)?)
        }
        None => None,
    };
    let model = Prepared::new(&s.net);
    let mut frames = Vec::with_capacity(samples);
    let mut expected = Vec::with_capacity(samples);
    for (sample, q0) in codes.chunks(protocol.inputs).enumerate() {
        frames.push(protocol.frame(q0).map_err(|e| anyhow::anyhow!("sample {sample}: {e}"))?);
        expected.push(quantized::forward(&model, q0).logits().to_vec());
    }
    let link =
        Exchange { dir: &args.dir, port: &args.port, baud: b.baud, protocol, timeout: args.timeout, unit: "image" };
    exchange(&link, &frames, &expected, labels.as_deref())
}

/// Where and how [`exchange`] talks to a board.
pub struct Exchange<'a> {
    /// The design directory (for the errors' advice).
    pub dir: &'a Path,
    /// The serial port.
    pub port: &'a str,
    /// Its speed.
    pub baud: u32,
    /// The replies' shape (and the frames' size, for the default timeout).
    pub protocol: Protocol,
    /// Seconds to wait for a reply (default: [`default_timeout`]).
    pub timeout: Option<f64>,
    /// What a frame carries, for the report: "image" or "record".
    pub unit: &'a str,
}

/// Sends `frames` one at a time (the next when the reply is in), reads
/// each reply and compares it with `expected` (each sample's logits; the
/// class is their first largest); `labels` give the accuracy.
pub fn exchange(x: &Exchange, frames: &[Vec<u8>], expected: &[Vec<i64>], labels: Option<&[usize]>) -> Result<Report> {
    let protocol = x.protocol;
    let samples = frames.len();
    let simulated = is_pseudo_terminal(x.port);
    let timeout = x.timeout.unwrap_or_else(|| default_timeout(&protocol, x.baud, simulated));
    if !(timeout.is_finite() && timeout > 0.0 && timeout < 1e6) {
        bail!("--timeout {timeout} is not a number of seconds");
    }
    let timeout = Duration::from_secs_f64(timeout);
    let port = serialport::new(x.port, x.baud)
        .timeout(timeout)
        .open_native()
        .with_context(|| format!("cannot open the serial port {}", x.port))?;
    let mut link = Link { port, name: x.port, timeout };
    // Whatever the port held before (a reply nobody read) is not ours.
    let _ = serialport::SerialPort::clear(&link.port, serialport::ClearBuffer::All);
    let byte_time = 10.0 / f64::from(x.baud);
    let quiet = Duration::from_secs_f64((40.0 * byte_time).max(0.05));
    let (mut mismatched, mut first_mismatch, mut correct, mut correct_ref) = (0, None, 0, 0);
    let mut latencies = Vec::with_capacity(samples);
    let started = Instant::now();
    for (sample, (frame, logits)) in frames.iter().zip(expected).enumerate() {
        // Bytes waiting before a frame are the tail of a longer reply.
        let stray = serialport::SerialPort::bytes_to_read(&link.port).unwrap_or(0);
        if stray > 0 {
            let extra = link.read_quiet(quiet, 4096)?;
            bail!(
                "{}: after its reply to sample {} the board sent {} more bytes ({}): its replies are longer than \
                 this design's {}-byte replies; the board runs a different design (more logits or wider ones)",
                x.port,
                sample.saturating_sub(1),
                extra.len(),
                hex(&extra, 32),
                protocol.reply_bytes()
            );
        }
        let sent = Instant::now();
        link.port
            .write_all(frame)
            .and_then(|()| link.port.flush())
            .with_context(|| format!("{}: cannot send sample {sample} (is anything reading the port?)", x.port))?;
        let mut reply = link
            .read_until(protocol.reply_bytes(), sent + link.timeout)
            .with_context(|| format!("the reply to sample {sample}"))?;
        let latency = sent.elapsed();
        if reply.len() < protocol.reply_bytes() {
            if let Some(other) = protocol.other_design(&reply) {
                // Short, but shaped like a reply: a board that runs another
                // design answers the same length again; one that drops
                // bytes does not.
                link.port.write_all(frame).and_then(|()| link.port.flush()).ok();
                let again = link.read_until(protocol.reply_bytes(), Instant::now() + link.timeout)?;
                if again.len() == reply.len() && again.first() == reply.first() {
                    bail!(
                        "{}: sample {sample}: {other} (two replies of {} bytes in a row: {})",
                        x.port,
                        reply.len(),
                        hex(&reply, 64)
                    );
                }
            }
            bail!(
                "{}: no complete reply to sample {sample} within {:.1} s: {} of {} bytes (bytes seen: {}). {}",
                x.port,
                link.timeout.as_secs_f64(),
                reply.len(),
                protocol.reply_bytes(),
                hex(&reply, 64),
                if reply.is_empty() {
                    format!(
                        "Is the board programmed with this design (`ttfs prog {}`) and ready (its ready LED on)? \
                         A board that runs another design may wait for more bytes.",
                        x.dir.display(),
                    )
                } else {
                    "The board stopped part way: bytes were dropped, or it runs another design.".into()
                }
            );
        }
        if sample == 0 {
            // The first reply is heard out: a longer one names another design.
            let extra = link.read_quiet(quiet, 4096).context("after the reply to sample 0")?;
            if !extra.is_empty() {
                reply.extend(extra);
                let other = protocol.other_design(&reply).unwrap_or_else(|| "its reply is longer".into());
                bail!("{}: sample 0: {other} (bytes seen: {})", x.port, hex(&reply, 64));
            }
        }
        let got = protocol.parse(&reply).map_err(|e| {
            anyhow::anyhow!(
                "{}: the reply to sample {sample} is garbage: {e} (bytes seen: {})",
                x.port,
                hex(&reply, 64)
            )
        })?;
        latencies.push(latency.as_secs_f64());
        let expected_class = ttfs_sim::argmax(logits);
        if got.class != expected_class || got.logits != *logits {
            mismatched += 1;
            first_mismatch.get_or_insert(Mismatch {
                sample,
                expected_class,
                actual_class: got.class,
                expected_logits: logits.clone(),
                actual_logits: got.logits.clone(),
            });
        }
        if let Some(labels) = labels {
            correct += usize::from(got.class == labels[sample]);
            correct_ref += usize::from(expected_class == labels[sample]);
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let n = samples.max(1) as f64;
    let frame_bytes = frames.iter().map(Vec::len).sum::<usize>() as f64 / n;
    let wire = (frame_bytes + protocol.reply_bytes() as f64) * 10.0 / f64::from(x.baud);
    Ok(Report {
        port: x.port.to_string(),
        baud: x.baud,
        simulated,
        measures: if simulated {
            "over a pseudo-terminal: a simulated board (ttfs board-sim); wall-clock times of the simulation, not \
             of a board"
                .into()
        } else {
            format!(
                "over the UART: one {} at a time, from the frame written to the reply read (wall clock, host \
                 included)",
                x.unit
            )
        },
        samples,
        accuracy: labels.map(|_| correct as f64 / n),
        accuracy_reference: labels.map(|_| correct_ref as f64 / n),
        unit: x.unit.to_string(),
        mismatched_outputs: mismatched,
        first_mismatch,
        images_per_second: if seconds > 0.0 { samples as f64 / seconds } else { 0.0 },
        latency_ms_mean: 1e3 * latencies.iter().sum::<f64>() / n,
        latency_ms_max: 1e3 * latencies.iter().copied().fold(0.0, f64::max),
        wire_images_per_second: 1.0 / wire,
        seconds,
    })
}

/// The report for people.
pub fn render(r: &Report) -> String {
    let mut t = String::new();
    let label = if r.simulated { " (simulated board)" } else { "" };
    let _ = writeln!(t, "{} samples over {} at {} baud{label}", r.samples, r.port, r.baud);
    let _ = writeln!(t, "  outputs: {} of {} differ from the reference", r.mismatched_outputs, r.samples);
    if let Some(m) = &r.first_mismatch {
        let _ = writeln!(
            t,
            "  first difference: sample {}, class {} (reference {}), logits {:?} (reference {:?})",
            m.sample, m.actual_class, m.expected_class, m.actual_logits, m.expected_logits
        );
    }
    if let (Some(a), Some(b)) = (r.accuracy, r.accuracy_reference) {
        let _ = writeln!(t, "  accuracy {:.2} % (reference {:.2} %)", 100.0 * a, 100.0 * b);
    }
    let _ = writeln!(
        t,
        "  {:.1} {unit}s/s{}, round trip {:.2} ms mean ({:.2} ms max); the wire alone allows {:.1} {unit}s/s at {} baud",
        r.images_per_second,
        if r.simulated { " (simulated: the simulation's wall clock)" } else { " over the UART" },
        r.latency_ms_mean,
        r.latency_ms_max,
        r.wire_images_per_second,
        r.baud,
        unit = r.unit
    );
    let _ = writeln!(t, "  measured {}", r.measures);
    t
}
