//! A sweep through a real Slurm cluster: the script `ttfs sweep --emit
//! slurm` writes is submitted with `sbatch`, `sacct` shows every array task
//! completed, and `ttfs sweep collect` gathers results equal to the same
//! sweep run locally (figures and outcomes; times and paths aside).
//!
//! Needs a cluster that answers `sinfo` and `sacct`: CI brings up a
//! one-node one with `.ci/slurm.sh`; elsewhere the test is skipped (and
//! says so), and under CI a missing cluster fails it.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use ttfs_sweep::run::PointResult;

fn ttfs(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ttfs")).args(args).output().expect("ttfs runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A command's standard output, or `None` when it cannot run or fails.
fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn outcomes(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("results.jsonl")).unwrap();
    text.lines()
        .map(|l| serde_json::from_str::<PointResult>(l).unwrap())
        .map(|r| {
            let stages: Vec<(String, String)> = r.stages.iter().map(|s| (s.name.clone(), s.status.clone())).collect();
            format!("{} {} {} {:?} {:?} {:?}", r.index, r.name, r.status, r.config, stages, r.figures)
        })
        .collect()
}

#[test]
fn a_sweep_runs_as_a_slurm_job_array() {
    let idle = output("sinfo", &["--noheader", "--states=idle,mixed"]).is_some_and(|s| !s.trim().is_empty());
    if !idle || output("sacct", &["--noheader"]).is_none() {
        ttfs_tools::testing::skip("no Slurm cluster answers sinfo and sacct here (CI starts one with .ci/slurm.sh)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let grid = ["--grid", "weight-bits=4,8", "--grid", "time-bits=4,6,8", "--stages", "generate"];

    // The sweep on this machine.
    let local = tmp.path().join("local");
    let mut args = vec!["sweep", "-j", "2", "-o", local.to_str().unwrap()];
    args.extend(grid);
    let (ok, stdout, stderr) = ttfs(&args);
    assert!(ok && stdout.contains("6 configurations: 6 run now"), "{stdout}{stderr}");

    // The same sweep as a job array.
    let cluster = tmp.path().join("cluster");
    let c = cluster.to_str().unwrap();
    let mut args = vec!["sweep", "--emit", "slurm", "--parallel", "2", "-o", c];
    args.extend(grid);
    let (ok, stdout, stderr) = ttfs(&args);
    assert!(ok, "{stdout}{stderr}");
    let script = cluster.join("sweep.sbatch");
    let submitted = Command::new("sbatch")
        .args(["--wait", "--parsable", script.to_str().unwrap()])
        .current_dir(tmp.path())
        .output()
        .expect("sbatch runs");
    let job = String::from_utf8_lossy(&submitted.stdout).trim().to_string();
    let logs: String = std::fs::read_dir(cluster.join("slurm"))
        .map(|d| d.flatten().map(|e| std::fs::read_to_string(e.path()).unwrap_or_default()).collect())
        .unwrap_or_default();
    assert!(submitted.status.success(), "sbatch: {}\n{logs}", String::from_utf8_lossy(&submitted.stderr));
    let job = job.split(';').next().unwrap().to_string();

    // The accounting database hears of each task's end shortly after it.
    let started = Instant::now();
    let states = loop {
        let text = output("sacct", &["-j", &job, "-X", "--noheader", "--parsable2", "--format=JobID,State,ExitCode"])
            .unwrap_or_default();
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        if lines.len() == 6 && lines.iter().all(|l| l.contains("|COMPLETED|0:0")) {
            break lines;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "sacct after 60 s:\n{text}\n{logs}");
        std::thread::sleep(Duration::from_millis(500));
    };
    for k in 0..6 {
        assert!(states.iter().any(|l| l.starts_with(&format!("{job}_{k}|"))), "task {k}: {states:?}");
    }

    let (ok, stdout, stderr) = ttfs(&["sweep", "collect", c]);
    assert!(ok && stdout.contains("6 of 6 configurations finished (0 failed)"), "{stdout}{stderr}");
    assert_eq!(outcomes(&cluster), outcomes(&local));
}
