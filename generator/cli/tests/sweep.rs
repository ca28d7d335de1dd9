//! `ttfs sweep` as a user runs it, on the bundled digits MLP with the cheap
//! stages (convert, sim, generate): a grid runs in parallel into one line
//! per configuration; a re-run skips what is done, and after a kill only
//! the missing configurations run; the same sweep as a list of `run-one`
//! commands (what a Slurm array task runs) and `collect` gives the same
//! figures; a configuration that does not fit is recorded as failed and
//! does not stop the sweep; bad grids and another sweep's directory are
//! refused before anything runs.

use std::path::Path;
use std::process::Command;
use ttfs_sweep::run::PointResult;

fn ttfs(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ttfs")).args(args).output().expect("ttfs runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn results(dir: &Path) -> Vec<PointResult> {
    let text = std::fs::read_to_string(dir.join("results.jsonl")).unwrap();
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// The figures and outcomes of a sweep, without times and paths.
fn outcomes(results: &[PointResult]) -> Vec<String> {
    results.iter().map(|r| format!("{} {} {:?} {:?}", r.index, r.status, r.config, r.figures)).collect()
}

#[test]
fn a_sweep_runs_resumes_and_runs_as_array_tasks() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sweep");
    let d = dir.to_str().unwrap();
    let grid = [
        "--grid",
        "weight-bits=4,8",
        "--grid",
        "budget=1,50,80",
        "--grid",
        "target=ice40-hx8k",
        "--stages",
        "sim,generate",
    ];
    let mut args = vec!["sweep", "-j", "2", "-o", d];
    args.extend(grid);
    let (ok, stdout, stderr) = ttfs(&args);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("6 configurations: 6 run now, 0 done before, 2 failed"), "{stdout}");
    let first = results(&dir);
    assert_eq!(first.iter().map(|r| r.index).collect::<Vec<_>>(), [0, 1, 2, 3, 4, 5]);
    for r in &first {
        assert!(r.figures.accuracy_discrete.unwrap() > 0.9, "{r:?}");
        assert!(r.command.starts_with("ttfs flow --") && r.command.contains("--stages convert,sim,generate"), "{r:?}");
        if r.config["budget"] == "1" {
            // No lanes fit in 1 % of the HX8K: the plan refuses it in
            // milliseconds, and the sweep goes on.
            assert_eq!(r.status, "failed", "{r:?}");
            assert!(r.stages.iter().any(|s| s.name == "generate" && s.status == "failed"), "{r:?}");
        } else {
            assert_eq!(r.status, "ok", "{r:?}");
            assert!(
                r.figures.estimated_logic_cells.unwrap() > 500 && r.figures.model_latency_us.unwrap() > 0.1,
                "{r:?}"
            );
        }
    }
    // The report: both Pareto fronts, every configuration, each front point
    // a finished one.
    let page = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(page.contains("6 of 6 configurations finished, 2 failed") && page.matches("<svg").count() == 2, "{page}");
    assert!(page.matches("<tr").count() == 7 && page.contains("class=\"front\""), "{page}");
    let front = stdout.lines().find(|l| l.starts_with("front, accuracy against logic cells: [")).expect("the front");
    for r in &first {
        if front.contains(&format!("[{}", r.index)) || front.contains(&format!(" {},", r.index)) {
            assert_eq!(r.status, "ok", "{front}");
        }
    }
    // A larger budget buys lanes at least as fast (auto takes the fastest
    // design within the budget).
    for (b50, b80) in [(1, 2), (4, 5)] {
        assert!(first[b80].figures.model_latency_us.unwrap() <= first[b50].figures.model_latency_us.unwrap());
    }

    // A re-run does nothing; after a kill (two results lost) it runs those two.
    let (ok, stdout, _) = ttfs(&args);
    assert!(ok && stdout.contains("0 run now, 6 done before"), "{stdout}");
    for name in [&first[1].name, &first[3].name] {
        std::fs::remove_file(dir.join("points").join(name).join("result.json")).unwrap();
    }
    // A killed flow leaves its staging directory; the re-run clears it.
    let stale = dir.join("points").join(&first[1].name).join(".ttfs-flow-Kx3a9Q");
    std::fs::create_dir_all(stale.join("hw")).unwrap();
    let (ok, stdout, stderr) = ttfs(&args);
    assert!(ok && stdout.contains("2 run now, 4 done before"), "{stdout}{stderr}");
    assert!(!stale.exists());
    assert_eq!(outcomes(&results(&dir)), outcomes(&first));

    // The same sweep as commands: each line is what a Slurm array task runs.
    let array = tmp.path().join("array");
    let a = array.to_str().unwrap();
    let mut emit = vec!["sweep", "--emit", "list", "-o", a];
    emit.extend(grid);
    let (ok, stdout, stderr) = ttfs(&emit);
    assert!(ok && stdout.contains("6 configurations"), "{stderr}");
    let commands = std::fs::read_to_string(array.join("commands.txt")).unwrap();
    assert_eq!(commands.lines().count(), 6);
    for (k, line) in commands.lines().enumerate() {
        assert!(line.ends_with(&format!(" sweep run-one {a} {k}")), "{line}");
        let (ok, stdout, stderr) = ttfs(&["sweep", "run-one", a, &k.to_string()]);
        assert!(ok, "{stdout}{stderr}");
    }
    let (ok, stdout, _) = ttfs(&["sweep", "collect", a]);
    assert!(ok && stdout.contains("6 of 6 configurations finished (2 failed)"), "{stdout}");
    assert_eq!(outcomes(&results(&array)), outcomes(&first));
    let (ok, stdout, _) = ttfs(&["sweep", "run-one", a, "3"]);
    assert!(ok && stdout.contains("done already"), "{stdout}");
    let (ok, _, stderr) = ttfs(&["sweep", "run-one", a, "6"]);
    assert!(!ok && stderr.contains("has 6 configurations; there is no configuration 6"), "{stderr}");

    // The Slurm script: an array over the six configurations (the grid from
    // a TOML file this time).
    let slurm = tmp.path().join("slurm");
    let toml = tmp.path().join("grid.toml");
    std::fs::write(&toml, "[grid]\nweight-bits = [4, 8]\nbudget = [1, 50, 80]\ntarget = \"ice40-hx8k\"\n").unwrap();
    let emit = vec![
        "sweep",
        "--emit",
        "slurm",
        "--parallel",
        "3",
        "--grid-file",
        toml.to_str().unwrap(),
        "--stages",
        "sim,generate",
        "-o",
        slurm.to_str().unwrap(),
    ];
    assert!(ttfs(&emit).0);
    let script = std::fs::read_to_string(slurm.join("sweep.sbatch")).unwrap();
    assert!(script.contains("#SBATCH --array=0-5%3") && script.contains("sweep run-one"), "{script}");
    assert!(script.contains("\"$(( ${1:-0} + SLURM_ARRAY_TASK_ID ))\""), "{script}");
    let grid_of = |dir: &Path| -> serde_json::Value {
        let spec: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("sweep.json")).unwrap()).unwrap();
        spec["grid"].clone()
    };
    assert_eq!(grid_of(&slurm), grid_of(&array), "the TOML grid is the --grid grid");

    // Another sweep in the same directory is refused without --force.
    let mut other = vec!["sweep", "-o", d, "--grid", "weight-bits=6", "--stages", "sim"];
    let (ok, _, stderr) = ttfs(&other);
    assert!(!ok && stderr.contains("holds another sweep") && stderr.contains("--force"), "{stderr}");
    other.push("--force");
    let (ok, stdout, stderr) = ttfs(&other);
    assert!(ok && stdout.contains("1 configurations: 1 run now"), "{stdout}{stderr}");
    assert_eq!(results(&dir).len(), 1);
}

#[test]
fn bad_grids_are_refused_before_anything_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("never");
    let d = dir.to_str().unwrap();
    for (grid, message) in [
        ("colour=red", "`colour` is not an option a sweep can vary"),
        ("weight-bits=1,4", "weight-bits=1: not an integer from 2 to 16"),
        ("target=virtex7", "target=virtex7: not one of"),
        ("lanes=2,2", "the value 2 is given twice"),
    ] {
        let (ok, _, stderr) = ttfs(&["sweep", "-o", d, "--grid", grid]);
        assert!(!ok && stderr.contains(message), "{grid}: {stderr}");
    }
    let (ok, _, stderr) = ttfs(&["sweep", "-o", d, "--grid", "seed=1", "--grid", "seed=2"]);
    assert!(!ok && stderr.contains("seed is given twice"), "{stderr}");
    let toml = tmp.path().join("grid.toml");
    std::fs::write(&toml, "[grid]\nweight-bits = [4, 1]\n").unwrap();
    let (ok, _, stderr) = ttfs(&["sweep", "-o", d, "--grid-file", toml.to_str().unwrap()]);
    assert!(!ok && stderr.contains("grid.toml: weight-bits=1: not an integer from 2 to 16"), "{stderr}");
    let (ok, _, stderr) = ttfs(&["sweep", "-o", d, "--stages", "sim,synth"]);
    assert!(!ok && stderr.contains("add generate"), "{stderr}");
    assert!(!dir.exists(), "nothing was written");
    // A directory that is not a sweep's.
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("thesis.tex"), "mine").unwrap();
    let (ok, _, stderr) = ttfs(&["sweep", "-o", d, "--grid", "seed=1", "--stages", "sim"]);
    assert!(!ok && stderr.contains("holds no sweep"), "{stderr}");
    let (ok, _, stderr) = ttfs(&["sweep", "collect", d]);
    assert!(!ok && stderr.contains("is it a sweep directory"), "{stderr}");
    std::fs::write(dir.join("sweep.json"), "{\"format\": \"ttfs-sweep\", \"version\": 1}").unwrap();
    let (ok, _, stderr) = ttfs(&["sweep", "collect", d]);
    assert!(!ok && stderr.contains("is not a sweep description"), "{stderr}");
}

/// The repository's digits fixture `name`.
fn fixture(name: &str) -> String {
    format!("{}/../../tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn models_in_the_grid_constraints_and_placing_only_the_front() {
    if ttfs_tools::testing::require(ttfs_tools::Tool::Verilator).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (onnx, train) = (fixture("digits_mlp.onnx"), fixture("digits/train_images.csv.gz"));
    let (test, labels) = (fixture("digits/test_images.csv.gz"), fixture("digits/test_labels.csv.gz"));
    // A network description (what convert, train and finetune write) is a
    // model a sweep can vary over, beside the ONNX file it came from.
    let description = tmp.path().join("digits.json");
    let (ok, _, stderr) = ttfs(&["convert", &onnx, "--calib", &train, "-o", description.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    let dir = tmp.path().join("sweep");
    let d = dir.to_str().unwrap();
    let models = format!("model={onnx},{}", description.display());
    let data = ["--data", &test, "--labels", &labels, "--calib", &train, "--count", "40"];
    let mut args = vec!["sweep", "-j", "2", "-o", d, "--grid", &models, "--grid", "weight-bits=4,8"];
    args.extend(data);
    args.extend(["--stages", "generate,cosim", "--place-front", "--place-resolution", "0"]);
    let (ok, stdout, stderr) = ttfs(&args);
    assert!(ok && stdout.contains("4 configurations"), "{stdout}{stderr}");
    let all = results(&dir);
    assert_eq!(all.len(), 4);
    // The description is quantized again at each point's bits from the
    // same float weights and windows: the same network as the ONNX file's.
    for (a, b) in [(0, 2), (1, 3)] {
        assert_eq!(all[a].figures.accuracy_discrete, all[b].figures.accuracy_discrete, "{all:?}");
        assert_eq!(all[a].figures.estimated_logic_cells, all[b].figures.estimated_logic_cells);
    }
    assert!(all[3].name.starts_with("0003-model-digits-weight-bits-8"), "{}", all[3].name);
    assert!(all[3].command.starts_with(&format!("ttfs flow {} ", description.display())), "{}", all[3].command);
    // Only the configurations on a front were co-simulated (0 mismatches);
    // the others kept the plan's figures.
    let front = stdout.lines().filter(|l| l.starts_with("front")).collect::<Vec<_>>().join(" ");
    for r in &all {
        let on = front.contains(&format!("[{}", r.index))
            || front.contains(&format!(" {},", r.index))
            || front.contains(&format!(" {}]", r.index));
        assert_eq!(r.figures.mismatches.is_some(), on, "{r:?}\n{front}");
        if on {
            assert_eq!(r.figures.mismatches, Some(0));
        }
        assert!(r.figures.device_logic_cells.is_some() && r.figures.model_inferences_per_second.is_some(), "{r:?}");
    }
    assert!(stdout.contains("run now") && all.iter().any(|r| r.figures.mismatches.is_none()), "{stdout}");

    // Constraints narrow the fronts after the fact.
    let (ok, stdout, _) = ttfs(&["sweep", "collect", d, "--min-accuracy", "99.9"]);
    assert!(ok && stdout.contains("constraints: at least 99.9 % accuracy"), "{stdout}");
    assert!(stdout.contains("front, accuracy against logic cells: []"), "{stdout}");
    let (ok, stdout, _) = ttfs(&["sweep", "collect", d, "--budget", "100", "--rate", "1"]);
    assert!(ok && stdout.contains("fastest: [") && !stdout.contains(": []"), "{stdout}");
    let page = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(page.contains("Constraints: at most 100 % of the device") && page.contains("Sweep of 2 models"), "{page}");
    let (ok, _, stderr) = ttfs(&["sweep", "collect", d, "--budget", "0"]);
    assert!(!ok && stderr.contains("not a percentage"), "{stderr}");

    // Bad models are refused before anything runs.
    let never = tmp.path().join("never");
    let n = never.to_str().unwrap();
    for (grid, message) in
        [("model=/no/such/model.onnx", "no such file"), ("model=notes.txt", "model=notes.txt: not a model file")]
    {
        let mut args = vec!["sweep", "-o", n, "--grid", grid];
        args.extend(data);
        let (ok, _, stderr) = ttfs(&args);
        assert!(!ok && stderr.contains(message), "{grid}: {stderr}");
    }
    let mut args = vec!["sweep", &onnx, "-o", n, "--grid", &models];
    args.extend(data);
    let (ok, _, stderr) = ttfs(&args);
    assert!(!ok && stderr.contains("the model is given twice"), "{stderr}");
    let (ok, _, stderr) = ttfs(&["sweep", "-o", n, "--emit", "slurm", "--place-front"]);
    assert!(!ok && stderr.contains("--place-front decides on this machine"), "{stderr}");
    assert!(!never.exists());
}
