//! A verdict differential of `confine-seccomp compile` as installed users
//! run it (its default: our own generator) against Debian's `snap-seccomp`
//! (snapd 2.57.6, raw `.bin`), over the whole system call table and over
//! argument rules:
//!
//! * the table: every system call libseccomp knows on x86-64 and x86,
//!   every other one allowed, then the other half (so every boundary of the
//!   number search is crossed in both directions);
//! * argument rules: every comparison snap-seccomp knows (`==`, `!=`, `<`,
//!   `<=`, `>`, `>=`, `|mask`) on every argument position, alone and in
//!   pairs, with values at the edges of 16, 31 and 32 bits.
//!
//! Each program runs in the BPF interpreter over every call number of both
//! architectures (and -1, x32 numbers, another architecture) with generic
//! argument vectors, and, for each rule, the values around each compared
//! value in its position. Where the two verdicts differ, the rules decide
//! ([`semantics`]): ours must agree with them everywhere, and every
//! difference must be a row where snap-seccomp contradicts them (libseccomp
//! 2.5 miscompiles some argument rules); those are counted and shown.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "support/policy.rs"]
mod policy_support;
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use confine_tools::seccomp::{compile, native, parse, IdResolver};
use libseccomp::ScmpSyscall;
use policy_cache::{Policy, Program, Which};
use policy_support::{known_syscalls, verdict_table, Disagreement, ARCHES};

const SNAP_SECCOMP: &str = "/usr/lib/snapd/snap-seccomp";

/// Compiles `text` with `confine-seccomp compile --format=bin` (default
/// backend) and with Debian's `snap-seccomp`; returns both allow programs.
fn compile_both(text: &str, dir: &Path) -> (Policy, Policy) {
    assert!(
        Path::new(SNAP_SECCOMP).is_file(),
        "\n\n*** {SNAP_SECCOMP} is missing: the differential needs Debian's snapd compiler.\n\
         *** Install it with: apt-get install snapd\n\n"
    );
    let src = dir.join("policy.src");
    std::fs::write(&src, text).unwrap();
    let (ours, theirs) = (dir.join("ours.bin"), dir.join("theirs.bin"));
    support::ours(&["compile".as_ref(), "--format=bin".as_ref(), src.as_path(), ours.as_path()]);
    let out = Command::new(SNAP_SECCOMP).arg("compile").arg(&src).arg(&theirs).output().unwrap();
    assert!(out.status.success(), "snap-seccomp: {}", String::from_utf8_lossy(&out.stderr));
    let program = |p: PathBuf| Policy::Filtered {
        allow: Program::from_bytes(Which::Allow, &std::fs::read(p).unwrap()).unwrap(),
        deny: None,
    };
    (program(ours), program(theirs))
}

/// Runs the differential; returns the rows compared and snap-seccomp's
/// contradictions of the rules.
fn differential(name: &str, text: &str) -> (usize, Vec<Disagreement>) {
    let dir = tempfile::tempdir().unwrap();
    let (ours, theirs) = compile_both(text, dir.path());
    let source = parse::parse(text).unwrap();
    let (rules, _) = compile::resolve(&source, &mut IdResolver::system()).unwrap();
    let rows = verdict_table(text);
    let d = policy_support::compare(&rules, &ours, &theirs, &rows);
    assert!(
        d.native_wrong.is_empty(),
        "{name}: confine-seccomp's program contradicts the rules in {} of {} rows, e.g. {:#x?}",
        d.native_wrong.len(),
        rows.len(),
        &d.native_wrong[..d.native_wrong.len().min(5)]
    );
    println!(
        "{name}: {} rows; confine-seccomp agrees with the rules everywhere, snap-seccomp contradicts them in {}",
        rows.len(),
        d.libseccomp_wrong.len()
    );
    for w in d.libseccomp_wrong.iter().take(10) {
        println!("  {} {:#x?}: rules {:#x}, snap-seccomp {:#x}", w.syscall, w.args, w.rules, w.libseccomp);
    }
    (rows.len(), d.libseccomp_wrong)
}

/// The names of the table that libseccomp resolves on both architectures
/// without a multiplexer (so one rule means one number on each).
fn plain_syscalls() -> Vec<String> {
    known_syscalls()
        .into_iter()
        .filter(|name| {
            ARCHES.iter().all(|arch| {
                native::multiplexed(*arch, name).is_none()
                    && ScmpSyscall::from_name_by_arch(name, *arch).is_ok_and(|s| s.as_raw_syscall() >= 0)
            })
        })
        .collect()
}

fn half_of_the_table(parity: usize) -> String {
    let names = known_syscalls();
    let kept: Vec<&String> = names.iter().enumerate().filter(|(i, _)| i % 2 == parity).map(|(_, n)| n).collect();
    assert!(kept.len() > 200, "the table has {} names", names.len());
    kept.iter().map(|n| format!("{n}\n")).collect()
}

/// Argument rules: for each comparison and position a system call of its
/// own (so no other rule hides a wrong verdict), two values each; then
/// pairs of conditions.
fn argument_rules() -> String {
    let ops = ["", "!", "<", "<=", ">", ">=", "|"];
    let values = [0u64, 1, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFE, 0xFFFF_FFFF];
    let names = plain_syscalls();
    let mut calls = names
        .iter()
        .filter(|n| !parse::allows_negative_args(n) && !matches!(n.as_str(), "exit" | "exit_group" | "rt_sigreturn" | "sigreturn"));
    let mut text = String::from("# generated by tools/tests/seccomp_differential.rs\n");
    for (o, op) in ops.iter().enumerate() {
        for position in 0..6 {
            let name = calls.next().unwrap();
            for k in 0..2 {
                let value = values[(o + position + 3 * k) % values.len()];
                let value = if *op == "|" && value == 0 { 0x10 } else { value };
                let args: Vec<String> = (0..=position).map(|p| if p == position { format!("{op}{value}") } else { "-".into() }).collect();
                text.push_str(&format!("{name} {}\n", args.join(" ")));
            }
        }
    }
    for (i, (a, b)) in [("<=", ">"), ("!", "|"), (">=", "<"), ("|", "!"), ("", "<=")].iter().enumerate() {
        let name = calls.next().unwrap();
        let (x, y) = (values[(i + 2) % values.len()], values[(i + 5) % values.len()]);
        let x = if *a == "|" && x == 0 { 0x4 } else { x };
        let y = if *b == "|" && y == 0 { 0x4 } else { y };
        text.push_str(&format!("{name} {a}{x} - {b}{y}\n"));
        text.push_str(&format!("{name} - {b}{y} - - {a}{x}\n"));
    }
    text
}

#[test]
fn the_whole_syscall_table() {
    let mut compared = 0;
    for parity in [0, 1] {
        let (rows, theirs_wrong) = differential(&format!("table half {parity}"), &half_of_the_table(parity));
        compared += rows;
        // Without argument rules there is nothing for libseccomp to get wrong.
        assert!(theirs_wrong.is_empty(), "snap-seccomp contradicts plain rules: {:#x?}", &theirs_wrong[..theirs_wrong.len().min(5)]);
    }
    println!("{compared} rows compared");
}

#[test]
fn argument_rules_every_comparison_and_position() {
    let text = argument_rules();
    let (rows, theirs_wrong) = differential("argument rules", &text);
    assert!(rows > 10_000, "only {rows} rows");
    // Each of snap-seccomp's contradictions is a known libseccomp 2.5 fault:
    // a rule whose verdict libseccomp inverts or extends. None may be ours
    // (checked in `differential`); list them for the record.
    let calls: std::collections::BTreeSet<&str> = theirs_wrong.iter().map(|w| w.syscall.as_str()).collect();
    println!("snap-seccomp contradicts the rules for {} calls: {calls:?}", calls.len());
}

#[test]
fn the_cross_check_fixtures() {
    // Rules of the shapes real policies have; libseccomp 2.5 miscompiles a
    // few of realistic.src's prctl rules, and ours must be right there.
    for name in ["crosscheck.src", "realistic.src"] {
        differential(name, &policy_support::fixture_text(name));
    }
}

#[test]
fn the_differential_notices_a_changed_rule() {
    // A comparison that cannot fail tests nothing: compile a policy with
    // one rule changed and judge it against the original rules.
    let text = argument_rules();
    let changed: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| if i == 3 { format!("{l}0\n") } else { format!("{l}\n") })
        .collect();
    assert_ne!(text, changed);
    let dir = tempfile::tempdir().unwrap();
    let (ours, theirs) = compile_both(&changed, dir.path());
    let source = parse::parse(&text).unwrap();
    let (rules, _) = compile::resolve(&source, &mut IdResolver::system()).unwrap();
    let d = policy_support::compare(&rules, &ours, &theirs, &verdict_table(&text));
    assert!(!d.native_wrong.is_empty(), "a changed rule went unnoticed");
}

#[test]
fn the_default_backend_is_the_native_generator() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("p.src");
    std::fs::write(&src, argument_rules()).unwrap();
    let out = |extra: &[&str], name: &str| {
        let path = dir.path().join(name);
        let mut args: Vec<&Path> = vec!["compile".as_ref()];
        args.extend(extra.iter().map(|a| Path::new(*a)));
        args.extend([src.as_path(), path.as_path()]);
        support::ours(&args);
        std::fs::read(path).unwrap()
    };
    let default = out(&[], "default.bin2");
    assert_eq!(default, out(&["--backend=native"], "native.bin2"));
    assert_ne!(default, out(&["--backend=libseccomp"], "libseccomp.bin2"));
}
