//! A sweep's description, `DIR/sweep.json`: the model and data, the stages
//! and the grid. `ttfs sweep` writes it before anything runs; `ttfs sweep
//! run-one DIR K` and `ttfs sweep collect DIR` (a cluster's array tasks)
//! work from it alone, so its paths are absolute. It is read back as a
//! stranger's file: its format, version and grid are checked again.

use crate::grid::{self, Axis, Config, Key};
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use ttfs_flow::pipeline::Stages;
use ttfs_hw::target::Target;

/// The description's file in DIR.
pub const SPEC_FILE: &str = "sweep.json";

/// Its `format` field.
pub const FORMAT: &str = "ttfs-sweep";

/// Its version.
pub const VERSION: u32 = 1;

/// The most bytes of a `sweep.json` read.
const MAX_SPEC_BYTES: u64 = 16 << 20;

/// What a sweep runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// [`FORMAT`].
    pub format: String,
    /// [`VERSION`].
    pub version: u32,
    /// The model (absolute); `None`: the bundled digits MLP and its data.
    pub model: Option<PathBuf>,
    /// Evaluation data (absolute).
    pub data: Option<PathBuf>,
    /// Evaluation labels (absolute).
    pub labels: Option<PathBuf>,
    /// Calibration data (absolute).
    pub calib: Option<PathBuf>,
    /// Use only the first N evaluation samples.
    pub count: Option<usize>,
    /// The stages after convert and sim.
    pub stages: Stages,
    /// The grid.
    pub grid: Vec<Axis>,
    /// `--place-front`: every configuration runs the cheap stages (convert,
    /// sim, generate); only those on a Pareto front of their device run
    /// the others, until the fronts hold only configurations that ran them
    /// all.
    #[serde(default)]
    pub place_front: bool,
    /// With `place_front`: the accuracy resolution of the fronts that pick
    /// what to place, in points (%) ([`crate::report::coarse_front`]).
    #[serde(default = "default_place_resolution")]
    pub place_resolution: f64,
}

/// [`Spec::place_resolution`]'s default: a tenth of a point of accuracy.
pub fn default_place_resolution() -> f64 {
    0.1
}

impl Spec {
    /// Checks what a file could get wrong: format, version, grid.
    pub fn check(&self) -> Result<usize, String> {
        if self.format != FORMAT || self.version != VERSION {
            return Err(format!(
                "it is not a sweep description of this version (format {:?} version {}; this ttfs reads {FORMAT:?} version {VERSION})",
                self.format.escape_debug().to_string(),
                self.version
            ));
        }
        if !(0.0..=100.0).contains(&self.place_resolution) {
            return Err(format!("its place_resolution {} is not from 0 to 100 points", self.place_resolution));
        }
        for axis in &self.grid {
            for value in &axis.values {
                if axis.key == Key::Model && !Path::new(value).is_absolute() {
                    return Err(format!("its grid has model={}, not an absolute path", value.escape_debug()));
                }
                if axis.key.check(value).as_deref() != Ok(value.as_str()) {
                    return Err(format!(
                        "its grid has {}={}, not {}",
                        axis.key.name(),
                        value.escape_debug(),
                        axis.key.allowed()
                    ));
                }
            }
        }
        grid::check(&self.grid)
    }

    /// This sweep with only the cheap stages (convert, sim, generate).
    pub fn cheap(&self) -> Spec {
        Spec { stages: Stages { generate: true, cosim: false, synth: false }, ..self.clone() }
    }

    /// Every configuration.
    pub fn configs(&self) -> Vec<Config> {
        grid::expand(&self.grid)
    }

    /// Reads and checks `DIR/sweep.json`.
    pub fn read(dir: &Path) -> Result<Spec> {
        let path = dir.join(SPEC_FILE);
        let file = std::fs::File::open(&path)
            .with_context(|| format!("cannot read {}: is it a sweep directory?", path.display()))?;
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::Read::take(file, MAX_SPEC_BYTES + 1), &mut text)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if text.len() as u64 > MAX_SPEC_BYTES {
            bail!("{} is larger than {MAX_SPEC_BYTES} bytes: not a sweep description", path.display());
        }
        let spec: Spec =
            serde_json::from_str(&text).with_context(|| format!("{} is not a sweep description", path.display()))?;
        spec.check().map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        Ok(spec)
    }

    /// The flow's arguments for `config`, writing into `output`.
    pub fn flow_args(&self, config: &Config, output: PathBuf) -> ttfs_flow::Args {
        let mut options = ttfs_convert::Options::default();
        if let Some(b) = config.get(Key::WeightBits) {
            options.weight_bits = vec![b.parse().expect("checked")];
        }
        if let Some(b) = config.get(Key::TimeBits) {
            options.time_bits = vec![b.parse().expect("checked")];
        }
        if let Some(m) = config.get(Key::Margin) {
            options.margin = m.parse().expect("checked");
        }
        let freq_mhz = config.get(Key::Freq).map(|f| f.parse().expect("checked"));
        let budget =
            config.get(Key::Budget).map_or(ttfs_hw::planner::DEFAULT_BUDGET_PERCENT, |b| b.parse().expect("checked"));
        let lanes = match config.get(Key::Lanes).unwrap_or("auto") {
            "auto" => ttfs_hw::planner::Lanes::Auto(ttfs_hw::planner::Goal {
                budget_percent: budget,
                rate: None,
                clock_mhz: freq_mhz,
            }),
            fixed => ttfs_hw::planner::Lanes::Fixed(fixed.split('/').map(|n| n.parse().expect("checked")).collect()),
        };
        ttfs_flow::Args {
            model: self.model_of(config),
            calib: self.calib.clone(),
            data: self.data.clone(),
            labels: self.labels.clone(),
            output,
            options,
            target: config.get(Key::Target).map(|t| Target::parse(t).expect("checked")),
            lanes,
            seed: config.get(Key::Seed).map_or(1, |s| s.parse().expect("checked")),
            count: self.count,
            freq_mhz,
            strict: false,
            exhaustive: false,
            baud: ttfs_hw::board::BAUD,
            stages: self.stages,
            progress: false,
        }
    }

    /// The model `config` runs: the grid's, else the sweep's.
    pub fn model_of(&self, config: &Config) -> Option<PathBuf> {
        config.get(Key::Model).map(PathBuf::from).or_else(|| self.model.clone())
    }

    /// The `ttfs flow` command that rebuilds `config` into `output`.
    pub fn command(&self, config: &Config, output: &Path) -> String {
        let quote = |p: &Path| shell_quote(&p.display().to_string());
        let mut words = vec!["ttfs".to_string(), "flow".into()];
        if let Some(model) = self.model_of(config) {
            words.push(quote(&model));
        }
        for (flag, path) in [("--data", &self.data), ("--labels", &self.labels), ("--calib", &self.calib)] {
            if let Some(path) = path {
                words.push(flag.into());
                words.push(quote(path));
            }
        }
        if let Some(n) = self.count {
            words.push(format!("--count {n}"));
        }
        for (key, value) in &config.values {
            match key {
                Key::Model => {}
                Key::Lanes if value.contains('/') => {
                    words.push(format!("--lanes-per-layer {}", value.replace('/', ",")))
                }
                _ => words.push(format!("--{} {value}", key.name())),
            }
        }
        words.push(format!("--stages {}", self.stages.names()));
        words.push(format!("-o {}", quote(output)));
        words.join(" ")
    }
}

/// `text` as one POSIX shell word.
pub fn shell_quote(text: &str) -> String {
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+:=,".contains(c)) {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> Spec {
        Spec {
            format: FORMAT.into(),
            version: VERSION,
            model: Some("/m/model.onnx".into()),
            data: Some("/d/test images.csv".into()),
            labels: None,
            calib: Some("/d/train.csv".into()),
            count: Some(50),
            stages: Stages::parse("sim,generate").unwrap(),
            grid: vec![grid::parse_axis("weight-bits=4,8").unwrap(), grid::parse_axis("lanes=2/1,auto").unwrap()],
            place_front: false,
            place_resolution: default_place_resolution(),
        }
    }

    #[test]
    fn a_configuration_becomes_flow_arguments_and_a_command() {
        let s = spec();
        assert_eq!(s.check(), Ok(4));
        let c = &s.configs()[2];
        let args = s.flow_args(c, "/out/x".into());
        assert_eq!(
            (args.options.weight_bits.clone(), args.lanes.clone()),
            (vec![8], ttfs_hw::planner::Lanes::Fixed(vec![2, 1]))
        );
        assert_eq!(
            s.command(c, Path::new("/out/x")),
            "ttfs flow /m/model.onnx --data '/d/test images.csv' --calib /d/train.csv --count 50 --weight-bits 8 \
             --lanes-per-layer 2,1 --stages convert,sim,generate -o /out/x"
        );
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }

    #[test]
    fn descriptions_from_elsewhere_are_checked() {
        let mut s = spec();
        s.grid[0].values[0] = "99".into();
        assert!(s.check().unwrap_err().contains("weight-bits=99"));
        let mut s = spec();
        s.version = 7;
        assert!(s.check().unwrap_err().contains("version 7"));
    }
}
