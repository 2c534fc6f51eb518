//! Compiling policies and running the result through the BPF interpreter.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
// ioctl requests are 32-bit on some targets, so the casts stay.
#![allow(clippy::unnecessary_cast)]

use std::sync::OnceLock;

use libseccomp::{ScmpArch, ScmpSyscall};

use super::bpf::{self, SeccompData, Verdict};
use super::*;

const EPERM: Verdict = Verdict::Errno(libc::EPERM as u16);
const EACCES: Verdict = Verdict::Errno(libc::EACCES as u16);

fn ids() -> IdResolver {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("passwd"),
            "root:x:0:0::/root:/bin/sh\nsnap_daemon:x:584788:584788::/:/bin/false\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("group"),
            "root:x:0:\nsnap_daemon:x:584788:\nsnappy:x:4242:\n",
        )
        .unwrap();
        dir
    });
    IdResolver::from_files(dir.path().join("passwd"), dir.path().join("group"))
}

fn options(format: Format) -> Options {
    Options::with_arches(format, arch::compat_arch(ScmpArch::native()))
}

fn compile(text: &str) -> Compiled {
    compile_text(text, &options(Format::Bin2), &mut ids()).unwrap()
}

fn native_audit_arch() -> u32 {
    match ScmpArch::native() {
        ScmpArch::X8664 => bpf::AUDIT_ARCH_X86_64,
        ScmpArch::Aarch64 => bpf::AUDIT_ARCH_AARCH64,
        other => panic!("no audit arch for {other:?} in these tests"),
    }
}

fn nr(name: &str) -> i32 {
    ScmpSyscall::from_name(name).unwrap().as_raw_syscall()
}

fn verdict(c: &Compiled, name: &str, args: [u64; 6]) -> Verdict {
    bpf::evaluate(&c.policy, &SeccompData::new(native_audit_arch(), nr(name), args)).unwrap()
}

fn call(c: &Compiled, name: &str) -> Verdict {
    verdict(c, name, [0; 6])
}

#[test]
fn strict_policy() {
    let c = compile("read\nwrite\n~ioctl - TIOCSTI\nioctl\nsocket AF_UNIX\n");
    assert_eq!(call(&c, "read"), Verdict::Allow);
    assert_eq!(call(&c, "write"), Verdict::Allow);
    assert_eq!(call(&c, "openat"), EPERM);
    let tiocsti = libc::TIOCSTI as u64;
    assert_eq!(verdict(&c, "ioctl", [3, tiocsti, 0, 0, 0, 0]), EACCES);
    assert_eq!(
        verdict(&c, "ioctl", [3, libc::FIONREAD as u64, 0, 0, 0, 0]),
        Verdict::Allow
    );
    // A plain comparison looks at all 64 bits, so high bits slip past it.
    assert_eq!(verdict(&c, "ioctl", [3, tiocsti | 1 << 32, 0, 0, 0, 0]), Verdict::Allow);
    assert_eq!(
        verdict(&c, "socket", [libc::AF_UNIX as u64, 0, 0, 0, 0, 0]),
        Verdict::Allow
    );
    assert_eq!(verdict(&c, "socket", [libc::AF_INET as u64, 0, 0, 0, 0, 0]), EPERM);
    let Policy::Filtered { deny: Some(_), .. } = &c.policy else {
        panic!("no deny program")
    };
    assert_eq!(&c.bytes[..2], b"SC");
}

#[test]
fn masked_denial_catches_high_bits() {
    let c = compile("~ioctl - 4294967295|TIOCSTI\nioctl\n");
    let tiocsti = libc::TIOCSTI as u64;
    for request in [tiocsti, tiocsti | 1 << 32, tiocsti | 0xFFFF_FFFF_0000_0000] {
        assert_eq!(verdict(&c, "ioctl", [0, request, 0, 0, 0, 0]), EACCES, "{request:#x}");
    }
    assert_eq!(verdict(&c, "ioctl", [0, tiocsti + 1, 0, 0, 0, 0]), Verdict::Allow);
}

#[test]
fn every_operator_filters() {
    let c = compile(
        "getpriority PRIO_PROCESS 0\n\
         setpriority PRIO_PROCESS 0 <=19\n\
         close >=5\n\
         umask <18\n\
         dup >100\n\
         kill - !9\n\
         fchmod - |S_ISUID\n\
         mknodat - - 61440|S_IFIFO\n",
    );
    assert_eq!(verdict(&c, "getpriority", [0, 0, 0, 0, 0, 0]), Verdict::Allow);
    assert_eq!(verdict(&c, "getpriority", [0, 1, 0, 0, 0, 0]), EPERM);
    assert_eq!(verdict(&c, "getpriority", [1, 0, 0, 0, 0, 0]), EPERM);
    assert_eq!(verdict(&c, "setpriority", [0, 0, 19, 0, 0, 0]), Verdict::Allow);
    assert_eq!(verdict(&c, "setpriority", [0, 0, 20, 0, 0, 0]), EPERM);
    assert_eq!(verdict(&c, "close", [5, 0, 0, 0, 0, 0]), Verdict::Allow);
    assert_eq!(verdict(&c, "close", [4, 0, 0, 0, 0, 0]), EPERM);
    assert_eq!(verdict(&c, "umask", [17, 0, 0, 0, 0, 0]), Verdict::Allow);
    assert_eq!(verdict(&c, "umask", [18, 0, 0, 0, 0, 0]), EPERM);
    assert_eq!(verdict(&c, "dup", [101, 0, 0, 0, 0, 0]), Verdict::Allow);
    assert_eq!(verdict(&c, "dup", [100, 0, 0, 0, 0, 0]), EPERM);
    assert_eq!(verdict(&c, "kill", [1, 15, 0, 0, 0, 0]), Verdict::Allow);
    assert_eq!(verdict(&c, "kill", [1, 9, 0, 0, 0, 0]), EPERM);
    assert_eq!(verdict(&c, "fchmod", [0, 0o4755, 0, 0, 0, 0]), Verdict::Allow);
    assert_eq!(verdict(&c, "fchmod", [0, 0o755, 0, 0, 0, 0]), EPERM);
    assert_eq!(verdict(&c, "mknodat", [0, 0, 0o010_644, 0, 0, 0]), Verdict::Allow);
    assert_eq!(verdict(&c, "mknodat", [0, 0, 0o020_644, 0, 0, 0]), EPERM);
}

#[test]
fn negative_ids_match_32_and_64_bit_minus_one() {
    let c = compile("setresuid -1 -1 -1\nfchownat - - u:snap_daemon g:snap_daemon\nfchown - u:root -1\n");
    let m32 = 0xFFFF_FFFF;
    let m64 = u64::MAX;
    assert_eq!(verdict(&c, "setresuid", [m32, m32, m32, 0, 0, 0]), Verdict::Allow);
    assert_eq!(verdict(&c, "setresuid", [m64, m64, m64, 0, 0, 0]), Verdict::Allow);
    assert_eq!(verdict(&c, "setresuid", [m64, 0, m64, 0, 0, 0]), EPERM);
    assert_eq!(verdict(&c, "fchownat", [0, 0, 584_788, 584_788, 0, 0]), Verdict::Allow);
    assert_eq!(verdict(&c, "fchownat", [0, 0, 0, 584_788, 0, 0]), EPERM);
    assert_eq!(verdict(&c, "fchown", [3, 0, m64, 0, 0, 0]), Verdict::Allow);
    assert_eq!(verdict(&c, "fchown", [3, 0, m32, 0, 0, 0]), Verdict::Allow);
    assert_eq!(verdict(&c, "fchown", [3, 0, 0, 0, 0, 0]), EPERM);
}

#[test]
fn unknown_users_are_errors_on_their_line() {
    let e = compile_text("read\nsetuid u:nobody_here\n", &options(Format::Bin2), &mut ids())
        .err()
        .unwrap();
    assert_eq!(e.to_string(), "cannot parse line 2: cannot find user \"nobody_here\"");
    let e = compile_text("setgid g:nogroup\n", &options(Format::Bin2), &mut ids())
        .err()
        .unwrap();
    assert_eq!(e.to_string(), "cannot parse line 1: cannot find group \"nogroup\"");
    // Lines for unknown system calls are skipped before their names are
    // looked up, as snapd does.
    compile_text("no_such_call u:nobody_here\n", &options(Format::Bin2), &mut ids()).unwrap();
}

#[test]
fn unknown_system_calls_are_ignored() {
    // Names libseccomp knows for some architecture only are not ignored:
    // they apply where the call exists (socketcall on x86, not x86-64).
    let c = compile("read\nno_such_call 1 2\n~also_not_a_call\nsocketcall\n");
    let ignored: Vec<(usize, &str)> = c.build.ignored.iter().map(|i| (i.line, i.syscall.as_str())).collect();
    assert_eq!(ignored, vec![(2, "no_such_call"), (3, "also_not_a_call")]);
    assert_eq!(call(&c, "read"), Verdict::Allow);
}

#[cfg(target_arch = "x86_64")]
#[test]
fn compat_arch_is_filtered_too() {
    let c = compile("read\n~ioctl - TIOCSTI\nioctl\n");
    let x86 = |name: &str, args| {
        let n = ScmpSyscall::from_name_by_arch(name, ScmpArch::X86)
            .unwrap()
            .as_raw_syscall();
        bpf::evaluate(&c.policy, &SeccompData::new(bpf::AUDIT_ARCH_I386, n, args)).unwrap()
    };
    assert_eq!(x86("read", [0; 6]), Verdict::Allow);
    assert_eq!(x86("open", [0; 6]), EPERM);
    assert_eq!(x86("ioctl", [0, libc::TIOCSTI as u64, 0, 0, 0, 0]), EACCES);
    // Other architectures are killed.
    let arm = bpf::evaluate(&c.policy, &SeccompData::new(bpf::AUDIT_ARCH_AARCH64, 63, [0; 6])).unwrap();
    assert_eq!(arm, Verdict::KillThread);

    let native_only = Options::with_arches(Format::Bin2, None);
    let c = compile_text("read\n", &native_only, &mut ids()).unwrap();
    let n = ScmpSyscall::from_name_by_arch("read", ScmpArch::X86)
        .unwrap()
        .as_raw_syscall();
    let v = bpf::evaluate(&c.policy, &SeccompData::new(bpf::AUDIT_ARCH_I386, n, [0; 6])).unwrap();
    assert_eq!(v, Verdict::KillThread);
}

#[test]
fn complain_mode_logs_but_keeps_denials() {
    let c = compile("@complain\nread\n~ioctl - TIOCSTI\n");
    if c.build.complain_without_log {
        assert_eq!(call(&c, "openat"), Verdict::Allow);
    } else {
        assert_eq!(call(&c, "openat"), Verdict::Log);
    }
    assert_eq!(call(&c, "read"), Verdict::Allow);
    assert_eq!(verdict(&c, "ioctl", [0, libc::TIOCSTI as u64, 0, 0, 0, 0]), EACCES);
}

#[test]
fn unrestricted_is_header_only() {
    let c = compile("@unrestricted\nread\n~ioctl\nthis line is not even checked\n");
    assert!(c.build.is_unrestricted());
    assert_eq!(c.policy, Policy::Unrestricted);
    assert_eq!(c.bytes.len(), policy_cache::HEADER_LEN);
    assert_eq!(c.bytes[3], 1);
    assert_eq!(policy_cache::parse_bin2(&c.bytes), Ok(Policy::Unrestricted));

    let c = compile_text("@unrestricted\n~ioctl\n", &options(Format::Bin), &mut ids()).unwrap();
    assert_eq!(c.bytes, b"@unrestricted\n");
}

#[test]
fn unrestricted_files_are_not_checked_further() {
    // As with snapd, the rest of an unrestricted file does not matter.
    let c = compile_text(
        "@unrestricted\nread 1 2 3 4 5 6 7\n",
        &options(Format::Bin2),
        &mut ids(),
    )
    .unwrap();
    assert_eq!(c.policy, Policy::Unrestricted);
}

#[test]
fn bin2_round_trips() {
    let c = compile("read\n~ioctl - TIOCSTI\n");
    assert_eq!(policy_cache::parse_bin2(&c.bytes).unwrap(), c.policy);
    let (allow, deny) = split_programs(&c.bytes).unwrap();
    let Policy::Filtered {
        allow: a,
        deny: Some(d),
    } = &c.policy
    else {
        panic!()
    };
    assert_eq!(allow, a.to_bytes());
    assert_eq!(deny, d.to_bytes());
}

#[test]
fn an_empty_policy_still_has_two_programs() {
    let c = compile("# nothing\n");
    let Policy::Filtered {
        allow,
        deny: Some(deny),
    } = &c.policy
    else {
        panic!()
    };
    assert!(allow.byte_len() > 0 && deny.byte_len() > 0);
    assert_eq!(call(&c, "read"), EPERM);
}

#[test]
fn legacy_bin_format() {
    let c = compile_text("read\nsocket AF_UNIX\n", &options(Format::Bin), &mut ids()).unwrap();
    let Policy::Filtered { deny: None, allow } = &c.policy else {
        panic!()
    };
    assert_eq!(c.bytes, allow.to_bytes());
    assert_eq!(call(&c, "read"), Verdict::Allow);
    assert_eq!(call(&c, "write"), EPERM);
    let (a, d) = split_programs(&c.bytes).unwrap();
    assert_eq!(a, c.bytes);
    assert!(d.is_empty());

    let e = compile_text("read\n\n~ioctl - TIOCSTI\n", &options(Format::Bin), &mut ids())
        .err()
        .unwrap();
    assert_eq!(
        e.to_string(),
        "cannot compile line 3 to the .bin format: explicit denials (~) need the .bin2 format"
    );
    // Even when the denied call is unknown here: the file asks for a deny
    // program the format cannot hold.
    assert!(compile_text("~no_such_call\n", &options(Format::Bin), &mut ids()).is_err());
}

#[test]
fn same_input_same_bytes() {
    let text = "read\nwrite\nsocket AF_INET\nsocket AF_UNIX\n~ioctl - TIOCSTI\nioctl\n";
    assert_eq!(compile(text).bytes, compile(text).bytes);
}

#[test]
fn compile_file_writes_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("snap.x.y.src");
    let out = dir.path().join("snap.x.y.bin2");
    std::fs::write(&src, "read\n").unwrap();
    let c = compile_file(&src, &out, &options(Format::Bin2), &mut ids()).unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), c.bytes);
    let e = compile_file(
        &dir.path().join("missing.src"),
        &out,
        &options(Format::Bin2),
        &mut ids(),
    )
    .err()
    .unwrap();
    assert!(e.to_string().starts_with("cannot read "), "{e}");
    std::fs::write(&src, b"read\n\xff\n").unwrap();
    let e = compile_file(&src, &out, &options(Format::Bin2), &mut ids())
        .err()
        .unwrap();
    assert!(e.to_string().contains("not UTF-8"), "{e}");
}

#[test]
fn pfc_output_mentions_the_rules() {
    let c = compile("read\n~ioctl - TIOCSTI\n");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pfc");
    let file = std::fs::File::create(&path).unwrap();
    c.build.write_pfc(&file).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("ERRNO(13)"), "{text}");
    assert!(text.contains("ERRNO(1)"), "{text}");
}
