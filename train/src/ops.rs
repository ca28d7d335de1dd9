//! The spike-time operations: candle custom ops with their own backward
//! passes, so that gradients flow through spike times rather than through a
//! ReLU network relabelled.
//!
//! * [`b1_fire`]: paper 2's constant-slope neuron (`seeds.md` A.3). After
//!   `t_min` the potential rises with slope 1 towards its threshold; the
//!   neuron fires at `t = t_max − u`, where `u = D + Σ W·x` is the potential
//!   at `t_min` measured from the threshold's reach, and stays silent
//!   (`t = t_max`, "no spike") when `u ≤ 0`. `∂t/∂u = −1` for a spike, 0
//!   for silence.
//! * [`first_spike_pool`]: max pooling in time: each pool passes its first
//!   spike (the largest activation); the gradient goes to that spike only
//!   (the lowest index among equal times, as the hardware's scan order).
//! * [`alpha_dense`]: paper 1's α/J neuron (`seeds.md` A.2), the
//!   event-driven closed form: sort the input spikes, find the first
//!   crossing of the piecewise-linear potential with the threshold, clip at
//!   `t_max` (a forced spike). Its backward differentiates that closed form
//!   with the causal set fixed (`∂t/∂t_j = J_ij/A`, `∂t/∂J_ij = (t_j − t)/A`,
//!   `∂t/∂ϑ = 1/A`, `∂t/∂α = (t_min − t)/A` with `A = α + Σ_causal J`).
//!
//! All three run on the CPU in f64 (the only device and type the trainer
//! uses) and take contiguous inputs (the wrappers make them so).

use candle_core::{CpuStorage, CustomOp1, CustomOp3, DType, Layout, Result, Shape, Tensor, bail};

/// The f64 values of a contiguous CPU tensor argument.
fn values<'a>(storage: &'a CpuStorage, layout: &Layout, op: &str) -> Result<&'a [f64]> {
    let all = storage.as_slice::<f64>()?;
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(&all[start..end]),
        None => bail!("{op}: the input must be contiguous"),
    }
}

/// Paper 2's firing in a window `[t_min, t_max]`.
#[derive(Clone, Copy, Debug)]
struct B1Fire {
    t_max: f64,
}

impl CustomOp1 for B1Fire {
    fn name(&self) -> &'static str {
        "b1-fire"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let u = values(storage, layout, self.name())?;
        let t: Vec<f64> = u.iter().map(|&u| if u > 0.0 { self.t_max - u } else { self.t_max }).collect();
        Ok((CpuStorage::F64(t), layout.shape().clone()))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad_res: &Tensor) -> Result<Option<Tensor>> {
        let spiked = arg.gt(0.0)?.to_dtype(DType::F64)?;
        Ok(Some(grad_res.mul(&spiked)?.neg()?))
    }
}

/// Spike times of b1 neurons whose potentials at `t_min`, measured from the
/// threshold's reach, are `u` (any shape): `t_max − u` where `u > 0`, else
/// `t_max` (silent). A spike before `t_min` (`u` longer than the window) is
/// not clipped: training keeps the windows long enough (the caller counts
/// such early spikes).
pub fn b1_fire(u: &Tensor, t_max: f64) -> Result<Tensor> {
    u.contiguous()?.apply_op1(B1Fire { t_max })
}

/// First-spike pooling over `[B, C, H, W]` spike times.
#[derive(Clone, Copy, Debug)]
struct FirstSpikePool {
    kernel: usize,
    stride: usize,
}

impl FirstSpikePool {
    fn out_dims(&self, dims: &[usize]) -> Result<[usize; 4]> {
        let [b, c, h, w] = *dims else { bail!("first-spike pool: expected [B, C, H, W], got {dims:?}") };
        if h < self.kernel || w < self.kernel {
            bail!("first-spike pool: a {0}x{0} pool does not fit {h}x{w}", self.kernel);
        }
        Ok([b, c, (h - self.kernel) / self.stride + 1, (w - self.kernel) / self.stride + 1])
    }

    /// For each output, the flat input index of its first spike.
    fn winners(&self, t: &[f64], dims: &[usize]) -> Result<Vec<usize>> {
        let [b, c, oh, ow] = self.out_dims(dims)?;
        let (h, w) = (dims[2], dims[3]);
        let mut out = Vec::with_capacity(b * c * oh * ow);
        for plane in 0..b * c {
            let base = plane * h * w;
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut best = base + oy * self.stride * w + ox * self.stride;
                    for ky in 0..self.kernel {
                        for kx in 0..self.kernel {
                            let i = base + (oy * self.stride + ky) * w + ox * self.stride + kx;
                            if t[i] < t[best] {
                                best = i;
                            }
                        }
                    }
                    out.push(best);
                }
            }
        }
        Ok(out)
    }
}

impl CustomOp1 for FirstSpikePool {
    fn name(&self) -> &'static str {
        "first-spike-pool"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let t = values(storage, layout, self.name())?;
        let dims = layout.shape().dims();
        let winners = self.winners(t, dims)?;
        let out: Vec<f64> = winners.iter().map(|&i| t[i]).collect();
        Ok((CpuStorage::F64(out), Shape::from(self.out_dims(dims)?.to_vec())))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad_res: &Tensor) -> Result<Option<Tensor>> {
        let t = arg.flatten_all()?.to_vec1::<f64>()?;
        let winners = self.winners(&t, arg.dims())?;
        let g = grad_res.flatten_all()?.to_vec1::<f64>()?;
        let mut grad = vec![0.0; t.len()];
        for (&i, &g) in winners.iter().zip(&g) {
            grad[i] += g;
        }
        Ok(Some(Tensor::from_vec(grad, arg.shape(), arg.device())?))
    }
}

/// Max pooling of activations done in time: over `[B, C, H, W]` spike
/// times, each `kernel`×`kernel` pool (stride `stride`, no padding) passes
/// its earliest spike.
pub fn first_spike_pool(t: &Tensor, kernel: usize, stride: usize) -> Result<Tensor> {
    t.contiguous()?.apply_op1(FirstSpikePool { kernel, stride })
}

/// Paper 1's α/J dense layer: inputs spike in `[t_min_prev, t_min]`, the
/// α current starts at `t_min_prev`, outputs are clipped at `t_max`.
#[derive(Clone, Copy, Debug)]
struct AlphaDense {
    t_min_prev: f64,
    t_max: f64,
}

/// The crossing of one neuron: its time, and the slope `A` over its causal
/// inputs (`None` when clipped at `t_max`), with the causal count `k`.
struct Crossing {
    time: f64,
    slope: Option<f64>,
    causal: usize,
}

impl AlphaDense {
    /// The first crossing of neuron `row` (`J` row `j_row`, `α`, `ϑ`) for
    /// inputs sorted as `order` (indices into `t`).
    fn cross(&self, t: &[f64], order: &[usize], j_row: &[f64], alpha: f64, theta: f64) -> Crossing {
        let mut slope = alpha;
        let mut weighted = alpha * self.t_min_prev;
        for k in 0..=order.len() {
            if k > 0 {
                let j = order[k - 1];
                slope += j_row[j];
                weighted += j_row[j] * t[j];
            }
            if slope > 0.0 {
                let candidate = (weighted + theta) / slope;
                let next = order.get(k).map_or(f64::INFINITY, |&j| t[j]);
                if candidate <= next {
                    if candidate >= self.t_max {
                        break;
                    }
                    return Crossing { time: candidate, slope: Some(slope), causal: k };
                }
            }
        }
        Crossing { time: self.t_max, slope: None, causal: 0 }
    }

    /// Each sample's inputs sorted by time (ties by index).
    fn orders(t: &[f64], inputs: usize) -> Vec<Vec<usize>> {
        t.chunks(inputs)
            .map(|row| {
                let mut order: Vec<usize> = (0..inputs).collect();
                order.sort_by(|&a, &b| row[a].total_cmp(&row[b]).then(a.cmp(&b)));
                order
            })
            .collect()
    }
}

/// Reads `(t [B, n], J [m, n], params [m, 2])` and checks the dimensions.
fn alpha_dims(t: &[usize], j: &[usize], p: &[usize]) -> Result<(usize, usize, usize)> {
    match (t, j, p) {
        ([b, n], [m, n2], [m2, 2]) if n == n2 && m == m2 => Ok((*b, *n, *m)),
        _ => bail!("alpha-dense: expected t [B, n], J [m, n], params [m, 2]; got {t:?}, {j:?}, {p:?}"),
    }
}

impl CustomOp3 for AlphaDense {
    fn name(&self) -> &'static str {
        "alpha-dense"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (t, j, p) = (values(s1, l1, self.name())?, values(s2, l2, self.name())?, values(s3, l3, self.name())?);
        let (b, n, m) = alpha_dims(l1.dims(), l2.dims(), l3.dims())?;
        let orders = Self::orders(t, n);
        let mut out = Vec::with_capacity(b * m);
        for (s, order) in orders.iter().enumerate() {
            let row = &t[s * n..(s + 1) * n];
            for i in 0..m {
                out.push(self.cross(row, order, &j[i * n..(i + 1) * n], p[2 * i], p[2 * i + 1]).time);
            }
        }
        Ok((CpuStorage::F64(out), Shape::from((b, m))))
    }

    fn bwd(
        &self,
        t: &Tensor,
        j: &Tensor,
        p: &Tensor,
        _res: &Tensor,
        grad_res: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (b, n, m) = alpha_dims(t.dims(), j.dims(), p.dims())?;
        let (tv, jv, pv) = (
            t.flatten_all()?.to_vec1::<f64>()?,
            j.flatten_all()?.to_vec1::<f64>()?,
            p.flatten_all()?.to_vec1::<f64>()?,
        );
        let g = grad_res.flatten_all()?.to_vec1::<f64>()?;
        let (mut gt, mut gj, mut gp) = (vec![0.0; b * n], vec![0.0; m * n], vec![0.0; m * 2]);
        let orders = Self::orders(&tv, n);
        for (s, order) in orders.iter().enumerate() {
            let row = &tv[s * n..(s + 1) * n];
            for i in 0..m {
                let j_row = &jv[i * n..(i + 1) * n];
                let c = self.cross(row, order, j_row, pv[2 * i], pv[2 * i + 1]);
                let (Some(slope), gi) = (c.slope, g[s * m + i]) else { continue };
                let scale = gi / slope;
                for &jj in &order[..c.causal] {
                    gt[s * n + jj] += scale * j_row[jj];
                    gj[i * n + jj] += scale * (row[jj] - c.time);
                }
                gp[2 * i] += scale * (self.t_min_prev - c.time);
                gp[2 * i + 1] += scale;
            }
        }
        let dev = t.device();
        Ok((
            Some(Tensor::from_vec(gt, (b, n), dev)?),
            Some(Tensor::from_vec(gj, (m, n), dev)?),
            Some(Tensor::from_vec(gp, (m, 2), dev)?),
        ))
    }
}

/// Spike times `[B, m]` of α/J neurons with weights `j` `[m, n]` and
/// `params` `[m, 2]` = (α_i, ϑ_i) for input spike times `t` `[B, n]` in
/// `[t_min_prev, t_min]`: the first crossing of the event-driven closed form,
/// clipped at `t_max` (a forced spike).
pub fn alpha_dense(t: &Tensor, j: &Tensor, params: &Tensor, t_min_prev: f64, t_max: f64) -> Result<Tensor> {
    t.contiguous()?.apply_op3(&j.contiguous()?, &params.contiguous()?, AlphaDense { t_min_prev, t_max })
}
