//! The correlative temporal encoding: key k owns input neurons
//! `k·M .. (k+1)·M`, and a record's token for key k makes each of them
//! spike once, at a pseudo-random tick in `0..T` drawn from a hash of
//! (seed, key, token, neuron). So:
//!
//! - equal tokens give equal patterns: two records that share the token of
//!   a key coincide on all M of its neurons;
//! - different tokens give independent patterns: each of the M neurons
//!   coincides with probability 1/T;
//! - a numeric key's neighbouring bins share part of their pattern: neuron
//!   i of bin b draws its tick from the coarse bin ⌊(b + i mod W) / W⌋
//!   instead of b (W = [`Encoding::spread`]), so bins d < W apart share
//!   (W − d)/W of the key's neurons when W divides M (tile coding), and
//!   bins W or more apart are independent.
//!
//! The similarity this realises, as expected coincident input spikes
//! between two records over K keys, S of whose tokens are equal, and (for
//! the rest) numeric keys whose bins are d_j < W apart:
//!
//! E[coincidences] = M·S + Σ_j M·(W − d_j)/W + (M·(K − S) − Σ_j M·(W − d_j)/W)/T
//!
//! a count of shared key-value pairs (a Hamming-type similarity, as paper
//! 3's correlative coding), smoothed over near numeric values; the chance
//! term M·(K − S)/T is what independent patterns cost (it shrinks with T).
//!
//! The hash is [`mix32`] (Wellons's "lowbias32": shifts, XORs and two
//! constant multiplies, which the hardware's encoder block can compute
//! from (key index, token code) as the record arrives).

use crate::features::Token;
use serde::{Deserialize, Serialize};

/// The encoding's parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Encoding {
    /// M: input neurons per key.
    pub neurons_per_key: u32,
    /// T: the window's ticks (spike times are `0..T`).
    pub ticks: u32,
    /// W: how many neighbouring bins of a numeric key share neurons (1: none).
    pub spread: u32,
    /// The hash's seed.
    pub seed: u32,
}

impl Default for Encoding {
    /// M = 8, T = 16, W = 4, seed 1.
    fn default() -> Self {
        Encoding { neurons_per_key: 8, ticks: 16, spread: 4, seed: 1 }
    }
}

/// Wellons's lowbias32: a 32-bit integer hash with low bias (two rounds of
/// xor-shift and constant multiply, one final xor-shift).
pub fn mix32(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7feb_352d);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846c_a68b);
    x ^ (x >> 16)
}

impl Encoding {
    /// The tick at which neuron `neuron` (0..M) of key `key` spikes for
    /// `token`.
    pub fn spike_time(&self, key: u32, token: &Token, neuron: u32) -> u32 {
        let code = match token {
            Token::Bin(b) => {
                let w = self.spread.max(1);
                // The coarse bin, kept apart from the codes of values (top
                // bit set) and of single bins (Token::code).
                0x4000_0000 | ((b + neuron % w) / w)
            }
            other => other.code(),
        };
        let h = mix32(mix32(mix32(self.seed ^ key) ^ code) ^ neuron);
        h % self.ticks.max(1)
    }

    /// A record's input pattern: the spike tick of every input neuron, key
    /// by key (`tokens[k]` for key k), `K·M` ticks.
    pub fn pattern(&self, tokens: &[Token]) -> Vec<u32> {
        let m = self.neurons_per_key;
        tokens.iter().zip(0u32..).flat_map(|(t, k)| (0..m).map(move |i| self.spike_time(k, t, i))).collect()
    }

    /// The pattern read through T delay taps per input neuron (a
    /// coincidence detector's view of it): input neuron n = k·M + i spiking
    /// at tick t drives channel `n·T + t`, so a record drives exactly K·M of
    /// the K·M·T channels, one per input neuron, in neuron order. Two
    /// records share a channel exactly where their patterns coincide.
    pub fn channels(&self, tokens: &[Token]) -> Vec<usize> {
        let ticks = self.ticks.max(1) as usize;
        self.pattern(tokens).iter().enumerate().map(|(n, &t)| n * ticks + t as usize).collect()
    }

    /// K·M·T: the channels of K keys.
    pub fn channel_count(&self, keys: usize) -> usize {
        keys * self.neurons_per_key as usize * self.ticks.max(1) as usize
    }
}

/// Input neurons that spike at the same tick in both patterns.
pub fn coincidences(a: &[u32], b: &[u32]) -> usize {
    a.iter().zip(b).filter(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn value(v: u32) -> Token {
        Token::Value(format!("v{v}"))
    }

    #[test]
    fn equal_tokens_give_equal_patterns_within_the_window() {
        let e = Encoding::default();
        let a = e.pattern(&[value(1), Token::Bin(3), Token::Missing]);
        assert_eq!(a.len(), 24);
        assert_eq!(a, e.pattern(&[value(1), Token::Bin(3), Token::Missing]));
        assert!(a.iter().all(|&t| t < 16));
        assert_eq!(coincidences(&a, &a), 24);
    }

    #[test]
    fn neighbouring_bins_share_w_minus_d_of_w_neurons() {
        let e = Encoding { neurons_per_key: 16, ticks: 1 << 20, spread: 4, seed: 7 };
        for b in 0..20u32 {
            for d in 0..6u32 {
                let (x, y) = (e.pattern(&[Token::Bin(b)]), e.pattern(&[Token::Bin(b + d)]));
                // T = 2^20: chance coincidences are all but impossible.
                assert_eq!(
                    coincidences(&x, &y),
                    (16 * 4usize.saturating_sub(d as usize)) / 4,
                    "bins {b} and {}",
                    b + d
                );
            }
        }
    }

    #[test]
    fn the_hash_matches_an_independent_implementation() {
        // lowbias32 computed with Python's integers, masked to 32 bits.
        assert_eq!(mix32(0), 0);
        assert_eq!(mix32(1), 0x6889_90c0);
        assert_eq!(mix32(0xdead_beef), 0xe628_c683);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        /// On random records of categorical keys, coincidences are at least
        /// M per shared pair, and their mean over many pairs is the
        /// module's formula M·S + M·(K − S)/T within sampling error.
        #[test]
        fn coincidences_grow_with_shared_pairs(keys in 4usize..12, shared in 0usize..4, seed in any::<u32>()) {
            let shared = shared.min(keys);
            let e = Encoding { neurons_per_key: 8, ticks: 8, spread: 1, seed };
            let m = e.neurons_per_key as usize;
            let pairs = 400u32;
            let mut total = 0usize;
            for p in 0..pairs {
                let a: Vec<Token> = (0..keys as u32).map(|k| value(mix32(seed ^ p ^ (k << 20)))).collect();
                let b: Vec<Token> = (0..keys as u32)
                    .map(|k| if (k as usize) < shared { a[k as usize].clone() } else { value(mix32(!seed ^ p ^ (k << 20))) })
                    .collect();
                let c = coincidences(&e.pattern(&a), &e.pattern(&b));
                prop_assert!(c >= m * shared);
                total += c;
            }
            let mean = total as f64 / f64::from(pairs);
            let expected = (m * shared) as f64 + (m * (keys - shared)) as f64 / f64::from(e.ticks);
            // Chance coincidences per pair: binomial(M·(K−S), 1/T); the
            // mean of 400 pairs has a standard deviation below 0.15 here.
            prop_assert!((mean - expected).abs() < 0.75, "mean {mean}, expected {expected}");
        }
    }
}
