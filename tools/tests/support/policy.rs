//! Helpers for the policy tests: data and fixture paths, the verdict tables
//! that compare compiled programs with the meaning of their rules, and a
//! scratch root for the admin command. Included with `#[path]`.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use confine_tools::seccomp::bpf::{self, SeccompData};
use confine_tools::seccomp::compile::Resolved;
use confine_tools::seccomp::parse::{self, Comparison, Kind};
use confine_tools::seccomp::semantics::{Call, Semantics};
use confine_tools::seccomp::{native, IdResolver};
use libseccomp::{ScmpArch, ScmpSyscall};
use policy_cache::Policy;

/// A file under `tools/data/`.
pub fn data_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(name)
}

/// A file under `tools/tests/fixtures/`.
pub fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// The text of a seccomp fixture.
pub fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(fixture_path("seccomp").join(name)).unwrap()
}

/// The architectures the tables cover.
pub const ARCHES: [ScmpArch; 2] = [ScmpArch::X8664, ScmpArch::X86];

/// Every name libseccomp knows on the covered architectures.
pub fn known_syscalls() -> Vec<String> {
    let mut names = BTreeSet::new();
    for arch in ARCHES {
        for nr in 0..1024 {
            if let Ok(name) = ScmpSyscall::from_raw_syscall(nr).get_name_by_arch(arch) {
                names.insert(name);
            }
        }
    }
    // Calls x86 only reaches through its multiplexers.
    for name in ["accept", "send", "recv", "semop", "semtimedop"] {
        names.insert(name.to_owned());
    }
    names.into_iter().collect()
}

/// One input of a verdict table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    pub audit_arch: u32,
    pub nr: i32,
    pub args: [u64; 6],
}

fn values_around(comparison: Comparison, datum: u64) -> Vec<u64> {
    let high = 1u64 << 32;
    let mut v = vec![
        datum,
        datum.wrapping_add(1),
        datum.wrapping_sub(1),
        datum | high,
        datum ^ 0xFFFF_FFFF_0000_0000,
        datum & 0xFFFF_FFFF,
    ];
    if let Comparison::MaskedEqual(mask) = comparison {
        v.extend([mask, !mask, datum | !mask, datum & mask, 0, mask ^ datum, u64::MAX]);
    }
    v
}

/// The rows for a policy text (see the test files for what they cover).
pub fn verdict_table(text: &str) -> Vec<Row> {
    let generic = [
        [0u64; 6],
        [1; 6],
        [u64::MAX; 6],
        [0xFFFF_FFFF; 6],
        [1 << 32; 6],
        [7, 3, 3, 3, 5, 5],
    ];
    let mut rows = Vec::new();
    for arch in ARCHES {
        let audit = native::audit_arch(arch).unwrap();
        for nr in (0..600).chain([-1, 0x4000_0000, 0x4000_0010, 0x7fff_ffff]) {
            for args in generic {
                rows.push(Row {
                    audit_arch: audit,
                    nr,
                    args,
                });
            }
        }
        // The multiplexers with every call number.
        if arch == ScmpArch::X86 {
            for mux in [102, 117] {
                for call in 0..32u64 {
                    for rest in [0u64, 1, u64::MAX] {
                        rows.push(Row {
                            audit_arch: audit,
                            nr: mux,
                            args: [call, rest, rest, rest, rest, rest],
                        });
                        rows.push(Row {
                            audit_arch: audit,
                            nr: mux,
                            args: [call | (1 << 16), rest, 0, 0, 0, 0],
                        });
                    }
                }
            }
        }
    }
    // Another architecture: killed.
    for nr in 0..8 {
        rows.push(Row {
            audit_arch: bpf::AUDIT_ARCH_AARCH64,
            nr,
            args: [0; 6],
        });
    }
    let source = parse::parse(text).unwrap();
    let mut ids = IdResolver::system();
    let (rules, _) = confine_tools::seccomp::compile::resolve(&source, &mut ids).unwrap();
    for rule in rules.iter().filter(|r| !r.conditions.is_empty()) {
        for arch in ARCHES {
            let audit = native::audit_arch(arch).unwrap();
            let Ok(sys) = ScmpSyscall::from_name_by_arch(&rule.syscall, arch) else {
                continue;
            };
            let nr = sys.as_raw_syscall();
            if nr < 0 {
                continue;
            }
            let mut base = [0u64; 6];
            for c in &rule.conditions {
                base[c.index as usize] = c.datum;
            }
            rows.push(Row {
                audit_arch: audit,
                nr,
                args: base,
            });
            for c in &rule.conditions {
                for v in values_around(c.comparison, c.datum) {
                    let mut args = base;
                    args[c.index as usize] = v;
                    rows.push(Row {
                        audit_arch: audit,
                        nr,
                        args,
                    });
                    // And with every other argument of the other rules'
                    // shapes zeroed.
                    let mut only = [0u64; 6];
                    only[c.index as usize] = v;
                    rows.push(Row {
                        audit_arch: audit,
                        nr,
                        args: only,
                    });
                }
            }
        }
    }
    rows
}

/// A row where a program's verdict differs from the rules'.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disagreement {
    pub syscall: String,
    pub audit_arch: u32,
    pub args: [u64; 6],
    pub rules: u32,
    pub native: u32,
    pub libseccomp: u32,
}

/// The disagreements of both programs with the rules.
pub struct Disagreements {
    pub native_wrong: Vec<Disagreement>,
    pub libseccomp_wrong: Vec<Disagreement>,
}

fn programs(policy: &Policy) -> (&policy_cache::Program, Option<&policy_cache::Program>) {
    match policy {
        Policy::Filtered { allow, deny } => (allow, deny.as_ref()),
        Policy::Unrestricted => panic!("unrestricted policy in a verdict table"),
    }
}

fn name_of(audit: u32, nr: i32) -> String {
    let arch = if audit == native::audit_arch(ScmpArch::X86).unwrap() {
        ScmpArch::X86
    } else {
        ScmpArch::X8664
    };
    ScmpSyscall::from_raw_syscall(nr)
        .get_name_by_arch(arch)
        .unwrap_or_else(|_| format!("#{nr}"))
}

/// Runs both programs of both policies over `rows` and compares each
/// program with what the rules say it must return.
pub fn compare(rules: &[Resolved], native_policy: &Policy, lib_policy: &Policy, rows: &[Row]) -> Disagreements {
    let semantics = Semantics::new(rules, &ARCHES);
    let (n_allow, n_deny) = programs(native_policy);
    let (l_allow, l_deny) = programs(lib_policy);
    let allow_default = {
        // The default of the allow program is what it returns for a call
        // nothing allows: ask it for a number no architecture uses.
        let probe = SeccompData::new(native::audit_arch(ScmpArch::X8664).unwrap(), 0x3fff_fff0, [0; 6]);
        bpf::run(l_allow.instructions(), &probe).unwrap()
    };
    let mut out = Disagreements {
        native_wrong: Vec::new(),
        libseccomp_wrong: Vec::new(),
    };
    for row in rows {
        let data = SeccompData::new(row.audit_arch, row.nr, row.args);
        let call = Call {
            audit_arch: row.audit_arch,
            nr: row.nr,
            args: row.args,
        };
        let mut pairs = vec![(
            semantics.result(Kind::Allow, allow_default, &call),
            bpf::run(n_allow.instructions(), &data).unwrap(),
            bpf::run(l_allow.instructions(), &data).unwrap(),
        )];
        if let (Some(nd), Some(ld)) = (n_deny, l_deny) {
            pairs.push((
                semantics.result(Kind::Deny, native::RET_ALLOW, &call),
                bpf::run(nd.instructions(), &data).unwrap(),
                bpf::run(ld.instructions(), &data).unwrap(),
            ));
        }
        for (expected, ours, theirs) in pairs {
            let d = || Disagreement {
                syscall: name_of(row.audit_arch, row.nr),
                audit_arch: row.audit_arch,
                args: row.args,
                rules: expected,
                native: ours,
                libseccomp: theirs,
            };
            if ours != expected {
                out.native_wrong.push(d());
            }
            if theirs != expected {
                out.libseccomp_wrong.push(d());
            }
        }
    }
    out
}

/// The policy fixture cases (`tools/tests/fixtures/policy/<case>/`).
pub const POLICY_CASES: &[&str] = &["classic-tool", "devmode-dev", "hello", "sensor"];

/// An admin working under a scratch root, with profiles handled in `mode`
/// and a fixed compiler version line.
pub fn scratch_admin(root: &Path, mode: confine_tools::deploy::Mode) -> confine_tools::admin::Admin {
    let mut admin = confine_tools::admin::Admin::new(confine_tools::paths::Paths::new(root))
        .unwrap()
        .with_version_info("confine-seccomp/golden 2.5.4 0000 bpf-actlog");
    admin.parser.mode = mode;
    admin
}

/// Registers a fixture case and runs its `connect` script (lines:
/// `revision N`, `slot NAME INTERFACE ATTR=VALUE...`, `connect SNAP:PLUG
/// [SLOT]`). Returns the instance name.
pub fn set_up_case(admin: &confine_tools::admin::Admin, case: &str) -> String {
    use confine_tools::admin::{parse_plug_ref, parse_slot_attrs};
    let dir = fixture_path("policy").join(case);
    let script = std::fs::read_to_string(dir.join("connect")).unwrap();
    let mut revision = "1".to_owned();
    let mut steps = Vec::new();
    for line in script
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let words: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        match words[0].as_str() {
            "revision" => revision = words[1].clone(),
            _ => steps.push(words),
        }
    }
    let registered = admin.register(&dir, &revision, None).unwrap();
    let cat = confine_tools::interfaces::catalog().unwrap();
    for words in steps {
        match words[0].as_str() {
            "slot" => {
                let attrs = parse_slot_attrs(cat, &words[2], &words[3..]).unwrap();
                admin.add_slot(&words[1], &words[2], attrs).unwrap();
            }
            "connect" => {
                admin
                    .connect(&parse_plug_ref(&words[1]).unwrap(), words.get(2).map(String::as_str))
                    .unwrap();
            }
            other => panic!("unknown step {other} in {case}/connect"),
        }
    }
    registered.instance
}

/// Every policy file under a root, by a short name (`apparmor/NAME`,
/// `seccomp/NAME`, `udev/NAME`, `cgroup/NAME`).
pub fn policy_files(paths: &confine_tools::paths::Paths) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    for (short, dir) in [
        ("apparmor", paths.apparmor_profiles()),
        ("seccomp", paths.seccomp_dir()),
        ("udev", paths.udev_rules_dir()),
        ("cgroup", paths.cgroup_dir()),
        ("landlock", paths.landlock_dir()),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".bin2") {
                continue;
            }
            out.insert(format!("{short}/{name}"), std::fs::read_to_string(e.path()).unwrap());
        }
    }
    out
}
