//! The board wrapper's UART protocol (`rtl-templates/top/board.v`): a
//! frame is `0xA5` and one byte per pixel code; a reply is `0x5A`, the
//! class, and every logit in ⌈logit bits / 8⌉ bytes, least significant
//! first, two's complement. Pure functions: building frames, reading
//! replies, and naming what a reply of the wrong shape means.

use std::fmt::Write as _;
use ttfs_hw::view::TopView;

/// The byte that starts a frame (host → board).
pub const FRAME_HEADER: u8 = 0xA5;
/// The byte that starts a record (host → board) on a file classifier's
/// record design (`ttfs_record_framer`).
pub const RECORD_HEADER: u8 = 0xA6;
/// The largest key index a record frame carries (7 bits).
pub const MAX_RECORD_KEY: u32 = 127;

/// The frame of one record: [`RECORD_HEADER`], then per (key, code) pair
/// `{last, key[6:0]}` (bit 7 set on the final pair) and the code's four
/// bytes, most significant first. Errors (naming the pair) when there is no
/// pair or a key is above [`MAX_RECORD_KEY`].
pub fn record_frame(pairs: &[(u32, u32)]) -> Result<Vec<u8>, String> {
    if pairs.is_empty() {
        return Err("a record frame needs one pair at least (a record of missing values only is {0, 0})".into());
    }
    let mut out = Vec::with_capacity(1 + 5 * pairs.len());
    out.push(RECORD_HEADER);
    for (i, &(key, code)) in pairs.iter().enumerate() {
        if key > MAX_RECORD_KEY {
            return Err(format!("pair {i}: key {key} is above {MAX_RECORD_KEY}, the most a record frame carries"));
        }
        let last = if i + 1 == pairs.len() { 0x80 } else { 0 };
        out.push(last | key as u8);
        out.extend_from_slice(&code.to_be_bytes());
    }
    Ok(out)
}

/// The byte that starts a reply (board → host).
pub const REPLY_HEADER: u8 = 0x5A;

/// The shape of one design's frames and replies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Protocol {
    /// Pixel codes per frame.
    pub inputs: usize,
    /// Largest pixel code (2^B0 − 1).
    pub max_code: i64,
    /// Logits per reply.
    pub classes: usize,
    /// Bytes per logit.
    pub logit_bytes: usize,
}

/// One reply, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The class byte.
    pub class: usize,
    /// The logits, sign-extended.
    pub logits: Vec<i64>,
}

impl Protocol {
    /// The protocol of a design (as its view describes it).
    pub fn of(v: &TopView) -> Protocol {
        Protocol {
            inputs: v.n_in,
            max_code: (1i64 << v.q0_bits.min(8)) - 1,
            classes: v.classes,
            logit_bytes: v.logit_bits.div_ceil(8) as usize,
        }
    }

    /// Bytes per frame.
    pub fn frame_bytes(&self) -> usize {
        1 + self.inputs
    }

    /// Bytes per reply.
    pub fn reply_bytes(&self) -> usize {
        2 + self.classes * self.logit_bytes
    }

    /// The frame of one image's pixel codes. Errors (naming the pixel) when
    /// there are not `inputs` codes or one is outside `0..=max_code`.
    pub fn frame(&self, codes: &[i64]) -> Result<Vec<u8>, String> {
        if codes.len() != self.inputs {
            return Err(format!("{} pixel codes where the design takes {}", codes.len(), self.inputs));
        }
        let mut out = Vec::with_capacity(self.frame_bytes());
        out.push(FRAME_HEADER);
        for (i, &q) in codes.iter().enumerate() {
            if !(0..=self.max_code).contains(&q) {
                return Err(format!("pixel {i} has code {q}, outside 0 to {}", self.max_code));
            }
            out.push(q as u8);
        }
        Ok(out)
    }

    /// Reads a complete reply (`reply_bytes` long). Errors on a wrong
    /// header or a class that is not one of the design's.
    pub fn parse(&self, bytes: &[u8]) -> Result<Reply, String> {
        if bytes.len() != self.reply_bytes() {
            return Err(format!("{} bytes where a reply has {}", bytes.len(), self.reply_bytes()));
        }
        if bytes[0] != REPLY_HEADER {
            return Err(format!("the reply starts with 0x{:02X}, not 0x{REPLY_HEADER:02X}", bytes[0]));
        }
        let class = bytes[1] as usize;
        if class >= self.classes {
            return Err(format!("class {class} is not one of the design's {} classes", self.classes));
        }
        let logits = bytes[2..]
            .chunks(self.logit_bytes)
            .map(|chunk| {
                let raw = chunk.iter().rev().fold(0u64, |v, &b| (v << 8) | u64::from(b));
                let bits = 8 * chunk.len() as u32;
                let shift = 64 - bits;
                ((raw << shift) as i64) >> shift
            })
            .collect();
        Ok(Reply { class, logits })
    }

    /// What a reply of another length says about the board, when it starts
    /// like a reply: "the board runs a different design: N logits,
    /// expected M" (a whole number of logits of this design's width), or
    /// `None` when the bytes do not look like a reply at all.
    pub fn other_design(&self, reply: &[u8]) -> Option<String> {
        if reply.len() < 2 || reply[0] != REPLY_HEADER || reply.len() == self.reply_bytes() {
            return None;
        }
        let logit_bytes = reply.len() - 2;
        if logit_bytes.is_multiple_of(self.logit_bytes) {
            Some(format!(
                "the board runs a different design: its reply has {} logits of {} bytes ({} bytes in all), \
                 where this design has {} logits ({} bytes); program the board with this design's bitstream \
                 (`ttfs prog DIR`) or pass the directory of the design it runs",
                logit_bytes / self.logit_bytes,
                self.logit_bytes,
                reply.len(),
                self.classes,
                self.reply_bytes()
            ))
        } else {
            Some(format!(
                "the board runs a different design: its reply has {} bytes after the header and class, not a \
                 whole number of this design's {}-byte logits, where this design has {} logits ({} bytes); \
                 program the board with this design's bitstream (`ttfs prog DIR`)",
                logit_bytes,
                self.logit_bytes,
                self.classes,
                self.reply_bytes()
            ))
        }
    }
}

/// Bytes as hex for messages (`5A 03 FF …`), at most `limit` of them.
pub fn hex(bytes: &[u8], limit: usize) -> String {
    if bytes.is_empty() {
        return "none".into();
    }
    let mut t = String::new();
    for (i, b) in bytes.iter().take(limit).enumerate() {
        if i > 0 {
            t.push(' ');
        }
        let _ = write!(t, "{b:02X}");
    }
    if bytes.len() > limit {
        let _ = write!(t, " … ({} bytes)", bytes.len());
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> Protocol {
        Protocol { inputs: 3, max_code: 255, classes: 2, logit_bytes: 3 }
    }

    #[test]
    fn record_frames_carry_the_last_flag_the_key_and_the_code_big_endian() {
        assert_eq!(record_frame(&[(3, 0x0102_0304), (0, 0)]).unwrap(), vec![0xA6, 3, 1, 2, 3, 4, 0x80, 0, 0, 0, 0]);
        assert!(record_frame(&[]).is_err());
        assert!(record_frame(&[(1, 0), (128, 5)]).unwrap_err().contains("pair 1: key 128"));
    }

    #[test]
    fn frames_and_replies_round_trip() {
        assert_eq!(p().frame(&[0, 7, 255]).unwrap(), vec![0xA5, 0, 7, 255]);
        assert!(p().frame(&[0, 256, 1]).unwrap_err().contains("pixel 1"));
        assert!(p().frame(&[0]).is_err());
        let r = p().parse(&[0x5A, 1, 0xFF, 0xFF, 0xFF, 0x10, 0x00, 0x00]).unwrap();
        assert_eq!(r, Reply { class: 1, logits: vec![-1, 16] });
        assert!(p().parse(&[0x55, 1, 0, 0, 0, 0, 0, 0]).unwrap_err().contains("0x55"));
        assert!(p().parse(&[0x5A, 9, 0, 0, 0, 0, 0, 0]).unwrap_err().contains("class 9"));
    }

    #[test]
    fn a_reply_of_another_length_names_the_other_design() {
        let short = [0x5A, 0, 1, 2, 3];
        assert!(p().other_design(&short).unwrap().contains("1 logits of 3 bytes"));
        let long = [0x5A, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert!(p().other_design(&long).unwrap().contains("3 logits"));
        assert_eq!(p().other_design(&[0x11, 2, 3]), None);
        assert_eq!(hex(&[0x5A, 1], 8), "5A 01");
        assert_eq!(hex(&[], 8), "none");
    }
}
