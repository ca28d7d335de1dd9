//! Hardware planning: lanes, blocks, weight placement, refusals and the
//! "does not fit" message, on the real fixtures.

mod common;

use common::convert_fixture;
use ttfs_gen::convert::Options;
use ttfs_gen::generate::plan::{PlanError, WeightStore, plan};
use ttfs_gen::generate::target::Target;
use ttfs_ir::NeuronModel;

fn mnist_mlp() -> ttfs_ir::Network {
    convert_fixture("mnist_mlp.onnx", "mnist/train5k-images-idx3-ubyte.gz", Some(300), &Options::default())
}

#[test]
fn mnist_mlp_fits_the_up5k_with_weights_in_spram() {
    let p = plan(&mnist_mlp(), Target::Ice40Up5k, &[]).expect("fits");
    assert_eq!(p.layers.len(), 2);
    let hidden = &p.layers[0];
    assert_eq!((hidden.lanes, hidden.blocks, hidden.weight_words, hidden.weight_word_bits), (8, 16, 784 * 16, 64));
    assert_eq!(hidden.weight_store, WeightStore::Spram);
    assert_eq!(hidden.dsp_lanes, 8);
    assert_eq!(p.layers[1].weight_store, WeightStore::BlockRam);
    assert_eq!(p.needs.spram_blocks, 4);
    assert!(p.needs.bram_blocks <= 30, "{:?}", p.needs);
}

#[test]
fn mnist_mlp_does_not_fit_the_hx8k_and_says_why() {
    let err = plan(&mnist_mlp(), Target::Ice40Hx8k, &[]).unwrap_err();
    assert!(matches!(err, PlanError::DoesNotFit { .. }));
    insta::assert_snapshot!(err.to_string());
}

#[test]
fn digits_mlp_with_all_lanes_fits_the_hx8k() {
    let net = convert_fixture("digits_mlp.onnx", "digits/train_images.csv.gz", None, &Options::default());
    let p = plan(&net, Target::Ice40Hx8k, &[0]).expect("fits");
    assert_eq!(p.layers.iter().map(|l| (l.lanes, l.blocks)).collect::<Vec<_>>(), vec![(32, 1), (10, 1)]);
    assert_eq!(p.needs.spram_blocks, 0);
}

#[test]
fn convolutions_and_alpha_networks_are_refused_with_a_reason() {
    let cnn = convert_fixture("mnist_cnn.onnx", "mnist/train5k-images-idx3-ubyte.gz", Some(20), &Options::default());
    insta::assert_snapshot!("refuse_conv", plan(&cnn, Target::Generic, &[]).unwrap_err().to_string());
    let options = Options { neuron: NeuronModel::Alpha, ..Options::default() };
    let alpha = convert_fixture("digits_mlp.onnx", "digits/train_images.csv.gz", Some(50), &options);
    insta::assert_snapshot!("refuse_alpha", plan(&alpha, Target::Generic, &[]).unwrap_err().to_string());
}

#[test]
fn lanes_per_layer_must_match_the_layers() {
    let net = convert_fixture("digits_mlp.onnx", "digits/train_images.csv.gz", Some(50), &Options::default());
    let err = plan(&net, Target::Generic, &[4, 4, 4]).unwrap_err();
    assert_eq!(err.to_string(), "--lanes-per-layer has 3 values for 2 layers; give one per layer");
}

/// The cycle model on the MNIST MLP's real spike counts: within 1.2× of the
/// weight-bandwidth bound on average over the data.
#[test]
fn cycle_model_is_near_the_bandwidth_bound_on_mnist() {
    use ttfs_sim::kernel::Stage;
    let net = mnist_mlp();
    let p = plan(&net, Target::Ice40Up5k, &[]).unwrap();
    let (values, n) = common::canonical_samples(&net, "mnist/t10k-images-idx3-ubyte.gz", Some(500));
    let model = ttfs_sim::Prepared::new(&net);
    let (mut cycles, mut bound) = (0u64, 0u64);
    for raw in values.chunks(784) {
        let q0 = ttfs_sim::encode::discrete(&net, raw);
        let trace = ttfs_sim::discrete::run(&model, &q0, false);
        let mut spikes_in = q0.iter().filter(|&&q| q > 0).count() as u64;
        for (layer, stage) in p.layers.iter().zip(model.stages.iter().filter(|s| matches!(s, Stage::Weights { .. }))) {
            let Stage::Weights { layer: k, output, .. } = stage else { unreachable!() };
            let emitted = if *output {
                layer.outputs as u64
            } else {
                trace.ticks[*k].iter().filter(|&&t| t != ttfs_sim::discrete::NO_SPIKE).count() as u64
            };
            cycles += layer.cycles(spikes_in, emitted);
            bound += layer.bandwidth_bound(spikes_in);
            spikes_in = emitted;
        }
    }
    let ratio = cycles as f64 / bound as f64;
    eprintln!("mean cycles {:.0}, bound {:.0}, ratio {ratio:.3}", cycles as f64 / n as f64, bound as f64 / n as f64);
    assert!(ratio <= 1.2, "cycle model {ratio:.3}× the bandwidth bound");
    assert_eq!(p.layers[0].worst_case_cycles(), 16 * (784 + 2) + 128 + 9 + 4);
}
