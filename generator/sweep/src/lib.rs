//! `ttfs sweep`: design-space sweeps. A grid of the stages' own options
//! (weight bits, time bits, lanes, device, seeds, ...) expands to
//! configurations; each runs the flow's stages in its own directory, cheap
//! stages first, and its result becomes one line of `results.jsonl` as it
//! finishes. A sweep resumes where it stopped, runs `-j` configurations at
//! once on this machine, or goes to a cluster as a Slurm job array or a
//! list of commands.
//!
//! - [`grid`]: `--grid KEY=V1,V2,…`, checked and expanded;
//! - [`spec`]: `DIR/sweep.json`, what a sweep runs;
//! - [`run`]: running configurations and collecting results;
//! - [`report`]: the Pareto fronts and `report.html`;
//! - [`emit`]: the Slurm script and the command list;
//! - [`stage`]: `ttfs sweep`, `run-one` and `collect` as the CLI calls them.

pub mod emit;
pub mod grid;
pub mod report;
pub mod run;
pub mod spec;
pub mod stage;
