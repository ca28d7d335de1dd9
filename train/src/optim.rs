//! The optimisers: Adam with the authors' exponential learning-rate decay
//! (Keras `ExponentialDecay(lr, decay_steps = 5000, decay_rate = 0.9)`,
//! `seeds.md` C.2) and SGD with momentum and optional L2 weight decay.
//!
//! The update runs over each parameter's values in one pass (rather than a
//! chain of tensor operations, each allocating a tensor the parameter's
//! size). Its state (moments, step count) goes into checkpoints, so a
//! resumed run continues exactly where it stopped.

use candle_core::{Result, Tensor, Var};

/// Which optimiser and its hyper-parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Optimizer {
    /// Adam (β1 0.9, β2 0.999, ε 1e-7 as Keras).
    Adam {
        /// Learning rate before decay.
        lr: f64,
        /// Decay factor per `decay_steps` (continuous, not staircase).
        decay_rate: f64,
        /// Steps per decay factor.
        decay_steps: f64,
    },
    /// SGD with momentum (`v ← μ·v + g + λ·θ`, `θ ← θ − lr·v`).
    Sgd {
        /// Learning rate.
        lr: f64,
        /// Momentum μ.
        momentum: f64,
        /// L2 weight decay λ.
        weight_decay: f64,
    },
}

impl Optimizer {
    /// Adam with the authors' defaults around `lr`.
    pub fn adam(lr: f64) -> Self {
        Optimizer::Adam { lr, decay_rate: 0.9, decay_steps: 5000.0 }
    }

    /// The learning rate at `step` (0-based).
    pub fn learning_rate(&self, step: u64) -> f64 {
        match *self {
            Optimizer::Adam { lr, decay_rate, decay_steps } => lr * decay_rate.powf(step as f64 / decay_steps),
            Optimizer::Sgd { lr, .. } => lr,
        }
    }
}

/// An optimiser's state over a list of variables.
pub struct State {
    /// The optimiser.
    pub optimizer: Optimizer,
    /// Steps taken.
    pub step: u64,
    /// First moments (Adam) or velocities (SGD), one per variable, flat.
    pub first: Vec<Vec<f64>>,
    /// Second moments (Adam only; empty for SGD).
    pub second: Vec<Vec<f64>>,
}

const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPSILON: f64 = 1e-7;

impl State {
    /// Fresh state for `vars`.
    pub fn new(optimizer: Optimizer, vars: &[&Var]) -> Result<Self> {
        let zeros: Vec<Vec<f64>> = vars.iter().map(|v| vec![0.0; v.as_tensor().elem_count()]).collect();
        let second = match optimizer {
            Optimizer::Adam { .. } => zeros.clone(),
            Optimizer::Sgd { .. } => Vec::new(),
        };
        Ok(State { optimizer, step: 0, first: zeros, second })
    }

    /// One update of `vars` with `grads` (same order; a variable without a
    /// gradient keeps its value and moments).
    pub fn update(&mut self, vars: &[&Var], grads: &[Option<Tensor>]) -> Result<()> {
        let lr = self.optimizer.learning_rate(self.step);
        self.step += 1;
        let t = self.step as f64;
        for (i, (var, grad)) in vars.iter().zip(grads).enumerate() {
            let Some(g) = grad else { continue };
            let g = g.flatten_all()?.to_vec1::<f64>()?;
            let mut theta = var.as_tensor().flatten_all()?.to_vec1::<f64>()?;
            match self.optimizer {
                Optimizer::Adam { .. } => {
                    // Keras' form: lr_t = lr·√(1 − β2^t)/(1 − β1^t), ε outside the root.
                    let lr_t = lr * (1.0 - BETA2.powf(t)).sqrt() / (1.0 - BETA1.powf(t));
                    let (m, v) = (&mut self.first[i], &mut self.second[i]);
                    for k in 0..theta.len() {
                        m[k] = BETA1 * m[k] + (1.0 - BETA1) * g[k];
                        v[k] = BETA2 * v[k] + (1.0 - BETA2) * g[k] * g[k];
                        theta[k] -= lr_t * m[k] / (v[k].sqrt() + EPSILON);
                    }
                }
                Optimizer::Sgd { momentum, weight_decay, .. } => {
                    let v = &mut self.first[i];
                    for k in 0..theta.len() {
                        v[k] = momentum * v[k] + g[k] + weight_decay * theta[k];
                        theta[k] -= lr * v[k];
                    }
                }
            }
            var.set(&Tensor::from_vec(theta, var.as_tensor().dims(), var.as_tensor().device())?)?;
        }
        Ok(())
    }
}
