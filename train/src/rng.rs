//! SplitMix64: the trainer's one source of randomness (initial weights,
//! shuffles, spike-time jitter), so that a seed fixes every draw on every
//! machine. Each use derives its own stream ([`SplitMix64::stream`]), so a
//! resumed run draws exactly what an uninterrupted one would.

/// Sebastiano Vigna's SplitMix64 generator (public-domain algorithm).
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator started at `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// An independent stream for `(seed, purpose, index)`, e.g. the shuffle
    /// of epoch 3.
    pub fn stream(seed: u64, purpose: u64, index: u64) -> Self {
        let mut g = SplitMix64::new(seed ^ purpose.wrapping_mul(0xA076_1D64_78BD_642F));
        g.state ^= g.next_u64() ^ index.wrapping_mul(0xE703_7ED1_A0B4_28DB);
        g
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[low, high)`.
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.unit()
    }

    /// A standard normal draw (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit(); // in (0, 1]: the logarithm is finite
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// A uniformly random permutation of `0..n` (Fisher–Yates).
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut p: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            p.swap(i, j);
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::SplitMix64;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4).map(|_| SplitMix64::stream(7, 1, 2).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(SplitMix64::stream(7, 1, 2).next_u64(), SplitMix64::stream(7, 1, 3).next_u64());
        let p = SplitMix64::new(3).permutation(100);
        let mut sorted = p.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        let mut g = SplitMix64::new(9);
        let mean = (0..20000).map(|_| g.normal()).sum::<f64>() / 20000.0;
        assert!(mean.abs() < 0.03, "{mean}");
    }
}
