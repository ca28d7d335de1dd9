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
//!   blank lines skipped, all rows the same length. The first non-blank row
//!   is a header (skipped) if and only if every non-empty field in it is not a
//!   number (column names), or it is exactly `0,1,...,n-1` with n ≥ 2 (what
//!   pandas `to_csv` writes for unnamed columns). A first row that mixes
//!   numbers and text is an error, never a silently skipped "header": a typo
//!   in the first data row would otherwise shift every row against its label.
//!
//! Each format's details are in the private submodule of the same name.
//!
//! Any of them may be gzip-compressed (`.gz`); the file is decompressed as it
//! is read (never whole in memory first) and the name without `.gz` then
//! decides the format.
//!
//! **Sizes are checked before they are allocated.** Files come from
//! strangers, so a size declared in a header (IDX dimensions, the `.npy`
//! shape) is checked with overflow-checked arithmetic against the file's
//! length (uncompressed files) before anything is allocated; a gzip stream
//! is read only as far as the header declares and must end there. No load
//! returns more than [`MAX_VALUES`] values: a larger file is refused before
//! its data is read. [`load_data_limited`] reads only the samples it keeps
//! (the header plus `max_samples` samples, or `max_samples` CSV rows), so
//! `--count 10` on a huge (or gzip-bomb) file reads only a little of it.
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

/// The most values one load returns: 2^30 (1 073 741 824, 8 GiB as `f64`).
///
/// That is 1.3 million MNIST images (MNIST's training set has 47 million
/// values) or 16 million 64-value samples. Only data actually present is
/// allocated (a header is checked against the file's length, a gzip stream
/// grows its buffer as it decompresses), so the limit costs nothing on small
/// files; a file declaring more is refused before its data is read, with a
/// message suggesting `--count`; [`load_data_limited`] with fewer samples
/// loads such a file.
pub const MAX_VALUES: usize = 1 << 30;

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
    /// Number of samples loaded.
    pub count: usize,
    /// Number of samples in the whole file, when known: `Some(count)` when
    /// every sample was loaded; the count a header declares (IDX, `.npy`) when
    /// [`load_data_limited`] loaded fewer; `None` when a limited CSV read
    /// stopped with more rows left (their number is not counted).
    pub total: Option<usize>,
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
    #[error("{}: cannot read the file: {error}", .path.display())]
    Io {
        /// The file that could not be read.
        path: PathBuf,
        /// What the operating system reported (in the message, not a
        /// `source`, so that a chain of errors says it once).
        error: std::io::Error,
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

    /// Keeps the first `n` samples (all of them if there are fewer than `n`);
    /// [`Data::total`], the count of the file, is unchanged.
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
    load_data_limited(path, None)
}

/// Like [`load_data`], but loads at most `max_samples` samples (all of them
/// with `None`) and reads no more of the file than those samples need: the
/// header and `max_samples` samples of IDX and C-ordered `.npy` files, the
/// first `max_samples` data rows of CSV (plus enough to see whether more
/// follow). Fortran-ordered `.npy` files store samples interleaved and are
/// read whole.
///
/// Guarantees everything [`load_data`] does, with `1 <= count <=
/// max_samples`; [`Data::total`] tells whether the file holds more. Checks of
/// the whole file (its length against its header, NaN values, CSV rows) cover
/// only the part read when the file is gzip-compressed; an uncompressed
/// file's length is always checked against its header.
///
/// `Some(0)` is an error ([`DataError::Format`]): it would load nothing.
pub fn load_data_limited(path: &Path, max_samples: Option<usize>) -> Result<Data, DataError> {
    if max_samples == Some(0) {
        return Err(DataError::Format {
            path: path.to_path_buf(),
            message: "asked to load 0 samples; give 1 or more".to_owned(),
        });
    }
    let (src, raw) = read_raw(path, max_samples)?;
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
    Ok(Data { path: src.path, sample_shape, count, total: raw.total, values: raw.values, element: raw.element })
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
    let (src, raw) = read_raw(path, None)?;
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

    /// The error for a failed read: for a gzip-compressed file almost always
    /// damaged compressed data, otherwise what the operating system said.
    pub(crate) fn read_error(&self, e: std::io::Error) -> DataError {
        if self.gunzipped {
            self.error(format!(
                "the file is gzip-compressed but cannot be decompressed ({e}); \
                 it may be damaged or incompletely downloaded"
            ))
        } else {
            DataError::Io { path: self.path.clone(), error: e }
        }
    }
}

/// An opened file, positioned for a format reader: the first (decompressed)
/// bytes are already read into `head`, the rest comes from `rest`.
pub(crate) struct Input {
    /// The first up to [`HEAD`] bytes of the (decompressed) content; it holds
    /// the whole content when that is shorter.
    pub(crate) head: Vec<u8>,
    /// The content after `head`.
    pub(crate) rest: Box<dyn Read>,
    /// Length of the whole (decompressed) content, when known without reading
    /// it: the size of an uncompressed file, or `head.len()` when the content
    /// ended within `head`. `None` for a long gzip stream.
    pub(crate) len: Option<u64>,
}

/// Bytes read before the format is chosen; every header the readers accept
/// (IDX at most 1 KiB, `.npy` at most this) lies within them.
pub(crate) const HEAD: usize = 64 * 1024;

/// Reads into `buf` until it is full or the stream ends; returns the number
/// of bytes read (less than `buf.len()` only at the end of the stream).
pub(crate) fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Whether the stream has at least one more byte (reads at most one).
pub(crate) fn has_more(r: &mut dyn Read) -> std::io::Result<bool> {
    Ok(read_full(r, &mut [0u8; 1])? == 1)
}

/// Why [`read_elements`] stopped short.
pub(crate) enum Short {
    /// The stream ended after this many bytes of the requested data.
    Ended(u64),
    /// A read failed.
    Failed(DataError),
}

/// Reads `n` elements of `element` (`size` bytes each, big- or
/// little-endian) from `r` and appends them to `out` as `f64`, reading a
/// bounded chunk at a time. Reserves at most `reserve` values up front, so a
/// declared size that the data does not back is never allocated.
pub(crate) fn read_elements(
    src: &Source,
    r: &mut dyn Read,
    element: Element,
    big_endian: bool,
    n: usize,
    reserve: usize,
    out: &mut Vec<f64>,
) -> Result<(), Short> {
    let size = element_size(element);
    out.reserve(reserve.min(n));
    let mut buf = vec![0u8; CHUNK - CHUNK % size];
    let mut left = n;
    let mut done: u64 = 0;
    while left > 0 {
        let want = left.min(buf.len() / size) * size;
        let got = read_full(r, &mut buf[..want]).map_err(|e| Short::Failed(src.read_error(e)))?;
        decode(element, big_endian, &buf[..got - got % size], out);
        done += got as u64;
        if got < want {
            return Err(Short::Ended(done));
        }
        left -= want / size;
    }
    Ok(())
}

/// Bytes read at a time by [`read_elements`].
const CHUNK: usize = 64 * 1024;

/// Size in bytes of one binary element (`Text` has none; 1 keeps callers simple).
pub(crate) fn element_size(element: Element) -> usize {
    match element {
        Element::U8 | Element::I8 | Element::Text => 1,
        Element::I16 => 2,
        Element::I32 | Element::F32 => 4,
        Element::I64 | Element::F64 => 8,
    }
}

/// Converts whole binary elements in `bytes` to `f64` and appends them.
fn decode(element: Element, big_endian: bool, bytes: &[u8], out: &mut Vec<f64>) {
    macro_rules! words {
        ($t:ty, $n:literal, $conv:expr) => {
            out.extend(bytes.chunks_exact($n).map(|c| {
                let w: [u8; $n] = c.try_into().expect("chunks_exact yields whole words");
                let v = if big_endian { <$t>::from_be_bytes(w) } else { <$t>::from_le_bytes(w) };
                $conv(v)
            }))
        };
    }
    match element {
        Element::U8 => out.extend(bytes.iter().map(|&b| f64::from(b))),
        Element::I8 => out.extend(bytes.iter().map(|&b| f64::from(b as i8))),
        Element::I16 => words!(i16, 2, f64::from),
        Element::I32 => words!(i32, 4, f64::from),
        // Exact up to 2^53; beyond that rounding is accepted (such values are
        // not plausible pixel data, and labels that large are rejected later).
        Element::I64 => words!(i64, 8, |v: i64| v as f64),
        Element::F32 => words!(f32, 4, f64::from),
        Element::F64 => words!(f64, 8, |v: f64| v),
        Element::Text => unreachable!("text is not a binary element type"),
    }
}

/// Checks that `samples` samples of `sample_len` values each stay within
/// [`MAX_VALUES`], before anything of that size is allocated; `shape` is the
/// shape the header declares, for the message.
pub(crate) fn check_max_values(
    src: &Source,
    shape: &[usize],
    samples: usize,
    sample_len: usize,
) -> Result<usize, DataError> {
    match samples.checked_mul(sample_len) {
        Some(n) if n <= MAX_VALUES => Ok(n),
        _ => Err(src.error(format!(
            "the header declares shape {shape:?}; loading {samples} samples of {} would exceed the limit of \
             {MAX_VALUES} values (2^30) that ttfs loads at once; load fewer samples (--count)",
            values(sample_len)
        ))),
    }
}

/// What every format reader produces: the samples read, axis 0 = samples.
pub(crate) struct Raw {
    /// Shape including the sample axis; never empty. `shape[0]` is the number
    /// of samples read, which may be fewer than the file holds when a limit
    /// was given.
    pub(crate) shape: Vec<usize>,
    /// `shape.iter().product()` values in row-major order.
    pub(crate) values: Vec<f64>,
    pub(crate) element: Element,
    /// For text formats, the 1-based line of each sample, so that later
    /// checks can point the user at the line rather than at a sample index.
    pub(crate) lines: Option<Vec<u64>>,
    /// Samples in the whole file, when known (see [`Data::total`]).
    pub(crate) total: Option<usize>,
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

/// Opens `path`, decompressing on the fly when its content is gzip, and reads
/// the first [`HEAD`] bytes.
fn open(path: &Path) -> Result<(Source, Input), DataError> {
    let io = |error| DataError::Io { path: path.to_path_buf(), error };
    let file = fs::File::open(path).map_err(io)?;
    let file_len = file.metadata().map_err(io)?.len();
    let mut file = std::io::BufReader::new(file);
    let mut magic = [0u8; 2];
    let got = read_full(&mut file, &mut magic).map_err(io)?;
    // Decide by content, not by name: browsers often gunzip MNIST downloads
    // but keep the `.gz` name, and a compressed file may lack the suffix.
    let gunzipped = magic[..got] == *GZIP_MAGIC;
    let src = Source { path: path.to_path_buf(), gunzipped };
    let file = std::io::Cursor::new(magic[..got].to_vec()).chain(file);
    let mut rest: Box<dyn Read> =
        if gunzipped { Box::new(flate2::read::MultiGzDecoder::new(file)) } else { Box::new(file) };
    let mut head = vec![0u8; HEAD];
    let got = read_full(&mut rest, &mut head).map_err(|e| src.read_error(e))?;
    head.truncate(got);
    let len = if got < HEAD {
        Some(got as u64)
    } else if gunzipped {
        None
    } else {
        Some(file_len)
    };
    Ok((src, Input { head, rest, len }))
}

/// Reads and parses `path` in whatever format it is, keeping at most `limit`
/// samples and reading no further than they need.
fn read_raw(path: &Path, limit: Option<usize>) -> Result<(Source, Raw), DataError> {
    let (src, input) = open(path)?;
    if input.head.is_empty() {
        return Err(DataError::Empty { path: src.path });
    }
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    let inner_name = name.strip_suffix(".gz").unwrap_or(&name);
    let raw = match detect(inner_name, &input.head, input.len) {
        Some(Format::Idx) => idx::parse(&src, input, limit)?,
        Some(Format::Npy) => npy::parse(&src, input, limit)?,
        Some(Format::Csv) => csv::parse(&src, input, limit)?,
        None => {
            return Err(src.error(format!("unrecognised file format; {SUPPORTED}")));
        }
    };
    debug_assert!(!raw.shape.is_empty());
    debug_assert_eq!(checked_product(&raw.shape), Some(raw.values.len()));
    Ok((src, raw))
}

/// Chooses the format from the start of the (decompressed) content, its
/// length if known, and the lower-cased file name without `.gz`.
/// Unambiguous content wins over the name; the name is consulted next so
/// that a damaged file of a recognisable kind gets that format's precise
/// error rather than "unrecognised format".
fn detect(name: &str, head: &[u8], len: Option<u64>) -> Option<Format> {
    if npy::has_magic(head) {
        Some(Format::Npy)
    } else if idx::looks_like(head, len) {
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
            total: Some(count),
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
            error: std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory"),
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
        // The OS error is part of the message, so a chain says it once.
        assert!(std::error::Error::source(&io).is_none());
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

    #[test]
    fn bundled_fixtures_load_whole_and_limited_with_matching_labels() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures");
        for (data, labels) in [
            ("digits/test_images.csv.gz", "digits/test_labels.csv.gz"),
            ("digits/train_images.csv.gz", "digits/train_labels.csv.gz"),
            ("mnist/t10k-images-idx3-ubyte.gz", "mnist/t10k-labels-idx1-ubyte.gz"),
            ("mnist/train5k-images-idx3-ubyte.gz", "mnist/train5k-labels-idx1-ubyte.gz"),
        ] {
            let (data, labels) = (root.join(data), root.join(labels));
            let whole = load_data(&data).unwrap();
            assert_eq!(whole.total, Some(whole.count));
            crate::load_labels_for(&labels, &data, whole.count, whole.total, 10).unwrap();
            let first = load_data_limited(&data, Some(3)).unwrap();
            assert_eq!(first.count, 3);
            assert_eq!(first.values, whole.values[..3 * whole.sample_len()]);
            let got = crate::load_labels_for(&labels, &data, 3, first.total, 10).unwrap();
            assert_eq!(got.len(), 3);
        }
    }
}
