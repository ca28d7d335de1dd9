//! The test vectors of the hardware encoder (`rtl-templates/lib/ttfs_files_encoder.v`),
//! computed with this crate's [`Encoding`] and [`Token`], so that its test
//! bench (`rtl-templates/tb/ttfs_files_encoder_tb.v`) and the verilated
//! property tests (`rtl-unit`) check the Verilog against the Rust reference,
//! not against a second model of it.
//!
//! The committed files must be byte for byte what this test computes;
//! `UPDATE_VECTORS=1 cargo test -p ttfs-files --test encoder_vectors`
//! rewrites them.
//!
//! Each file is `$readmemh` text, one 32-bit word per line (`//` lines are
//! comments):
//!
//! 1. the missing-value table: for k = 0..K, the M channels of key k with
//!    token [`Token::Missing`];
//! 2. records, each: its number of pairs P, then per pair in the order sent
//!    the key, the token code and the M channels of that key (neurons
//!    0..M), then the M channels of every key the record does not send, in
//!    key order (the encoder's output order: the record's events are exactly
//!    this list, then the `last` beat);
//! 3. `ffffffff`.
//!
//! Channel of neuron i of key k: `(k·M + i)·T + spike_time`, from
//! [`Encoding::channels`] of the record's K tokens (absent keys missing).

use std::fmt::Write as _;
use std::path::PathBuf;
use ttfs_files::encoding::Encoding;
use ttfs_files::features::Token;

/// A small deterministic generator (xorshift64*), so the vectors never
/// change unless this file does.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n` (n > 0; the bias is irrelevant here).
    fn below(&mut self, n: u64) -> u64 {
        (self.next() >> 16) % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn word(&mut self) -> String {
        let len = 1 + self.below(9) as usize;
        (0..len).map(|_| char::from(b'a' + self.below(26) as u8)).collect()
    }
}

/// What a key holds in the generated records.
#[derive(Clone, Copy)]
enum Kind {
    /// Bins of a numeric key: mostly 0..20 (neighbours share neurons),
    /// sometimes a bin no training split had, sometimes an unparsable value.
    Numeric,
    /// A few frequent values and, sometimes, one never seen.
    Categorical,
}

/// One configuration: the encoding, the number of keys, the records, the file.
struct Config {
    encoding: Encoding,
    keys: usize,
    records: usize,
    seed: u64,
    file: &'static str,
}

const CONFIGS: &[Config] = &[
    // The crate's defaults (M = 8, T = 16, W = 4, seed 1) over 12 keys: the
    // test bench's main encoder, and the deb-files classifier's shape.
    Config {
        encoding: Encoding { neurons_per_key: 8, ticks: 16, spread: 4, seed: 1 },
        keys: 12,
        records: 40,
        seed: 0x5eed_0001,
        file: "ttfs_files_encoder_vectors.hex",
    },
    // W = 3 (the serial divider), M = 5 (not a multiple of W), T = 8, a
    // seed with the top bit set, 5 keys.
    Config {
        encoding: Encoding { neurons_per_key: 5, ticks: 8, spread: 3, seed: 0x9e37_79b9 },
        keys: 5,
        records: 40,
        seed: 0x5eed_0002,
        file: "ttfs_files_encoder_vectors_w3.hex",
    },
    // M = 20 (more tick jobs per pair than the pair stage's cycles: the
    // neuron stage is the bottleneck), W = 1 (no shared bins), T = 4, 3 keys.
    Config {
        encoding: Encoding { neurons_per_key: 20, ticks: 4, spread: 1, seed: 7 },
        keys: 3,
        records: 60,
        seed: 0x5eed_0003,
        file: "ttfs_files_encoder_vectors_m20.hex",
    },
    // T = 1 (every spike at tick 0: the channel is the neuron), M = 3, W = 2,
    // 2 keys.
    Config {
        encoding: Encoding { neurons_per_key: 3, ticks: 1, spread: 2, seed: 0xffff_ffff },
        keys: 2,
        records: 80,
        seed: 0x5eed_0004,
        file: "ttfs_files_encoder_vectors_t1.hex",
    },
];

fn token_text(t: &Token) -> String {
    match t {
        Token::Missing => "missing".into(),
        Token::Bin(b) => format!("bin {b}"),
        Token::Value(v) => format!("value {v:?}"),
    }
}

/// A token for key `k` of kind `kind`.
fn draw(rng: &mut Rng, kind: Kind, vocab: &[Vec<String>], k: usize, spread: u32) -> Token {
    if rng.chance(8) {
        return Token::Missing;
    }
    match kind {
        Kind::Numeric => match rng.below(20) {
            // Bins nobody trained on: far out, the largest code, multiples of W.
            0 => Token::Bin(rng.next() as u32 & 0x7fff_fffe),
            1 => Token::Bin(0x7fff_fffe),
            2 => Token::Bin(spread * rng.below(64) as u32 + spread - 1),
            // A value of a numeric key that does not parse: a category.
            3 => Token::Value(format!("n/a{}", rng.below(3))),
            _ => Token::Bin(rng.below(21) as u32),
        },
        Kind::Categorical => {
            if rng.chance(20) {
                // Never seen in training: an arbitrary string.
                Token::Value(format!("{}.{}", rng.word(), rng.word()))
            } else {
                Token::Value(vocab[k][rng.below(vocab[k].len() as u64) as usize].clone())
            }
        }
    }
}

/// The vector file of one configuration.
fn vectors(c: &Config) -> String {
    let e = &c.encoding;
    let m = e.neurons_per_key as usize;
    let mut rng = Rng(c.seed);
    let kinds: Vec<Kind> = (0..c.keys).map(|k| if k % 3 == 0 { Kind::Numeric } else { Kind::Categorical }).collect();
    let vocab: Vec<Vec<String>> = (0..c.keys).map(|_| (0..6).map(|_| rng.word()).collect()).collect();

    let mut out = String::new();
    let _ = writeln!(out, "// ttfs_files_encoder test vectors: written by files/tests/encoder_vectors.rs");
    let _ = writeln!(out, "// (UPDATE_VECTORS=1 cargo test -p ttfs-files --test encoder_vectors) from");
    let _ = writeln!(
        out,
        "// Encoding {{ neurons_per_key: {}, ticks: {}, spread: {}, seed: {:#x} }}, {} keys.",
        e.neurons_per_key, e.ticks, e.spread, e.seed, c.keys
    );
    let _ = writeln!(out, "// Layout: the missing-value table (K x M channels), then per record the");
    let _ = writeln!(out, "// number of pairs P, P x (key, code, M channels) in the order sent, the M");
    let _ = writeln!(out, "// channels of each key not sent (key order); ffffffff after the last record.");
    let missing = e.channels(&vec![Token::Missing; c.keys]);
    for k in 0..c.keys {
        let _ = writeln!(out, "// key {k} missing");
        for ch in &missing[k * m..(k + 1) * m] {
            let _ = writeln!(out, "{ch:08x}");
        }
    }
    for r in 0..c.records {
        // Which keys the record sends, and in which order.
        let mut sent: Vec<usize> = (0..c.keys).collect();
        match r {
            // In key order, all keys; reversed; only one key; every key missing.
            0 => {}
            1 => sent.reverse(),
            2 => sent = vec![c.keys / 2],
            _ => {
                for i in (1..sent.len()).rev() {
                    sent.swap(i, rng.below(i as u64 + 1) as usize);
                }
                if r != 3 {
                    sent.retain(|_| !rng.chance(20));
                }
                if sent.is_empty() {
                    sent.push(rng.below(c.keys as u64) as usize);
                }
            }
        }
        if r == c.records - 1 && !sent.contains(&0) {
            sent.push(0);
        }
        let mut tokens = vec![Token::Missing; c.keys];
        for &k in &sent {
            tokens[k] = if r == 3 { Token::Missing } else { draw(&mut rng, kinds[k], &vocab, k, e.spread) };
        }
        // Records 4..: a run of neighbouring bins of key 0 (tile coding).
        if r >= 4 && r < 4 + 2 * e.spread as usize + 2 && sent.contains(&0) {
            tokens[0] = Token::Bin(7 + (r - 4) as u32);
        }
        // The last record: the largest bin code, 0x7fffffff, for key 0.
        if r == c.records - 1 {
            tokens[0] = Token::Bin(0x7fff_fffe);
        }
        let channels = e.channels(&tokens);
        let _ = writeln!(out, "// record {r}: {} pairs", sent.len());
        let _ = writeln!(out, "{:08x}", sent.len());
        for &k in &sent {
            let _ = writeln!(out, "// key {k}: {}", token_text(&tokens[k]));
            let _ = writeln!(out, "{k:08x}");
            let _ = writeln!(out, "{:08x}", tokens[k].code());
            for ch in &channels[k * m..(k + 1) * m] {
                let _ = writeln!(out, "{ch:08x}");
            }
        }
        for k in (0..c.keys).filter(|k| !sent.contains(k)) {
            let _ = writeln!(out, "// key {k}: not sent");
            for ch in &channels[k * m..(k + 1) * m] {
                let _ = writeln!(out, "{ch:08x}");
            }
        }
    }
    let _ = writeln!(out, "ffffffff");
    out
}

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rtl-templates/tb/data")
}

#[test]
fn the_committed_encoder_vectors_are_the_rust_reference() {
    let update = std::env::var("UPDATE_VECTORS").is_ok_and(|v| v == "1");
    for c in CONFIGS {
        let text = vectors(c);
        let path = data_dir().join(c.file);
        if update {
            std::fs::write(&path, &text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
            continue;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == text,
            "{} differs from what the Rust encoding computes: run UPDATE_VECTORS=1 cargo test -p ttfs-files --test encoder_vectors",
            path.display()
        );
    }
}

/// The vectors exercise what the bench needs: codes of every kind (missing,
/// small and huge bins, values with the top bit set), keys omitted and out
/// of order, and neighbouring bins of one key that share neurons.
#[test]
fn the_vectors_cover_every_kind_of_code() {
    for c in CONFIGS {
        let words: Vec<u32> =
            vectors(c).lines().filter(|l| !l.starts_with("//")).map(|l| u32::from_str_radix(l, 16).unwrap()).collect();
        let m = c.encoding.neurons_per_key as usize;
        let mut pos = c.keys * m;
        let (mut pairs, mut omitted, mut unordered) = (Vec::new(), 0, 0);
        while words[pos] != u32::MAX {
            let p = words[pos] as usize;
            pos += 1;
            let keys: Vec<u32> = (0..p).map(|j| words[pos + j * (2 + m)]).collect();
            for j in 0..p {
                pairs.push((words[pos + j * (2 + m)], words[pos + j * (2 + m) + 1]));
            }
            omitted += c.keys - p;
            unordered += usize::from(keys.windows(2).any(|w| w[0] > w[1]));
            pos += p * (2 + m) + (c.keys - p) * m;
        }
        assert_eq!(pos + 1, words.len());
        let codes: Vec<u32> = pairs.iter().map(|p| p.1).collect();
        assert!(pairs.len() >= 100, "{} pairs", pairs.len());
        assert!(omitted >= 20 && unordered >= 10, "{omitted} keys omitted, {unordered} records out of order");
        assert!(codes.contains(&0), "explicit missing values");
        assert!(codes.iter().filter(|&&x| (1..=22).contains(&x)).count() >= 20, "small bins");
        assert!(codes.iter().any(|&x| x > 1000 && x < 0x8000_0000), "bins never trained on");
        assert!(codes.contains(&0x7fff_ffff), "the largest bin code");
        assert!(codes.iter().filter(|&&x| x >= 0x8000_0000).count() >= 30, "values");
        // Neighbouring bins of key 0.
        let bins0: std::collections::BTreeSet<u32> =
            pairs.iter().filter(|p| p.0 == 0 && (8..=30).contains(&p.1)).map(|p| p.1).collect();
        assert!(bins0.len() >= 4, "bins of key 0: {bins0:?}");
    }
}
