//! Comma-separated text (`.csv`, `.txt`): one sample per row.
//!
//! Rules: fields are decimal numbers separated by commas, with optional
//! whitespace around them (and optional CSV quoting); empty and
//! whitespace-only lines are skipped; if the first row has any non-empty field
//! that is not a number it is a header and is skipped; every other row must
//! have as many columns as the first data row. A UTF-8 byte-order mark (as
//! written by Excel) is ignored. The sample shape is `[columns]`.
//!
//! Errors point at 1-based line and column numbers, as a text editor shows
//! them.

use ::csv::{ByteRecord, ReaderBuilder, Trim};

use super::{DataError, Element, Raw, Source};

/// Longest field text quoted in an error message; a whole row that failed to
/// split (e.g. space-separated) would otherwise flood the terminal.
const MAX_SHOWN: usize = 40;

/// Parses a whole CSV file held in `bytes`.
pub(super) fn parse(src: &Source, bytes: &[u8]) -> Result<Raw, DataError> {
    // Without this the BOM sticks to the first field, which then is not a
    // number, and the first data row would be silently skipped as a header.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = ReaderBuilder::new()
        .has_headers(false)
        // Ragged rows are checked here, to report them in our own words.
        .flexible(true)
        .trim(Trim::All)
        .from_reader(bytes);
    let mut record = ByteRecord::new();
    let mut values = Vec::new();
    let mut lines = Vec::new();
    // Column count of the first data row, and its line.
    let mut columns: Option<(usize, u64)> = None;
    let mut seen_first_row = false;
    let mut line_of = LineCounter::new(bytes);
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(src.error(format!("cannot be read as CSV: {e}"))),
        }
        let line = line_of.record_at(record.position().map_or(0, |p| p.byte()));
        // The csv crate skips truly empty lines; this skips whitespace-only ones.
        if record.len() == 1 && record[0].is_empty() {
            continue;
        }
        if !seen_first_row {
            seen_first_row = true;
            let is_header = record.iter().any(|field| !field.is_empty() && number(field).is_none());
            if is_header {
                continue;
            }
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
        for (i, field) in record.iter().enumerate() {
            values.push(field_value(src, field, line, i + 1)?);
        }
        lines.push(line);
    }
    Ok(Raw {
        shape: vec![lines.len(), columns.map_or(0, |(n, _)| n)],
        values,
        element: Element::Text,
        lines: Some(lines),
    })
}

/// Finds the 1-based line on which a record starts.
///
/// The csv crate's own `Position::line` does not count the empty lines it
/// skips (and miscounts CRLF files), and `Position::byte` points at the end of
/// the previous record, before those empty lines. So the line is computed
/// here: skip the line breaks after that offset, then count line breaks from
/// the start. Offsets only grow, so counting resumes where it stopped and the
/// whole file is scanned once.
struct LineCounter<'a> {
    bytes: &'a [u8],
    /// Offset up to which line breaks have been counted.
    pos: usize,
    /// The line that `pos` is on.
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        LineCounter { bytes, pos: 0, line: 1 }
    }

    /// The line of the record that the csv crate reports at byte `offset`.
    fn record_at(&mut self, offset: u64) -> u64 {
        let offset = usize::try_from(offset).unwrap_or(usize::MAX).clamp(self.pos, self.bytes.len());
        let blank = self.bytes[offset..].iter().take_while(|&&b| b == b'\r' || b == b'\n').count();
        let start = offset + blank;
        let span = &self.bytes[self.pos..start];
        // "\r\n" is one break: count every '\n' and every '\r' not followed by one.
        let breaks = span
            .iter()
            .enumerate()
            .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && span.get(i + 1) != Some(&b'\n')))
            .count();
        self.line += breaks as u64;
        self.pos = start;
        self.line
    }
}

/// The field as a number, if it is one. `NaN` and `inf` parse here; they are
/// numbers syntactically, and rejected later with a clearer message.
fn number(field: &[u8]) -> Option<f64> {
    std::str::from_utf8(field).ok()?.parse().ok()
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
    let shown: String = if text.chars().count() > MAX_SHOWN {
        text.chars().take(MAX_SHOWN).chain("...".chars()).collect()
    } else {
        text.to_string()
    };
    // Other separators are the usual reason a row of numbers is "not a number".
    let hint = if text.contains([' ', '\t', ';']) { " (fields must be separated by commas)" } else { "" };
    Err(src.error(format!("line {line}, column {column}: {shown:?} is not a number{hint}")))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{gzip, message, write};
    use super::super::{Data, DataError, Element, load_data, load_labels};

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
}
