//! Skipping tests whose tool is missing, loudly and counted.
//!
//! Locally, a test that needs a tool that is not installed says SKIPPED and
//! returns (cargo then counts it as passed); each test binary ends with the
//! number of tests it skipped and why, so a green local run that skipped
//! the hardware is visible as such. Under CI (`CI=true`) a missing tool
//! fails the test instead.

use crate::Tool;
use std::path::PathBuf;
use std::sync::{Mutex, Once};

static SKIPPED: Mutex<Vec<String>> = Mutex::new(Vec::new());
static SUMMARY: Once = Once::new();

unsafe extern "C" {
    fn atexit(callback: extern "C" fn()) -> std::ffi::c_int;
}

extern "C" fn print_summary() {
    let skipped = SKIPPED.lock().map(|s| s.clone()).unwrap_or_default();
    if !skipped.is_empty() {
        eprintln!(
            "\nSKIPPED {} test(s) of this test binary for missing tools (CI=true fails them): {}",
            skipped.len(),
            skipped.join("; ")
        );
    }
}

/// Whether this run is CI's (`CI=true`), where nothing may be skipped.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Records a skipped test and says so; panics under CI. Returns `false`
/// so a test can write `if !available() { return skip(...) }`.
pub fn skip(reason: &str) -> bool {
    assert!(!under_ci(), "CI needs {reason}");
    eprintln!("SKIPPED: {reason}");
    if let Ok(mut s) = SKIPPED.lock() {
        let test = std::thread::current().name().unwrap_or("a test").to_string();
        s.push(format!("{test} ({reason})"));
    }
    SUMMARY.call_once(|| {
        // SAFETY: atexit only stores the callback, which reads a static.
        unsafe {
            atexit(print_summary);
        }
    });
    false
}

/// The tool's path, or `None` after [`skip`] when it is missing (a failure
/// under CI).
pub fn require(tool: Tool) -> Option<PathBuf> {
    match tool.locate() {
        Ok(path) => Some(path),
        Err(e) => {
            skip(&format!("{e}"));
            None
        }
    }
}
