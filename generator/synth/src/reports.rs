//! Reading what Yosys and nextpnr report: Yosys's `stat -json` (LUTs,
//! carries and flip-flops after `synth_ice40` or `synth_ecp5`), nextpnr's `--report`
//! JSON (utilisation per bel type and the achieved frequency per clock),
//! and the utilisation table nextpnr prints after packing (`--pack-only`).
//! Memories, DSPs and the clock constraint are read from nextpnr's placed
//! design, not from these, so they are not parsed here.

use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// The logic of the synthesized netlist.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Netlist {
    /// LUT4 cells (SB_LUT4; ECP5 LUT4).
    pub lut4: u64,
    /// Carry cells (SB_CARRY; ECP5 CCU2C, two bits each).
    pub carry: u64,
    /// Flip-flops (every SB_DFF* variant; ECP5 TRELLIS_FF).
    pub ff: u64,
}

/// Parses Yosys's `stat -json` output (the whole design's counts).
pub fn parse_yosys_stat(text: &str) -> Result<Netlist, String> {
    let json: Value = serde_json::from_str(text).map_err(|e| format!("Yosys's statistics are not JSON: {e}"))?;
    let by_type = json
        .pointer("/design/num_cells_by_type")
        .and_then(Value::as_object)
        .ok_or("Yosys's statistics have no design/num_cells_by_type")?;
    let mut netlist = Netlist::default();
    for (name, count) in by_type {
        let count = count.as_u64().ok_or_else(|| format!("Yosys's count of {name} is not a number"))?;
        match name.as_str() {
            "SB_LUT4" | "LUT4" => netlist.lut4 += count,
            "SB_CARRY" | "CCU2C" => netlist.carry += count,
            "TRELLIS_FF" => netlist.ff += count,
            n if n.starts_with("SB_DFF") => netlist.ff += count,
            _ => {}
        }
    }
    Ok(netlist)
}

/// One bel type's use after place and route.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Use {
    /// Used.
    pub used: u64,
    /// On the device.
    pub available: u64,
}

/// What nextpnr reports after place and route.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Placed {
    /// Bel types (ICESTORM_LC, ICESTORM_RAM, SB_IO, ...).
    pub utilisation: BTreeMap<String, Use>,
    /// The post-route maximum frequency of each clock, MHz.
    pub fmax_mhz: BTreeMap<String, f64>,
}

impl Placed {
    /// Use of one bel type (zero when the report does not list it).
    pub fn get(&self, bel: &str) -> Use {
        self.utilisation.get(bel).copied().unwrap_or_default()
    }

    /// The slowest clock's post-route frequency (the design's Fmax).
    pub fn fmax_mhz(&self) -> Option<f64> {
        self.fmax_mhz.values().copied().reduce(f64::min)
    }
}

/// Parses nextpnr's `--report` JSON.
pub fn parse_nextpnr_report(text: &str) -> Result<Placed, String> {
    let json: Value = serde_json::from_str(text).map_err(|e| format!("nextpnr's report is not JSON: {e}"))?;
    let mut placed = Placed::default();
    let utilisation =
        json.get("utilization").and_then(Value::as_object).ok_or("nextpnr's report has no utilization")?;
    for (bel, entry) in utilisation {
        let field = |name: &str| {
            entry.get(name).and_then(Value::as_u64).ok_or_else(|| format!("nextpnr's report: {bel} has no {name}"))
        };
        placed.utilisation.insert(bel.clone(), Use { used: field("used")?, available: field("available")? });
    }
    if let Some(fmax) = json.get("fmax").and_then(Value::as_object) {
        for (clock, entry) in fmax {
            let achieved = entry
                .get("achieved")
                .and_then(Value::as_f64)
                .ok_or_else(|| format!("nextpnr's report: clock {clock} has no achieved frequency"))?;
            placed.fmax_mhz.insert(clock.clone(), achieved);
        }
    }
    Ok(placed)
}

/// Parses the utilisation table nextpnr-ice40 prints after packing
/// (`Info:          ICESTORM_LC:  3866/ 7680    50%`).
pub fn parse_packed_utilisation(log: &str) -> BTreeMap<String, Use> {
    let mut table = BTreeMap::new();
    for line in log.lines() {
        let Some(rest) = line.trim_start().strip_prefix("Info:") else { continue };
        let Some((bel, counts)) = rest.trim().split_once(':') else { continue };
        let Some((used, rest)) = counts.split_once('/') else { continue };
        let available = rest.split_whitespace().next().unwrap_or("");
        if let (Ok(used), Ok(available), false) = (used.trim().parse(), available.parse(), bel.contains(' ')) {
            // The first table (after packing) is the one wanted.
            table.entry(bel.to_string()).or_insert(Use { used, available });
        }
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yosys_statistics() {
        let text = r#"{"creator": "Yosys", "modules": {}, "design": {"num_cells": 10,
            "num_cells_by_type": {"SB_LUT4": 5, "SB_CARRY": 2, "SB_DFFE": 3, "SB_DFFSR": 1,
            "SB_RAM40_4K": 2, "SB_MAC16": 1, "SB_SPRAM256KA": 4, "SB_PLL40_PAD": 1}}}"#;
        let n = parse_yosys_stat(text).unwrap();
        assert_eq!((n.lut4, n.carry, n.ff), (5, 2, 4));
        assert!(parse_yosys_stat("{}").unwrap_err().contains("num_cells_by_type"));
        assert!(parse_yosys_stat("not json").is_err());
        let ecp5 = r#"{"design": {"num_cells_by_type": {"LUT4": 7, "CCU2C": 3, "TRELLIS_FF": 9,
            "DP16KD": 2, "MULT18X18D": 1, "EHXPLLL": 1, "L6MUX21": 4, "PFUMX": 5}}}"#;
        let n = parse_yosys_stat(ecp5).unwrap();
        assert_eq!((n.lut4, n.carry, n.ff), (7, 3, 9));
    }

    #[test]
    fn nextpnr_report() {
        let text = r#"{"critical_paths": [], "fmax": {"clk": {"achieved": 52.2, "constraint": 48}},
            "utilization": {"ICESTORM_LC": {"available": 7680, "used": 3866},
            "SB_IO": {"available": 256, "used": 11}}}"#;
        let p = parse_nextpnr_report(text).unwrap();
        assert_eq!(p.get("ICESTORM_LC"), Use { used: 3866, available: 7680 });
        assert_eq!(p.get("ICESTORM_DSP"), Use::default());
        assert_eq!(p.fmax_mhz(), Some(52.2));
        assert!(parse_nextpnr_report(r#"{"fmax": {}}"#).is_err());
        let no_achieved = r#"{"fmax": {"clk": {"constraint": 48}}, "utilization": {}}"#;
        assert!(parse_nextpnr_report(no_achieved).unwrap_err().contains("clock clk has no achieved frequency"));
    }

    #[test]
    fn packed_table() {
        let log = "Info: Device utilisation:\nInfo: \t         ICESTORM_LC: 11199/ 7680   145%\n\
                   Info: \t        ICESTORM_RAM:     2/   32     6%\nInfo: Placed 14 cells based on constraints.\n\
                   Info: \t         ICESTORM_LC: 11000/ 7680   143%\n";
        let t = parse_packed_utilisation(log);
        assert_eq!(t["ICESTORM_LC"], Use { used: 11199, available: 7680 });
        assert_eq!(t["ICESTORM_RAM"].used, 2);
        assert_eq!(t.len(), 2);
    }
}
