//! The `.src` policy text, parsed without looking at the system.
//!
//! One rule per line: `NAME [ARG0 .. ARG5]` allows a system call, `~NAME
//! [ARG0 .. ARG5]` denies it explicitly (with `EACCES`), `~NAME:ERRNO
//! [ARG0 .. ARG5]` with another errno, one of [`DENIAL_ERRNOS`] (`ENOSYS`
//! for a call libc replaces with an older one when it is missing, as it
//! replaces `clone3` with `clone`). The explicit denials of one system call
//! all use the same errno. Blank lines and lines starting with
//! `#` are ignored; a line reading `@unrestricted` or `@complain` (surrounding
//! blanks allowed) switches the whole file. Each argument token is `-` (any
//! value) or a comparison:
//!
//! * `N`: `arg == N`
//! * `!N`: `arg != N`
//! * `<N`, `<=N`, `>N`, `>=N`: the unsigned comparisons
//! * `|N`: `(arg & N) == N` (all bits of `N` set)
//! * `A|B`: `(arg & A) == B`
//! * `u:NAME`, `g:NAME`: `arg ==` the uid of user `NAME`, the gid of group
//!   `NAME`
//!
//! `N`, `A` and `B` are names from [`constants`] or
//! unsigned decimal numbers that fit 32 bits. Negative numbers are accepted
//! only for the system calls that take user and group ids (and
//! `copy_file_range`); for those only equality is allowed and it compares
//! the low 32 bits, so `-1` matches both the 32-bit and the 64-bit `-1`.
//!
//! User and group names stay names here; the compiler resolves them.

use std::fmt;

use super::constants;

/// Most argument tokens a rule may have (system calls have six arguments).
pub const MAX_ARGS: usize = 6;

/// The mask used for the comparisons of system calls whose arguments may be
/// negative: only the low 32 bits are compared.
pub const LOW_32_BITS: u64 = 0xFFFF_FFFF;

/// System calls whose arguments may be written as negative numbers, because
/// `-1` means "leave unchanged" (the id family) or "use the file position"
/// (`copy_file_range`).
const NEGATIVE_ARGS_ALLOWED: &[&str] = &[
    "chown",
    "chown32",
    "fchown",
    "fchown32",
    "fchownat",
    "lchown",
    "lchown32",
    "setgid",
    "setgid32",
    "setregid",
    "setregid32",
    "setresgid",
    "setresgid32",
    "setreuid",
    "setreuid32",
    "setresuid",
    "setresuid32",
    "setuid",
    "setuid32",
    "copy_file_range",
];

/// Whether `syscall` takes arguments that may be negative, and so gets
/// 32-bit equality comparisons only.
pub fn allows_negative_args(syscall: &str) -> bool {
    NEGATIVE_ARGS_ALLOWED.contains(&syscall)
}

/// A whole parsed `.src` file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Source {
    /// `@unrestricted` was present: no filter at all.
    pub unrestricted: bool,
    /// `@complain` was present: log instead of refusing.
    pub complain: bool,
    /// The rules, in file order.
    pub rules: Vec<Rule>,
}

impl Source {
    /// The rules that need the deny program (`~` lines).
    pub fn denials(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().filter(|r| r.kind == Kind::Deny)
    }
}

/// The errnos an explicit denial may name.
pub const DENIAL_ERRNOS: &[(&str, i32)] = &[("EACCES", libc::EACCES), ("EPERM", libc::EPERM), ("ENOSYS", libc::ENOSYS)];

/// Whether a rule allows or explicitly denies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Allow,
    Deny,
}

/// One rule line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// 1-based line number in the file.
    pub line: usize,
    /// The system call name, without the `~`.
    pub syscall: String,
    pub kind: Kind,
    /// The argument conditions, all of which must hold (`-` tokens produce
    /// none).
    pub args: Vec<ArgCondition>,
    /// The errno an explicit denial names (`~NAME:ERRNO`); `None` for the
    /// default (and for allow rules).
    pub errno: Option<i32>,
}

/// A condition on one argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgCondition {
    /// Argument position, 0 to 5.
    pub index: u32,
    pub comparison: Comparison,
    pub operand: Operand,
}

/// How an argument is compared with the operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    /// `(arg & mask) == operand`.
    MaskedEqual(u64),
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    Value(u64),
    /// A user name, to be resolved to its uid.
    User(String),
    /// A group name, to be resolved to its gid.
    Group(String),
}

/// A syntax error, with the line it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub reason: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot parse line {}: {}", self.line, self.reason)
    }
}

impl std::error::Error for ParseError {}

/// The trimmed text of a directive line, or `None`.
fn directive(line: &str) -> Option<&str> {
    match line.trim() {
        d @ ("@unrestricted" | "@complain") => Some(d),
        _ => None,
    }
}

/// Parses a whole `.src` file. The directives are found first; the rules
/// of an unrestricted file are not read at all (they cannot matter).
pub fn parse(text: &str) -> Result<Source, ParseError> {
    let mut source = Source::default();
    for raw in text.lines() {
        match directive(raw) {
            Some("@unrestricted") => source.unrestricted = true,
            Some(_) => source.complain = true,
            None => {}
        }
    }
    if source.unrestricted {
        return Ok(source);
    }
    for (index, raw) in text.lines().enumerate() {
        if directive(raw).is_none() {
            if let Some(rule) = parse_line(raw, index + 1)? {
                source.rules.push(rule);
            }
        }
    }
    Ok(source)
}

/// Parses one line that is not a directive: `None` for blank lines and
/// comments.
pub fn parse_line(raw: &str, line: usize) -> Result<Option<Rule>, ParseError> {
    let err = |reason: String| ParseError { line, reason };
    let text = raw.trim();
    if text.is_empty() || text.starts_with('#') {
        return Ok(None);
    }
    let mut tokens = text.split_whitespace();
    let Some(first) = tokens.next() else {
        return Ok(None);
    };
    let (kind, syscall) = match first.strip_prefix('~') {
        Some(name) => (Kind::Deny, name),
        None => (Kind::Allow, first),
    };
    let (syscall, errno) = match syscall.split_once(':') {
        None => (syscall, None),
        Some(_) if kind == Kind::Allow => {
            return Err(err(format!("{syscall:?}: only an explicit denial (~) names an errno")));
        }
        Some((name, errno)) => match DENIAL_ERRNOS.iter().find(|(n, _)| *n == errno) {
            Some((_, value)) => (name, Some(*value)),
            None => {
                let known: Vec<&str> = DENIAL_ERRNOS.iter().map(|(n, _)| *n).collect();
                return Err(err(format!("unknown errno {errno:?} (expected one of {})", known.join(", "))));
            }
        },
    };
    if syscall.is_empty() {
        return Err(err("missing system call name after \"~\"".into()));
    }
    let args: Vec<&str> = tokens.collect();
    if args.len() > MAX_ARGS {
        return Err(err(format!(
            "too many arguments for \"{syscall}\": {} given, at most {MAX_ARGS} allowed",
            args.len()
        )));
    }
    let mut conditions = Vec::new();
    for (index, token) in (0u32..).zip(args) {
        let parsed = parse_arg(token, syscall).map_err(|why| err(format!("argument {token:?}: {why}")))?;
        if let Some((comparison, operand)) = parsed {
            conditions.push(ArgCondition {
                index,
                comparison,
                operand,
            });
        }
    }
    Ok(Some(Rule {
        line,
        syscall: syscall.to_owned(),
        kind,
        args: conditions,
        errno,
    }))
}

/// Parses one argument token; `None` for `-`.
fn parse_arg(token: &str, syscall: &str) -> Result<Option<(Comparison, Operand)>, String> {
    if token == "-" {
        return Ok(None);
    }
    let value = |s: &str| number(s, syscall).map(Operand::Value);
    let (comparison, operand) = if let Some(rest) = token.strip_prefix(">=") {
        (Comparison::GreaterOrEqual, value(rest)?)
    } else if let Some(rest) = token.strip_prefix("<=") {
        (Comparison::LessOrEqual, value(rest)?)
    } else if let Some(rest) = token.strip_prefix('!') {
        (Comparison::NotEqual, value(rest)?)
    } else if let Some(rest) = token.strip_prefix('<') {
        (Comparison::Less, value(rest)?)
    } else if let Some(rest) = token.strip_prefix('>') {
        (Comparison::Greater, value(rest)?)
    } else if let Some(rest) = token.strip_prefix('|') {
        let bits = number(rest, syscall)?;
        (Comparison::MaskedEqual(bits), Operand::Value(bits))
    } else if let Some((mask, expected)) = token.split_once('|') {
        if expected.contains('|') {
            return Err("a masked comparison has exactly one \"|\"".into());
        }
        (Comparison::MaskedEqual(number(mask, syscall)?), value(expected)?)
    } else if let Some(name) = token.strip_prefix("u:") {
        if !is_valid_system_username(name) {
            return Err(format!("{name:?} is not a valid user name"));
        }
        (Comparison::Equal, Operand::User(name.to_owned()))
    } else if let Some(name) = token.strip_prefix("g:") {
        if !is_valid_system_username(name) {
            return Err(format!("{name:?} is not a valid group name"));
        }
        (Comparison::Equal, Operand::Group(name.to_owned()))
    } else {
        (Comparison::Equal, value(token)?)
    };
    if allows_negative_args(syscall) {
        // Compare the low 32 bits only, so a -1 passed as a 32-bit or as a
        // 64-bit value matches alike. Other comparisons would be wrong for
        // negative numbers, so they are refused for these calls.
        if comparison != Comparison::Equal {
            return Err(format!("only plain equality is supported with \"{syscall}\""));
        }
        return Ok(Some((Comparison::MaskedEqual(LOW_32_BITS), operand)));
    }
    Ok(Some((comparison, operand)))
}

/// Reads a value: a symbolic name, an unsigned decimal that fits 32 bits, or
/// (for the calls that allow it) a negative decimal that fits 32 bits, which
/// becomes its 32-bit two's complement.
fn number(text: &str, syscall: &str) -> Result<u64, String> {
    if let Some(value) = constants::lookup(text) {
        return Ok(value);
    }
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if all_digits(text) {
        return text
            .parse::<u32>()
            .map(u64::from)
            .map_err(|_| format!("{text} does not fit in 32 bits"));
    }
    if let Some(digits) = text.strip_prefix('-') {
        if all_digits(digits) {
            if !allows_negative_args(syscall) {
                return Err(format!("negative values are not supported with \"{syscall}\""));
            }
            return text
                .parse::<i32>()
                .map(|v| u64::from(v as u32))
                .map_err(|_| format!("{text} does not fit in 32 bits"));
        }
    }
    if text.is_empty() {
        return Err("missing value".into());
    }
    Err(format!(
        "{text:?} is neither a known name nor an unsigned decimal number"
    ))
}

/// Whether `name` is acceptable as a system user or group name in a policy:
/// `^([_][-a-z0-9._]+[_]|[a-z0-9][-a-z0-9._]*)$`.
pub fn is_valid_system_username(name: &str) -> bool {
    let inner = |b: &u8| matches!(b, b'-' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_');
    match name.as_bytes() {
        [b'_', middle @ .., b'_'] => !middle.is_empty() && middle.iter().all(inner),
        [first, rest @ ..] => matches!(first, b'a'..=b'z' | b'0'..=b'9') && rest.iter().all(inner),
        [] => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    // ioctl requests are 32-bit on some targets, so the casts stay.
    #![allow(clippy::unnecessary_cast)]
    use super::*;

    fn rule(line: &str) -> Rule {
        parse_line(line, 1).unwrap().unwrap()
    }

    fn cond(line: &str) -> (Comparison, Operand) {
        let r = rule(line);
        assert_eq!(r.args.len(), 1, "{line}");
        (r.args[0].comparison, r.args[0].operand.clone())
    }

    fn error(line: &str) -> String {
        parse_line(line, 7).unwrap_err().to_string()
    }

    #[test]
    fn plain_rule() {
        let r = rule("read");
        assert_eq!(
            r,
            Rule {
                line: 1,
                syscall: "read".into(),
                kind: Kind::Allow,
                args: vec![],
                errno: None,
            }
        );
    }

    #[test]
    fn a_denial_may_name_its_errno() {
        let r = rule("~clone3:ENOSYS");
        assert_eq!((r.kind, r.syscall.as_str(), r.errno), (Kind::Deny, "clone3", Some(libc::ENOSYS)));
        assert_eq!(rule("~clone:EPERM |CLONE_NEWUSER").errno, Some(libc::EPERM));
        assert_eq!(rule("~ioctl - TIOCSTI").errno, None);
        assert_eq!(
            error("~clone3:EBADF"),
            "cannot parse line 7: unknown errno \"EBADF\" (expected one of EACCES, EPERM, ENOSYS)"
        );
        assert_eq!(
            error("clone3:ENOSYS"),
            "cannot parse line 7: \"clone3:ENOSYS\": only an explicit denial (~) names an errno"
        );
        assert_eq!(error("~:ENOSYS"), "cannot parse line 7: missing system call name after \"~\"");
    }

    #[test]
    fn explicit_denial() {
        let r = rule("~ioctl - TIOCSTI");
        assert_eq!(r.kind, Kind::Deny);
        assert_eq!(r.syscall, "ioctl");
        assert_eq!(
            r.args,
            vec![ArgCondition {
                index: 1,
                comparison: Comparison::Equal,
                operand: Operand::Value(libc::TIOCSTI as u64)
            }]
        );
    }

    #[test]
    fn dash_skips_a_position() {
        let r = rule("socket AF_NETLINK - NETLINK_ROUTE");
        assert_eq!(r.args.len(), 2);
        assert_eq!(r.args[0].index, 0);
        assert_eq!(r.args[0].operand, Operand::Value(16));
        assert_eq!(r.args[1].index, 2);
        assert_eq!(r.args[1].operand, Operand::Value(0));
        assert!(rule("read - - - - - -").args.is_empty());
    }

    #[test]
    fn every_operator() {
        assert_eq!(cond("nice 5"), (Comparison::Equal, Operand::Value(5)));
        assert_eq!(cond("nice !5"), (Comparison::NotEqual, Operand::Value(5)));
        assert_eq!(cond("nice <5"), (Comparison::Less, Operand::Value(5)));
        assert_eq!(cond("nice <=19"), (Comparison::LessOrEqual, Operand::Value(19)));
        assert_eq!(cond("nice >5"), (Comparison::Greater, Operand::Value(5)));
        assert_eq!(cond("nice >=5"), (Comparison::GreaterOrEqual, Operand::Value(5)));
        assert_eq!(
            cond("chmod - |S_ISUID"),
            (Comparison::MaskedEqual(0o4000), Operand::Value(0o4000))
        );
        assert_eq!(
            cond("ioctl 4294967295|TIOCSTI"),
            (
                Comparison::MaskedEqual(0xFFFF_FFFF),
                Operand::Value(libc::TIOCSTI as u64)
            )
        );
        assert_eq!(
            cond("mknod - 61440|S_IFREG"),
            (Comparison::MaskedEqual(0o170_000), Operand::Value(0o100_000))
        );
        assert_eq!(cond("kill u:root"), (Comparison::Equal, Operand::User("root".into())));
        assert_eq!(
            cond("kill g:daemon"),
            (Comparison::Equal, Operand::Group("daemon".into()))
        );
    }

    #[test]
    fn operators_take_names_too() {
        assert_eq!(cond("socket !AF_NETLINK"), (Comparison::NotEqual, Operand::Value(16)));
        assert_eq!(
            cond("prctl >=PR_SET_NAME"),
            (Comparison::GreaterOrEqual, Operand::Value(15))
        );
        assert_eq!(
            cond("prctl <=PR_GET_NAME"),
            (Comparison::LessOrEqual, Operand::Value(16))
        );
    }

    #[test]
    fn constants_resolve() {
        assert_eq!(cond("socket AF_INET6"), (Comparison::Equal, Operand::Value(10)));
        assert_eq!(cond("socket PF_INET6"), (Comparison::Equal, Operand::Value(10)));
        assert_eq!(
            cond("unshare CLONE_NEWUSER"),
            (Comparison::Equal, Operand::Value(0x1000_0000))
        );
        assert_eq!(cond("kcmp KCMP_FILE"), (Comparison::Equal, Operand::Value(0)));
        assert_eq!(cond("ptrace PTRACE_PEEKUSR"), (Comparison::Equal, Operand::Value(3)));
        assert_eq!(
            cond("pipe2 |O_NOTIFICATION_PIPE").1,
            Operand::Value(libc::O_EXCL as u64)
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(cond("nice 0"), (Comparison::Equal, Operand::Value(0)));
        assert_eq!(
            cond("nice 4294967295"),
            (Comparison::Equal, Operand::Value(0xFFFF_FFFF))
        );
        assert_eq!(cond("nice 007"), (Comparison::Equal, Operand::Value(7)));
        assert!(error("nice 4294967296").contains("does not fit in 32 bits"));
        assert!(error("nice +5").contains("neither a known name nor an unsigned decimal"));
        assert!(error("nice 0x10").contains("neither a known name nor an unsigned decimal"));
        assert!(error("nice 1_000").contains("neither"));
        assert!(error("nice >=").contains("missing value"));
    }

    #[test]
    fn negative_values_for_id_calls_compare_low_32_bits() {
        let r = rule("setresuid -1 -1 -1");
        assert_eq!(r.args.len(), 3);
        for a in &r.args {
            assert_eq!(a.comparison, Comparison::MaskedEqual(LOW_32_BITS));
            assert_eq!(a.operand, Operand::Value(0xFFFF_FFFF));
        }
        assert_eq!(
            cond("copy_file_range - - - - - -2"),
            (Comparison::MaskedEqual(LOW_32_BITS), Operand::Value(0xFFFF_FFFE))
        );
        assert_eq!(
            cond("setuid -2147483648"),
            (Comparison::MaskedEqual(LOW_32_BITS), Operand::Value(0x8000_0000))
        );
        // Positive values and names for those calls are masked as well.
        assert_eq!(
            cond("setuid 0"),
            (Comparison::MaskedEqual(LOW_32_BITS), Operand::Value(0))
        );
        assert_eq!(
            cond("chown - u:root"),
            (Comparison::MaskedEqual(LOW_32_BITS), Operand::User("root".into()))
        );
        assert_eq!(
            cond("chown - - g:root"),
            (Comparison::MaskedEqual(LOW_32_BITS), Operand::Group("root".into()))
        );
    }

    #[test]
    fn negative_values_are_refused_elsewhere() {
        assert_eq!(
            error("kill -1"),
            "cannot parse line 7: argument \"-1\": negative values are not supported with \"kill\""
        );
        assert!(error("setuid -2147483649").contains("does not fit in 32 bits"));
        assert!(error("setuid >=-1").contains("only plain equality is supported with \"setuid\""));
        assert!(error("setuid !0").contains("only plain equality"));
        assert!(error("chown - |1").contains("only plain equality"));
        assert!(error("chown - 1|1").contains("only plain equality"));
    }

    #[test]
    fn masked_errors() {
        assert!(error("ioctl 1|2|3").contains("exactly one \"|\""));
        assert!(error("ioctl |").contains("missing value"));
        assert!(error("ioctl 1|").contains("missing value"));
        assert!(error("ioctl |NOPE").contains("\"NOPE\" is neither"));
    }

    #[test]
    fn user_and_group_names_are_checked() {
        assert!(error("setuid u:Root").contains("\"Root\" is not a valid user name"));
        assert!(error("setgid g:").contains("\"\" is not a valid group name"));
        assert!(error("setgid g:-x").contains("not a valid group name"));
        assert_eq!(cond("kill u:_snap_daemon_").1, Operand::User("_snap_daemon_".into()));
        assert_eq!(cond("kill u:snap_daemon").1, Operand::User("snap_daemon".into()));
    }

    #[test]
    fn system_username_syntax() {
        for good in [
            "root",
            "daemon",
            "snap_daemon",
            "0day",
            "a",
            "a-b.c_d",
            "___",
            "_a_",
            "_x.y-z_",
        ] {
            assert!(is_valid_system_username(good), "{good}");
        }
        for bad in ["", "_", "__", "_a", "a_B", "Root", "-a", ".a", "a b", "_A_", "a:b", "é"] {
            assert!(!is_valid_system_username(bad), "{bad}");
        }
    }

    #[test]
    fn too_many_arguments() {
        assert!(parse_line("mmap - - - - - -", 1).is_ok());
        assert_eq!(
            error("mmap 1 2 3 4 5 6 7"),
            "cannot parse line 7: too many arguments for \"mmap\": 7 given, at most 6 allowed"
        );
    }

    #[test]
    fn bad_tokens_name_the_line() {
        assert_eq!(
            error("socket AF_NOPE"),
            "cannot parse line 7: argument \"AF_NOPE\": \"AF_NOPE\" is neither a known name nor an unsigned decimal number"
        );
        assert_eq!(error("~"), "cannot parse line 7: missing system call name after \"~\"");
        // No trailing comments: the "#" is an argument token.
        assert!(error("read # why").contains("argument \"#\""));
    }

    #[test]
    fn comments_blanks_and_whitespace() {
        assert_eq!(parse_line("", 1).unwrap(), None);
        assert_eq!(parse_line("   \t ", 1).unwrap(), None);
        assert_eq!(parse_line("# read", 1).unwrap(), None);
        assert_eq!(parse_line("   # indented comment", 1).unwrap(), None);
        let r = rule("\t socket \t AF_UNIX   ");
        assert_eq!(r.syscall, "socket");
        assert_eq!(r.args.len(), 1);
    }

    #[test]
    fn directives_and_line_numbers() {
        let s = parse("# header\n@complain\nread\n\n~ioctl - TIOCSTI\nno_such_call 1\n").unwrap();
        assert!(s.complain);
        assert!(!s.unrestricted);
        let lines: Vec<(usize, &str, Kind)> = s.rules.iter().map(|r| (r.line, r.syscall.as_str(), r.kind)).collect();
        assert_eq!(
            lines,
            vec![
                (3, "read", Kind::Allow),
                (5, "ioctl", Kind::Deny),
                (6, "no_such_call", Kind::Allow)
            ]
        );
        assert_eq!(s.denials().count(), 1);

        let s = parse("  @unrestricted  \nread\nbroken 1 2 3 4 5 6 7\n@complain\n").unwrap();
        assert!(s.unrestricted);
        assert!(s.complain);
        assert!(s.rules.is_empty());

        // Only the whole trimmed line counts as a directive.
        let s = parse("@unrestricted 1\n@complainx\n").unwrap();
        assert!(!s.unrestricted && !s.complain);
        assert_eq!(s.rules.len(), 2);
    }

    #[test]
    fn errors_carry_the_file_line() {
        let e = parse("read\n# c\nwrite 1 2 3 4 5 6 7\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.to_string().starts_with("cannot parse line 3: too many arguments"));
    }

    #[test]
    fn crlf_line_endings() {
        let s = parse("read\r\nsocket AF_UNIX\r\n").unwrap();
        assert_eq!(s.rules.len(), 2);
        assert_eq!(s.rules[1].args[0].operand, Operand::Value(1));
    }
}
