//! The `confine-seccomp` command line: commands, formats, messages, exit
//! codes and the files it writes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod support;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Output;

use policy_cache::Policy;
use support::{confine_seccomp, fixture, ours};

fn run(args: &[&str]) -> Output {
    confine_seccomp().args(args).output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A failure: exit status 1 and a single "cannot ..." line on stderr.
fn assert_fails(out: &Output, starts_with: &str) {
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(out));
    let text = stderr(out);
    assert!(text.starts_with(starts_with), "stderr: {text:?}");
    assert!(text.starts_with("cannot "), "stderr: {text:?}");
    assert_eq!(text.lines().count(), 1, "stderr: {text:?}");
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn compiles_bin2_with_mode_0644_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snap.foo.app.bin2");
    fs::write(&out, b"stale").unwrap();
    let result = ours(&["compile".as_ref(), fixture("strict.src").as_path(), out.as_path()]);
    assert!(result.stdout.is_empty());
    assert_eq!(fs::metadata(&out).unwrap().mode() & 0o7777, 0o644);
    let policy = policy_cache::parse_bin2(&fs::read(&out).unwrap()).unwrap();
    assert!(matches!(policy, Policy::Filtered { deny: Some(_), .. }));
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
}

#[test]
fn legacy_bin_format() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.bin");
    let src = fixture("crosscheck.src");
    for format in [&["--format=bin"][..], &["--format", "bin"][..]] {
        let mut args = vec!["compile"];
        args.extend_from_slice(format);
        args.extend([path(&src), path(&out)]);
        let result = run(&args);
        assert!(result.status.success(), "{}", stderr(&result));
        let policy = policy_cache::parse_bin(&fs::read(&out).unwrap()).unwrap();
        assert!(matches!(policy, Policy::Filtered { deny: None, .. }));
    }
    // Explicit denials cannot go into a .bin file; nothing is written.
    let refused = dir.path().join("refused.bin");
    let result = run(&["compile", "--format=bin", path(&fixture("strict.src")), path(&refused)]);
    assert_fails(
        &result,
        "cannot compile line 25 to the .bin format: explicit denials (~) need the .bin2 format",
    );
    assert!(!refused.exists());
}

#[test]
fn unrestricted_in_both_formats() {
    let dir = tempfile::tempdir().unwrap();
    let bin2 = dir.path().join("u.bin2");
    let bin = dir.path().join("u.bin");
    ours(&[
        "compile".as_ref(),
        fixture("unrestricted.src").as_path(),
        bin2.as_path(),
    ]);
    ours(&[
        "compile".as_ref(),
        "--format=bin".as_ref(),
        fixture("unrestricted.src").as_path(),
        bin.as_path(),
    ]);
    let header = fs::read(&bin2).unwrap();
    assert_eq!(header.len(), 128);
    assert_eq!(&header[..4], b"SC\x01\x01");
    assert_eq!(policy_cache::parse_bin2(&header).unwrap(), Policy::Unrestricted);
    assert_eq!(fs::read(&bin).unwrap(), b"@unrestricted\n");
}

#[test]
fn parse_errors_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("bad.src");
    let out = dir.path().join("bad.bin2");
    fs::write(&src, "read\nwrite 1 2 3 4 5 6 7\n").unwrap();
    let result = run(&["compile", path(&src), path(&out)]);
    assert_fails(
        &result,
        "cannot parse line 2: too many arguments for \"write\": 7 given, at most 6 allowed",
    );
    fs::write(&src, "# ok\nsocket AF_NOPE\n").unwrap();
    assert_fails(
        &run(&["compile", path(&src), path(&out)]),
        "cannot parse line 2: argument \"AF_NOPE\"",
    );
    fs::write(&src, "kill -1\n").unwrap();
    assert_fails(
        &run(&["compile", path(&src), path(&out)]),
        "cannot parse line 1: argument \"-1\": negative values",
    );
    fs::write(&src, "setuid u:no_such_user_here\n").unwrap();
    assert_fails(
        &run(&["compile", path(&src), path(&out)]),
        "cannot parse line 1: cannot find user \"no_such_user_here\"",
    );
    assert!(!out.exists());
}

#[test]
fn usage_errors() {
    assert_fails(&run(&[]), "cannot run: no command given");
    assert_fails(&run(&["frobnicate"]), "cannot run: unknown command \"frobnicate\"");
    assert_fails(
        &run(&["compile", "only-one"]),
        "cannot compile: need an input and an output file",
    );
    assert_fails(
        &run(&["compile", "a", "b", "c"]),
        "cannot compile: need an input and an output file",
    );
    assert_fails(
        &run(&["compile", "--format=bin3", "a", "b"]),
        "cannot compile: unknown format \"bin3\"",
    );
    assert_fails(&run(&["compile", "--format"]), "cannot compile: --format needs a value");
    assert_fails(
        &run(&["compile", "--frob", "a", "b"]),
        "cannot compile: unknown option \"--frob\"",
    );
    assert_fails(&run(&["dump", "x"]), "cannot dump: need a file and a prefix");
    assert_fails(
        &run(&["version-info", "x"]),
        "cannot run version-info: unexpected argument \"x\"",
    );
    assert_fails(
        &run(&["compile", "/nonexistent/in.src", "/tmp/x.bin2"]),
        "cannot read /nonexistent/in.src: ",
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("no/such/dir/out.bin2");
    assert_fails(
        &run(&["compile", path(&fixture("strict.src")), path(&out)]),
        "cannot write ",
    );
}

#[test]
fn paths_after_double_dash_may_start_with_a_dash() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("-policy.src");
    fs::copy(fixture("strict.src"), &src).unwrap();
    let result = confine_seccomp()
        .current_dir(dir.path())
        .args(["compile", "--", "-policy.src", "-out.bin2"])
        .output()
        .unwrap();
    assert!(result.status.success(), "{}", stderr(&result));
    assert!(dir.path().join("-out.bin2").is_file());
}

#[test]
fn dump_splits_programs() {
    let dir = tempfile::tempdir().unwrap();
    let bin2 = dir.path().join("p.bin2");
    ours(&["compile".as_ref(), fixture("strict.src").as_path(), bin2.as_path()]);
    let prefix = dir.path().join("dumped");
    let result = run(&["dump", path(&bin2), path(&prefix)]);
    assert!(result.status.success(), "{}", stderr(&result));
    let Policy::Filtered {
        allow,
        deny: Some(deny),
    } = policy_cache::parse_bin2(&fs::read(&bin2).unwrap()).unwrap()
    else {
        panic!()
    };
    assert_eq!(fs::read(dir.path().join("dumped.allow")).unwrap(), allow.to_bytes());
    assert_eq!(fs::read(dir.path().join("dumped.deny")).unwrap(), deny.to_bytes());

    // A legacy .bin dumps as its allow program and an empty deny program.
    let bin = dir.path().join("p.bin");
    ours(&[
        "compile".as_ref(),
        "--format=bin".as_ref(),
        fixture("crosscheck.src").as_path(),
        bin.as_path(),
    ]);
    let result = run(&["dump", path(&bin), path(&dir.path().join("legacy"))]);
    assert!(result.status.success(), "{}", stderr(&result));
    assert_eq!(
        fs::read(dir.path().join("legacy.allow")).unwrap(),
        fs::read(&bin).unwrap()
    );
    assert!(fs::read(dir.path().join("legacy.deny")).unwrap().is_empty());

    let junk = dir.path().join("junk");
    fs::write(&junk, b"not a policy").unwrap();
    assert_fails(&run(&["dump", path(&junk), path(&prefix)]), "cannot read the policy: ");
}

#[test]
fn version_info_and_library_version() {
    let first = run(&["version-info"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let line = String::from_utf8(first.stdout).unwrap();
    let fields: Vec<&str> = line.trim_end().split(' ').collect();
    assert_eq!(fields.len(), 4, "{line:?}");
    assert!(
        fields[0].starts_with(&format!("confine-seccomp/{}+", env!("CARGO_PKG_VERSION"))),
        "{line:?}"
    );
    let library = run(&["library-version"]);
    assert_eq!(String::from_utf8(library.stdout).unwrap().trim(), fields[1]);
    assert_eq!(fields[2].len(), 64);
    assert!(fields[2].bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(fields[3] == "-" || fields[3] == "bpf-actlog", "{line:?}");
    let second = run(&["version-info"]);
    assert_eq!(
        String::from_utf8(second.stdout).unwrap(),
        line,
        "version-info must be stable"
    );
}

#[test]
fn help_and_version() {
    let help = run(&["--help"]);
    assert!(help.status.success());
    let text = String::from_utf8(help.stdout).unwrap();
    assert!(
        text.contains("confine-seccomp compile [--format=bin2|bin] SRC OUT"),
        "{text}"
    );
    assert!(text.contains("confine-seccomp dump FILE PREFIX"), "{text}");
    let version = run(&["--version"]);
    assert!(version.status.success());
    assert_eq!(
        String::from_utf8(version.stdout).unwrap(),
        format!("confine-seccomp {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn debug_output_reports_ignored_lines_and_filters() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("d.bin2");
    let result = confine_seccomp()
        .env("SNAP_SECCOMP_DEBUG", "1")
        .args(["compile", path(&fixture("strict.src")), path(&out)])
        .output()
        .unwrap();
    assert!(result.status.success(), "{}", stderr(&result));
    let err = stderr(&result);
    assert!(err.contains("line 38: ignoring \"no_such_syscall_for_tests\""), "{err}");
    assert!(err.contains("line 39: ignoring \"another_unknown_call\""), "{err}");
    let pfc = String::from_utf8(result.stdout).unwrap();
    assert!(pfc.contains("ERRNO(13)") && pfc.contains("ERRNO(1)"), "{pfc}");

    // Quiet without the variable.
    let quiet = run(&["compile", path(&fixture("strict.src")), path(&out)]);
    assert!(quiet.status.success());
    assert!(quiet.stderr.is_empty() && quiet.stdout.is_empty());
}
