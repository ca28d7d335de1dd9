//! `ttfs files` on bad input: every error names the file, the line and
//! what is allowed, and nothing is written.

use std::process::Command;

fn ttfs(args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ttfs"));
    cmd.args(args).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    cmd.stdin(if stdin.is_some() { std::process::Stdio::piped() } else { std::process::Stdio::null() });
    let mut child = cmd.spawn().unwrap();
    if let Some(text) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_record_files_name_the_line_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.json");
    let cases: &[(&str, &[&str], &str)] = &[
        ("a,b,label\n1,x,p\n2,y\n", &[], "line 3: 2 fields, but the header has 3"),
        ("a,b,label\n1,x,p\n2,y, \n", &[], "line 3: the label column 'label' is empty"),
        ("a,b,kind\n1,x,p\n", &[], "has no column 'label' (given as the label); its columns are: a, b, kind"),
        ("a,b,label\n1,x,p\n", &["--exclude", "c"], "no column 'c' (given as the excluded column)"),
        ("a,label\n1,p\n2,p\n", &[], "a single class ('p')"),
        ("", &[], "is empty: a header row naming the columns must come first"),
    ];
    for (text, extra, want) in cases {
        let data = dir.path().join("d.csv");
        std::fs::write(&data, text).unwrap();
        let mut args =
            vec!["files", "train", "--data", data.to_str().unwrap(), "--label", "label", "-o", model.to_str().unwrap()];
        args.extend_from_slice(extra);
        let (ok, _, err) = ttfs(&args, None);
        assert!(!ok && err.contains(want), "{text:?}: {err}");
        assert!(err.contains("d.csv"), "the file is named: {err}");
        assert!(!model.exists(), "nothing is written");
    }
    let (ok, _, err) =
        ttfs(&["files", "train", "--data", "d.csv", "--label", "label", "-o", "m.json", "--ticks", "12"], None);
    assert!(!ok && err.contains("--ticks 12 must be a power of two"), "{err}");
    std::fs::write(&model, "{\"format\": \"ttfs-network\"}").unwrap();
    let (ok, _, err) = ttfs(&["files", "classify", model.to_str().unwrap()], Some("a,label\n1,x\n"));
    assert!(!ok && err.contains("m.json") && err.contains("not a files model"), "{err}");
}
