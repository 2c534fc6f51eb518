//! The Landlock policy of a security tag: what the app may reach where the
//! kernel has no AppArmor, derived from the same interfaces as its AppArmor
//! profile. A small text format of ours, one rule per line:
//!
//! ```text
//! landlock-policy 1                      first line: format and version
//! mode enforce|devmode                   devmode: nothing is enforced
//! apply without-apparmor|always          always: stack on AppArmor too
//! fs RIGHTS PATH                         RIGHTS: read, write, execute, device (comma separated)
//! fs-each RIGHTS PATH [except NAME,...]  RIGHTS on each entry directly in PATH at launch,
//!                                        except hidden ones, one named `snap` and the NAMEs
//!                                        listed; read on PATH itself
//! gpu-driver                             the GPU driver the launcher found: read and execute
//!                                        on the host files its library farms link to, read,
//!                                        write and device use of /dev/nvidia* and read of
//!                                        /dev/nvidia-caps/*, as they are at launch
//! net-bind any|PORT                      TCP bind; "any" leaves binding unrestricted
//! net-connect any|PORT                   TCP connect; likewise
//! scope signal|abstract-unix-socket      signals / abstract sockets only within the sandbox
//! unexpressible TEXT                     what the AppArmor side grants that Landlock cannot say
//! ```
//!
//! Paths may start with a variable the launcher fills in for the caller:
//! `@{HOME}`, `@{SNAP_USER_DATA}`, `@{SNAP_USER_COMMON}`, `@{XDG_RUNTIME_DIR}`,
//! and `@{PROC_SELF}` (the app's own `/proc/<pid>`).
//! Blank lines and lines starting with `#` are ignored. Anything else is an
//! error: the launcher refuses a policy it does not fully understand.

use std::fmt;

/// The format version this code reads and writes.
pub const VERSION: u32 = 1;
/// The largest policy file accepted.
pub const MAX_LEN: usize = 256 * 1024;

/// File-system rights, coarse on purpose: each maps to a set of Landlock
/// access rights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FsRights {
    pub read: bool,
    pub write: bool,
    pub execute: bool,
    pub device: bool,
}

impl fmt::Display for FsRights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = [(self.read, "read"), (self.write, "write"), (self.execute, "execute"), (self.device, "device")]
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, n)| *n)
            .collect();
        f.write_str(&names.join(","))
    }
}

/// A TCP port rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Port {
    Any,
    Number(u16),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Signal,
    AbstractUnixSocket,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    Fs { rights: FsRights, path: String },
    /// The entries of a directory as they are at launch, but for hidden ones,
    /// `snap` (the home interface: the user's files, not other snaps') and
    /// the names in `except`.
    FsEach { rights: FsRights, path: String, except: Vec<String> },
    /// The GPU driver's files and device nodes, as the launcher finds them
    /// in the sandbox at launch.
    GpuDriver,
    NetBind(Port),
    NetConnect(Port),
    Scope(Scope),
    Unexpressible(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Enforce,
    Devmode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Apply {
    /// Only where the kernel has no AppArmor (the default).
    WithoutAppArmor,
    /// Also on top of AppArmor.
    Always,
}

/// A whole policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LandlockPolicy {
    pub mode: Mode,
    pub apply: Apply,
    pub rules: Vec<Rule>,
}

/// Why a policy was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

const VARIABLES: &[&str] = &["@{HOME}", "@{SNAP_USER_DATA}", "@{SNAP_USER_COMMON}", "@{XDG_RUNTIME_DIR}", "@{PROC_SELF}"];

fn parse_rights(text: &str) -> Option<FsRights> {
    let mut r = FsRights::default();
    for word in text.split(',') {
        match word {
            "read" => r.read = true,
            "write" => r.write = true,
            "execute" => r.execute = true,
            "device" => r.device = true,
            _ => return None,
        }
    }
    Some(r)
}

fn valid_path(path: &str) -> bool {
    let rest = VARIABLES.iter().find_map(|v| path.strip_prefix(v)).unwrap_or(path);
    let absolute = path.starts_with('/') || rest.len() < path.len();
    absolute
        && (rest.is_empty() || rest.starts_with('/'))
        && !path.contains("//")
        && rest.split('/').all(|c| c != "." && c != "..")
        && !path.contains(char::is_whitespace)
        && !path.contains("@{") | VARIABLES.iter().any(|v| path.starts_with(v))
}

/// A directory entry's name.
fn valid_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains('/') && !name.contains(char::is_whitespace)
}

fn parse_port(text: &str) -> Option<Port> {
    match text {
        "any" => Some(Port::Any),
        n if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => n.parse().ok().map(Port::Number),
        _ => None,
    }
}

/// Parses a whole policy file.
pub fn parse(text: &str) -> Result<LandlockPolicy, ParseError> {
    let err = |line: usize, m: &str| ParseError { line, message: m.to_string() };
    let mut lines = text.lines().enumerate().map(|(n, l)| (n + 1, l.trim()));
    match lines.next() {
        Some((_, l)) if l == format!("landlock-policy {VERSION}") => {}
        Some((_, l)) if l.starts_with("landlock-policy ") => return Err(err(1, "unsupported format version")),
        _ => return Err(err(1, "not a Landlock policy (expected \"landlock-policy 1\")")),
    }
    let mut policy = LandlockPolicy { mode: Mode::Enforce, apply: Apply::WithoutAppArmor, rules: Vec::new() };
    for (n, line) in lines {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
        let rest = rest.trim();
        match word {
            "mode" => {
                policy.mode = match rest {
                    "enforce" => Mode::Enforce,
                    "devmode" => Mode::Devmode,
                    _ => return Err(err(n, "mode must be enforce or devmode")),
                }
            }
            "apply" => {
                policy.apply = match rest {
                    "without-apparmor" => Apply::WithoutAppArmor,
                    "always" => Apply::Always,
                    _ => return Err(err(n, "apply must be without-apparmor or always")),
                }
            }
            "fs" | "fs-each" => {
                let mut words = rest.split(' ').filter(|w| !w.is_empty());
                let (Some(rights), Some(path)) = (words.next(), words.next()) else {
                    return Err(err(n, "fs needs rights and a path"));
                };
                let rights = parse_rights(rights).ok_or_else(|| err(n, "unknown right"))?;
                if !valid_path(path) {
                    return Err(err(n, "the path must be absolute and canonical, or start with a known variable"));
                }
                let path = path.to_string();
                let except = match (word, words.next(), words.next(), words.next()) {
                    ("fs", None, _, _) | ("fs-each", None, _, _) => Vec::new(),
                    ("fs-each", Some("except"), Some(names), None) => {
                        let names: Vec<String> = names.split(',').map(str::to_string).collect();
                        if !names.iter().all(|n| valid_name(n)) {
                            return Err(err(n, "except needs entry names"));
                        }
                        names
                    }
                    _ => return Err(err(n, "unexpected words after the path")),
                };
                policy.rules.push(if word == "fs" { Rule::Fs { rights, path } } else { Rule::FsEach { rights, path, except } });
            }
            "gpu-driver" if rest.is_empty() => policy.rules.push(Rule::GpuDriver),
            "gpu-driver" => return Err(err(n, "gpu-driver takes no arguments")),
            "net-bind" => policy.rules.push(Rule::NetBind(parse_port(rest).ok_or_else(|| err(n, "bad port"))?)),
            "net-connect" => policy.rules.push(Rule::NetConnect(parse_port(rest).ok_or_else(|| err(n, "bad port"))?)),
            "scope" => policy.rules.push(Rule::Scope(match rest {
                "signal" => Scope::Signal,
                "abstract-unix-socket" => Scope::AbstractUnixSocket,
                _ => return Err(err(n, "unknown scope")),
            })),
            "unexpressible" => policy.rules.push(Rule::Unexpressible(rest.to_string())),
            _ => return Err(err(n, &format!("unknown rule {word:?}"))),
        }
    }
    Ok(policy)
}

impl fmt::Display for LandlockPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "landlock-policy {VERSION}")?;
        writeln!(f, "mode {}", if self.mode == Mode::Enforce { "enforce" } else { "devmode" })?;
        writeln!(f, "apply {}", if self.apply == Apply::Always { "always" } else { "without-apparmor" })?;
        let port = |p: &Port| match p {
            Port::Any => "any".to_string(),
            Port::Number(n) => n.to_string(),
        };
        for rule in &self.rules {
            match rule {
                Rule::Fs { rights, path } => writeln!(f, "fs {rights} {path}")?,
                Rule::FsEach { rights, path, except } if except.is_empty() => writeln!(f, "fs-each {rights} {path}")?,
                Rule::FsEach { rights, path, except } => writeln!(f, "fs-each {rights} {path} except {}", except.join(","))?,
                Rule::GpuDriver => writeln!(f, "gpu-driver")?,
                Rule::NetBind(p) => writeln!(f, "net-bind {}", port(p))?,
                Rule::NetConnect(p) => writeln!(f, "net-connect {}", port(p))?,
                Rule::Scope(Scope::Signal) => writeln!(f, "scope signal")?,
                Rule::Scope(Scope::AbstractUnixSocket) => writeln!(f, "scope abstract-unix-socket")?,
                Rule::Unexpressible(t) => writeln!(f, "unexpressible {t}")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    const SAMPLE: &str = "landlock-policy 1\n\
        # a comment\n\
        mode enforce\n\
        apply without-apparmor\n\
        fs read,execute /snap/hello/1\n\
        fs read,write /var/snap/hello/1\n\
        fs read,write @{SNAP_USER_DATA}\n\
        fs-each read,write @{HOME} except bin,Private\n\
        fs read,write,device /dev/null\n\
        gpu-driver\n\
        net-bind 8080\n\
        net-connect any\n\
        scope signal\n\
        scope abstract-unix-socket\n\
        unexpressible dbus (send) bus=session\n";

    #[test]
    fn round_trip() {
        let p = parse(SAMPLE).unwrap();
        assert_eq!(p.rules.len(), 11);
        assert_eq!(
            p.rules[3],
            Rule::FsEach {
                rights: FsRights { read: true, write: true, ..Default::default() },
                path: "@{HOME}".into(),
                except: vec!["bin".into(), "Private".into()]
            }
        );
        assert_eq!(p.rules[2], Rule::Fs { rights: FsRights { read: true, write: true, ..Default::default() }, path: "@{SNAP_USER_DATA}".into() });
        assert_eq!(p.rules[5], Rule::GpuDriver);
        assert_eq!(p.rules[6], Rule::NetBind(Port::Number(8080)));
        assert_eq!(parse(&p.to_string()).unwrap(), p);
    }

    #[test]
    fn refusals() {
        let bad = |body: &str| parse(&format!("landlock-policy 1\n{body}\n")).unwrap_err().to_string();
        assert_eq!(parse("").unwrap_err().line, 1);
        assert_eq!(parse("landlock-policy 2\n").unwrap_err().message, "unsupported format version");
        assert_eq!(bad("fs read relative/path"), "line 2: the path must be absolute and canonical, or start with a known variable");
        assert_eq!(bad("fs read /a/../b"), "line 2: the path must be absolute and canonical, or start with a known variable");
        assert_eq!(bad("fs read @{EVIL}/x"), "line 2: the path must be absolute and canonical, or start with a known variable");
        assert_eq!(bad("fs read /a/@{HOME}"), "line 2: the path must be absolute and canonical, or start with a known variable");
        assert_eq!(bad("fs fly /a"), "line 2: unknown right");
        assert_eq!(bad("net-bind 70000"), "line 2: bad port");
        assert_eq!(bad("net-bind -1"), "line 2: bad port");
        assert_eq!(bad("mode maybe"), "line 2: mode must be enforce or devmode");
        assert_eq!(bad("frobnicate"), "line 2: unknown rule \"frobnicate\"");
        assert_eq!(bad("scope everything"), "line 2: unknown scope");
        assert_eq!(bad("gpu-driver read"), "line 2: gpu-driver takes no arguments");
        assert_eq!(bad("fs read /a except b"), "line 2: unexpected words after the path");
        assert_eq!(bad("fs-each read /a except"), "line 2: unexpected words after the path");
        assert_eq!(bad("fs-each read /a except b/c"), "line 2: except needs entry names");
        assert_eq!(bad("fs-each read /a except b,,c"), "line 2: except needs entry names");
        assert_eq!(bad("fs-each read /a but b"), "line 2: unexpected words after the path");
    }
}
