//! The TTFS file classifier in hardware (`ttfs files generate`, `ttfs
//! files cosim`): the network's design from the hardware generator, plus
//! the record front end: the top module `<top>_records` takes a record as
//! it arrives, as (key index, 32-bit token code) pairs in any order, and
//! its `ttfs_files_encoder` computes the input spikes on chip, so the host
//! never computes a spike time.
//!
//! **Where values are binned: by the host.** The host already holds the
//! value's text (it parses the CSV) and turns it into a token code: a
//! categorical value's FNV-1a hash, or a numeric value's bin from the
//! model's edges (`features.kinds`). Binning on chip would need the
//! decimal text parsed into a number and a table of edges per key; the
//! chip gets one kind of input instead, and nothing of the chip depends on
//! the data's number formats. The spike times, which are what the paper's
//! encoding is about, are computed on chip from (key, code) alone: the
//! same `mix32` rounds as [`crate::encoding`], with the same 32-bit codes,
//! so the widths agree by construction (the encoder's bench checks it
//! against vectors this crate computes).

use crate::features::Token;
use crate::model::{Classifier, FilesModel};
use anyhow::{Context, Result, anyhow, bail};
use serde::Serialize;
use std::path::Path;
use std::process::Command;
use ttfs_hw::design::{RecordsFront, render_records_design};
use ttfs_hw::manifest::RecordCycles;
use ttfs_hw::plan::Plan;
use ttfs_hw::planner::Lanes;
use ttfs_hw::target::Target;
use ttfs_hw::{Design, testbench};
use ttfs_tools::Tool;

/// The record front end's parameters for `model`.
pub fn front(model: &FilesModel) -> Result<RecordsFront> {
    let keys = model.features.keys.len();
    let channels = model.encoding.channel_count(keys);
    let codes = ttfs_sim::encode::discrete(&model.network, &vec![1.0; channels]);
    let q_active = codes[0];
    if codes.iter().any(|&q| q != q_active) || q_active <= 0 {
        bail!("the network does not take every channel's spike as the same input code (got {q_active} and others)");
    }
    Ok(RecordsFront {
        keys,
        neurons_per_key: model.encoding.neurons_per_key,
        ticks: model.encoding.ticks,
        spread: model.encoding.spread,
        seed: model.encoding.seed,
        key_bits: (usize::BITS - (keys.max(2) - 1).leading_zeros()).max(1),
        q_active: q_active as u32,
    })
}

/// A record's (key, code) pairs as a host would send them: every key with
/// a value, in an order drawn from `order` (a seed), and the keys whose
/// value is missing left out unless `send_missing` (the encoder fills them
/// in). A record of missing values only is sent as key 0's missing code.
pub fn pairs(tokens: &[Token], order: u32, send_missing: bool) -> Vec<(u32, u32)> {
    let mut pairs: Vec<(u32, u32)> = tokens
        .iter()
        .zip(0u32..)
        .filter(|(t, _)| send_missing || **t != Token::Missing)
        .map(|(t, k)| (k, t.code()))
        .collect();
    pairs.sort_by_key(|&(k, _)| crate::encoding::mix32(order ^ k.wrapping_mul(0x9e37_79b9)));
    if pairs.is_empty() {
        pairs.push((0, 0));
    }
    pairs
}

/// A few records for the bench's default stimulus: values never seen in
/// training, every bin of the numeric keys, a record of missing values.
fn default_records(model: &FilesModel) -> Vec<Vec<Token>> {
    let keys = model.features.keys.len();
    let mut records = vec![vec![Token::Missing; keys]];
    for r in 0..3u32 {
        records.push(
            (0..keys)
                .map(|k| match model.features.bins(k) {
                    0 => Token::Value(format!("unseen value {r}.{k}")),
                    bins => Token::Bin((r * 5 + k as u32) % bins as u32),
                })
                .collect(),
        );
    }
    records
}

/// Plans and renders the design of `model` for `target` with the record
/// front end; its bench's default stimulus checks a few records. `cycles`:
/// cycles per record measured by co-simulation, for the manifest and README.
pub fn build(
    model: &FilesModel,
    target: Target,
    lanes: &Lanes,
    cycles: Option<RecordCycles>,
) -> Result<(Plan, Design)> {
    let front = front(model)?;
    let plan = ttfs_hw::planner::choose(&model.network, target, &records_lanes(target, lanes), None).map_err(|e| {
        let mut error = anyhow::Error::new(e);
        if let Lanes::Auto(goal) = lanes {
            let front = ttfs_hw::design::RECORDS_FRONT_LOGIC_CELLS;
            let share = 100.0 * front as f64 / target.resources().logic_cells.max(1) as f64;
            error = error.context(format!(
                "--lanes auto plans the layers in what --budget {} % leaves once the record front end takes its \
                 ~{front} logic cells ({share:.1} % of the {target}); raise --budget (at most 100), give --lanes, \
                 or train a smaller classifier (--hidden, --ticks)",
                goal.budget_percent
            ));
        }
        error
    })?;
    let classifier = Classifier::new(model);
    let records = default_records(model);
    let sent: Vec<Vec<(u32, u32)>> = records.iter().zip(0u32..).map(|(t, i)| pairs(t, i, i % 2 == 0)).collect();
    let codes: Vec<i64> = records.iter().flat_map(|t| classifier.codes(t)).collect();
    let cycle_model = ttfs_hw::cycles::CycleModel::new(&plan);
    let design = render_records_design(&model.network, &plan, &cycle_model, &front, &sent, &codes, cycles);
    Ok((plan, design))
}

/// `--lanes auto` for a record design: the network's layers get the logic
/// budget left once the record front end
/// ([`ttfs_hw::design::RECORDS_FRONT_LOGIC_CELLS`]) is taken
/// off it, so that the whole design fits. Fixed lanes pass unchanged.
pub fn records_lanes(target: Target, lanes: &Lanes) -> Lanes {
    match lanes {
        Lanes::Auto(goal) => {
            let device = target.resources().logic_cells.max(1) as f64;
            let front = 100.0 * ttfs_hw::design::RECORDS_FRONT_LOGIC_CELLS as f64 / device;
            Lanes::Auto(ttfs_hw::planner::Goal { budget_percent: (goal.budget_percent - front).max(1.0), ..*goal })
        }
        fixed => fixed.clone(),
    }
}

/// What `ttfs files cosim` reports.
#[derive(Serialize, Clone, Debug)]
pub struct CosimReport {
    /// Records run.
    pub records: usize,
    /// Hidden spikes of the reference.
    pub reference_spikes: usize,
    /// Missing, extra or mistimed hidden spikes.
    pub mismatched_spikes: usize,
    /// Records whose class or logits differ.
    pub mismatched_outputs: usize,
    /// The first difference, in words.
    pub first_difference: Option<String>,
    /// The hardware's accuracy against the labels.
    pub accuracy: Option<f64>,
    /// Records holding a (key, token) pair that no training record has (0
    /// when the caller does not know the training split).
    pub unseen_values: usize,
    /// Mean cycles per record, from its first pair to its result, one at a
    /// time.
    pub cycles_per_record: f64,
    /// The most cycles a record took.
    pub cycles_worst: u64,
    /// Wall seconds of the simulation.
    pub seconds: f64,
}

/// Co-simulates the record design of `model` (built in memory for
/// `target`, `lanes`) under Verilator on `records` (their tokens; labels as
/// class indices when known): every record's pairs go through the on-chip
/// encoder, and every hidden spike and every output is compared with the
/// integer reference on the encoding computed here. `unseen` counts the
/// records with a value not in the training split (given by the caller).
pub fn cosim(
    model: &FilesModel,
    target: Target,
    lanes: &Lanes,
    records: &[Vec<Token>],
    labels: Option<&[usize]>,
    unseen: usize,
) -> Result<CosimReport> {
    if records.is_empty() {
        bail!("no records to co-simulate");
    }
    let verilator = Tool::Verilator.locate()?;
    let (plan, design) = build(model, target, lanes, None)?;
    let front = front(model)?;
    let dir = tempfile::tempdir()?;
    ttfs_hw::write(&design, dir.path(), true)?;
    let classifier = Classifier::new(model);
    let sent: Vec<Vec<(u32, u32)>> = records.iter().zip(0u32..).map(|(t, i)| pairs(t, i, i % 3 == 0)).collect();
    let codes: Vec<i64> = records.iter().flat_map(|t| classifier.codes(t)).collect();
    std::fs::write(dir.path().join("records.hex"), ttfs_hw::design::record_beats_hex(&sent, front.key_bits))?;
    let weights: String =
        ttfs_hw::design::load_stream(&model.network, &plan).iter().map(|b| format!("{b:02X}\n")).collect();
    std::fs::write(dir.path().join("weights.hex"), weights)?;
    let tb = format!("{}_records_tb", design.top);
    let mut build = Command::new(&verilator);
    build
        .current_dir(dir.path())
        .args([
            "--binary",
            "--timing",
            "-Wno-fatal",
            "-O2",
            "-j",
            "2",
            "--top-module",
            &tb,
            "-y",
            "sim",
            "--Mdir",
            "obj",
        ])
        .arg(format!("-GMAX_IMAGES={}", records.len()))
        .args(design.files.keys().filter(|p| p.starts_with("rtl/") && p.ends_with(".v")))
        .arg(format!("sim/{tb}.v"));
    ttfs_tools::run(&mut build).context("building the record bench under Verilator")?;
    let started = std::time::Instant::now();
    let mut sim = Command::new(dir.path().join("obj").join(format!("V{tb}")));
    sim.current_dir(dir.path())
        .args(["+images=records.hex", "+weights=weights.hex"])
        .arg(format!("+count={}", records.len()));
    let output = ttfs_tools::run(&mut sim).context("running the record bench")?;
    let text = ttfs_tools::combined(&output);
    let seconds = started.elapsed().as_secs_f64();
    let transcript =
        testbench::parse(&text).with_context(|| format!("the record bench failed: {}", ttfs_tools::describe(&sim)))?;
    let seen = ttfs_cosim::Observed {
        spikes: transcript
            .spikes
            .iter()
            .map(|p| [p.layer as u32, p.image as u32, p.neuron as u32, p.q as u32])
            .collect(),
        classes: transcript.results.iter().map(|r| r.class).collect(),
        logits: transcript.results.iter().map(|r| r.logits.clone()).collect(),
        latency: transcript.results.iter().map(|r| r.cycles).collect(),
    };
    let comparison = ttfs_cosim::compare(&model.network, &plan, &codes, labels, &seen);
    let first_difference = comparison
        .first_divergence
        .as_ref()
        .map(|d| format!("record {}: layer {} neuron {}: {}", d.sample, d.layer_name, d.neuron, d.kind))
        .or_else(|| {
            comparison
                .first_output_mismatch
                .as_ref()
                .map(|m| format!("record {}: class {} (reference {})", m.sample, m.actual_class, m.expected_class))
        });
    Ok(CosimReport {
        records: records.len(),
        reference_spikes: comparison.reference_spikes,
        mismatched_spikes: comparison.mismatched_spikes,
        mismatched_outputs: comparison.mismatched_outputs,
        first_difference,
        accuracy: comparison.accuracy,
        unseen_values: unseen,
        cycles_per_record: comparison.cycles_per_inference,
        cycles_worst: comparison.cycles_worst_measured,
        seconds,
    })
}

/// Records whose cycles `ttfs files generate --data` measures: the data
/// file, the test split to take (fraction, seed) and how many records.
pub struct Measure<'a> {
    /// Records as CSV (the model's keys and label column).
    pub data: &'a Path,
    /// Only the test split of this stratified split (fraction, seed).
    pub split: Option<(f64, u32)>,
    /// The first this many records.
    pub count: usize,
}

/// Writes the record design of the model at `model_path` to `output`
/// (refused when it holds files, unless `force`); returns a summary. With
/// `measure`, the design is first co-simulated on those records (every
/// spike and result compared: a difference is an error and nothing is
/// written) and its cycles per record go into the manifest and README,
/// where `ttfs synth DIR` takes its latency from.
pub fn generate(
    model_path: &Path,
    output: &Path,
    target: Target,
    lanes: &Lanes,
    force: bool,
    measure: Option<Measure>,
) -> Result<String> {
    let model = FilesModel::load(model_path)?;
    let context = || format!("cannot generate hardware for {}", model_path.display());
    let cycles = match &measure {
        Some(m) => {
            let (records, labels, unseen) = cosim_records(&model, m.data, m.split, Some(m.count))?;
            let report = cosim(&model, target, lanes, &records, labels.as_deref(), unseen).with_context(context)?;
            if report.mismatched_spikes + report.mismatched_outputs > 0 {
                bail!(
                    "{}the hardware differs from the reference; nothing was written to {}",
                    render_cosim(&report),
                    output.display()
                );
            }
            let name = m.data.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let data = match m.split {
                Some((fraction, seed)) => format!("{name} (test split {fraction}, seed {seed})"),
                None => name,
            };
            Some(RecordCycles {
                records: report.records as u64,
                data,
                mean: report.cycles_per_record,
                worst: report.cycles_worst,
            })
        }
        None => None,
    };
    let (plan, design) = build(&model, target, lanes, cycles.clone()).with_context(context)?;
    ttfs_hw::write(&design, output, force)?;
    let measured = match &cycles {
        Some(c) => format!(
            "{:.1} per record over {} records of {} (co-simulated, 0 mismatches; worst {}), in manifest.json for \
             `ttfs synth`",
            c.mean, c.records, c.data, c.worst
        ),
        None => "not measured: `--data FILE` co-simulates records and records them for `ttfs synth` \
                 (without them it reports an upper bound)"
            .to_string(),
    };
    Ok(format!(
        "wrote {} files to {}: top {}_records (records in as (key, token code) pairs), {} on the {}, lanes {}\n  \
         bench: sim/{}_records_tb.v with its default stimulus ({}); the pixel-stream top {} is there too\n  \
         cycles: {measured}\n",
        design.files.len(),
        output.display(),
        design.top,
        plan.layers.iter().map(|l| format!("{}x{}", l.inputs, l.outputs)).collect::<Vec<_>>().join(", "),
        target,
        ttfs_hw::planner::lanes_text(&plan.layers.iter().map(|l| l.lanes).collect::<Vec<_>>()),
        design.top,
        ttfs_hw::design::RECORDS_FILE,
        design.top
    ))
}

/// A record's (key, code) pairs in key order, missing values left out (the
/// encoder fills them in): what `ttfs files run` sends. A record of
/// missing values only is key 0's missing code.
pub fn pairs_in_key_order(tokens: &[Token]) -> Vec<(u32, u32)> {
    let pairs: Vec<(u32, u32)> =
        tokens.iter().zip(0u32..).filter(|(t, _)| **t != Token::Missing).map(|(t, k)| (k, t.code())).collect();
    if pairs.is_empty() { vec![(0, 0)] } else { pairs }
}

/// `ttfs files run`: sends `records` to the board (or `ttfs board-sim`)
/// that runs the record design in `dir` over `port`, one at a time, and
/// compares every reply with the integer network of `model` on the
/// encoding computed here. `dir` must have been generated from `model`
/// (its network files and front end are compared byte for byte).
pub fn run_board(
    model: &FilesModel,
    dir: &Path,
    port: &str,
    records: &[Vec<Token>],
    labels: Option<&[usize]>,
    timeout: Option<f64>,
) -> Result<ttfs_board::run::Report> {
    let (s, b) = ttfs_board::run::design(dir)?;
    let Some(info) = &s.records else {
        bail!(
            "{} is not a record design (it has no `records` in its manifest): `ttfs files generate` writes one; \
             `ttfs run` talks to pixel designs",
            dir.display()
        );
    };
    let (json, sidecar) = ttfs_ir::sidecar::to_files(&model.network, ttfs_hw::design::NET_SIDECAR)?;
    let same_net = std::fs::read(dir.join(ttfs_hw::design::NET_JSON)).is_ok_and(|j| j == json.as_bytes())
        && std::fs::read(dir.join(ttfs_hw::design::NET_SIDECAR)).is_ok_and(|t| t == sidecar);
    if !same_net || info.front != front(model)? {
        bail!(
            "{} was not generated from this model (its network or record encoding differs); run `ttfs files \
             generate MODEL.json -o DIR` with the model you run",
            dir.display()
        );
    }
    if info.frame_header.is_none() {
        bail!("{} has no records board wrapper (its keys do not fit the UART framing's 7 bits)", dir.display());
    }
    let classifier = Classifier::new(model);
    let mut frames = Vec::with_capacity(records.len());
    for (i, tokens) in records.iter().enumerate() {
        frames.push(
            ttfs_board::protocol::record_frame(&pairs_in_key_order(tokens)).map_err(|e| anyhow!("record {i}: {e}"))?,
        );
    }
    let expected: Vec<Vec<i64>> = records.iter().map(|t| classifier.logits(t)).collect();
    let link = ttfs_board::run::Exchange {
        dir,
        port,
        baud: b.baud,
        protocol: ttfs_board::protocol::Protocol::of(&s.view),
        timeout,
        unit: "record",
    };
    ttfs_board::run::exchange(&link, &frames, &expected, labels)
}

/// Records to co-simulate: their tokens, their class indices (`None` when a
/// label is not one of the model's classes) and how many hold a value that
/// no training record has.
pub type CosimRecords = (Vec<Vec<Token>>, Option<Vec<usize>>, usize);

/// The records `ttfs files cosim` runs: those of `data` (read with the
/// model's label and exclusions; its keys must be the model's), only the
/// test split of the stratified split (`test_fraction`, `seed`) when
/// given, the first `count` when given. Returns their tokens, their class
/// indices (`None` when a label is not one of the model's classes) and how
/// many of them hold a value that no training record has (with a split).
pub fn cosim_records(
    model: &FilesModel,
    data: &Path,
    split: Option<(f64, u32)>,
    count: Option<usize>,
) -> Result<CosimRecords> {
    let exclude: Vec<&str> = model.exclude.iter().map(String::as_str).collect();
    let records = crate::records::read(data, &model.label, &exclude)?;
    if records.keys != model.features.keys {
        bail!(
            "{}: its keys ({}) are not the model's ({})",
            data.display(),
            records.keys.join(", "),
            model.features.keys.join(", ")
        );
    }
    let all: Vec<usize> = (0..records.labels.len()).collect();
    let (train, mut rows) = match split {
        Some((fraction, seed)) => crate::stratified_split(&records.labels, fraction, seed),
        None => (Vec::new(), all),
    };
    if let Some(n) = count {
        rows.truncate(n);
    }
    let tokens: Vec<Vec<Token>> = rows.iter().map(|&r| model.tokens(&records.values[r])).collect();
    let known: std::collections::HashSet<(usize, u32)> = train
        .iter()
        .flat_map(|&r| model.tokens(&records.values[r]).into_iter().enumerate().map(|(k, t)| (k, t.code())))
        .collect();
    let unseen = if train.is_empty() {
        0
    } else {
        tokens.iter().filter(|t| t.iter().enumerate().any(|(k, t)| !known.contains(&(k, t.code())))).count()
    };
    let labels: Option<Vec<usize>> =
        rows.iter().map(|&r| model.classes.iter().position(|c| *c == records.labels[r])).collect();
    Ok((tokens, labels, unseen))
}

/// `ttfs files cosim`'s text.
pub fn render_cosim(r: &CosimReport) -> String {
    let mut s = format!(
        "{} records through the on-chip encoder ({} with a value no training record has): {} of {} hidden spikes and {} outputs differ\n",
        r.records, r.unseen_values, r.mismatched_spikes, r.reference_spikes, r.mismatched_outputs
    );
    if let Some(d) = &r.first_difference {
        s += &format!("  first difference: {d}\n");
    }
    if let Some(a) = r.accuracy {
        s += &format!("  hardware accuracy {:.2} %\n", 100.0 * a);
    }
    s += &format!(
        "  {:.1} cycles per record from its first pair to its result (worst {}), one record at a time; Verilator {:.1} s\n",
        r.cycles_per_record, r.cycles_worst, r.seconds
    );
    s
}
