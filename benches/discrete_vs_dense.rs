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
use ttfs_convert::Options;
use ttfs_sim::{Prepared, discrete, encode};

const BATCH: usize = 1000;

/// The float network of the description (weights on x0 = pixel/255) as a
/// dense forward pass in precision `F`.
struct Dense<F> {
    w1: Array2<F>,
    b1: Array1<F>,
    w2: Array2<F>,
    b2: Array1<F>,
}

impl<F: ndarray::LinalgScalar + PartialOrd + FromF64> Dense<F> {
    fn from(net: &ttfs_ir::Network) -> Self {
        let layer = |k: usize| {
            let ttfs_ir::Layer::Dense(d) = &net.layers[k] else { panic!("dense") };
            let w = Array2::from_shape_vec(
                (d.outputs, d.inputs),
                d.params.weights.iter().map(|&v| F::from_f64(v)).collect(),
            )
            .unwrap()
            .reversed_axes();
            let b = Array1::from_iter(d.params.bias.iter().map(|&v| F::from_f64(v)));
            (w, b)
        };
        let ((w1, b1), (w2, b2)) = (layer(0), layer(1));
        Dense { w1, b1, w2, b2 }
    }

    fn forward(&self, x: &Array2<F>) -> Array2<F> {
        let mut h = x.dot(&self.w1) + &self.b1;
        h.mapv_inplace(|v| if v > F::zero() { v } else { F::zero() });
        h.dot(&self.w2) + &self.b2
    }
}

trait FromF64 {
    fn from_f64(v: f64) -> Self;
}
impl FromF64 for f32 {
    fn from_f64(v: f64) -> Self {
        v as f32
    }
}
impl FromF64 for f64 {
    fn from_f64(v: f64) -> Self {
        v
    }
}

fn main() {
    let net =
        common::convert_fixture("mnist_mlp.onnx", "mnist/train5k-images-idx3-ubyte.gz", None, &Options::default());
    let (values, count) = common::canonical_samples(&net, "mnist/t10k-images-idx3-ubyte.gz", Some(BATCH));
    let model = Prepared::new(&net);
    // One contiguous batch, as the dense side's input matrix is.
    let q0_batch: Vec<i64> = values.chunks(784).flat_map(|raw| encode::discrete(&net, raw)).collect();
    let q0: Vec<&[i64]> = q0_batch.chunks(784).collect();
    let x = Array2::from_shape_vec((count, 784), values.iter().map(|&v| (v / 255.0) as f32).collect()).unwrap();
    let x64 = Array2::from_shape_vec((count, 784), values.iter().map(|&v| v / 255.0).collect()).unwrap();
    let dense = Dense::<f32>::from(&net);
    let dense64 = Dense::<f64>::from(&net);

    // Both compute (almost) the same classes: check agreement before timing.
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
    group.bench_with_input(BenchmarkId::new("dense_ndarray_f64", count), &x64, |b, x| b.iter(|| dense64.forward(x)));
    group.bench_with_input(BenchmarkId::new("discrete_tick_by_tick", count), &q0, |b, q0| {
        b.iter(|| q0.iter().map(|q| discrete::run(&model, q, false).logits[0]).sum::<i64>())
    });
    group.finish();

    // The ratio, from a direct measurement in this same run: the three
    // sides take turns, and each keeps its fastest run, so that load from
    // other processes on the machine slows neither side more than the other.
    let mut best = [f64::INFINITY; 3];
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(9) {
        let runs: [&mut dyn FnMut(); 3] = [
            &mut || {
                std::hint::black_box(dense.forward(&x));
            },
            &mut || {
                std::hint::black_box(dense64.forward(&x64));
            },
            &mut || {
                std::hint::black_box(q0.iter().map(|q| discrete::run(&model, q, false).logits[0]).sum::<i64>());
            },
        ];
        for (f, b) in runs.into_iter().zip(&mut best) {
            let t = Instant::now();
            f();
            *b = b.min(t.elapsed().as_secs_f64());
        }
    }
    let [t_dense, t_dense64, t_discrete] = best;
    let rate = |t: f64| count as f64 / t;
    println!(
        "\nbatch of {count}: dense ndarray f32 {:.2} ms ({:.0} inferences/s), f64 {:.2} ms ({:.0}/s); discrete tick-by-tick {:.2} ms ({:.0}/s)",
        t_dense * 1e3,
        rate(t_dense),
        t_dense64 * 1e3,
        rate(t_dense64),
        t_discrete * 1e3,
        rate(t_discrete)
    );
    println!(
        "ratio discrete/dense speed: {:.3} against f32, {:.3} against f64 (goal ≥ 0.5)",
        t_dense / t_discrete,
        t_dense64 / t_discrete
    );
}
