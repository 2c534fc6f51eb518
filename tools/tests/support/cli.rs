//! Running the `confine` command in tests: under a scratch `CONFINE_ROOT`,
//! with profiles compiled (not loaded) and times in UTC. Included by the
//! test files with `#[path]`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::Path;
use std::process::{Command, Output};

/// The `confine` command, not yet run.
pub fn confine(root: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_confine"));
    c.env("CONFINE_ROOT", root).env("CONFINE_APPARMOR", "check").env("TZ", "UTC");
    c
}

pub fn run(root: &Path, args: &[&str]) -> Output {
    confine(root).args(args).output().unwrap()
}

/// Runs `confine ARGS`, which must succeed; its stdout.
pub fn ok(root: &Path, args: &[&str]) -> String {
    let out = run(root, args);
    assert!(out.status.success(), "confine {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `confine ARGS`, which must fail with one `cannot ...` error and
/// exit status 1; the error.
pub fn fails(root: &Path, args: &[&str]) -> String {
    let out = run(root, args);
    assert_eq!(out.status.code(), Some(1), "confine {args:?} should fail");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.starts_with("cannot "), "{err}");
    err.trim_end().to_owned()
}
