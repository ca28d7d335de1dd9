//! The pre-synthesis estimate on the ECP5 against its fit data,
//! `benches/estimate_fit_ecp5.csv` (written by `cargo bench --bench
//! estimate_fit_ecp5` with YoWASP's Yosys and nextpnr-ecp5): the data are
//! the current code's (each design's terms and estimate recomputed here),
//! and the estimate (the iCE40 terms times `ECP5_COEFFICIENTS`, in LUT4s)
//! is within the tolerance its docs claim of every design's packed LUT4s.
//! No tools needed.

mod common;

use std::collections::BTreeMap;
use ttfs_hw::estimate::{self, TERMS};
use ttfs_hw::planner::plan;
use ttfs_hw::target::{Family, Target};

/// The estimate's claimed accuracy on the ECP5 (`estimate.rs`, README.md).
const TOLERANCE: f64 = 0.10;

const N: usize = TERMS.len();

#[test]
fn the_ecp5_estimate_is_current_and_within_its_tolerance() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/estimate_fit_ecp5.csv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines().filter(|l| !l.starts_with('#'));
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    assert_eq!(header[6..6 + N], TERMS, "the fit data's columns are not the estimate's terms; rerun the bench");
    let mut networks = BTreeMap::new();
    let (mut stale, mut off, mut rows) = (Vec::new(), Vec::new(), 0);
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), header.len(), "{line}");
        let (design, model, lanes, planned_lanes) = (f[0], f[1], f[3], f[4]);
        let target = Target::parse(f[2]).expect("a target");
        assert_eq!(target.family(), Family::Ecp5, "{design}");
        let time_bits: u32 = f[5].parse().unwrap();
        let terms: [f64; N] = std::array::from_fn(|i| f[6 + i].parse().unwrap());
        let (estimate, packed): (u64, u64) = (f[6 + N].parse().unwrap(), f[7 + N].parse().unwrap());
        let net =
            networks.entry((model.to_string(), time_bits)).or_insert_with(|| common::fit_network(model, time_bits));
        let p = plan(net, target, &common::parse_lanes(lanes)).unwrap_or_else(|e| panic!("{design}: {e}"));
        let planned: Vec<String> = p.layers.iter().map(|l| l.lanes.to_string()).collect();
        let now = (estimate::features(&p), estimate::estimate(&p).logic_cells);
        if planned.join("/") != planned_lanes || now != (terms, estimate) {
            stale.push(format!("{design}: lanes {}, terms and estimate {now:?} now", planned.join("/")));
        }
        let error = (estimate as f64 - packed as f64) / packed as f64;
        println!("{design:>36}: packed {packed:6} LUT4s, estimate {estimate:6} ({:+.1} %)", 100.0 * error);
        if error.abs() > TOLERANCE {
            off.push(format!("{design}: estimate {estimate}, packed {packed}"));
        }
        rows += 1;
    }
    assert!(rows >= 4, "{rows} designs in the ECP5 fit data");
    assert!(
        stale.is_empty(),
        "benches/estimate_fit_ecp5.csv is stale; rerun `cargo bench --bench estimate_fit_ecp5`:\n{}",
        stale.join("\n")
    );
    assert!(off.is_empty(), "beyond {} %:\n{}", 100.0 * TOLERANCE, off.join("\n"));
}
