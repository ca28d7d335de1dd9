//! Memory images for `$readmemh`: weights and biases packed in words of P
//! lanes, as `docs/hardware.md` lays them out.

use crate::layers::ConvShape;

/// Packs signed `values` (one per lane, lane 0 in the low bits) into one
/// word of `lanes × bits` bits, least significant byte first, in
/// ⌈lanes·bits / 8⌉ bytes.
///
/// Assumes every value fits `bits` bits in two's complement; lanes past
/// `values.len()` are zero.
pub fn pack_bytes(values: &[i64], lanes: usize, bits: u32) -> Vec<u8> {
    let mut word = Vec::with_capacity((lanes * bits as usize).div_ceil(8));
    pack_into(&mut word, values, lanes, bits);
    word
}

/// Appends the word of [`pack_bytes`] to `out` (no allocation per word).
fn pack_into(out: &mut Vec<u8>, values: &[i64], lanes: usize, bits: u32) {
    let mask = if bits >= 64 { u64::MAX } else { (1u64 << bits) - 1 };
    let start = out.len();
    // Bits not yet written, lowest first; fewer than 8 + 64 at any time.
    let (mut pending, mut count) = (0u128, 0u32);
    for l in 0..lanes {
        let v = values.get(l).map_or(0, |&v| v as u64 & mask);
        pending |= u128::from(v) << count;
        count += bits;
        while count >= 8 {
            out.push(pending as u8);
            pending >>= 8;
            count -= 8;
        }
    }
    if count > 0 {
        out.push(pending as u8);
    }
    out.resize(start + (lanes * bits as usize).div_ceil(8), 0);
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// The same word as upper-case hex with leading zeros, ⌈lanes·bits / 4⌉
/// digits (a `$readmemh` line).
pub fn pack_word(values: &[i64], lanes: usize, bits: u32) -> String {
    let mut line = Vec::new();
    hex_line(&mut line, &pack_bytes(values, lanes, bits), lanes * bits as usize);
    line.pop();
    String::from_utf8(line).expect("hex digits are ASCII")
}

/// Appends the ⌈`width`/4⌉ hex digits of the little-endian `bytes`, most
/// significant first, and a newline.
fn hex_line(out: &mut Vec<u8>, bytes: &[u8], width: usize) {
    for d in (0..width.div_ceil(4)).rev() {
        out.push(HEX[usize::from((bytes[d / 2] >> (4 * (d % 2))) & 0xF)]);
    }
    out.push(b'\n');
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
    let blocks = outputs.div_ceil(lanes);
    let digits = (lanes * bits as usize).div_ceil(4);
    let mut text = Vec::with_capacity(inputs * blocks * (digits + 1));
    let (mut word, mut bytes) = (Vec::with_capacity(lanes), Vec::new());
    for j in 0..inputs {
        for g in 0..blocks {
            word.clear();
            word.extend((g * lanes..((g + 1) * lanes).min(outputs)).map(|o| i64::from(weights[o * inputs + j])));
            bytes.clear();
            pack_into(&mut bytes, &word, lanes, bits);
            hex_line(&mut text, &bytes, lanes * bits as usize);
        }
    }
    String::from_utf8(text).expect("hex digits are ASCII")
}

/// The words of a convolution's weight memory in address order: word
/// `((c·KH + ky)·KW + kx)·G + g` holds the weights from input channel c at
/// tap (ky, kx) to output channels `g·P .. g·P + P − 1` (fewer in the last
/// block). `weights` is `[co][ci][kh][kw]`.
pub fn conv_weight_words(weights: &[i32], c: &ConvShape, lanes: usize) -> Vec<Vec<i64>> {
    let (ci_n, co_n) = (c.in_shape[0], c.out_channels);
    let [kh, kw] = c.kernel;
    let blocks = co_n.div_ceil(lanes);
    let mut words = Vec::with_capacity(ci_n * kh * kw * blocks);
    for ci in 0..ci_n {
        for ky in 0..kh {
            for kx in 0..kw {
                for g in 0..blocks {
                    words.push(
                        (g * lanes..((g + 1) * lanes).min(co_n))
                            .map(|co| i64::from(weights[((co * ci_n + ci) * kh + ky) * kw + kx]))
                            .collect(),
                    );
                }
            }
        }
    }
    words
}

/// Words as `$readmemh` lines of `lanes × bits` bits.
pub fn words_image(words: &[Vec<i64>], lanes: usize, bits: u32) -> String {
    let mut text = Vec::new();
    let mut bytes = Vec::new();
    for word in words {
        bytes.clear();
        pack_into(&mut bytes, word, lanes, bits);
        hex_line(&mut text, &bytes, lanes * bits as usize);
    }
    String::from_utf8(text).expect("hex digits are ASCII")
}

/// The bias words of a convolution with a bias map, in the potentials'
/// order: word `(oy·W_use + ox)·G + g` holds the biases of output channels
/// `g·P ..` at kept position (oy, ox). `map` is `[co][oh][ow]` over the
/// whole convolution output.
pub fn conv_bias_map_words(map: &[i64], c: &ConvShape, lanes: usize) -> Vec<Vec<i64>> {
    let [oh, ow] = c.out_hw;
    let [uh, uw] = c.used();
    let co_n = c.out_channels;
    let blocks = co_n.div_ceil(lanes);
    let mut words = Vec::with_capacity(uh * uw * blocks);
    for oy in 0..uh {
        for ox in 0..uw {
            for g in 0..blocks {
                words.push((g * lanes..((g + 1) * lanes).min(co_n)).map(|co| map[(co * oh + oy) * ow + ox]).collect());
            }
        }
    }
    words
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
    fn packing_equals_setting_each_bit() {
        // The plain definition: bit b of lane l is bit b of value l.
        let reference = |values: &[i64], lanes: usize, bits: u32| {
            let mut word = vec![0u8; (lanes * bits as usize).div_ceil(8)];
            for (l, &v) in values.iter().enumerate().take(lanes) {
                for b in 0..bits as usize {
                    if (v >> b) & 1 == 1 {
                        let bit = l * bits as usize + b;
                        word[bit / 8] |= 1 << (bit % 8);
                    }
                }
            }
            word
        };
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        for bits in 1..=40u32 {
            for lanes in 1..=13 {
                let values: Vec<i64> = (0..lanes)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        (seed as i64) >> (64 - bits)
                    })
                    .collect();
                let used = &values[..lanes - lanes / 4];
                assert_eq!(pack_bytes(used, lanes, bits), reference(used, lanes, bits), "{bits} bits, {lanes} lanes");
            }
        }
    }

    #[test]
    fn weight_words_follow_the_block_layout() {
        // 2 inputs, 3 outputs, 2 lanes: G = 2; word j·G + g.
        let w = [1, 2, 3, 4, 5, 6]; // rows: o0 = [1, 2], o1 = [3, 4], o2 = [5, 6]
        let image = weight_image(&w, 2, 3, 2, 4);
        assert_eq!(image, "31\n05\n42\n06\n");
    }
}
