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

/// The most tasks one job array holds here: Slurm's default `MaxArraySize`
/// is 1001, so an array's indices run from 0 to 1000 at most.
pub const ARRAY_CHUNK: usize = 1000;

/// The Slurm script: an array of one task per configuration, at most
/// `parallel` at a time (`%N`), each task one CPU; its output in
/// `DIR/slurm/`. A sweep of more than [`ARRAY_CHUNK`] configurations is
/// submitted in chunks: the script's argument is the chunk's first
/// configuration, and its header lists every `sbatch` to run.
pub fn slurm(ttfs: &Path, dir: &Path, spec: &Spec, parallel: usize) -> String {
    let n = spec.configs().len();
    let (ttfs, dir_q) = (shell_quote(&ttfs.display().to_string()), shell_quote(&dir.display().to_string()));
    let logs = shell_quote(&dir.join("slurm").display().to_string());
    let script = shell_quote(&dir.join("sweep.sbatch").display().to_string());
    let submits: String = if n <= ARRAY_CHUNK {
        format!("#   sbatch {script}\n")
    } else {
        (0..n)
            .step_by(ARRAY_CHUNK)
            .map(|first| {
                let last = (first + ARRAY_CHUNK).min(n) - 1 - first;
                format!("#   sbatch --array=0-{last}%{parallel} {script} {first}\n", parallel = parallel.max(1))
            })
            .collect()
    };
    format!(
        "#!/bin/bash\n\
         # A Slurm job array for the sweep in {dir_q} (written by ttfs sweep --emit slurm):\n\
         {submits}\
         # then, when every task has ended:\n\
         #   {ttfs} sweep collect {dir_q}\n\
         # Task k runs configuration k (plus the argument, the first configuration of a\n\
         # chunk of at most {ARRAY_CHUNK}); a configuration that is done already is skipped,\n\
         # so the array can be submitted again after a failure.\n\
         #SBATCH --job-name=ttfs-sweep\n\
         #SBATCH --array=0-{last}%{parallel}\n\
         #SBATCH --cpus-per-task=1\n\
         #SBATCH --output={logs}/%A_%a.out\n\
         set -eu\n\
         exec {ttfs} sweep run-one {dir_q} \"$(( ${{1:-0}} + SLURM_ARRAY_TASK_ID ))\"\n",
        last = n.clamp(1, ARRAY_CHUNK) - 1,
        parallel = parallel.max(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid;

    #[test]
    fn large_sweeps_are_submitted_in_chunks() {
        let mut spec = Spec {
            format: crate::spec::FORMAT.into(),
            version: crate::spec::VERSION,
            model: None,
            data: None,
            labels: None,
            calib: None,
            count: None,
            stages: ttfs_flow::pipeline::Stages::parse("sim").unwrap(),
            grid: vec![grid::parse_axis("seed=1,2,3").unwrap()],
            place_front: false,
            place_resolution: crate::spec::default_place_resolution(),
        };
        let small = slurm(Path::new("/bin/ttfs"), Path::new("/s"), &spec, 4);
        assert!(small.contains("#SBATCH --array=0-2%4\n") && small.contains("#   sbatch /s/sweep.sbatch\n"), "{small}");
        let fifty: Vec<String> = (1..=50).map(|s| s.to_string()).collect();
        spec.grid = vec![
            grid::parse_axis(&format!("seed={}", fifty.join(","))).unwrap(),
            grid::parse_axis(&format!("freq={}", fifty.join(","))).unwrap(),
        ];
        let large = slurm(Path::new("/bin/ttfs"), Path::new("/s"), &spec, 4);
        assert!(large.contains("#SBATCH --array=0-999%4\n"), "{large}");
        for chunk in [
            "--array=0-999%4 /s/sweep.sbatch 0\n",
            "--array=0-999%4 /s/sweep.sbatch 1000\n",
            "--array=0-499%4 /s/sweep.sbatch 2000\n",
        ] {
            assert!(large.contains(chunk), "{chunk}: {large}");
        }
        assert!(large.contains("\"$(( ${1:-0} + SLURM_ARRAY_TASK_ID ))\""), "{large}");
    }
}
