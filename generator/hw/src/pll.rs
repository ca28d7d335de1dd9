//! PLL settings for the board wrappers: the fastest output clock at or
//! below a limit, from the board's oscillator.
//!
//! iCE40 (SB_PLL40_*, simple feedback, from the boards' 12 MHz oscillator;
//! [`at_most`]): limits from the iCE40 sysCLOCK PLL documentation: phase
//! detector input 10–133 MHz, VCO 533–1066 MHz, output 16–275 MHz; DIVR
//! 0..15, DIVF 0..127, DIVQ 1..6; F_out = F_in · (DIVF + 1) / ((DIVR + 1) ·
//! 2^DIVQ).
//!
//! ECP5 (EHXPLLL with CLKOP fed back, from the ULX3S's 25 MHz oscillator;
//! [`ecp5_at_most`]): limits from the ECP5 sysCLOCK documentation, as
//! Project Trellis's `ecppll` uses them: phase detector input 3.125–400
//! MHz, VCO 400–800 MHz, CLKOP 3.125–400 MHz; CLKI_DIV 1..128, CLKFB_DIV
//! 1..80, CLKOP_DIV 1..128; F_out = F_in · CLKFB_DIV / CLKI_DIV and
//! F_vco = F_out · CLKOP_DIV.

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

/// A board wrapper's PLL: the clock it makes and the family's settings
/// (exactly one of `ice40` and `ecp5`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct BoardPll {
    /// The output clock, MHz.
    pub mhz: f64,
    /// SB_PLL40_* settings (iCE40 boards).
    pub ice40: Option<Pll>,
    /// EHXPLLL settings (ECP5 boards).
    pub ecp5: Option<Ecp5Pll>,
}

impl BoardPll {
    /// The fastest clock the `family`'s PLL makes from `input_mhz` at or
    /// below `max_mhz` (`None` for the generic family or below the PLL's
    /// slowest clock).
    pub fn at_most(family: crate::target::Family, input_mhz: f64, max_mhz: f64) -> Option<BoardPll> {
        use crate::target::Family;
        match family {
            Family::Ice40 => at_most(input_mhz, max_mhz).map(|p| BoardPll { mhz: p.mhz, ice40: Some(p), ecp5: None }),
            Family::Ecp5 => {
                ecp5_at_most(input_mhz, max_mhz).map(|p| BoardPll { mhz: p.mhz, ice40: None, ecp5: Some(p) })
            }
            Family::Generic => None,
        }
    }
}

/// The slowest clock the board wrappers ask of the ECP5 PLL, MHz: the
/// same floor as the iCE40's (the EHXPLLL itself goes lower), so that
/// every wrapper's UART and reset timing holds the same way.
pub const ECP5_MIN_OUTPUT_MHZ: f64 = 16.0;

/// The fastest clock the ECP5 PLL puts out, MHz.
pub const ECP5_MAX_OUTPUT_MHZ: f64 = 400.0;

/// One EHXPLLL configuration (feedback from CLKOP).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Ecp5Pll {
    /// Input divider (CLKI_DIV).
    pub clki_div: u32,
    /// Feedback divider (CLKFB_DIV).
    pub clkfb_div: u32,
    /// Output divider (CLKOP_DIV).
    pub clkop_div: u32,
    /// CLKOP's coarse phase (CLKOP_CPHASE): CLKOP_DIV − 1, no shift.
    pub clkop_cphase: u32,
    /// The VCO frequency, MHz.
    pub vco_mhz: f64,
    /// The output frequency, MHz.
    pub mhz: f64,
}

/// The fastest clock the EHXPLLL makes from `input_mhz` that does not
/// exceed `max_mhz` (`None` below [`ECP5_MIN_OUTPUT_MHZ`]). Among equal
/// frequencies, the VCO nearest the middle of its range (600 MHz) wins, as
/// `ecppll` picks it.
pub fn ecp5_at_most(input_mhz: f64, max_mhz: f64) -> Option<Ecp5Pll> {
    let mut best: Option<Ecp5Pll> = None;
    for clki_div in 1..=128u32 {
        let pfd = input_mhz / f64::from(clki_div);
        if !(3.125..=400.0).contains(&pfd) {
            continue;
        }
        for clkfb_div in 1..=80u32 {
            let out = pfd * f64::from(clkfb_div);
            if !(ECP5_MIN_OUTPUT_MHZ..=ECP5_MAX_OUTPUT_MHZ).contains(&out) || out > max_mhz + 1e-9 {
                continue;
            }
            for clkop_div in 1..=128u32 {
                let vco = out * f64::from(clkop_div);
                if !(400.0..=800.0).contains(&vco) {
                    continue;
                }
                let better = match best {
                    None => true,
                    Some(b) => {
                        out > b.mhz + 1e-9
                            || ((out - b.mhz).abs() <= 1e-9 && (vco - 600.0).abs() < (b.vco_mhz - 600.0).abs() - 1e-9)
                    }
                };
                if better {
                    best = Some(Ecp5Pll {
                        clki_div,
                        clkfb_div,
                        clkop_div,
                        clkop_cphase: clkop_div - 1,
                        vco_mhz: vco,
                        mhz: out,
                    });
                }
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecp5_frequencies_from_25_mhz() {
        let p = ecp5_at_most(25.0, 50.0).unwrap();
        assert!((p.mhz - 50.0).abs() < 1e-9, "{p:?}");
        assert!((400.0..=800.0).contains(&p.vco_mhz));
        assert_eq!(p.clkop_cphase, p.clkop_div - 1);
        assert!((25.0 / f64::from(p.clki_div) * f64::from(p.clkfb_div) - p.mhz).abs() < 1e-9);
        // 25 MHz · 13 / 5 = 65 MHz: steps finer than the iCE40's.
        assert!((ecp5_at_most(25.0, 65.0).unwrap().mhz - 65.0).abs() < 1e-9);
        // The phase detector runs at 3.125 MHz or more, so the outputs
        // (multiples of it) are never further apart.
        for tenth in 170..2000 {
            let limit = f64::from(tenth) / 10.0;
            let p = ecp5_at_most(25.0, limit).unwrap();
            assert!(p.mhz <= limit + 1e-9 && p.mhz > limit - 3.125, "{limit}: {p:?}");
        }
        assert!(ecp5_at_most(25.0, 15.0).is_none());
    }

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
