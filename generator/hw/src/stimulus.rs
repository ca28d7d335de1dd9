//! The generated test bench's default stimulus: a few images and the
//! results the discrete reference gives for them, written into `mem/` so
//! that the bench (and the FuseSoC core's `sim` target) runs and checks
//! itself with no argument.
//!
//! The images are a pure function of the network (no data set is needed,
//! and `ttfs cosim DIR` regenerates the same files from `net.json`): one with
//! no pixel spiking, one with every pixel at its largest code, and
//! pseudo-random ones from a fixed seed.

use ttfs_ir::Network;
use ttfs_sim::{Prepared, quantized};

/// The images of the default stimulus, `$readmemh` text (one pixel code a line).
pub const IMAGES_FILE: &str = "mem/tb_images.hex";

/// The expected results of those images, `$readmemh` text: per image the
/// class, then every logit in two's complement of the logit width.
pub const EXPECTED_FILE: &str = "mem/tb_expected.hex";

/// Images in the default stimulus.
pub const IMAGES: usize = 4;

/// Pixel codes of the default images, `n_in` per image, each in `0..=ticks`.
pub fn images(net: &Network) -> Vec<i64> {
    let n_in: usize = net.input.shape.iter().product();
    let ticks = i64::from(net.input.code.expect("integer input coding").ticks);
    let mut codes = vec![0; n_in];
    codes.extend(std::iter::repeat_n(ticks, n_in));
    // xorshift32 with a fixed seed: the same images for every run.
    let mut x: u32 = 0x2545_f491;
    for _ in 2..IMAGES {
        codes.extend((0..n_in).map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            i64::from(x) % (ticks + 1)
        }));
    }
    codes
}

/// The expected-results file for `codes` (whole images): the class, then
/// the logits, each masked to its width (`cls_bits`, `logit_bits`).
pub fn expected_hex(net: &Network, codes: &[i64], cls_bits: u32, logit_bits: u32) -> String {
    let model = Prepared::new(net);
    let n_in: usize = net.input.shape.iter().product();
    let mask = |bits: u32| if bits >= 64 { u64::MAX } else { (1u64 << bits) - 1 };
    let mut text = String::new();
    for q0 in codes.chunks(n_in) {
        let trace = quantized::forward(&model, q0);
        let logits = trace.logits();
        text.push_str(&format!("{:X}\n", ttfs_sim::argmax(logits) as u64 & mask(cls_bits)));
        for &logit in logits {
            // Two's complement in logit_bits: the bits m_logits carries.
            text.push_str(&format!("{:X}\n", logit as u64 & mask(logit_bits)));
        }
    }
    text
}

/// The default stimulus of the record bench: beats, one per line.
pub const RECORDS_FILE: &str = "mem/tb_records.hex";
/// Its expected results.
pub const RECORDS_EXPECTED_FILE: &str = "mem/tb_records_expected.hex";
