//! Log lines to records.
//!
//! A line may carry an AppArmor or seccomp audit record in any of the
//! shapes the logs give it:
//!
//! * the kernel's, `audit: type=1400 audit(1525183610.173:770): apparmor=...`,
//!   with or without the `audit:` word, behind a `/dev/kmsg` prefix
//!   (`6,1234,5678,-;`), a `dmesg` time (`[  12.345678]`), or a syslog or
//!   journal prefix (`May  1 14:06:50 host kernel: `);
//! * auditd's, `type=AVC msg=audit(1547564894.993:588): apparmor=...` and
//!   `type=SECCOMP msg=audit(...): ...`, with or without the `\x1d`
//!   enrichment auditd appends;
//! * the journal's audit transport, `audit[4782]: AVC apparmor=...` (no
//!   serial number; the time comes from the line's prefix, when it has one);
//! * D-Bus mediation by dbus-daemon, `type=1107` / `USER_AVC` with the
//!   AppArmor fields inside `msg='...'`;
//! * bare fields, as users paste them (`apparmor="DENIED" operation=...`).
//!
//! Values are `"quoted"`, or hex-encoded when they hold spaces, quotes or
//! bytes outside printable ASCII (`name=2F746D702F61206220`); both are
//! decoded. A record that is cut short or garbled is reported as skipped,
//! with the reason; lines that are no audit record of ours are `Other`.
//! Nothing here panics on any input.

use std::collections::BTreeMap;

use libseccomp::{ScmpArch, ScmpSyscall};

use super::record::{AppArmorEvent, Event, Form, Record, SeccompEvent, Time};
use super::time;

/// What a line turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Record(Box<Record>),
    /// It looked like one of our records but could not be read; why.
    Skipped(String),
    /// Anything else (other kernel messages, AppArmor status records...).
    Other,
}

/// What a line's header says the record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    AppArmor,
    /// dbus-daemon's record: the AppArmor fields are inside `msg='...'`.
    UserAvc,
    Seccomp,
}

/// Values of these fields are hex-encoded by the kernel when they hold
/// characters that would break the record's syntax.
const STRING_FIELDS: &[&str] = &[
    "name",
    "comm",
    "exe",
    "profile",
    "peer",
    "label",
    "peer_label",
    "target",
    "srcname",
    "fstype",
    "flags",
    "addr",
    "peer_addr",
    "path",
    "interface",
    "member",
    "bus",
    "namespace",
    "cwd",
    "proctitle",
];

/// Fields that must be numbers when present.
const NUMBER_FIELDS: &[&str] = &[
    "pid",
    "fsuid",
    "ouid",
    "capability",
    "error",
    "protocol",
    "peer_pid",
    "uid",
    "gid",
    "auid",
    "ses",
    "sig",
    "compat",
];

/// Parses one line.
pub fn parse_line(raw: &str) -> Line {
    // auditd appends the names of the ids after a group separator.
    let line = raw.split('\u{1d}').next().unwrap_or("");
    let line = line.trim_end_matches(['\r', '\n', '\0']);
    let Some((kind, form, stamp, rest)) = header(line) else {
        return Line::Other;
    };
    let (time, serial) = match stamp {
        Some((t, s)) => (Some(t), Some(s)),
        None => (line_time(line), None),
    };
    let event = match kind {
        Kind::AppArmor => fields(rest).and_then(|f| apparmor(f, false)),
        Kind::UserAvc => fields(rest).and_then(|f| apparmor(f, true)),
        Kind::Seccomp => fields(rest).and_then(seccomp),
    };
    match event {
        Ok(Some(event)) => Line::Record(Box::new(Record {
            time,
            serial,
            form,
            event,
        })),
        Ok(None) => Line::Other,
        Err(why) => Line::Skipped(why),
    }
}

type Stamp = (Time, u64);

/// Finds the record's type, the form of the line, the audit stamp and the
/// text of the fields.
fn header(line: &str) -> Option<(Kind, Form, Option<Stamp>, &str)> {
    // `type=NNNN` or `type=NAME`, at the start of a word.
    let mut from = 0;
    while let Some(pos) = line.get(from..).and_then(|t| t.find("type=")) {
        let at = from + pos;
        from = at + 5;
        let starts_word = at == 0
            || line
                .get(..at)
                .and_then(|b| b.chars().last())
                .is_some_and(|c| c.is_whitespace() || c == ':' || c == ';' || c == ']');
        if !starts_word {
            continue;
        }
        let after = line.get(at + 5..)?;
        let end = after.find(char::is_whitespace).unwrap_or(after.len());
        let (name, rest) = after.split_at(end);
        let kind = match name {
            "1400" | "AVC" => Kind::AppArmor,
            "1107" | "USER_AVC" => Kind::UserAvc,
            "1326" | "SECCOMP" => Kind::Seccomp,
            _ => return None,
        };
        let rest = rest.trim_start();
        let (auditd, rest) = match rest.strip_prefix("msg=") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let (stamp, rest) = audit_stamp(rest)?;
        let form = if auditd || name.starts_with(|c: char| c.is_ascii_alphabetic()) {
            Form::Auditd
        } else {
            Form::Kernel
        };
        return Some((kind, form, stamp, rest));
    }
    // The journal's audit transport: `audit[PID]: AVC ...`.
    let mut from = 0;
    while let Some(pos) = line.get(from..).and_then(|t| t.find("audit[")) {
        let at = from + pos;
        from = at + 6;
        let after = line.get(at + 6..)?;
        let Some(close) = after.find("]: ") else { continue };
        if !after
            .get(..close)
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        {
            continue;
        }
        let rest = after.get(close + 3..)?;
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let (name, rest) = rest.split_at(end);
        let kind = match name {
            "AVC" => Kind::AppArmor,
            "USER_AVC" => Kind::UserAvc,
            "SECCOMP" => Kind::Seccomp,
            _ => return None,
        };
        return Some((kind, Form::Journal, None, rest));
    }
    // Bare fields.
    if line.contains("apparmor=") {
        return Some((Kind::AppArmor, Form::Fields, None, line));
    }
    if line.contains("syscall=") && line.contains("arch=") && line.contains("code=") {
        return Some((Kind::Seccomp, Form::Fields, None, line));
    }
    None
}

/// Reads an optional `audit(SECS.MILLIS:SERIAL):`. `None` when it starts
/// but is cut short (the caller then treats the line as no record of ours,
/// and a truncated one is reported by the fields check).
fn audit_stamp(text: &str) -> Option<(Option<Stamp>, &str)> {
    let Some(inner) = text.strip_prefix("audit(") else {
        return Some((None, text));
    };
    let Some(close) = inner.find(')') else {
        // Cut inside the stamp: the fields are missing too.
        return Some((None, ""));
    };
    let stamp = inner.get(..close)?;
    let rest = inner.get(close + 1..)?;
    let rest = rest.strip_prefix(':').unwrap_or(rest);
    let parsed = (|| {
        let (time, serial) = stamp.split_once(':')?;
        let (secs, millis) = time.split_once('.')?;
        let secs: u64 = secs.parse().ok()?;
        let millis = time::fraction_to_millis(millis)?;
        let serial: u64 = serial.parse().ok()?;
        Some((Time { secs, millis }, serial))
    })();
    Some((parsed, rest))
}

/// The time a line's own prefix gives (journalctl's `short-unix` and
/// `short-iso` forms, rsyslog's ISO 8601 form), for records without a
/// stamp.
fn line_time(line: &str) -> Option<Time> {
    let first = line.split_whitespace().next()?;
    time::parse_unix(first).or_else(|| time::parse_iso(first))
}

/// One `key=value` of a record.
#[derive(Debug, Clone)]
struct Field {
    key: String,
    value: String,
    quoted: bool,
}

/// Splits the text of a record into its fields. Words without `=` that
/// come before the first field are ignored (log prefixes); after an
/// unquoted value they continue it (`subj=snap.a.b (enforce)`); anywhere
/// else the record is garbled.
fn fields(text: &str) -> Result<Vec<Field>, String> {
    let b = text.as_bytes();
    let at = |i: usize| b.get(i).copied();
    let is_space = |c: u8| c.is_ascii_whitespace();
    let mut out: Vec<Field> = Vec::new();
    let mut i = 0;
    loop {
        while at(i).is_some_and(is_space) {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let start = i;
        while at(i).is_some_and(|c| !is_space(c) && c != b'=') {
            i += 1;
        }
        let key = text.get(start..i).unwrap_or("");
        let valid_key = !key.is_empty() && key.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-');
        if at(i) == Some(b'=') && valid_key {
            i += 1;
            let (value, quoted) = match at(i) {
                Some(q @ (b'"' | b'\'')) => {
                    let open = i + 1;
                    let close = b
                        .get(open..)
                        .and_then(|r| r.iter().position(|&c| c == q))
                        .map(|p| open + p)
                        .ok_or_else(|| format!("the value of {key} is cut short (no closing quote)"))?;
                    i = close + 1;
                    if at(i).is_some_and(|c| !is_space(c)) {
                        return Err(format!("garbled text after the value of {key}"));
                    }
                    (text.get(open..close).unwrap_or("").to_owned(), true)
                }
                _ => {
                    let open = i;
                    while at(i).is_some_and(|c| !is_space(c)) {
                        i += 1;
                    }
                    (text.get(open..i).unwrap_or("").to_owned(), false)
                }
            };
            if !out.iter().any(|f| f.key == key) {
                out.push(Field {
                    key: key.to_owned(),
                    value,
                    quoted,
                });
            }
        } else {
            while at(i).is_some_and(|c| !is_space(c)) {
                i += 1;
            }
            let word = text.get(start..i).unwrap_or("");
            match out.last_mut() {
                None => {}
                Some(last) if !last.quoted => {
                    last.value.push(' ');
                    last.value.push_str(word);
                }
                Some(last) => return Err(format!("garbled text {word:?} after the value of {}", last.key)),
            }
        }
    }
    Ok(out)
}

/// The fields as a map, hex-encoded values decoded, numbers checked.
fn field_map(fields: Vec<Field>) -> Result<BTreeMap<String, String>, String> {
    let mut map = BTreeMap::new();
    for f in fields {
        let value = if !f.quoted && STRING_FIELDS.contains(&f.key.as_str()) {
            decode_hex(&f.key, &f.value)?
        } else {
            f.value
        };
        if NUMBER_FIELDS.contains(&f.key.as_str()) && value.parse::<i64>().is_err() {
            return Err(format!("{} is not a number: {value:?}", f.key));
        }
        map.insert(f.key, value);
    }
    Ok(map)
}

/// Decodes an unquoted string value when it is hex (as the kernel writes
/// values with spaces or unusual bytes); other unquoted values stay.
fn decode_hex(key: &str, value: &str) -> Result<String, String> {
    if value.is_empty() || !value.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Ok(value.to_owned());
    }
    if value.len() & 1 == 1 {
        return Err(format!("the hex value of {key} is cut short"));
    }
    let bytes: Vec<u8> = value
        .as_bytes()
        .chunks(2)
        .map(|pair| {
            let digit = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
            let hi = pair.first().copied().map(digit).unwrap_or(0);
            let lo = pair.get(1).copied().map(digit).unwrap_or(0);
            hi << 4 | lo
        })
        .collect();
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// What the file operations are called in records.
pub const FILE_OPERATIONS: &[&str] = &[
    "open",
    "mknod",
    "mkdir",
    "rmdir",
    "unlink",
    "rename_src",
    "rename_dest",
    "link",
    "symlink",
    "exec",
    "file_mmap",
    "file_mprotect",
    "file_lock",
    "chmod",
    "chown",
    "truncate",
    "getattr",
    "setattr",
    "file_perm",
    "file_receive",
    "file_inherit",
    "sendmsg",
    "recvmsg",
    "connect",
    "xattr",
];

/// Socket operations.
pub const NETWORK_OPERATIONS: &[&str] = &[
    "create",
    "post_create",
    "bind",
    "connect",
    "listen",
    "accept",
    "sendmsg",
    "recvmsg",
    "getsockname",
    "getpeername",
    "getsockopt",
    "setsockopt",
    "shutdown",
    "socket_shutdown",
];

/// An AppArmor record from its fields; `Ok(None)` for records that are no
/// decision (status messages, audit rules).
fn apparmor(fields: Vec<Field>, user_avc: bool) -> Result<Option<Event>, String> {
    let fields = if user_avc {
        // The AppArmor fields are in msg='...'.
        let Some(inner) = fields.into_iter().find(|f| f.key == "msg").map(|f| f.value) else {
            return Ok(None);
        };
        let inner = self::fields(&inner)?;
        if !inner.iter().any(|f| f.key == "apparmor") {
            return Ok(None);
        }
        inner
    } else {
        fields
    };
    let map = field_map(fields)?;
    let Some(result) = map.get("apparmor") else {
        return Err("no apparmor= field".into());
    };
    let result = result.to_ascii_uppercase();
    if result != "DENIED" && result != "ALLOWED" {
        return Ok(None);
    }
    let operation = map
        .get("operation")
        .filter(|o| !o.is_empty())
        .cloned()
        .ok_or("no operation= field (the record is cut short?)")?;
    let profile = map
        .get("profile")
        .or_else(|| map.get("label"))
        .filter(|p| !p.is_empty())
        .cloned()
        .ok_or("no profile= field (the record is cut short?)")?;
    let event = AppArmorEvent {
        result,
        operation,
        profile,
        fields: map,
    };
    check_complete(&event)?;
    Ok(Some(Event::AppArmor(event)))
}

/// Refuses records that lack what their operation needs (usually a record
/// cut short).
fn check_complete(e: &AppArmorEvent) -> Result<(), String> {
    let has = |k: &str| e.field(k).is_some_and(|v| !v.is_empty());
    let mask = has("denied_mask") || has("requested_mask") || has("mask");
    let need = |what: &[&str]| -> Result<(), String> {
        match what.iter().find(|k| !has(k)) {
            Some(k) => Err(format!(
                "a {} record without {k}= (the record is cut short?)",
                e.operation
            )),
            None => Ok(()),
        }
    };
    let op = e.operation.as_str();
    match op {
        "signal" => need(&["peer", "signal"])?,
        "ptrace" if e.peer().is_none() => need(&["peer"])?,
        "ptrace" => {}
        "capable" if !has("capname") && !has("capability") => {
            return Err("a capable record without capname= (the record is cut short?)".into())
        }
        "capable" => {}
        "mount" | "remount" | "umount" | "pivotroot" | "pivot_root" => need(&["name"])?,
        _ if has("family") => {}
        _ if NETWORK_OPERATIONS.contains(&op) && !has("name") => need(&["family"])?,
        _ if FILE_OPERATIONS.contains(&op) => need(&["name"])?,
        _ => {}
    }
    let needs_mask = matches!(op, "signal" | "ptrace")
        || op.starts_with("dbus")
        || (FILE_OPERATIONS.contains(&op) && !has("family"));
    if needs_mask && !mask {
        return Err(format!("a {op} record without denied_mask= (the record is cut short?)"));
    }
    Ok(())
}

/// The audit architectures and their libseccomp names.
pub fn audit_arch(arch: u32) -> Option<(&'static str, ScmpArch)> {
    Some(match arch {
        0xc000_003e => ("x86_64", ScmpArch::X8664),
        0x4000_0003 => ("i386", ScmpArch::X86),
        0xc000_00b7 => ("aarch64", ScmpArch::Aarch64),
        0x4000_0028 => ("arm", ScmpArch::Arm),
        0xc000_0015 => ("ppc64le", ScmpArch::Ppc64Le),
        0x8000_0015 => ("ppc64", ScmpArch::Ppc64),
        0x0000_0014 => ("ppc", ScmpArch::Ppc),
        0x8000_0016 => ("s390x", ScmpArch::S390X),
        0x0000_0016 => ("s390", ScmpArch::S390),
        0xc000_00f3 => ("riscv64", ScmpArch::Riscv64),
        _ => return None,
    })
}

/// The name of system call `nr` on audit architecture `arch`, when
/// libseccomp knows it (x32 calls on x86-64 carry bit 30).
pub fn syscall_name(arch: u32, nr: u32) -> Option<String> {
    let (_, mut scmp) = audit_arch(arch)?;
    if scmp == ScmpArch::X8664 && nr & 0x4000_0000 != 0 {
        scmp = ScmpArch::X32;
    }
    let nr = i32::try_from(nr).ok()?;
    ScmpSyscall::from_raw_syscall(nr).get_name_by_arch(scmp).ok()
}

fn seccomp(fields: Vec<Field>) -> Result<Option<Event>, String> {
    let map = field_map(fields)?;
    let syscall = map
        .get("syscall")
        .ok_or("a seccomp record without syscall= (the record is cut short?)")?;
    let syscall: u32 = syscall
        .parse()
        .map_err(|_| format!("syscall is not a number: {syscall:?}"))?;
    let arch = map
        .get("arch")
        .ok_or("a seccomp record without arch= (the record is cut short?)")?;
    let arch = u32::from_str_radix(arch, 16).map_err(|_| format!("arch is not a hex number: {arch:?}"))?;
    let code = map
        .get("code")
        .ok_or("a seccomp record without code= (the record is cut short?)")?;
    let code = u32::from_str_radix(code.trim_start_matches("0x"), 16)
        .map_err(|_| format!("code is not a hex number: {code:?}"))?;
    let label = map
        .get("subj")
        .map(|s| strip_mode(s).to_owned())
        .filter(|s| !s.is_empty());
    Ok(Some(Event::Seccomp(SeccompEvent {
        label,
        arch,
        arch_name: audit_arch(arch).map(|(n, _)| n.to_owned()),
        syscall,
        syscall_name: syscall_name(arch, syscall),
        code,
        fields: map,
    })))
}

/// `snap.a.b (enforce)` → `snap.a.b`.
pub fn strip_mode(label: &str) -> &str {
    match label.rsplit_once(" (") {
        Some((l, mode)) if mode.ends_with(')') => l,
        _ => label,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    fn record(line: &str) -> Record {
        match parse_line(line) {
            Line::Record(r) => *r,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn tokenizer() {
        let f = fields(r#"AVC a="x y" b=2 subj=snap.a.b (enforce) c='p q'"#).unwrap();
        let kv: Vec<(&str, &str)> = f.iter().map(|f| (f.key.as_str(), f.value.as_str())).collect();
        assert_eq!(
            kv,
            vec![("a", "x y"), ("b", "2"), ("subj", "snap.a.b (enforce)"), ("c", "p q")]
        );
        assert!(fields(r#"a="x"#).is_err());
        assert!(fields(r#"a="x" y"#).is_err());
        assert!(fields(r#"a="x"y"#).is_err());
    }

    #[test]
    fn hex() {
        assert_eq!(decode_hex("name", "2F746D702F612062").unwrap(), "/tmp/a b");
        assert_eq!(decode_hex("name", "none").unwrap(), "none");
        assert!(decode_hex("name", "2F7").is_err());
    }

    #[test]
    fn stamps_and_forms() {
        let r = record(
            r#"type=1400 audit(1402083549.185:782): apparmor="DENIED" operation="ptrace" profile="foo" pid=29142 comm="cat" requested_mask="read" denied_mask="read" peer="unconfined""#,
        );
        assert_eq!(
            (r.time, r.serial, r.form),
            (
                Some(Time {
                    secs: 1402083549,
                    millis: 185
                }),
                Some(782),
                Form::Kernel
            )
        );
        let r = record(
            r#"1525183610.173000 host audit[4782]: AVC apparmor="DENIED" operation="open" profile="snap.a.b" name="/x" pid=1 comm="c" requested_mask="r" denied_mask="r" fsuid=0 ouid=0"#,
        );
        assert_eq!(r.form, Form::Journal);
        assert_eq!(r.serial, None);
        assert_eq!(r.time.map(|t| t.secs), Some(1525183610));
    }

    #[test]
    fn names_of_system_calls() {
        assert_eq!(syscall_name(0xc000_003e, 165).as_deref(), Some("mount"));
        assert_eq!(syscall_name(0x4000_0003, 21).as_deref(), Some("mount"));
        assert_eq!(syscall_name(0x1234, 1), None);
    }
}
