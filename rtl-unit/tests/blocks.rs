//! The hand-written blocks, verilated at build time, driven cycle by cycle
//! from Rust against plain models of what they must do, on random inputs
//! (proptest).

use proptest::prelude::*;
use std::collections::VecDeque;
use ttfs_rtl_unit::{AVAILABLE, Block, Spec, blocks};

/// Skips loudly without Verilator (CI fails at build time instead).
fn available() -> bool {
    AVAILABLE || ttfs_tools::testing::skip("verilator was not found when this crate was built")
}

#[cfg(not(ttfs_no_verilator))]
fn fire_specs() -> Vec<&'static Spec> {
    vec![&blocks::FIRE_WIDE, &blocks::FIRE_NARROW, &blocks::FIRE_UNIT_BETA]
}
#[cfg(ttfs_no_verilator)]
fn fire_specs() -> Vec<&'static Spec> {
    vec![]
}

/// `q = clamp(floor(V / β), 0, 2^QW − 1)`.
fn fire_model(v: i64, beta: i64, qw: i64) -> u64 {
    (v.div_euclid(beta)).clamp(0, (1 << qw) - 1) as u64
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// ttfs_fire: every accepted value comes out once, in order, with the
    /// right q and its tag, LATENCY enabled edges later; `ce` low freezes it.
    #[test]
    fn fire_divides_clamps_and_keeps_order(
        steps in prop::collection::vec((any::<i64>(), any::<bool>(), prop::bool::weighted(0.8), 0u8..4), 1..200),
    ) {
        if !available() { return Ok(()); }
        for spec in fire_specs() {
            let mut b = Block::new(spec);
            let (vw, qw, beta, sps) = (b.param("VW"), b.param("QW"), b.param("BETA"), b.param("SPS"));
            let latency = (qw + sps - 1) / sps + 1;
            b.set("ce", 1);
            b.reset(3);
            let mut expected: VecDeque<(u64, u64, u64)> = VecDeque::new(); // (q, tag, due enabled-edge count)
            let mut enabled = 0u64;
            for (i, &(raw, valid, ce, near)) in steps.iter().enumerate() {
                // Values near multiples of β and near the window's ends matter most.
                let half = 1i64 << (vw - 1);
                let v = match near {
                    0 => raw.rem_euclid(2 * half) - half,
                    1 => (raw.rem_euclid(1 << qw) * beta + (raw >> 40).rem_euclid(3) - 1).clamp(-half, half - 1),
                    2 => ((1 << qw) * beta + (raw >> 20).rem_euclid(5) - 2).clamp(-half, half - 1),
                    _ => (raw >> 30).rem_euclid(7) - 3,
                };
                let tag = i as u64 & 0xffff;
                b.set("in_valid", i64::from(valid));
                b.set("in_v", v);
                b.set("in_tag", tag as i64);
                b.set("ce", i64::from(ce));
                b.settle();
                if ce {
                    if b.get("out_valid") == 1 {
                        let (q, t, due) = expected.pop_front().expect("an output nobody sent");
                        prop_assert_eq!((b.get("out_q"), b.get("out_tag")), (q, t));
                        prop_assert_eq!(due, enabled, "latency");
                    }
                    if valid {
                        expected.push_back((fire_model(v, beta, qw), tag, enabled + latency as u64));
                    }
                    enabled += 1;
                }
                b.tick();
            }
        }
    }

    /// ttfs_spike_queue against a queue of images: every beat once, in
    /// order; the head shows only when its whole image is inside; `images`
    /// counts them.
    #[test]
    fn spike_queue_releases_whole_images_in_order(
        images in prop::collection::vec(prop::collection::vec((0u64..64, 0u64..32), 0..8), 1..40),
        pattern in prop::collection::vec((any::<bool>(), any::<bool>()), 300..600),
    ) {
        if !available() { return Ok(()); }
        #[cfg(not(ttfs_no_verilator))]
        {
            let mut b = Block::new(&blocks::SPIKE_QUEUE);
            b.reset(3);
            let beats: Vec<(u64, u64, u64)> = images
                .iter()
                .flat_map(|img| img.iter().map(|&(i, q)| (0, i, q)).chain(std::iter::once((1, 0, 0))))
                .collect();
            let (mut sent, mut got, mut complete_in) = (0usize, 0usize, 0i64);
            let mut cycle = 0;
            while got < beats.len() && cycle < 20_000 {
                let (offer, take) = pattern[cycle % pattern.len()];
                let offer = offer && sent < beats.len();
                if offer {
                    let (last, idx, q) = beats[sent];
                    b.set("in_last", last as i64);
                    b.set("in_idx", idx as i64);
                    b.set("in_q", q as i64);
                }
                b.set("in_valid", i64::from(offer));
                b.set("out_ready", i64::from(take || cycle > 5_000));
                b.settle();
                prop_assert_eq!(b.get("images") as i64, complete_in);
                if b.get("out_valid") == 1 {
                    prop_assert!(complete_in > 0, "head shown before its image is complete");
                    if b.get("out_ready") == 1 {
                        let beat = (b.get("out_last"), b.get("out_idx"), b.get("out_q"));
                        prop_assert_eq!(beat, beats[got]);
                        got += 1;
                        if beat.0 == 1 { complete_in -= 1; }
                    }
                }
                if offer && b.get("in_ready") == 1 {
                    if beats[sent].0 == 1 { complete_in += 1; }
                    sent += 1;
                }
                b.tick();
                cycle += 1;
            }
            prop_assert_eq!(got, beats.len());
        }
    }

    /// ttfs_readout: the class is the first index of the largest logit, the
    /// logits come back packed, under random result back-pressure.
    #[test]
    fn readout_picks_the_first_largest_logit(
        images in prop::collection::vec(prop::collection::vec(-2048i64..2048, 5), 1..20),
        ready in prop::collection::vec(any::<bool>(), 50..100),
    ) {
        if !available() { return Ok(()); }
        #[cfg(not(ttfs_no_verilator))]
        {
            let mut b = Block::new(&blocks::READOUT);
            b.reset(3);
            let mut beats = Vec::new();
            for logits in &images {
                for (i, &v) in logits.iter().enumerate() { beats.push((0i64, i as i64, v)); }
                beats.push((1, 0, 0));
            }
            let (mut sent, mut results, mut cycle) = (0usize, 0usize, 0usize);
            while results < images.len() && cycle < 10_000 {
                let offer = sent < beats.len();
                if offer {
                    b.set("in_last", beats[sent].0);
                    b.set("in_idx", beats[sent].1);
                    b.set("in_v", beats[sent].2);
                }
                b.set("in_valid", i64::from(offer));
                b.set("res_ready", i64::from(ready[cycle % ready.len()] || cycle > 5_000));
                b.settle();
                if b.get("res_valid") == 1 && b.get("res_ready") == 1 {
                    let logits = &images[results];
                    let best = (0..5).fold(0, |best, i| if logits[i] > logits[best] { i } else { best });
                    prop_assert_eq!(b.get("res_class"), best as u64);
                    let packed = b.get("res_logits");
                    for (i, &v) in logits.iter().enumerate() {
                        let field = (packed >> (12 * i)) & 0xfff;
                        prop_assert_eq!(field, (v as u64) & 0xfff);
                    }
                    results += 1;
                }
                if offer && b.get("in_ready") == 1 { sent += 1; }
                b.tick();
                cycle += 1;
            }
            prop_assert_eq!(results, images.len());
            prop_assert_eq!(b.get("error"), 0);
        }
    }

    /// ttfs_input_encoder: one event per nonzero pixel, in index order, then
    /// the `last` beat; no error on well-formed images.
    #[test]
    fn encoder_turns_pixels_into_events(
        images in prop::collection::vec(prop::collection::vec(prop_oneof![Just(0i64), 0i64..16], 12), 1..10),
        ready in prop::collection::vec(any::<bool>(), 20..60),
    ) {
        if !available() { return Ok(()); }
        #[cfg(not(ttfs_no_verilator))]
        {
            let mut b = Block::new(&blocks::ENCODER);
            b.reset(3);
            let pixels: Vec<(i64, bool)> =
                images.iter().flat_map(|img| img.iter().enumerate().map(|(j, &p)| (p, j == 11))).collect();
            let expected: Vec<(u64, u64, u64)> = images
                .iter()
                .flat_map(|img| {
                    img.iter()
                        .enumerate()
                        .filter(|(_, p)| **p != 0)
                        .map(|(j, &p)| (0, j as u64, p as u64))
                        .chain(std::iter::once((1, 0, 0)))
                })
                .collect();
            let (mut sent, mut got, mut cycle) = (0usize, 0usize, 0usize);
            while got < expected.len() && cycle < 10_000 {
                let offer = sent < pixels.len();
                if offer {
                    b.set("s_data", pixels[sent].0);
                    b.set("s_last", i64::from(pixels[sent].1));
                }
                b.set("s_valid", i64::from(offer));
                b.set("out_ready", i64::from(ready[cycle % ready.len()] || cycle > 5_000));
                b.settle();
                if b.get("out_valid") == 1 && b.get("out_ready") == 1 {
                    prop_assert_eq!((b.get("out_last"), b.get("out_idx"), b.get("out_q")), expected[got]);
                    got += 1;
                }
                if offer && b.get("s_ready") == 1 { sent += 1; }
                b.tick();
                cycle += 1;
            }
            prop_assert_eq!(got, expected.len());
            prop_assert_eq!(b.get("error"), 0);
        }
    }
}

/// The Rust reference's encoder vectors (`files/tests/encoder_vectors.rs`
/// writes them with `ttfs_files::encoding::Encoding`): per key, the M
/// channels when it is missing, and every (code, M channels) pair of the
/// file.
struct FilesVectors {
    missing: Vec<Vec<u64>>,
    pairs: Vec<Vec<(u64, Vec<u64>)>>,
}

fn files_vectors(file: &str, keys: usize, m: usize) -> FilesVectors {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../rtl-templates/tb/data").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let words: Vec<u64> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("//"))
        .map(|l| u64::from_str_radix(l, 16).unwrap())
        .collect();
    let missing = (0..keys).map(|k| words[k * m..(k + 1) * m].to_vec()).collect();
    let mut pairs = vec![Vec::new(); keys];
    let mut pos = keys * m;
    while words[pos] != 0xffff_ffff {
        let p = words[pos] as usize;
        pos += 1;
        for _ in 0..p {
            pairs[words[pos] as usize].push((words[pos + 1], words[pos + 2..pos + 2 + m].to_vec()));
            pos += 2 + m;
        }
        pos += (keys - p) * m;
    }
    FilesVectors { missing, pairs }
}

#[cfg(not(ttfs_no_verilator))]
fn files_encoder_specs() -> Vec<(&'static Spec, &'static str)> {
    vec![
        (&blocks::FILES_ENCODER, "ttfs_files_encoder_vectors.hex"),
        (&blocks::FILES_ENCODER_W3, "ttfs_files_encoder_vectors_w3.hex"),
        (&blocks::FILES_ENCODER_M20, "ttfs_files_encoder_vectors_m20.hex"),
        (&blocks::FILES_ENCODER_T1, "ttfs_files_encoder_vectors_t1.hex"),
    ]
}
#[cfg(ttfs_no_verilator)]
fn files_encoder_specs() -> Vec<(&'static Spec, &'static str)> {
    vec![]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// ttfs_files_encoder on random records put together from the Rust
    /// reference's pairs: keys in a random order, some not sent, under
    /// random back-pressure. Each record gives the reference's channels of
    /// its pairs in arrival order, then those of the keys it did not send
    /// (missing values) in key order, then the `last` beat; a key sent a
    /// second time, or one out of range, changes nothing but `error`.
    #[test]
    fn files_encoder_matches_the_rust_encoding(
        records in prop::collection::vec(
            (prop::collection::vec((0u8..4, any::<u16>()), 12), any::<u64>(), 0u8..8),
            1..5,
        ),
        pattern in prop::collection::vec((any::<bool>(), any::<bool>()), 50..200),
    ) {
        if !available() { return Ok(()); }
        for (spec, file) in files_encoder_specs() {
            let mut b = Block::new(spec);
            let (keys, m) = (b.param("KEYS") as usize, b.param("M") as usize);
            let (key_w, q) = (b.param("KEY_W"), b.param("Q") as u64);
            let v = files_vectors(file, keys, m);
            b.reset(3);
            // Input beats (key, code, last, bad) and expected output beats.
            let (mut beats, mut expected) = (Vec::new(), Vec::new());
            for (choice, order, bad) in &records {
                let mut ks: Vec<usize> = (0..keys).collect();
                let mut x = *order | 1;
                for i in (1..keys).rev() {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    ks.swap(i, (x % (i as u64 + 1)) as usize);
                }
                // Choice 0: not sent; else one of the file's pairs of the key.
                let mut sent: Vec<(usize, u64, Vec<u64>)> = ks
                    .iter()
                    .filter(|&&k| choice[k].0 != 0 && !v.pairs[k].is_empty())
                    .map(|&k| {
                        let (code, ch) = &v.pairs[k][choice[k].1 as usize % v.pairs[k].len()];
                        (k, *code, ch.clone())
                    })
                    .collect();
                if sent.is_empty() {
                    // A record of missing values only: one explicit pair.
                    sent.push((ks[0], 0, v.missing[ks[0]].clone()));
                }
                let first = beats.len();
                for (k, code, _) in &sent {
                    beats.push((*k as u64, *code, false, false));
                }
                // A bad pair after the first one: the first key again with
                // another code, or a key >= KEYS.
                match bad {
                    0 => beats.insert(first + 1, (sent[0].0 as u64, sent[0].1 ^ 0x8000_0001, false, true)),
                    1 if keys < 1 << key_w => beats.insert(first + 1, (keys as u64, x & 0xffff_ffff, false, true)),
                    _ => {}
                }
                beats.last_mut().unwrap().2 = true;
                for (_, _, ch) in &sent {
                    expected.extend(ch.iter().map(|&c| (0u64, c, q)));
                }
                for k in (0..keys).filter(|k| !sent.iter().any(|s| s.0 == *k)) {
                    expected.extend(v.missing[k].iter().map(|&c| (0u64, c, q)));
                }
                expected.push((1, 0, 0));
            }
            // `error` rises the cycle after a bad pair is taken.
            let (mut fed, mut got, mut cycle, mut error) = (0usize, 0usize, 0usize, false);
            while got < expected.len() && cycle < 40_000 {
                let (offer, take) = pattern[cycle % pattern.len()];
                let offer = offer && fed < beats.len();
                if offer {
                    b.set("s_key", beats[fed].0 as i64);
                    b.set("s_code", beats[fed].1 as i64);
                    b.set("s_last", i64::from(beats[fed].2));
                }
                b.set("s_valid", i64::from(offer));
                b.set("out_ready", i64::from(take || cycle > 20_000));
                b.settle();
                prop_assert_eq!(b.get("error") == 1, error, "{} error after {} beats", file, fed);
                if b.get("out_valid") == 1 && b.get("out_ready") == 1 {
                    let beat = (b.get("out_last"), b.get("out_idx"), b.get("out_q"));
                    prop_assert_eq!(beat, expected[got], "{} beat {}", file, got);
                    got += 1;
                }
                if offer && b.get("s_ready") == 1 {
                    error |= beats[fed].3;
                    fed += 1;
                }
                b.tick();
                cycle += 1;
            }
            prop_assert_eq!(got, expected.len(), "{}: every event within the cycle budget", file);
        }
    }
}
