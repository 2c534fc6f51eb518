//! confine-probe: runs inside a sandbox and reports what it sees, one
//! `key=value` line per fact, so tests can check the sandbox from inside.
//!
//! ```text
//! confine-probe report                 ids, capabilities, seccomp, label, fds, cwd, umask, namespace
//! confine-probe env                    the environment, one variable per line
//! confine-probe try NAME...            runs probe system calls, prints NAME=ok or NAME=<ERRNO>
//! confine-probe read PATH...           read:PATH=ok|<ERRNO>
//! confine-probe write PATH...          write:PATH=ok|<ERRNO> (creates or appends)
//! confine-probe attach PID             attach=ok|<ERRNO> (PTRACE_SEIZE, released at exit)
//! confine-probe sandbox                a human-readable summary
//! ```
#![deny(clippy::unwrap_used)]
#![allow(clippy::indexing_slicing)]

use std::io::Write;

fn errno_name(e: i32) -> String {
    let name = match e {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::EACCES => "EACCES",
        libc::EINVAL => "EINVAL",
        libc::ENOTTY => "ENOTTY",
        libc::EBADF => "EBADF",
        libc::ENOSYS => "ENOSYS",
        libc::EROFS => "EROFS",
        libc::EEXIST => "EEXIST",
        libc::ENOTDIR => "ENOTDIR",
        libc::EISDIR => "EISDIR",
        libc::EFAULT => "EFAULT",
        libc::ELOOP => "ELOOP",
        libc::ENXIO => "ENXIO",
        libc::ESRCH => "ESRCH",
        libc::EAFNOSUPPORT => "EAFNOSUPPORT",
        libc::ECONNREFUSED => "ECONNREFUSED",
        _ => return format!("errno{e}"),
    };
    name.to_string()
}

/// `ok`, or the name of the error.
fn io_verdict<T>(r: std::io::Result<T>) -> String {
    match r {
        Ok(_) => "ok".to_string(),
        Err(e) => errno_name(e.raw_os_error().unwrap_or(0)),
    }
}

fn last_errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn verdict(r: i64) -> String {
    if r < 0 {
        errno_name(last_errno())
    } else {
        "ok".to_string()
    }
}

/// The probe system calls, each harmless when allowed. Every call below
/// passes only integers or pointers to locals that outlive the call.
fn try_call(name: &str) -> Option<String> {
    // TCP through std: a listening socket on a free port, a connection to
    // the discard port (refused when nothing listens, which still means the
    // sandbox let the connect through).
    match name {
        // A thread: glibc tries clone3 first and falls back to clone only
        // when clone3 fails with ENOSYS.
        "thread" => return Some(if std::thread::spawn(|| ()).join().is_ok() { "ok".into() } else { "failed".into() }),
        "bind_tcp" => return Some(io_verdict(std::net::TcpListener::bind("127.0.0.1:0"))),
        "connect_tcp" => return Some(io_verdict(std::net::TcpStream::connect("127.0.0.1:9"))),
        _ => {}
    }
    let mut fds = [0i32; 2];
    // SAFETY: pipe2 writes two ints into `fds`, which has room for two.
    let piped = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } == 0;
    let c: u8 = b'x';
    let high_tiocsti = libc::TIOCSTI | (1u64 << 32);
    let fifo = c"/tmp/.confine-probe-fifo";
    let r: i64 = match name {
        // SAFETY: no arguments.
        "getppid" => i64::from(unsafe { libc::getppid() }),
        // SAFETY: integer argument; unshare(0) changes nothing.
        "unshare0" => i64::from(unsafe { libc::unshare(0) }),
        // SAFETY: integer argument.
        "getpgid" => i64::from(unsafe { libc::getpgid(0) }),
        // SAFETY: `c` outlives the call; the pipe is not a tty, so nothing is injected.
        "tiocsti" if piped => i64::from(unsafe { libc::ioctl(fds[0], libc::TIOCSTI, &c) }),
        // SAFETY: as above, with the request's high 32 bits set.
        "tiocsti_high" if piped => unsafe { libc::syscall(libc::SYS_ioctl, fds[0], high_tiocsti, &c as *const u8) },
        // SAFETY: integer arguments.
        "socket_unix" => unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_DGRAM, 0) }.into(),
        // SAFETY: integer arguments.
        "socket_inet" => unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM, 0) }.into(),
        // SAFETY: `fifo` is a NUL-terminated constant.
        "mknod_fifo" => unsafe { libc::mknod(fifo.as_ptr(), libc::S_IFIFO | 0o600, 0) }.into(),
        // SAFETY: a NUL-terminated constant.
        "chroot" => unsafe { libc::chroot(c"/".as_ptr()) }.into(),
        "signal_parent" => {
            let parent = std::os::unix::process::parent_id() as i32;
            // SAFETY: integer arguments; signal 0 only checks that it may be sent.
            i64::from(unsafe { libc::kill(parent, 0) })
        }
        // SAFETY: integer argument.
        "setuid0" => unsafe { libc::setuid(0) }.into(),
        "ptrace_parent" => {
            let parent = std::os::unix::process::parent_id() as i32;
            // SAFETY: integer arguments. PTRACE_SEIZE does not stop the
            // tracee, and the kernel detaches when the probe exits.
            unsafe { libc::ptrace(libc::PTRACE_SEIZE, parent, 0, 0) }
        }
        // A child in new namespaces: it leaves at once; the verdict is
        // whether the kernel made it.
        "clone_newuser" => clone_child(libc::CLONE_NEWUSER as u64),
        "clone_newns" => clone_child(libc::CLONE_NEWNS as u64),
        "clone_newnet" => clone_child(libc::CLONE_NEWNET as u64),
        "clone_plain" => clone_child(0),
        "clone3_newuser" => clone3_child(libc::CLONE_NEWUSER as u64),
        "clone3_plain" => clone3_child(0),
        _ => return None,
    };
    let v = verdict(r);
    if name == "mknod_fifo" && r == 0 {
        // SAFETY: as above.
        unsafe { libc::unlink(fifo.as_ptr()) };
    }
    if piped {
        for fd in fds {
            // SAFETY: closing our own pipe descriptors.
            unsafe { libc::close(fd) };
        }
    }
    Some(v)
}

/// Waits for a child made by `clone_child` or `clone3_child`: 0 in the
/// child (which then leaves at once), the child's pid or -1 in the parent.
fn reap(r: i64) -> i64 {
    if r == 0 {
        // SAFETY: the child only leaves; _exit runs nothing of the parent's.
        unsafe { libc::_exit(0) }
    }
    if let Ok(pid) = i32::try_from(r) {
        if pid > 0 {
            let mut status = 0;
            // SAFETY: waits for our own child; `status` outlives the call.
            unsafe { libc::waitpid(pid, &mut status, 0) };
        }
    }
    r
}

/// `clone(flags | SIGCHLD)` without a new stack: like fork.
fn clone_child(flags: u64) -> i64 {
    // SAFETY: with a null stack the child runs on a copy of ours, as after
    // fork, and `reap` makes it leave at once; the probe has one thread.
    reap(unsafe { libc::syscall(libc::SYS_clone, flags | libc::SIGCHLD as u64, 0, 0, 0, 0) })
}

/// `clone3` with `flags` and SIGCHLD, without a new stack: like fork.
fn clone3_child(flags: u64) -> i64 {
    // struct clone_args: flags, pidfd, child_tid, parent_tid, exit_signal,
    // stack, stack_size, tls (CLONE_ARGS_SIZE_VER0 = 64 bytes).
    let args: [u64; 8] = [flags, 0, 0, 0, libc::SIGCHLD as u64, 0, 0, 0];
    // SAFETY: `args` outlives the call and has the size passed; the child
    // runs on a copy of our stack and leaves at once (see clone_child).
    reap(unsafe { libc::syscall(libc::SYS_clone3, args.as_ptr(), std::mem::size_of_val(&args)) })
}

fn read_file(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| format!("unavailable: {e}"))
}

fn status_field(status: &str, key: &str) -> String {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(':')))
        .map(|v| v.split_whitespace().collect::<Vec<_>>().join(","))
        .unwrap_or_else(|| "unknown".into())
}

fn label() -> String {
    for p in ["/proc/self/attr/apparmor/current", "/proc/self/attr/current"] {
        match std::fs::read_to_string(p) {
            Ok(s) => return s.trim_end_matches(['\n', '\0']).to_string(),
            Err(_) => continue,
        }
    }
    "none (no AppArmor in this kernel)".into()
}

fn open_fds() -> Vec<String> {
    // Collect the names first: the directory handle is an fd of its own.
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else { return out };
    let entries: Vec<_> = dir.flatten().map(|e| e.file_name()).collect();
    for name in entries {
        let name = name.to_string_lossy().into_owned();
        match std::fs::read_link(format!("/proc/self/fd/{name}")) {
            Ok(target) => out.push(format!("{name}:{}", target.display())),
            Err(_) => continue, // the read_dir handle, closed by now
        }
    }
    out.sort_by_key(|s| s.split(':').next().and_then(|n| n.parse::<u32>().ok()).unwrap_or(u32::MAX));
    out
}

fn report(out: &mut impl Write) -> std::io::Result<()> {
    let status = read_file("/proc/self/status");
    let mut ids = [0u32; 3];
    let mut gids = [0u32; 3];
    // SAFETY: getresuid/getresgid write three ids into the arrays.
    unsafe {
        libc::getresuid(&mut ids[0], &mut ids[1], &mut ids[2]);
    }
    // SAFETY: as above.
    unsafe {
        libc::getresgid(&mut gids[0], &mut gids[1], &mut gids[2]);
    }
    // SAFETY: umask has no memory effects; we restore the value at once.
    let mask = unsafe { libc::umask(0o022) };
    // SAFETY: as above.
    unsafe { libc::umask(mask) };
    writeln!(out, "label={}", label())?;
    writeln!(out, "uid={},{},{}", ids[0], ids[1], ids[2])?;
    writeln!(out, "gid={},{},{}", gids[0], gids[1], gids[2])?;
    writeln!(out, "groups={}", status_field(&status, "Groups"))?;
    for key in ["CapInh", "CapPrm", "CapEff", "CapAmb", "CapBnd", "Seccomp", "Seccomp_filters", "NoNewPrivs"] {
        writeln!(out, "{}={}", key.to_lowercase(), status_field(&status, key))?;
    }
    writeln!(out, "mnt_ns={}", std::fs::read_link("/proc/self/ns/mnt").map(|p| p.display().to_string()).unwrap_or_default())?;
    writeln!(out, "cwd={}", std::env::current_dir().map(|p| p.display().to_string()).unwrap_or_else(|e| e.to_string()))?;
    writeln!(out, "umask={mask:04o}")?;
    writeln!(out, "fds={}", open_fds().join(" "))?;
    writeln!(out, "tmp={}", std::fs::read_dir("/tmp").map(|d| d.count()).unwrap_or(0))?;
    Ok(())
}

/// Where the /tmp the app sees comes from: the root of its topmost mount.
fn tmp_source() -> String {
    let info = match std::fs::read_to_string("/proc/self/mountinfo") {
        Ok(info) => info,
        Err(e) => return format!("unknown (/proc/self/mountinfo: {})", errno_name(e.raw_os_error().unwrap_or(0))),
    };
    let last = info.lines().rev().find(|l| l.split(' ').nth(4) == Some("/tmp"));
    match last.and_then(|l| l.split(' ').nth(3)) {
        Some("/") => "the host's /tmp (not private)".into(),
        Some(root) => format!("private ({root})"),
        None => "the root filesystem's /tmp".into(),
    }
}

/// Which device nodes can be opened for reading.
fn device_access() -> Vec<String> {
    ["/dev/null", "/dev/zero", "/dev/urandom", "/dev/tty", "/dev/mem", "/dev/kmsg", "/dev/loop0"]
        .iter()
        .map(|d| format!("{}={}", d.trim_start_matches("/dev/"), io_verdict(std::fs::File::open(d))))
        .collect()
}

/// What a few reads of the file system give: the mark of Landlock (or of
/// AppArmor) where permissions alone would allow them.
fn file_access() -> Vec<String> {
    let reads = ["/etc/os-release", "/etc/hostname", "/etc/shadow"].iter().map(|p| format!("{p}={}", io_verdict(std::fs::read(p))));
    let lists = ["/", "/home", "/root"].iter().map(|p| format!("ls {p}={}", io_verdict(std::fs::read_dir(p))));
    reads.chain(lists).collect()
}

fn sandbox(out: &mut impl Write) -> std::io::Result<()> {
    let status = read_file("/proc/self/status");
    let seccomp = match status_field(&status, "Seccomp").as_str() {
        "0" => "off".to_string(),
        "1" => "strict".to_string(),
        "2" => format!("filter ({} filters)", status_field(&status, "Seccomp_filters")),
        other => other.to_string(),
    };
    let mut r = Vec::new();
    report(&mut r)?;
    let text = String::from_utf8_lossy(&r).into_owned();
    let get = |k: &str| text.lines().find_map(|l| l.strip_prefix(&format!("{k}="))).unwrap_or("").to_string();
    writeln!(out, "AppArmor label : {}", get("label"))?;
    writeln!(out, "seccomp        : {seccomp}")?;
    writeln!(out, "user ids       : {}  group ids: {}", get("uid"), get("gid"))?;
    writeln!(out, "capabilities   : eff={} prm={} inh={} amb={}", get("capeff"), get("capprm"), get("capinh"), get("capamb"))?;
    writeln!(out, "mount namespace: {}", get("mnt_ns"))?;
    writeln!(out, "working dir    : {}", get("cwd"))?;
    writeln!(out, "open fds       : {}", get("fds"))?;
    let mut probes = Vec::new();
    for name in ["unshare0", "tiocsti", "chroot", "ptrace_parent"] {
        probes.push(format!("{name}={}", try_call(name).unwrap_or_default()));
    }
    writeln!(out, "denied calls   : {}", probes.join(" "))?;
    writeln!(out, "/tmp           : {}", tmp_source())?;
    writeln!(out, "devices        : {}", device_access().join(" "))?;
    writeln!(out, "files          : {}", file_access().join(" "))?;
    let pts: Vec<String> = std::fs::read_dir("/dev/pts")
        .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    writeln!(out, "/dev/pts       : {}", if pts.is_empty() { "(empty)".to_string() } else { pts.join(" ") })?;
    for var in ["SNAP_INSTANCE_NAME", "SNAP_COOKIE", "PATH", "TMPDIR", "HOME"] {
        writeln!(out, "{var:<15}: {}", std::env::var(var).unwrap_or_else(|_| "(unset)".into()))?;
    }
    Ok(())
}

fn run() -> std::io::Result<i32> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let (cmd, rest) = match args.split_first() {
        Some((c, r)) => (c.as_str(), r),
        None => ("sandbox", &[][..]),
    };
    match cmd {
        "report" => report(&mut out)?,
        "sandbox" => sandbox(&mut out)?,
        "env" => {
            for (k, v) in std::env::vars_os() {
                writeln!(out, "{}={}", k.to_string_lossy(), v.to_string_lossy())?;
            }
        }
        "try" => {
            for name in rest {
                match try_call(name) {
                    Some(v) => writeln!(out, "{name}={v}")?,
                    None => {
                        eprintln!("confine-probe: unknown probe {name}");
                        return Ok(2);
                    }
                }
            }
        }
        "read" => {
            for p in rest {
                writeln!(out, "read:{p}={}", io_verdict(std::fs::read(p)))?;
            }
        }
        "list" => {
            for p in rest {
                writeln!(out, "list:{p}={}", io_verdict(std::fs::read_dir(p)))?;
            }
        }
        "write" => {
            for p in rest {
                let v = match std::fs::OpenOptions::new().create(true).append(true).open(p) {
                    Ok(mut f) => match f.write_all(b"probe\n") {
                        Ok(()) => "ok".to_string(),
                        Err(e) => errno_name(e.raw_os_error().unwrap_or(0)),
                    },
                    Err(e) => errno_name(e.raw_os_error().unwrap_or(0)),
                };
                writeln!(out, "write:{p}={v}")?;
            }
        }
        "attach" => {
            let pid: i32 = rest.first().and_then(|p| p.parse().ok()).unwrap_or(0);
            // SAFETY: integer arguments. PTRACE_SEIZE does not stop the
            // tracee, and the kernel detaches when the probe exits.
            let r = unsafe { libc::ptrace(libc::PTRACE_SEIZE, pid, 0, 0) };
            writeln!(out, "attach={}", verdict(r))?;
        }
        "--help" | "help" => writeln!(out, "usage: confine-probe [report|env|sandbox|try NAME...|read PATH...|list DIR...|write PATH...]")?,
        other => {
            eprintln!("confine-probe: unknown command {other}");
            return Ok(2);
        }
    }
    Ok(0)
}

fn main() {
    let code = match run() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("confine-probe: {e}");
            1
        }
    };
    std::process::exit(code);
}
