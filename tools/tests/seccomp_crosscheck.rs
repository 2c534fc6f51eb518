//! Compares `confine-seccomp compile --format=bin --backend=libseccomp`
//! (the backend kept for snapd's exact bytes) with Debian's snapd compiler
//! (`/usr/lib/snapd/snap-seccomp`, snapd 2.57.6, which writes the raw `.bin`
//! format and knows no `~` lines) on the same policies (the default backend,
//! our own generator, is compared with snap-seccomp by
//! `seccomp_differential.rs`, where the rules judge any difference):
//!
//! * whether the bytes happen to be identical (reported, not required);
//! * the verdicts of both programs over a table of system calls and
//!   arguments, computed with the BPF interpreter (any call can be asked
//!   about, including ones nobody wants to make);
//! * the results of real, harmless calls in a child that loaded each
//!   program;
//! * compile times (printed; run with `--nocapture` to see them).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
// ioctl requests are 32-bit on some targets, so the casts stay.
#![allow(clippy::unnecessary_cast)]

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use confine_tools::seccomp::bpf::{self, SeccompData};
use confine_tools::seccomp::parse::{self, Comparison, Operand};
use confine_tools::seccomp::IdResolver;
use libseccomp::{ScmpArch, ScmpSyscall};
use policy_cache::{Policy, Program, Which};
use support::{fixture, labelled, ours, probe, run_probes, Outcome, PIPE_FD, SCRATCH};

const SNAP_SECCOMP: &str = "/usr/lib/snapd/snap-seccomp";

/// Debian's compiler; its absence fails the test loudly.
fn snap_seccomp() -> PathBuf {
    let path = PathBuf::from(SNAP_SECCOMP);
    assert!(
        path.is_file(),
        "\n\n*** {SNAP_SECCOMP} is missing: the cross-check needs Debian's snapd compiler.\n\
         *** Install it with: apt-get install snapd\n\n"
    );
    path
}

fn theirs(src: &Path, out: &Path) {
    let result = Command::new(snap_seccomp())
        .arg("compile")
        .arg(src)
        .arg(out)
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "snap-seccomp compile {src:?}: {}",
        String::from_utf8_lossy(&result.stderr)
    );
}

/// Compiles `name` with both compilers; returns (ours, theirs) raw `.bin`.
fn compile_both(name: &str, dir: &Path) -> (Vec<u8>, Vec<u8>) {
    let src = fixture(name);
    let our_out = dir.join(format!("{name}.ours.bin"));
    let their_out = dir.join(format!("{name}.theirs.bin"));
    ours(&[
        "compile".as_ref(),
        "--format=bin".as_ref(),
        "--backend=libseccomp".as_ref(),
        src.as_path(),
        our_out.as_path(),
    ]);
    theirs(&src, &their_out);
    (std::fs::read(our_out).unwrap(), std::fs::read(their_out).unwrap())
}

fn program(bytes: &[u8]) -> Policy {
    Policy::Filtered {
        allow: Program::from_bytes(Which::Allow, bytes).unwrap(),
        deny: None,
    }
}

fn audit_arch(arch: ScmpArch) -> u32 {
    match arch {
        ScmpArch::X8664 => bpf::AUDIT_ARCH_X86_64,
        ScmpArch::X86 => bpf::AUDIT_ARCH_I386,
        ScmpArch::Aarch64 => bpf::AUDIT_ARCH_AARCH64,
        ScmpArch::Arm => bpf::AUDIT_ARCH_ARM,
        other => panic!("no audit architecture for {other:?} in this test"),
    }
}

/// The architectures the filters cover here.
fn arches() -> Vec<ScmpArch> {
    let native = ScmpArch::native();
    let mut all = vec![native];
    all.extend(confine_tools::seccomp::arch::host_secondary_arch());
    all
}

/// Values worth trying for an argument, given one condition on it.
fn interesting(comparison: Comparison, value: u64) -> Vec<u64> {
    let high = 1u64 << 32;
    let mut v = vec![
        value,
        value.wrapping_add(1),
        value.wrapping_sub(1),
        value | high,
        value ^ 0xFFFF_FFFF_0000_0000,
    ];
    if let Comparison::MaskedEqual(mask) = comparison {
        v.extend([mask, !mask, value | !mask, value & mask, 0]);
    }
    v
}

/// Inputs for the table: every call with a few generic argument vectors, and
/// for calls that have argument filters in `src`, each rule's matching
/// vector and its variations in one position at a time.
fn table(src: &str) -> Vec<(ScmpArch, String, [u64; 6])> {
    let mut ids = IdResolver::system();
    let generic = [[0u64; 6], [1; 6], [u64::MAX; 6], [0xFFFF_FFFF; 6], [1 << 32; 6]];
    let mut rows = Vec::new();
    let mut names = BTreeSet::new();
    for arch in arches() {
        for nr in 0..1024 {
            if let Ok(name) = ScmpSyscall::from_raw_syscall(nr).get_name_by_arch(arch) {
                names.insert(name.clone());
                for args in generic {
                    rows.push((arch, name.clone(), args));
                }
                for position in 0..6 {
                    for value in [1, 0xFFFF_FFFF, u64::MAX, 1 << 32, libc::TIOCSTI as u64] {
                        let mut args = [0u64; 6];
                        args[position] = value;
                        rows.push((arch, name.clone(), args));
                    }
                }
            }
        }
    }
    let source = parse::parse(src).unwrap();
    for rule in source.rules.iter().filter(|r| !r.args.is_empty()) {
        let mut base = [0u64; 6];
        let mut per_position: Vec<Vec<u64>> = vec![vec![0, 1, 0xFFFF_FFFF, u64::MAX]; 6];
        for c in &rule.args {
            let value = match &c.operand {
                Operand::Value(v) => *v,
                Operand::User(n) => u64::from(ids.uid(n).unwrap()),
                Operand::Group(n) => u64::from(ids.gid(n).unwrap()),
            };
            base[c.index as usize] = value;
            per_position[c.index as usize].extend(interesting(c.comparison, value));
        }
        for arch in arches() {
            rows.push((arch, rule.syscall.clone(), base));
            for (position, values) in per_position.iter().enumerate() {
                for value in values {
                    let mut args = base;
                    args[position] = *value;
                    rows.push((arch, rule.syscall.clone(), args));
                }
            }
        }
    }
    rows
}

/// Compares the verdicts of two policies over the table; returns how many
/// inputs were compared and the differences found.
fn verdict_differences(src: &str, a: &Policy, b: &Policy) -> (usize, Vec<String>) {
    let mut compared = 0;
    let mut differences = Vec::new();
    let mut check = |label: String, data: SeccompData| {
        let va = bpf::evaluate(a, &data).unwrap();
        let vb = bpf::evaluate(b, &data).unwrap();
        compared += 1;
        if va != vb {
            differences.push(format!("{label}: ours {va}, snap-seccomp {vb}"));
        }
    };
    for (arch, syscall, args) in table(src) {
        let Ok(nr) = ScmpSyscall::from_name_by_arch(&syscall, arch) else {
            continue;
        };
        let nr = nr.as_raw_syscall();
        if nr < 0 {
            // Not a call on this architecture (libseccomp's pseudo number).
            continue;
        }
        check(
            format!("{arch:?} {syscall}({args:x?})"),
            SeccompData::new(audit_arch(arch), nr, args),
        );
    }
    // x32 numbers and foreign architectures.
    for nr in [0, 1, 59, 0x4000_0000, 0x4000_0001, -1, i32::MAX] {
        for arch in [bpf::AUDIT_ARCH_X86_64, bpf::AUDIT_ARCH_AARCH64, bpf::AUDIT_ARCH_ARM, 0] {
            check(format!("arch {arch:#x} nr {nr:#x}"), SeccompData::new(arch, nr, [0; 6]));
        }
    }
    (compared, differences)
}

fn check_policy(name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (our_bytes, their_bytes) = compile_both(name, dir.path());
    println!(
        "{name}: ours {} bytes, snap-seccomp {} bytes, {}",
        our_bytes.len(),
        their_bytes.len(),
        if our_bytes == their_bytes {
            "byte-identical"
        } else {
            "bytes differ"
        }
    );
    let src = std::fs::read_to_string(fixture(name)).unwrap();
    let (compared, differences) = verdict_differences(&src, &program(&our_bytes), &program(&their_bytes));
    assert!(
        differences.is_empty(),
        "{name}: {} of {compared} verdicts differ:\n{}",
        differences.len(),
        differences.join("\n")
    );
    println!("{name}: {compared} emulated verdicts agree");

    // Our .bin2 carries the same allow program as our .bin for a policy
    // without explicit denials.
    let bin2 = dir.path().join(format!("{name}.bin2"));
    ours(&[
        "compile".as_ref(),
        "--backend=libseccomp".as_ref(),
        fixture(name).as_path(),
        bin2.as_path(),
    ]);
    let Policy::Filtered { allow, deny: Some(_) } = policy_cache::parse_bin2(&std::fs::read(&bin2).unwrap()).unwrap()
    else {
        panic!("{name}: expected a filtered .bin2")
    };
    assert_eq!(
        allow.to_bytes(),
        our_bytes,
        "{name}: .bin2 allow program differs from .bin"
    );
}

#[test]
fn crosscheck_policy_verdicts_match() {
    check_policy("crosscheck.src");
}

#[test]
fn realistic_policy_verdicts_match() {
    check_policy("realistic.src");
}

#[test]
fn the_comparison_notices_a_changed_rule() {
    // Guard against a comparison that cannot fail: drop one argument filter
    // and one plain rule, and the table must tell.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("crosscheck.src")).unwrap();
    let changed = text
        .replace("umask <=63\n", "umask <=64\n")
        .replace("\nsched_yield\n", "\n");
    assert_ne!(text, changed);
    let (original, modified) = (dir.path().join("a.src"), dir.path().join("b.src"));
    std::fs::write(&original, &text).unwrap();
    std::fs::write(&modified, &changed).unwrap();
    let (a, b) = (dir.path().join("a.bin"), dir.path().join("b.bin"));
    ours(&[
        "compile".as_ref(),
        "--format=bin".as_ref(),
        original.as_path(),
        a.as_path(),
    ]);
    ours(&[
        "compile".as_ref(),
        "--format=bin".as_ref(),
        modified.as_path(),
        b.as_path(),
    ]);
    let (a, b) = (std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
    let (_, differences) = verdict_differences(&text, &program(&a), &program(&b));
    assert!(differences.iter().any(|d| d.contains("umask([40,")), "{differences:#?}");
    assert!(
        differences.iter().any(|d| d.contains(" sched_yield(")),
        "{differences:#?}"
    );
}

#[test]
fn crosscheck_policy_in_the_kernel() {
    let dir = tempfile::tempdir().unwrap();
    let (our_bytes, their_bytes) = compile_both("crosscheck.src", dir.path());
    use libc::*;
    let ok = Outcome::Ok;
    let tiocsti = TIOCSTI as u64;
    let table = [
        (probe("getppid", SYS_getppid, &[]), ok),
        (probe("sched_yield", SYS_sched_yield, &[]), ok),
        (probe("uname", SYS_uname, &[SCRATCH]), ok),
        (probe("unshare(0)", SYS_unshare, &[0]), Outcome::EPERM),
        (probe("getpgid(0)", SYS_getpgid, &[0]), ok),
        (probe("getpgid(1)", SYS_getpgid, &[1]), Outcome::EPERM),
        (
            probe("getpriority(PRIO_USER, 0)", SYS_getpriority, &[PRIO_USER as u64, 0]),
            Outcome::EPERM,
        ),
        (
            probe(
                "socket(AF_UNIX, SOCK_DGRAM)",
                SYS_socket,
                &[AF_UNIX as u64, SOCK_DGRAM as u64, 0],
            ),
            ok,
        ),
        (
            probe(
                "socket(AF_INET, SOCK_DGRAM, 0)",
                SYS_socket,
                &[AF_INET as u64, SOCK_DGRAM as u64, 0],
            ),
            ok,
        ),
        (
            probe(
                "socket(AF_INET, SOCK_STREAM)",
                SYS_socket,
                &[AF_INET as u64, SOCK_STREAM as u64, 0],
            ),
            Outcome::EPERM,
        ),
        (
            probe(
                "socket(AF_INET6, SOCK_STREAM)",
                SYS_socket,
                &[AF_INET6 as u64, SOCK_STREAM as u64, 0],
            ),
            ok,
        ),
        (
            probe(
                "socket(AF_INET6, SOCK_DGRAM)",
                SYS_socket,
                &[AF_INET6 as u64, SOCK_DGRAM as u64, 0],
            ),
            Outcome::EPERM,
        ),
        (
            probe("prctl(PR_GET_DUMPABLE)", SYS_prctl, &[PR_GET_DUMPABLE as u64]),
            ok,
        ),
        (
            probe("prctl(PR_GET_NAME)", SYS_prctl, &[PR_GET_NAME as u64, SCRATCH]),
            Outcome::EPERM,
        ),
        (probe("umask(022)", SYS_umask, &[0o22]), ok),
        (probe("umask(0777)", SYS_umask, &[0o777]), Outcome::EPERM),
        (probe("getrandom(1 byte, 0)", SYS_getrandom, &[SCRATCH, 1, 0]), ok),
        (
            probe(
                "getrandom(1 byte, GRND_RANDOM)",
                SYS_getrandom,
                &[SCRATCH, 1, GRND_RANDOM as u64],
            ),
            Outcome::EPERM,
        ),
        (probe("mlock2(flags 2)", SYS_mlock2, &[SCRATCH, 0, 2]), Outcome::EPERM),
        (probe("dup(101)", SYS_dup, &[101]), Outcome::Errno(EBADF)),
        (probe("dup(5)", SYS_dup, &[5]), Outcome::EPERM),
        (probe("msync(MS_SYNC)", SYS_msync, &[0, 0, MS_SYNC as u64]), ok),
        (
            probe("msync(MS_ASYNC)", SYS_msync, &[0, 0, MS_ASYNC as u64]),
            Outcome::EPERM,
        ),
        (
            probe("ioctl(pipe, FIONREAD)", SYS_ioctl, &[PIPE_FD, FIONREAD as u64, SCRATCH]),
            ok,
        ),
        (
            probe("ioctl(pipe, TIOCSTI)", SYS_ioctl, &[PIPE_FD, tiocsti, SCRATCH]),
            Outcome::EPERM,
        ),
        // The 2.57.6-era "ioctl - !TIOCSTI" misses requests with high bits
        // set (the kernel then sees TIOCSTI; on a pipe it fails with ENOTTY).
        (
            probe(
                "ioctl(pipe, TIOCSTI | 1<<32)",
                SYS_ioctl,
                &[PIPE_FD, tiocsti | 1 << 32, SCRATCH],
            ),
            Outcome::ENOTTY,
        ),
        (probe("setresuid(-1 x3, 64-bit)", SYS_setresuid, &[u64::MAX; 3]), ok),
        (probe("setresuid(-1 x3, 32-bit)", SYS_setresuid, &[0xFFFF_FFFF; 3]), ok),
        (
            probe("setresgid(0, -1, -1)", SYS_setresgid, &[0, u64::MAX, u64::MAX]),
            Outcome::EPERM,
        ),
    ];
    let probes: Vec<_> = table.iter().map(|(p, _)| *p).collect();
    let expected: Vec<_> = table.iter().map(|(p, o)| (p.label, *o)).collect();
    let with_ours = labelled(&probes, &run_probes(&[&our_bytes], &probes));
    let with_theirs = labelled(&probes, &run_probes(&[&their_bytes], &probes));
    assert_eq!(with_ours, with_theirs, "ours and snap-seccomp disagree in the kernel");
    assert_eq!(with_ours, expected);
}

fn time_compiles(mut command: impl FnMut() -> Command, runs: u32) -> (Duration, Duration) {
    let mut total = Duration::ZERO;
    let mut best = Duration::MAX;
    for _ in 0..runs {
        let start = Instant::now();
        let status = command().status().unwrap();
        let took = start.elapsed();
        assert!(status.success());
        total += took;
        best = best.min(took);
    }
    (best, total / runs)
}

#[test]
fn compile_times() {
    let dir = tempfile::tempdir().unwrap();
    let src = fixture("realistic.src");
    let lines = std::fs::read_to_string(&src).unwrap().lines().count();
    let out = dir.path().join("out.bin");
    let runs = 10;
    let (our_best, our_mean) = time_compiles(
        || {
            let mut c = support::confine_seccomp();
            c.arg("compile").arg("--format=bin").arg(&src).arg(&out);
            c
        },
        runs,
    );
    let (their_best, their_mean) = time_compiles(
        || {
            let mut c = Command::new(snap_seccomp());
            c.arg("compile").arg(&src).arg(&out);
            c
        },
        runs,
    );
    let build = if cfg!(debug_assertions) {
        "debug build"
    } else {
        "release build"
    };
    println!("compile of realistic.src ({lines} lines), {runs} runs each, whole process:");
    println!("  {:<28} {:>10} {:>10}", "compiler", "best", "mean");
    println!(
        "  {:<28} {:>10.1?} {:>10.1?}",
        format!("confine-seccomp ({build})"),
        our_best,
        our_mean
    );
    println!(
        "  {:<28} {:>10.1?} {:>10.1?}",
        "snap-seccomp 2.57.6", their_best, their_mean
    );
    println!(
        "  ratio ours/theirs (mean): {:.2}",
        our_mean.as_secs_f64() / their_mean.as_secs_f64()
    );
}
