//! `--strace` and `--trace-exec`, as `snap run` does them: the launcher is
//! started in a child that stops itself before its exec, strace (as root,
//! through sudo for a user, since it must follow the setuid launcher) is
//! attached to it from outside, and once attached the child goes on. So the
//! app starts exactly as it would untraced (its cgroup, its sandbox, the
//! caller's identity); only strace runs outside. The launcher's and
//! snap-exec's own calls are left out of `--strace`'s output unless its
//! options hold `--raw` (or send the output to a file with `-o`).

use super::{Error, Launch};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// System calls left out: they make strace hang or flood its output (the
/// list snapd uses).
pub const EXCLUDED: &str = "!select,pselect6,_newselect,clock_gettime,sigaltstack,gettid,gettimeofday,nanosleep";

fn err(msg: impl Into<String>) -> Error {
    Error(msg.into())
}

/// How strace is started: its path, behind sudo unless we are root.
fn strace_command(euid: u32) -> Result<Command, Error> {
    let find = |name: &str| ["/usr/bin", "/bin", "/usr/sbin", "/sbin"].iter().map(|d| format!("{d}/{name}")).find(|p| std::path::Path::new(p).is_file());
    let strace = find("strace").ok_or_else(|| err("cannot find strace: install it (apt-get install strace)"))?;
    if euid == 0 {
        return Ok(Command::new(strace));
    }
    let sudo = find("sudo").ok_or_else(|| {
        err("cannot trace the launch as a user without sudo: strace must run as root to follow the setuid launcher")
    })?;
    let mut c = Command::new(sudo);
    c.args(["--", &strace]);
    Ok(c)
}

/// Starts the launch in a child that stops itself (SIGSTOP) right before it
/// executes the launcher: `sh -c 'kill -STOP $$; exec "$0" "$@"'`.
fn start_stopped(launch: &Launch) -> Result<Child, Error> {
    let Some((program, args)) = launch.argv.split_first() else { return Err(err("cannot run: nothing to execute")) };
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg("kill -STOP $$; exec \"$0\" \"$@\"")
        .arg(program)
        .args(args)
        .env_clear()
        .envs(launch.env.iter().map(|(k, v)| (k, v)))
        .spawn()
        .map_err(|e| err(format!("cannot start the launch to trace: {e}")))?;
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    match nix::sys::wait::waitpid(pid, Some(nix::sys::wait::WaitPidFlag::WUNTRACED)) {
        Ok(nix::sys::wait::WaitStatus::Stopped(_, nix::sys::signal::Signal::SIGSTOP)) => Ok(child),
        other => {
            let _ = child.kill();
            let _ = child.wait();
            Err(err(format!("cannot start the launch to trace: the child did not stop ({other:?})")))
        }
    }
}

/// The pid tracing `pid`, from its `/proc/<pid>/status`.
fn tracer_of(pid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix("TracerPid:")).and_then(|v| v.trim().parse().ok()).filter(|p| *p != 0)
}

/// Waits until strace is attached to the stopped child, then lets it go on.
fn attach(child: &mut Child, strace: &mut Child) -> Result<(), Error> {
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(30);
    while tracer_of(pid).is_none() {
        if let Ok(Some(status)) = strace.try_wait() {
            return Err(err(format!("cannot trace the launch: strace ended before it attached ({status})")));
        }
        if Instant::now() > deadline {
            return Err(err("cannot trace the launch: strace did not attach in 30 s"));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGCONT)
        .map_err(|e| err(format!("cannot let the traced launch go on: {e}")))
}

/// Ends a failed trace: the stopped child is killed and reaped.
fn abandon(child: &mut Child, e: Error) -> Error {
    let _ = child.kill();
    let _ = child.wait();
    e
}

/// The exit code that reports `status` (128 + signal when killed).
pub fn exit_code(status: ExitStatus) -> u8 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => u8::try_from(c).unwrap_or(1),
        (None, Some(s)) => u8::try_from(128 + s).unwrap_or(1),
        _ => 1,
    }
}

/// Which lines of strace's output to show when not raw: strace's own
/// messages, and everything from the first `execve` after snap-exec's.
#[derive(Debug, Default)]
pub struct Filter {
    past_snap_exec: bool,
    showing: bool,
}

impl Filter {
    pub fn show(&mut self, line: &str) -> bool {
        if self.showing || line.starts_with("strace: ") {
            return true;
        }
        if line.contains("execve(") || line.contains("execveat(") {
            if self.past_snap_exec {
                self.showing = true;
                return true;
            }
            if line.contains("/snap-exec\"") && !line.contains("= -1") {
                self.past_snap_exec = true;
            }
        }
        false
    }
}

/// `--strace[=OPTIONS]`: runs the launch under strace; returns the app's
/// exit code.
pub fn strace(launch: &Launch, options: &[String], euid: u32) -> Result<u8, Error> {
    let raw = options.iter().any(|o| o == "--raw" || o == "-o" || o == "--output" || o.starts_with("-o") || o.starts_with("--output="));
    let options: Vec<&String> = options.iter().filter(|o| *o != "--raw").collect();
    let mut cmd = strace_command(euid)?;
    let mut child = start_stopped(launch)?;
    cmd.args(["-f", "-e", EXCLUDED]).args(&options).args(["-p", &child.id().to_string()]);
    cmd.stdin(Stdio::null()).stderr(Stdio::piped());
    let mut tracer = match cmd.spawn() {
        Ok(t) => t,
        Err(e) => return Err(abandon(&mut child, err(format!("cannot start strace: {e}")))),
    };
    let stderr = tracer.stderr.take();
    // strace writes its trace on stderr: shown through the filter, from a
    // thread, while we wait for it to attach.
    let reader = std::thread::spawn(move || {
        let Some(stderr) = stderr else { return };
        let mut filter = Filter::default();
        let mut out = std::io::stderr();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if raw || filter.show(&line) {
                let _ = writeln!(out, "{line}");
            }
        }
    });
    if let Err(e) = attach(&mut child, &mut tracer) {
        let _ = tracer.kill();
        let _ = tracer.wait();
        let _ = reader.join();
        return Err(abandon(&mut child, e));
    }
    let _ = tracer.wait();
    let _ = reader.join();
    // strace ends with the traced processes; if it ended early, so does the app.
    let _ = child.kill();
    let status = child.wait().map_err(|e| err(format!("cannot wait for the app: {e}")))?;
    Ok(exit_code(status))
}

/// One program's run in `--trace-exec`'s table.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecTime {
    pub program: String,
    pub seconds: f64,
}

/// The times of each exec of a `strace -f -ttt -e trace=execve,execveat`
/// log: from one exec of a process to its next exec or its exit; the
/// `keep` slowest in the order they ran, and the time from the first line to
/// the last.
pub fn exec_times(log: &str, keep: usize) -> (Vec<ExecTime>, f64) {
    let mut running: std::collections::HashMap<String, (f64, String)> = Default::default();
    let mut done: Vec<ExecTime> = Vec::new();
    let (mut first, mut last) = (None, 0.0);
    for line in log.lines() {
        // `PID TIME CALL`, the pid padded with spaces (strace writes `%-5d`).
        let Some((pid, after)) = line.trim_start().split_once(' ') else { continue };
        let Some((time, rest)) = after.trim_start().split_once(' ') else { continue };
        let Ok(t) = time.parse::<f64>() else { continue };
        first.get_or_insert(t);
        last = t;
        let exec = if let Some(args) = rest.strip_prefix("execve(\"") {
            args.split('"').next().map(str::to_string)
        } else if rest.starts_with("execveat(") {
            rest.split_once("[\"").and_then(|(_, a)| a.split('"').next()).map(str::to_string)
        } else {
            None
        };
        let failed = rest.contains(" = -1 ");
        if let Some(program) = exec.filter(|_| !failed) {
            if let Some((start, prev)) = running.insert(pid.to_string(), (t, program)) {
                done.push(ExecTime { program: prev, seconds: t - start });
            }
        } else if rest.starts_with("+++ exited") || rest.starts_with("+++ killed") {
            if let Some((start, prev)) = running.remove(pid) {
                done.push(ExecTime { program: prev, seconds: t - start });
            }
        }
    }
    while done.len() > keep {
        let fastest = done.iter().enumerate().min_by(|a, b| a.1.seconds.total_cmp(&b.1.seconds)).map(|(i, _)| i).unwrap_or(0);
        done.remove(fastest);
    }
    (done, first.map(|f| last - f).unwrap_or(0.0))
}

/// `--trace-exec`: runs the launch under strace and prints how long each
/// program ran; returns the app's exit code.
pub fn trace_exec(launch: &Launch, euid: u32) -> Result<u8, Error> {
    let dir = nix::unistd::mkdtemp("/tmp/snap-run-trace.XXXXXX").map_err(|e| err(format!("cannot make a directory for the trace: {e}")))?;
    let result = trace_exec_into(launch, euid, &dir.join("exec.log"));
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn trace_exec_into(launch: &Launch, euid: u32, log: &std::path::Path) -> Result<u8, Error> {
    let mut cmd = strace_command(euid)?;
    let mut child = start_stopped(launch)?;
    cmd.args(["-q", "-f", "-ttt", "-e", "trace=execve,execveat", "-o"]).arg(log).args(["-p", &child.id().to_string()]);
    cmd.stdin(Stdio::null());
    let mut tracer = match cmd.spawn() {
        Ok(t) => t,
        Err(e) => return Err(abandon(&mut child, err(format!("cannot start strace: {e}")))),
    };
    if let Err(e) = attach(&mut child, &mut tracer) {
        let _ = tracer.kill();
        let _ = tracer.wait();
        return Err(abandon(&mut child, e));
    }
    let _ = tracer.wait();
    let _ = child.kill();
    let status = child.wait().map_err(|e| err(format!("cannot wait for the app: {e}")))?;
    let text = std::fs::read_to_string(log).map_err(|e| err(format!("cannot read the trace: {e}")))?;
    let (slowest, total) = exec_times(&text, 10);
    let mut out = std::io::stderr().lock();
    if !slowest.is_empty() {
        let _ = writeln!(out, "Slowest {} exec calls during snap run:", slowest.len());
        for e in &slowest {
            let _ = writeln!(out, "  {:.3}s {}", e.seconds, e.program);
        }
        let _ = writeln!(out, "Total time: {total:.3}s");
    }
    Ok(exit_code(status))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn the_filter_hides_the_launcher_and_snap_exec() {
        let lines = [
            "strace: Process 42 attached",
            "--- stopped by SIGSTOP ---",
            "kill(42, SIGSTOP) = 0",
            "execve(\"/usr/lib/confine/snap-confine\", [...]) = 0",
            "openat(AT_FDCWD, \"/etc/shadow\", O_RDONLY) = 3",
            "execve(\"/usr/lib/snapd/snap-exec\", [...]) = -1 ENOENT",
            "execve(\"/usr/lib/snapd/snap-exec\", [...]) = 0",
            "read(3, ...) = 10",
            "execve(\"/snap/hello/x1/bin/hello\", [...]) = 0",
            "write(1, \"hi\", 2) = 2",
            "strace: Process 43 attached",
        ];
        let mut f = Filter::default();
        let shown: Vec<&str> = lines.iter().copied().filter(|l| f.show(l)).collect();
        assert_eq!(shown, [lines[0], lines[8], lines[9], lines[10]]);
    }

    #[test]
    fn exec_timings() {
        let log = "\
100   1000.000000 execve(\"/usr/lib/confine/snap-confine\", [\"snap-confine\"], 0x1 /* 3 vars */) = 0
100   1000.004000 execve(\"/usr/lib/snapd/snap-exec\", [\"snap-exec\"], 0x2 /* 3 vars */) = 0
100   1000.005000 execve(\"/snap/hello/x1/bin/sh\", [\"sh\"], 0x3 /* 3 vars */) = 0
101   1000.006000 execve(\"/nonexistent/true\", [\"true\"], 0x3 /* 3 vars */) = -1 ENOENT (No such file or directory)
101   1000.006500 execve(\"/bin/true\", [\"true\"], 0x3 /* 3 vars */) = 0
102   1000.006600 execveat(3, \"\", [\"snap-update-ns\", \"x\"], 0x4 /* 0 vars */, AT_EMPTY_PATH) = 0
102   1000.007600 +++ exited with 0 +++
101   1000.008500 +++ exited with 0 +++
100   1000.010000 +++ exited with 0 +++
";
        let (all, total) = exec_times(log, 10);
        let names: Vec<&str> = all.iter().map(|e| e.program.as_str()).collect();
        assert_eq!(names, ["/usr/lib/confine/snap-confine", "/usr/lib/snapd/snap-exec", "snap-update-ns", "/bin/true", "/snap/hello/x1/bin/sh"]);
        let ms: Vec<i64> = all.iter().map(|e| (e.seconds * 1e3).round() as i64).collect();
        assert_eq!(ms, [4, 1, 1, 2, 5]);
        assert!((total - 0.010).abs() < 1e-9);
        let (two, _) = exec_times(log, 2);
        assert_eq!(two.iter().map(|e| e.program.as_str()).collect::<Vec<_>>(), ["/usr/lib/confine/snap-confine", "/snap/hello/x1/bin/sh"]);
        assert_eq!(exec_times("", 10), (vec![], 0.0));
    }

    #[test]
    fn exit_codes() {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(exit_code(ExitStatus::from_raw(3 << 8)), 3);
        assert_eq!(exit_code(ExitStatus::from_raw(9)), 137);
    }
}
