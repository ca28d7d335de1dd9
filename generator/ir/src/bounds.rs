//! Worst-case bounds of the integer semantics and the register widths that
//! follow from them.
//!
//! For neuron i of a layer reading T_in-tick inputs, with integer weights W,
//! bias b and (hidden layers) firing parameters T_n, β_n:
//! - the slope register holds partial sums of weights: `|I| ≤ Σ_j |W_ij|`;
//! - in phase 1 the potential starts at b and adds I once per tick:
//!   `|V| ≤ |b_i| + Σ_j |W_ij|·T_in`;
//! - in phase 2 the potential rises by β until it reaches `T_n·β_n`, so it
//!   never exceeds `T_n·β_n + β_n − 1` unless it started higher (then it fires
//!   at once and keeps its phase-1 value).
//!
//! Widths sized from these bounds make overflow impossible by construction.

use crate::{Fire, Widths};

/// Bits of a signed two's-complement register that holds every value in
/// `[−max_abs, max_abs]`.
pub fn signed_bits(max_abs: i64) -> u32 {
    let magnitude = max_abs.unsigned_abs();
    // Need 2^(b−1) − 1 ≥ magnitude, i.e. b − 1 ≥ bit length of magnitude.
    (u64::BITS - magnitude.leading_zeros()) + 1
}

/// The largest magnitude a `weight_bits`-bit symmetric weight may have.
pub fn max_weight(weight_bits: u32) -> i64 {
    (1i64 << (weight_bits - 1)) - 1
}

/// Register widths for one weight layer.
///
/// `weights` is row-major with one row of `row_len` weights per output
/// channel; `bias_rows[c]` lists every bias value channel `c` can start from
/// (one for a uniform bias, one per position for a bias map). `ticks_in` is
/// T of the layer's input window. Assumes `weights.len()` is a multiple of
/// `row_len` and `bias_rows.len()` equals the number of rows.
///
/// The bounds are computed in 128-bit integers. Errors (naming the channel
/// and the bound) when a worst case does not fit the signed 64-bit registers
/// of the simulators: such a layer cannot be computed exactly, so it is
/// refused rather than allowed to wrap.
pub fn layer_widths(
    weights: &[i32],
    row_len: usize,
    bias_rows: &[Vec<i64>],
    weight_bits: u32,
    ticks_in: u32,
    fire: Option<&Fire>,
) -> Result<Widths, String> {
    let fits = |what: String, value: i128| {
        i64::try_from(value).map_err(|_| {
            format!("{what} is {value}, beyond the signed 64-bit range of the integer simulators (±{})", i64::MAX)
        })
    };
    let mut max_abs_current = 0i64;
    let mut max_abs_potential = 0i64;
    let mut max_abs_bias = 0i64;
    for (channel, (row, biases)) in weights.chunks(row_len.max(1)).zip(bias_rows).enumerate() {
        let current: i128 = row.iter().map(|w| i128::from(w.unsigned_abs())).sum();
        let bias: i128 = biases.iter().map(|b| i128::from(*b).abs()).max().unwrap_or(0);
        let potential = bias + current * i128::from(ticks_in);
        max_abs_current = max_abs_current.max(fits(format!("channel {channel}: Σ|W|"), current)?);
        max_abs_bias = max_abs_bias.max(fits(format!("channel {channel}: |bias|"), bias)?);
        max_abs_potential = max_abs_potential
            .max(fits(format!("channel {channel}: the worst-case potential |b| + Σ|W|·{ticks_in}"), potential)?);
    }
    if let Some(fire) = fire {
        let phase2 = (i128::from(fire.ticks) + 1) * i128::from(fire.beta);
        max_abs_potential =
            max_abs_potential.max(fits(format!("(T + 1)·β = ({} + 1)·{}", fire.ticks, fire.beta), phase2)?);
    }
    Ok(Widths {
        weight: weight_bits,
        bias: signed_bits(max_abs_bias),
        current: signed_bits(max_abs_current),
        potential: signed_bits(max_abs_potential),
        max_abs_current,
        max_abs_potential,
    })
}

/// True when `value` fits a signed register of `bits` bits.
pub fn fits_signed(value: i64, bits: u32) -> bool {
    if bits >= 64 {
        return true;
    }
    let limit = 1i64 << (bits - 1);
    value >= -limit && value < limit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_bits_cover_symmetric_range() {
        assert_eq!(signed_bits(0), 1);
        assert_eq!(signed_bits(1), 2);
        assert_eq!(signed_bits(127), 8);
        assert_eq!(signed_bits(128), 9);
        assert!(fits_signed(127, 8) && fits_signed(-127, 8) && !fits_signed(128, 8));
        assert_eq!(max_weight(8), 127);
    }

    #[test]
    fn widths_follow_bounds() {
        // Two neurons of three inputs, T_in = 255.
        let w = [127, -127, 3, 1, 1, 1];
        let fire = Fire { time_bits: 8, ticks: 255, beta: 40, activation_scale: 1.0 };
        let widths = layer_widths(&w, 3, &[vec![-1000], vec![5]], 8, 255, Some(&fire)).unwrap();
        assert_eq!(widths.max_abs_current, 257);
        assert_eq!(widths.max_abs_potential, 1000 + 257 * 255);
        assert_eq!(widths.current, 10);
        assert_eq!(widths.bias, 11);
    }

    #[test]
    fn bounds_beyond_64_bits_are_refused() {
        let fire = Fire { time_bits: 8, ticks: 255, beta: i64::MAX, activation_scale: 1.0 };
        let err = layer_widths(&[1], 1, &[vec![0]], 8, 255, Some(&fire)).unwrap_err();
        assert!(err.contains("(T + 1)·β") && err.contains("64-bit"), "{err}");
        let err = layer_widths(&[127], 1, &[vec![i64::MAX]], 8, 255, None).unwrap_err();
        assert!(err.contains("channel 0: the worst-case potential"), "{err}");
        let err = layer_widths(&[1], 1, &[vec![i64::MIN]], 8, 255, None).unwrap_err();
        assert!(err.contains("|bias|"), "{err}");
    }
}
