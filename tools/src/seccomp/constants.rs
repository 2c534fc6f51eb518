//! Symbolic names a `.src` policy may use in place of numbers.
//!
//! This is a data table and nothing else. Values that are the same on every
//! Linux architecture are written out as numbers (from the kernel's UAPI
//! headers); values that differ between architectures (socket types, open
//! flags, tty ioctls) come from the `libc` crate so that they match the
//! architecture the compiler is built for, which is also the architecture of
//! the filter's native syscall table.
//!
//! `AF_*` and `PF_*` are synonyms in the kernel; both spellings are listed so
//! a policy can use either.

/// Looks a symbolic name up. Names are case-sensitive.
pub fn lookup(name: &str) -> Option<u64> {
    CONSTANTS.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

/// Every name the compiler knows, with its value.
pub fn all() -> &'static [(&'static str, u64)] {
    CONSTANTS
}

// The casts are needed on 32-bit targets, where some libc types are 32 bits.
#[allow(clippy::unnecessary_cast)]
static CONSTANTS: &[(&str, u64)] = &[
    // Address and protocol families, socket(2) argument 0 (linux/socket.h).
    ("AF_UNSPEC", 0),
    ("PF_UNSPEC", 0),
    ("AF_UNIX", 1),
    ("PF_UNIX", 1),
    ("AF_LOCAL", 1),
    ("PF_LOCAL", 1),
    ("AF_INET", 2),
    ("PF_INET", 2),
    ("AF_AX25", 3),
    ("PF_AX25", 3),
    ("AF_IPX", 4),
    ("PF_IPX", 4),
    ("AF_APPLETALK", 5),
    ("PF_APPLETALK", 5),
    ("AF_NETROM", 6),
    ("PF_NETROM", 6),
    ("AF_BRIDGE", 7),
    ("PF_BRIDGE", 7),
    ("AF_ATMPVC", 8),
    ("PF_ATMPVC", 8),
    ("AF_X25", 9),
    ("PF_X25", 9),
    ("AF_INET6", 10),
    ("PF_INET6", 10),
    ("AF_ROSE", 11),
    ("PF_ROSE", 11),
    ("AF_DECnet", 12),
    ("PF_DECnet", 12),
    ("AF_NETBEUI", 13),
    ("PF_NETBEUI", 13),
    ("AF_SECURITY", 14),
    ("PF_SECURITY", 14),
    ("AF_KEY", 15),
    ("PF_KEY", 15),
    ("AF_NETLINK", 16),
    ("PF_NETLINK", 16),
    ("AF_ROUTE", 16),
    ("PF_ROUTE", 16),
    ("AF_PACKET", 17),
    ("PF_PACKET", 17),
    ("AF_ASH", 18),
    ("PF_ASH", 18),
    ("AF_ECONET", 19),
    ("PF_ECONET", 19),
    ("AF_ATMSVC", 20),
    ("PF_ATMSVC", 20),
    ("AF_RDS", 21),
    ("PF_RDS", 21),
    ("AF_SNA", 22),
    ("PF_SNA", 22),
    ("AF_IRDA", 23),
    ("PF_IRDA", 23),
    ("AF_PPPOX", 24),
    ("PF_PPPOX", 24),
    ("AF_WANPIPE", 25),
    ("PF_WANPIPE", 25),
    ("AF_LLC", 26),
    ("PF_LLC", 26),
    ("AF_IB", 27),
    ("PF_IB", 27),
    ("AF_MPLS", 28),
    ("PF_MPLS", 28),
    ("AF_CAN", 29),
    ("PF_CAN", 29),
    ("AF_TIPC", 30),
    ("PF_TIPC", 30),
    ("AF_BLUETOOTH", 31),
    ("PF_BLUETOOTH", 31),
    ("AF_IUCV", 32),
    ("PF_IUCV", 32),
    ("AF_RXRPC", 33),
    ("PF_RXRPC", 33),
    ("AF_ISDN", 34),
    ("PF_ISDN", 34),
    ("AF_PHONET", 35),
    ("PF_PHONET", 35),
    ("AF_IEEE802154", 36),
    ("PF_IEEE802154", 36),
    ("AF_CAIF", 37),
    ("PF_CAIF", 37),
    ("AF_ALG", 38),
    ("PF_ALG", 38),
    ("AF_NFC", 39),
    ("PF_NFC", 39),
    ("AF_VSOCK", 40),
    ("PF_VSOCK", 40),
    ("AF_KCM", 41),
    ("PF_KCM", 41),
    ("AF_QIPCRTR", 42),
    ("PF_QIPCRTR", 42),
    ("AF_SMC", 43),
    ("PF_SMC", 43),
    ("AF_XDP", 44),
    ("PF_XDP", 44),
    ("AF_MCTP", 45),
    ("PF_MCTP", 45),
    // Not a kernel family: the number the userspace SCTP stack (usrsctp)
    // uses; kept because policies name it to exclude it.
    ("AF_CONN", 123),
    ("PF_CONN", 123),
    // Socket types and type flags, socket(2) argument 1. These differ on
    // some architectures (MIPS swaps STREAM and DGRAM).
    ("SOCK_STREAM", libc::SOCK_STREAM as u64),
    ("SOCK_DGRAM", libc::SOCK_DGRAM as u64),
    ("SOCK_RAW", libc::SOCK_RAW as u64),
    ("SOCK_RDM", libc::SOCK_RDM as u64),
    ("SOCK_SEQPACKET", libc::SOCK_SEQPACKET as u64),
    ("SOCK_DCCP", libc::SOCK_DCCP as u64),
    ("SOCK_PACKET", 10),
    ("SOCK_NONBLOCK", libc::SOCK_NONBLOCK as u64),
    ("SOCK_CLOEXEC", libc::SOCK_CLOEXEC as u64),
    // Netlink protocols, socket(AF_NETLINK, type, protocol) argument 2
    // (linux/netlink.h).
    ("NETLINK_ROUTE", 0),
    ("NETLINK_UNUSED", 1),
    ("NETLINK_USERSOCK", 2),
    ("NETLINK_FIREWALL", 3),
    ("NETLINK_SOCK_DIAG", 4),
    ("NETLINK_INET_DIAG", 4),
    ("NETLINK_NFLOG", 5),
    ("NETLINK_XFRM", 6),
    ("NETLINK_SELINUX", 7),
    ("NETLINK_ISCSI", 8),
    ("NETLINK_AUDIT", 9),
    ("NETLINK_FIB_LOOKUP", 10),
    ("NETLINK_CONNECTOR", 11),
    ("NETLINK_NETFILTER", 12),
    ("NETLINK_IP6_FW", 13),
    ("NETLINK_DNRTMSG", 14),
    ("NETLINK_KOBJECT_UEVENT", 15),
    ("NETLINK_GENERIC", 16),
    ("NETLINK_SCSITRANSPORT", 18),
    ("NETLINK_ECRYPTFS", 19),
    ("NETLINK_RDMA", 20),
    ("NETLINK_CRYPTO", 21),
    ("NETLINK_SMC", 22),
    // prctl(2) options (linux/prctl.h).
    ("PR_SET_PDEATHSIG", 1),
    ("PR_GET_PDEATHSIG", 2),
    ("PR_GET_DUMPABLE", 3),
    ("PR_SET_DUMPABLE", 4),
    ("PR_GET_UNALIGN", 5),
    ("PR_SET_UNALIGN", 6),
    ("PR_GET_KEEPCAPS", 7),
    ("PR_SET_KEEPCAPS", 8),
    ("PR_GET_FPEMU", 9),
    ("PR_SET_FPEMU", 10),
    ("PR_GET_FPEXC", 11),
    ("PR_SET_FPEXC", 12),
    ("PR_GET_TIMING", 13),
    ("PR_SET_TIMING", 14),
    ("PR_SET_NAME", 15),
    ("PR_GET_NAME", 16),
    ("PR_GET_ENDIAN", 19),
    ("PR_SET_ENDIAN", 20),
    ("PR_GET_SECCOMP", 21),
    ("PR_SET_SECCOMP", 22),
    ("PR_CAPBSET_READ", 23),
    ("PR_CAPBSET_DROP", 24),
    ("PR_GET_TSC", 25),
    ("PR_SET_TSC", 26),
    ("PR_GET_SECUREBITS", 27),
    ("PR_SET_SECUREBITS", 28),
    ("PR_SET_TIMERSLACK", 29),
    ("PR_GET_TIMERSLACK", 30),
    ("PR_TASK_PERF_EVENTS_DISABLE", 31),
    ("PR_TASK_PERF_EVENTS_ENABLE", 32),
    ("PR_MCE_KILL", 33),
    ("PR_MCE_KILL_GET", 34),
    ("PR_SET_MM", 35),
    ("PR_SET_CHILD_SUBREAPER", 36),
    ("PR_GET_CHILD_SUBREAPER", 37),
    ("PR_SET_NO_NEW_PRIVS", 38),
    ("PR_GET_NO_NEW_PRIVS", 39),
    ("PR_GET_TID_ADDRESS", 40),
    ("PR_SET_THP_DISABLE", 41),
    ("PR_GET_THP_DISABLE", 42),
    ("PR_MPX_ENABLE_MANAGEMENT", 43),
    ("PR_MPX_DISABLE_MANAGEMENT", 44),
    ("PR_SET_FP_MODE", 45),
    ("PR_GET_FP_MODE", 46),
    ("PR_CAP_AMBIENT", 47),
    ("PR_SVE_SET_VL", 50),
    ("PR_SVE_GET_VL", 51),
    ("PR_GET_SPECULATION_CTRL", 52),
    ("PR_SET_SPECULATION_CTRL", 53),
    ("PR_PAC_RESET_KEYS", 54),
    ("PR_SET_TAGGED_ADDR_CTRL", 55),
    ("PR_GET_TAGGED_ADDR_CTRL", 56),
    ("PR_SET_IO_FLUSHER", 57),
    ("PR_GET_IO_FLUSHER", 58),
    ("PR_SET_SYSCALL_USER_DISPATCH", 59),
    ("PR_PAC_SET_ENABLED_KEYS", 60),
    ("PR_PAC_GET_ENABLED_KEYS", 61),
    ("PR_SCHED_CORE", 62),
    ("PR_SET_MDWE", 65),
    ("PR_GET_MDWE", 66),
    ("PR_SET_MEMORY_MERGE", 67),
    ("PR_GET_MEMORY_MERGE", 68),
    ("PR_SET_PTRACER", 0x5961_6d61),
    ("PR_SET_VMA", 0x5356_4d41),
    ("PR_GET_AUXV", 0x4155_5856),
    // PR_CAP_AMBIENT sub-commands.
    ("PR_CAP_AMBIENT_IS_SET", 1),
    ("PR_CAP_AMBIENT_RAISE", 2),
    ("PR_CAP_AMBIENT_LOWER", 3),
    ("PR_CAP_AMBIENT_CLEAR_ALL", 4),
    // PR_SET_MM sub-commands.
    ("PR_SET_MM_START_CODE", 1),
    ("PR_SET_MM_END_CODE", 2),
    ("PR_SET_MM_START_DATA", 3),
    ("PR_SET_MM_END_DATA", 4),
    ("PR_SET_MM_START_STACK", 5),
    ("PR_SET_MM_START_BRK", 6),
    ("PR_SET_MM_BRK", 7),
    ("PR_SET_MM_ARG_START", 8),
    ("PR_SET_MM_ARG_END", 9),
    ("PR_SET_MM_ENV_START", 10),
    ("PR_SET_MM_ENV_END", 11),
    ("PR_SET_MM_AUXV", 12),
    ("PR_SET_MM_EXE_FILE", 13),
    ("PR_SET_MM_MAP", 14),
    ("PR_SET_MM_MAP_SIZE", 15),
    // getpriority(2) / setpriority(2) "which".
    ("PRIO_PROCESS", 0),
    ("PRIO_PGRP", 1),
    ("PRIO_USER", 2),
    // Namespace flags, clone(2) / unshare(2) / setns(2) (linux/sched.h).
    ("CLONE_NEWTIME", 0x0000_0080),
    ("CLONE_NEWNS", 0x0002_0000),
    ("CLONE_NEWCGROUP", 0x0200_0000),
    ("CLONE_NEWUTS", 0x0400_0000),
    ("CLONE_NEWIPC", 0x0800_0000),
    ("CLONE_NEWUSER", 0x1000_0000),
    ("CLONE_NEWPID", 0x2000_0000),
    ("CLONE_NEWNET", 0x4000_0000),
    // Terminal ioctl requests (architecture dependent).
    ("TIOCSTI", libc::TIOCSTI as u64),
    ("TIOCLINUX", libc::TIOCLINUX as u64),
    // quotactl(2) commands (linux/quota.h, linux/dqblk_xfs.h).
    ("Q_SYNC", 0x80_0001),
    ("Q_QUOTAON", 0x80_0002),
    ("Q_QUOTAOFF", 0x80_0003),
    ("Q_GETFMT", 0x80_0004),
    ("Q_GETINFO", 0x80_0005),
    ("Q_SETINFO", 0x80_0006),
    ("Q_GETQUOTA", 0x80_0007),
    ("Q_SETQUOTA", 0x80_0008),
    ("Q_GETNEXTQUOTA", 0x80_0009),
    ("Q_XQUOTAON", 0x5801),
    ("Q_XQUOTAOFF", 0x5802),
    ("Q_XGETQUOTA", 0x5803),
    ("Q_XSETQLIM", 0x5804),
    ("Q_XGETQSTAT", 0x5805),
    ("Q_XQUOTARM", 0x5806),
    ("Q_XQUOTASYNC", 0x5807),
    // File type bits, mknod(2) mode (octal in the headers).
    ("S_IFIFO", 0o010_000),
    ("S_IFCHR", 0o020_000),
    ("S_IFDIR", 0o040_000),
    ("S_IFBLK", 0o060_000),
    ("S_IFREG", 0o100_000),
    ("S_IFLNK", 0o120_000),
    ("S_IFSOCK", 0o140_000),
    // Special permission bits, chmod(2) / open(2) / mknod(2) mode.
    ("S_ISUID", 0o4000),
    ("S_ISGID", 0o2000),
    ("S_ISVTX", 0o1000),
    // ptrace(2) requests (linux/ptrace.h; the register requests exist only
    // on some architectures but their numbers are not reused elsewhere).
    ("PTRACE_TRACEME", 0),
    ("PTRACE_PEEKTEXT", 1),
    ("PTRACE_PEEKDATA", 2),
    ("PTRACE_PEEKUSER", 3),
    ("PTRACE_PEEKUSR", 3),
    ("PTRACE_POKETEXT", 4),
    ("PTRACE_POKEDATA", 5),
    ("PTRACE_POKEUSER", 6),
    ("PTRACE_POKEUSR", 6),
    ("PTRACE_CONT", 7),
    ("PTRACE_KILL", 8),
    ("PTRACE_SINGLESTEP", 9),
    ("PTRACE_GETREGS", 12),
    ("PTRACE_SETREGS", 13),
    ("PTRACE_GETFPREGS", 14),
    ("PTRACE_SETFPREGS", 15),
    ("PTRACE_ATTACH", 16),
    ("PTRACE_DETACH", 17),
    ("PTRACE_GETFPXREGS", 18),
    ("PTRACE_SETFPXREGS", 19),
    ("PTRACE_SYSCALL", 24),
    ("PTRACE_SETOPTIONS", 0x4200),
    ("PTRACE_GETEVENTMSG", 0x4201),
    ("PTRACE_GETSIGINFO", 0x4202),
    ("PTRACE_SETSIGINFO", 0x4203),
    ("PTRACE_GETREGSET", 0x4204),
    ("PTRACE_SETREGSET", 0x4205),
    ("PTRACE_SEIZE", 0x4206),
    ("PTRACE_INTERRUPT", 0x4207),
    ("PTRACE_LISTEN", 0x4208),
    ("PTRACE_PEEKSIGINFO", 0x4209),
    ("PTRACE_GETSIGMASK", 0x420a),
    ("PTRACE_SETSIGMASK", 0x420b),
    ("PTRACE_SECCOMP_GET_FILTER", 0x420c),
    ("PTRACE_SECCOMP_GET_METADATA", 0x420d),
    ("PTRACE_GET_SYSCALL_INFO", 0x420e),
    // kcmp(2) types (linux/kcmp.h).
    ("KCMP_FILE", 0),
    ("KCMP_VM", 1),
    ("KCMP_FILES", 2),
    ("KCMP_FS", 3),
    ("KCMP_SIGHAND", 4),
    ("KCMP_IO", 5),
    ("KCMP_SYSVSEM", 6),
    ("KCMP_EPOLL_TFD", 7),
    // open(2) flags (architecture dependent).
    ("O_CREAT", libc::O_CREAT as u64),
    ("O_TMPFILE", libc::O_TMPFILE as u64),
    // pipe2(2): watch-queue pipes reuse the O_EXCL bit (linux/watch_queue.h).
    ("O_NOTIFICATION_PIPE", libc::O_EXCL as u64),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn names_are_unique_and_well_formed() {
        let mut seen = HashMap::new();
        for (name, value) in all() {
            assert!(seen.insert(*name, *value).is_none(), "{name} listed twice");
            assert!(name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'), "{name}");
            assert!(*value <= u64::from(u32::MAX), "{name} does not fit 32 bits");
        }
    }

    #[test]
    fn every_address_family_has_both_spellings() {
        for (name, value) in all() {
            if let Some(family) = name.strip_prefix("AF_") {
                assert_eq!(lookup(&format!("PF_{family}")), Some(*value), "{name}");
            }
            if let Some(family) = name.strip_prefix("PF_") {
                assert_eq!(lookup(&format!("AF_{family}")), Some(*value), "{name}");
            }
        }
    }

    #[test]
    fn values_match_libc_where_libc_has_them() {
        assert_eq!(lookup("AF_UNIX"), Some(libc::AF_UNIX as u64));
        assert_eq!(lookup("AF_INET6"), Some(libc::AF_INET6 as u64));
        assert_eq!(lookup("AF_NETLINK"), Some(libc::AF_NETLINK as u64));
        assert_eq!(lookup("AF_VSOCK"), Some(libc::AF_VSOCK as u64));
        assert_eq!(lookup("AF_XDP"), Some(libc::AF_XDP as u64));
        assert_eq!(lookup("PR_SET_NO_NEW_PRIVS"), Some(libc::PR_SET_NO_NEW_PRIVS as u64));
        assert_eq!(lookup("PR_SET_PTRACER"), Some(libc::PR_SET_PTRACER as u64));
        assert_eq!(lookup("PR_CAP_AMBIENT"), Some(libc::PR_CAP_AMBIENT as u64));
        assert_eq!(lookup("PR_SET_MM_EXE_FILE"), Some(libc::PR_SET_MM_EXE_FILE as u64));
        assert_eq!(lookup("CLONE_NEWUSER"), Some(libc::CLONE_NEWUSER as u64));
        assert_eq!(lookup("CLONE_NEWCGROUP"), Some(libc::CLONE_NEWCGROUP as u64));
        assert_eq!(lookup("S_IFSOCK"), Some(u64::from(libc::S_IFSOCK)));
        assert_eq!(lookup("S_IFBLK"), Some(u64::from(libc::S_IFBLK)));
        assert_eq!(lookup("S_ISGID"), Some(u64::from(libc::S_ISGID)));
        assert_eq!(
            lookup("NETLINK_KOBJECT_UEVENT"),
            Some(libc::NETLINK_KOBJECT_UEVENT as u64)
        );
        assert_eq!(lookup("PRIO_USER"), Some(libc::PRIO_USER as u64));
        assert_eq!(lookup("Q_GETQUOTA"), Some(libc::Q_GETQUOTA as u64));
        assert_eq!(lookup("PTRACE_SEIZE"), Some(libc::PTRACE_SEIZE as u64));
        assert_eq!(lookup("PTRACE_GETREGSET"), Some(libc::PTRACE_GETREGSET as u64));
        assert_eq!(lookup("O_NOTIFICATION_PIPE"), Some(libc::O_EXCL as u64));
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn x86_64_values() {
        assert_eq!(lookup("TIOCSTI"), Some(0x5412));
        assert_eq!(lookup("TIOCLINUX"), Some(0x541c));
        assert_eq!(lookup("O_CREAT"), Some(0o100));
        assert_eq!(lookup("O_TMPFILE"), Some(0o20_200_000));
        assert_eq!(lookup("O_NOTIFICATION_PIPE"), Some(0o200));
        assert_eq!(lookup("SOCK_STREAM"), Some(1));
        assert_eq!(lookup("SOCK_DGRAM"), Some(2));
        assert_eq!(lookup("SOCK_NONBLOCK"), Some(0o4000));
        assert_eq!(lookup("SOCK_CLOEXEC"), Some(0o2_000_000));
    }

    #[test]
    fn unknown_names_and_case() {
        assert_eq!(lookup("AF_NOPE"), None);
        assert_eq!(lookup("af_unix"), None);
        assert_eq!(lookup(""), None);
    }
}
