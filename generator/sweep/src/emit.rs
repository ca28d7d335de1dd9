//! A sweep for a batch system: `--emit list` writes one command per
//! configuration (for GNU parallel, or any scheduler that runs lines);
//! `--emit slurm` writes a job-array script whose task k runs
//! `ttfs sweep run-one DIR k`. Either way `ttfs sweep collect DIR` gathers
//! the results afterwards. The commands name the `ttfs` that wrote them and
//! the sweep directory by absolute paths (a cluster's nodes share the file
//! system), each quoted for the shell.

use crate::spec::{Spec, shell_quote};
use std::path::Path;

/// The list: `ttfs sweep run-one DIR K`, one line per configuration.
pub fn list(ttfs: &Path, dir: &Path, spec: &Spec) -> String {
    let (ttfs, dir) = (shell_quote(&ttfs.display().to_string()), shell_quote(&dir.display().to_string()));
    spec.configs().iter().map(|c| format!("{ttfs} sweep run-one {dir} {}\n", c.index)).collect()
}

/// The Slurm script: an array of one task per configuration, at most
/// `parallel` at a time (`%N`), each task one CPU; its output in
/// `DIR/slurm/`.
pub fn slurm(ttfs: &Path, dir: &Path, spec: &Spec, parallel: usize) -> String {
    let n = spec.configs().len();
    let (ttfs, dir_q) = (shell_quote(&ttfs.display().to_string()), shell_quote(&dir.display().to_string()));
    let logs = shell_quote(&dir.join("slurm").display().to_string());
    format!(
        "#!/bin/bash\n\
         # A Slurm job array for the sweep in {dir_q} (written by ttfs sweep --emit slurm):\n\
         #   sbatch {script}\n\
         # then, when every task has ended:\n\
         #   {ttfs} sweep collect {dir_q}\n\
         # Task k runs configuration k; a configuration that is done already is skipped,\n\
         # so the array can be submitted again after a failure.\n\
         #SBATCH --job-name=ttfs-sweep\n\
         #SBATCH --array=0-{last}%{parallel}\n\
         #SBATCH --cpus-per-task=1\n\
         #SBATCH --output={logs}/%A_%a.out\n\
         set -eu\n\
         exec {ttfs} sweep run-one {dir_q} \"$SLURM_ARRAY_TASK_ID\"\n",
        script = shell_quote(&dir.join("sweep.sbatch").display().to_string()),
        last = n.saturating_sub(1),
        parallel = parallel.max(1),
    )
}
