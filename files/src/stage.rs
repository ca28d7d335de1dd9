//! The `ttfs files` commands' work, for the thin CLI: loading and splitting
//! a data set ([`Split::load`]), `train` ([`train`]) and `classify`
//! ([`classify_stream`]).

use crate::classifier::{self, Setup, TtfsParams};
use crate::encoding::Encoding;
use crate::features::Featurizer;
use crate::model::{Classifier, FilesModel};
use crate::records::{self, Records};
use anyhow::{Context, Result, bail};
use serde::Serialize;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// Which data set, and how to split it.
#[derive(Clone, Debug)]
pub struct DataArgs {
    /// The CSV file (gzip allowed).
    pub data: PathBuf,
    /// The label column.
    pub label: String,
    /// Columns that are neither label nor key.
    pub exclude: Vec<String>,
    /// The test split's share of each class, in (0, 1).
    pub test_fraction: f64,
    /// The split's seed.
    pub seed: u32,
    /// Most bins per numeric key.
    pub bins: usize,
}

/// A data set split and featurized on its training split.
pub struct Split {
    /// The records.
    pub records: Records,
    /// Class names, sorted.
    pub classes: Vec<String>,
    /// Each record's class index.
    pub labels: Vec<usize>,
    /// Training records (indices).
    pub train: Vec<usize>,
    /// Test records.
    pub test: Vec<usize>,
    /// Features fitted on `train`.
    pub features: Featurizer,
    /// What was done that the user should know.
    pub warnings: Vec<String>,
}

impl Split {
    /// Reads, splits (stratified) and fits the features on the training
    /// split.
    pub fn load(a: &DataArgs) -> Result<Split> {
        if !(a.test_fraction > 0.0 && a.test_fraction < 1.0) {
            bail!("--test-fraction {} must be between 0 and 1 (exclusive)", a.test_fraction);
        }
        if a.bins < 2 || a.bins > 1 << 16 {
            bail!("--bins {} must be from 2 to 65536", a.bins);
        }
        let exclude: Vec<&str> = a.exclude.iter().map(String::as_str).collect();
        let records = records::read(&a.data, &a.label, &exclude)?;
        let classes = records.classes();
        if classes.len() < 2 {
            bail!(
                "{}: the label column '{}' has a single class ('{}'); a classifier needs two or more",
                a.data.display(),
                a.label,
                classes[0]
            );
        }
        let labels: Vec<usize> = records.labels.iter().map(|l| classes.binary_search(l).unwrap_or(0)).collect();
        let (train, test) = crate::stratified_split(&records.labels, a.test_fraction, a.seed);
        let mut warnings = Vec::new();
        for (c, name) in classes.iter().enumerate() {
            if !test.iter().any(|&r| labels[r] == c) {
                warnings.push(format!(
                    "class '{name}' has a single record: it is in the training split only, and the test split cannot measure it"
                ));
            }
        }
        let features = Featurizer::fit(&records, &train, a.bins);
        Ok(Split { records, classes, labels, train, test, features, warnings })
    }
}

/// What `ttfs files train` reports.
#[derive(Serialize, Clone, Debug)]
pub struct TrainReport {
    /// The model file written.
    pub output: String,
    /// Training records.
    pub train_records: usize,
    /// Test records.
    pub test_records: usize,
    /// Classes.
    pub classes: usize,
    /// Input channels (K·M·T).
    pub channels: usize,
    /// Accuracy of the float network on the test split.
    pub accuracy_float: Option<f64>,
    /// Accuracy of the integer (hardware) network on the test split.
    pub accuracy_discrete: Option<f64>,
    /// Tick-by-tick against closed form mismatches.
    pub discrete_closed_form_mismatches: Option<usize>,
    /// Seconds spent training.
    pub train_seconds: f64,
    /// Warnings (single-record classes ...).
    pub warnings: Vec<String>,
}

/// `ttfs files train`: trains the TTFS classifier on the training split
/// and writes the model to `output` (refused when it exists, unless
/// `force`; written whole or not at all).
pub fn train(
    a: &DataArgs,
    encoding: Encoding,
    params: &TtfsParams,
    output: &Path,
    force: bool,
    progress: bool,
) -> Result<TrainReport> {
    if output.exists() && !force {
        bail!("{} exists; pass --force to overwrite it", output.display());
    }
    check_encoding(&encoding)?;
    let split = Split::load(a)?;
    let checkpoints = tempfile::Builder::new()
        .prefix(".ttfs-files-train-")
        .tempdir_in(output.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")))
        .with_context(|| format!("cannot create a scratch directory beside {}", output.display()))?;
    let setup = Setup {
        label: &a.label,
        exclude: &a.exclude,
        features: split.features.clone(),
        encoding,
        classes: split.classes.clone(),
        checkpoints: checkpoints.path(),
        progress,
    };
    let start = std::time::Instant::now();
    let trained = classifier::train(&split.records, &split.labels, &split.train, Some(&split.test), setup, params)?;
    let train_seconds = start.elapsed().as_secs_f64();
    write_whole(output, trained.model.to_json().as_bytes())?;
    Ok(TrainReport {
        output: output.display().to_string(),
        train_records: split.train.len(),
        test_records: split.test.len(),
        classes: split.classes.len(),
        channels: encoding.channel_count(split.records.keys.len()),
        accuracy_float: trained.report.accuracy_float,
        accuracy_discrete: trained.report.accuracy_discrete,
        discrete_closed_form_mismatches: trained.report.discrete_closed_form_mismatches,
        train_seconds,
        warnings: split.warnings,
    })
}

/// The encoding's ranges, as a model file's are checked.
pub fn check_encoding(e: &Encoding) -> Result<()> {
    use crate::model::{MAX_NEURONS_PER_KEY, MAX_TICKS};
    if !(1..=MAX_NEURONS_PER_KEY).contains(&e.neurons_per_key) {
        bail!("--neurons-per-key {} must be from 1 to {MAX_NEURONS_PER_KEY}", e.neurons_per_key);
    }
    if !e.ticks.is_power_of_two() || !(2..=MAX_TICKS).contains(&e.ticks) {
        bail!(
            "--ticks {} must be a power of two from 2 to {MAX_TICKS} (the hardware takes the hash's low bits)",
            e.ticks
        );
    }
    if !(1..=e.neurons_per_key).contains(&e.spread) {
        bail!("--spread {} must be from 1 to --neurons-per-key ({})", e.spread, e.neurons_per_key);
    }
    Ok(())
}

/// Writes `bytes` to a temporary file beside `path` and renames it into
/// place: `path` is written whole or not at all.
pub fn write_whole(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut file =
        tempfile::NamedTempFile::new_in(dir).with_context(|| format!("cannot write beside {}", path.display()))?;
    file.write_all(bytes).with_context(|| format!("cannot write {}", path.display()))?;
    // A temporary file is private (0600); the result is an ordinary file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.as_file().set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    file.persist(path).map_err(|e| anyhow::anyhow!("cannot write {}: {}", path.display(), e.error))?;
    Ok(())
}

/// `ttfs files classify`: reads CSV records (the header first) from
/// `input` and writes each one's class name to `output` as soon as its
/// line has arrived (flushed per record; nothing waits for the end of the
/// input). Returns the number of records. A bad row stops with its line.
pub fn classify_stream<R: BufRead, W: Write>(
    model: &FilesModel,
    input: R,
    source: &str,
    mut output: W,
) -> Result<usize> {
    let classifier = Classifier::new(model);
    let mut stream = records::Stream::new(input, source, &model.features.keys)?;
    let mut count = 0;
    while let Some(row) = stream.next_record() {
        let (_, values) = row?;
        let class = classifier.classify(&model.tokens(&values));
        writeln!(output, "{}", model.classes[class]).and_then(|()| output.flush()).context("writing the classes")?;
        count += 1;
    }
    Ok(count)
}

/// `ttfs files train`'s text.
pub fn render_train(r: &TrainReport) -> String {
    let pct = |a: Option<f64>| a.map_or("-".to_string(), |a| format!("{:.2} %", 100.0 * a));
    let mut s = String::new();
    for w in &r.warnings {
        s += &format!("warning: {w}\n");
    }
    s += &format!(
        "wrote {} ({} classes, {} channels; trained on {} records in {:.1} s)\n",
        r.output, r.classes, r.channels, r.train_records, r.train_seconds
    );
    s += &format!(
        "test split ({} records): float {}, integer (hardware) {}\n",
        r.test_records,
        pct(r.accuracy_float),
        pct(r.accuracy_discrete)
    );
    if let Some(m) = r.discrete_closed_form_mismatches {
        s += &format!("tick-by-tick simulation against the closed form: {m} mismatches\n");
    }
    s
}
