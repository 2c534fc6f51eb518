//! What one audit record says, decoded: an AppArmor decision or a seccomp
//! action.

use std::collections::BTreeMap;

use serde::Serialize;

/// A wall-clock time, as audit records give it (seconds and milliseconds
/// since the epoch, UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Time {
    pub secs: u64,
    pub millis: u32,
}

/// The shape of the line a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Form {
    /// A kernel log message, `audit: type=1400 audit(...): ...` (also with
    /// the `/dev/kmsg`, `dmesg` or syslog prefixes).
    Kernel,
    /// auditd's log, `type=AVC msg=audit(...): ...`.
    Auditd,
    /// The journal's audit transport, `audit[PID]: AVC ...` (no serial).
    Journal,
    /// Only the fields, as a user may paste them.
    Fields,
}

/// One record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Record {
    /// When the kernel made the record, if the line says.
    pub time: Option<Time>,
    /// The audit serial number (the `:770` of `audit(1525183610.173:770)`).
    pub serial: Option<u64>,
    pub form: Form,
    pub event: Event,
}

/// What was decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Event {
    AppArmor(AppArmorEvent),
    Seccomp(SeccompEvent),
}

/// An AppArmor decision (`apparmor="DENIED"` or, in complain mode,
/// `"ALLOWED"`), from the kernel or from dbus-daemon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppArmorEvent {
    /// `DENIED` or `ALLOWED`.
    pub result: String,
    pub operation: String,
    /// The label whose policy decided (`profile=`, or `label=` in D-Bus
    /// records).
    pub profile: String,
    /// Every field of the record, hex-encoded values decoded.
    pub fields: BTreeMap<String, String>,
}

/// A system call that a seccomp filter acted on (`type=1326`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeccompEvent {
    /// The process's AppArmor label (`subj=`), without its mode.
    pub label: Option<String>,
    /// The audit architecture (`arch=c000003e`).
    pub arch: u32,
    /// Its name (`x86_64`, `i386`...), when known.
    pub arch_name: Option<String>,
    /// The system call number, as the kernel saw it.
    pub syscall: u32,
    /// Its name on that architecture, when known.
    pub syscall_name: Option<String>,
    /// The filter's return value (`code=0x50000`).
    pub code: u32,
    /// Every field of the record, hex-encoded values decoded.
    pub fields: BTreeMap<String, String>,
}

impl AppArmorEvent {
    /// A field's value.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields.get(key).map(String::as_str)
    }

    /// A numeric field.
    pub fn number(&self, key: &str) -> Option<u64> {
        self.field(key).and_then(|v| v.parse().ok())
    }

    /// The other side of a signal, ptrace, Unix socket or D-Bus exchange.
    pub fn peer(&self) -> Option<&str> {
        self.field("peer").or_else(|| self.field("peer_label"))
    }

    /// The mask that was denied (`denied_mask`, or `mask` in D-Bus
    /// records), falling back to the requested one.
    pub fn denied(&self) -> &str {
        self.field("denied_mask")
            .filter(|m| !m.is_empty())
            .or_else(|| self.field("requested_mask"))
            .or_else(|| self.field("mask"))
            .unwrap_or("")
    }

    /// Whether this is a complain-mode record (the access went through).
    pub fn allowed(&self) -> bool {
        self.result == "ALLOWED"
    }
}

impl SeccompEvent {
    /// A field's value.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields.get(key).map(String::as_str)
    }

    /// What the filter did, in words (`EPERM`, `kill`...).
    pub fn action(&self) -> Action {
        Action::from_code(self.code)
    }
}

/// A seccomp filter's verdict, from the record's `code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "action", content = "value")]
pub enum Action {
    KillProcess,
    KillThread,
    Trap,
    /// Failed with this errno.
    Errno(u16),
    UserNotif,
    Trace,
    /// Logged and allowed (complain mode).
    Log,
    Allow,
    Unknown(u32),
}

impl Action {
    /// Decodes `SECCOMP_RET_*`.
    pub fn from_code(code: u32) -> Self {
        let data = (code & 0xffff) as u16;
        match code & 0xffff_0000 {
            0x8000_0000 => Action::KillProcess,
            0 => Action::KillThread,
            0x0003_0000 => Action::Trap,
            0x0005_0000 => Action::Errno(data),
            0x7fc0_0000 => Action::UserNotif,
            0x7ff0_0000 => Action::Trace,
            0x7ffc_0000 => Action::Log,
            0x7fff_0000 => Action::Allow,
            _ => Action::Unknown(code),
        }
    }

    /// In words.
    pub fn describe(self) -> String {
        match self {
            Action::KillProcess => "killed the process".into(),
            Action::KillThread => "killed the thread".into(),
            Action::Trap => "sent SIGSYS".into(),
            // The kernel logs the action without its data: the errno is
            // known only when a record carries it.
            Action::Errno(0) => "made the call fail with an error".into(),
            Action::Errno(e) => format!("made the call fail with {}", errno_name(e)),
            Action::UserNotif => "passed the call to a supervisor".into(),
            Action::Trace => "passed the call to a tracer".into(),
            Action::Log => "logged the call and let it run (complain mode)".into(),
            Action::Allow => "let the call run".into(),
            Action::Unknown(c) => format!("returned {c:#x}"),
        }
    }

    /// Whether the call was refused.
    pub fn refused(self) -> bool {
        !matches!(self, Action::Log | Action::Allow)
    }
}

/// `EPERM`, `EACCES`... for the errno values seccomp policies use.
pub fn errno_name(e: u16) -> String {
    match e {
        0 => "success (0)".into(),
        1 => "EPERM".into(),
        2 => "ENOENT".into(),
        13 => "EACCES".into(),
        22 => "EINVAL".into(),
        38 => "ENOSYS".into(),
        95 => "EOPNOTSUPP".into(),
        n => format!("errno {n}"),
    }
}
