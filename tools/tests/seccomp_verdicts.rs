//! Compiles the fixture policies with `confine-seccomp`, loads the result
//! into a forked child the way the launcher does (deny program, then allow
//! program) and checks what real system calls return.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
// ioctl requests are 32-bit on some targets, so the casts stay.
#![allow(clippy::unnecessary_cast)]

mod support;

use std::path::Path;

use policy_cache::Policy;
use support::{fixture, labelled, ours, probe, run_probes, Outcome, Probe, PIPE_FD, SCRATCH};

const HIGH_BIT: u64 = 1 << 32;

fn compile_bin2(name: &str, dir: &Path) -> Policy {
    let out = dir.join(name.replace(".src", ".bin2"));
    ours(&["compile".as_ref(), fixture(name).as_path(), out.as_path()]);
    policy_cache::parse_bin2(&std::fs::read(&out).unwrap()).unwrap()
}

/// Loads a policy as the launcher does and runs the probes.
fn run(policy: &Policy, probes: &[Probe]) -> Vec<(&'static str, Outcome)> {
    let bytes: Vec<Vec<u8>> = policy.load_order().iter().map(|p| p.to_bytes()).collect();
    let programs: Vec<&[u8]> = bytes.iter().map(Vec::as_slice).collect();
    labelled(probes, &run_probes(&programs, probes))
}

fn expect(probes: &[(Probe, Outcome)]) -> (Vec<Probe>, Vec<(&'static str, Outcome)>) {
    (
        probes.iter().map(|(p, _)| *p).collect(),
        probes.iter().map(|(p, o)| (p.label, *o)).collect(),
    )
}

fn tiocsti() -> u64 {
    libc::TIOCSTI as u64
}

#[test]
fn strict_policy_in_the_kernel() {
    let dir = tempfile::tempdir().unwrap();
    let policy = compile_bin2("strict.src", dir.path());
    let Policy::Filtered { deny: Some(_), .. } = &policy else {
        panic!("expected two programs")
    };
    use libc::*;
    let ok = Outcome::Ok;
    let (probes, expected) = expect(&[
        // Allowed without conditions.
        (probe("getppid", SYS_getppid, &[]), ok),
        (probe("sched_yield", SYS_sched_yield, &[]), ok),
        // Not in the allow list: EPERM.
        (probe("unshare(0)", SYS_unshare, &[0]), Outcome::EPERM),
        (probe("getuid", SYS_getuid, &[]), Outcome::EPERM),
        // Argument filters.
        (probe("getpgid(0)", SYS_getpgid, &[0]), ok),
        (probe("getpgid(1)", SYS_getpgid, &[1]), Outcome::EPERM),
        (
            probe(
                "getpriority(PRIO_PROCESS, 0)",
                SYS_getpriority,
                &[PRIO_PROCESS as u64, 0],
            ),
            ok,
        ),
        (
            probe("getpriority(PRIO_USER, 0)", SYS_getpriority, &[PRIO_USER as u64, 0]),
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
        (probe("personality(query)", SYS_personality, &[0xFFFF_FFFF]), ok),
        (probe("personality(0)", SYS_personality, &[0]), Outcome::EPERM),
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
                "socket(AF_INET, SOCK_DGRAM)",
                SYS_socket,
                &[AF_INET as u64, SOCK_DGRAM as u64, 0],
            ),
            Outcome::EPERM,
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
            probe(
                "socket(AF_NETLINK, NETLINK_ROUTE)",
                SYS_socket,
                &[AF_NETLINK as u64, SOCK_RAW as u64, 0],
            ),
            ok,
        ),
        (
            probe(
                "socket(AF_NETLINK, NETLINK_KOBJECT_UEVENT)",
                SYS_socket,
                &[AF_NETLINK as u64, SOCK_RAW as u64, 15],
            ),
            Outcome::EPERM,
        ),
        // Negative ids match as 32-bit and as 64-bit -1.
        (probe("setresuid(-1 x3, 32-bit)", SYS_setresuid, &[0xFFFF_FFFF; 3]), ok),
        (probe("setresuid(-1 x3, 64-bit)", SYS_setresuid, &[u64::MAX; 3]), ok),
        (
            probe("setresuid(0, -1, -1)", SYS_setresuid, &[0, u64::MAX, u64::MAX]),
            Outcome::EPERM,
        ),
        // "!2" and "4294967295|4".
        (probe("mlock2(flags 0)", SYS_mlock2, &[SCRATCH, 0, 0]), ok),
        (probe("mlock2(flags 2)", SYS_mlock2, &[SCRATCH, 0, 2]), Outcome::EPERM),
        (probe("msync(MS_SYNC)", SYS_msync, &[0, 0, MS_SYNC as u64]), ok),
        (
            probe("msync(MS_SYNC | 1<<32)", SYS_msync, &[0, 0, MS_SYNC as u64 | HIGH_BIT]),
            ok,
        ),
        (
            probe("msync(MS_ASYNC)", SYS_msync, &[0, 0, MS_ASYNC as u64]),
            Outcome::EPERM,
        ),
        // ioctl is allowed, terminal injection is explicitly denied.
        (
            probe("ioctl(pipe, FIONREAD)", SYS_ioctl, &[PIPE_FD, FIONREAD as u64, SCRATCH]),
            ok,
        ),
        (
            probe(
                "ioctl(pipe, TIOCGWINSZ)",
                SYS_ioctl,
                &[PIPE_FD, TIOCGWINSZ as u64, SCRATCH],
            ),
            Outcome::ENOTTY,
        ),
        (
            probe("ioctl(pipe, TIOCSTI)", SYS_ioctl, &[PIPE_FD, tiocsti(), SCRATCH]),
            Outcome::EACCES,
        ),
        (
            probe(
                "ioctl(pipe, TIOCSTI | 1<<32)",
                SYS_ioctl,
                &[PIPE_FD, tiocsti() | HIGH_BIT, SCRATCH],
            ),
            Outcome::EACCES,
        ),
        (
            probe(
                "ioctl(pipe, TIOCSTI | 0xffffffff<<32)",
                SYS_ioctl,
                &[PIPE_FD, tiocsti() | 0xFFFF_FFFF << 32, SCRATCH],
            ),
            Outcome::EACCES,
        ),
        (
            probe(
                "ioctl(pipe, TIOCLINUX)",
                SYS_ioctl,
                &[PIPE_FD, TIOCLINUX as u64, SCRATCH],
            ),
            Outcome::EACCES,
        ),
        // An explicit denial beats an allow rule...
        (probe("uname", SYS_uname, &[SCRATCH]), Outcome::EACCES),
        // ...but a call the allow list lacks reports EPERM either way.
        (probe("getsid(0)", SYS_getsid, &[0]), Outcome::EPERM),
    ]);
    assert_eq!(run(&policy, &probes), expected);
}

#[test]
fn high_bits_slip_past_a_plain_comparison() {
    // Why the masked denial lines exist: the kernel ignores the upper half of
    // the ioctl request, a plain comparison does not.
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("plain.src");
    std::fs::write(&src, "write\nexit_group\nioctl\n~ioctl - TIOCSTI\n").unwrap();
    let out = dir.path().join("plain.bin2");
    ours(&["compile".as_ref(), src.as_path(), out.as_path()]);
    let policy = policy_cache::parse_bin2(&std::fs::read(&out).unwrap()).unwrap();
    let probes = [
        probe("ioctl(pipe, TIOCSTI)", libc::SYS_ioctl, &[PIPE_FD, tiocsti(), SCRATCH]),
        probe(
            "ioctl(pipe, TIOCSTI | 1<<32)",
            libc::SYS_ioctl,
            &[PIPE_FD, tiocsti() | HIGH_BIT, SCRATCH],
        ),
    ];
    assert_eq!(
        run(&policy, &probes),
        vec![
            ("ioctl(pipe, TIOCSTI)", Outcome::EACCES),
            ("ioctl(pipe, TIOCSTI | 1<<32)", Outcome::ENOTTY)
        ]
    );
}

#[test]
fn complain_policy_in_the_kernel() {
    let dir = tempfile::tempdir().unwrap();
    let policy = compile_bin2("complain.src", dir.path());
    let (probes, expected) = expect(&[
        (probe("getppid", libc::SYS_getppid, &[]), Outcome::Ok),
        // Outside the allow list: logged (or simply allowed), not refused.
        (probe("unshare(0)", libc::SYS_unshare, &[0]), Outcome::Ok),
        (probe("sched_yield", libc::SYS_sched_yield, &[]), Outcome::Ok),
        (
            probe(
                "ioctl(pipe, FIONREAD)",
                libc::SYS_ioctl,
                &[PIPE_FD, libc::FIONREAD as u64, SCRATCH],
            ),
            Outcome::Ok,
        ),
        // Explicit denials still hold in complain mode.
        (
            probe("ioctl(pipe, TIOCSTI)", libc::SYS_ioctl, &[PIPE_FD, tiocsti(), SCRATCH]),
            Outcome::EACCES,
        ),
        (
            probe(
                "ioctl(pipe, TIOCSTI | 1<<32)",
                libc::SYS_ioctl,
                &[PIPE_FD, tiocsti() | HIGH_BIT, SCRATCH],
            ),
            Outcome::EACCES,
        ),
    ]);
    assert_eq!(run(&policy, &probes), expected);
}

#[test]
fn unrestricted_policy_loads_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let policy = compile_bin2("unrestricted.src", dir.path());
    assert_eq!(policy, Policy::Unrestricted);
    let (probes, expected) = expect(&[
        (probe("unshare(0)", libc::SYS_unshare, &[0]), Outcome::Ok),
        (
            probe("ioctl(pipe, TIOCSTI)", libc::SYS_ioctl, &[PIPE_FD, tiocsti(), SCRATCH]),
            Outcome::ENOTTY,
        ),
        (probe("uname", libc::SYS_uname, &[SCRATCH]), Outcome::Ok),
    ]);
    assert_eq!(run(&policy, &probes), expected);
}
