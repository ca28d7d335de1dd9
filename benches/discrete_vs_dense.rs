//! Speed of the tick-by-tick discrete simulator against a dense ndarray
//! forward pass of the same network on the same batch, reported as a ratio
//! measured in the same run (goal: ≥ 0.5).
//!
//! The network is the MNIST 784-128-10 MLP fixture exported by skl2onnx,
//! converted at 8-bit time and 8-bit weights; the batch is the first 1,000
//! MNIST test images. Both sides run on one thread.
//!
//! Run: `cargo bench --bench discrete_vs_dense`.

#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{BenchmarkId, Criterion, Throughput};
use ndarray::{Array1, Array2, Axis};
use std::time::{Duration, Instant};
use ttfs_gen::convert::Options;
use ttfs_sim::{Prepared, discrete, encode};

const BATCH: usize = 1000;

struct Dense {
    w1: Array2<f32>,
    b1: Array1<f32>,
    w2: Array2<f32>,
    b2: Array1<f32>,
}

impl Dense {
    /// The float network of the description (weights on x0 = pixel/255).
    fn from(net: &ttfs_ir::Network) -> Dense {
        let layer = |k: usize| {
            let ttfs_ir::Layer::Dense(d) = &net.layers[k] else { panic!("dense") };
            let w = Array2::from_shape_vec((d.outputs, d.inputs), d.params.weights.iter().map(|&v| v as f32).collect())
                .unwrap()
                .reversed_axes();
            let b = Array1::from_iter(d.params.bias.iter().map(|&v| v as f32));
            (w, b)
        };
        let ((w1, b1), (w2, b2)) = (layer(0), layer(1));
        Dense { w1, b1, w2, b2 }
    }

    fn forward(&self, x: &Array2<f32>) -> Array2<f32> {
        let mut h = x.dot(&self.w1) + &self.b1;
        h.mapv_inplace(|v| v.max(0.0));
        h.dot(&self.w2) + &self.b2
    }
}

fn main() {
    let net =
        common::convert_fixture("mnist_mlp.onnx", "mnist/train5k-images-idx3-ubyte.gz", None, &Options::default());
    let (values, count) = common::canonical_samples(&net, "mnist/t10k-images-idx3-ubyte.gz", Some(BATCH));
    let model = Prepared::new(&net);
    let q0: Vec<Vec<i64>> = values.chunks(784).map(|raw| encode::discrete(&net, raw)).collect();
    let x = Array2::from_shape_vec((count, 784), values.iter().map(|&v| (v / 255.0) as f32).collect()).unwrap();
    let dense = Dense::from(&net);

    // Both compute the same classes (the discrete network's accuracy matches; spot-check agreement).
    let logits = dense.forward(&x);
    let agree = q0
        .iter()
        .zip(logits.axis_iter(Axis(0)))
        .filter(|(q, l)| {
            let d = discrete::run(&model, q, false).logits;
            ttfs_sim::argmax(&d) == ttfs_sim::argmax(&l.to_vec())
        })
        .count();
    println!("discrete and dense agree on {agree} of {count} images");

    let mut c = Criterion::default().configure_from_args().measurement_time(Duration::from_secs(5));
    let mut group = c.benchmark_group("mnist_mlp_784_128_10_batch");
    group.throughput(Throughput::Elements(count as u64));
    group.bench_with_input(BenchmarkId::new("dense_ndarray_f32", count), &x, |b, x| b.iter(|| dense.forward(x)));
    group.bench_with_input(BenchmarkId::new("discrete_tick_by_tick", count), &q0, |b, q0| {
        b.iter(|| q0.iter().map(|q| discrete::run(&model, q, false).logits[0]).sum::<i64>())
    });
    group.finish();

    // The ratio, from a direct measurement in this same run.
    let time = |f: &mut dyn FnMut()| {
        f();
        let start = Instant::now();
        let mut runs = 0;
        while start.elapsed() < Duration::from_secs(3) {
            f();
            runs += 1;
        }
        start.elapsed().as_secs_f64() / f64::from(runs)
    };
    let t_dense = time(&mut || {
        std::hint::black_box(dense.forward(&x));
    });
    let t_discrete = time(&mut || {
        std::hint::black_box(q0.iter().map(|q| discrete::run(&model, q, false).logits[0]).sum::<i64>());
    });
    println!(
        "\nbatch of {count}: dense ndarray {:.2} ms ({:.0} inferences/s), discrete tick-by-tick {:.2} ms ({:.0} inferences/s)",
        t_dense * 1e3,
        count as f64 / t_dense,
        t_discrete * 1e3,
        count as f64 / t_discrete
    );
    println!("ratio discrete/dense speed: {:.3} (goal ≥ 0.5)", t_dense / t_discrete);
}
