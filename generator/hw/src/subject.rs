//! A design to simulate or build: generated in memory from a network
//! description, or read back from a directory written by `ttfs generate`.

use crate::cycles::CycleModel;
use crate::design::{self, Design};
use crate::manifest::Manifest;
use crate::plan::Plan;
use crate::planner;
use crate::target::Target;
use crate::view::{self, TopView};
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::path::Path;
use ttfs_ir::Network;

/// A design with its network and plan.
pub struct Subject {
    /// Network.
    pub net: Network,
    /// Plan.
    pub plan: Plan,
    /// Template view.
    pub view: TopView,
    /// Files.
    pub design: Design,
}

/// A network description or a generated directory, as a design in memory.
/// From a directory, the files are DIR's own (edited or not); the plan comes
/// from its manifest (target and lanes) and its `net.json`.
pub fn subject(input: &Path, target: Target, lanes: &[usize]) -> Result<Subject> {
    if input.is_dir() {
        let net = ttfs_ir::load(&input.join("net.json"))
            .with_context(|| format!("{} is not a directory written by `ttfs generate`", input.display()))?;
        let manifest = Manifest::read(input)?;
        let lanes: Vec<usize> = manifest.layers.iter().map(|l| l.lanes).collect();
        let target = manifest.target;
        let plan = planner::plan(&net, target, &lanes)?;
        let view = view::view(&net, &plan);
        let mut files = BTreeMap::new();
        for sub in ["rtl", "sim", "mem"] {
            let dir = input.join(sub);
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for entry in entries {
                let path = entry?.path();
                if path.is_file() {
                    let name = format!("{sub}/{}", path.file_name().unwrap().to_string_lossy());
                    files
                        .insert(name, std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?);
                }
            }
        }
        if !files.contains_key(&format!("rtl/{}.v", view.top)) {
            bail!("{} has no rtl/{}.v", input.display(), view.top);
        }
        let design = Design { top: view.top.clone(), files };
        Ok(Subject { net, plan, view, design })
    } else {
        let net = ttfs_ir::load(input)?;
        let plan = planner::plan(&net, target, lanes)?;
        let view = view::view(&net, &plan);
        let design = design::render(&net, &plan, &CycleModel::new(&plan), None);
        Ok(Subject { net, plan, view, design })
    }
}
