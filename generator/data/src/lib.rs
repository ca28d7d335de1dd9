//! Loading of data sets and label files (`--data`, `--labels`, `--calib`).
//!
//! [`load_data`] and [`load_labels`] accept these formats:
//!
//! * **IDX** (LeCun's MNIST format, e.g. `train-images-idx3-ubyte`): element
//!   types u8, i8, i16, i32, f32, f64; the file length must match the header
//!   exactly.
//! * **NumPy `.npy`**: uint8, int8, int16, int32, int64, float32, float64, in
//!   either byte order and either memory order.
//! * **CSV** (`.csv` or `.txt`): comma-separated numbers, one sample per row,
//!   optional header row, blank lines skipped, all rows the same length.
//!
//! Each format's details are in the private submodule of the same name.
//!
//! Any of them may be gzip-compressed (`.gz`); the file is decompressed in
//! memory first and the name without `.gz` then decides the format.
//!
//! The format is chosen by content first and by name second: a file that
//! starts with the `.npy` magic string, or that is a well-formed IDX file, is
//! read as such whatever its name; otherwise the extension (`.npy`, `.csv`,
//! `.txt`) or a name containing `idx` or `-ubyte` decides. Anything else is
//! rejected with an error that lists the supported formats.
//!
//! Every value is converted to `f64`, the first axis of the file counts the
//! samples, and the remaining axes form the shape of one sample. Errors never
//! panic; they name the file and say what is wrong in words a user who has
//! never seen this code can act on.

mod csv;
mod idx;
mod npy;
mod samples;

pub use samples::{load_labels_for, load_samples};

use std::fmt;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// A loaded data file: `count` samples of `sample_shape` each, as `f64`.
///
/// Guarantees for values returned by [`load_data`] (the fields are public, so
/// code that builds or edits a `Data` itself must keep them):
///
/// * `count >= 1` and every sample has at least one value;
/// * `values.len() == count * sample_shape.iter().product()`, samples stored
///   one after another, each in row-major (C) order;
/// * every value is finite (no NaN or infinity).
#[derive(Debug, Clone, PartialEq)]
pub struct Data {
    /// The file the samples came from, exactly as it was given to [`load_data`].
    pub path: PathBuf,
    /// Shape of one sample, without the sample axis (e.g. `[28, 28]` for an
    /// MNIST IDX file, `[columns]` for CSV, `[1]` for a one-dimensional array).
    pub sample_shape: Vec<usize>,
    /// Number of samples.
    pub count: usize,
    /// All values, sample after sample.
    pub values: Vec<f64>,
    /// The element type found in the file.
    pub element: Element,
}

/// The element type found in the file.
///
/// Every type is converted to `f64` on loading; this records what the file
/// held, e.g. to recognise raw 0–255 pixels ([`Element::U8`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Element {
    /// Unsigned 8-bit integers (IDX type 0x08, NumPy `uint8`).
    U8,
    /// Signed 8-bit integers (IDX type 0x09, NumPy `int8`).
    I8,
    /// Signed 16-bit integers (IDX type 0x0B, NumPy `int16`).
    I16,
    /// Signed 32-bit integers (IDX type 0x0C, NumPy `int32`).
    I32,
    /// Signed 64-bit integers (NumPy `int64`); magnitudes above 2^53 lose
    /// precision when converted to `f64`.
    I64,
    /// 32-bit floats (IDX type 0x0D, NumPy `float32`).
    F32,
    /// 64-bit floats (IDX type 0x0E, NumPy `float64`).
    F64,
    /// Decimal text (CSV).
    Text,
}

impl fmt::Display for Element {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Element::U8 => "u8",
            Element::I8 => "i8",
            Element::I16 => "i16",
            Element::I32 => "i32",
            Element::I64 => "i64",
            Element::F32 => "f32",
            Element::F64 => "f64",
            Element::Text => "text",
        })
    }
}

/// Why a data or labels file could not be used.
///
/// Every message starts with the path of the file as given by the user and is
/// meant to be shown to the user as is.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be read at all (missing, unreadable, a directory).
    #[error("{}: cannot read the file: {source}", .path.display())]
    Io {
        /// The file that could not be read.
        path: PathBuf,
        /// What the operating system reported.
        source: std::io::Error,
    },
    /// The contents are not a valid file of a supported format: unknown
    /// format, bad magic bytes, truncated file, ragged or non-numeric CSV,
    /// NaN or infinite values, ...
    #[error("{}: {message}", .path.display())]
    Format {
        /// The offending file.
        path: PathBuf,
        /// What is wrong, including where (line, column, sample, byte counts).
        message: String,
    },
    /// The samples do not fit the model's input (see [`Data::check_fits`]).
    #[error(
        "{}: each sample has {} (shape {found:?}) but the model input {expected:?} needs {expected_values}",
        .path.display(),
        values(*.found_values)
    )]
    Shape {
        /// The data file.
        path: PathBuf,
        /// The shape of one sample in the file.
        found: Vec<usize>,
        /// The model's input shape, without the batch axis.
        expected: Vec<usize>,
        /// The number of values in one sample of the file.
        found_values: usize,
        /// The number of values the model input needs (`usize::MAX` if the
        /// product of `expected` overflows).
        expected_values: usize,
    },
    /// The file was read but does not hold valid labels (negative, fractional,
    /// too large, more than one per sample, ...).
    #[error("{}: {message}", .path.display())]
    Labels {
        /// The labels file.
        path: PathBuf,
        /// What is wrong and where.
        message: String,
    },
    /// The file holds no samples at all.
    #[error("{}: the file contains no samples", .path.display())]
    Empty {
        /// The empty file.
        path: PathBuf,
    },
}

impl DataError {
    /// The file the error is about, as given by the user.
    pub fn path(&self) -> &Path {
        match self {
            DataError::Io { path, .. }
            | DataError::Format { path, .. }
            | DataError::Shape { path, .. }
            | DataError::Labels { path, .. }
            | DataError::Empty { path } => path,
        }
    }
}

/// "1 value" / "63 values", so that messages read naturally.
fn values(n: usize) -> String {
    if n == 1 { "1 value".to_owned() } else { format!("{n} values") }
}

/// Product of `dims`, or `None` if it does not fit in `usize`.
fn checked_product(dims: &[usize]) -> Option<usize> {
    dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

impl Data {
    /// Number of values in one sample: the product of `sample_shape`.
    pub fn sample_len(&self) -> usize {
        // Saturating so that a hand-built `Data` with an absurd shape cannot
        // panic here; loaded data always has a representable product.
        checked_product(&self.sample_shape).unwrap_or(usize::MAX)
    }

    /// Checks that each sample fits the model's input shape `expected`
    /// (without the batch axis) and returns nothing on success.
    ///
    /// A sample fits when its element count equals the product of `expected`:
    /// only the number of values matters, not the axes, because samples are
    /// fed as flat row-major buffers (a flat 784-column CSV row feeds a
    /// 1×28×28 input; a 28×28 IDX image feeds `[1, 28, 28]` or `[784]`).
    ///
    /// On mismatch returns [`DataError::Shape`], whose message names the file,
    /// the sample shape found and the expected shape, e.g.
    /// `digits.csv: each sample has 63 values (shape [63]) but the model input [64] needs 64`.
    pub fn check_fits(&self, expected: &[usize]) -> Result<(), DataError> {
        let found_values = self.sample_len();
        let expected_values = checked_product(expected);
        if expected_values == Some(found_values) {
            return Ok(());
        }
        Err(DataError::Shape {
            path: self.path.clone(),
            found: self.sample_shape.clone(),
            expected: expected.to_vec(),
            found_values,
            expected_values: expected_values.unwrap_or(usize::MAX),
        })
    }

    /// Keeps the first `n` samples (all of them if there are fewer than `n`).
    pub fn truncate(&mut self, n: usize) {
        if n < self.count {
            self.count = n;
            self.values.truncate(n * self.sample_len());
        }
    }

    /// The values of sample `i` (counting from 0), in row-major order.
    ///
    /// # Panics
    ///
    /// If `i >= self.count` (a programming error, not a property of the file).
    pub fn sample(&self, i: usize) -> &[f64] {
        assert!(i < self.count, "sample index {i} out of range for {} samples", self.count);
        let n = self.sample_len();
        &self.values[i * n..(i + 1) * n]
    }
}

/// Loads a data file (`--data` or `--calib`) in any supported format.
///
/// Assumes the first axis of the file counts samples; the remaining axes
/// become [`Data::sample_shape`] (a one-dimensional `.npy` or IDX file holds
/// one value per sample, so its sample shape is `[1]`; a CSV file has shape
/// `[columns]`).
///
/// Guarantees on success everything documented on [`Data`]: at least one
/// sample, at least one value per sample, all values finite.
///
/// Errors: [`DataError::Io`] if the file cannot be read, [`DataError::Empty`]
/// if it holds no samples, [`DataError::Format`] for anything malformed,
/// including NaN or infinite values (the message names the sample and the
/// position within it).
pub fn load_data(path: &Path) -> Result<Data, DataError> {
    let (src, raw) = read_raw(path)?;
    let count = raw.shape[0];
    if count == 0 {
        return Err(DataError::Empty { path: src.path });
    }
    // A one-dimensional file is a list of scalars: one value per sample. Using
    // [1] rather than [] keeps "sample shape" meaningful for check_fits.
    let sample_shape = if raw.shape.len() == 1 { vec![1] } else { raw.shape[1..].to_vec() };
    // Cannot overflow: the whole array was allocated, and count >= 1.
    let sample_len = raw.values.len() / count;
    if sample_len == 0 {
        return Err(src.error(format!("each sample has no values (sample shape {sample_shape:?})")));
    }
    if let Some(k) = raw.values.iter().position(|v| !v.is_finite()) {
        let (sample, offset) = (k / sample_len, k % sample_len);
        let what = describe_non_finite(raw.values[k]);
        let place = match &raw.lines {
            // CSV: the user will open the file in an editor, so give line and
            // column (1-based, as editors show them).
            Some(lines) => {
                format!("line {}, column {} (sample {sample}, counting from 0) is {what}", lines[sample], offset + 1)
            }
            None => {
                format!("sample {sample} (counting from 0) has {what} at index {:?}", unravel(offset, &sample_shape))
            }
        };
        return Err(src.error(format!("{place}; data must not contain NaN or infinite values")));
    }
    Ok(Data { path: src.path, sample_shape, count, values: raw.values, element: raw.element })
}

/// Labels at or above this cannot come from an exact integer once converted
/// to `f64` (every integer below 2^53 is exact), so they are rejected rather
/// than silently rounded to a different class.
const LABEL_LIMIT: f64 = 9_007_199_254_740_992.0; // 2^53

/// Loads a labels file (`--labels`): one non-negative integer class index per
/// sample, in any supported format.
///
/// Assumes a one-dimensional `.npy`/IDX array (shape `[N]`; `[N, 1]` is also
/// accepted) or a CSV file with exactly one column (a header row is allowed).
/// Integer element types are taken as is; floats are accepted when they hold
/// whole numbers (`3.0`, not `3.5`).
///
/// Guarantees on success at least one label, in file order.
///
/// Errors: [`DataError::Labels`] for negative, fractional, non-finite or
/// absurdly large labels (naming the label index, or the line for CSV) and
/// for files with more than one value per sample; [`DataError::Empty`],
/// [`DataError::Format`] and [`DataError::Io`] as for [`load_data`].
pub fn load_labels(path: &Path) -> Result<Vec<usize>, DataError> {
    let (src, raw) = read_raw(path)?;
    // Before the shape check: a header-only CSV has zero columns, and "empty"
    // is the more useful thing to tell the user.
    if raw.shape[0] == 0 {
        return Err(DataError::Empty { path: src.path });
    }
    let per_sample = raw.shape[1..].iter().product::<usize>();
    if per_sample != 1 {
        let message = if raw.lines.is_some() {
            format!(
                "a labels file needs exactly one column (one label per line), but this one has {} columns; \
                 if the labels are a column of your data file, save them to a separate file",
                raw.shape[1]
            )
        } else {
            format!(
                "a labels file needs one label per sample (shape [N]), but this array has shape {:?}; \
                 if the labels are one-hot rows, convert them to class indices first \
                 (e.g. numpy.argmax(labels, axis=1))",
                raw.shape
            )
        };
        return Err(DataError::Labels { path: src.path, message });
    }
    let mut labels = Vec::with_capacity(raw.values.len());
    for (i, &v) in raw.values.iter().enumerate() {
        let problem = if !v.is_finite() || v.fract() != 0.0 {
            Some("but labels must be whole numbers (class indices 0, 1, 2, ...)")
        } else if v < 0.0 {
            Some("but labels must not be negative (class indices 0, 1, 2, ...)")
        } else if v >= LABEL_LIMIT || v > usize::MAX as f64 {
            Some("which is too large to be a class index")
        } else {
            None
        };
        if let Some(problem) = problem {
            let place = match &raw.lines {
                Some(lines) => format!("line {}: label", lines[i]),
                None => format!("label {i} (counting from 0)"),
            };
            let shown = if v.is_nan() { "NaN".to_owned() } else { v.to_string() };
            return Err(DataError::Labels { path: src.path, message: format!("{place} is {shown}, {problem}") });
        }
        // Exact: v is a whole number in 0..2^53, checked above.
        labels.push(v as usize);
    }
    Ok(labels)
}

/// "NaN", "+infinity" or "-infinity" for a non-finite value.
fn describe_non_finite(v: f64) -> &'static str {
    if v.is_nan() {
        "NaN"
    } else if v > 0.0 {
        "+infinity"
    } else {
        "-infinity"
    }
}

/// Turns a flat row-major offset into a multi-index within `shape`.
fn unravel(mut offset: usize, shape: &[usize]) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (slot, &dim) in index.iter_mut().zip(shape).rev() {
        // dim > 0 here: a zero-sized sample has no offsets to unravel.
        *slot = offset % dim;
        offset /= dim;
    }
    index
}

/// A file as the format readers see it: its path for error messages and
/// whether its bytes were decompressed (byte counts in messages then refer to
/// the decompressed data, and must say so or they would look wrong).
pub(crate) struct Source {
    pub(crate) path: PathBuf,
    pub(crate) gunzipped: bool,
}

impl Source {
    /// A [`DataError::Format`] about this file.
    pub(crate) fn error(&self, message: String) -> DataError {
        DataError::Format { path: self.path.clone(), message }
    }

    /// How to refer to the bytes being parsed in a message.
    pub(crate) fn bytes_noun(&self) -> &'static str {
        if self.gunzipped { "the decompressed file" } else { "the file" }
    }
}

/// What every format reader produces: the whole array, axis 0 = samples.
pub(crate) struct Raw {
    /// Full shape including the sample axis; never empty.
    pub(crate) shape: Vec<usize>,
    /// `shape.iter().product()` values in row-major order.
    pub(crate) values: Vec<f64>,
    pub(crate) element: Element,
    /// For text formats, the 1-based line of each sample, so that later
    /// checks can point the user at the line rather than at a sample index.
    pub(crate) lines: Option<Vec<u64>>,
}

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];

const SUPPORTED: &str = "supported formats are IDX (MNIST style, e.g. train-images-idx3-ubyte), \
NumPy .npy and comma-separated .csv or .txt, each optionally gzip-compressed (.gz)";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Idx,
    Npy,
    Csv,
}

/// Reads, decompresses and parses `path` in whatever format it is.
fn read_raw(path: &Path) -> Result<(Source, Raw), DataError> {
    let bytes = fs::read(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })?;
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    let inner_name = name.strip_suffix(".gz").unwrap_or(&name);
    // Decide by content, not by name: browsers often gunzip MNIST downloads
    // but keep the `.gz` name, and a compressed file may lack the suffix.
    let gunzipped = bytes.starts_with(GZIP_MAGIC);
    let src = Source { path: path.to_path_buf(), gunzipped };
    let bytes = if gunzipped {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&bytes[..]).read_to_end(&mut out).map_err(|e| {
            src.error(format!(
                "the file is gzip-compressed but cannot be decompressed ({e}); \
                     it may be damaged or incompletely downloaded"
            ))
        })?;
        out
    } else {
        bytes
    };
    if bytes.is_empty() {
        return Err(DataError::Empty { path: src.path });
    }
    let raw = match detect(inner_name, &bytes) {
        Some(Format::Idx) => idx::parse(&src, &bytes)?,
        Some(Format::Npy) => npy::parse(&src, &bytes)?,
        Some(Format::Csv) => csv::parse(&src, &bytes)?,
        None => {
            return Err(src.error(format!("unrecognised file format; {SUPPORTED}")));
        }
    };
    debug_assert!(!raw.shape.is_empty());
    debug_assert_eq!(checked_product(&raw.shape), Some(raw.values.len()));
    Ok((src, raw))
}

/// Chooses the format from the (decompressed) content and the lower-cased
/// file name without `.gz`. Unambiguous content wins over the name; the name
/// is consulted next so that a damaged file of a recognisable kind gets that
/// format's precise error rather than "unrecognised format".
fn detect(name: &str, bytes: &[u8]) -> Option<Format> {
    if npy::has_magic(bytes) {
        Some(Format::Npy)
    } else if idx::looks_like(bytes) {
        Some(Format::Idx)
    } else if name.ends_with(".npy") {
        Some(Format::Npy)
    } else if name.ends_with(".csv") || name.ends_with(".txt") {
        Some(Format::Csv)
    } else if name.contains("idx") || name.contains("-ubyte") {
        Some(Format::Idx)
    } else {
        None
    }
}

#[cfg(test)]
pub(crate) mod test_util {
    //! Helpers shared by the format modules' tests.

    use std::io::Write;
    use std::path::{Path, PathBuf};

    /// Writes `bytes` to `dir/name` and returns the path.
    pub(crate) fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// Gzip-compresses `bytes`.
    pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    /// The error's message with the (random, temporary) path prefix removed,
    /// checking that the message does start with the path.
    pub(crate) fn message(err: &super::DataError) -> String {
        let text = err.to_string();
        let prefix = format!("{}: ", err.path().display());
        text.strip_prefix(&prefix).unwrap_or_else(|| panic!("message does not start with the path: {text}")).to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::test_util::{gzip, message, write};
    use super::*;

    fn data(path: &str, sample_shape: &[usize], count: usize) -> Data {
        let n: usize = sample_shape.iter().product();
        Data {
            path: PathBuf::from(path),
            sample_shape: sample_shape.to_vec(),
            count,
            values: (0..n * count).map(|v| v as f64).collect(),
            element: Element::F32,
        }
    }

    #[test]
    fn check_fits_accepts_any_shape_with_the_same_number_of_values() {
        let flat = data("digits.csv", &[784], 2);
        assert!(flat.check_fits(&[1, 28, 28]).is_ok());
        assert!(flat.check_fits(&[784]).is_ok());
        let image = data("train-images-idx3-ubyte", &[28, 28], 2);
        assert!(image.check_fits(&[1, 28, 28]).is_ok());
        assert!(image.check_fits(&[784]).is_ok());
    }

    #[test]
    fn check_fits_mismatch_message() {
        let err = data("digits.csv", &[63], 3).check_fits(&[64]).unwrap_err();
        assert!(matches!(
            &err,
            DataError::Shape { found, expected, found_values: 63, expected_values: 64, .. }
                if found == &[63] && expected == &[64]
        ));
        assert_eq!(
            err.to_string(),
            "digits.csv: each sample has 63 values (shape [63]) but the model input [64] needs 64"
        );
    }

    #[test]
    fn check_fits_mismatch_message_multi_dim_and_singular() {
        let err = data("mnist.npy", &[28, 28], 1).check_fits(&[1, 32, 32]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "mnist.npy: each sample has 784 values (shape [28, 28]) but the model input [1, 32, 32] needs 1024"
        );
        let err = data("x.npy", &[1], 1).check_fits(&[2]).unwrap_err();
        assert_eq!(err.to_string(), "x.npy: each sample has 1 value (shape [1]) but the model input [2] needs 2");
    }

    #[test]
    fn check_fits_overflowing_expected_shape_is_a_mismatch_not_a_panic() {
        let err = data("x.npy", &[4], 1).check_fits(&[usize::MAX, 2]).unwrap_err();
        assert!(matches!(err, DataError::Shape { expected_values: usize::MAX, .. }));
    }

    #[test]
    fn sample_and_truncate() {
        let mut d = data("x.csv", &[2, 3], 4);
        assert_eq!(d.sample_len(), 6);
        assert_eq!(d.sample(1), &[6.0, 7.0, 8.0, 9.0, 10.0, 11.0]);
        d.truncate(10); // more than there are: no change
        assert_eq!(d.count, 4);
        d.truncate(2);
        assert_eq!(d.count, 2);
        assert_eq!(d.values.len(), 12);
        assert_eq!(d.sample(1), &[6.0, 7.0, 8.0, 9.0, 10.0, 11.0]);
        d.truncate(0);
        assert_eq!((d.count, d.values.len()), (0, 0));
    }

    #[test]
    #[should_panic(expected = "sample index 2 out of range for 2 samples")]
    fn sample_out_of_range_panics_with_a_clear_message() {
        data("x.csv", &[3], 2).sample(2);
    }

    #[test]
    fn missing_file_is_an_io_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nope.csv");
        let err = load_data(&path).unwrap_err();
        assert!(matches!(&err, DataError::Io { .. }));
        assert_eq!(err.path(), path);
        assert!(message(&err).starts_with("cannot read the file: "), "{err}");
    }

    #[test]
    fn unknown_format_lists_the_supported_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "weights.bin", b"\x01\x02\x03\x04\x05");
        let err = load_data(&path).unwrap_err();
        assert!(matches!(&err, DataError::Format { .. }));
        assert_eq!(
            message(&err),
            "unrecognised file format; supported formats are IDX (MNIST style, e.g. \
             train-images-idx3-ubyte), NumPy .npy and comma-separated .csv or .txt, \
             each optionally gzip-compressed (.gz)"
        );
    }

    #[test]
    fn text_with_unknown_extension_is_not_guessed_as_csv() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "digits.tsv.gz", &gzip(b"1,2\n3,4\n"));
        let err = load_data(&path).unwrap_err();
        assert!(message(&err).starts_with("unrecognised file format;"), "{err}");
    }

    #[test]
    fn zero_byte_file_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a.csv", "a.npy", "a-idx1-ubyte", "a.bin", "a.csv.gz"] {
            let path = write(dir.path(), name, b"");
            let err = load_data(&path).unwrap_err();
            assert!(matches!(&err, DataError::Empty { .. }), "{name}: {err}");
            assert_eq!(message(&err), "the file contains no samples");
            assert!(matches!(load_labels(&path), Err(DataError::Empty { .. })));
        }
    }

    #[test]
    fn gzip_of_nothing_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "a.csv.gz", &gzip(b""));
        assert!(matches!(load_data(&path), Err(DataError::Empty { .. })));
    }

    #[test]
    fn damaged_gzip_is_a_format_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = gzip(b"1,2,3\n4,5,6\n");
        bytes.truncate(bytes.len() - 6);
        let path = write(dir.path(), "digits.csv.gz", &bytes);
        let err = load_data(&path).unwrap_err();
        assert!(matches!(&err, DataError::Format { .. }));
        let msg = message(&err);
        assert!(msg.starts_with("the file is gzip-compressed but cannot be decompressed ("), "{msg}");
        assert!(msg.ends_with("it may be damaged or incompletely downloaded"), "{msg}");
    }

    #[test]
    fn gz_name_on_uncompressed_content_still_loads() {
        // What browsers leave behind when they transparently gunzip a download.
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "digits.csv.gz", b"1,2\n3,4\n");
        let d = load_data(&path).unwrap();
        assert_eq!((d.count, d.sample_shape.clone()), (2, vec![2]));
    }

    #[test]
    fn gzip_content_without_gz_name_is_decompressed() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "digits.csv", &gzip(b"1,2\n3,4\n"));
        let d = load_data(&path).unwrap();
        assert_eq!(d.values, vec![1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn display_of_every_variant() {
        let p = || PathBuf::from("data/x.npy");
        let io = DataError::Io {
            path: p(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory"),
        };
        assert_eq!(io.to_string(), "data/x.npy: cannot read the file: No such file or directory");
        let format = DataError::Format { path: p(), message: "something is wrong".into() };
        assert_eq!(format.to_string(), "data/x.npy: something is wrong");
        let labels = DataError::Labels {
            path: p(),
            message: "label 3 (counting from 0) is -1, but labels must not be negative \
                      (class indices 0, 1, 2, ...)"
                .into(),
        };
        assert_eq!(
            labels.to_string(),
            "data/x.npy: label 3 (counting from 0) is -1, but labels must not be negative \
             (class indices 0, 1, 2, ...)"
        );
        let empty = DataError::Empty { path: p() };
        assert_eq!(empty.to_string(), "data/x.npy: the file contains no samples");
        for e in [&io, &format, &labels, &empty] {
            assert_eq!(e.path(), Path::new("data/x.npy"));
        }
        assert!(std::error::Error::source(&io).is_some());
    }

    #[test]
    fn unravel_is_row_major() {
        assert_eq!(unravel(0, &[2, 3]), vec![0, 0]);
        assert_eq!(unravel(5, &[2, 3]), vec![1, 2]);
        assert_eq!(unravel(17, &[1, 28, 28]), vec![0, 0, 17]);
        assert_eq!(unravel(30, &[28, 28]), vec![1, 2]);
    }

    #[test]
    fn element_display() {
        let all = [
            Element::U8,
            Element::I8,
            Element::I16,
            Element::I32,
            Element::I64,
            Element::F32,
            Element::F64,
            Element::Text,
        ];
        let shown: Vec<String> = all.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["u8", "i8", "i16", "i32", "i64", "f32", "f64", "text"]);
    }
}
