//! Memory images for `$readmemh`: weights and biases packed in words of P
//! lanes, as `docs/hardware.md` lays them out.

use std::fmt::Write as _;

/// Packs signed `values` (one per lane, lane 0 in the low bits) into one
/// word of `lanes × bits` bits, least significant byte first, in
/// ⌈lanes·bits / 8⌉ bytes.
///
/// Assumes every value fits `bits` bits in two's complement; lanes past
/// `values.len()` are zero.
pub fn pack_bytes(values: &[i64], lanes: usize, bits: u32) -> Vec<u8> {
    let bits = bits as usize;
    let mut word = vec![0u8; (lanes * bits).div_ceil(8)];
    for (l, &v) in values.iter().enumerate().take(lanes) {
        for b in 0..bits {
            if (v >> b) & 1 == 1 {
                let bit = l * bits + b;
                word[bit / 8] |= 1 << (bit % 8);
            }
        }
    }
    word
}

/// The same word as upper-case hex with leading zeros, ⌈lanes·bits / 4⌉
/// digits (a `$readmemh` line).
pub fn pack_word(values: &[i64], lanes: usize, bits: u32) -> String {
    let bytes = pack_bytes(values, lanes, bits);
    let digits = (lanes * bits as usize).div_ceil(4);
    let mut hex = String::with_capacity(digits);
    for d in (0..digits).rev() {
        let _ = write!(hex, "{:X}", (bytes[d / 2] >> (4 * (d % 2))) & 0xF);
    }
    hex
}

/// The words of a dense layer's weight memory in address order: word
/// `j·G + g` holds the weights from input j to neurons `g·P .. g·P + P − 1`
/// (fewer in the last block). `weights` is row-major `[outputs][inputs]`.
pub fn weight_words(weights: &[i32], inputs: usize, outputs: usize, lanes: usize) -> Vec<Vec<i64>> {
    let blocks = outputs.div_ceil(lanes);
    (0..inputs)
        .flat_map(|j| {
            (0..blocks).map(move |g| {
                (g * lanes..((g + 1) * lanes).min(outputs)).map(|o| i64::from(weights[o * inputs + j])).collect()
            })
        })
        .collect()
}

/// The weight image of a dense layer: [`weight_words`] as hex lines.
pub fn weight_image(weights: &[i32], inputs: usize, outputs: usize, lanes: usize, bits: u32) -> String {
    weight_words(weights, inputs, outputs, lanes).iter().map(|w| pack_word(w, lanes, bits) + "\n").collect()
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
