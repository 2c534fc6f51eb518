//! `confine denials` as a process: files and standard input, the default
//! logs (under a scratch `CONFINE_ROOT`), JSON, the filters, grouping,
//! `--follow`, and the errors (text starting with "cannot", exit status 1),
//! including the kernel log that an unprivileged user may not read.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[path = "support/cli.rs"]
mod cli;
use cli::{confine, fails, ok};

#[path = "support/denials.rs"]
mod denials_support;
use denials_support::{fixture, scratch_root};
use serde_json::Value;

fn real_log() -> String {
    fixture("real.log").to_str().unwrap().to_owned()
}

#[test]
fn a_file_is_explained_as_the_library_does() {
    let root = scratch_root();
    let out = ok(root.path(), &["denials", "--file", &real_log()]);
    assert_eq!(out, fs::read_to_string(fixture("real.expected")).unwrap());
}

#[test]
fn json() {
    let root = scratch_root();
    let out = ok(root.path(), &["denials", "--json", "--file", &real_log()]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let d = v["denials"].as_array().unwrap();
    assert_eq!(d.len(), 5);
    assert_eq!((v["records"].as_u64(), v["skipped"].as_u64()), (Some(5), Some(0)));
    let firefox = &d[0];
    assert_eq!(firefox["count"], 1);
    assert_eq!(firefox["first_seen"], "2018-05-01 14:06:50 UTC");
    assert_eq!(firefox["record"]["event"]["kind"], "apparmor");
    assert_eq!(firefox["record"]["event"]["operation"], "signal");
    assert_eq!(firefox["record"]["serial"], 770);
    let x = &firefox["explanation"];
    assert_eq!(x["side"], "receiver");
    assert_eq!(x["refused_by"]["type"], "profile");
    assert_eq!(x["other"]["snap"], "htop");
    assert_eq!(x["rule"], "signal (receive) set=(term) peer=snap.htop.htop,");
    let locks = &d[2]["explanation"];
    assert_eq!(locks["refused_by"]["snap"], "htop");
    assert_eq!(locks["refused_by"]["app"], "htop");
    assert_eq!(locks["rule"], "/proc/locks r,");
    assert_eq!(locks["interfaces"][0]["interface"], "system-observe");
    assert_eq!(locks["interfaces"][0]["plug"]["status"], "not_connected");
    assert_eq!(locks["interfaces"][0]["plug"]["plug"], "htop:system-observe");
    assert_eq!(
        locks["interfaces"][0]["command"],
        "sudo confine connect htop:system-observe"
    );
    assert!(locks["text"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["type"] == "rule" && p["text"] == "/proc/locks r,"));
}

#[test]
fn filters_and_standard_input() {
    let root = scratch_root();
    let summaries = |out: &str| -> Vec<String> {
        let v: Value = serde_json::from_str(out).unwrap();
        v["denials"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["explanation"]["summary"].as_str().unwrap().to_owned())
            .collect()
    };
    // --snap: either side.
    let s = summaries(&ok(
        root.path(),
        &["denials", "--json", "--snap", "htop", "--file", &real_log()],
    ));
    assert_eq!(s.len(), 3, "{s:?}");
    assert!(s[0].contains("from sending SIGTERM"));
    let s = summaries(&ok(
        root.path(),
        &["denials", "--json", "--snap=nosuch", "--file", &real_log()],
    ));
    assert!(s.is_empty());
    // --since, in several spellings.
    for since in ["2018-06-01T00:00:00Z", "@1527811200", "2018-06-01 00:00"] {
        let s = summaries(&ok(
            root.path(),
            &["denials", "--json", "--since", since, "--file", &real_log()],
        ));
        assert_eq!(
            s,
            vec![
                "AppArmor stopped snap htop (app htop) from reading /proc/locks",
                "AppArmor stopped a process under profile hello-world-c from mapping /lib64/libc-2.27.so as executable code"
            ],
            "{since}"
        );
    }
    let s = summaries(&ok(
        root.path(),
        &["denials", "--json", "--since", "10m", "--file", &real_log()],
    ));
    assert!(s.is_empty());
    // Standard input.
    let mut child = confine(root.path())
        .args(["denials", "--file", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(fs::read_to_string(fixture("real.log")).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        fs::read_to_string(fixture("real.expected")).unwrap()
    );
}

#[test]
fn repeats_are_counted_and_broken_lines_reported() {
    let root = scratch_root();
    let log = root.path().join("pasted.log");
    let a = r#"audit: type=1400 audit(1539448717.077:424): apparmor="DENIED" operation="open" profile="snap.htop.htop" name="/proc/locks" pid=4782 comm="lsof" requested_mask="r" denied_mask="r" fsuid=1000 ouid=0"#;
    let text = [
        a.to_owned(),
        a.replace("077:424", "500:430").replace("4782", "4800"),
        a.replace("1539448717.077:424", "1539448777.001:431"),
        a.get(..120).unwrap().to_owned(),
        "garbage that is no record".to_owned(),
        r#"type=1326 audit(1.2:3): arch=c000003e syscall=x code=0x50000"#.to_owned(),
    ]
    .join("\n");
    fs::write(&log, text).unwrap();
    let out = ok(root.path(), &["denials", "--file", log.to_str().unwrap()]);
    assert!(
        out.contains("  Seen 3 times, from 2018-10-13 16:38:37 UTC to 2018-10-13 16:39:37 UTC.\n"),
        "{out}"
    );
    assert!(out.contains("1 distinct denial (3 records).\n"), "{out}");
    assert!(
        out.contains("Skipped 2 lines that could not be read as records (cut short or garbled):\n"),
        "{out}"
    );
    assert!(out.contains("  syscall is not a number: \"x\": type=1326"), "{out}");
    // Nothing at all.
    fs::write(&log, "nothing here\n").unwrap();
    let out = ok(root.path(), &["denials", "--file", log.to_str().unwrap()]);
    assert!(out.starts_with("No AppArmor or seccomp denials found.\n"), "{out}");
    assert!(out.contains("actions_logged"), "{out}");
}

/// The logs under the root: the kernel log (a saved copy in place of
/// /dev/kmsg), auditd's log and kern.log, with the same record in two of
/// them.
fn write_logs(root: &Path) {
    let real = fs::read_to_string(fixture("real.log")).unwrap();
    let mut lines = real.lines();
    let firefox = lines.next().unwrap();
    let fdinfo = lines.next().unwrap();
    let locks = lines.next().unwrap();
    fs::create_dir_all(root.join("dev")).unwrap();
    fs::write(
        root.join("dev/kmsg"),
        format!("6,100,5000,-;Linux version 6.1.0\n5,101,6000,-;{firefox}\n SUBSYSTEM=x\n5,102,7000,-;{locks}\n"),
    )
    .unwrap();
    fs::create_dir_all(root.join("var/log/audit")).unwrap();
    let seccomp = r#"type=SECCOMP msg=audit(1600000036.036:36): auid=1000 uid=1000 gid=1000 ses=2 subj=snap.htop.htop pid=42 comm="htop" exe="/snap/htop/x1/usr/bin/htop" sig=0 arch=c000003e syscall=141 compat=0 ip=0x7f1234 code=0x50000"#;
    fs::write(
        root.join("var/log/audit/audit.log"),
        format!("{seccomp}\x1dAUID=\"u\"\n"),
    )
    .unwrap();
    fs::write(
        root.join("var/log/kern.log"),
        format!("May 15 16:08:11 host kernel: [12.5] {fdinfo}\nOct 13 16:38:37 host kernel: [13.5] {locks}\n"),
    )
    .unwrap();
}

#[test]
fn the_default_logs_are_read_and_merged() {
    let root = scratch_root();
    write_logs(root.path());
    let out = ok(root.path(), &["denials", "--json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let rules: Vec<&str> = v["denials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["explanation"]["rule"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        vec![
            "signal (receive) set=(term) peer=snap.htop.htop,",
            "/proc/locks r,",
            "setpriority",
            "/proc/3480/fdinfo/3 r,"
        ]
    );
    // /proc/locks is in the kernel log and in kern.log: counted once.
    assert_eq!((v["records"].as_u64(), v["duplicates"].as_u64()), (Some(4), Some(1)));
    let seccomp = &v["denials"][2]["explanation"];
    assert_eq!(seccomp["mechanism"], "seccomp");
    assert_eq!(seccomp["interfaces"][0]["interface"], "process-control");
    assert_eq!(seccomp["interfaces"][0]["plug"]["status"], "connected");
}

#[test]
fn follow_shows_new_denials_as_they_come() {
    let root = scratch_root();
    write_logs(root.path());
    let mut child = confine(root.path())
        .args(["denials", "--follow"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let wait_for = |needle: &str| {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut seen = Vec::new();
        while Instant::now() < deadline {
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
                let hit = line.contains(needle);
                seen.push(line);
                if hit {
                    return;
                }
            }
        }
        panic!("no {needle:?} in:\n{}", seen.join("\n"));
    };
    // What is there already comes first.
    wait_for("from reading /proc/3480/fdinfo/3");
    // Then each new record, as it is appended.
    let mut kern = fs::OpenOptions::new()
        .append(true)
        .open(root.path().join("var/log/kern.log"))
        .unwrap();
    let cap = r#"Nov  1 10:00:00 host kernel: audit: type=1400 audit(1700000000.000:900): apparmor="DENIED" operation="capable" profile="snap.htop.htop" pid=5 comm="htop" capability=19  capname="sys_ptrace""#;
    writeln!(kern, "{cap}").unwrap();
    wait_for("      capability sys_ptrace,");
    // A repeat is a line of its own.
    writeln!(kern, "{}", cap.replace("000:900", "500:901")).unwrap();
    wait_for("Again (2 times so far): AppArmor stopped snap htop (app htop) from using the capability sys_ptrace");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn errors() {
    let root = scratch_root();
    let e = fails(root.path(), &["denials", "--file", "/nonexistent/log"]);
    assert!(e.starts_with("cannot read /nonexistent/log: No such file"), "{e}");
    let e = fails(root.path(), &["denials", "--bogus"]);
    assert!(e.contains("unknown argument \"--bogus\""), "{e}");
    let e = fails(
        root.path(),
        &["denials", "--since", "not a time", "--file", &real_log()],
    );
    assert!(e.starts_with("cannot understand the time \"not a time\""), "{e}");
    let e = fails(root.path(), &["denials", "--snap", "Not_A_Snap!"]);
    assert!(e.starts_with("cannot run denials"), "{e}");
    // No log at all under an empty root.
    let empty = tempfile::tempdir().unwrap();
    let e = fails(empty.path(), &["denials"]);
    assert!(e.contains("cannot find any log to read"), "{e}");
    // Help.
    let out = ok(root.path(), &["denials", "--help"]);
    assert!(out.starts_with("Usage: confine denials [--file PATH]..."), "{out}");
    assert!(ok(root.path(), &["--help"]).contains("  denials [--file PATH] [--follow]"));
}

#[test]
fn an_unreadable_kernel_log_says_what_to_do() {
    // As nobody, the kernel log under a root-only root cannot be opened.
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: needs root to run as nobody");
        return;
    }
    let root = scratch_root();
    write_logs(root.path());
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(root.path(), fs::Permissions::from_mode(0o700)).unwrap();
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_confine"))
        .arg("denials")
        .env("CONFINE_ROOT", root.path())
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{err}\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(err.starts_with("cannot read the kernel log ("), "{err}");
    assert!(err.contains("Permission denied"), "{err}");
    assert!(
        err.contains("reading it needs root, or kernel.dmesg_restrict=0 (sudo sysctl kernel.dmesg_restrict=0)"),
        "{err}"
    );
}
