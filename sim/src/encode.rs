//! Input encoding: raw input values to the continuous value `x0 ∈ [0, 1]`
//! and to the integer input code `q0 ∈ 0..=T_0`.

use ttfs_ir::Network;

/// Maps raw values (canonical layout) to `x0 = clamp((v − p)/(r − p), 0, 1)`,
/// with each element's own `[p, r]` ([`ttfs_ir::Input::range_of`]).
///
/// Returns the values and how many fell outside `[p, r]`.
pub fn continuous(net: &Network, raw: &[f64]) -> (Vec<f64>, usize) {
    let mut clipped = 0;
    let x0 = raw
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let [p, r] = net.input.range_of(i);
            let x = (v - p) / (r - p);
            if !(0.0..=1.0).contains(&x) {
                clipped += 1;
            }
            x.clamp(0.0, 1.0)
        })
        .collect();
    (x0, clipped)
}

/// Maps raw values to `q0 = clamp(floor(T_0·(v − p)/(r − p) + 1/2), 0, T_0)`,
/// the integers the hardware input port takes.
///
/// Assumes a network with integer coding (b1); for 8-bit images with
/// `[p, r] = [0, 255]` and `T_0 = 255`, `q0` is the pixel itself.
pub fn discrete(net: &Network, raw: &[f64]) -> Vec<i64> {
    let ticks = net.input.code.expect("integer input coding").ticks as f64;
    raw.iter()
        .enumerate()
        .map(|(i, &v)| {
            let [p, r] = net.input.range_of(i);
            // Multiply before dividing so integral pixel ranges map exactly.
            let q = (ticks * (v - p) / (r - p) + 0.5).floor();
            if q.is_nan() { 0 } else { q.clamp(0.0, ticks) as i64 }
        })
        .collect()
}
