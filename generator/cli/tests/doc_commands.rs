//! Every command example in the README and in `docs/` runs, as written.
//!
//! An example is a `ttfs ...` command with at least one file argument (a
//! token with a `/` or a file extension) and no placeholder (an upper-case
//! word such as `NET.json` or `DIR`, or synopsis brackets `[ | ]`): inline
//! code spans (which may wrap across lines) and `$ ttfs ...` lines of fenced
//! blocks, whose following lines up to the next `$` must appear in the
//! command's output as written. A fenced block right after a
//! `<!-- file: NAME -->` comment is written to NAME first, so a document can
//! define the model and data its examples use. Each document's examples run
//! in order in a fresh directory where `tests/` is the repository's, so
//! paths read as in the repository and outputs land in the scratch
//! directory. Mentions such as `ttfs flow` or `ttfs passes run` are not
//! examples. Runs over the full MNIST test set are cut to `--count 1000`
//! (the slow tier and the benchmarks run them whole).

use std::path::{Path, PathBuf};
use std::process::Command;
use ttfs_tools::Tool;
use ttfs_tools::testing::require;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// What a document asks to be done, in order.
#[derive(Debug)]
enum Step {
    /// Write a file.
    File { name: String, text: String },
    /// Run a command; every expected line must appear in its output.
    Run { words: Vec<String>, expect: Vec<String> },
}

/// Whether `words` (after `ttfs`) are an example rather than a synopsis or a mention.
fn is_example(words: &[String]) -> bool {
    let placeholder = |w: &str| {
        let stem = w.split('.').next().unwrap_or(w);
        (!stem.is_empty() && stem.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
            || w.contains(['[', ']', '|', '…'])
            || w.contains("..")
    };
    let file = |w: &str| {
        w.contains('/') || w.rsplit_once('.').is_some_and(|(a, b)| !a.is_empty() && b.chars().all(char::is_alphabetic))
    };
    !words.iter().any(|w| placeholder(w)) && words.iter().skip(1).any(|w| file(w))
}

/// The steps of a markdown document.
fn steps(markdown: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut prose = String::new();
    let mut lines = markdown.lines().peekable();
    let mut file_next: Option<String> = None;
    while let Some(line) = lines.next() {
        if let Some(name) = line.trim().strip_prefix("<!-- file: ").and_then(|r| r.strip_suffix(" -->")) {
            file_next = Some(name.to_string());
            continue;
        }
        if line.trim_start().starts_with("```") {
            steps.extend(inline(&std::mem::take(&mut prose)));
            let mut block = Vec::new();
            for inner in lines.by_ref() {
                if inner.trim_start().starts_with("```") {
                    break;
                }
                block.push(inner);
            }
            if let Some(name) = file_next.take() {
                steps.push(Step::File { name, text: block.join("\n") + "\n" });
                continue;
            }
            let mut i = 0;
            while i < block.len() {
                if let Some(command) = block[i].trim().strip_prefix("$ ttfs ") {
                    let words: Vec<String> = command.split_whitespace().map(String::from).collect();
                    let mut expect = Vec::new();
                    i += 1;
                    while i < block.len() && !block[i].trim_start().starts_with('$') {
                        if !block[i].trim().is_empty() {
                            expect.push(block[i].to_string());
                        }
                        i += 1;
                    }
                    if is_example(&words) {
                        steps.push(Step::Run { words, expect });
                    }
                } else {
                    i += 1;
                }
            }
            continue;
        }
        prose.push_str(line);
        prose.push('\n');
    }
    steps.extend(inline(&prose));
    steps
}

/// The examples among the inline code spans of `prose`.
fn inline(prose: &str) -> Vec<Step> {
    prose
        .split('`')
        .skip(1)
        .step_by(2)
        .filter_map(|span| {
            let words: Vec<String> = span.split_whitespace().map(String::from).collect();
            (words.first().map(String::as_str) == Some("ttfs") && is_example(&words[1..]))
                .then(|| Step::Run { words: words[1..].to_vec(), expect: Vec::new() })
        })
        .collect()
}

/// The tools a subcommand needs beyond ttfs itself.
fn tools(subcommand: &str) -> &'static [Tool] {
    match subcommand {
        "cosim" => &[Tool::Verilator],
        "synth" | "flow" => &[Tool::Verilator, Tool::Yosys, Tool::NextpnrIce40, Tool::Icepack],
        _ => &[],
    }
}

fn run_document(doc: &str) -> usize {
    let text = std::fs::read_to_string(repo().join(doc)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(repo().join("tests"), dir.path().join("tests")).unwrap();
    let mut ran = 0;
    for step in steps(&text) {
        match step {
            Step::File { name, text } => std::fs::write(dir.path().join(name), text).unwrap(),
            Step::Run { mut words, expect } => {
                if tools(&words[0]).iter().any(|&tool| require(tool).is_none()) {
                    continue;
                }
                let full_mnist = words.iter().any(|w| w.contains("t10k-images"));
                if matches!(words[0].as_str(), "sim" | "cosim") && full_mnist && !words.contains(&"--count".into()) {
                    words.extend(["--count".into(), "1000".into()]);
                }
                let out =
                    Command::new(env!("CARGO_BIN_EXE_ttfs")).args(&words).current_dir(dir.path()).output().unwrap();
                let output = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
                assert!(out.status.success(), "{doc}: `ttfs {}` failed:\n{output}", words.join(" "));
                for line in expect {
                    assert!(
                        output.lines().any(|l| l.trim_end() == line.trim_end()),
                        "{doc}: `ttfs {}` did not print the documented line\n  {line}\nbut:\n{output}",
                        words.join(" ")
                    );
                }
                ran += 1;
            }
        }
    }
    ran
}

#[test]
fn readme_and_docs_examples_run_as_written() {
    let mut docs = vec!["README.md".to_string()];
    let mut more: Vec<String> = std::fs::read_dir(repo().join("docs"))
        .unwrap()
        .map(|e| format!("docs/{}", e.unwrap().file_name().to_string_lossy()))
        .filter(|name| name.ends_with(".md"))
        .collect();
    more.sort();
    docs.extend(more);
    let mut total = 0;
    for doc in &docs {
        let ran = run_document(doc);
        eprintln!("{doc}: {ran} examples ran");
        total += ran;
    }
    // The README's and the model form's examples at the least.
    assert!(total >= 6, "only {total} examples found");
}

#[test]
fn examples_are_told_from_synopses_and_mentions() {
    let words = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
    assert!(is_example(&words("convert tests/fixtures/a.onnx --calib x.csv -o y.json")));
    assert!(is_example(&words("inspect example.json")));
    assert!(!is_example(&words("generate NET.json -o DIR")));
    assert!(!is_example(&words("sim x.json [--count N]")));
    assert!(!is_example(&words("passes run")));
    assert!(!is_example(&words("flow")));
    let doc = "Run `ttfs sim\nnet.json --data d.csv` now.\n<!-- file: d.csv -->\n```\n1,2\n```\n```\n$ ttfs inspect net.json\nok line\n```\n";
    let found = steps(doc);
    assert!(matches!(&found[0], Step::Run { words, .. } if words == &["sim", "net.json", "--data", "d.csv"]));
    assert!(matches!(&found[1], Step::File { name, text } if name == "d.csv" && text == "1,2\n"), "{found:?}");
    assert!(matches!(&found[2], Step::Run { words, expect } if words[0] == "inspect" && expect == &["ok line"]));
}
