//! The spike-time ops' backward passes against central finite differences
//! in f64 (relative error of the whole gradient ≤ 1e-6), and the b1
//! network's gradient against its ReLU twin's.

use candle_core::Tensor;
use ttfs_train::epoch::cross_entropy;
use ttfs_train::net::{AlphaInit, Layer, Neuron, SpikingNet, Window};
use ttfs_train::rng::SplitMix64;
use ttfs_train::spec;

/// A batch of inputs in `[0, 1]` and one-hot targets.
fn batch(seed: u64, b: usize, len: usize, classes: usize) -> (Tensor, Tensor) {
    let mut rng = SplitMix64::new(seed);
    let x: Vec<f64> = (0..b * len).map(|_| rng.unit()).collect();
    let mut t = vec![0.0; b * classes];
    for i in 0..b {
        t[i * classes + (rng.next_u64() as usize % classes)] = 1.0;
    }
    (
        Tensor::from_vec(x, (b, len), &candle_core::Device::Cpu).unwrap(),
        Tensor::from_vec(t, (b, classes), &candle_core::Device::Cpu).unwrap(),
    )
}

/// Short windows (so that spike times carry few rounding digits) and
/// biases that keep about half of the neurons active.
fn shorten_windows(net: &mut SpikingNet, length: f64) {
    let n = net.windows().len();
    let windows: Vec<Window> =
        (0..n).map(|i| Window { t_min: 1.0 + length * i as f64, t_max: 1.0 + length * (i + 1) as f64 }).collect();
    net.set_windows(&windows).unwrap();
}

fn loss(net: &SpikingNet, x: &Tensor, y: &Tensor) -> f64 {
    cross_entropy(&net.forward(x).unwrap().logits, y).unwrap().to_scalar::<f64>().unwrap()
}

/// ‖analytic − numeric‖ / ‖numeric‖ over every parameter of `net`.
fn gradient_error(net: &SpikingNet, x: &Tensor, y: &Tensor) -> (f64, usize) {
    let pass = net.forward(x).unwrap();
    let grads = cross_entropy(&pass.logits, y).unwrap().backward().unwrap();
    let (mut diff, mut norm, mut count) = (0.0, 0.0, 0);
    for var in net.vars() {
        let analytic = grads.get(var.as_tensor()).map(|g| g.flatten_all().unwrap().to_vec1::<f64>().unwrap());
        let values = var.as_tensor().flatten_all().unwrap().to_vec1::<f64>().unwrap();
        let dims = var.as_tensor().dims().to_vec();
        for i in 0..values.len() {
            let h = 1e-6 * values[i].abs().max(1.0);
            let at = |delta: f64| {
                let mut v = values.clone();
                v[i] += delta;
                var.set(&Tensor::from_vec(v, dims.as_slice(), &candle_core::Device::Cpu).unwrap()).unwrap();
                loss(net, x, y)
            };
            let numeric = (at(h) - at(-h)) / (2.0 * h);
            var.set(&Tensor::from_vec(values.clone(), dims.as_slice(), &candle_core::Device::Cpu).unwrap()).unwrap();
            let a = analytic.as_ref().map_or(0.0, |g| g[i]);
            diff += (a - numeric).powi(2);
            norm += numeric.powi(2);
            count += 1;
        }
    }
    ((diff / norm).sqrt(), count)
}

fn set_biases(net: &SpikingNet, seed: u64, scale: f64) {
    let mut rng = SplitMix64::new(seed);
    for layer in &net.layers {
        if let Layer::Dense { b, .. } | Layer::Conv { b, .. } = layer {
            let n = b.as_tensor().elem_count();
            let dims = b.as_tensor().dims().to_vec();
            if dims.len() == 1 {
                let v: Vec<f64> = (0..n).map(|_| rng.uniform(-scale, scale)).collect();
                b.set(&Tensor::from_vec(v, dims, &candle_core::Device::Cpu).unwrap()).unwrap();
            }
        }
    }
}

#[test]
fn b1_dense_gradients_match_finite_differences() {
    let arch = spec::parse("12-9-7-4").unwrap();
    for seed in 0..3 {
        let mut net = SpikingNet::new(&arch, &[12], Neuron::B1, seed).unwrap();
        shorten_windows(&mut net, 8.0);
        set_biases(&net, seed + 10, 0.3);
        let (x, y) = batch(seed, 5, 12, 4);
        let (err, n) = gradient_error(&net, &x, &y);
        assert!(err <= 1e-6, "seed {seed}: relative gradient error {err:e} over {n} parameters");
    }
}

#[test]
fn b1_conv_pool_gradients_match_finite_differences() {
    let arch = spec::parse("2x7x7-c3k3z1-p2-c2k2s1-5-3").unwrap();
    for seed in 0..2 {
        let mut net = SpikingNet::new(&arch, &[2, 7, 7], Neuron::B1, seed).unwrap();
        shorten_windows(&mut net, 8.0);
        set_biases(&net, seed + 20, 0.2);
        let (x, y) = batch(seed + 5, 3, 2 * 7 * 7, 3);
        let (err, n) = gradient_error(&net, &x, &y);
        assert!(err <= 1e-6, "seed {seed}: relative gradient error {err:e} over {n} parameters");
    }
}

#[test]
fn alpha_gradients_match_finite_differences() {
    for init in [AlphaInit::Ordinary, AlphaInit::SlopeNormalised] {
        let arch = spec::parse("6-5-4-3").unwrap();
        let net = SpikingNet::with_window(&arch, &[6], Neuron::Alpha(init), 3, 4.0).unwrap();
        let (x, y) = batch(4, 4, 6, 3);
        let (err, n) = gradient_error(&net, &x, &y);
        assert!(err <= 1e-6, "{init:?}: relative gradient error {err:e} over {n} parameters");
    }
}

#[test]
fn alpha_conv_pool_gradients_match_finite_differences() {
    let arch = spec::parse("2x6x6-c3k3z1-p2-c2k2-4-3").unwrap();
    for init in [AlphaInit::Ordinary, AlphaInit::SlopeNormalised] {
        let net = SpikingNet::with_window(&arch, &[2, 6, 6], Neuron::Alpha(init), 5, 4.0).unwrap();
        let (x, y) = batch(6, 3, 72, 3);
        // The first convolution's J gets a gradient (its neurons are not all forced).
        let grads = cross_entropy(&net.forward(&x).unwrap().logits, &y).unwrap().backward().unwrap();
        let first = grads.get(net.vars()[0].as_tensor()).unwrap().sqr().unwrap().sum_all().unwrap();
        assert!(first.to_scalar::<f64>().unwrap() > 0.0, "{init:?}: no gradient reaches the first convolution");
        let (err, n) = gradient_error(&net, &x, &y);
        assert!(err <= 1e-6, "{init:?}: relative gradient error {err:e} over {n} parameters");
    }
}

/// Paper 2's claim, in the forward and the backward pass: the b1 network's
/// logits and parameter gradients are the ReLU network's.
#[test]
fn b1_equals_its_relu_twin() {
    let arch = spec::parse("2x8x8-c4k3-p2-16-10").unwrap();
    let net = SpikingNet::new(&arch, &[2, 8, 8], Neuron::B1, 9).unwrap();
    set_biases(&net, 3, 0.1);
    let (x, y) = batch(2, 16, 128, 10);
    let snn = net.forward(&x).unwrap();
    let relu_logits = net.relu_forward(&x).unwrap().logits;
    let diff = (&snn.logits - &relu_logits).unwrap().abs().unwrap().max_keepdim(1).unwrap().max(0).unwrap();
    assert!(diff.flatten_all().unwrap().to_vec1::<f64>().unwrap()[0] < 1e-9);
    let g_snn = cross_entropy(&snn.logits, &y).unwrap().backward().unwrap();
    let g_relu = cross_entropy(&relu_logits, &y).unwrap().backward().unwrap();
    for var in net.vars() {
        let a = g_snn.get(var.as_tensor()).unwrap().flatten_all().unwrap().to_vec1::<f64>().unwrap();
        let b = g_relu.get(var.as_tensor()).unwrap().flatten_all().unwrap().to_vec1::<f64>().unwrap();
        let dot: f64 = a.iter().zip(&b).map(|(p, q)| p * q).sum();
        let (na, nb) = (a.iter().map(|v| v * v).sum::<f64>().sqrt(), b.iter().map(|v| v * v).sum::<f64>().sqrt());
        assert!(dot / (na * nb) >= 1.0 - 1e-9, "cosine {}", dot / (na * nb));
        assert!((na / nb - 1.0).abs() < 1e-9, "norm ratio {}", na / nb);
    }
}

/// Windows grow to ten times the batch's largest activation and stay back to back.
#[test]
fn windows_adapt_and_stay_back_to_back() {
    let arch = spec::parse("10-20-20-3").unwrap();
    let mut net = SpikingNet::new(&arch, &[10], Neuron::B1, 1).unwrap();
    shorten_windows(&mut net, 0.01);
    let (x, _) = batch(1, 8, 10, 3);
    let pass = net.forward(&x).unwrap();
    net.adapt_windows(&pass).unwrap();
    let windows = net.windows();
    assert_eq!(windows[0].t_min, 1.0);
    for (w, h) in windows.iter().zip(&pass.hidden) {
        let largest = h.u.flatten_all().unwrap().to_vec1::<f64>().unwrap().into_iter().fold(0.0, f64::max);
        assert!(w.t_max - w.t_min >= 10.0 * largest - 1e-12 && w.t_max - w.t_min >= 0.01);
    }
    assert_eq!(windows[1].t_min, windows[0].t_max);
}
