//! The generated test bench's side of the conversation: its stimulus file
//! (`+images=`) and the lines it prints (`spike`, `result`, `done`).

use anyhow::{Context, Result, bail};

/// Pixel codes as `$readmemh` text, one per line.
pub fn stimulus_hex(codes: &[i64]) -> String {
    codes.iter().map(|q| format!("{q:X}\n")).collect()
}

/// One hidden-layer output event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spike {
    /// Dense layer index.
    pub layer: usize,
    /// Image number.
    pub image: usize,
    /// Neuron.
    pub neuron: usize,
    /// Value q (the spike is at tick T − q).
    pub q: i64,
}

/// One result beat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Image number.
    pub image: usize,
    /// Class.
    pub class: usize,
    /// Cycles from the first pixel taken to the result taken.
    pub cycles: u64,
    /// The edge (counted from reset) that took the result.
    pub at: u64,
    /// Logits.
    pub logits: Vec<i64>,
}

/// Mean cycles between consecutive result edges `at` (0 with fewer than two).
pub fn mean_interval(at: &[u64]) -> f64 {
    match (at.first(), at.last()) {
        (Some(first), Some(last)) if at.len() > 1 => (last - first) as f64 / (at.len() - 1) as f64,
        _ => 0.0,
    }
}

impl Transcript {
    /// Mean cycles between consecutive results (0 with fewer than two).
    pub fn mean_interval(&self) -> f64 {
        mean_interval(&self.results.iter().map(|r| r.at).collect::<Vec<_>>())
    }
}

/// Everything a test bench run printed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Transcript {
    /// Hidden spikes in the order they left their layers.
    pub spikes: Vec<Spike>,
    /// Results in order.
    pub results: Vec<Outcome>,
    /// Cycles from reset to the last result.
    pub total_cycles: u64,
}

/// Parses the test bench's output; fails on a `FAIL` line, a malformed
/// line, or a missing `done` line (the run did not finish).
pub fn parse(output: &str) -> Result<Transcript> {
    let mut transcript = Transcript::default();
    let mut done = false;
    for line in output.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let number = |i: usize| -> Result<i64> {
            fields.get(i).and_then(|f| f.parse().ok()).with_context(|| format!("malformed test bench line {line:?}"))
        };
        match fields.first().copied() {
            Some("spike") => transcript.spikes.push(Spike {
                layer: number(1)? as usize,
                image: number(2)? as usize,
                neuron: number(3)? as usize,
                q: number(4)?,
            }),
            Some("result") => transcript.results.push(Outcome {
                image: number(1)? as usize,
                class: number(2)? as usize,
                cycles: number(3)? as u64,
                at: number(4)? as u64,
                logits: (5..fields.len()).map(number).collect::<Result<_>>()?,
            }),
            Some("done") => {
                transcript.total_cycles = number(2)? as u64;
                done = true;
            }
            Some(word) if word.starts_with("FAIL") => bail!("the test bench failed: {line}"),
            _ => {}
        }
    }
    if !done {
        bail!("the test bench did not finish; its output:\n{output}");
    }
    Ok(transcript)
}
