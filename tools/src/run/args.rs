//! `snap-run`'s command line, parsed as `snap run` parses it: options
//! first, then the target, then the app's own arguments untouched. Started
//! through a `/snap/bin` wrapper (a link named after the app), the name is
//! the target and every argument is the app's.

use super::Error;
use std::ffi::OsString;
use std::path::Path;

/// A parsed `snap-run` command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// `shell`, `complete`, `stop`, `reload`, `post-stop`.
    pub command: Option<String>,
    pub hook: Option<String>,
    /// `<instance>.<app>`, `<instance>` (the app named like the snap, or
    /// the snap of a hook).
    pub target: String,
    pub args: Vec<OsString>,
    /// `--strace[=OPTIONS]`: strace's extra options, split as a shell would.
    pub strace: Option<Vec<String>>,
    /// `--trace-exec`: the time each program of the start-up took.
    pub trace_exec: bool,
    /// `--debug-log`: debug output of the start-up (`SNAPD_DEBUG=1`).
    pub debug_log: bool,
}

pub const USAGE: &str = "Usage: snap-run [OPTIONS] SNAP[.APP] [ARG...]";

pub const HELP: &str = "\
Usage: snap-run [OPTIONS] SNAP[.APP] [ARG...]

Runs app APP of snap SNAP (the app named like the snap without .APP) in its
sandbox, as the calling user, the way snapd's `snap run` does: the launcher
/usr/lib/confine/snap-confine builds the sandbox, snap-exec starts the app.
The /snap/bin wrappers are links to snap-run named after the app.

Options:
  --shell                 run bash in the app's sandbox instead of the app
  --command=COMMAND       run the app's stop, reload or post-stop command
                          (systemd units), or complete (bash completion)
  --hook=HOOK             run the snap's hook HOOK (no arguments)
  --strace[=OPTIONS]      run the app under strace, attached from outside:
                          the launcher's and snap-exec's calls are left out
                          of the output unless OPTIONS has --raw or -o
  --trace-exec            print how long each program of the start-up ran
  --debug-log             debug output of the start-up (SNAPD_DEBUG=1),
                          with snapd's \"-- snap startup\" stage lines
  --help                  this help

While snapd or confine refreshes the snap (/var/lib/snapd/inhibit), the run
waits and then starts the new revision; a snap being removed is not run.
Apps run in a systemd scope snap.<tag>-<uuid>.scope (the session's systemd,
or the system's for root and hooks); where systemd does not run, in a cgroup
of that name made under the caller's.

Environment: SNAP_CONFINE_DEBUG=1 or SNAPD_DEBUG=1 turn on debug output.
";

fn err(msg: impl Into<String>) -> Error {
    Error(msg.into())
}

/// Parses the command line.
pub fn parse_args(argv: Vec<OsString>) -> Result<Request, Error> {
    let mut it = argv.into_iter();
    let argv0 = it.next().unwrap_or_default();
    let base = Path::new(&argv0).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if !base.is_empty() && base != "snap-run" {
        return Ok(Request { target: base, args: it.collect(), ..Request::default() });
    }
    let mut req = Request::default();
    let mut rest: Vec<OsString> = it.collect();
    let mut taken = 0;
    for a in &rest {
        let Some(opt) = a.to_str().filter(|a| a.starts_with("--")) else { break };
        taken += 1;
        if opt == "--" {
            break;
        }
        match opt {
            "--shell" => req.command = Some("shell".to_string()),
            "--trace-exec" => req.trace_exec = true,
            "--debug-log" => req.debug_log = true,
            "--strace" => req.strace = Some(Vec::new()),
            "--help" => return Err(err(HELP)),
            _ => {
                if let Some(c) = opt.strip_prefix("--command=") {
                    req.command = Some(c.to_string());
                } else if let Some(h) = opt.strip_prefix("--hook=") {
                    req.hook = Some(h.to_string());
                } else if let Some(s) = opt.strip_prefix("--strace=") {
                    req.strace = Some(split_words(s).map_err(|e| err(format!("cannot parse --strace options {s:?}: {e}")))?);
                } else {
                    return Err(err(format!("cannot parse arguments: unknown option {opt}\n{USAGE}")));
                }
            }
        }
    }
    rest.drain(..taken);
    if rest.is_empty() {
        return Err(err(format!("cannot parse arguments: no snap given\n{USAGE}")));
    }
    req.target = rest.remove(0).to_string_lossy().into_owned();
    req.args = rest;
    if req.hook.is_some() && req.command.is_some() {
        return Err(err("cannot parse arguments: use only one of --hook and --command (or --shell)"));
    }
    if let Some(h) = &req.hook {
        if !req.args.is_empty() {
            let extra: Vec<String> = req.args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
            return Err(err(format!("cannot run hook {h:?}: too many arguments: {}", extra.join(" "))));
        }
    }
    if req.strace.is_some() && req.trace_exec {
        return Err(err("cannot parse arguments: use only one of --strace and --trace-exec"));
    }
    Ok(req)
}

/// Splits `text` into words as a shell would: blanks separate words,
/// single quotes keep everything, double quotes keep all but `\"` and `\\`,
/// a backslash outside quotes keeps the next character.
pub fn split_words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => words.extend(word.take()),
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => w.push(c),
                        None => return Err("no closing quote".into()),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\')) => w.push(c),
                            Some(c) => {
                                w.push('\\');
                                w.push(c);
                            }
                            None => return Err("no closing quote".into()),
                        },
                        Some(c) => w.push(c),
                        None => return Err("no closing quote".into()),
                    }
                }
            }
            '\\' => match chars.next() {
                Some(c) => word.get_or_insert_with(String::new).push(c),
                None => return Err("nothing after a backslash".into()),
            },
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    fn args(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn command_lines() {
        let r = parse_args(args(&["/usr/bin/snap-run", "--shell", "hello.app", "-x", "--y"])).unwrap();
        assert_eq!(r, Request { command: Some("shell".into()), target: "hello.app".into(), args: args(&["-x", "--y"]), ..Request::default() });
        let r = parse_args(args(&["snap-run", "--hook=configure", "hello"])).unwrap();
        assert_eq!(r.hook.as_deref(), Some("configure"));
        // Through a wrapper the link's name is the target, and every argument is the app's.
        let r = parse_args(args(&["/snap/bin/hello.app", "--shell"])).unwrap();
        assert_eq!(r, Request { target: "hello.app".into(), args: args(&["--shell"]), ..Request::default() });
        let r = parse_args(args(&["snap-run", "--", "--odd"])).unwrap();
        assert_eq!(r.target, "--odd");
        let r = parse_args(args(&["snap-run", "--strace=-tt -e 'trace=open at' --raw", "--debug-log", "hello", "--strace"])).unwrap();
        assert_eq!(r.strace, Some(vec!["-tt".into(), "-e".into(), "trace=open at".into(), "--raw".into()]));
        assert!(r.debug_log);
        assert_eq!(r.args, args(&["--strace"]), "after the target, everything is the app's");
        assert_eq!(parse_args(args(&["snap-run", "--strace", "x"])).unwrap().strace, Some(vec![]));
        assert!(parse_args(args(&["snap-run", "--trace-exec", "x"])).unwrap().trace_exec);
        assert_eq!(parse_args(args(&["snap-run", "--command=complete", "x", "1"])).unwrap().command.as_deref(), Some("complete"));
    }

    #[test]
    fn bad_command_lines() {
        let e = |v: &[&str]| parse_args(args(v)).unwrap_err().0;
        assert!(e(&["snap-run"]).starts_with("cannot parse arguments: no snap given"));
        assert!(e(&["snap-run", "--bogus", "x"]).starts_with("cannot parse arguments: unknown option --bogus"));
        assert_eq!(e(&["snap-run", "--hook=install", "x", "y"]), "cannot run hook \"install\": too many arguments: y");
        assert!(e(&["snap-run", "--hook=install", "--shell", "x"]).starts_with("cannot parse arguments: use only one of --hook"));
        assert!(e(&["snap-run", "--strace", "--trace-exec", "x"]).starts_with("cannot parse arguments: use only one of --strace"));
        assert_eq!(e(&["snap-run", "--strace=-e 'open", "x"]), "cannot parse --strace options \"-e 'open\": no closing quote");
        assert!(e(&["snap-run", "--help"]).starts_with("Usage: snap-run"));
    }

    #[test]
    fn words() {
        assert_eq!(split_words("").unwrap(), Vec::<String>::new());
        assert_eq!(split_words("  a  b\tc ").unwrap(), ["a", "b", "c"]);
        assert_eq!(split_words(r#"a'b c'd "e \" \\ \f" g\ h ''"#).unwrap(), ["ab cd", r#"e " \ \f"#, "g h", ""]);
        assert!(split_words("\"x").is_err());
        assert!(split_words("x\\").is_err());
    }
}
