//! Checkpoints: after every epoch the parameters and the optimiser's moments
//! go into `DIR/checkpoint.safetensors` (f64, exact) and everything else
//! (architecture, windows, step, settings, the log so far) into
//! `DIR/checkpoint.json`. Both are written to temporary files and renamed,
//! the tensors first, so a crash leaves the previous checkpoint whole.
//!
//! `--resume` reads them back and checks every tensor's name, type and
//! shape against the network the settings build before using any of it; a
//! run resumed from epoch k draws the same shuffles as an uninterrupted one
//! (each epoch's shuffle depends on the seed and the epoch only), so the
//! result is byte-identical.

use crate::epoch::EpochStats;
use crate::net::{SpikingNet, Window};
use crate::optim::State;
use anyhow::{Context, Result, bail};
use candle_core::{Device, Tensor};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The value of [`Meta::format`].
pub const FORMAT: &str = "ttfs-train-checkpoint";

/// Everything but the tensors.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// Always [`FORMAT`].
    pub format: String,
    /// What the run was started with (architecture, neuron, data, seed,
    /// batch, optimiser, penalty): a resume must match it.
    pub fingerprint: String,
    /// Epochs completed.
    pub epochs_done: usize,
    /// Optimiser steps taken.
    pub step: u64,
    /// Hidden windows `[t_min, t_max]`, in layer order.
    pub windows: Vec<[f64; 2]>,
    /// The log of the completed epochs.
    pub history: Vec<EpochStats>,
}

/// The files of a checkpoint directory.
pub fn paths(dir: &Path) -> (PathBuf, PathBuf) {
    (dir.join("checkpoint.safetensors"), dir.join("checkpoint.json"))
}

/// Writes a checkpoint of `net` and `state` into `dir` (created if missing).
pub fn save(dir: &Path, net: &SpikingNet, state: &State, meta: &Meta) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating the checkpoint directory {}", dir.display()))?;
    let (tensors_path, meta_path) = paths(dir);
    let mut named: BTreeMap<String, Tensor> = BTreeMap::new();
    for (i, v) in net.vars().iter().enumerate() {
        named.insert(format!("param.{i}"), v.as_tensor().clone());
        let like = |values: &Vec<f64>| Tensor::from_vec(values.clone(), v.as_tensor().dims(), &Device::Cpu);
        named.insert(format!("first.{i}"), like(&state.first[i])?);
        if let Some(s) = state.second.get(i) {
            named.insert(format!("second.{i}"), like(s)?);
        }
    }
    let mut buffers = Vec::new();
    for (name, t) in &named {
        let values = t.flatten_all()?.to_vec1::<f64>()?;
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        buffers.push((name.clone(), t.dims().to_vec(), bytes));
    }
    let views: Vec<(String, TensorView)> = buffers
        .iter()
        .map(|(n, dims, bytes)| Ok((n.clone(), TensorView::new(Dtype::F64, dims.clone(), bytes)?)))
        .collect::<Result<_>>()?;
    let bytes = safetensors::serialize(views, None)?;
    write_atomic(&tensors_path, &bytes)?;
    write_atomic(&meta_path, serde_json::to_string_pretty(meta)?.as_bytes())?;
    Ok(())
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
    Ok(())
}

/// Reads the checkpoint in `dir` into `net` and `state`, which must have
/// been built from the same settings (`fingerprint`). Returns its metadata.
pub fn load(dir: &Path, fingerprint: &str, net: &mut SpikingNet, state: &mut State) -> Result<Meta> {
    let (tensors_path, meta_path) = paths(dir);
    let text = std::fs::read_to_string(&meta_path).with_context(|| {
        format!("--resume: reading {} (is there a checkpoint in {}?)", meta_path.display(), dir.display())
    })?;
    let meta: Meta =
        serde_json::from_str(&text).with_context(|| format!("{}: not a training checkpoint", meta_path.display()))?;
    if meta.format != FORMAT {
        bail!("{}: format {:?} is not {FORMAT:?}", meta_path.display(), meta.format);
    }
    if meta.fingerprint != fingerprint {
        bail!(
            "{}: the checkpoint was made by another run ({}); this run is {}. Resume with the same \
             --arch, --neuron, data, --seed, --batch, --lr, optimiser and --spike-penalty",
            meta_path.display(),
            meta.fingerprint,
            fingerprint
        );
    }
    let windows: Vec<Window> = meta.windows.iter().map(|w| Window { t_min: w[0], t_max: w[1] }).collect();
    if windows.iter().any(|w| !(w.t_min.is_finite() && w.t_max.is_finite() && w.t_max > w.t_min)) {
        bail!("{}: a window is not a finite, non-empty interval", meta_path.display());
    }
    net.set_windows(&windows).map_err(|e| anyhow::anyhow!("{}: {e}", meta_path.display()))?;
    let bytes =
        std::fs::read(&tensors_path).with_context(|| format!("--resume: reading {}", tensors_path.display()))?;
    let file = SafeTensors::deserialize(&bytes)
        .with_context(|| format!("{}: not a safetensors file", tensors_path.display()))?;
    let read = |name: &str, like: &Tensor| -> Result<Tensor> {
        let view = file.tensor(name).with_context(|| format!("{}: no tensor {name:?}", tensors_path.display()))?;
        if view.dtype() != Dtype::F64 || view.shape() != like.dims() {
            bail!(
                "{}: tensor {name:?} is {:?} {:?}; this network needs F64 {:?}",
                tensors_path.display(),
                view.dtype(),
                view.shape(),
                like.dims()
            );
        }
        let values: Vec<f64> =
            view.data().chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))).collect();
        if values.iter().any(|v| !v.is_finite()) {
            bail!("{}: tensor {name:?} holds a value that is not finite", tensors_path.display());
        }
        Ok(Tensor::from_vec(values, like.dims(), &Device::Cpu)?)
    };
    for (i, v) in net.vars().iter().enumerate() {
        v.set(&read(&format!("param.{i}"), v.as_tensor())?)?;
        state.first[i] = read(&format!("first.{i}"), v.as_tensor())?.flatten_all()?.to_vec1::<f64>()?;
        if i < state.second.len() {
            state.second[i] = read(&format!("second.{i}"), v.as_tensor())?.flatten_all()?.to_vec1::<f64>()?;
        }
    }
    state.step = meta.step;
    Ok(meta)
}
