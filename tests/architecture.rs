//! The shape of the workspace, checked: no import cycles between the files
//! of a crate, crate dependencies that run one way (and keep the IR and
//! data crates light), a thin CLI, and the paths that
//! `docs/architecture.md` sends a newcomer to still exist.
//!
//! The file-level check reads the `use` lines and `crate::`/`super::`
//! paths of every source file (test modules excluded: a test may look at
//! its neighbours) and maps each path to the module file it names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The workspace's library and binary crates: (package name, source folder).
fn crates() -> Vec<(String, PathBuf)> {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let members: Vec<String> = manifest
        .split("members = [")
        .nth(1)
        .unwrap()
        .split(']')
        .next()
        .unwrap()
        .split(',')
        .map(|m| m.trim().trim_matches('"').to_string())
        .filter(|m| !m.is_empty())
        .collect();
    members
        .into_iter()
        .map(|m| {
            let toml = std::fs::read_to_string(root().join(&m).join("Cargo.toml")).unwrap();
            let name = toml
                .lines()
                .find_map(|l| l.strip_prefix("name = \""))
                .map(|n| n.trim_end_matches('"').to_string())
                .unwrap();
            (name, root().join(&m).join("src"))
        })
        .collect()
}

/// The `[dependencies]` of a member that are workspace crates or others.
fn dependencies(member_src: &Path) -> Vec<String> {
    let toml = std::fs::read_to_string(member_src.parent().unwrap().join("Cargo.toml")).unwrap();
    let mut out = Vec::new();
    let mut inside = false;
    for line in toml.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            inside = line == "[dependencies]";
            continue;
        }
        if inside && let Some((name, _)) = line.split_once('=') {
            out.push(name.trim().to_string());
        }
    }
    out
}

/// Source with comments, strings and `#[cfg(test)]` modules removed.
fn code_only(text: &str) -> String {
    // Identifiers and paths are ASCII here; anything else becomes a space
    // so that every byte index is a character boundary.
    let ascii: String = text.chars().map(|c| if c.is_ascii() { c } else { ' ' }).collect();
    let text = ascii.as_str();
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if text[i..].starts_with("//") {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        } else if text[i..].starts_with("/*") {
            i += text[i..].find("*/").map_or(bytes.len() - i, |e| e + 2);
        } else if bytes[i] == b'"' {
            // Skip a string literal (escapes included); raw strings with
            // quotes inside do not occur in `use` lines.
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if text[i..].starts_with("#[cfg(test)]") {
            // Drop the item that follows, up to its matching brace.
            let Some(open) = text[i..].find('{') else { break };
            let mut depth = 0;
            let mut j = i + open;
            while j < bytes.len() {
                match bytes[j] {
                    b'{' => depth += 1,
                    b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            i = j + 1;
        } else {
            out.push(bytes[i] as char);
            i += 1;
        }
    }
    out
}

/// The module path of a file under `src`: `lib.rs`/`main.rs` → [],
/// `a/b.rs` → [a, b], `a/mod.rs` → [a].
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if !matches!(stem, "lib" | "main" | "mod") {
        parts.push(stem.to_string());
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn ident_at(text: &str, at: usize) -> Option<(String, usize)> {
    let rest = &text[at..];
    let len = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
    (len > 0).then(|| (rest[..len].to_string(), at + len))
}

/// Every path a file names from its own crate, made absolute:
/// `crate::a::b`, `super::x`, and each item of `crate::{a, b::c}`.
fn crate_paths(code: &str, here: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut search = 0;
    while let Some(found) = code[search..].find(['c', 's']) {
        let at = search + found;
        search = at + 1;
        if at > 0 && code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let (base, mut pos) = if code[at..].starts_with("crate::") {
            (Vec::new(), at + "crate::".len())
        } else if code[at..].starts_with("super::") {
            // A file's `super` is its parent module (files are never inline
            // modules here; test modules were dropped).
            let mut base = here.to_vec();
            let mut pos = at;
            while code[pos..].starts_with("super::") {
                base.pop();
                pos += "super::".len();
            }
            (base, pos)
        } else {
            continue;
        };
        let mut heads = Vec::new();
        if code[pos..].starts_with('{') {
            let close = code[pos..].find('}').map_or(code.len(), |c| pos + c);
            for item in code[pos + 1..close].split(',') {
                let item = item.trim();
                let segs: Vec<String> = item.split("::").map(|s| s.trim().to_string()).collect();
                heads.push(segs);
            }
            pos = close;
        } else {
            let mut segs = Vec::new();
            while let Some((id, end)) = ident_at(code, pos) {
                segs.push(id);
                pos = end;
                if code[pos..].starts_with("::") {
                    pos += 2;
                } else {
                    break;
                }
            }
            heads.push(segs);
        }
        search = search.max(pos);
        for segs in heads {
            let mut path = base.clone();
            path.extend(segs.into_iter().filter(|s| !s.is_empty() && s != "self" && s != "*"));
            out.push(path);
        }
    }
    out
}

/// The file-level import graph of one crate: module path → module paths it uses.
fn import_graph(src: &Path) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeMap<Vec<String>, PathBuf> = files.iter().map(|f| (module_path(src, f), f.clone())).collect();
    let mut graph = BTreeMap::new();
    for (module, file) in &modules {
        let code = code_only(&std::fs::read_to_string(file).unwrap());
        let mut targets = BTreeSet::new();
        for path in crate_paths(&code, module) {
            // The longest prefix of the path that is a module file.
            let target = (0..=path.len()).rev().map(|n| path[..n].to_vec()).find(|p| modules.contains_key(p));
            if let Some(t) = target
                && &t != module
                && !module.starts_with(&t)
            {
                // A child naming its ancestor's items (crate root re-exports,
                // shared error types) is how Rust modules nest; only edges
                // between siblings and from parents down can close a cycle
                // we care about, so ancestors are left out.
                targets.insert(t);
            }
        }
        graph.insert(module.clone(), targets);
    }
    graph
}

/// A cycle in `graph`, if there is one.
fn find_cycle<N: Ord + Clone>(graph: &BTreeMap<N, BTreeSet<N>>) -> Option<Vec<N>> {
    fn visit<N: Ord + Clone>(
        n: &N,
        graph: &BTreeMap<N, BTreeSet<N>>,
        state: &mut BTreeMap<N, u8>,
        stack: &mut Vec<N>,
    ) -> Option<Vec<N>> {
        state.insert(n.clone(), 1);
        stack.push(n.clone());
        for m in graph.get(n).into_iter().flatten() {
            match state.get(m).copied().unwrap_or(0) {
                1 => {
                    let start = stack.iter().position(|x| x == m).unwrap();
                    let mut cycle = stack[start..].to_vec();
                    cycle.push(m.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(m, graph, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.clone(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in graph.keys() {
        if state.get(n).copied().unwrap_or(0) == 0 {
            let mut stack = Vec::new();
            if let Some(c) = visit(n, graph, &mut state, &mut stack) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn no_import_cycles_between_the_files_of_a_crate() {
    let mut checked = 0;
    for (name, src) in crates() {
        let graph = import_graph(&src);
        checked += graph.len();
        if let Some(cycle) = find_cycle(&graph) {
            let shown: Vec<String> =
                cycle.iter().map(|m| if m.is_empty() { "(root)".into() } else { m.join("::") }).collect();
            panic!("{name}: the files import each other in a circle: {}", shown.join(" -> "));
        }
    }
    assert!(checked > 40, "the check saw only {checked} files");
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let code = code_only(
        "use super::b::X;\n// use super::c;\nfn f() { crate::{c, d::Y}; }\n#[cfg(test)]\nmod tests { use crate::e; }\n",
    );
    let paths = crate_paths(&code, &["a".to_string()]);
    assert_eq!(paths, vec![vec!["b", "X"], vec!["c"], vec!["d", "Y"]]);
    let mut g: BTreeMap<u8, BTreeSet<u8>> = BTreeMap::new();
    g.insert(1, [2].into());
    g.insert(2, [3].into());
    g.insert(3, BTreeSet::new());
    assert_eq!(find_cycle(&g), None);
    g.insert(3, [1].into());
    assert_eq!(find_cycle(&g), Some(vec![1, 2, 3, 1]));
}

#[test]
fn crate_dependencies_run_one_way_and_the_contract_crates_stay_light() {
    let all = crates();
    let names: BTreeSet<String> = all.iter().map(|(n, _)| n.clone()).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut deps_of = BTreeMap::new();
    for (name, src) in &all {
        let deps = dependencies(src);
        graph.insert(name.clone(), deps.iter().filter(|d| names.contains(*d)).cloned().collect());
        deps_of.insert(name.clone(), deps);
    }
    assert_eq!(find_cycle(&graph), None);
    let light: [(&str, &[&str]); 2] = [
        // safetensors (the tensor sidecar's format) and sha2 (its checksum)
        // are small and pure Rust; see generator/ir/src/sidecar.rs.
        ("ttfs-ir", &["serde", "serde_json", "thiserror", "safetensors", "sha2"]),
        ("ttfs-data", &["ttfs-ir", "thiserror", "anyhow", "ndarray", "ndarray-npy", "flate2", "csv"]),
    ];
    for (name, allowed) in light {
        for dep in &deps_of[name] {
            assert!(allowed.contains(&dep.as_str()), "{name} must stay light, but depends on {dep}");
        }
    }
    // The reference simulators and the converter never see the hardware.
    for name in ["ttfs-sim", "ttfs-convert", "ttfs-data", "ttfs-ir"] {
        for dep in &deps_of[name] {
            assert!(
                !["ttfs-hw", "ttfs-cosim", "ttfs-synth", "ttfs-flow", "askama", "libloading"].contains(&dep.as_str()),
                "{name} depends on {dep}"
            );
        }
    }
}

#[test]
fn the_cli_is_thin() {
    let src = root().join("generator/cli/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let lines = text.lines().filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with("//")).count();
        assert!(lines < 120, "{} has {lines} lines of code: logic belongs in a stage crate", file.display());
    }
}

/// The workspace's crates and the workspace crates each depends on
/// (normal dependencies), from `cargo metadata`, leaves first.
fn crate_graph_text() -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline", "--manifest-path"])
        .arg(root().join("Cargo.toml"))
        .output()
        .expect("cargo metadata runs");
    assert!(output.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&output.stderr));
    let meta: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let packages = meta["packages"].as_array().unwrap();
    let names: BTreeSet<&str> = packages.iter().map(|p| p["name"].as_str().unwrap()).collect();
    let mut deps: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for p in packages {
        let mut d: Vec<&str> = p["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["kind"].is_null())
            .map(|d| d["name"].as_str().unwrap())
            .filter(|n| names.contains(n))
            .collect();
        d.sort_unstable();
        deps.insert(p["name"].as_str().unwrap(), d);
    }
    // Leaves first: a crate after every crate it depends on (ties by name).
    let mut order: Vec<&str> = Vec::new();
    while order.len() < deps.len() {
        let next = deps
            .iter()
            .filter(|(n, d)| !order.contains(n) && d.iter().all(|x| order.contains(x)))
            .map(|(n, _)| *n)
            .next()
            .expect("the crate graph has no cycle");
        order.push(next);
    }
    let width = order.iter().map(|n| n.len()).max().unwrap_or(0);
    let mut text = String::from("```text\n");
    for n in order {
        let d = &deps[n];
        let arrow = if d.is_empty() { "(no workspace crates)".to_string() } else { format!("→ {}", d.join(", ")) };
        text.push_str(&format!("{n:<width$}  {arrow}\n"));
    }
    text.push_str("```\n");
    text
}

#[test]
fn the_architecture_page_shows_the_crate_graph_of_cargo_metadata() {
    let path = root().join("docs/architecture.md");
    let page = std::fs::read_to_string(&path).unwrap();
    let (begin, end) = ("<!-- crate-graph:begin -->\n", "<!-- crate-graph:end -->");
    let start = page.find(begin).expect("the page has the graph's begin marker") + begin.len();
    let stop = page.find(end).expect("the page has the graph's end marker");
    let graph = crate_graph_text();
    if std::env::var("UPDATE_DOCS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, format!("{}{graph}{}", &page[..start], &page[stop..])).unwrap();
    } else {
        assert_eq!(
            page[start..stop],
            graph,
            "docs/architecture.md's crate graph is out of date: run UPDATE_DOCS=1 cargo test --test architecture"
        );
    }
}

#[test]
fn every_path_the_architecture_page_names_exists() {
    let page = std::fs::read_to_string(root().join("docs/architecture.md")).unwrap();
    let mut named = 0;
    for piece in page.split('`').skip(1).step_by(2) {
        let looks_like_path =
            ["generator/", "sim/", "rtl-templates/", "constraints/", "rtl-unit", "tests/", "benches/"]
                .iter()
                .any(|p| piece.starts_with(p))
                && !piece.contains(' ');
        if looks_like_path {
            named += 1;
            assert!(root().join(piece).exists(), "docs/architecture.md names {piece}, which does not exist");
        }
    }
    assert!(named >= 20, "only {named} paths found on the page");
}

/// `docs/security.md` lists exactly the programs `ttfs` can run, with the
/// variables that override them, and no product source starts a program
/// other than through `ttfs_tools::Tool` (no program name or shell is
/// written into a `Command`).
#[test]
fn the_security_page_lists_every_program_ttfs_runs() {
    let page = std::fs::read_to_string(root().join("docs/security.md")).unwrap();
    // Program and variable of each row of the table between the markers.
    let listed = |name: &str| -> BTreeSet<(String, String)> {
        page.split(&format!("<!-- {name}:"))
            .nth(1)
            .and_then(|rest| rest.split(&format!("<!-- end {name} -->")).next())
            .unwrap_or_else(|| panic!("docs/security.md has the {name} table"))
            .lines()
            .filter(|l| l.starts_with("| `"))
            .map(|l| {
                let cells: Vec<&str> = l.split('|').map(|c| c.trim().trim_matches('`')).collect();
                (cells[1].to_string(), cells[2].to_string())
            })
            .collect()
    };
    let tools = |list: &[ttfs_tools::Tool]| -> BTreeSet<(String, String)> {
        list.iter().map(|t| (t.program().to_string(), t.env_var().to_string())).collect()
    };
    assert_eq!(
        listed("programs"),
        tools(&ttfs_tools::Tool::ALL),
        "docs/security.md's programs table differs from ttfs_tools::Tool::ALL"
    );
    assert_eq!(
        listed("test programs"),
        tools(&ttfs_tools::Tool::TESTS_ONLY),
        "docs/security.md's test programs table differs from ttfs_tools::Tool::TESTS_ONLY"
    );
    for (name, dir) in crates() {
        let mut files = Vec::new();
        rust_files(&dir, &mut files);
        for file in files {
            let code = code_only(&std::fs::read_to_string(&file).unwrap());
            for (at, _) in code.match_indices("Command::new(") {
                let argument = code[at + "Command::new(".len()..].trim_start();
                assert!(
                    !argument.starts_with('"'),
                    "{name}: {} starts a program named in the source; locate it through ttfs_tools::Tool",
                    file.display()
                );
            }
        }
    }
}
