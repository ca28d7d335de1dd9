//! The fine-tuning forward pass computes exactly the discrete simulator's
//! integer network (logits, hence classes), on real converted models.

use std::path::PathBuf;
use ttfs_train::finetune::forward;
use ttfs_train::net::SpikingNet;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures").join(name)
}

fn check(model: &str, calib: &str, data: &str, bits: (u32, u32)) {
    let graph = ttfs_convert::onnx::read(&fixture(model)).unwrap();
    let calib = ttfs_data::load_data(&fixture(calib)).unwrap();
    let options = ttfs_convert::Options { time_bits: vec![bits.0], weight_bits: vec![bits.1], ..Default::default() };
    let natural_range = (calib.element == ttfs_data::Element::U8).then_some([0.0, 255.0]);
    let net = ttfs_convert::convert(
        &graph,
        &ttfs_convert::CalibrationData {
            name: "calib".into(),
            values: &calib.values,
            count: calib.count,
            natural_range,
        },
        &options,
    )
    .unwrap();
    let (data, canonical) = ttfs_data::load_samples(&net, &fixture(data), Some(400)).unwrap();
    let n: usize = net.input.shape.iter().product();
    let q0: Vec<f64> =
        canonical.chunks(n).flat_map(|s| ttfs_sim::encode::discrete(&net, s)).map(|q| q as f64).collect();
    let ours = SpikingNet::from_network(&net).unwrap();
    let (logits, _) = forward(&ours, &net, &q0, data.count, None).unwrap();
    let logits = logits.to_vec2::<f64>().unwrap();
    let prepared = ttfs_sim::Prepared::new(&net);
    let scale = net.layers.last().unwrap().params().unwrap().quant.as_ref().unwrap().potential_scale;
    for (i, row) in logits.iter().enumerate() {
        let q: Vec<i64> = q0[i * n..(i + 1) * n].iter().map(|&v| v as i64).collect();
        let trace = ttfs_sim::quantized::forward(&prepared, &q);
        let expected: Vec<f64> = trace.logits().iter().map(|&v| v as f64 * scale).collect();
        assert_eq!(row, &expected, "{model} sample {i} at {bits:?}");
    }
}

#[test]
fn quantized_forward_equals_the_integer_network() {
    for bits in [(8, 8), (4, 4), (3, 4), (2, 3)] {
        check("digits_mlp.onnx", "digits/train_images.csv.gz", "digits/test_images.csv.gz", bits);
        check("mnist_mlp.onnx", "mnist/train5k-images-idx3-ubyte.gz", "mnist/t10k-images-idx3-ubyte.gz", bits);
    }
}
