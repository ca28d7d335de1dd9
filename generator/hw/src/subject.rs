//! A design to simulate or build: generated in memory from a network
//! description, or read back from a directory written by `ttfs generate`.

use crate::cycles::CycleModel;
use crate::design::{self, Design};
use crate::manifest::{Manifest, RecordsInfo};
use crate::plan::Plan;
use crate::planner::{self, Lanes};
use crate::target::Target;
use crate::view::{self, TopView};
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
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
    /// The directory the files were read from (`None`: generated in memory).
    pub dir: Option<PathBuf>,
    /// The record front end, for a file classifier's record design (its
    /// manifest's `records`, checked against the network).
    pub records: Option<RecordsInfo>,
}

impl Subject {
    /// What `ttfs generate` writes for this network and plan (the files a
    /// design directory holds when nobody edited them).
    /// For a record design, its default stimulus is DIR's own
    /// (`mem/tb_records.hex`, read back into records, and the expected
    /// results beside it): it comes from the model, which DIR does not hold.
    pub fn fresh(&self) -> Design {
        let model = CycleModel::new(&self.plan);
        let Some(records) = &self.records else { return design::render(&self.net, &self.plan, &model, None) };
        let front = &records.front;
        let text = self.design.files.get(design::RECORDS_FILE).map(|b| String::from_utf8_lossy(b).into_owned());
        let sent = design::read_record_beats(text.as_deref().unwrap_or(""), front.key_bits);
        let codes = vec![0; sent.len() * self.plan.inputs];
        let mut fresh =
            design::render_records_design(&self.net, &self.plan, &model, front, &sent, &codes, records.cycles.clone());
        for own in [design::RECORDS_FILE, design::RECORDS_EXPECTED_FILE] {
            match self.design.files.get(own) {
                Some(bytes) => fresh.files.insert(own.to_string(), bytes.clone()),
                None => fresh.files.remove(own),
            };
        }
        fresh
    }
}

/// A network description or a generated directory, as a design in memory.
/// From a directory, the files are DIR's own (edited or not); the plan comes
/// from its manifest (target and lanes) and its `net.json`. DIR may come
/// from a stranger: its `rtl/`, `sim/` and `mem/` hold plain files with safe
/// names only (a symbolic link is refused, wherever it points;
/// [`crate::inspect::check_entry`]).
pub fn subject(input: &Path, target: Target, lanes: &Lanes) -> Result<Subject> {
    if input.is_dir() {
        for name in [design::NET_JSON, design::NET_SIDECAR, "manifest.json", "rtl", "sim", "mem"] {
            crate::inspect::refuse_symlink(&input.join(name))?;
        }
        let net = ttfs_ir::load(&input.join(design::NET_JSON))
            .with_context(|| format!("{} is not a directory written by `ttfs generate`", input.display()))?;
        let manifest = Manifest::read(input)?;
        let lanes: Vec<usize> = manifest.layers.iter().map(|l| l.lanes).collect();
        let target = manifest.target;
        let mut plan = planner::plan(&net, target, &lanes)?;
        let records = manifest.records.clone();
        if let Some(board) = &manifest.board {
            // A stranger's manifest: the baud must be one the wrapper can make.
            crate::stage::check_baud(target, board.baud)
                .with_context(|| format!("{}: the board's baud", input.join("manifest.json").display()))?;
            plan.baud = board.baud;
        }
        let view = view::view(&net, &plan);
        if let Some(r) = &records {
            // A stranger's manifest: the front end must be one the network takes.
            r.front
                .check(plan.inputs, view.q0_bits)
                .map_err(|e| anyhow::anyhow!("{}: records.front: {e}", input.join("manifest.json").display()))?;
        }
        let mut files = BTreeMap::new();
        for sub in ["rtl", "sim", "mem"] {
            let dir = input.join(sub);
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for entry in entries {
                let entry = entry?;
                let path = entry.path();
                if crate::inspect::check_entry(input, sub, &entry)? {
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
        Ok(Subject { net, plan, view, design, dir: Some(input.to_path_buf()), records })
    } else {
        let net = ttfs_ir::load(input)?;
        let plan = planner::choose(&net, target, lanes, None)?;
        let view = view::view(&net, &plan);
        let design = design::render(&net, &plan, &CycleModel::new(&plan), None);
        Ok(Subject { net, plan, view, design, dir: None, records: None })
    }
}

/// The bring-up section ([`crate::bringup::markdown`]) of the design
/// written in `dir`: `None` when its target has no board, or its pixel
/// codes do not fit a byte. For the flow's report.
pub fn bring_up(dir: &Path) -> Result<Option<String>> {
    let s = subject(dir, Target::Generic, &Lanes::Fixed(Vec::new()))?;
    Ok(crate::board::board(s.plan.target, &s.view)
        .map(|b| crate::bringup::markdown(&s.net, &s.plan, &s.view, &b, s.records.as_ref())))
}
