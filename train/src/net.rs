//! The trainable spiking network: parameters as candle variables, the
//! forward pass in spike times (windows back to back from the input window
//! `[0, 1]`), the ReLU twin on the same parameters, and window adaptation.

use crate::ops::{alpha_dense, b1_fire, first_spike_pool};
use crate::rng::SplitMix64;
use crate::spec::{Arch, LayerSpec, shapes};
use candle_core::{DType, Device, Result as CResult, Tensor, Var};

/// Which neuron the hidden layers use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Neuron {
    /// Paper 2's constant-slope neuron: the parameters are the ReLU weights
    /// and biases, and gradients equal the ReLU network's.
    B1,
    /// Paper 1's α/J neuron, parameters J, α and ϑ (dense and conv layers).
    Alpha(AlphaInit),
}

/// How an α/J network's α is initialised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlphaInit {
    /// α = 1 and J drawn like ANN weights: the slope `α + ΣJ` is random.
    Ordinary,
    /// α_i = 1 − Σ_j J_ij, so that every slope starts at 1.
    SlopeNormalised,
}

/// A time window `[t_min, t_max]` of a spiking layer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Window {
    /// Start: the previous spiking layer's `t_max` (the input window ends at 1).
    pub t_min: f64,
    /// End: silence.
    pub t_max: f64,
}

/// Window length each hidden layer starts with, as the authors' code does
/// (`B_n = 1.5·X_n` with the default `X_n = 1000`); the windows only grow.
pub const INITIAL_WINDOW: f64 = 1500.0;
/// After every step each window is at least this many times the largest
/// activation of the batch (the authors' rule, `seeds.md` C.2).
pub const WINDOW_HEADROOM: f64 = 10.0;

/// One layer.
#[derive(Debug)]
pub enum Layer {
    /// Dense: weights `[out, in]` (J for α/J hidden layers), and a bias `[out]`
    /// (b1: D; output: b; α/J hidden: `[out, 2]` holding α and ϑ).
    Dense {
        /// Weights.
        w: Var,
        /// Bias or (α, ϑ).
        b: Var,
        /// Hidden layers: the window; `None` for the output layer.
        window: Option<Window>,
    },
    /// Convolution: weights `[co, ci, k, k]` (J for α/J), bias `[co]` (α/J: `[co, 2]`, α and ϑ).
    Conv {
        /// Weights.
        w: Var,
        /// Bias.
        b: Var,
        /// Stride.
        stride: usize,
        /// Zero padding on every side.
        pad: usize,
        /// The window.
        window: Window,
    },
    /// First-spike (max) pooling.
    Pool {
        /// Pool size.
        kernel: usize,
        /// Stride.
        stride: usize,
    },
}

/// A spiking network being trained.
#[derive(Debug)]
pub struct SpikingNet {
    /// The neuron model.
    pub neuron: Neuron,
    /// `[n]` or `[C, H, W]`.
    pub input_shape: Vec<usize>,
    /// Layers in order; the last is the dense output layer.
    pub layers: Vec<Layer>,
}

/// What one forward pass computed.
pub struct Pass {
    /// Output potentials at the output layer's `t_min`: the logits `[B, classes]`.
    pub logits: Tensor,
    /// Per hidden weight layer: the potentials from the threshold's reach
    /// (`u`, b1) and the spike times.
    pub hidden: Vec<Hidden>,
}

/// One hidden layer's forward values.
pub struct Hidden {
    /// Index into [`SpikingNet::layers`].
    pub layer: usize,
    /// b1: `u = D + W·x`, positive for neurons that spike; α/J: `t_max − t`.
    pub u: Tensor,
    /// Spike times, `t_max` for silent (b1) or forced (α/J) neurons.
    pub t: Tensor,
    /// With [`SpikingNet::forward_tapped`]: a zero variable added to the
    /// spike times, whose gradient is `∂L/∂t` (candle keeps gradients of
    /// variables only).
    pub tap: Option<Var>,
}

impl SpikingNet {
    /// A freshly initialised network for `arch` on inputs of `input_shape`
    /// (Glorot-uniform weights, zero biases, as the authors' Keras code;
    /// drawn from `seed`).
    ///
    /// Errors when the architecture does not fit the input.
    pub fn new(arch: &Arch, input_shape: &[usize], neuron: Neuron, seed: u64) -> Result<SpikingNet, String> {
        Self::with_window(arch, input_shape, neuron, seed, INITIAL_WINDOW)
    }

    /// [`Self::new`] with every hidden window `initial_window` long.
    pub fn with_window(
        arch: &Arch,
        input_shape: &[usize],
        neuron: Neuron,
        seed: u64,
        initial_window: f64,
    ) -> Result<SpikingNet, String> {
        let shapes = shapes(arch, input_shape)?;
        let mut rng = SplitMix64::new(seed);
        let mut shape = input_shape.to_vec();
        let mut layers = Vec::new();
        let mut t_min = 1.0;
        let last = arch.layers.len() - 1;
        let var = |values: Vec<f64>, dims: &[usize]| -> CResult<Var> {
            Var::from_tensor(&Tensor::from_vec(values, dims, &Device::Cpu)?)
        };
        let fail = |e: candle_core::Error| e.to_string();
        for (k, (spec, out_shape)) in arch.layers.iter().zip(&shapes).enumerate() {
            let fan_in: usize = shape.iter().product();
            let window = || Window { t_min, t_max: t_min + initial_window };
            let layer = match *spec {
                LayerSpec::Dense(n) => {
                    let limit = (6.0 / (fan_in + n) as f64).sqrt();
                    let w: Vec<f64> = (0..n * fan_in).map(|_| rng.uniform(-limit, limit)).collect();
                    let hidden = k != last;
                    let b = match neuron {
                        Neuron::Alpha(init) if hidden => {
                            alpha_params(&w, fan_in, init, window(), t_min - prev_length(&layers))
                        }
                        _ => vec![0.0; n],
                    };
                    let b_dims: Vec<usize> = if b.len() == 2 * n { vec![n, 2] } else { vec![n] };
                    Layer::Dense {
                        w: var(w, &[n, fan_in]).map_err(fail)?,
                        b: var(b, &b_dims).map_err(fail)?,
                        window: hidden.then(window),
                    }
                }
                LayerSpec::Conv { channels, kernel, stride, pad } => {
                    let taps = shape[0] * kernel * kernel;
                    let limit = (6.0 / (taps + channels * kernel * kernel) as f64).sqrt();
                    let w: Vec<f64> = (0..channels * taps).map(|_| rng.uniform(-limit, limit)).collect();
                    let (b, b_dims) = match neuron {
                        Neuron::Alpha(init) => {
                            (alpha_params(&w, taps, init, window(), t_min - prev_length(&layers)), vec![channels, 2])
                        }
                        Neuron::B1 => (vec![0.0; channels], vec![channels]),
                    };
                    Layer::Conv {
                        w: var(w, &[channels, shape[0], kernel, kernel]).map_err(fail)?,
                        b: var(b, &b_dims).map_err(fail)?,
                        stride,
                        pad,
                        window: window(),
                    }
                }
                LayerSpec::Pool { kernel, stride } => Layer::Pool { kernel, stride },
            };
            if let Some(w) = layer.window() {
                t_min = w.t_max;
            }
            layers.push(layer);
            shape = out_shape.clone();
        }
        Ok(SpikingNet { neuron, input_shape: input_shape.to_vec(), layers })
    }

    /// The trainable variables, in layer order (weights before bias).
    pub fn vars(&self) -> Vec<&Var> {
        self.layers
            .iter()
            .flat_map(|l| match l {
                Layer::Dense { w, b, .. } | Layer::Conv { w, b, .. } => vec![w, b],
                Layer::Pool { .. } => vec![],
            })
            .collect()
    }

    /// Spike times of the input layer for encoded values `x0` in `[0, 1]`
    /// (`[B, features…]`): `t = 1 − x0` in the window `[0, 1]`.
    pub fn input_times(x0: &Tensor) -> CResult<Tensor> {
        x0.affine(-1.0, 1.0)
    }

    /// The forward pass in spike times on encoded inputs `x0`
    /// (`[B, n]` or `[B, C, H, W]`).
    pub fn forward(&self, x0: &Tensor) -> CResult<Pass> {
        self.forward_tapped(x0, false)
    }

    /// [`Self::forward`], with a tap on every hidden layer's spike times
    /// when `tap` (see [`Hidden::tap`]).
    pub fn forward_tapped(&self, x0: &Tensor, tap: bool) -> CResult<Pass> {
        let tapped = |t: Tensor| -> CResult<(Tensor, Option<Var>)> {
            if !tap {
                return Ok((t, None));
            }
            let v = Var::zeros(t.shape(), DType::F64, &Device::Cpu)?;
            Ok((t.add(v.as_tensor())?, Some(v)))
        };
        let mut t = Self::input_times(&self.reshape_input(x0)?)?;
        let mut t_min = 1.0; // the current spike times' layer's t_max
        let mut t_min_prev = 0.0;
        let mut hidden = Vec::new();
        for (k, layer) in self.layers.iter().enumerate() {
            match layer {
                Layer::Dense { w, b, window } => {
                    let t_in = if t.rank() > 2 { t.flatten_from(1)? } else { t.clone() };
                    match (window, self.neuron) {
                        (None, _) => {
                            let x = t_in.affine(-1.0, t_min)?;
                            let logits = x.matmul(&w.as_tensor().t()?)?.broadcast_add(b.as_tensor())?;
                            return Ok(Pass { logits, hidden });
                        }
                        (Some(win), Neuron::B1) => {
                            let x = t_in.affine(-1.0, t_min)?;
                            let u = x.matmul(&w.as_tensor().t()?)?.broadcast_add(b.as_tensor())?;
                            let (fired, tap) = tapped(b1_fire(&u, win.t_max)?)?;
                            t = fired;
                            hidden.push(Hidden { layer: k, u, t: t.clone(), tap });
                        }
                        (Some(win), Neuron::Alpha(_)) => {
                            let (fired, tap) =
                                tapped(alpha_dense(&t_in, w.as_tensor(), b.as_tensor(), t_min_prev, win.t_max)?)?;
                            t = fired;
                            hidden.push(Hidden { layer: k, u: t.affine(-1.0, win.t_max)?, t: t.clone(), tap });
                        }
                    }
                    t_min_prev = t_min;
                    t_min = window.expect("hidden").t_max;
                }
                Layer::Conv { w, b, stride, pad, window } if self.neuron != Neuron::B1 => {
                    let fired = alpha_conv(
                        &t,
                        w.as_tensor(),
                        b.as_tensor(),
                        (*stride, *pad),
                        (t_min_prev, t_min, window.t_max),
                    )?;
                    let (fired, tap) = tapped(fired)?;
                    t = fired;
                    hidden.push(Hidden { layer: k, u: t.affine(-1.0, window.t_max)?, t: t.clone(), tap });
                    t_min_prev = t_min;
                    t_min = window.t_max;
                }
                Layer::Conv { w, b, stride, pad, window } => {
                    let x = t.affine(-1.0, t_min)?;
                    let u = x.conv2d(w.as_tensor(), *pad, *stride, 1, 1)?;
                    let co = b.as_tensor().dim(0)?;
                    let u = u.broadcast_add(&b.as_tensor().reshape((1, co, 1, 1))?)?;
                    let (fired, tap) = tapped(b1_fire(&u, window.t_max)?)?;
                    t = fired;
                    hidden.push(Hidden { layer: k, u, t: t.clone(), tap });
                    t_min_prev = t_min;
                    t_min = window.t_max;
                }
                Layer::Pool { kernel, stride } => t = first_spike_pool(&t, *kernel, *stride)?,
            }
        }
        candle_core::bail!("the network has no output layer")
    }

    /// The ReLU network on the same parameters (b1: the function the spike
    /// times compute; the baseline that training speed is measured
    /// against). Its [`Hidden`] entries hold the pre-activations as `u` and
    /// the activations in place of spike times.
    pub fn relu_forward(&self, x0: &Tensor) -> CResult<Pass> {
        let mut x = self.reshape_input(x0)?;
        let mut hidden = Vec::new();
        for (k, layer) in self.layers.iter().enumerate() {
            match layer {
                Layer::Dense { w, b, window } => {
                    let flat = if x.rank() > 2 { x.flatten_from(1)? } else { x.clone() };
                    let a = flat.matmul(&w.as_tensor().t()?)?.broadcast_add(b.as_tensor())?;
                    if window.is_none() {
                        return Ok(Pass { logits: a, hidden });
                    }
                    x = a.relu()?;
                    hidden.push(Hidden { layer: k, u: a, t: x.clone(), tap: None });
                }
                Layer::Conv { w, b, stride, pad, .. } => {
                    let co = b.as_tensor().dim(0)?;
                    let a = x.conv2d(w.as_tensor(), *pad, *stride, 1, 1)?;
                    let a = a.broadcast_add(&b.as_tensor().reshape((1, co, 1, 1))?)?;
                    x = a.relu()?;
                    hidden.push(Hidden { layer: k, u: a, t: x.clone(), tap: None });
                }
                // Not candle's max_pool2d: its backward (candle-core 0.11)
                // scales the gradient by the mean of the argmax mask, 1/k²
                // for a unique maximum, where it should be 1.
                Layer::Pool { kernel, stride } => x = first_spike_pool(&x.neg()?, *kernel, *stride)?.neg()?,
            }
        }
        candle_core::bail!("the network has no output layer")
    }

    fn reshape_input(&self, x0: &Tensor) -> CResult<Tensor> {
        let b = x0.dim(0)?;
        let mut dims = vec![b];
        dims.extend(&self.input_shape);
        x0.reshape(dims)
    }

    /// The authors' window adaptation after an optimiser step: each hidden
    /// window grows to at least [`WINDOW_HEADROOM`] × the largest activation
    /// of the batch (`t_max − earliest spike`), and the windows after it
    /// move so that they stay back to back.
    pub fn adapt_windows(&mut self, pass: &Pass) -> CResult<()> {
        let mut largest = Vec::with_capacity(pass.hidden.len());
        for h in &pass.hidden {
            largest.push(h.u.flatten_all()?.max(0)?.to_scalar::<f64>()?.max(0.0));
        }
        self.adapt_windows_to(&largest);
        Ok(())
    }

    /// [`Self::adapt_windows`] given each hidden weight layer's largest
    /// activation of the batch, in layer order. α/J networks keep their
    /// windows: their thresholds are parameters tied to the window, so
    /// moving a window would change the function.
    pub fn adapt_windows_to(&mut self, largest: &[f64]) {
        if self.neuron != Neuron::B1 {
            return;
        }
        let mut t_min = 1.0;
        let mut next = largest.iter();
        for layer in &mut self.layers {
            if let Some(w) = layer.window_mut() {
                let x = next.next().copied().unwrap_or(0.0);
                let length = (w.t_max - w.t_min).max(WINDOW_HEADROOM * x);
                *w = Window { t_min, t_max: t_min + length };
                t_min = w.t_max;
            }
        }
    }

    /// The hidden windows in layer order.
    pub fn windows(&self) -> Vec<Window> {
        self.layers.iter().filter_map(Layer::window).collect()
    }

    /// Replaces the hidden windows (from a checkpoint); `windows` must have
    /// one per hidden weight layer.
    pub fn set_windows(&mut self, windows: &[Window]) -> Result<(), String> {
        let n = self.windows().len();
        if windows.len() != n {
            return Err(format!("{} windows for {n} hidden layers", windows.len()));
        }
        for (w, new) in self.layers.iter_mut().filter_map(Layer::window_mut).zip(windows) {
            *w = *new;
        }
        Ok(())
    }

    /// Number of hidden neurons (those that may spike).
    pub fn hidden_neurons(pass: &Pass) -> usize {
        pass.hidden.iter().map(|h| h.u.elem_count() / h.u.dim(0).unwrap_or(1).max(1)).sum()
    }
}

/// An α/J convolution: every output position is an α/J neuron over its
/// patch of input spike times (`t` `[B, C, H, W]` in the window ending at
/// `t_min`; zero padding is activation 0, a spike at `t_min`), computed by
/// [`alpha_dense`] on the unfolded patches. `j` is `[co, C, k, k]`,
/// `params` `[co, 2]`; windows are `(t_min_prev, t_min, t_max)`.
fn alpha_conv(
    t: &Tensor,
    j: &Tensor,
    params: &Tensor,
    (stride, pad): (usize, usize),
    windows: (f64, f64, f64),
) -> CResult<Tensor> {
    let (t_min_prev, t_min, t_max) = windows;
    let (b, c, h, w) = t.dims4()?;
    let (co, _, k, _) = j.dims4()?;
    let (hp, wp) = (h + 2 * pad, w + 2 * pad);
    let (oh, ow) = ((hp - k) / stride + 1, (wp - k) / stride + 1);
    let mut index = Vec::with_capacity(oh * ow * k * k);
    for oy in 0..oh {
        for ox in 0..ow {
            for ky in 0..k {
                for kx in 0..k {
                    index.push(((oy * stride + ky) * wp + ox * stride + kx) as u32);
                }
            }
        }
    }
    let index = Tensor::from_vec(index, oh * ow * k * k, &Device::Cpu)?;
    // Pad in activations (0), gather the patches, back to spike times.
    let x = t.affine(-1.0, t_min)?.pad_with_zeros(2, pad, pad)?.pad_with_zeros(3, pad, pad)?;
    let patches = x
        .reshape((b, c, hp * wp))?
        .index_select(&index, 2)?
        .reshape((b, c, oh * ow, k * k))?
        .permute((0, 2, 1, 3))?
        .contiguous()?
        .reshape((b * oh * ow, c * k * k))?
        .affine(-1.0, t_min)?;
    let out = alpha_dense(&patches, &j.reshape((co, c * k * k))?, params, t_min_prev, t_max)?;
    out.reshape((b, oh * ow, co))?.permute((0, 2, 1))?.contiguous()?.reshape((b, co, oh, ow))
}

/// The window length before the current layer (for α/J's `t_min_prev`).
fn prev_length(layers: &[Layer]) -> f64 {
    layers.iter().rev().find_map(Layer::window).map_or(1.0, |w| w.t_max - w.t_min)
}

/// Initial `(α_i, ϑ_i)` of an α/J layer mapping a bias-free ReLU neuron
/// (`seeds.md` B.1 with b = 0: `D_i = B_n·ΣJ_i`, `ϑ_i = α_i·(t_max − t_min_prev) + D_i`).
fn alpha_params(j: &[f64], fan_in: usize, init: AlphaInit, window: Window, t_min_prev: f64) -> Vec<f64> {
    j.chunks(fan_in)
        .flat_map(|row| {
            let sum: f64 = row.iter().sum();
            let alpha = match init {
                AlphaInit::Ordinary => 1.0,
                AlphaInit::SlopeNormalised => 1.0 - sum,
            };
            let length = window.t_max - window.t_min;
            [alpha, alpha * (window.t_max - t_min_prev) + length * sum]
        })
        .collect()
}

impl Layer {
    /// The window of a hidden weight layer.
    pub fn window(&self) -> Option<Window> {
        match self {
            Layer::Dense { window, .. } => *window,
            Layer::Conv { window, .. } => Some(*window),
            Layer::Pool { .. } => None,
        }
    }

    fn window_mut(&mut self) -> Option<&mut Window> {
        match self {
            Layer::Dense { window, .. } => window.as_mut(),
            Layer::Conv { window, .. } => Some(window),
            Layer::Pool { .. } => None,
        }
    }
}

/// A tensor of `values` on the CPU (f64).
pub fn tensor(values: Vec<f64>, dims: &[usize]) -> CResult<Tensor> {
    Tensor::from_vec(values, dims, &Device::Cpu)?.to_dtype(DType::F64)
}

impl SpikingNet {
    /// The float layers of a b1 network description as a trainable network
    /// (for fine-tuning): weights and biases become variables, the hidden
    /// windows are the description's.
    ///
    /// Errors name the layer that cannot be trained here: α/J networks,
    /// convolutions whose bias depends on the position (a padded
    /// convolution after a folded input offset), pools with padding, and
    /// hidden layers without a window.
    pub fn from_network(net: &ttfs_ir::Network) -> Result<SpikingNet, String> {
        use ttfs_ir::{Layer as L, Role};
        if net.neuron != ttfs_ir::NeuronModel::B1 {
            return Err(format!("the network uses the {} neuron; fine-tuning needs b1", net.neuron.as_str()));
        }
        let var = |values: &[f64], dims: &[usize]| -> Result<Var, String> {
            Tensor::from_vec(values.to_vec(), dims, &Device::Cpu)
                .and_then(|t| Var::from_tensor(&t))
                .map_err(|e| e.to_string())
        };
        let mut layers = Vec::new();
        for layer in &net.layers {
            let name = layer.name();
            let hidden_window = |p: &ttfs_ir::Params, role: Role| -> Result<Option<Window>, String> {
                match (role, p.window) {
                    (Role::Output, _) => Ok(None),
                    (Role::Hidden, Some(w)) => Ok(Some(Window { t_min: w.t_min, t_max: w.t_max })),
                    (Role::Hidden, None) => {
                        Err(format!("layer '{name}' has no window; convert the network with calibration data first"))
                    }
                }
            };
            layers.push(match layer {
                L::Dense(d) => Layer::Dense {
                    w: var(&d.params.weights, &[d.outputs, d.inputs])?,
                    b: var(&d.params.bias, &[d.outputs])?,
                    window: hidden_window(&d.params, d.role)?,
                },
                L::Conv2d(c) => {
                    if c.params.bias_map.is_some() {
                        return Err(format!(
                            "layer '{name}' has a bias per position (a padded convolution after a folded input offset); fine-tuning it is not supported yet"
                        ));
                    }
                    if c.role == Role::Output || c.kernel[0] != c.kernel[1] || c.stride[0] != c.stride[1] || c.pads.iter().any(|&p| p != c.pads[0]) {
                        return Err(format!("layer '{name}': fine-tuning takes hidden convolutions with square kernels, equal strides and equal padding on every side"));
                    }
                    Layer::Conv {
                        w: var(&c.params.weights, &[c.out_channels, c.in_shape[0], c.kernel[0], c.kernel[1]])?,
                        b: var(&c.params.bias, &[c.out_channels])?,
                        stride: c.stride[0],
                        pad: c.pads[0],
                        window: hidden_window(&c.params, c.role)?.expect("hidden"),
                    }
                }
                L::MaxPool(p) => {
                    if p.pads.iter().any(|&x| x != 0) || p.kernel[0] != p.kernel[1] || p.stride[0] != p.stride[1] {
                        return Err(format!("layer '{name}': fine-tuning takes square max pools without padding"));
                    }
                    Layer::Pool { kernel: p.kernel[0], stride: p.stride[0] }
                }
                // Dense layers flatten their input themselves.
                L::Flatten(_) => continue,
            });
        }
        Ok(SpikingNet { neuron: Neuron::B1, input_shape: net.input.shape.clone(), layers })
    }

    /// Writes the float weights and biases back into `net` (the description
    /// this network came from, [`Self::from_network`]); its integer network
    /// is then stale until the quantize pass runs again.
    pub fn write_back(&self, net: &mut ttfs_ir::Network) -> CResult<()> {
        let mut ours = self.layers.iter().filter(|l| !matches!(l, Layer::Pool { .. }));
        for layer in net.layers.iter_mut() {
            let Some(params) = layer.params_mut() else { continue };
            match ours.next() {
                Some(Layer::Dense { w, b, .. } | Layer::Conv { w, b, .. }) => {
                    params.weights = w.as_tensor().flatten_all()?.to_vec1::<f64>()?;
                    params.bias = b.as_tensor().flatten_all()?.to_vec1::<f64>()?;
                }
                _ => candle_core::bail!("the network description has more weight layers than the trained network"),
            }
        }
        Ok(())
    }
}
