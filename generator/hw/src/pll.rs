//! iCE40 PLL settings (SB_PLL40_*, simple feedback) for the board wrappers:
//! the fastest output clock at or below a limit, from the boards' 12 MHz
//! oscillator.
//!
//! Limits from the iCE40 sysCLOCK PLL documentation: phase detector input
//! 10–133 MHz, VCO 533–1066 MHz, output 16–275 MHz; DIVR 0..15, DIVF
//! 0..127, DIVQ 1..6; F_out = F_in · (DIVF + 1) / ((DIVR + 1) · 2^DIVQ).

use serde::Serialize;

/// The slowest clock the PLL puts out, MHz.
pub const MIN_OUTPUT_MHZ: f64 = 16.0;

/// The fastest clock the PLL puts out, MHz.
pub const MAX_OUTPUT_MHZ: f64 = 275.0;

/// One PLL configuration.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Pll {
    /// Reference divider.
    pub divr: u32,
    /// Feedback divider.
    pub divf: u32,
    /// Output divider (power of two).
    pub divq: u32,
    /// Loop filter range, from the phase detector frequency.
    pub filter_range: u32,
    /// The output frequency, MHz.
    pub mhz: f64,
}

/// The loop filter setting for a phase detector frequency (MHz).
fn filter_range(pfd: f64) -> u32 {
    match pfd {
        f if f < 17.0 => 1,
        f if f < 26.0 => 2,
        f if f < 44.0 => 3,
        f if f < 66.0 => 4,
        f if f < 101.0 => 5,
        _ => 6,
    }
}

/// The fastest clock the PLL makes from `input_mhz` that does not exceed
/// `max_mhz` (`None` when the limit is below the PLL's 16 MHz minimum).
/// Among equal frequencies, the lowest VCO frequency wins (less power).
pub fn at_most(input_mhz: f64, max_mhz: f64) -> Option<Pll> {
    let mut best: Option<(Pll, f64)> = None;
    for divr in 0..16u32 {
        let pfd = input_mhz / f64::from(divr + 1);
        if !(10.0..=133.0).contains(&pfd) {
            continue;
        }
        for divf in 0..128u32 {
            let vco = pfd * f64::from(divf + 1);
            if !(533.0..=1066.0).contains(&vco) {
                continue;
            }
            for divq in 1..7u32 {
                let out = vco / f64::from(1u32 << divq);
                if !(MIN_OUTPUT_MHZ..=MAX_OUTPUT_MHZ).contains(&out) || out > max_mhz + 1e-9 {
                    continue;
                }
                let better = match best {
                    None => true,
                    Some((b, b_vco)) => out > b.mhz + 1e-9 || ((out - b.mhz).abs() <= 1e-9 && vco < b_vco),
                };
                if better {
                    best = Some((Pll { divr, divf, divq, filter_range: filter_range(pfd), mhz: out }, vco));
                }
            }
        }
    }
    best.map(|(p, _)| p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_frequencies_from_12_mhz() {
        let p = at_most(12.0, 24.0).unwrap();
        assert_eq!((p.divr, p.divf, p.divq, p.filter_range), (0, 63, 5, 1));
        assert!((p.mhz - 24.0).abs() < 1e-9);
        let p = at_most(12.0, 48.0).unwrap();
        assert_eq!((p.divr, p.divf, p.divq), (0, 63, 4));
        assert!((at_most(12.0, 36.0).unwrap().mhz - 36.0).abs() < 1e-9);
    }

    #[test]
    fn never_above_the_limit_and_none_below_16_mhz() {
        for tenth in 162..1000 {
            let limit = f64::from(tenth) / 10.0;
            let p = at_most(12.0, limit).unwrap();
            assert!(p.mhz <= limit + 1e-9 && p.mhz > limit - 2.0, "{limit}: {p:?}");
        }
        assert!(at_most(12.0, 15.0).is_none());
    }
}
