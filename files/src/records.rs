//! Key-value records from a CSV file (gzipped or not): one column is the
//! label, some are excluded, every other column is a key. Nothing about a
//! particular data set is assumed beyond a header row.

use flate2::read::MultiGzDecoder;
use std::io::Read;
use std::path::Path;
use thiserror::Error;

/// Records read from one CSV file.
#[derive(Clone, Debug, PartialEq)]
pub struct Records {
    /// The key columns' names, in file order.
    pub keys: Vec<String>,
    /// Per record, its value for each key (`None`: the field was empty,
    /// a missing value, which is a value of its own to the features).
    pub values: Vec<Vec<Option<String>>>,
    /// Per record, its label.
    pub labels: Vec<String>,
}

impl Records {
    /// The distinct labels, sorted: a class's index is its position here.
    pub fn classes(&self) -> Vec<String> {
        let mut classes = self.labels.clone();
        classes.sort_unstable();
        classes.dedup();
        classes
    }
}

/// Why a file's records cannot be read.
#[derive(Debug, Error)]
pub enum RecordError {
    /// The file cannot be opened or read (or is not valid gzip).
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The CSV parser stopped (not UTF-8, an unterminated quote ...).
    #[error("{path}, line {line}: {message}")]
    Csv {
        /// The file.
        path: String,
        /// The 1-based line.
        line: u64,
        /// The parser's message.
        message: String,
    },
    /// The file has no header row.
    #[error("{path} is empty: a header row naming the columns must come first")]
    NoHeader {
        /// The file.
        path: String,
    },
    /// `--label` or `--exclude` names a column the header does not have.
    #[error("{path} has no column '{column}' (given as the {role}); its columns are: {available}")]
    UnknownColumn {
        /// The file.
        path: String,
        /// The column asked for.
        column: String,
        /// "label" or "excluded column".
        role: &'static str,
        /// The header's columns, comma-separated.
        available: String,
    },
    /// Two header columns share a name.
    #[error("{path}: the header names column '{column}' twice")]
    DuplicateColumn {
        /// The file.
        path: String,
        /// The repeated name.
        column: String,
    },
    /// A row with another number of fields than the header.
    #[error("{path}, line {line}: {found} fields, but the header has {expected}")]
    Ragged {
        /// The file.
        path: String,
        /// The 1-based line.
        line: u64,
        /// Fields in the row.
        found: usize,
        /// Fields in the header.
        expected: usize,
    },
    /// A record whose label field is empty.
    #[error("{path}, line {line}: the label column '{label}' is empty")]
    EmptyLabel {
        /// The file.
        path: String,
        /// The 1-based line.
        line: u64,
        /// The label column.
        label: String,
    },
    /// Nothing is left to be a key after the label and the exclusions.
    #[error("{path}: no key columns are left after the label '{label}' and the excluded columns")]
    NoKeys {
        /// The file.
        path: String,
        /// The label column.
        label: String,
    },
    /// More text than [`MAX_TEXT_BYTES`] (after decompression).
    #[error(
        "{path} holds more than {limit} bytes of text (decompressed); records files are read into memory and may hold at most that"
    )]
    TooLarge {
        /// The file.
        path: String,
        /// The limit.
        limit: u64,
    },
    /// A header and no records.
    #[error("{path} has a header but no records")]
    NoRecords {
        /// The file.
        path: String,
    },
}

/// Most bytes of CSV text a records file may hold (after decompression):
/// the records are held in memory, so a gzip bomb stops here.
pub const MAX_TEXT_BYTES: u64 = 512 << 20;

/// Reads `path` (gzip is recognised by its magic bytes, not its name):
/// the header first, `label` the label column, `exclude` columns dropped,
/// every other column a key. Errors name the file and the line; a file of
/// more than [`MAX_TEXT_BYTES`] of text is refused before it is parsed.
pub fn read(path: &Path, label: &str, exclude: &[&str]) -> Result<Records, RecordError> {
    read_limited(path, label, exclude, MAX_TEXT_BYTES)
}

fn read_limited(path: &Path, label: &str, exclude: &[&str], limit: u64) -> Result<Records, RecordError> {
    let name = path.display().to_string();
    let io = |source| RecordError::Io { path: name.clone(), source };
    let too_large = || RecordError::TooLarge { path: name.clone(), limit };
    let mut bytes = Vec::new();
    std::fs::File::open(path).and_then(|f| f.take(limit + 1).read_to_end(&mut bytes)).map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut text = Vec::new();
        MultiGzDecoder::new(bytes.as_slice()).take(limit + 1).read_to_end(&mut text).map_err(io)?;
        bytes = text;
    }
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    parse(bytes.as_slice(), &name, label, exclude)
}

/// Parses CSV text from `reader` as [`read`] does; `source` names it in
/// errors.
pub fn parse<R: Read>(reader: R, source: &str, label: &str, exclude: &[&str]) -> Result<Records, RecordError> {
    let mut csv = reader_builder().from_reader(reader);
    let mut rows = csv.byte_records();
    let csv_error = |e: csv::Error| RecordError::Csv {
        path: source.to_string(),
        line: e.position().map_or(0, |p| p.line()),
        message: e.to_string(),
    };
    let header = match rows.next() {
        Some(row) => row.map_err(csv_error)?,
        None => return Err(RecordError::NoHeader { path: source.to_string() }),
    };
    let header: Vec<String> = header.iter().map(|f| String::from_utf8_lossy(f).trim().to_string()).collect();
    for (i, column) in header.iter().enumerate() {
        if header[..i].contains(column) {
            return Err(RecordError::DuplicateColumn { path: source.to_string(), column: column.clone() });
        }
    }
    let unknown = |column: &str, role| RecordError::UnknownColumn {
        path: source.to_string(),
        column: column.to_string(),
        role,
        available: header.join(", "),
    };
    let label_at = header.iter().position(|c| c == label).ok_or_else(|| unknown(label, "label"))?;
    for column in exclude {
        if !header.iter().any(|c| c == column) {
            return Err(unknown(column, "excluded column"));
        }
    }
    let key_at: Vec<usize> =
        (0..header.len()).filter(|&i| i != label_at && !exclude.contains(&header[i].as_str())).collect();
    if key_at.is_empty() {
        return Err(RecordError::NoKeys { path: source.to_string(), label: label.to_string() });
    }
    let mut records =
        Records { keys: key_at.iter().map(|&i| header[i].clone()).collect(), values: Vec::new(), labels: Vec::new() };
    for row in rows {
        let row = row.map_err(csv_error)?;
        let line = row.position().map_or(0, |p| p.line());
        if row.len() != header.len() {
            return Err(RecordError::Ragged {
                path: source.to_string(),
                line,
                found: row.len(),
                expected: header.len(),
            });
        }
        let field = |i: usize| String::from_utf8_lossy(&row[i]).trim().to_string();
        let class = field(label_at);
        if class.is_empty() {
            return Err(RecordError::EmptyLabel { path: source.to_string(), line, label: label.to_string() });
        }
        records.labels.push(class);
        records.values.push(key_at.iter().map(|&i| Some(field(i)).filter(|v| !v.is_empty())).collect());
    }
    if records.labels.is_empty() {
        return Err(RecordError::NoRecords { path: source.to_string() });
    }
    Ok(records)
}

/// A streamed record: its 1-based line and its values in the keys' order.
pub type Row = (u64, Vec<Option<String>>);

/// Records read one at a time as they arrive (`ttfs files classify`): the
/// header first, which must name every one of `keys` (other columns, the
/// label among them, are ignored); then each row yields its values in the
/// order of `keys`, as soon as its line has been read.
pub struct Stream<R: Read> {
    rows: csv::ByteRecordsIntoIter<LineLimit<R>>,
    source: String,
    width: usize,
    key_at: Vec<usize>,
}

impl<R: Read> Stream<R> {
    /// Reads the header from `reader` (`source` names it in errors).
    /// A line longer than [`MAX_LINE_BYTES`] ends the stream in an error
    /// (a stream has no end to wait for, so no line may grow without bound).
    pub fn new(reader: R, source: &str, keys: &[String]) -> Result<Stream<R>, RecordError> {
        let csv = reader_builder().from_reader(LineLimit { inner: reader, since_newline: 0 });
        let mut rows = csv.into_byte_records();
        let header = match rows.next() {
            Some(row) => row.map_err(|e| csv_error(source, e))?,
            None => return Err(RecordError::NoHeader { path: source.to_string() }),
        };
        let header: Vec<String> = header.iter().map(|f| String::from_utf8_lossy(f).trim().to_string()).collect();
        let key_at = keys
            .iter()
            .map(|k| {
                header.iter().position(|c| c == k).ok_or_else(|| RecordError::UnknownColumn {
                    path: source.to_string(),
                    column: k.clone(),
                    role: "key the model was trained on",
                    available: header.join(", "),
                })
            })
            .collect::<Result<Vec<usize>, RecordError>>()?;
        Ok(Stream { rows, source: source.to_string(), width: header.len(), key_at })
    }

    /// The next record: its 1-based line and its values (`None`: empty), or
    /// `None` at the end.
    pub fn next_record(&mut self) -> Option<Result<Row, RecordError>> {
        let row = match self.rows.next()? {
            Ok(row) => row,
            Err(e) => return Some(Err(csv_error(&self.source, e))),
        };
        let line = row.position().map_or(0, |p| p.line());
        if row.len() != self.width {
            return Some(Err(RecordError::Ragged {
                path: self.source.clone(),
                line,
                found: row.len(),
                expected: self.width,
            }));
        }
        let values = self
            .key_at
            .iter()
            .map(|&i| Some(String::from_utf8_lossy(&row[i]).trim().to_string()).filter(|v| !v.is_empty()))
            .collect();
        Some(Ok((line, values)))
    }
}

/// Most bytes one line of a record stream may hold.
pub const MAX_LINE_BYTES: u64 = 1 << 20;

/// A reader that fails once a line runs past [`MAX_LINE_BYTES`].
pub struct LineLimit<R> {
    inner: R,
    since_newline: u64,
}

impl<R: Read> Read for LineLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            self.since_newline = if b == b'\n' { 0 } else { self.since_newline + 1 };
            if self.since_newline > MAX_LINE_BYTES {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("a line runs past {MAX_LINE_BYTES} bytes, the most a record may take"),
                ));
            }
        }
        Ok(n)
    }
}

/// The CSV reader both parsers use: no header handling (ours names the
/// columns), rows of any width (ours reports them with their line), and
/// records ended by `\n` alone: the csv crate counts a CRLF file's lines one
/// short when it ends records at `\r`, and the `\r` left at the end of the
/// last field is trimmed with the rest of its white space.
fn reader_builder() -> csv::ReaderBuilder {
    let mut b = csv::ReaderBuilder::new();
    b.has_headers(false).flexible(true).terminator(csv::Terminator::Any(b'\n'));
    b
}

fn csv_error(source: &str, e: csv::Error) -> RecordError {
    RecordError::Csv { path: source.to_string(), line: e.position().map_or(0, |p| p.line()), message: e.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str, exclude: &[&str]) -> Result<Records, RecordError> {
        parse(text.as_bytes(), "t.csv", "label", exclude)
    }

    #[test]
    fn keys_labels_and_missing_values() {
        let r = parsed("a,label,b,c\n1,x,,q\n2,y,z,\n", &["c"]).unwrap();
        assert_eq!(r.keys, ["a", "b"]);
        assert_eq!(r.labels, ["x", "y"]);
        assert_eq!(r.values, [vec![Some("1".to_string()), None], vec![Some("2".to_string()), Some("z".to_string())]]);
        assert_eq!(r.classes(), ["x", "y"]);
    }

    #[test]
    fn bad_files_name_the_line_and_what_is_allowed() {
        let err = |text: &str, exclude: &[&str]| parsed(text, exclude).unwrap_err().to_string();
        assert_eq!(err("a,label\n1,x\n2\n", &[]), "t.csv, line 3: 1 fields, but the header has 2");
        assert_eq!(err("a,label\n1,x\n2, \n", &[]), "t.csv, line 3: the label column 'label' is empty");
        assert_eq!(
            err("a,kind\n1,x\n", &[]),
            "t.csv has no column 'label' (given as the label); its columns are: a, kind"
        );
        assert!(err("a,label\n1,x\n", &["b"]).contains("no column 'b' (given as the excluded column)"));
        assert_eq!(err("a,label\n", &[]), "t.csv has a header but no records");
        assert_eq!(err("", &[]), "t.csv is empty: a header row naming the columns must come first");
        assert!(err("a,label\n1,x\n", &["a"]).contains("no key columns are left"));
        assert_eq!(err("a,a,label\n1,2,x\n", &[]), "t.csv: the header names column 'a' twice");
        assert!(err("a,label\n\"1,x\n", &[]).starts_with("t.csv, line"));
    }

    #[test]
    fn a_stream_yields_keys_in_the_models_order_and_names_bad_lines() {
        let keys = ["b".to_string(), "a".to_string()];
        let text = "a,label,b\n1,x,\n3,y,4\n5,z\n";
        let mut s = Stream::new(text.as_bytes(), "stdin", &keys).unwrap();
        let (line, values) = s.next_record().unwrap().unwrap();
        assert_eq!((line, values), (2, vec![None, Some("1".to_string())]));
        let (line, values) = s.next_record().unwrap().unwrap();
        assert_eq!((line, values), (3, vec![Some("4".to_string()), Some("3".to_string())]));
        let err = s.next_record().unwrap().unwrap_err().to_string();
        assert_eq!(err, "stdin, line 4: 2 fields, but the header has 3");
        assert!(s.next_record().is_none());
        let missing = Stream::new("a,label\n".as_bytes(), "stdin", &keys).err().unwrap().to_string();
        assert!(missing.contains("no column 'b' (given as the key the model was trained on)"), "{missing}");
        assert!(Stream::new("".as_bytes(), "stdin", &keys).is_err());
        // CRLF line ends, as the bundled data set has, mixed with LF.
        let text = "a,label,b\r\n\"1\",x,\r\n3,y,4\n5,z\r\n";
        let mut s = Stream::new(text.as_bytes(), "stdin", &keys).unwrap();
        assert_eq!(s.next_record().unwrap().unwrap(), (2, vec![None, Some("1".to_string())]));
        assert_eq!(s.next_record().unwrap().unwrap(), (3, vec![Some("4".to_string()), Some("3".to_string())]));
        assert_eq!(s.next_record().unwrap().unwrap_err().to_string(), "stdin, line 4: 2 fields, but the header has 3");
        assert_eq!(
            parse("a,label\r\n1,x\r\n2\r\n".as_bytes(), "t.csv", "label", &[]).unwrap_err().to_string(),
            "t.csv, line 3: 1 fields, but the header has 2"
        );
    }

    /// A reader that hands out one line per read, as a pipe does when the
    /// writer sends records one at a time.
    struct LineByLine(Vec<&'static str>);

    impl Read for LineByLine {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() {
                return Ok(0);
            }
            let line = self.0.remove(0).as_bytes();
            buf[..line.len()].copy_from_slice(line);
            Ok(line.len())
        }
    }

    #[test]
    fn lines_are_counted_when_records_arrive_one_read_at_a_time() {
        let keys = ["a".to_string()];
        let mut s = Stream::new(LineByLine(vec!["a,label\n", "1,x\n", "2,y\n", "3\n"]), "stdin", &keys).unwrap();
        assert_eq!(s.next_record().unwrap().unwrap().0, 2);
        assert_eq!(s.next_record().unwrap().unwrap().0, 3);
        assert_eq!(s.next_record().unwrap().unwrap_err().to_string(), "stdin, line 4: 1 fields, but the header has 2");
    }

    #[test]
    fn a_stream_line_past_the_limit_ends_in_an_error_not_in_memory() {
        let keys = ["a".to_string()];
        // An endless line: the stream must stop, not grow.
        let endless = std::io::Read::chain("a,label\n1,x\n".as_bytes(), std::io::repeat(b'z'));
        let mut s = Stream::new(endless, "stdin", &keys).unwrap();
        assert!(s.next_record().unwrap().is_ok());
        let err = s.next_record().unwrap().unwrap_err().to_string();
        assert!(err.contains("stdin") && err.contains("1048576 bytes"), "{err}");
    }

    #[test]
    fn a_file_of_more_text_than_the_limit_is_refused_gzipped_or_not() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let text = format!("a,label\n{}", "1,x\n".repeat(1000));
        let plain = dir.path().join("r.csv");
        std::fs::write(&plain, &text).unwrap();
        let gz = dir.path().join("r.csv.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(text.as_bytes()).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        for path in [&plain, &gz] {
            let err = read_limited(path, "label", &[], 1000).unwrap_err().to_string();
            assert!(err.contains("more than 1000 bytes of text"), "{err}");
            assert_eq!(read_limited(path, "label", &[], 4008).unwrap().labels.len(), 1000);
        }
    }

    #[test]
    fn gzip_is_recognised_by_content() {
        use flate2::{Compression, write::GzEncoder};
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records.csv");
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        gz.write_all(b"k,label\nv,c\n").unwrap();
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
        let r = read(&path, "label", &[]).unwrap();
        assert_eq!((r.keys.len(), r.labels.len()), (1, 1));
        let missing = read(&dir.path().join("none.csv"), "label", &[]).unwrap_err().to_string();
        assert!(missing.starts_with("cannot read ") && missing.contains("none.csv"), "{missing}");
    }
}
