//! The cosim stage (`ttfs cosim (NET.json | DIR) --data FILE`): runs the generated design on a
//! data set in Verilator (or Icarus) and compares every hidden spike, every
//! logit and every latency with the discrete reference and the cycle model.

use crate::verilator::{self, Model};
use crate::{Comparison, Observed};
use ttfs_hw::cycles;
use ttfs_hw::design::Design;
use ttfs_hw::subject::{Subject, subject};
use ttfs_hw::view::TopView;

use anyhow::{Context, Result, bail};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use ttfs_hw::target::Target;
use ttfs_hw::testbench;
use ttfs_tools::{Tool, combined, run as run_tool};

/// The simulator to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Simulator {
    /// Verilator through the generated C++ shim (fast).
    Verilator,
    /// Icarus on the generated test bench (a second opinion; slow).
    Icarus,
}

/// How SPRAM weights get into the design.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightLoad {
    /// Bytes through the design's own loaders (as on the board).
    Loader,
    /// Written straight into the SPRAM models (Verilator only).
    Preload,
}

/// What to co-simulate (the arguments of `ttfs cosim`).
pub struct Args {
    /// A network description, or a directory written by `ttfs generate`.
    pub input: PathBuf,
    /// Data.
    pub data: PathBuf,
    /// Labels.
    pub labels: Option<PathBuf>,
    /// Use only the first N samples.
    pub count: Option<usize>,
    /// Lanes (network input only).
    pub lanes: ttfs_hw::planner::Lanes,
    /// Target (network input only).
    pub target: Target,
    /// Simulator.
    pub simulator: Simulator,
    /// SPRAM weight loading.
    pub load: WeightLoad,
    /// Waveform of one sample.
    pub trace: Option<PathBuf>,
    /// The sample the waveform shows.
    pub trace_sample: usize,
    /// Compile a design directory's Verilog even when files that differ
    /// from a fresh generation hold constructs outside the allow-list
    /// (`--trust-design`; see [`ttfs_hw::inspect`]).
    pub trust_design: bool,
}

/// The report (`--json` prints it).
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The design's top module.
    pub top: String,
    /// Target.
    pub target: Target,
    /// Simulator.
    pub simulator: Simulator,
    /// Samples.
    pub samples: usize,
    /// Missing, extra and mistimed hidden spikes.
    pub mismatched_spikes: usize,
    /// Samples with a wrong class or logit.
    pub mismatched_outputs: usize,
    /// Hardware accuracy (with labels).
    pub accuracy: Option<f64>,
    /// Mean measured cycles per inference (one image at a time).
    pub cycles_per_inference: f64,
    /// Mean cycles between results, images back to back.
    pub initiation_interval: f64,
    /// The cycle model's mean on the same samples.
    pub model_cycles_per_inference: f64,
    /// The cycle model's streaming interval on the same samples.
    pub model_initiation_interval: f64,
    /// Simulated cycles per wall-clock second (image runs only).
    pub simulated_cycles_per_second: f64,
    /// Cycles to load the SPRAM weights (0: none, or preloaded).
    pub load_cycles: u64,
    /// How SPRAM weights were loaded (designs with SPRAM).
    pub weight_load: Option<WeightLoad>,
    /// Streamed results equal the one-at-a-time results.
    pub streaming_outputs_equal: bool,
    /// Seconds spent building the model (0: from the cache).
    pub build_seconds: f64,
    /// Notes on a design directory: files that differ from what `ttfs
    /// generate` writes for its `net.json` (hand edits).
    pub notes: Vec<String>,
    /// The full comparison.
    pub comparison: Comparison,
}

impl Report {
    /// What differs from the reference (spikes, outputs, cycle counts), or
    /// `None` when the hardware matched it everywhere.
    pub fn difference(&self) -> Option<String> {
        let cycles = self.comparison.cycle_model_mismatches;
        (self.mismatched_spikes + self.mismatched_outputs + cycles > 0).then(|| {
            format!(
                "the hardware differs from the reference: {} spikes, {} outputs, {} cycle counts",
                self.mismatched_spikes, self.mismatched_outputs, cycles
            )
        })
    }
}

/// The SPRAM load stream of a design, from its own files.
fn load_bytes(design: &Design) -> Vec<u8> {
    design.files.get("mem/weights_spram.bin").cloned().unwrap_or_default()
}

/// The load stream split into the words of each SPRAM memory (for preload).
fn preload_words(view: &TopView, bytes: &[u8]) -> Vec<Vec<u64>> {
    let mut out = Vec::new();
    let mut at = 0;
    for layer in view.layers.iter().filter(|l| l.spram.is_some()) {
        let nb = layer.weight_word_bits.div_ceil(8) as usize;
        let mut words = Vec::with_capacity(layer.weight_words as usize);
        for _ in 0..layer.weight_words {
            let chunk = bytes.get(at..at + nb).unwrap_or(&[]);
            words.push(chunk.iter().rev().fold(0u64, |w, &b| (w << 8) | u64::from(b)));
            at += nb;
        }
        out.push(words);
    }
    out
}

fn observed(out: &verilator::RunOutput, classes: usize) -> Observed {
    Observed {
        spikes: out.spikes.clone(),
        classes: out.classes.iter().map(|&c| c as usize).collect(),
        logits: out.logits.chunks(classes.max(1)).map(<[i64]>::to_vec).collect(),
        latency: out.latency.clone(),
    }
}

/// Runs the co-simulation; returns the report.
pub fn run(args: &Args) -> Result<Report> {
    // A file the run creates is removed if the run fails (no half-written
    // waveform is left behind); a file that was there before is the user's.
    let created = args.trace.as_ref().filter(|p| !p.exists());
    if let Some(path) = &args.trace {
        check_trace_file(path)?;
    }
    let result = run_checked(args);
    if let (Err(_), Some(path)) = (&result, created) {
        let _ = std::fs::remove_file(path);
    }
    result
}

fn run_checked(args: &Args) -> Result<Report> {
    let s = subject(&args.input, args.target, &args.lanes)?;
    let notes = check_design(&s, args.trust_design, "co-simulate")?;
    let codes = ttfs_hw::stage::input_codes(&s.net, &args.data, args.count)?;
    let labels = match &args.labels {
        Some(path) => {
            let samples = codes.len() / s.plan.inputs;
            // --count reached: the file may hold more samples than were read.
            let total = if args.count == Some(samples) { None } else { Some(samples) };
            Some(ttfs_data::load_labels_for(path, &args.data, samples, total, s.view.classes)?)
        }
        None => None,
    };
    let mut report = match args.simulator {
        Simulator::Verilator => run_verilator(args, &s, &codes, labels.as_deref()),
        Simulator::Icarus => run_icarus(args, &s, &codes, labels.as_deref()),
    }
    .with_context(|| format!("co-simulating {}", args.input.display()))?;
    report.notes = notes;
    Ok(report)
}

/// A design directory may come from a stranger: its memory images must
/// have the shapes the design reads, and every Verilog file that differs
/// from a fresh generation is scanned for constructs outside the
/// generator's own (refused unless `trust_design`; the refusal says
/// `--trust-design` lets the user `what` it anyway). Returns the notes on
/// files that differ. A design generated in memory passes as it is.
pub fn check_design(s: &Subject, trust_design: bool, what: &str) -> Result<Vec<String>> {
    let Some(dir) = &s.dir else { return Ok(Vec::new()) };
    ttfs_hw::inspect::check_memory_images(dir, &s.design, &s.view)?;
    let inspection = ttfs_hw::inspect::inspect(&s.design, &s.fresh());
    if !inspection.findings.is_empty() && !trust_design {
        let list: Vec<String> = inspection.findings.iter().map(|f| format!("  {f}")).collect();
        bail!(
            "{} holds Verilog that `ttfs generate` does not write, with constructs ttfs will not compile from \
             a design directory (they can run commands or write files):\n{}\n\
             pass --trust-design to {what} it anyway if you trust where it comes from",
            dir.display(),
            list.join("\n")
        );
    }
    Ok(inspection.notes)
}

/// Makes sure the waveform can be written before anything runs: a folder,
/// a missing folder or a full device is an error here rather than a hang
/// or a lost trace inside the simulator.
fn check_trace_file(path: &std::path::Path) -> Result<()> {
    use std::io::Write as _;
    let mut file = std::fs::File::create(path)
        .with_context(|| format!("--trace {}: cannot create the waveform", path.display()))?;
    file.write_all(b"$comment ttfs cosim: the waveform follows $end\n")
        .and_then(|()| file.sync_all())
        .with_context(|| format!("--trace {}: cannot write the waveform", path.display()))
}

fn run_verilator(args: &Args, s: &Subject, codes: &[i64], labels: Option<&[usize]>) -> Result<Report> {
    let samples = codes.len() / s.plan.inputs;
    let built = verilator::build(&s.design, &s.view, args.trace.is_some())?;
    let mut model = Model::open(&built, &s.view, args.trace.as_deref())?;
    let bytes = load_bytes(&s.design);
    let has_spram = !s.view.loaders.is_empty();
    let load_cycles = match (has_spram, args.load) {
        (false, _) => 0,
        (true, WeightLoad::Loader) => model.load(&bytes)?,
        (true, WeightLoad::Preload) => {
            for (m, words) in preload_words(&s.view, &bytes).iter().enumerate() {
                model.preload(m as u32, words)?;
            }
            0
        }
    };
    let pixels: Vec<u16> = codes.iter().map(|&q| q as u16).collect();
    let worst = cycles::latency(&s.plan, &cycles::SpikeCounts::worst(&s.plan));
    let cap = crate::spike_capacity(&s.view, samples) + 1;
    let trace = args.trace.as_ref().map(|_| args.trace_sample);
    let one = model.run(&pixels, false, trace, 4 * worst + 1000, cap)?;
    let streamed = model.run(&pixels, true, None, 4 * worst + 1000, cap)?;
    let comparison = crate::compare(&s.net, &s.plan, codes, labels, &observed(&one, s.view.classes));
    let seconds = one.seconds + streamed.seconds;
    Ok(Report {
        top: s.view.top.clone(),
        target: s.plan.target,
        simulator: Simulator::Verilator,
        samples,
        mismatched_spikes: comparison.mismatched_spikes,
        mismatched_outputs: comparison.mismatched_outputs,
        accuracy: comparison.accuracy,
        cycles_per_inference: comparison.cycles_per_inference,
        initiation_interval: testbench::mean_interval(&streamed.at),
        model_cycles_per_inference: comparison.model_cycles_per_inference,
        model_initiation_interval: comparison.model_initiation_interval,
        simulated_cycles_per_second: if seconds > 0.0 { (one.cycles + streamed.cycles) as f64 / seconds } else { 0.0 },
        load_cycles,
        weight_load: has_spram.then_some(args.load),
        streaming_outputs_equal: streamed.classes == one.classes && streamed.logits == one.logits,
        build_seconds: built.seconds,
        notes: Vec::new(),
        comparison,
    })
}

/// Runs the generated test bench under Icarus in a temporary directory.
fn run_icarus(args: &Args, s: &Subject, codes: &[i64], labels: Option<&[usize]>) -> Result<Report> {
    if args.load == WeightLoad::Preload && !s.view.loaders.is_empty() {
        bail!("--load preload needs Verilator; Icarus loads the SPRAM weights through the design's loader");
    }
    if args.trace.is_some() {
        bail!("--trace needs Verilator");
    }
    let samples = codes.len() / s.plan.inputs;
    let (iverilog, vvp) = (Tool::Iverilog.locate()?, Tool::Vvp.locate()?);
    let dir = tempfile::tempdir()?;
    for (path, bytes) in &s.design.files {
        let target = dir.path().join(path);
        std::fs::create_dir_all(target.parent().expect("relative paths have a parent"))?;
        std::fs::write(&target, bytes)?;
    }
    let bytes = load_bytes(&s.design);
    std::fs::write(dir.path().join("weights.hex"), bytes.iter().map(|b| format!("{b:02X}\n")).collect::<String>())?;
    std::fs::write(dir.path().join("images.hex"), testbench::stimulus_hex(codes))?;
    let rtl: Vec<&String> = s.design.files.keys().filter(|p| p.starts_with("rtl/")).collect();
    let mut compile = Command::new(iverilog);
    compile
        .current_dir(dir.path())
        .args(["-g2005", "-o", "tb.vvp", "-y", "sim", "-s"])
        .arg(format!("{}_tb", s.view.top))
        .arg(format!("-P{}_tb.MAX_IMAGES={}", s.view.top, samples.max(1)))
        .args(&rtl)
        .arg(format!("sim/{}_tb.v", s.view.top));
    run_tool(&mut compile)?;
    let mut transcripts = Vec::new();
    let started = std::time::Instant::now();
    for stream in [false, true] {
        let mut sim = Command::new(&vvp);
        sim.current_dir(dir.path())
            .args(["-n", "tb.vvp", "+images=images.hex", "+weights=weights.hex"])
            .arg(format!("+count={samples}"));
        if stream {
            sim.arg("+stream");
        }
        // A failing vvp is an error with its command and whole output
        // (run_tool); so is one that reports an ERROR (a runtime error such
        // as a bad $readmemh token) or a test bench failure yet exits 0.
        let text = combined(&run_tool(&mut sim)?);
        let command = ttfs_tools::describe(&sim);
        if text.lines().any(|l| l.trim_start().starts_with("ERROR") || l.contains("FATAL")) {
            bail!("the simulation reported an error: {command}\n{text}");
        }
        transcripts.push(
            testbench::parse(&text)
                .with_context(|| format!("the simulation failed: {command}\nits output:\n{text}"))?,
        );
    }
    let seconds = started.elapsed().as_secs_f64();
    let (one, streamed) = (&transcripts[0], &transcripts[1]);
    let seen = Observed {
        spikes: one.spikes.iter().map(|p| [p.layer as u32, p.image as u32, p.neuron as u32, p.q as u32]).collect(),
        classes: one.results.iter().map(|r| r.class).collect(),
        logits: one.results.iter().map(|r| r.logits.clone()).collect(),
        latency: one.results.iter().map(|r| r.cycles).collect(),
    };
    let comparison = crate::compare(&s.net, &s.plan, codes, labels, &seen);
    let outputs = |t: &testbench::Transcript| t.results.iter().map(|r| (r.class, r.logits.clone())).collect::<Vec<_>>();
    Ok(Report {
        top: s.view.top.clone(),
        target: s.plan.target,
        simulator: Simulator::Icarus,
        samples,
        mismatched_spikes: comparison.mismatched_spikes,
        mismatched_outputs: comparison.mismatched_outputs,
        accuracy: comparison.accuracy,
        cycles_per_inference: comparison.cycles_per_inference,
        initiation_interval: streamed.mean_interval(),
        model_cycles_per_inference: comparison.model_cycles_per_inference,
        model_initiation_interval: comparison.model_initiation_interval,
        simulated_cycles_per_second: (one.total_cycles + streamed.total_cycles) as f64 / seconds.max(1e-9),
        load_cycles: 0,
        weight_load: (!s.view.loaders.is_empty()).then_some(WeightLoad::Loader),
        streaming_outputs_equal: outputs(one) == outputs(streamed),
        build_seconds: 0.0,
        notes: Vec::new(),
        comparison,
    })
}

/// The report for people.
pub fn render(r: &Report) -> String {
    let mut t = String::new();
    let c = &r.comparison;
    let _ = writeln!(t, "design {} ({}), {} samples under {:?}", r.top, r.target, r.samples, r.simulator);
    for note in &r.notes {
        let _ = writeln!(t, "  note: {note}");
    }
    let _ = writeln!(
        t,
        "  hidden spikes: {} of {} mismatched (per layer {:?}); outputs: {} mismatched",
        r.mismatched_spikes, c.reference_spikes, c.mismatched_spikes_per_layer, r.mismatched_outputs
    );
    if let Some(d) = &c.first_divergence {
        let tick = |t: Option<u32>| t.map_or("none".to_string(), |t| t.to_string());
        let _ = writeln!(
            t,
            "  first divergence: sample {}, layer {} '{}', neuron {}: {} spike, expected tick {}, actual tick {}, reference potential {}",
            d.sample,
            d.layer,
            d.layer_name,
            d.neuron,
            d.kind,
            tick(d.expected_tick),
            tick(d.actual_tick),
            d.reference_potential
        );
    }
    if let Some(o) = &c.first_output_mismatch {
        let _ = writeln!(
            t,
            "  first wrong output: sample {}, class {} (reference {}), first differing logit {:?}",
            o.sample, o.actual_class, o.expected_class, o.first_logit
        );
    }
    if let (Some(a), Some(b)) = (r.accuracy, c.accuracy_reference) {
        let _ = writeln!(t, "  accuracy {a:.4} (reference {b:.4})");
    }
    let _ = writeln!(
        t,
        "  cycles per inference {:.1} (model {:.1}; {} samples differ from the model; worst measured {}, model worst case {})",
        r.cycles_per_inference,
        r.model_cycles_per_inference,
        c.cycle_model_mismatches,
        c.cycles_worst_measured,
        c.model_cycles_worst_case
    );
    let _ = writeln!(
        t,
        "  initiation interval {:.1} cycles (model {:.1}); streamed outputs {}",
        r.initiation_interval,
        r.model_initiation_interval,
        if r.streaming_outputs_equal { "equal" } else { "DIFFER" }
    );
    if let Some(load) = r.weight_load {
        let _ = writeln!(t, "  SPRAM weights: {load:?} ({} cycles)", r.load_cycles);
    }
    let _ = writeln!(
        t,
        "  {:.2} M simulated cycles per second{}",
        r.simulated_cycles_per_second / 1e6,
        if r.build_seconds > 0.0 {
            format!(", built in {:.1} s", r.build_seconds)
        } else {
            ", model from the cache".into()
        }
    );
    t
}
