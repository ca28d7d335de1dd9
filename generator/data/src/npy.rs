//! NumPy `.npy` files; the header is parsed with `ndarray-npy`'s parser, the
//! data decoded here.
//!
//! The header is parsed first because the element type is not known up
//! front: its `descr` picks how to decode the data, and its shape lets the
//! data length be checked against the file before anything is allocated, so
//! a corrupt header cannot trigger a huge allocation. The header length the
//! file declares is itself checked (at most 64 KiB; NumPy writes well under
//! 1 KiB and refuses more than 10 000 bytes by default) before it is read.
//! Axis 0 counts samples. C-ordered arrays are read only as far as the
//! samples kept need; Fortran-ordered arrays interleave samples, so they are
//! read whole (within [`MAX_VALUES`](super::MAX_VALUES)) and returned in
//! row-major order like all others.

use std::io::Read;

use ndarray::{ArrayD, IxDyn, ShapeBuilder};
use ndarray_npy::npy::header::{Header, ReadHeaderError};

use super::{DataError, Element, HEAD, Input, Raw, Short, Source, check_max_values, has_more, read_elements};

/// The first bytes of every `.npy` file.
const MAGIC: &[u8] = b"\x93NUMPY";

/// Whether `bytes` starts like a `.npy` file.
pub(super) fn has_magic(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// Element type and byte order (`true` for big-endian) for a NumPy type
/// descriptor such as `'<f4'`.
fn element_of(descr: &str) -> Option<(Element, bool)> {
    let big = descr.starts_with('>');
    Some(match descr {
        "|u1" | "u1" | "B" => (Element::U8, false),
        "|i1" | "i1" | "b" => (Element::I8, false),
        "<i2" | ">i2" => (Element::I16, big),
        "<i4" | ">i4" => (Element::I32, big),
        "<i8" | ">i8" => (Element::I64, big),
        "<f4" | ">f4" => (Element::F32, big),
        "<f8" | ">f8" => (Element::F64, big),
        _ => return None,
    })
}

/// Where the header ends, from the version and length fields after the
/// magic string, if `head` holds them (`None` lets the parser report it).
fn header_end(head: &[u8]) -> Option<usize> {
    match *head.get(6)? {
        1 => Some(10 + usize::from(u16::from_le_bytes(head.get(8..10)?.try_into().ok()?))),
        2 | 3 => Some(12 + u32::from_le_bytes(head.get(8..12)?.try_into().ok()?) as usize),
        _ => None,
    }
}

/// Parses a `.npy` file, keeping at most `limit` samples.
pub(super) fn parse(src: &Source, input: Input, limit: Option<usize>) -> Result<Raw, DataError> {
    let Input { head, mut rest, len } = input;
    // The parser allocates the length it reads; check it against what is here.
    if let Some(end) = header_end(&head).filter(|&end| end > head.len()) {
        let why = if head.len() < HEAD {
            "its header is cut short".to_owned()
        } else {
            format!("its header declares {end} bytes; at most {HEAD} are supported")
        };
        return Err(src.error(format!("not a valid .npy file: {why}")));
    }
    let mut header_bytes = &head[..];
    let header = Header::from_reader(&mut header_bytes).map_err(|e| {
        let why = match e {
            ReadHeaderError::Io(_) => "its header is cut short".to_owned(),
            ReadHeaderError::Parse(e) => format!("its header is invalid ({e})"),
        };
        src.error(format!("not a valid .npy file: {why}"))
    })?;
    let data_start = head.len() - header_bytes.len();
    let descr = header.type_descriptor.as_string().map(String::as_str);
    let Some((element, big_endian)) = descr.and_then(element_of) else {
        return Err(src.error(format!(
            "unsupported .npy element type {}; supported are uint8, int8, int16, int32, int64, \
             float32 and float64 (convert with e.g. array.astype(numpy.float32))",
            header.type_descriptor
        )));
    };
    let shape = header.shape;
    if shape.is_empty() {
        return Err(
            src.error("the array is a single number (shape ()), but the first axis must count samples".to_owned())
        );
    }
    let needed = shape
        .iter()
        .try_fold(super::element_size(element), |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| src.error(format!("the header declares shape {shape:?}, which is impossibly large")))?;
    let length_error = |problem: &str, found: String| {
        src.error(format!(
            "{problem}: shape {shape:?} of {element} needs {needed} bytes of data after the header \
             but {} has {found}",
            src.bytes_noun(),
        ))
    };
    if let Some(found) = len.map(|len| len.saturating_sub(data_start as u64)).filter(|&f| f != needed as u64) {
        let problem =
            if found < needed as u64 { "truncated .npy file" } else { ".npy file longer than its header says" };
        return Err(length_error(problem, found.to_string()));
    }
    let fortran = header.layout.is_fortran();
    let samples = shape[0];
    // Fortran order interleaves the samples: all of them must be read.
    let keep = limit.map_or(samples, |n| n.min(samples));
    let read = if fortran { samples } else { keep };
    // Cannot overflow: the product times the element size fits (needed).
    let sample_len: usize = shape[1..].iter().product();
    let n = check_max_values(src, &shape, read, sample_len)?;
    let mut values = Vec::new();
    let mut data = (&head[data_start..]).chain(&mut rest);
    let reserve = if len.is_some() { n } else { 1 << 16 };
    match read_elements(src, &mut data, element, big_endian, n, reserve, &mut values) {
        Ok(()) => {}
        Err(Short::Failed(e)) => return Err(e),
        Err(Short::Ended(got)) => return Err(length_error("truncated .npy file", got.to_string())),
    }
    if read == samples && len.is_none() && has_more(&mut data).map_err(|e| src.read_error(e))? {
        return Err(length_error(".npy file longer than its header says", "more".to_owned()));
    }
    if fortran {
        let array = ArrayD::from_shape_vec(IxDyn(&shape).f(), values)
            .map_err(|e| src.error(format!("not a valid .npy file: {e}")))?;
        // `iter` walks logical (row-major) order.
        values = array.iter().take(keep * sample_len).copied().collect();
    }
    let mut shape = shape;
    shape[0] = keep;
    Ok(Raw { shape, values, element, lines: None, total: Some(samples) })
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{gzip, message, write};
    use super::super::{DataError, Element, HEAD, MAX_VALUES, load_data, load_data_limited, load_labels};
    use ndarray::{Array, ArrayD, IxDyn, ShapeBuilder, arr1, arr2};
    use ndarray_npy::{WritableElement, WriteNpyExt};

    /// The `.npy` encoding of `array`.
    fn npy<T: WritableElement, D: ndarray::Dimension>(array: &Array<T, D>) -> Vec<u8> {
        let mut out = Vec::new();
        array.write_npy(&mut out).unwrap();
        out
    }

    fn load(name: &str, bytes: &[u8]) -> Result<super::super::Data, DataError> {
        let dir = tempfile::tempdir().unwrap();
        load_data(&write(dir.path(), name, bytes))
    }

    fn labels(name: &str, bytes: &[u8]) -> Result<Vec<usize>, DataError> {
        let dir = tempfile::tempdir().unwrap();
        load_labels(&write(dir.path(), name, bytes))
    }

    fn format_err(name: &str, bytes: &[u8]) -> String {
        let err = load(name, bytes).unwrap_err();
        assert!(matches!(err, DataError::Format { .. }), "{err}");
        message(&err)
    }

    fn labels_err(name: &str, bytes: &[u8]) -> String {
        let err = labels(name, bytes).unwrap_err();
        assert!(matches!(err, DataError::Labels { .. }), "{err}");
        message(&err)
    }

    #[test]
    fn u8_images_round_trip() {
        let a = ArrayD::from_shape_vec(IxDyn(&[2, 1, 2, 2]), (0u8..8).collect()).unwrap();
        let d = load("x.npy", &npy(&a)).unwrap();
        assert_eq!(d.element, Element::U8);
        assert_eq!((d.count, d.sample_shape.clone()), (2, vec![1, 2, 2]));
        assert_eq!(d.sample(1), &[4.0, 5.0, 6.0, 7.0]);
    }

    #[test]
    fn f32_round_trip() {
        let a = arr2(&[[0.5f32, -1.5, 2.0], [1e-3, 0.0, -0.0]]);
        let d = load("x.npy", &npy(&a)).unwrap();
        assert_eq!(d.element, Element::F32);
        assert_eq!((d.count, d.sample_shape.clone()), (2, vec![3]));
        assert_eq!(d.values, a.iter().map(|&v| f64::from(v)).collect::<Vec<_>>());
    }

    #[test]
    fn f64_round_trip() {
        let a = arr2(&[[0.1f64, 0.2], [0.3, 0.4]]);
        let d = load("x.npy", &npy(&a)).unwrap();
        assert_eq!(d.element, Element::F64);
        assert_eq!(d.values, vec![0.1, 0.2, 0.3, 0.4]);
    }

    #[test]
    fn i32_and_i64_round_trip() {
        let d = load("a.npy", &npy(&arr2(&[[-5i32, 7]]))).unwrap();
        assert_eq!((d.element, d.values), (Element::I32, vec![-5.0, 7.0]));
        let d = load("b.npy", &npy(&arr2(&[[-5i64], [1 << 40]]))).unwrap();
        assert_eq!((d.element, d.values), (Element::I64, vec![-5.0, (1u64 << 40) as f64]));
    }

    #[test]
    fn i8_and_i16_round_trip() {
        let d = load("a.npy", &npy(&arr1(&[-128i8, 127]))).unwrap();
        assert_eq!((d.element, d.values), (Element::I8, vec![-128.0, 127.0]));
        let d = load("b.npy", &npy(&arr1(&[-300i16, 300]))).unwrap();
        assert_eq!((d.element, d.values), (Element::I16, vec![-300.0, 300.0]));
    }

    #[test]
    fn one_dimensional_data_has_sample_shape_1() {
        let d = load("x.npy", &npy(&arr1(&[1.0f32, 2.0, 3.0]))).unwrap();
        assert_eq!((d.count, d.sample_shape.clone()), (3, vec![1]));
    }

    #[test]
    fn fortran_order_is_returned_row_major() {
        let a = Array::from_shape_vec((2, 3).f(), vec![1.0f64, 4.0, 2.0, 5.0, 3.0, 6.0]).unwrap();
        let bytes = npy(&a);
        assert!(
            String::from_utf8_lossy(&bytes).contains("'fortran_order': True"),
            "test must exercise a Fortran-ordered file"
        );
        let d = load("x.npy", &bytes).unwrap();
        assert_eq!(d.sample(0), &[1.0, 2.0, 3.0]);
        assert_eq!(d.sample(1), &[4.0, 5.0, 6.0]);
    }

    #[test]
    fn big_endian_round_trip() {
        // ndarray-npy writes native (little-endian) files; turn one into the
        // big-endian file a big-endian machine would write.
        let a = arr2(&[[1.5f32, -2.0]]);
        let mut bytes = npy(&a);
        let at = bytes.windows(3).position(|w| w == b"<f4").unwrap();
        bytes[at] = b'>';
        let data_start = bytes.len() - 8;
        for word in bytes[data_start..].chunks_exact_mut(4) {
            word.reverse();
        }
        let d = load("x.npy", &bytes).unwrap();
        assert_eq!(d.values, vec![1.5, -2.0]);
    }

    #[test]
    fn recognised_by_content_whatever_the_name() {
        let d = load("features.dat", &npy(&arr2(&[[1u8, 2]]))).unwrap();
        assert_eq!(d.values, vec![1.0, 2.0]);
    }

    #[test]
    fn gzipped_round_trip() {
        let a = arr2(&[[1.0f32, 2.0], [3.0, 4.0]]);
        let d = load("x.npy.gz", &gzip(&npy(&a))).unwrap();
        assert_eq!((d.count, d.values), (2, vec![1.0, 2.0, 3.0, 4.0]));
    }

    #[test]
    fn labels_integer_types() {
        assert_eq!(labels("y.npy", &npy(&arr1(&[3u8, 0, 9]))).unwrap(), vec![3, 0, 9]);
        assert_eq!(labels("y.npy", &npy(&arr1(&[3i32, 1]))).unwrap(), vec![3, 1]);
        assert_eq!(labels("y.npy", &npy(&arr1(&[7i64]))).unwrap(), vec![7]);
        assert_eq!(labels("y.npy.gz", &gzip(&npy(&arr1(&[2i64, 4])))).unwrap(), vec![2, 4]);
    }

    #[test]
    fn labels_integral_floats_and_column_vectors() {
        assert_eq!(labels("y.npy", &npy(&arr1(&[3.0f32, 0.0]))).unwrap(), vec![3, 0]);
        assert_eq!(labels("y.npy", &npy(&arr2(&[[1.0f64], [2.0]]))).unwrap(), vec![1, 2]);
    }

    #[test]
    fn fractional_label() {
        assert_eq!(
            labels_err("y.npy", &npy(&arr1(&[1.0f32, 2.0, 3.5]))),
            "label 2 (counting from 0) is 3.5, but labels must be whole numbers (class indices 0, 1, 2, ...)"
        );
    }

    #[test]
    fn nan_label() {
        assert_eq!(
            labels_err("y.npy", &npy(&arr1(&[f64::NAN]))),
            "label 0 (counting from 0) is NaN, but labels must be whole numbers (class indices 0, 1, 2, ...)"
        );
    }

    #[test]
    fn negative_label() {
        assert_eq!(
            labels_err("y.npy", &npy(&arr1(&[4i32, -1]))),
            "label 1 (counting from 0) is -1, but labels must not be negative (class indices 0, 1, 2, ...)"
        );
    }

    #[test]
    fn huge_label() {
        assert_eq!(
            labels_err("y.npy", &npy(&arr1(&[1i64 << 53]))),
            "label 0 (counting from 0) is 9007199254740992, which is too large to be a class index"
        );
        assert_eq!(labels("y.npy", &npy(&arr1(&[(1i64 << 53) - 1]))).unwrap(), vec![(1usize << 53) - 1]);
    }

    #[test]
    fn one_hot_labels_are_rejected_with_a_hint() {
        assert_eq!(
            labels_err("y.npy", &npy(&arr2(&[[0u8, 1], [1, 0]]))),
            "a labels file needs one label per sample (shape [N]), but this array has shape [2, 2]; \
             if the labels are one-hot rows, convert them to class indices first \
             (e.g. numpy.argmax(labels, axis=1))"
        );
    }

    #[test]
    fn unsupported_element_type() {
        assert_eq!(
            format_err("x.npy", &npy(&arr1(&[1u32, 2]))),
            "unsupported .npy element type '<u4'; supported are uint8, int8, int16, int32, int64, \
             float32 and float64 (convert with e.g. array.astype(numpy.float32))"
        );
        assert!(format_err("x.npy", &npy(&arr1(&[true]))).starts_with("unsupported .npy element type '|b1'"));
    }

    #[test]
    fn truncated_data() {
        let mut bytes = npy(&arr2(&[[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]]));
        bytes.truncate(bytes.len() - 5);
        assert_eq!(
            format_err("x.npy", &bytes),
            "truncated .npy file: shape [2, 3] of f32 needs 24 bytes of data after the header but the file has 19"
        );
    }

    #[test]
    fn trailing_bytes() {
        let mut bytes = npy(&arr1(&[1u8, 2]));
        bytes.push(0);
        assert_eq!(
            format_err("x.npy", &bytes),
            ".npy file longer than its header says: shape [2] of u8 needs 2 bytes of data after the header but the file has 3"
        );
    }

    #[test]
    fn truncated_header() {
        let bytes = npy(&arr1(&[1u8, 2]));
        assert_eq!(format_err("x.npy", &bytes[..20]), "not a valid .npy file: its header is cut short");
    }

    #[test]
    fn npy_name_without_npy_content() {
        let msg = format_err("x.npy", b"1,2,3\n");
        assert!(msg.starts_with("not a valid .npy file: its header is invalid ("), "{msg}");
    }

    #[test]
    fn scalar_array() {
        let a = ArrayD::from_shape_vec(IxDyn(&[]), vec![1.0f32]).unwrap();
        assert_eq!(
            format_err("x.npy", &npy(&a)),
            "the array is a single number (shape ()), but the first axis must count samples"
        );
    }

    #[test]
    fn zero_samples_and_zero_sized_samples() {
        let a = ArrayD::<f32>::zeros(IxDyn(&[0, 3]));
        assert!(matches!(load("x.npy", &npy(&a)), Err(DataError::Empty { .. })));
        assert!(matches!(labels("x.npy", &npy(&a)), Err(DataError::Empty { .. })));
        let a = ArrayD::<f32>::zeros(IxDyn(&[4, 0]));
        assert_eq!(format_err("x.npy", &npy(&a)), "each sample has no values (sample shape [0])");
    }

    #[test]
    fn infinity_in_data_names_sample_and_index() {
        let a = arr2(&[[0.0f64, 1.0], [f64::NEG_INFINITY, 2.0]]);
        assert_eq!(
            format_err("x.npy", &npy(&a)),
            "sample 1 (counting from 0) has -infinity at index [0]; data must not contain NaN or infinite values"
        );
    }

    #[test]
    fn limited_read_in_c_and_fortran_order() {
        let dir = tempfile::tempdir().unwrap();
        let c = arr2(&[[1.0f32, 2.0], [3.0, 4.0], [5.0, 6.0]]);
        let path = write(dir.path(), "c.npy", &npy(&c));
        let d = load_data_limited(&path, Some(2)).unwrap();
        assert_eq!((d.count, d.total, d.values), (2, Some(3), vec![1.0, 2.0, 3.0, 4.0]));
        let f = Array::from_shape_vec((3, 2).f(), vec![1.0f64, 3.0, 5.0, 2.0, 4.0, 6.0]).unwrap();
        let path = write(dir.path(), "f.npy.gz", &gzip(&npy(&f)));
        let d = load_data_limited(&path, Some(2)).unwrap();
        assert_eq!((d.count, d.total, d.values), (2, Some(3), vec![1.0, 2.0, 3.0, 4.0]));
    }

    #[test]
    fn gzip_bomb_with_a_limit_and_declared_size_above_max_values() {
        // Declares 1 000 000 × 784 f32 (784 million values); holds 30 samples.
        let mut dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2000000, 784), }".to_owned();
        while !(10 + dict.len() + 1).is_multiple_of(64) {
            dict.push(' ');
        }
        dict.push('\n');
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        bytes.extend_from_slice(dict.as_bytes());
        bytes.resize(bytes.len() + 30 * 784 * 4, 0);
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "x.npy.gz", &gzip(&bytes));
        let d = load_data_limited(&path, Some(10)).unwrap();
        assert_eq!((d.count, d.total, d.values.len()), (10, Some(2_000_000), 7840));
        assert!(load_data_limited(&path, Some(30)).is_ok());
        let err = load_data(&path).unwrap_err();
        assert_eq!(
            message(&err),
            format!(
                "the header declares shape [2000000, 784]; loading 2000000 samples of 784 values would exceed \
                 the limit of {MAX_VALUES} values (2^30) that ttfs loads at once; load fewer samples (--count)"
            )
        );
        // A limit the data do not back is a truncation, not a hang or a panic.
        let err = load_data_limited(&path, Some(31)).unwrap_err();
        assert!(message(&err).starts_with("truncated .npy file: shape [2000000, 784] of f32"), "{err}");
    }

    #[test]
    fn huge_declared_header_length_is_refused_before_allocating() {
        // Version 2 header declaring 4 GiB of header text.
        let mut bytes = b"\x93NUMPY\x02\x00".to_vec();
        bytes.extend_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
        bytes.extend_from_slice(b"{'descr': '<f4'");
        assert_eq!(format_err("x.npy", &bytes), "not a valid .npy file: its header is cut short");
        bytes.resize(HEAD + 100, b' ');
        assert_eq!(
            format_err("x.npy", &bytes),
            format!("not a valid .npy file: its header declares 4294967292 bytes; at most {HEAD} are supported")
        );
    }
}
