//! The spiking classifier of paper 3: an unsupervised STDP layer under
//! lateral inhibition, read by a supervised spike-pattern readout.
//!
//! **Input.** A record's correlative pattern ([`crate::encoding`]) reaches
//! each hidden neuron through T delay taps per input neuron: the synapse of
//! tap (n, d) carries input neuron n's spike delayed by d ticks, so the
//! taps with d = T − 1 − t_n all arrive at tick T − 1 together, and a
//! hidden neuron that has learnt a record's taps sees them coincide. With
//! every tap's delay fixed, the active taps of a record are its
//! [`Encoding::channels`](crate::encoding::Encoding::channels); a hidden
//! neuron's potential at the end of the window is the sum of the
//! conductances of its active taps.
//!
//! **Hidden layer** ([`StdpLayer`]): H neurons with an adaptive threshold
//! each (homeostasis: it rises by `threshold_step` whenever the neuron
//! fires and decays by `threshold_decay` per record, so no neuron wins
//! everything). The neuron whose potential exceeds its threshold by the
//! most fires first, the next one a tick later, and so on: lateral
//! inhibition silences the layer after the `winners`-th spike (k-WTA).
//!
//! **STDP** (unsupervised, the winners only): a tap whose spike arrived
//! before the neuron fired is potentiated, `Δg = ltp·(1 − g)`; every other
//! tap is depressed, `Δg = −ltd·g` (the soft-bounded pair rule that
//! memristive STDP studies use; its fixed point is g = p·ltp / (p·ltp +
//! (1 − p)·ltd) for a tap active in a fraction p of the records a neuron
//! wins, so each neuron's conductances learn its cluster's pattern).
//!
//! **Memristive synapses** ([`Memristor`], optional): conductances take
//! one of `levels` equally spaced states in [0, 1]; an update moves the
//! state by the nearest whole number of levels with stochastic rounding,
//! and each write lands off its level by Gaussian write noise of
//! `write_noise` levels; drift (g ← g·((e + 1)/(e + 2))^ν after epoch e)
//! is off (ν = 0) by default.
//!
//! **Readout** ([`Readout`]): C output neurons, one per class. The hidden
//! spikes reach output neuron j through weights w_jh and an exponential
//! synaptic trace (a hidden spike at tick t contributes w_jh·e^(−t/τ)); an
//! output neuron with drive u_j spikes at tick R·(1 − u_j) clipped to
//! [0, R]. The target pattern of class c is a spike at tick 0 from neuron c
//! and at R (the window's end, "silent") from every other neuron. The
//! supervised rule is ReSuMe's: each weight changes by the error between
//! the neuron's actual and target spike time times the presynaptic trace,
//! Δw_jh = η·(t_j − t*_j)/R·e^(−t_h/τ). The predicted class is the class
//! whose target pattern is nearest (squared distance of spike times), which
//! is the output neuron that spikes first (ties: the lower index).

use crate::encoding::mix32;
use ttfs_train::rng::SplitMix64;

/// A memristive synapse model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Memristor {
    /// Conductance states (≥ 2), equally spaced over [0, 1].
    pub levels: u32,
    /// Standard deviation of a write's error, in levels.
    pub write_noise: f64,
    /// The drift exponent ν (0: no drift).
    pub drift: f64,
}

impl Default for Memristor {
    /// 32 levels, write noise of 0.3 levels, no drift.
    fn default() -> Self {
        Memristor { levels: 32, write_noise: 0.3, drift: 0.0 }
    }
}

/// The STDP layer's parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct StdpParams {
    /// H: hidden neurons.
    pub hidden: usize,
    /// k: neurons that fire per record before lateral inhibition stops the
    /// layer.
    pub winners: usize,
    /// Passes over the training records.
    pub epochs: usize,
    /// Potentiation rate.
    pub ltp: f64,
    /// Depression rate.
    pub ltd: f64,
    /// Threshold rise per spike.
    pub threshold_step: f64,
    /// Threshold decay factor per record (just below 1).
    pub threshold_decay: f64,
    /// The memristive synapse model; `None` for ideal (f32) conductances.
    pub memristor: Option<Memristor>,
    /// Seed of the initial conductances, the record order and the noise.
    pub seed: u64,
}

impl Default for StdpParams {
    /// The values that worked on deb-files (see the README's table).
    fn default() -> Self {
        StdpParams {
            hidden: 1024,
            winners: 16,
            epochs: 3,
            ltp: 0.05,
            ltd: 0.05,
            threshold_step: 5.0,
            threshold_decay: 0.999,
            memristor: None,
            seed: 1,
        }
    }
}

/// The hidden layer after training: H neurons' conductances over the
/// channels and their thresholds.
#[derive(Clone, Debug, PartialEq)]
pub struct StdpLayer {
    /// Channels (delay taps) per neuron.
    pub channels: usize,
    /// Spikes per record.
    pub winners: usize,
    /// Conductances, neuron after neuron, `channels` each, in [0, 1].
    pub conductance: Vec<f32>,
    /// Each neuron's threshold when training ended.
    pub threshold: Vec<f32>,
}

/// One hidden spike: the neuron and its tick.
pub type Spike = (usize, u32);

impl StdpLayer {
    /// Trains a layer on `records` (each one's active channels, all below
    /// `channels`) with `params`. Deterministic for a seed.
    pub fn train(records: &[Vec<usize>], channels: usize, params: &StdpParams) -> Result<StdpLayer, String> {
        if params.hidden == 0 || params.winners == 0 || params.winners > params.hidden {
            return Err(format!(
                "the STDP layer needs 1 ≤ winners ≤ hidden neurons (got {} winners of {})",
                params.winners, params.hidden
            ));
        }
        if let Some(m) = params.memristor.filter(|m| {
            m.levels < 2 || m.write_noise.is_nan() || m.write_noise < 0.0 || m.drift.is_nan() || m.drift < 0.0
        }) {
            return Err(format!(
                "a memristor needs at least 2 levels and non-negative write noise and drift (got {m:?})"
            ));
        }
        if let Some(bad) = records.iter().flatten().find(|&&c| c >= channels) {
            return Err(format!("channel {bad} is outside the layer's {channels} channels"));
        }
        let mut rng = SplitMix64::stream(params.seed, 0x57d9, 0);
        let mut layer = StdpLayer {
            channels,
            winners: params.winners,
            // Small random conductances: the first records pick their
            // neurons at random.
            conductance: (0..params.hidden * channels).map(|_| rng.uniform(0.0, 0.1) as f32).collect(),
            threshold: vec![0.0; params.hidden],
        };
        if let Some(m) = params.memristor {
            let top = f64::from(m.levels - 1);
            for g in &mut layer.conductance {
                *g = ((f64::from(*g) * top).round() / top) as f32;
            }
        }
        for epoch in 0..params.epochs {
            let order = rng.permutation(records.len());
            let mut is_active = vec![false; channels];
            for &r in &order {
                let active = &records[r];
                let spikes = layer.respond(active);
                active.iter().for_each(|&c| is_active[c] = true);
                for &(h, _) in &spikes {
                    layer.threshold[h] += params.threshold_step as f32;
                    layer.learn(h, &is_active, params, &mut rng);
                }
                active.iter().for_each(|&c| is_active[c] = false);
                let decay = params.threshold_decay as f32;
                layer.threshold.iter_mut().for_each(|t| *t *= decay);
            }
            if let Some(m) = params.memristor.filter(|m| m.drift > 0.0) {
                let factor = ((epoch as f64 + 1.0) / (epoch as f64 + 2.0)).powf(m.drift) as f32;
                layer.conductance.iter_mut().for_each(|g| *g *= factor);
            }
        }
        Ok(layer)
    }

    /// Hidden neurons.
    pub fn hidden(&self) -> usize {
        self.threshold.len()
    }

    /// Each neuron's potential for a record's active channels.
    fn potentials(&self, active: &[usize]) -> Vec<f32> {
        self.conductance.chunks_exact(self.channels).map(|g| active.iter().map(|&c| g[c]).sum()).collect()
    }

    /// The layer's spikes for a record: the `winners` neurons with the
    /// largest potential above threshold, at ticks 0, 1, … in that order
    /// (ties: the lower index first).
    pub fn respond(&self, active: &[usize]) -> Vec<Spike> {
        let drive: Vec<f32> = self.potentials(active).iter().zip(&self.threshold).map(|(u, t)| u - t).collect();
        let mut order: Vec<usize> = (0..drive.len()).collect();
        let k = self.winners.min(order.len());
        let by_drive = |a: &usize, b: &usize| drive[*b].total_cmp(&drive[*a]).then(a.cmp(b));
        if k < order.len() {
            order.select_nth_unstable_by(k, by_drive);
            order.truncate(k);
        }
        order.sort_by(by_drive);
        order.into_iter().zip(0u32..).collect()
    }

    /// STDP for neuron `h`, which fired on a record whose channels are
    /// marked in `is_active`.
    fn learn(&mut self, h: usize, is_active: &[bool], params: &StdpParams, rng: &mut SplitMix64) {
        let row = &mut self.conductance[h * self.channels..(h + 1) * self.channels];
        for (g, &pre_before_post) in row.iter_mut().zip(is_active) {
            let now = f64::from(*g);
            let delta = if pre_before_post { params.ltp * (1.0 - now) } else { -params.ltd * now };
            *g = match params.memristor {
                None => (now + delta) as f32,
                Some(m) => write(now, delta, m, rng) as f32,
            };
        }
    }
}

/// A memristor write: the state moves by `delta` in whole levels
/// (stochastic rounding), lands off its level by write noise, and stays in
/// [0, 1].
fn write(now: f64, delta: f64, m: Memristor, rng: &mut SplitMix64) -> f64 {
    let top = f64::from(m.levels - 1);
    let steps = delta * top;
    let whole = steps.floor() + if rng.unit() < steps - steps.floor() { 1.0 } else { 0.0 };
    if whole == 0.0 {
        return now;
    }
    let target = ((now * top).round() + whole).clamp(0.0, top);
    ((target + m.write_noise * rng.normal()) / top).clamp(0.0, 1.0)
}

/// The readout's parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadoutParams {
    /// Passes over the training records.
    pub epochs: usize,
    /// The learning rate η.
    pub rate: f64,
    /// The synaptic trace's time constant τ, in ticks.
    pub tau: f64,
    /// R: the output window's ticks.
    pub window: u32,
    /// Seed of the record order.
    pub seed: u64,
}

impl Default for ReadoutParams {
    /// The values that worked on deb-files.
    fn default() -> Self {
        ReadoutParams { epochs: 10, rate: 0.2, tau: 8.0, window: 64, seed: 1 }
    }
}

/// The supervised spike-pattern readout: one output neuron per class.
#[derive(Clone, Debug, PartialEq)]
pub struct Readout {
    /// Input neurons (the hidden layer's, or the channels without it).
    pub inputs: usize,
    /// Weights, class after class, `inputs` each.
    pub weights: Vec<f32>,
    /// τ.
    pub tau: f64,
    /// R.
    pub window: u32,
}

impl Readout {
    /// Trains with ReSuMe's rule on `records` (each one's input spikes)
    /// with class indices `classes` (all below `class_count`).
    pub fn train(
        records: &[Vec<Spike>],
        classes: &[usize],
        inputs: usize,
        class_count: usize,
        params: &ReadoutParams,
    ) -> Result<Readout, String> {
        if records.len() != classes.len() {
            return Err(format!("{} records but {} classes", records.len(), classes.len()));
        }
        if let Some(c) = classes.iter().find(|&&c| c >= class_count) {
            return Err(format!("class index {c} is outside the readout's {class_count} classes"));
        }
        if let Some((n, _)) = records.iter().flatten().find(|s| s.0 >= inputs) {
            return Err(format!("input neuron {n} is outside the readout's {inputs} inputs"));
        }
        let mut readout =
            Readout { inputs, weights: vec![0.0; class_count * inputs], tau: params.tau, window: params.window };
        let mut rng = SplitMix64::stream(params.seed, 0x7e5e, 0);
        for epoch in 0..params.epochs {
            // A decaying rate: large steps first, fine ones last.
            let rate = params.rate / (1.0 + epoch as f64);
            for r in rng.permutation(records.len()) {
                let spikes = &records[r];
                let times = readout.spike_times(spikes);
                let window = f64::from(readout.window);
                for (j, &t) in times.iter().enumerate() {
                    let target = if j == classes[r] { 0.0 } else { window };
                    let error = (t - target) / window;
                    if error == 0.0 {
                        continue;
                    }
                    let row = &mut readout.weights[j * inputs..(j + 1) * inputs];
                    for &(n, tick) in spikes {
                        row[n] += (rate * error * (-f64::from(tick) / params.tau).exp()) as f32;
                    }
                }
            }
        }
        Ok(readout)
    }

    /// Each output neuron's spike tick (real-valued) for input spikes.
    pub fn spike_times(&self, spikes: &[Spike]) -> Vec<f64> {
        let trace: Vec<(usize, f64)> = spikes.iter().map(|&(n, t)| (n, (-f64::from(t) / self.tau).exp())).collect();
        let window = f64::from(self.window);
        self.weights
            .chunks_exact(self.inputs)
            .map(|w| {
                let drive: f64 = trace.iter().map(|&(n, k)| f64::from(w[n]) * k).sum();
                (window * (1.0 - drive)).clamp(0.0, window)
            })
            .collect()
    }

    /// The class whose target pattern is nearest: the first output neuron
    /// to spike (ties: the lower index).
    pub fn classify(&self, spikes: &[Spike]) -> usize {
        let times = self.spike_times(spikes);
        (0..times.len()).min_by(|&a, &b| times[a].total_cmp(&times[b]).then(a.cmp(&b))).unwrap_or(0)
    }
}

/// A record's input spikes as the readout sees them without a hidden
/// layer: every active channel spikes at tick 0 (its taps' coincidence).
pub fn channel_spikes(active: &[usize]) -> Vec<Spike> {
    active.iter().map(|&c| (c, 0)).collect()
}

/// The control for the correlative encoding: a record's pattern drawn at
/// random per record (seeded by its index), so records that share values
/// share nothing but chance coincidences.
pub fn random_channels(record: u32, seed: u32, neurons: usize, ticks: usize) -> Vec<usize> {
    (0..neurons as u32)
        .map(|n| n as usize * ticks + (mix32(mix32(seed ^ record) ^ n) as usize % ticks.max(1)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two prototype patterns over 64 channels, records flipping a few
    /// channels of their class's prototype.
    fn problem(records: usize) -> (Vec<Vec<usize>>, Vec<usize>) {
        let mut rng = SplitMix64::new(5);
        let prototypes: [Vec<usize>; 2] = [(0..8).map(|i| i * 8).collect(), (0..8).map(|i| i * 8 + 3).collect()];
        (0..records)
            .map(|r| {
                let class = r % 2;
                let active =
                    prototypes[class].iter().map(|&c| if rng.unit() < 0.2 { (c + 5) % 64 } else { c }).collect();
                (active, class)
            })
            .unzip()
    }

    #[test]
    fn stdp_and_the_readout_separate_two_prototypes() {
        let (x, y) = problem(400);
        let p = StdpParams { hidden: 16, winners: 2, epochs: 2, ..Default::default() };
        let layer = StdpLayer::train(&x, 64, &p).unwrap();
        let spikes: Vec<Vec<Spike>> = x.iter().map(|a| layer.respond(a)).collect();
        assert!(spikes.iter().all(|s| s.len() == 2 && s[0].1 == 0 && s[1].1 == 1), "k-WTA: two spikes, ticks 0 and 1");
        let readout = Readout::train(&spikes, &y, 16, 2, &ReadoutParams::default()).unwrap();
        let correct = spikes.iter().zip(&y).filter(|(s, c)| readout.classify(s) == **c).count();
        assert!(correct >= 380, "{correct} of 400");
        assert_eq!(StdpLayer::train(&x, 64, &p).unwrap(), layer, "deterministic for a seed");
    }

    #[test]
    fn memristive_conductances_stay_near_their_levels_and_in_range() {
        let (x, _) = problem(100);
        let m = Memristor { levels: 8, write_noise: 0.0, drift: 0.0 };
        let p = StdpParams { hidden: 4, winners: 1, epochs: 1, memristor: Some(m), ..Default::default() };
        let layer = StdpLayer::train(&x, 64, &p).unwrap();
        for &g in &layer.conductance {
            let level = f64::from(g) * 7.0;
            assert!((level - level.round()).abs() < 1e-4 && (0.0..=1.0).contains(&g), "{g} is not one of 8 levels");
        }
        let noisy = StdpParams { memristor: Some(Memristor { write_noise: 0.3, ..m }), ..p };
        let layer = StdpLayer::train(&x, 64, &noisy).unwrap();
        assert!(layer.conductance.iter().all(|g| (0.0..=1.0).contains(g)));
    }

    #[test]
    fn bad_settings_are_errors() {
        let (x, y) = problem(10);
        let p = StdpParams { hidden: 2, winners: 3, ..Default::default() };
        assert!(StdpLayer::train(&x, 64, &p).unwrap_err().contains("winners"));
        let p = StdpParams { hidden: 2, winners: 1, ..Default::default() };
        assert!(StdpLayer::train(&x, 8, &p).unwrap_err().contains("outside the layer's 8 channels"));
        let m = Some(Memristor { levels: 1, write_noise: 0.0, drift: 0.0 });
        assert!(StdpLayer::train(&x, 64, &StdpParams { memristor: m, ..p }).is_err());
        let spikes: Vec<Vec<Spike>> = x.iter().map(|a| channel_spikes(a)).collect();
        assert!(Readout::train(&spikes, &y, 64, 1, &ReadoutParams::default()).unwrap_err().contains("class index 1"));
        assert!(Readout::train(&spikes, &y[..3], 64, 2, &ReadoutParams::default()).is_err());
    }

    #[test]
    fn random_patterns_have_one_spike_per_neuron() {
        let a = random_channels(3, 1, 12, 16);
        assert_eq!(a.len(), 12);
        assert!(a.iter().enumerate().all(|(n, &c)| c / 16 == n));
        assert_ne!(a, random_channels(4, 1, 12, 16));
    }
}
