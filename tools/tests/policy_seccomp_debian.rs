//! The default template compiled by our generator against the same
//! template compiled by Debian's `snap-seccomp` (snapd 2.57.6, the legacy
//! `.bin` format, no `~` lines): the allow programs must give the same
//! verdict for every row of the table, and both must agree with the rules.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "support/policy.rs"]
mod policy_support;

use std::path::PathBuf;
use std::process::Command;

use confine_tools::seccomp::{compile, compile_text, parse, Backend, Format, IdResolver, Options};
use libseccomp::ScmpArch;
use policy_cache::{Policy, Program, Which};
use policy_support::{data_file, verdict_table};

const SNAP_SECCOMP: &str = "/usr/lib/snapd/snap-seccomp";

/// Debian's compiler; its absence fails the test loudly.
fn snap_seccomp() -> PathBuf {
    let path = PathBuf::from(SNAP_SECCOMP);
    assert!(
        path.is_file(),
        "\n\n*** {SNAP_SECCOMP} is missing: this test compares with Debian's snapd compiler.\n\
         *** Install it with: apt-get install snapd\n\n"
    );
    path
}

/// The template plus the set*id calls, without the explicit denials that
/// snapd 2.57.6 does not know.
fn template_without_denials() -> String {
    let text = std::fs::read_to_string(data_file("seccomp/default.src")).unwrap()
        + &std::fs::read_to_string(data_file("seccomp/priv-drop.src")).unwrap();
    text.lines()
        .filter(|l| !l.trim_start().starts_with('~'))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn default_template_verdicts_match_debian() {
    let text = template_without_denials();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("default.src");
    std::fs::write(&src, &text).unwrap();
    let theirs_path = dir.path().join("theirs.bin");
    let out = Command::new(snap_seccomp())
        .arg("compile")
        .arg(&src)
        .arg(&theirs_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "snap-seccomp: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs = Policy::Filtered {
        allow: Program::from_bytes(Which::Allow, &std::fs::read(&theirs_path).unwrap()).unwrap(),
        deny: None,
    };

    // Ours, as the policy tools write it (.bin2, native generator); only the
    // allow program is compared.
    let mut options = Options::for_host(Format::Bin2);
    options.backend = Backend::Native;
    let ours = compile_text(&text, &options, &mut IdResolver::system()).unwrap().policy;
    let ours = match ours {
        Policy::Filtered { allow, .. } => Policy::Filtered { allow, deny: None },
        Policy::Unrestricted => panic!("unrestricted"),
    };
    assert_eq!(
        options.secondary_arch,
        Some(ScmpArch::X86),
        "this test covers x86-64 hosts"
    );

    let source = parse::parse(&text).unwrap();
    let (rules, _) = compile::resolve(&source, &mut IdResolver::system()).unwrap();
    let rows = verdict_table(&text);
    let d = policy_support::compare(&rules, &ours, &theirs, &rows);
    assert!(
        d.native_wrong.is_empty(),
        "ours contradicts the rules: {:?}",
        &d.native_wrong[..d.native_wrong.len().min(5)]
    );
    assert!(
        d.libseccomp_wrong.is_empty(),
        "snap-seccomp's program differs in {} of {} rows: {:?}",
        d.libseccomp_wrong.len(),
        rows.len(),
        &d.libseccomp_wrong[..d.libseccomp_wrong.len().min(5)]
    );
    println!("{} rows: same verdicts as snap-seccomp", rows.len());
}
