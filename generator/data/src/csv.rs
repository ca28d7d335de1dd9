//! Comma-separated text (`.csv`, `.txt`): one sample per row.
//!
//! Rules: fields are decimal numbers separated by commas, with optional
//! whitespace around them (and optional CSV quoting); empty and
//! whitespace-only lines are skipped; every row must have as many columns as
//! the first data row. A UTF-8 byte-order mark (as written by Excel) is
//! ignored. The sample shape is `[columns]`.
//!
//! The header rule: the first non-blank row is a header, and is skipped, if
//! and only if
//!
//! * every non-empty field in it is not a number (column names such as
//!   `pixel0,pixel1`; an empty name is allowed), or
//! * it is exactly the integers `0,1,...,n-1` with n ≥ 2, what pandas
//!   `to_csv` writes for unnamed columns (so a data row that is exactly
//!   `0,1,2,...` in the first line is taken as such a header).
//!
//! A first row that mixes numbers and text (`0.5,0.3x,0.1`) is an error
//! naming the line and the first field that is not a number, never a header:
//! skipping a data row with a typo would shift every row against its label.
//! Any later field that is not a number is an error naming line and column.
//!
//! Reading streams: only the rows kept are parsed (with a limit, reading
//! stops after them and one look at whether more follow), at most
//! [`MAX_VALUES`](super::MAX_VALUES) values are kept, and one row may be at
//! most [`MAX_ROW_BYTES`] long.
//!
//! Errors point at 1-based line and column numbers, as a text editor shows
//! them.

use std::io::Read;

use ::csv::{ByteRecord, ReaderBuilder, Trim};

use super::{DataError, Element, Input, MAX_VALUES, Raw, Source};

/// Longest field text quoted in an error message; a whole row that failed to
/// split (e.g. space-separated) would otherwise flood the terminal.
const MAX_SHOWN: usize = 40;

/// Longest row (in bytes, with the blank lines before it) that is read: far
/// above any real data row (a 28×28 image is a few KiB), low enough that a
/// file without line breaks cannot fill memory.
pub(super) const MAX_ROW_BYTES: usize = 64 * 1024 * 1024;

/// What the first non-blank row is.
enum FirstRow {
    Header,
    Data,
    /// Mixed: the 1-based column and the text of its first non-number.
    Mixed(usize, String),
}

/// Applies the header rule (see the module docs) to the first non-blank row.
fn classify_first(record: &ByteRecord) -> FirstRow {
    let pandas = record.len() >= 2 && record.iter().enumerate().all(|(i, f)| f == i.to_string().as_bytes());
    if pandas {
        return FirstRow::Header;
    }
    let mut names = record.iter().enumerate().filter(|(_, f)| !f.is_empty() && number(f).is_none());
    let Some((first, text)) = names.next() else {
        return FirstRow::Data;
    };
    if record.iter().all(|f| f.is_empty() || number(f).is_none()) {
        FirstRow::Header
    } else {
        FirstRow::Mixed(first + 1, shown(text))
    }
}

/// Parses CSV text, keeping at most `limit` data rows.
pub(super) fn parse(src: &Source, input: Input, limit: Option<usize>) -> Result<Raw, DataError> {
    let Input { head, rest, .. } = input;
    // Without this the BOM sticks to the first field, which then is not a
    // number, and the first data row would be taken for a header.
    let skip = if head.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
    let text = Lines::new(std::io::Cursor::new(head).chain(rest), skip);
    let mut reader = ReaderBuilder::new()
        .has_headers(false)
        // Ragged rows are checked here, to report them in our own words.
        .flexible(true)
        .trim(Trim::All)
        .from_reader(text);
    let mut record = ByteRecord::new();
    let mut values = Vec::new();
    let mut lines = Vec::new();
    // Column count of the first data row, and its line.
    let mut columns: Option<(usize, u64)> = None;
    let mut seen_first_row = false;
    let mut more = false;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(src, e)),
        }
        let line = reader.get_mut().record_at(record.position().map_or(0, |p| p.byte()));
        // The csv crate skips truly empty lines; this skips whitespace-only ones.
        if record.len() == 1 && record[0].is_empty() {
            continue;
        }
        if !seen_first_row {
            seen_first_row = true;
            match classify_first(&record) {
                FirstRow::Header => continue,
                FirstRow::Data => {}
                FirstRow::Mixed(column, text) => {
                    return Err(src.error(format!(
                        "line {line} mixes numbers and text: column {column} ({text:?}) is not a number; \
                         a header row holds only column names, a data row only numbers"
                    )));
                }
            }
        }
        if limit.is_some_and(|n| lines.len() >= n) {
            more = true;
            break;
        }
        match columns {
            None => columns = Some((record.len(), line)),
            Some((n, first_line)) if n != record.len() => {
                return Err(src.error(format!(
                    "line {line} has {} columns but line {first_line} has {n}; \
                     every row must have the same number of columns",
                    record.len()
                )));
            }
            Some(_) => {}
        }
        if values.len() + record.len() > MAX_VALUES {
            return Err(src.error(format!(
                "line {line}: the file holds more than the limit of {MAX_VALUES} values (2^30) \
                 that ttfs loads at once; load fewer samples (--count)"
            )));
        }
        for (i, field) in record.iter().enumerate() {
            values.push(field_value(src, field, line, i + 1)?);
        }
        lines.push(line);
    }
    let total = if more { None } else { Some(lines.len()) };
    Ok(Raw {
        shape: vec![lines.len(), columns.map_or(0, |(n, _)| n)],
        values,
        element: Element::Text,
        lines: Some(lines),
        total,
    })
}

/// A CSV reading error in the user's words: a failed read of the underlying
/// file (damaged gzip, a row over [`MAX_ROW_BYTES`]) or malformed CSV.
fn csv_error(src: &Source, e: ::csv::Error) -> DataError {
    if !e.is_io_error() {
        return src.error(format!("cannot be read as CSV: {e}"));
    }
    match e.into_kind() {
        ::csv::ErrorKind::Io(e) if e.kind() == std::io::ErrorKind::OutOfMemory => src.error(e.to_string()),
        ::csv::ErrorKind::Io(e) => src.read_error(e),
        kind => src.error(format!("cannot be read as CSV: {kind:?}")),
    }
}

/// The text being parsed, with what is needed to find the 1-based line on
/// which a record starts.
///
/// The csv crate's own `Position::line` does not count the empty lines it
/// skips (and miscounts CRLF files), and `Position::byte` points at the end of
/// the previous record, before those empty lines. So the line is computed
/// here: the bytes read since the last record start are kept; skip the line
/// breaks after the offset, then count line breaks up to there. Offsets only
/// grow, so counting resumes where it stopped and every byte is scanned once;
/// the bytes before the record start are then dropped.
struct Lines<R> {
    inner: R,
    /// Leading bytes still to drop (a byte-order mark).
    skip: usize,
    /// Bytes read from `inner` from offset `pos` on.
    kept: Vec<u8>,
    /// Offset (in the text after the BOM) up to which line breaks have been counted.
    pos: u64,
    /// The line that `pos` is on.
    line: u64,
}

impl<R: Read> Lines<R> {
    fn new(inner: R, skip: usize) -> Self {
        Lines { inner, skip, kept: Vec::new(), pos: 0, line: 1 }
    }

    /// The line of the record that the csv crate reports at byte `offset`.
    fn record_at(&mut self, offset: u64) -> u64 {
        let at = usize::try_from(offset.saturating_sub(self.pos)).unwrap_or(usize::MAX).min(self.kept.len());
        let blank = self.kept[at..].iter().take_while(|&&b| b == b'\r' || b == b'\n').count();
        let start = at + blank;
        let span = &self.kept[..start];
        // "\r\n" is one break: count every '\n' and every '\r' not followed by one.
        let breaks = span
            .iter()
            .enumerate()
            .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && span.get(i + 1) != Some(&b'\n')))
            .count();
        self.line += breaks as u64;
        self.pos += start as u64;
        self.kept.drain(..start);
        self.line
    }
}

impl<R: Read> Read for Lines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.skip > 0 {
            let mut bom = [0u8; 3];
            let n = self.inner.read(&mut bom[..self.skip])?;
            if n == 0 {
                return Ok(0);
            }
            self.skip -= n;
        }
        if self.kept.len() > MAX_ROW_BYTES {
            return Err(std::io::Error::new(
                std::io::ErrorKind::OutOfMemory,
                format!(
                    "line {} starts a row longer than {MAX_ROW_BYTES} bytes; \
                     rows must be separated by line breaks",
                    self.line
                ),
            ));
        }
        let n = self.inner.read(buf)?;
        self.kept.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

/// The field as a number, if it is one. `NaN` and `inf` parse here; they are
/// numbers syntactically, and rejected later with a clearer message.
fn number(field: &[u8]) -> Option<f64> {
    std::str::from_utf8(field).ok()?.parse().ok()
}

/// The field's text for a message, cut to [`MAX_SHOWN`] characters.
fn shown(field: &[u8]) -> String {
    let text = String::from_utf8_lossy(field);
    if text.chars().count() > MAX_SHOWN {
        text.chars().take(MAX_SHOWN).chain("...".chars()).collect()
    } else {
        text.to_string()
    }
}

/// The field as a number, or an error naming line and column.
fn field_value(src: &Source, field: &[u8], line: u64, column: usize) -> Result<f64, DataError> {
    if let Some(v) = number(field) {
        return Ok(v);
    }
    if field.is_empty() {
        return Err(src.error(format!("line {line}, column {column} is empty; every field must be a number")));
    }
    let text = String::from_utf8_lossy(field);
    let shown = shown(field);
    // Other separators are the usual reason a row of numbers is "not a number".
    let hint = if text.contains([' ', '\t', ';']) { " (fields must be separated by commas)" } else { "" };
    Err(src.error(format!("line {line}, column {column}: {shown:?} is not a number{hint}")))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{gzip, message, write};
    use super::super::{Data, DataError, Element, load_data, load_data_limited, load_labels};

    fn load(name: &str, text: &str) -> Result<Data, DataError> {
        let dir = tempfile::tempdir().unwrap();
        load_data(&write(dir.path(), name, text.as_bytes()))
    }

    fn labels(name: &str, text: &str) -> Result<Vec<usize>, DataError> {
        let dir = tempfile::tempdir().unwrap();
        load_labels(&write(dir.path(), name, text.as_bytes()))
    }

    fn format_err(text: &str) -> String {
        let err = load("digits.csv", text).unwrap_err();
        assert!(matches!(err, DataError::Format { .. }), "{err}");
        message(&err)
    }

    fn labels_err(text: &str) -> String {
        let err = labels("labels.csv", text).unwrap_err();
        assert!(matches!(err, DataError::Labels { .. }), "{err}");
        message(&err)
    }

    #[test]
    fn round_trip() {
        let d = load("digits.csv", "0,1.5,-2\n3e2,4,.5\n").unwrap();
        assert_eq!(d.element, Element::Text);
        assert_eq!((d.count, d.sample_shape.clone()), (2, vec![3]));
        assert_eq!(d.values, vec![0.0, 1.5, -2.0, 300.0, 4.0, 0.5]);
        assert!(d.path.ends_with("digits.csv"));
    }

    #[test]
    fn txt_extension_and_no_trailing_newline() {
        let d = load("digits.TXT", "1,2\n3,4").unwrap();
        assert_eq!(d.values, vec![1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn header_row_is_skipped() {
        let d = load("digits.csv", "pixel0,pixel1,label\n1,2,3\n4,5,6\n").unwrap();
        assert_eq!((d.count, d.values.len()), (2, 6));
        assert_eq!(d.sample(0), &[1.0, 2.0, 3.0]);
    }

    #[test]
    fn only_the_first_row_can_be_a_header() {
        assert_eq!(format_err("1,2\nx,y\n"), "line 2, column 1: \"x\" is not a number");
    }

    #[test]
    fn whitespace_empty_lines_crlf_quotes_and_bom() {
        let text = "\u{feff}\n  1 , 2\t\r\n\r\n   \n\"3\",  4  \r\n\n";
        let d = load("digits.csv", text).unwrap();
        assert_eq!((d.count, d.values), (2, vec![1.0, 2.0, 3.0, 4.0]));
    }

    #[test]
    fn bom_before_a_data_row_does_not_hide_it() {
        let d = load("digits.csv", "\u{feff}1,2\n3,4\n").unwrap();
        assert_eq!(d.count, 2);
    }

    #[test]
    fn gzipped_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "digits.csv.gz", &gzip(b"a,b\n1,2\n3,4\n"));
        let d = load_data(&path).unwrap();
        assert_eq!((d.count, d.values), (2, vec![1.0, 2.0, 3.0, 4.0]));
    }

    #[test]
    fn ragged_rows_name_both_lines() {
        assert_eq!(
            format_err("x,y,z\n1,2,3\n\n4,5,6\n7,8\n"),
            "line 5 has 2 columns but line 2 has 3; every row must have the same number of columns"
        );
    }

    #[test]
    fn non_numeric_field_names_line_and_column() {
        assert_eq!(format_err("1,2,3\n4,five,6\n"), "line 2, column 2: \"five\" is not a number");
    }

    #[test]
    fn empty_field() {
        assert_eq!(format_err("1,2,3\n4,5,\n"), "line 2, column 3 is empty; every field must be a number");
        // An empty field alone does not make the first row a header.
        assert_eq!(format_err("1,,3\n"), "line 1, column 2 is empty; every field must be a number");
    }

    #[test]
    fn wrong_separator_gets_a_hint_and_long_fields_are_shortened() {
        let row = (0..30).map(|v| v.to_string()).collect::<Vec<_>>().join(" ");
        let text = format!("{row}\n{row}\n");
        assert_eq!(
            format_err(&text),
            "line 2, column 1: \"0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16...\" is not a number \
             (fields must be separated by commas)"
        );
        assert_eq!(
            format_err("h\n1;2\n"),
            "line 2, column 1: \"1;2\" is not a number (fields must be separated by commas)"
        );
    }

    #[test]
    fn nan_names_line_and_column() {
        assert_eq!(
            format_err("a,b\n1,2\n3,NaN\n"),
            "line 3, column 2 (sample 1, counting from 0) is NaN; data must not contain NaN or infinite values"
        );
        assert_eq!(
            format_err("inf,1\n"),
            "line 1, column 1 (sample 0, counting from 0) is +infinity; data must not contain NaN or infinite values"
        );
    }

    #[test]
    fn header_only_or_blank_is_empty() {
        for text in ["a,b,c\n", "\n\n  \n"] {
            let err = load("digits.csv", text).unwrap_err();
            assert!(matches!(err, DataError::Empty { .. }), "{text:?}: {err}");
            let err = labels("labels.csv", text).unwrap_err();
            assert!(matches!(err, DataError::Empty { .. }), "{text:?}: {err}");
        }
    }

    #[test]
    fn labels_one_column_with_header_and_integral_floats() {
        assert_eq!(labels("y.csv", "label\n3\n 0 \n9.0\n").unwrap(), vec![3, 0, 9]);
        assert_eq!(labels("y.txt.gz", "1\n2\n").unwrap(), vec![1, 2]);
    }

    #[test]
    fn labels_with_several_columns_are_rejected() {
        assert_eq!(
            labels_err("1,2,3\n"),
            "a labels file needs exactly one column (one label per line), but this one has 3 columns; \
             if the labels are a column of your data file, save them to a separate file"
        );
    }

    #[test]
    fn fractional_and_negative_labels_name_the_line() {
        assert_eq!(
            labels_err("label\n1\n3.5\n"),
            "line 3: label is 3.5, but labels must be whole numbers (class indices 0, 1, 2, ...)"
        );
        assert_eq!(
            labels_err("2\n\n-4\n"),
            "line 3: label is -4, but labels must not be negative (class indices 0, 1, 2, ...)"
        );
    }

    #[test]
    fn non_numeric_label_is_a_format_error() {
        let err = labels("labels.csv", "label\n1\ncat\n").unwrap_err();
        assert!(matches!(err, DataError::Format { .. }));
        assert_eq!(message(&err), "line 3, column 1: \"cat\" is not a number");
    }

    #[test]
    fn invalid_utf8_does_not_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "x.csv", b"1,2\n3,\xff\xfe\n");
        let err = load_data(&path).unwrap_err();
        assert_eq!(message(&err), "line 2, column 2: \"\u{fffd}\u{fffd}\" is not a number");
    }

    #[test]
    fn line_numbers_count_blank_lines_crlf_and_quoted_newlines() {
        assert_eq!(format_err("1,2\n\n\n3,x\n"), "line 4, column 2: \"x\" is not a number");
        assert_eq!(format_err("1,2\r\n\r\n3,x\r\n"), "line 3, column 2: \"x\" is not a number");
        assert_eq!(format_err("\n\n  \n1,2\n3,x\n"), "line 5, column 2: \"x\" is not a number");
        assert_eq!(format_err("h,\"multi\nline\"\n1,2\n\n3,x\n"), "line 5, column 2: \"x\" is not a number");
        assert_eq!(format_err("1,2\r3,x\r"), "line 2, column 2: \"x\" is not a number");
    }

    #[test]
    fn typo_in_the_first_row_is_an_error_not_a_header() {
        assert_eq!(
            format_err("0.5,0.3x,0.1\n1,2,3\n"),
            "line 1 mixes numbers and text: column 2 (\"0.3x\") is not a number; \
             a header row holds only column names, a data row only numbers"
        );
        // The line is the file's line, after blank lines and a byte-order mark.
        assert_eq!(
            format_err("\u{feff}\n\n1,2,x3\n"),
            "line 3 mixes numbers and text: column 3 (\"x3\") is not a number; \
             a header row holds only column names, a data row only numbers"
        );
        // One column cannot mix: a lone non-number is a name. (A typo there
        // makes the label count one short, which load_labels_for refuses.)
        assert_eq!(labels("labels.csv", "3x\n1\n").unwrap(), vec![1]);
    }

    #[test]
    fn header_of_names_is_skipped_even_with_empty_names() {
        let d = load("digits.csv", "id,,name\n1,2,3\n").unwrap();
        assert_eq!((d.count, d.values), (1, vec![1.0, 2.0, 3.0]));
    }

    #[test]
    fn pandas_header_of_column_numbers_is_skipped() {
        let d = load("digits.csv", "0,1,2\n0.5,0.25,1\n4,5,6\n").unwrap();
        assert_eq!((d.count, d.sample(0)), (2, &[0.5, 0.25, 1.0][..]));
        // Quoted, as some writers do, and with spaces.
        assert_eq!(load("digits.csv", "\"0\", 1\n7,8\n").unwrap().count, 1);
        // Not 0..n-1: a data row.
        assert_eq!(load("digits.csv", "0,1,3\n4,5,6\n").unwrap().count, 2);
        assert_eq!(load("digits.csv", "1,2\n4,5\n").unwrap().count, 2);
        // n = 1 is a label or a value, not a header.
        assert_eq!(labels("labels.csv", "0\n1\n").unwrap(), vec![0, 1]);
    }

    #[test]
    fn limited_read_keeps_the_first_rows_and_says_whether_more_follow() {
        let dir = tempfile::tempdir().unwrap();
        // Rows after the limit are not parsed: the garbage there is not seen.
        let path = write(dir.path(), "digits.csv", b"a,b\n1,2\n\n3,4\n5,6\nnot,numbers\n");
        let d = load_data_limited(&path, Some(2)).unwrap();
        assert_eq!((d.count, d.total, d.values), (2, None, vec![1.0, 2.0, 3.0, 4.0]));
        let path = write(dir.path(), "small.csv", b"1,2\n3,4\n\n");
        let d = load_data_limited(&path, Some(2)).unwrap();
        assert_eq!((d.count, d.total), (2, Some(2)));
        let d = load_data_limited(&path, Some(10)).unwrap();
        assert_eq!((d.count, d.total), (2, Some(2)));
        assert_eq!(load_data(&path).unwrap().total, Some(2));
        let err = load_data_limited(&path, Some(0)).unwrap_err();
        assert_eq!(message(&err), "asked to load 0 samples; give 1 or more");
    }

    #[test]
    fn row_without_line_breaks_is_refused_at_the_row_limit() {
        // A gzip "bomb" of one endless row: reading stops at MAX_ROW_BYTES.
        let row = "1,".repeat(super::MAX_ROW_BYTES / 2 + 1024);
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "x.csv.gz", &gzip(row.as_bytes()));
        let err = load_data_limited(&path, Some(1)).unwrap_err();
        assert!(matches!(err, DataError::Format { .. }), "{err}");
        assert_eq!(
            message(&err),
            format!(
                "line 1 starts a row longer than {} bytes; rows must be separated by line breaks",
                super::MAX_ROW_BYTES
            )
        );
    }
}
