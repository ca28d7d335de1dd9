//! IDX files, the format of LeCun's MNIST distribution
//! (`train-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, ...).
//!
//! Layout: two zero bytes, a type byte (0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32,
//! 0x0D f32, 0x0E f64), a byte giving the number of dimensions, then each
//! dimension as a big-endian `u32`, then the data, big-endian, row-major.
//! The first dimension counts samples. The file length must match the header
//! exactly: a short file is almost always an interrupted download, and a long
//! one a wrong header, so neither is silently accepted. An uncompressed file's
//! length is checked before its data is read; a gzip stream is read only as
//! far as the header declares (or as the samples kept need) and must end there.

use std::io::Read;

use super::{DataError, Element, Input, Raw, Short, Source, check_max_values, has_more, read_elements};

/// Length of the fixed part of the header (magic, type, number of dims).
const PREFIX: usize = 4;

/// A decoded, self-consistent IDX header.
struct Header {
    element: Element,
    dims: Vec<usize>,
    /// Offset of the first data byte.
    data_start: usize,
    /// Total file length the header implies (checked arithmetic: it fits).
    total: usize,
}

/// The element type for an IDX type code.
fn element_of(code: u8) -> Option<Element> {
    Some(match code {
        0x08 => Element::U8,
        0x09 => Element::I8,
        0x0B => Element::I16,
        0x0C => Element::I32,
        0x0D => Element::F32,
        0x0E => Element::F64,
        _ => return None,
    })
}

/// Decodes the header from the first bytes of the file (`head`, which holds
/// the whole header when the file has one: at most 1 KiB), or says in words
/// what is wrong with it.
fn read_header(src: &Source, bytes: &[u8]) -> Result<Header, String> {
    let noun = src.bytes_noun();
    if bytes.len() < PREFIX {
        return Err(format!(
            "too short to be an IDX file: {noun} has {} bytes but the header alone needs at least {PREFIX}",
            bytes.len()
        ));
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        return Err(format!(
            "not an IDX file: IDX files start with two zero bytes, but this one starts with 0x{:02X} 0x{:02X}",
            bytes[0], bytes[1]
        ));
    }
    let Some(element) = element_of(bytes[2]) else {
        return Err(format!(
            "unknown IDX element type code 0x{:02X}; known codes are 0x08 (u8), 0x09 (i8), \
             0x0B (i16), 0x0C (i32), 0x0D (f32) and 0x0E (f64)",
            bytes[2]
        ));
    };
    let ndims = usize::from(bytes[3]);
    if ndims == 0 {
        return Err("the IDX header declares 0 dimensions; at least 1 is needed (the first counts samples)".to_owned());
    }
    let data_start = PREFIX + 4 * ndims;
    if bytes.len() < data_start {
        return Err(format!(
            "truncated IDX header: {ndims} dimensions need {data_start} header bytes but {noun} has only {}",
            bytes.len()
        ));
    }
    let dims: Vec<usize> = bytes[PREFIX..data_start]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let total = dims
        .iter()
        .try_fold(super::element_size(element), |acc, &d| acc.checked_mul(d))
        .and_then(|data_len| data_len.checked_add(data_start))
        .ok_or_else(|| format!("the IDX header declares shape {dims:?}, which is impossibly large"))?;
    Ok(Header { element, dims, data_start, total })
}

/// Whether a file starting with `head` (of total length `len`, if known) is
/// an IDX file. Strict on purpose, because this is used to recognise IDX
/// files whatever their name: the header must be well-formed and the length
/// must match it exactly; when the length is unknown (a long gzip stream) the
/// header must declare more than `head` holds.
pub(super) fn looks_like(head: &[u8], len: Option<u64>) -> bool {
    let probe = Source { path: Default::default(), gunzipped: false };
    read_header(&probe, head).is_ok_and(|h| match len {
        Some(len) => h.total as u64 == len,
        None => h.total > head.len(),
    })
}

/// Parses an IDX file, keeping at most `limit` samples and reading only the
/// header and those samples (plus one byte, to check that a whole gzip stream
/// ends where its header says).
pub(super) fn parse(src: &Source, input: Input, limit: Option<usize>) -> Result<Raw, DataError> {
    let Input { head, mut rest, len } = input;
    let h = read_header(src, &head).map_err(|m| src.error(m))?;
    let length_error = |problem: &str, found: String| {
        src.error(format!(
            "{problem}: shape {:?} of {} needs {} bytes in total but {} has {found} bytes",
            h.dims,
            h.element,
            h.total,
            src.bytes_noun(),
        ))
    };
    // Known length (an uncompressed file, or a short stream): check it
    // against the header before anything is read or allocated.
    if let Some(len) = len.filter(|&len| len != h.total as u64) {
        let problem = if len < h.total as u64 { "truncated IDX file" } else { "IDX file longer than its header says" };
        return Err(length_error(problem, len.to_string()));
    }
    let samples = h.dims[0];
    let keep = limit.map_or(samples, |n| n.min(samples));
    // Cannot overflow: the product times the element size fits (h.total).
    let sample_len: usize = h.dims[1..].iter().product();
    let n = check_max_values(src, &h.dims, keep, sample_len)?;
    let mut values = Vec::new();
    let mut data = (&head[h.data_start..]).chain(&mut rest);
    // A verified length backs the whole reservation; otherwise grow as read.
    let reserve = if len.is_some() { n } else { 1 << 16 };
    match read_elements(src, &mut data, h.element, true, n, reserve, &mut values) {
        Ok(()) => {}
        Err(Short::Failed(e)) => return Err(e),
        Err(Short::Ended(got)) => {
            return Err(length_error("truncated IDX file", (h.data_start as u64 + got).to_string()));
        }
    }
    if keep == samples && len.is_none() && has_more(&mut data).map_err(|e| src.read_error(e))? {
        return Err(length_error("IDX file longer than its header says", "more".to_owned()));
    }
    let mut shape = h.dims;
    shape[0] = keep;
    Ok(Raw { shape, values, element: h.element, lines: None, total: Some(samples) })
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{gzip, message, write};
    use super::super::{
        DataError, Element, HEAD, Input, MAX_VALUES, Source, load_data, load_data_limited, load_labels,
    };
    use std::cell::Cell;
    use std::io::Read;
    use std::rc::Rc;

    /// An IDX file with type `code`, shape `dims` and already-encoded `data`.
    fn idx(code: u8, dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut out = vec![0, 0, code, dims.len() as u8];
        for d in dims {
            out.extend_from_slice(&d.to_be_bytes());
        }
        out.extend_from_slice(data);
        out
    }

    fn load(name: &str, bytes: &[u8]) -> Result<super::super::Data, DataError> {
        let dir = tempfile::tempdir().unwrap();
        load_data(&write(dir.path(), name, bytes))
    }

    fn load_err(name: &str, bytes: &[u8]) -> String {
        let err = load(name, bytes).unwrap_err();
        assert!(matches!(err, DataError::Format { .. }), "{err}");
        message(&err)
    }

    #[test]
    fn u8_images_round_trip() {
        let data: Vec<u8> = (0..12).map(|v| v * 20).collect();
        let d = load("train-images-idx3-ubyte", &idx(0x08, &[2, 2, 3], &data)).unwrap();
        assert_eq!(d.count, 2);
        assert_eq!(d.sample_shape, vec![2, 3]);
        assert_eq!(d.element, Element::U8);
        assert_eq!(d.sample(1), &[120.0, 140.0, 160.0, 180.0, 200.0, 220.0]);
        assert!(d.path.ends_with("train-images-idx3-ubyte"));
    }

    #[test]
    fn i8_round_trip() {
        let d = load("x.idx", &idx(0x09, &[2, 2], &[0x80, 0xFF, 0, 127])).unwrap();
        assert_eq!(d.element, Element::I8);
        assert_eq!(d.values, vec![-128.0, -1.0, 0.0, 127.0]);
    }

    #[test]
    fn i16_round_trip() {
        let data: Vec<u8> = [-300i16, 7].iter().flat_map(|v| v.to_be_bytes()).collect();
        let d = load("x.idx", &idx(0x0B, &[2], &data)).unwrap();
        assert_eq!(d.element, Element::I16);
        assert_eq!(d.values, vec![-300.0, 7.0]);
    }

    #[test]
    fn i32_round_trip() {
        let data: Vec<u8> = [-70000i32, 5, 1 << 30].iter().flat_map(|v| v.to_be_bytes()).collect();
        let d = load("x.idx", &idx(0x0C, &[1, 3], &data)).unwrap();
        assert_eq!(d.element, Element::I32);
        assert_eq!(d.values, vec![-70000.0, 5.0, f64::from(1 << 30)]);
    }

    #[test]
    fn f32_round_trip() {
        let data: Vec<u8> = [0.5f32, -1.25, 3.0, 1e-3].iter().flat_map(|v| v.to_be_bytes()).collect();
        let d = load("x.idx", &idx(0x0D, &[2, 1, 2], &data)).unwrap();
        assert_eq!(d.element, Element::F32);
        assert_eq!(d.sample_shape, vec![1, 2]);
        assert_eq!(d.values, vec![0.5, -1.25, 3.0, f64::from(1e-3f32)]);
    }

    #[test]
    fn f64_round_trip() {
        let data: Vec<u8> = [0.1f64, -2.5].iter().flat_map(|v| v.to_be_bytes()).collect();
        let d = load("x.idx", &idx(0x0E, &[2], &data)).unwrap();
        assert_eq!(d.element, Element::F64);
        assert_eq!(d.values, vec![0.1, -2.5]);
    }

    #[test]
    fn one_dimensional_data_has_sample_shape_1() {
        let d = load("x-idx1-ubyte", &idx(0x08, &[3], &[1, 2, 3])).unwrap();
        assert_eq!((d.count, d.sample_shape.clone()), (3, vec![1]));
    }

    #[test]
    fn recognised_by_content_whatever_the_name() {
        let d = load("mnist.bin", &idx(0x08, &[1, 2], &[1, 2])).unwrap();
        assert_eq!(d.values, vec![1.0, 2.0]);
    }

    #[test]
    fn gzipped_round_trip() {
        let raw = idx(0x08, &[2, 2, 2], &[1, 2, 3, 4, 5, 6, 7, 8]);
        let d = load("train-images-idx3-ubyte.gz", &gzip(&raw)).unwrap();
        assert_eq!((d.count, d.sample_shape.clone()), (2, vec![2, 2]));
        assert_eq!(d.values, (1..=8).map(f64::from).collect::<Vec<_>>());
    }

    #[test]
    fn labels_round_trip_plain_and_gzipped() {
        let dir = tempfile::tempdir().unwrap();
        let raw = idx(0x08, &[4], &[5, 0, 4, 9]);
        let plain = write(dir.path(), "t10k-labels-idx1-ubyte", &raw);
        assert_eq!(load_labels(&plain).unwrap(), vec![5, 0, 4, 9]);
        let packed = write(dir.path(), "t10k-labels-idx1-ubyte.gz", &gzip(&raw));
        assert_eq!(load_labels(&packed).unwrap(), vec![5, 0, 4, 9]);
    }

    #[test]
    fn negative_label_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "labels-idx1-ubyte", &idx(0x09, &[3], &[1, 0xFF, 2]));
        let err = load_labels(&path).unwrap_err();
        assert!(matches!(err, DataError::Labels { .. }));
        assert_eq!(
            message(&err),
            "label 1 (counting from 0) is -1, but labels must not be negative (class indices 0, 1, 2, ...)"
        );
    }

    #[test]
    fn image_file_given_as_labels_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "images-idx3-ubyte", &idx(0x08, &[1, 2, 2], &[0; 4]));
        let err = load_labels(&path).unwrap_err();
        assert!(matches!(err, DataError::Labels { .. }));
        assert!(
            message(&err).starts_with(
                "a labels file needs one label per sample (shape [N]), but this array has shape [1, 2, 2];"
            ),
            "{err}"
        );
    }

    #[test]
    fn bad_magic() {
        assert_eq!(
            load_err("train-images-idx3-ubyte", &[0x01, 0x00, 0x08, 0x01, 0, 0, 0, 0]),
            "not an IDX file: IDX files start with two zero bytes, but this one starts with 0x01 0x00"
        );
    }

    #[test]
    fn truncated_data_names_expected_and_found_bytes() {
        // 2×28×28 u8 images need 16 + 1568 bytes; cut the last image short.
        let raw = idx(0x08, &[2, 28, 28], &vec![7u8; 2 * 784 - 100]);
        assert_eq!(
            load_err("train-images-idx3-ubyte", &raw),
            "truncated IDX file: shape [2, 28, 28] of u8 needs 1584 bytes in total but the file has 1484 bytes"
        );
    }

    #[test]
    fn truncated_gzipped_data_says_decompressed() {
        let raw = idx(0x0D, &[2, 3], &[0; 20]);
        assert_eq!(
            load_err("x-idx2-float.gz", &gzip(&raw)),
            "truncated IDX file: shape [2, 3] of f32 needs 36 bytes in total but the decompressed file has 32 bytes"
        );
    }

    #[test]
    fn trailing_bytes_are_an_error() {
        let raw = idx(0x08, &[2], &[1, 2, 3]);
        assert_eq!(
            load_err("labels-idx1-ubyte", &raw),
            "IDX file longer than its header says: shape [2] of u8 needs 10 bytes in total but the file has 11 bytes"
        );
    }

    #[test]
    fn unknown_type_code() {
        assert_eq!(
            load_err("x-idx1-ubyte", &idx(0x0A, &[1], &[0])),
            "unknown IDX element type code 0x0A; known codes are 0x08 (u8), 0x09 (i8), \
             0x0B (i16), 0x0C (i32), 0x0D (f32) and 0x0E (f64)"
        );
    }

    #[test]
    fn zero_dimensions() {
        assert_eq!(
            load_err("x.idx", &[0, 0, 0x08, 0]),
            "the IDX header declares 0 dimensions; at least 1 is needed (the first counts samples)"
        );
    }

    #[test]
    fn truncated_header() {
        assert_eq!(
            load_err("x-idx3-ubyte", &[0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0]),
            "truncated IDX header: 3 dimensions need 16 header bytes but the file has only 10"
        );
    }

    #[test]
    fn too_short() {
        assert_eq!(
            load_err("x-idx1-ubyte", &[0, 0]),
            "too short to be an IDX file: the file has 2 bytes but the header alone needs at least 4"
        );
    }

    #[test]
    fn absurd_dimensions_do_not_panic_or_allocate() {
        let raw = idx(0x0E, &[u32::MAX, u32::MAX, u32::MAX, u32::MAX], &[]);
        let msg = load_err("x-idx4-double", &raw);
        assert!(
            msg.starts_with("the IDX header declares shape [4294967295, 4294967295,")
                && msg.ends_with("which is impossibly large"),
            "{msg}"
        );
        // Large but representable: a length mismatch, not an allocation.
        let raw = idx(0x08, &[60000, 28, 28], &[0; 10]);
        assert!(load_err("x-idx3-ubyte", &raw).starts_with("truncated IDX file"));
    }

    #[test]
    fn zero_samples_is_empty() {
        let err = load("x-idx3-ubyte", &idx(0x08, &[0, 28, 28], &[])).unwrap_err();
        assert!(matches!(err, DataError::Empty { .. }), "{err}");
    }

    #[test]
    fn nan_in_data_names_sample_and_index() {
        let data: Vec<u8> = [0.0f32, 1.0, 2.0, 3.0, 4.0, f32::NAN].iter().flat_map(|v| v.to_be_bytes()).collect();
        assert_eq!(
            load_err("x.idx", &idx(0x0D, &[2, 1, 3], &data)),
            "sample 1 (counting from 0) has NaN at index [0, 2]; data must not contain NaN or infinite values"
        );
    }

    /// A consistent IDX header for `dims` f64 data followed by `samples`
    /// samples of zeros (the rest of the declared data missing), gzipped.
    /// With more than [`HEAD`] bytes the reader cannot see the stream's end
    /// without reading on, as with a whole (huge) file.
    fn f64_bomb(dims: &[u32], samples: usize) -> Vec<u8> {
        let sample_bytes = 8 * dims[1..].iter().map(|&d| d as usize).product::<usize>();
        gzip(&idx(0x0E, dims, &vec![0; samples * sample_bytes]))
    }

    #[test]
    fn gzip_bomb_with_a_limit_reads_only_the_samples_kept() {
        let dir = tempfile::tempdir().unwrap();
        // Declares 60000 × 28 × 28 f64 (376 MB); holds only 12 samples.
        let path = write(dir.path(), "train-images-idx3-double.gz", &f64_bomb(&[60000, 28, 28], 12));
        let d = load_data_limited(&path, Some(10)).unwrap();
        assert_eq!((d.count, d.total, d.values.len()), (10, Some(60000), 10 * 784));
        assert_eq!((d.sample_shape, d.element), (vec![28, 28], Element::F64));
        // Without the limit the whole declared stream is needed, and is not there.
        let err = load_data(&path).unwrap_err();
        assert_eq!(
            message(&err),
            "truncated IDX file: shape [60000, 28, 28] of f64 needs 376320016 bytes in total \
             but the decompressed file has 75280 bytes"
        );
    }

    #[test]
    fn declared_size_above_max_values_is_refused_before_reading_unless_limited() {
        let dir = tempfile::tempdir().unwrap();
        let dims = [2_000_000, 28, 28];
        const { assert!(2_000_000 * 784 > MAX_VALUES) };
        let path = write(dir.path(), "x-idx3-double.gz", &f64_bomb(&dims, 12));
        let d = load_data_limited(&path, Some(3)).unwrap();
        assert_eq!((d.count, d.total), (3, Some(2_000_000)));
        let err = load_data(&path).unwrap_err();
        assert_eq!(
            message(&err),
            format!(
                "the header declares shape [2000000, 28, 28]; loading 2000000 samples of 784 values would exceed \
                 the limit of {MAX_VALUES} values (2^30) that ttfs loads at once; load fewer samples (--count)"
            )
        );
        // Uncompressed, the file's length is checked against the header first.
        let path = write(dir.path(), "y-idx3-double", &idx(0x0E, &dims, &[0; 8 * 784]));
        assert!(message(&load_data(&path).unwrap_err()).starts_with("truncated IDX file: shape [2000000, 28, 28]"));
    }

    /// An endless stream of zero bytes that counts what is read from it.
    struct Zeros(Rc<Cell<u64>>);

    impl Read for Zeros {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            buf.fill(0);
            self.0.set(self.0.get() + buf.len() as u64);
            Ok(buf.len())
        }
    }

    #[test]
    fn a_limited_read_takes_exactly_the_bytes_of_the_samples_kept() {
        let mut head = idx(0x0E, &[60000, 28, 28], &[]);
        head.resize(HEAD, 0);
        let read = Rc::new(Cell::new(0));
        let input = Input { head, rest: Box::new(Zeros(read.clone())), len: None };
        let src = Source { path: "stream".into(), gunzipped: true };
        let raw = super::parse(&src, input, Some(100)).unwrap();
        assert_eq!((raw.shape, raw.values.len(), raw.total), (vec![100, 28, 28], 100 * 784, Some(60000)));
        // 100 samples of 6272 bytes, less the part already in the head.
        assert_eq!(read.get(), 100 * 6272 - (HEAD as u64 - 16));
    }

    #[test]
    fn gzip_stream_longer_than_its_header_is_an_error() {
        let raw = idx(0x08, &[2], &vec![1; 2 + 2 * HEAD]);
        assert_eq!(
            load_err("labels-idx1-ubyte.gz", &gzip(&raw)),
            "IDX file longer than its header says: shape [2] of u8 needs 10 bytes in total \
             but the decompressed file has more bytes"
        );
        // Exactly as long as declared (and longer than the head): fine.
        let raw = idx(0x08, &[3 * HEAD as u32], &vec![1; 3 * HEAD]);
        let d = load("x-idx1-ubyte.gz", &gzip(&raw)).unwrap();
        assert_eq!((d.count, d.total), (3 * HEAD, Some(3 * HEAD)));
    }

    #[test]
    fn limited_uncompressed_read_still_checks_the_length() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "x-idx2-ubyte", &idx(0x08, &[3, 2], &[1, 2, 3, 4, 5]));
        let err = load_data_limited(&path, Some(1)).unwrap_err();
        assert!(message(&err).starts_with("truncated IDX file"), "{err}");
        let path = write(dir.path(), "y-idx2-ubyte", &idx(0x08, &[3, 2], &[1, 2, 3, 4, 5, 6]));
        let d = load_data_limited(&path, Some(2)).unwrap();
        assert_eq!((d.count, d.total, d.values), (2, Some(3), vec![1.0, 2.0, 3.0, 4.0]));
    }
}
