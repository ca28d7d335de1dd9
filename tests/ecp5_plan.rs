//! Planning for the ECP5 (no tools): the fixture MLPs fit the LFE5U-25F
//! with every weight in block RAM and the lanes' multipliers in MULT18X18Ds
//! while they last, and a network too large for a part is refused with the
//! next part up as the design that fits.

mod common;

use common::synthetic::{Spec, images};
use ttfs_convert::{CalibrationData, Options, convert, stage::read_model};
use ttfs_hw::plan::WeightStore;
use ttfs_hw::planner::{self, Goal, Lanes, PlanError};
use ttfs_hw::target::Target;

#[test]
fn the_fixture_mlps_fit_the_25f_in_block_ram() {
    for (model, calib) in
        [("digits_mlp", "digits/train_images.csv.gz"), ("mnist_mlp", "mnist/train5k-images-idx3-ubyte.gz")]
    {
        let net = common::convert_fixture(&format!("{model}.onnx"), calib, Some(300), &Options::default());
        let (plan, choice) = planner::auto(&net, Target::Ecp5_25f, &Goal::DEFAULT, None).unwrap();
        let have = Target::Ecp5_25f.resources();
        assert!(plan.layers.iter().all(|l| l.weight_store == WeightStore::BlockRam), "{model}");
        assert!(plan.needs.bram_blocks <= have.bram_blocks && plan.needs.spram_blocks == 0, "{model}");
        assert!(plan.needs.dsp_blocks <= have.dsp_blocks, "{model}");
        assert!(choice.lanes.iter().any(|&l| l > 1), "{model}: lanes {:?}", choice.lanes);
        // Every lane of a layer with DSPs has one; they go to the layers in order.
        for l in &plan.layers {
            assert!(l.dsp_lanes == 0 || l.dsp_lanes == l.lanes, "{model}: {l:?}");
        }
        eprintln!("{model} on the ecp5-25f: lanes {:?}, {:?}", choice.lanes, plan.needs);
    }
}

#[test]
fn a_network_too_large_for_the_25f_is_sent_to_the_45f() {
    // 784-192-10 at 8-bit weights: 1.2 Mbit of weights, more than the 25F's
    // 56 block RAMs (1 Mbit) hold at any lanes.
    let spec = Spec::mlp(&[784, 192, 10]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mlp.onnx");
    std::fs::write(&path, spec.onnx(3)).unwrap();
    let graph = read_model(&path).unwrap();
    let pixels: Vec<f64> = images(&spec.input, 50, 1).into_iter().map(f64::from).collect();
    let calibration =
        CalibrationData { name: "images".into(), values: &pixels, count: 50, natural_range: Some([0.0, 255.0]) };
    let net = convert(&graph, &calibration, &Options::default()).unwrap();
    let lanes = Lanes::Auto(Goal::DEFAULT);
    let err = planner::choose(&net, Target::Ecp5_25f, &lanes, None).unwrap_err();
    assert!(matches!(err, PlanError::DoesNotFit { target: Target::Ecp5_25f, .. }), "{err}");
    let alternatives = planner::alternatives(&net, Target::Ecp5_25f, &lanes);
    let (first, plan) = alternatives.first().expect("a larger ECP5 holds it");
    assert_eq!(*first, Target::Ecp5_45f, "the next part up comes first");
    assert!(plan.needs.bram_blocks <= Target::Ecp5_45f.resources().bram_blocks);
    assert!(alternatives.iter().all(|(t, _)| t.family() == ttfs_hw::target::Family::Ecp5));
}
