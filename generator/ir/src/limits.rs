//! Size limits for untrusted descriptions, and checked shape arithmetic.
//!
//! Sizes in model files and `net.json` are declared by whoever wrote the
//! file. Every product of declared sizes is computed in checked integers and
//! compared with these limits before anything is allocated from it, so that a
//! hostile file gets an error instead of a wrapped index, a capacity
//! overflow or a multi-gigabyte allocation.
//!
//! The limits are sized for real networks: a tensor between layers may hold
//! up to 2^28 values (a 224×224×64 activation map holds 3.2 M) and one layer
//! up to 2^30 parameters (well above 200 M), more than this tool chain's
//! hardware targets can hold but far below what would exhaust memory before
//! the declared data has been read. They are documented in `docs/security.md`.

/// Largest number of values one tensor (the input or a layer's output) may hold.
pub const MAX_TENSOR_VALUES: usize = 1 << 28;

/// Largest number of weights one layer may hold.
pub const MAX_LAYER_PARAMETERS: usize = 1 << 30;

/// The product of `dims`, or `None` when it does not fit in `usize`.
pub fn checked_product(dims: &[usize]) -> Option<usize> {
    dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

/// The number of values of a tensor of shape `dims`, checked against
/// [`MAX_TENSOR_VALUES`].
///
/// Errors name the shape and the limit, for the caller to prefix with where
/// the shape came from.
pub fn tensor_len(dims: &[usize]) -> Result<usize, String> {
    match checked_product(dims) {
        Some(n) if n <= MAX_TENSOR_VALUES => Ok(n),
        Some(n) => {
            Err(format!("shape {dims:?} holds {n} values; at most {MAX_TENSOR_VALUES} (2^28) are supported per tensor"))
        }
        None => Err(format!("shape {dims:?} holds more values than can be counted (the product overflows)")),
    }
}

/// The number of weights of a layer with `rows` rows of `row_len` weights,
/// checked against [`MAX_LAYER_PARAMETERS`].
pub fn parameter_count(rows: usize, row_len: usize) -> Result<usize, String> {
    match rows.checked_mul(row_len) {
        Some(n) if n <= MAX_LAYER_PARAMETERS => Ok(n),
        _ => Err(format!(
            "{rows} × {row_len} weights exceed the limit of {MAX_LAYER_PARAMETERS} (2^30) parameters per layer"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_that_wrap_are_refused() {
        assert_eq!(checked_product(&[16, 1 << 60]), None);
        assert!(tensor_len(&[16, 1 << 60]).unwrap_err().contains("overflows"));
        assert!(tensor_len(&[1_000_000_000]).unwrap_err().contains("2^28"));
        assert_eq!(tensor_len(&[3, 224, 224]), Ok(150_528));
        assert!(parameter_count(usize::MAX, 2).is_err());
        assert_eq!(parameter_count(10_000, 20_000), Ok(200_000_000));
    }
}
