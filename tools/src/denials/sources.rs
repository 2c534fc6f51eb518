//! Where records are read from: the kernel log (`/dev/kmsg`, or `dmesg`),
//! the journal (`journalctl`, kernel and audit transports), auditd's log,
//! the syslog kernel log, files and standard input; once, or following
//! them as they grow.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::Sender;
use std::thread;
use std::time::Duration;

use serde_json::Value;

use crate::paths::Paths;

use super::record::Time;

/// A place to read records from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The kernel's ring buffer, `/dev/kmsg` (under the root).
    Kmsg(PathBuf),
    /// The `dmesg` command, when `/dev/kmsg` does not exist.
    Dmesg,
    /// `journalctl`, kernel and audit transports.
    Journal,
    /// A log file that may be absent (`/var/log/audit/audit.log`,
    /// `/var/log/kern.log`).
    LogFile(PathBuf),
    /// A file the user named (`-` for standard input).
    File(PathBuf),
}

impl Source {
    pub fn name(&self) -> String {
        match self {
            Source::Kmsg(p) | Source::LogFile(p) | Source::File(p) => p.display().to_string(),
            Source::Dmesg => "dmesg".into(),
            Source::Journal => "the journal".into(),
        }
    }
}

/// Why a source could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    pub message: String,
    /// The source does not exist here (not worth a warning).
    pub absent: bool,
}

fn err(message: String) -> SourceError {
    SourceError { message, absent: false }
}

fn absent(message: String) -> SourceError {
    SourceError { message, absent: true }
}

/// The sources read when none is named: under a moved root (tests), only
/// the files under it.
pub fn default_sources(paths: &Paths) -> Vec<Source> {
    let mut out = vec![Source::Kmsg(paths.under("/dev/kmsg"))];
    if paths.is_system() {
        out.push(Source::Journal);
    }
    out.push(Source::LogFile(paths.under("/var/log/audit/audit.log")));
    out.push(Source::LogFile(paths.under("/var/log/kern.log")));
    out
}

/// The message for a kernel log that cannot be read.
pub fn kernel_log_error(what: &str, e: &io::Error) -> String {
    let mut m = format!("cannot read the kernel log ({what}: {e})");
    if matches!(e.kind(), io::ErrorKind::PermissionDenied) || e.raw_os_error() == Some(libc::EPERM) {
        m.push_str(
            ": reading it needs root, or kernel.dmesg_restrict=0 (sudo sysctl kernel.dmesg_restrict=0). \
             Run \"sudo confine denials\", or save the log and give it with --file",
        );
    }
    m
}

/// Reads what a source holds now: its lines, and how many bytes of a file
/// were read (where [`follow`] starts, so nothing written in between is
/// missed).
pub fn read(source: &Source, since: Option<Time>) -> Result<(Vec<String>, u64), SourceError> {
    let file = |bytes: Vec<u8>| (lines_of(&bytes), bytes.len() as u64);
    match source {
        Source::Kmsg(path) => read_kmsg(path).map(|l| (l, 0)).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                absent(format!("{}: {e}", path.display()))
            } else {
                err(kernel_log_error(&path.display().to_string(), &e))
            }
        }),
        Source::Dmesg => read_dmesg().map(|l| (l, 0)),
        Source::Journal => read_journal(since).map(|l| (l, 0)),
        Source::LogFile(path) => match fs::read(path) {
            Ok(bytes) => Ok(file(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(absent(format!("{}: {e}", path.display()))),
            Err(e) => Err(err(format!("cannot read {}: {e}", path.display()))),
        },
        Source::File(path) if path.as_os_str() == "-" => {
            let mut bytes = Vec::new();
            io::stdin()
                .lock()
                .read_to_end(&mut bytes)
                .map_err(|e| err(format!("cannot read standard input: {e}")))?;
            Ok(file(bytes))
        }
        Source::File(path) => fs::read(path)
            .map(file)
            .map_err(|e| err(format!("cannot read {}: {e}", path.display()))),
    }
}

fn lines_of(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes).lines().map(str::to_owned).collect()
}

/// Appends the records readable from `/dev/kmsg` now (each read gives one
/// record; lines starting with a space are its dictionary).
fn drain_kmsg(f: &mut File, out: &mut Vec<String>) -> io::Result<()> {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match f.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => {
                let text = String::from_utf8_lossy(buf.get(..n).unwrap_or(&[])).into_owned();
                out.extend(
                    text.lines()
                        .filter(|l| !l.starts_with(' ') && !l.is_empty())
                        .map(str::to_owned),
                );
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // Records were overwritten while we read: go on with the next.
            Err(e) if e.raw_os_error() == Some(libc::EPIPE) => {}
            Err(e) => return Err(e),
        }
    }
}

fn open_kmsg(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
}

fn read_kmsg(path: &Path) -> io::Result<Vec<String>> {
    let mut f = open_kmsg(path)?;
    if f.metadata()?.is_file() {
        // A saved copy (tests use one under CONFINE_ROOT).
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes)?;
        return Ok(lines_of(&bytes));
    }
    let mut out = Vec::new();
    drain_kmsg(&mut f, &mut out)?;
    Ok(out)
}

fn read_dmesg() -> Result<Vec<String>, SourceError> {
    let out = Command::new("dmesg")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| absent(format!("cannot run dmesg: {e}")))?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        return Err(err(format!(
            "cannot read the kernel log (dmesg: {why}): reading it needs root, or kernel.dmesg_restrict=0 \
             (sudo sysctl kernel.dmesg_restrict=0). Run \"sudo confine denials\", or save the log and give \
             it with --file"
        )));
    }
    Ok(lines_of(&out.stdout))
}

fn journal_command(since: Option<Time>, follow: bool) -> Command {
    let mut c = Command::new("journalctl");
    c.args(["--no-pager", "-q", "-o", "json"]);
    if follow {
        c.args(["-f", "-n", "0"]);
    } else if let Some(t) = since {
        c.arg(format!("--since=@{}", t.secs));
    }
    c.args(["_TRANSPORT=kernel", "+", "_TRANSPORT=audit"]);
    c.stdin(Stdio::null());
    c
}

/// A journal entry (JSON) as a log line our parser reads: kernel messages
/// as they are, audit-transport messages with their type and stamp put
/// back in front.
pub fn journal_line(entry: &str) -> Option<String> {
    let v: Value = serde_json::from_str(entry).ok()?;
    let text = |key: &str| v.get(key).and_then(Value::as_str);
    let message = match v.get("MESSAGE")? {
        Value::String(s) => s.clone(),
        Value::Array(bytes) => {
            let bytes: Vec<u8> = bytes
                .iter()
                .filter_map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
                .collect();
            String::from_utf8_lossy(&bytes).into_owned()
        }
        _ => return None,
    };
    if text("_TRANSPORT") != Some("audit") {
        return Some(message);
    }
    let ty = text("_AUDIT_TYPE")?;
    let id = text("_AUDIT_ID").unwrap_or("0");
    let usec: u64 = text("_SOURCE_REALTIME_TIMESTAMP")
        .or_else(|| text("__REALTIME_TIMESTAMP"))?
        .parse()
        .ok()?;
    // MESSAGE is "AVC apparmor=...": the type's name, then the fields.
    let body = match message.split_once(' ') {
        Some((name, rest)) if name.bytes().all(|c| c.is_ascii_uppercase() || c == b'_') => rest,
        _ => message.as_str(),
    };
    Some(format!(
        "type={ty} audit({}.{:03}:{id}): {body}",
        usec / 1_000_000,
        usec / 1000 % 1000
    ))
}

fn read_journal(since: Option<Time>) -> Result<Vec<String>, SourceError> {
    let out = journal_command(since, false)
        .output()
        .map_err(|e| absent(format!("cannot run journalctl: {e}")))?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        return Err(err(format!("cannot read the journal: {why}")));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(journal_line)
        .collect())
}

/// Watches a source from now on, sending each new line; runs until the
/// receiver is gone. Errors end the watch (the first is sent as `Err`).
/// A file is followed from byte `start` (what [`read`] read of it).
pub fn follow(source: Source, start: u64, tx: Sender<Result<String, String>>) {
    thread::spawn(move || {
        let result = match &source {
            Source::Kmsg(path) => follow_kmsg(path, &tx),
            Source::Journal => follow_journal(&tx),
            Source::LogFile(path) => follow_file(path, &tx, true, Some(start)),
            Source::File(path) if path.as_os_str() == "-" => follow_stdin(&tx),
            Source::File(path) => follow_file(path, &tx, false, Some(start)),
            Source::Dmesg => Ok(()),
        };
        if let Err(e) = result {
            let _ = tx.send(Err(format!("stopped watching {}: {e}", source.name())));
        }
    });
}

const POLL: Duration = Duration::from_millis(200);

fn send_all(tx: &Sender<Result<String, String>>, lines: Vec<String>) -> bool {
    lines.into_iter().all(|l| tx.send(Ok(l)).is_ok())
}

fn follow_kmsg(path: &Path, tx: &Sender<Result<String, String>>) -> io::Result<()> {
    let mut f = open_kmsg(path)?;
    if f.metadata()?.is_file() {
        return follow_file(path, tx, false, None);
    }
    f.seek(SeekFrom::End(0))?;
    loop {
        let mut lines = Vec::new();
        drain_kmsg(&mut f, &mut lines)?;
        if !send_all(tx, lines) {
            return Ok(());
        }
        thread::sleep(POLL);
    }
}

fn follow_journal(tx: &Sender<Result<String, String>>) -> io::Result<()> {
    let mut child = journal_command(None, true)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let Some(stdout) = child.stdout.take() else {
        return Ok(());
    };
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        if let Some(l) = journal_line(&line) {
            if tx.send(Ok(l)).is_err() {
                break;
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    Ok(())
}

/// Follows a growing file from byte `start`, or from its current end (a
/// file that shrinks was rotated: it is read again from the start).
/// `may_be_absent`: wait for it to appear.
fn follow_file(path: &Path, tx: &Sender<Result<String, String>>, may_be_absent: bool, start: Option<u64>) -> io::Result<()> {
    let mut offset = match (start, fs::metadata(path)) {
        (Some(start), _) => start,
        (None, Ok(m)) => m.len(),
        (None, Err(e)) if may_be_absent && e.kind() == io::ErrorKind::NotFound => 0,
        (None, Err(e)) => return Err(e),
    };
    let mut partial = String::new();
    loop {
        thread::sleep(POLL);
        let len = match fs::metadata(path) {
            Ok(m) => m.len(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        if len < offset {
            offset = 0;
            partial.clear();
        }
        if len == offset {
            continue;
        }
        let mut f = File::open(path)?;
        f.seek(SeekFrom::Start(offset))?;
        let mut bytes = Vec::new();
        f.take(len - offset).read_to_end(&mut bytes)?;
        offset += bytes.len() as u64;
        partial.push_str(&String::from_utf8_lossy(&bytes));
        let mut lines = Vec::new();
        while let Some(end) = partial.find('\n') {
            lines.push(partial.get(..end).unwrap_or("").to_owned());
            partial = partial.get(end + 1..).unwrap_or("").to_owned();
        }
        if !send_all(tx, lines) {
            return Ok(());
        }
    }
}

fn follow_stdin(tx: &Sender<Result<String, String>>) -> io::Result<()> {
    for line in io::stdin().lock().lines() {
        if tx.send(Ok(line?)).is_err() {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn journal_entries() {
        let kernel = r#"{"_TRANSPORT":"kernel","MESSAGE":"audit: type=1400 audit(1.002:3): apparmor=\"DENIED\""}"#;
        assert_eq!(
            journal_line(kernel).unwrap(),
            "audit: type=1400 audit(1.002:3): apparmor=\"DENIED\""
        );
        let audit = r#"{"_TRANSPORT":"audit","_AUDIT_TYPE":"1400","_AUDIT_ID":"770","_SOURCE_REALTIME_TIMESTAMP":"1525183610173000","MESSAGE":"AVC apparmor=\"DENIED\" operation=\"open\""}"#;
        assert_eq!(
            journal_line(audit).unwrap(),
            "type=1400 audit(1525183610.173:770): apparmor=\"DENIED\" operation=\"open\""
        );
        let bytes = r#"{"_TRANSPORT":"kernel","MESSAGE":[104,105]}"#;
        assert_eq!(journal_line(bytes).unwrap(), "hi");
        assert_eq!(journal_line("not json"), None);
    }

    #[test]
    fn kernel_log_errors_say_what_to_do() {
        let e = io::Error::from_raw_os_error(libc::EPERM);
        let m = kernel_log_error("/dev/kmsg", &e);
        assert!(m.contains("needs root, or kernel.dmesg_restrict=0"), "{m}");
        let e = io::Error::from_raw_os_error(libc::EIO);
        assert!(!kernel_log_error("/dev/kmsg", &e).contains("dmesg_restrict"));
    }
}
