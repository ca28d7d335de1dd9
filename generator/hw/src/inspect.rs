//! A design directory from a stranger, looked at before anything runs.
//!
//! `ttfs cosim DIR` compiles DIR's Verilog and reads its memory images, so
//! DIR is code. This module holds the checks: plain files with safe names
//! ([`check_entry`]), memory images of the shape the design reads
//! ([`check_memory_images`]), and for every Verilog file that differs from
//! what `ttfs generate` writes for DIR's own `net.json` and manifest, a scan
//! for constructs outside what the generator itself emits ([`scan_verilog`],
//! [`inspect`]): other system tasks (`$system`, `$c`, `$fopen`, ...), DPI
//! imports, `` `include`` of paths outside the design, Verilator's C++
//! escapes (`` `systemc_*``) and metacomments such as `/*verilator public*/`.

use crate::design::Design;
use crate::view::TopView;
use anyhow::{Result, bail};
use std::collections::BTreeSet;
use std::path::Path;

/// System tasks and functions the generator's Verilog uses (RTL, test
/// benches, simulation models) and a few harmless relatives. Not `$fatal`:
/// the generated test bench ends a failed run with it (a non-zero exit), but
/// only a bench identical to what generate writes is trusted with it; in an
/// edited file it is refused, as a design stopping the simulation it runs in.
pub const ALLOWED_SYSTEM_TASKS: &[&str] = &[
    "$bits",
    "$clog2",
    "$display",
    "$error",
    "$finish",
    "$info",
    "$readmemb",
    "$readmemh",
    "$signed",
    "$test$plusargs",
    "$time",
    "$unsigned",
    "$value$plusargs",
    "$warning",
    "$write",
];

/// Compiler directives the generator's Verilog uses and their harmless
/// relatives (`` `include`` is checked apart; macros a file defines are
/// allowed too).
const ALLOWED_DIRECTIVES: &[&str] = &[
    "celldefine",
    "default_nettype",
    "define",
    "else",
    "elsif",
    "endcelldefine",
    "endif",
    "ifdef",
    "ifndef",
    "resetall",
    "timescale",
    "undef",
    "VERILATOR",
    "SYNTHESIS",
];

/// Verilator metacomments (`/* verilator WORD */`) the generator uses and
/// their harmless relatives; any other (`public`, `sc_bv`, ...) is refused.
const ALLOWED_METACOMMENTS: &[&str] = &[
    "lint_off",
    "lint_on",
    "lint_save",
    "lint_restore",
    "split_var",
    "coverage_off",
    "coverage_on",
    "tracing_off",
    "tracing_on",
];

/// One construct outside the allow-list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The file, relative to the design directory.
    pub file: String,
    /// Line (1-based).
    pub line: usize,
    /// What was found.
    pub construct: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.construct)
    }
}

/// What [`inspect`] found in a design directory.
#[derive(Clone, Debug, Default)]
pub struct Inspection {
    /// Notes for people: files that differ from a fresh generation, files
    /// it does not write.
    pub notes: Vec<String>,
    /// Constructs outside the allow-list in those files.
    pub findings: Vec<Finding>,
}

/// A safe file name in a design directory: ASCII letters, digits, `_`,
/// `-` and `.`, not starting with `.` or `-`.
pub fn safe_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !name.contains("..")
}

/// Checks one entry of `sub` (`rtl`, `sim` or `mem`) of a design directory:
/// a plain file (not a symbolic link, whatever it points to) with a safe
/// name and the extension the folder holds (`.v`; `.hex` or `.bin` in
/// `mem/`). Returns whether it is a file to read (folders are skipped).
pub fn check_entry(dir: &Path, sub: &str, entry: &std::fs::DirEntry) -> Result<bool> {
    let name = entry.file_name().to_string_lossy().into_owned();
    let shown = format!("{}/{sub}/{name}", dir.display());
    let kind = entry.file_type()?;
    if kind.is_symlink() {
        bail!("{shown} is a symbolic link; a design directory holds plain files only (copy the file in)");
    }
    if kind.is_dir() {
        return Ok(false);
    }
    if !kind.is_file() {
        bail!("{shown} is not a plain file; a design directory holds plain files only");
    }
    let extension_ok = match sub {
        "mem" => name.ends_with(".hex") || name.ends_with(".bin"),
        _ => name.ends_with(".v"),
    };
    if !safe_name(&name) || !extension_ok {
        let allowed = if sub == "mem" { ".hex or .bin" } else { ".v" };
        bail!(
            "{shown}: not a safe file name for {sub}/ (letters, digits, '_', '-' and '.', not starting with '.' or '-', \
             ending in {allowed})"
        );
    }
    Ok(true)
}

/// Refuses a symbolic link at `path` (a folder or file of the design
/// directory that is read).
pub fn refuse_symlink(path: &Path) -> Result<()> {
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        bail!("{} is a symbolic link; a design directory holds plain files and folders only", path.display());
    }
    Ok(())
}

/// Checks one `$readmemh` image: every non-blank line one word of at most
/// `bits` bits in hex digits, at most `depth` words.
fn check_hex(dir: &Path, name: &str, bytes: &[u8], depth: u64, bits: u64) -> Result<()> {
    let digits = bits.div_ceil(4) as usize;
    let rule = format!(
        "a line holds one word of hex digits (0-9, A-F; at most {digits} for {bits} bits), \
         and the memory holds at most {depth} words"
    );
    let shown = dir.join(name);
    let Ok(text) = std::str::from_utf8(bytes) else {
        bail!("{}: not text; {rule}", shown.display());
    };
    let mut words = 0u64;
    for (i, line) in text.lines().enumerate() {
        let word = line.trim();
        if word.is_empty() {
            continue;
        }
        let at = format!("{} line {}", shown.display(), i + 1);
        let quoted: String = word.chars().take(40).collect();
        if !word.chars().all(|c| c.is_ascii_hexdigit()) {
            bail!("{at}: {quoted:?} is not a hex word; {rule}");
        }
        let top = word.trim_start_matches('0');
        let fits = top.len() < digits
            || top.len() == digits
                && (bits.is_multiple_of(4) || u32::from_str_radix(&top[..1], 16).is_ok_and(|d| d < (1 << (bits % 4))));
        if !fits {
            bail!("{at}: {quoted:?} does not fit in {bits} bits; {rule}");
        }
        words += 1;
        if words > depth {
            bail!("{at}: more than {depth} words; {rule}");
        }
    }
    Ok(())
}

/// Checks every memory image the design reads (`$readmemh` images of the
/// weights and biases, the SPRAM load stream) against the shapes the view
/// gives them: a malformed one is refused naming file, line and what is
/// allowed, before any simulator sees it.
pub fn check_memory_images(dir: &Path, design: &Design, view: &TopView) -> Result<()> {
    let mut spram_bytes = 0u64;
    for l in &view.layers {
        let mut images = vec![(&l.bias_file, l.bias_words, (l.lanes as u64) * u64::from(l.bias_bits))];
        if l.spram.is_none() {
            images.push((&l.weight_file, l.weight_words, l.weight_word_bits));
        } else {
            spram_bytes += l.weight_words * l.weight_word_bits.div_ceil(8);
        }
        for (file, depth, bits) in images {
            if file.is_empty() {
                continue;
            }
            let Some(bytes) = design.files.get(file.as_str()) else {
                bail!("{} is missing: layer {} '{}' reads it", dir.join(file).display(), l.index, l.name);
            };
            check_hex(dir, file, bytes, depth, bits)?;
        }
    }
    if !view.loaders.is_empty() {
        if let Some(bytes) = design.files.get("mem/weights_spram.hex") {
            check_hex(dir, "mem/weights_spram.hex", bytes, spram_bytes, 8)?;
        }
        match design.files.get("mem/weights_spram.bin") {
            Some(bin) if bin.len() as u64 == spram_bytes => {}
            Some(bin) => bail!(
                "{} holds {} bytes; this design loads exactly {spram_bytes} weight bytes",
                dir.join("mem/weights_spram.bin").display(),
                bin.len()
            ),
            None => bail!(
                "{} is missing: the design's SPRAM weights load from it",
                dir.join("mem/weights_spram.bin").display()
            ),
        }
    }
    Ok(())
}

/// Compares a design read from `dir` with `fresh`, what `ttfs generate`
/// writes for the same `net.json` and manifest: identical files are
/// trusted; every Verilog file that differs or that generate does not write
/// is scanned with [`scan_verilog`].
pub fn inspect(design: &Design, fresh: &Design) -> Inspection {
    let mut out = Inspection::default();
    let mut edited = Vec::new();
    for (path, bytes) in &design.files {
        match fresh.files.get(path) {
            Some(b) if b == bytes => {}
            Some(_) => {
                out.notes
                    .push(format!("{path} differs from what `ttfs generate` writes for this net.json (hand-edited)"));
                edited.push(path);
            }
            None => {
                out.notes.push(format!("{path} is not written by `ttfs generate` for this net.json (added by hand)"));
                edited.push(path);
            }
        }
    }
    for path in fresh.files.keys() {
        let read = path.starts_with("rtl/") || path.starts_with("sim/") || path.starts_with("mem/");
        if read && !design.files.contains_key(path) {
            out.notes.push(format!("{path} is missing (`ttfs generate` writes it for this net.json)"));
        }
    }
    let texts: Vec<(&String, String)> = edited
        .into_iter()
        .filter(|p| p.ends_with(".v"))
        .map(|p| (p, String::from_utf8_lossy(&design.files[p]).into_owned()))
        .collect();
    // Macros any scanned file defines may be used by the others.
    let mut defined = BTreeSet::new();
    for (_, text) in &texts {
        defined.extend(defines(text));
    }
    for (path, text) in texts {
        for (line, construct) in scan_verilog(&text, &defined) {
            out.findings.push(Finding { file: path.clone(), line, construct });
        }
    }
    out
}

/// Macro names `` `define``d in `text`.
fn defines(text: &str) -> Vec<String> {
    let tokens = lex(text);
    tokens
        .windows(2)
        .filter_map(|w| match (&w[0].1, &w[1].1) {
            (Token::Directive(d), Token::Ident(name)) if d == "define" => Some(name.clone()),
            _ => None,
        })
        .collect()
}

/// A lexical token of Verilog, as far as the scan needs.
#[derive(Clone, Debug, PartialEq)]
enum Token {
    /// `$name` (a system task or function).
    System(String),
    /// `` `name `` (a directive or a macro use).
    Directive(String),
    /// An identifier or keyword.
    Ident(String),
    /// A string literal's contents.
    Str(String),
    /// A comment's text (without its delimiters).
    Comment(String),
    /// Anything else but white space, one character.
    Other(char),
}

/// Splits Verilog into tokens with their lines.
fn lex(text: &str) -> Vec<(usize, Token)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    let word = |i: &mut usize| {
        let start = *i;
        while *i < chars.len() && (chars[*i].is_ascii_alphanumeric() || chars[*i] == '_' || chars[*i] == '$') {
            *i += 1;
        }
        chars[start..*i].iter().collect::<String>()
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let at = line;
        match c {
            '\n' => {
                line += 1;
                i += 1;
            }
            '/' if next == Some('/') => {
                let start = i + 2;
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                out.push((at, Token::Comment(chars[start..i].iter().collect())));
            }
            '/' if next == Some('*') => {
                let start = i + 2;
                i += 2;
                while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                    if chars[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
                let end = i.min(chars.len());
                out.push((at, Token::Comment(chars[start..end].iter().collect())));
                i = (i + 2).min(chars.len());
            }
            '"' => {
                i += 1;
                let mut s = String::new();
                while i < chars.len() && chars[i] != '"' && chars[i] != '\n' {
                    if chars[i] == '\\' && i + 1 < chars.len() {
                        s.push(chars[i]);
                        i += 1;
                    }
                    s.push(chars[i]);
                    i += 1;
                }
                i += 1;
                out.push((at, Token::Str(s)));
            }
            '\\' => {
                // An escaped identifier: up to white space, a name only.
                while i < chars.len() && !chars[i].is_whitespace() {
                    i += 1;
                }
                out.push((at, Token::Ident(String::new())));
            }
            '$' => {
                i += 1;
                out.push((at, Token::System(format!("${}", word(&mut i)))));
            }
            '`' => {
                i += 1;
                out.push((at, Token::Directive(word(&mut i))));
            }
            c if c.is_whitespace() => i += 1,
            c if c.is_ascii_alphabetic() || c == '_' => out.push((at, Token::Ident(word(&mut i)))),
            c if c.is_ascii_digit() => {
                word(&mut i);
            }
            c => {
                out.push((at, Token::Other(c)));
                i += 1;
            }
        }
    }
    out
}

/// The constructs of `text` outside the allow-list, as (line, what):
/// system tasks other than [`ALLOWED_SYSTEM_TASKS`] (`$system`, `$c`,
/// `$fopen`, `$fwrite`, `$writememh`, `$dumpfile`, ...), DPI imports and
/// exports, `` `include`` of an absolute path or one with `..`, directives
/// other than the usual ones and the macros `defined` names (Verilator's
/// `` `systemc_*`` C++ escapes among them), and Verilator metacomments
/// other than lint and `split_var` ones (`/*verilator public*/`). Comments
/// and string literals are no code: `"$system"` in a string is harmless.
pub fn scan_verilog(text: &str, defined: &BTreeSet<String>) -> Vec<(usize, String)> {
    let tokens = lex(text);
    let mut out = Vec::new();
    let meaningful: Vec<&(usize, Token)> = tokens.iter().filter(|(_, t)| !matches!(t, Token::Comment(_))).collect();
    for (line, token) in &tokens {
        if let Token::Comment(body) = token {
            let body = body.trim();
            let mut words = body.split_whitespace();
            let first = words.next().unwrap_or_default();
            if first.eq_ignore_ascii_case("verilator") || first.eq_ignore_ascii_case("synopsys") {
                let what = words.next().unwrap_or_default();
                if !(first == "verilator" && ALLOWED_METACOMMENTS.contains(&what)) {
                    out.push((*line, format!("the metacomment `{first} {what}`")));
                }
            }
        }
    }
    for (k, (line, token)) in meaningful.iter().map(|t| (t.0, &t.1)).enumerate() {
        match token {
            Token::System(name) if !ALLOWED_SYSTEM_TASKS.contains(&name.as_str()) => {
                out.push((line, format!("the system task {name}")));
            }
            Token::Directive(name) if name == "include" => match meaningful.get(k + 1).map(|t| &t.1) {
                Some(Token::Str(path)) if !path.starts_with('/') && !path.contains("..") && !path.contains('\\') => {}
                Some(Token::Str(path)) => {
                    out.push((line, format!("`include \"{path}\" (outside the design directory)")))
                }
                _ => out.push((line, "`include of a path not in quotes".to_string())),
            },
            Token::Directive(name) if !ALLOWED_DIRECTIVES.contains(&name.as_str()) && !defined.contains(name) => {
                out.push((line, format!("the directive `{name}")));
            }
            Token::Ident(kw) if kw == "import" || kw == "export" => {
                if let Some(Token::Str(s)) = meaningful.get(k + 1).map(|t| &t.1)
                    && s.starts_with("DPI")
                {
                    out.push((line, format!("a DPI {kw} ({kw} \"{s}\")")));
                }
            }
            _ => {}
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &str) -> Vec<(usize, String)> {
        scan_verilog(text, &BTreeSet::new())
    }

    #[test]
    fn dangerous_constructs_are_found_with_their_lines() {
        let text = "module m;\n  initial $system(\"rm -rf ~\");\n  initial $c(\"abort();\");\n\
                    import \"DPI-C\" function int f();\n`include \"/etc/passwd\"\nwire w /*verilator public*/;\n\
                    `systemc_header\n  initial $fwrite(1, \"x\");\nendmodule\n";
        let found = scan(text);
        let lines: Vec<usize> = found.iter().map(|f| f.0).collect();
        assert_eq!(lines, [2, 3, 4, 5, 6, 7, 8], "{found:?}");
        assert!(found[0].1.contains("$system") && found[1].1.contains("$c"), "{found:?}");
        assert!(found[5].1.contains("systemc_header"), "{found:?}");
    }

    #[test]
    fn comments_and_strings_are_no_code() {
        let text = "// $system(\"x\")\n/* $c(\"y\") */\ninitial $display(\"$system(\\\"z\\\")\");\n\
                    `define W 8\nwire [`W-1:0] a /* verilator split_var */;\n`include \"inc.vh\"\n";
        let defined: BTreeSet<String> = defines(text).into_iter().collect();
        assert_eq!(scan_verilog(text, &defined), Vec::<(usize, String)>::new());
    }

    #[test]
    fn hex_images_are_checked_word_by_word() {
        let dir = Path::new("d");
        assert!(check_hex(dir, "mem/a.hex", b"0F\n1a\n\n", 2, 8).is_ok());
        let e = check_hex(dir, "mem/a.hex", b"0F\nzz\n", 2, 8).unwrap_err().to_string();
        assert!(e.contains("mem/a.hex line 2") && e.contains("\"zz\"") && e.contains("at most 2 words"), "{e}");
        let e = check_hex(dir, "mem/a.hex", b"0F\n1\n2\n", 2, 8).unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("more than 2 words"), "{e}");
        let e = check_hex(dir, "mem/a.hex", b"1F\n", 2, 4).unwrap_err().to_string();
        assert!(e.contains("does not fit in 4 bits"), "{e}");
        assert!(check_hex(dir, "mem/a.hex", b"7\n", 1, 3).is_ok());
        assert!(check_hex(dir, "mem/a.hex", b"8\n", 1, 3).is_err());
    }

    #[test]
    fn safe_names() {
        assert!(safe_name("ttfs_top.v") && safe_name("l0_weights.hex"));
        assert!(!safe_name("..") && !safe_name(".hidden") && !safe_name("-f.v") && !safe_name("a b.v"));
    }
}
