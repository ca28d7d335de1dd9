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
use anyhow::{Context, Result, bail};
use serde::Serialize;
use std::path::Path;
use std::process::Command;
use ttfs_hw::design::{RecordsFront, render_records};
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
/// front end; its bench's default stimulus checks a few records.
pub fn build(model: &FilesModel, target: Target, lanes: &Lanes) -> Result<(Plan, Design)> {
    let front = front(model)?;
    let (plan, mut design, _) =
        ttfs_hw::stage::build_with_stats(&model.network, target, lanes, ttfs_hw::board::BAUD, None)?;
    let classifier = Classifier::new(model);
    let records = default_records(model);
    let sent: Vec<Vec<(u32, u32)>> = records.iter().zip(0u32..).map(|(t, i)| pairs(t, i, i % 2 == 0)).collect();
    let codes: Vec<i64> = records.iter().flat_map(|t| classifier.codes(t)).collect();
    design.files.extend(render_records(&model.network, &plan, &front, &sent, &codes));
    // The board wrapper takes records over the UART (ttfs_record_framer in
    // front of `<top>_records`), in the pixel wrapper's place, so that
    // `ttfs synth DIR` builds the record design; the pixel board bench goes.
    // With no records wrapper (no board, or keys beyond the framing's 7
    // bits), no pixel wrapper either: DIR has no board.
    match ttfs_hw::board::render_records_board(&model.network, &plan, &front) {
        Some(board) => {
            for path in &board.drop {
                design.files.remove(path);
            }
            design.files.extend(board.files);
        }
        None => {
            let v = ttfs_hw::view::view(&model.network, &plan);
            if let Some(b) = ttfs_hw::board::board(plan.target, &v) {
                let module = ttfs_hw::board::module_name(&v, &b);
                design.files.remove(&format!("rtl/{module}.v"));
                design.files.remove(&format!("sim/{module}_tb.v"));
            }
        }
    }
    Ok((plan, design))
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
    let (plan, design) = build(model, target, lanes)?;
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

/// Writes the record design of the model at `model_path` to `output`
/// (refused when it holds files, unless `force`); returns a summary.
pub fn generate(model_path: &Path, output: &Path, target: Target, lanes: &Lanes, force: bool) -> Result<String> {
    let model = FilesModel::load(model_path)?;
    let (plan, design) = build(&model, target, lanes)
        .with_context(|| format!("cannot generate hardware for {}", model_path.display()))?;
    ttfs_hw::write(&design, output, force)?;
    Ok(format!(
        "wrote {} files to {}: top {}_records (records in as (key, token code) pairs), {} on the {}, lanes {}\n  \
         bench: sim/{}_records_tb.v with its default stimulus ({}); the pixel-stream top {} is there too\n  \
         cycles per record: `ttfs files cosim` measures them (manifest.json's cycle model and `ttfs synth`'s latency \
         are the pixel top's and leave out the encoder's ~16 cycles per key)\n",
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
