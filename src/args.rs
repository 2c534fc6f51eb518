//! The command line, parsed exactly as snap-confine parses it:
//! `snap-confine [--classic] [--base BASE] SECURITY_TAG COMMAND [ARG...]`.
//!
//! Options come first; the first argument that does not start with `-` is
//! the security tag, the next one the command, and everything after it goes
//! to the command untouched, whatever it looks like.

use crate::error::{Error, Result};
use std::ffi::OsString;

pub const USAGE: &str = "Usage: snap-confine [--classic] [--base BASE] SECURITY_TAG COMMAND [ARG...]";

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Version,
    Help,
    Launch(Args),
}

/// A launch request, not yet validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    pub classic: bool,
    pub base: Option<OsString>,
    pub security_tag: OsString,
    pub command: OsString,
    pub args: Vec<OsString>,
}

fn usage(why: impl Into<String>) -> Error {
    Error::because("parse arguments", format!("{}\n{USAGE}", why.into()))
}

/// Parses `argv` (including `argv[0]`, which is ignored; it may be missing).
pub fn parse(argv: Vec<OsString>) -> Result<Command> {
    let mut it = argv.into_iter().skip(1).peekable();
    let mut classic = false;
    let mut base = None;
    while let Some(arg) = it.next_if(|a| a.as_encoded_bytes().first() == Some(&b'-')) {
        match arg.to_str() {
            Some("--version") => return Ok(Command::Version),
            Some("--help") => return Ok(Command::Help),
            Some("--classic") => classic = true,
            Some("--base") => {
                let value = it.next().ok_or_else(|| usage("the --base option requires an argument"))?;
                if base.replace(value).is_some() {
                    return Err(usage("the --base option can be used only once"));
                }
            }
            _ => return Err(usage(format!("unrecognized command line option: {}", arg.to_string_lossy()))),
        }
    }
    let security_tag = it.next().ok_or_else(|| usage("application or hook security tag was not provided"))?;
    let command = it.next().ok_or_else(|| usage("executable name was not provided"))?;
    Ok(Command::Launch(Args { classic, base, security_tag, command, args: it.collect() }))
}

pub const HELP: &str = "\
Usage: snap-confine [--classic] [--base BASE] SECURITY_TAG COMMAND [ARG...]

Runs COMMAND with ARGs in the sandbox of the snap app or hook named by
SECURITY_TAG (snap.<snap>.<app>, snap.<snap>.hook.<hook> or
snap.<snap>+<component>.hook.<hook>). The snap instance comes from the
SNAP_INSTANCE_NAME environment variable and must match the tag.

Options:
  --classic     classic confinement: no private mount namespace
  --base BASE   the base snap providing the root filesystem (default: core)
  --version     print the version and exit
  --help        print this help and exit

Environment:
  SNAP_INSTANCE_NAME             the snap instance (required)
  SNAP_COMPONENT_NAME            <snap>+<component>, for component hooks
  SNAP_CONFINE_DEBUG, SNAPD_DEBUG  1/yes/true for debug output on stderr
  SNAP_CONFINE_MAX_PROFILE_WAIT  seconds to wait for the seccomp profile
                                 (default 120, at most 3600)
";

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    fn p(args: &[&str]) -> Result<Command> {
        parse(args.iter().map(OsString::from).collect())
    }

    fn launch(classic: bool, base: Option<&str>, tag: &str, cmd: &str, rest: &[&str]) -> Command {
        Command::Launch(Args {
            classic,
            base: base.map(OsString::from),
            security_tag: tag.into(),
            command: cmd.into(),
            args: rest.iter().map(OsString::from).collect(),
        })
    }

    fn usage_error(why: &str) -> Result<Command> {
        Err(usage(why))
    }

    #[test]
    fn typical() {
        assert_eq!(p(&["sc", "snap.a.b", "/bin/true"]).unwrap(), launch(false, None, "snap.a.b", "/bin/true", &[]));
        assert_eq!(
            p(&["sc", "--classic", "--base", "core22", "snap.a.b", "cmd", "x"]).unwrap(),
            launch(true, Some("core22"), "snap.a.b", "cmd", &["x"])
        );
        assert_eq!(p(&["sc", "--classic", "--classic", "t", "c"]).unwrap(), launch(true, None, "t", "c", &[]));
    }

    #[test]
    fn everything_after_the_tag_is_the_commands() {
        let rest = ["--classic", "--base=x", "--help", "--", "-v", "--version", ""];
        let mut argv = vec!["sc", "snap.a.b", "-cmd"];
        argv.extend(rest);
        assert_eq!(p(&argv).unwrap(), launch(false, None, "snap.a.b", "-cmd", &rest));
        assert_eq!(p(&["sc", "t", "--version"]).unwrap(), launch(false, None, "t", "--version", &[]));
    }

    #[test]
    fn version_and_help_short_circuit() {
        assert_eq!(p(&["sc", "--version"]).unwrap(), Command::Version);
        assert_eq!(p(&["sc", "--version", "--bogus"]).unwrap(), Command::Version);
        assert_eq!(p(&["sc", "--classic", "--help", "x"]).unwrap(), Command::Help);
    }

    #[test]
    fn errors() {
        assert_eq!(p(&[]), usage_error("application or hook security tag was not provided"));
        assert_eq!(p(&["sc"]), usage_error("application or hook security tag was not provided"));
        assert_eq!(p(&["sc", "t"]), usage_error("executable name was not provided"));
        assert_eq!(p(&["sc", "--base"]), usage_error("the --base option requires an argument"));
        assert_eq!(p(&["sc", "--base", "a", "--base", "b", "t", "c"]), usage_error("the --base option can be used only once"));
        assert_eq!(p(&["sc", "--base=x", "t", "c"]), usage_error("unrecognized command line option: --base=x"));
        assert_eq!(p(&["sc", "--", "t", "c"]), usage_error("unrecognized command line option: --"));
        assert_eq!(p(&["sc", "-", "t", "c"]), usage_error("unrecognized command line option: -"));
        let e = p(&["sc", "--bogus"]).unwrap_err().to_string();
        assert!(e.starts_with("cannot parse arguments: unrecognized command line option: --bogus\nUsage:"), "{e}");
    }

    #[test]
    fn non_utf8_is_carried_or_refused_cleanly() {
        use std::os::unix::ffi::OsStringExt;
        let bad = OsString::from_vec(vec![b'-', 0xff]);
        assert!(parse(vec!["sc".into(), bad]).is_err());
        let arg = OsString::from_vec(vec![0xff, 0xfe]);
        let got = parse(vec!["sc".into(), "t".into(), "c".into(), arg.clone()]).unwrap();
        assert_eq!(got, Command::Launch(Args { classic: false, base: None, security_tag: "t".into(), command: "c".into(), args: vec![arg] }));
    }
}
