//! Memory images for `$readmemh`: weights and biases packed in words of P
//! lanes, as `docs/hardware.md` lays them out.

use std::fmt::Write as _;

/// Packs signed `values` (one per lane, lane 0 in the low bits) into one
/// word of `lanes × bits` bits, as upper-case hex with leading zeros.
///
/// Assumes every value fits `bits` bits in two's complement; lanes past
/// `values.len()` are zero.
pub fn pack_word(values: &[i64], lanes: usize, bits: u32) -> String {
    let width = lanes * bits as usize;
    let mut word = vec![false; width];
    for (l, &v) in values.iter().enumerate().take(lanes) {
        for b in 0..bits as usize {
            word[l * bits as usize + b] = (v >> b) & 1 == 1;
        }
    }
    let digits = width.div_ceil(4);
    let mut hex = String::with_capacity(digits);
    for d in (0..digits).rev() {
        let nibble = (0..4).fold(0u8, |n, b| n | (u8::from(word.get(d * 4 + b).copied().unwrap_or(false)) << b));
        let _ = write!(hex, "{nibble:X}");
    }
    hex
}

/// The weight image of a dense layer: address `j·G + g` holds the weights
/// from input j to neurons `g·P .. g·P + P − 1`. `weights` is row-major
/// `[outputs][inputs]`.
pub fn weight_image(weights: &[i32], inputs: usize, outputs: usize, lanes: usize, bits: u32) -> String {
    let blocks = outputs.div_ceil(lanes);
    let mut text = String::new();
    for j in 0..inputs {
        for g in 0..blocks {
            let lane_values: Vec<i64> =
                (g * lanes..((g + 1) * lanes).min(outputs)).map(|o| i64::from(weights[o * inputs + j])).collect();
            text.push_str(&pack_word(&lane_values, lanes, bits));
            text.push('\n');
        }
    }
    text
}

/// The bias image: word g holds the biases of neurons `g·P .. g·P + P − 1`.
pub fn bias_image(bias: &[i64], lanes: usize, bits: u32) -> String {
    let mut text = String::new();
    for chunk in bias.chunks(lanes) {
        text.push_str(&pack_word(chunk, lanes, bits));
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_pack_low_first_in_twos_complement() {
        assert_eq!(pack_word(&[1, -1], 2, 8), "FF01");
        assert_eq!(pack_word(&[-2], 3, 4), "00E");
        assert_eq!(pack_word(&[5, 3, 1], 3, 3), "05D");
    }

    #[test]
    fn weight_words_follow_the_block_layout() {
        // 2 inputs, 3 outputs, 2 lanes: G = 2; word j·G + g.
        let w = [1, 2, 3, 4, 5, 6]; // rows: o0 = [1, 2], o1 = [3, 4], o2 = [5, 6]
        let image = weight_image(&w, 2, 3, 2, 4);
        assert_eq!(image, "31\n05\n42\n06\n");
    }
}
