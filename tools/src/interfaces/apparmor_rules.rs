//! Just enough of AppArmor's policy language to ask what a snippet grants:
//! statements split and classified, and path globs matched.
//!
//! Globs follow apparmor.d(5): `*` is any run of characters but `/`, `**`
//! any run including `/`, `?` one character but `/`, `[...]` and `[^...]`
//! character classes, `{a,b}` alternatives (nested), and `@{VAR}` variables
//! (the usual tunables are known; callers can give more, like a snap's
//! `@{SNAP_NAME}`).

use std::collections::BTreeMap;

use regex::Regex;

/// One rule of a snippet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The rule as written (lines joined with single spaces, without the
    /// final comma).
    pub text: String,
    pub kind: Kind,
    /// A `deny` rule.
    pub deny: bool,
    /// An `audit` rule.
    pub audit: bool,
}

/// What a statement is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// `#include <...>` or `#include "..."`.
    Include(String),
    /// A path rule: glob, permissions, whether it needs the caller to own
    /// the file.
    File {
        glob: String,
        perms: String,
        owner: bool,
    },
    Capability(Vec<String>),
    /// `network [family] [type]`.
    Network {
        family: Option<String>,
        sock_type: Option<String>,
    },
    /// `signal (perms) peer=...`: permissions (empty: all), peer glob.
    Signal {
        perms: Vec<String>,
        peer: Option<String>,
    },
    /// `ptrace (perms) peer=...`.
    Ptrace {
        perms: Vec<String>,
        peer: Option<String>,
    },
    Dbus,
    Unix,
    Other,
}

/// Splits a snippet into statements; comments and blank lines are dropped,
/// rules spread over several lines are joined.
pub fn statements(snippet: &str) -> Vec<Statement> {
    let mut out = Vec::new();
    let mut pending = String::new();
    for raw in snippet.lines() {
        let line = raw.trim();
        if let Some(inc) = line.strip_prefix("#include") {
            let target = inc.trim().trim_matches(|c| matches!(c, '<' | '>' | '"')).to_owned();
            out.push(Statement {
                text: line.to_owned(),
                kind: Kind::Include(target),
                deny: false,
                audit: false,
            });
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if !pending.is_empty() {
            pending.push(' ');
        }
        pending.push_str(line);
        if let Some(done) = pending.strip_suffix(',') {
            out.push(classify(done.trim()));
            pending.clear();
        }
    }
    if !pending.trim().is_empty() {
        out.push(classify(pending.trim()));
    }
    out
}

fn classify(text: &str) -> Statement {
    let mut words: Vec<&str> = text.split_whitespace().collect();
    let mut audit = false;
    let mut deny = false;
    let mut owner = false;
    while let Some(first) = words.first().copied() {
        match first {
            "audit" => audit = true,
            "deny" => deny = true,
            "allow" => {}
            "owner" => owner = true,
            _ => break,
        }
        words.remove(0);
    }
    let rest = words.join(" ");
    let head = words.first().copied().unwrap_or("");
    let kind = if head.starts_with('/') || head.starts_with("@{") {
        let glob = head.to_owned();
        let perms = words.get(1).copied().unwrap_or("").to_owned();
        Kind::File { glob, perms, owner }
    } else if head == "capability" {
        Kind::Capability(
            words
                .iter()
                .skip(1)
                .map(|w| w.trim_end_matches(',').to_owned())
                .collect(),
        )
    } else if head == "network" {
        Kind::Network {
            family: words.get(1).map(|s| (*s).to_owned()),
            sock_type: words.get(2).map(|s| (*s).to_owned()),
        }
    } else if head == "signal" || head.starts_with("signal(") {
        let (perms, peer) = perms_and_peer(&rest);
        Kind::Signal { perms, peer }
    } else if head == "ptrace" || head.starts_with("ptrace(") {
        let (perms, peer) = perms_and_peer(&rest);
        Kind::Ptrace { perms, peer }
    } else if head.starts_with("dbus") {
        Kind::Dbus
    } else if head.starts_with("unix") {
        Kind::Unix
    } else {
        Kind::Other
    };
    Statement {
        text: text.to_owned(),
        kind,
        deny,
        audit,
    }
}

/// The `(a, b)` permissions (or a single bare one) and the `peer=` of a
/// signal or ptrace rule.
fn perms_and_peer(rule: &str) -> (Vec<String>, Option<String>) {
    let mut perms = Vec::new();
    if let (Some(open), Some(close)) = (rule.find('('), rule.find(')')) {
        if let Some(inner) = rule.get(open + 1..close) {
            perms = inner
                .split([',', ' '])
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect();
        }
    }
    let peer = rule.split_whitespace().find_map(|w| w.strip_prefix("peer=")).map(|p| {
        p.trim_start_matches('(')
            .trim_start_matches("label=")
            .trim_end_matches(')')
            .trim_matches('"')
            .to_owned()
    });
    (perms, peer)
}

/// The variables of AppArmor's tunables that snippets use.
pub fn default_variables() -> BTreeMap<String, Vec<String>> {
    let v = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    BTreeMap::from([
        ("PROC".to_owned(), v(&["/proc"])),
        ("pid".to_owned(), v(&["{[1-9],[1-9][0-9]*}"])),
        ("pids".to_owned(), v(&["{[1-9],[1-9][0-9]*}"])),
        ("tid".to_owned(), v(&["{[1-9],[1-9][0-9]*}"])),
        ("HOMEDIRS".to_owned(), v(&["/home/"])),
        ("HOME".to_owned(), v(&["/home/*/", "/root/"])),
        ("multiarch".to_owned(), v(&["*-linux-gnu*"])),
        ("run".to_owned(), v(&["/run/", "/var/run/"])),
        ("sys".to_owned(), v(&["/sys/"])),
        ("INSTALL_DIR".to_owned(), v(&["/{,var/lib/snapd/}snap"])),
    ])
}

/// Expands `@{VAR}` references (recursively, at most a few levels).
fn expand_variables(glob: &str, vars: &BTreeMap<String, Vec<String>>) -> String {
    let mut text = glob.to_owned();
    for _ in 0..4 {
        let Some(start) = text.find("@{") else { break };
        let Some(len) = text.get(start..).and_then(|t| t.find('}')) else {
            break;
        };
        let name = text.get(start + 2..start + len).unwrap_or("").to_owned();
        let replacement = match vars.get(&name) {
            Some(values) if values.len() == 1 => values.concat(),
            Some(values) => format!("{{{}}}", values.join(",")),
            // An unknown variable matches any single path component.
            None => "*".to_owned(),
        };
        text.replace_range(start..start + len + 1, &replacement);
    }
    text
}

/// Expands the first `{a,b}` group (and recursively the rest) into the
/// plain globs it stands for; gives up past `limit` results.
fn expand_braces(glob: &str, limit: usize) -> Option<Vec<String>> {
    let chars: Vec<char> = glob.chars().collect();
    // Positions of characters escaped with a backslash do not count.
    let escaped = |i: usize| i > 0 && chars.get(i - 1) == Some(&'\\');
    let Some(open) = chars.iter().enumerate().position(|(i, &c)| c == '{' && !escaped(i)) else {
        return Some(vec![glob.to_owned()]);
    };
    let mut depth = 0usize;
    let mut parts = Vec::new();
    let mut start = open + 1;
    let mut close = None;
    for (i, &c) in chars.iter().enumerate().skip(open) {
        if escaped(i) {
            continue;
        }
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    parts.push(chars.get(start..i)?.iter().collect::<String>());
                    close = Some(i);
                    break;
                }
            }
            ',' if depth == 1 => {
                parts.push(chars.get(start..i)?.iter().collect::<String>());
                start = i + 1;
            }
            _ => {}
        }
    }
    let close = close?;
    let before: String = chars.get(..open)?.iter().collect();
    let after: String = chars.get(close + 1..)?.iter().collect();
    let mut out = Vec::new();
    for part in parts {
        for expanded in expand_braces(&format!("{before}{part}{after}"), limit)? {
            out.push(expanded);
            if out.len() > limit {
                return None;
            }
        }
    }
    Some(out)
}

/// The regular expression of a glob without braces.
fn plain_glob_regex(glob: &str) -> Option<String> {
    let mut re = String::new();
    let chars: Vec<char> = glob.chars().collect();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        match c {
            '*' if chars.get(i + 1) == Some(&'*') => {
                re.push_str(".*");
                i += 1;
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            '[' => {
                let end = chars.iter().skip(i + 1).position(|&c| c == ']')? + i + 1;
                let class: String = chars.get(i + 1..end)?.iter().collect();
                re.push('[');
                re.push_str(&class.replace('\\', "\\\\"));
                re.push(']');
                i = end;
            }
            '\\' => {
                i += 1;
                if let Some(&n) = chars.get(i) {
                    re.push_str(&regex::escape(&n.to_string()));
                }
            }
            c => re.push_str(&regex::escape(&c.to_string())),
        }
        i += 1;
    }
    Some(re)
}

/// Compiles an AppArmor glob into an anchored regular expression. Runs of
/// `/` count as one, as AppArmor treats them.
pub fn glob_regex(glob: &str, vars: &BTreeMap<String, Vec<String>>) -> Option<Regex> {
    let glob = expand_variables(glob, vars);
    let mut alternatives = Vec::new();
    for plain in expand_braces(&glob, 4096)? {
        let mut collapsed = plain;
        while collapsed.contains("//") {
            collapsed = collapsed.replace("//", "/");
        }
        alternatives.push(plain_glob_regex(&collapsed)?);
    }
    Regex::new(&format!("^(?:{})$", alternatives.join("|"))).ok()
}

/// Whether `perms` (a rule's permission letters) include every permission
/// of `wanted` (`r`, `w`, `a`, `l`, `k`, `m`, `x`); `w` implies `a`, and
/// any exec mode (`ix`, `px`, `ux`, ...) counts as `x`.
pub fn perms_cover(perms: &str, wanted: &str) -> bool {
    wanted.chars().all(|p| match p {
        'a' => perms.contains('a') || perms.contains('w'),
        c => perms.contains(c),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn matches(glob: &str, path: &str) -> bool {
        glob_regex(glob, &default_variables()).unwrap().is_match(path)
    }

    #[test]
    fn globs() {
        assert!(matches("/proc/*/fdinfo/*", "/proc/12/fdinfo/3"));
        assert!(!matches("/proc/*/fdinfo/*", "/proc/12/fdinfo/3/x"));
        assert!(matches(
            "@{PROC}/[0-9]*/{,task/[0-9]*/}fdinfo/*",
            "/proc/12/task/13/fdinfo/3"
        ));
        assert!(matches("/var/log/**", "/var/log/a/b/c"));
        assert!(matches("@{HOME}/[^s.]**", "/home/joe/docs/x"));
        assert!(!matches("@{HOME}/[^s.]**", "/home/joe/.ssh/id"));
        assert!(matches("@{HOME}/[^s.]**", "/root/x"));
        assert!(matches("/{,usr/}bin/{kill,pkill}", "/usr/bin/pkill"));
        assert!(matches("/{,usr/}bin/{kill,pkill}", "/bin/kill"));
        assert!(matches("@{PROC}/@{pid}/mounts", "/proc/1/mounts"));
        assert!(!matches("@{PROC}/@{pid}/mounts", "/proc/self/mounts"));
        assert!(matches("/dev/tty?", "/dev/ttyS"));
        assert!(matches("/a\\{b", "/a{b"));
    }

    #[test]
    fn statements_are_split_and_classified() {
        let s = statements(
            "# comment\n#include <abstractions/nameservice>\nowner @{HOME}/ r,\naudit deny @{HOME}/bin wl,\n\
             capability kill,\nsignal (send) peer=snap.*,\nptrace (read),\nnetwork inet stream,\n\
             dbus (send)\n    bus=system\n    peer=(name=x),\n",
        );
        assert_eq!(s.len(), 8);
        assert_eq!(s[0].kind, Kind::Include("abstractions/nameservice".into()));
        assert_eq!(
            s[1].kind,
            Kind::File {
                glob: "@{HOME}/".into(),
                perms: "r".into(),
                owner: true
            }
        );
        assert!(s[2].deny && s[2].audit);
        assert_eq!(s[3].kind, Kind::Capability(vec!["kill".into()]));
        assert_eq!(
            s[4].kind,
            Kind::Signal {
                perms: vec!["send".into()],
                peer: Some("snap.*".into())
            }
        );
        assert_eq!(
            s[5].kind,
            Kind::Ptrace {
                perms: vec!["read".into()],
                peer: None
            }
        );
        assert_eq!(
            s[6].kind,
            Kind::Network {
                family: Some("inet".into()),
                sock_type: Some("stream".into())
            }
        );
        assert_eq!(s[7].kind, Kind::Dbus);
        assert_eq!(s[7].text, "dbus (send) bus=system peer=(name=x)");
    }

    #[test]
    fn permissions() {
        assert!(perms_cover("rwk", "r"));
        assert!(perms_cover("rwk", "a"));
        assert!(perms_cover("mrwklix", "rwx"));
        assert!(!perms_cover("r", "w"));
    }
}
