//! `snap-run --command=complete`: the bash completion of a snap command,
//! asked of the app's completer in its sandbox (see
//! `packaging/completion/complete.sh`). The answer goes to the user's shell
//! while the user waits at the prompt: a completer that does not answer in
//! time, or answers too much, is stopped and the completion fails.

use super::{Error, Launch};
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long a completer may take.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// The most it may answer.
const MAX_ANSWER: u64 = 1 << 20;

/// Runs the launch of a completion and passes its answer on; returns the
/// exit code.
pub fn run(launch: &Launch, target: &str, timeout: Duration) -> Result<u8, Error> {
    use std::os::unix::process::CommandExt;
    let cannot = |why: String| Error(format!("cannot complete {target}: {why}"));
    let Some((program, args)) = launch.argv.split_first() else { return Err(cannot("nothing to execute".into())) };
    let mut child = Command::new(program)
        .args(args)
        .env_clear()
        .envs(launch.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        // Its own process group: what the completer starts is stopped with it.
        .process_group(0)
        .spawn()
        .map_err(|e| cannot(format!("cannot start it: {e}")))?;
    let pgid = nix::unistd::Pid::from_raw(child.id() as i32);
    let stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut answer = Vec::new();
        if let Some(mut out) = stdout {
            let _ = Read::take(&mut out, MAX_ANSWER + 1).read_to_end(&mut answer);
            // The rest is dropped, so the writer is never stuck.
            let _ = std::io::copy(&mut out, &mut std::io::sink());
        }
        answer
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            _ => break None,
        }
    };
    let Some(status) = status else {
        let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
        let _ = child.kill();
        let _ = child.wait();
        return Err(cannot(format!("its completer did not answer in {} s", timeout.as_secs())));
    };
    // The completer's own children may hold the pipe open: they go too.
    let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
    let answer = reader.join().unwrap_or_default();
    if answer.len() as u64 > MAX_ANSWER {
        return Err(cannot(format!("its completer answered more than {MAX_ANSWER} bytes")));
    }
    if !status.success() {
        return Err(cannot(format!("its completer failed ({status})")));
    }
    std::io::stdout().write_all(&answer).map_err(|e| cannot(format!("cannot pass the answer on: {e}")))?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    fn sh(script: &str) -> Launch {
        Launch {
            argv: vec!["/bin/sh".into(), "-c".into(), script.into()],
            env: vec![("PATH".into(), "/usr/bin:/bin".into())],
            tag: "snap.a.a".into(),
            instance: "a".into(),
        }
    }

    #[test]
    fn answers_failures_and_hangs() {
        assert_eq!(run(&sh("echo; echo; echo; echo x"), "a", TIMEOUT).unwrap(), 0);
        assert_eq!(run(&sh("exit 3"), "a", TIMEOUT).unwrap_err().0, "cannot complete a: its completer failed (exit status: 3)");
        let start = Instant::now();
        // A hang, and a child of it that keeps the answer's pipe open.
        let e = run(&sh("sleep 60 & sleep 60"), "a", Duration::from_millis(300)).unwrap_err().0;
        assert_eq!(e, "cannot complete a: its completer did not answer in 0 s");
        assert!(start.elapsed() < Duration::from_secs(10), "{:?}", start.elapsed());
        let e = run(&sh("head -c 2000000 /dev/zero"), "a", TIMEOUT).unwrap_err().0;
        assert_eq!(e, "cannot complete a: its completer answered more than 1048576 bytes");
    }
}
