//! The launch request, validated. Everything the command line and the
//! environment say about the snap is checked here, before any privileged
//! side effect, and the rest of the launcher reads only this value.

use crate::args::Args;
use crate::error::{Error, Result};
use crate::settings::{lookup, Env};
use naming::{ComponentRef, InstanceName, SecurityTag, TagTarget};
use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStringExt;

/// The base used when `--base` is not given.
pub const DEFAULT_BASE: &str = "core";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub tag: SecurityTag,
    pub instance: InstanceName,
    pub component: Option<ComponentRef>,
    pub base: String,
    pub classic: bool,
    /// The command, exactly as given (it is not validated, as in snap-confine).
    pub command: CString,
    /// `argv` for the command: the command itself, then its arguments.
    pub argv: Vec<CString>,
}

fn c_string(s: OsString) -> Result<CString> {
    // Arguments from the kernel cannot hold NUL bytes; refuse rather than guess.
    CString::new(s.into_vec()).map_err(|_| Error::because("use an argument", "it contains a NUL byte"))
}

impl Invocation {
    pub fn new(args: Args, env: &Env) -> Result<Invocation> {
        let instance = match lookup(env, "SNAP_INSTANCE_NAME") {
            None => return Err(Error::because("launch", "SNAP_INSTANCE_NAME is not set")),
            Some(v) => {
                let text = v.to_str().ok_or_else(|| Error::because("use SNAP_INSTANCE_NAME", "it is not UTF-8"))?;
                InstanceName::parse(text)
                    .map_err(|e| Error::because(format!("use snap instance name {:?}", text), e.to_string()))?
            }
        };
        let component = match lookup(env, "SNAP_COMPONENT_NAME").filter(|v| !v.is_empty()) {
            None => None,
            Some(v) => {
                let text = v.to_str().ok_or_else(|| Error::because("use SNAP_COMPONENT_NAME", "it is not UTF-8"))?;
                Some(
                    ComponentRef::parse(text, &instance)
                        .map_err(|e| Error::because(format!("use snap component name {:?}", text), e.to_string()))?,
                )
            }
        };
        let tag_text = args.security_tag.to_str().unwrap_or("");
        let not_allowed = || {
            Error::because(
                "launch",
                format!("security tag {} not allowed", args.security_tag.to_string_lossy().escape_debug()),
            )
        };
        let tag = naming::parse_security_tag(tag_text).map_err(|_| not_allowed())?;
        if tag.instance != instance.as_str() {
            return Err(not_allowed());
        }
        let tag_component = match &tag.target {
            TagTarget::Hook { component, .. } => component.as_deref(),
            TagTarget::App(_) => None,
        };
        if tag_component != component.as_ref().map(|c| c.component.as_str()) {
            return Err(not_allowed());
        }
        let base = match &args.base {
            None => DEFAULT_BASE.to_string(),
            Some(b) => {
                let text = b.to_str().ok_or_else(|| Error::because("use the base", "it is not UTF-8"))?;
                naming::validate_snap_name_as(text, "base snap name")
                    .map_err(|e| Error::because(format!("use base {:?}", text), e.to_string()))?;
                text.to_string()
            }
        };
        let command = c_string(args.command)?;
        let mut argv = vec![command.clone()];
        for a in args.args {
            argv.push(c_string(a)?);
        }
        Ok(Invocation { tag, instance, component, base, classic: args.classic, command, argv })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    fn args(tag: &str, base: Option<&str>) -> Args {
        Args {
            classic: false,
            base: base.map(OsString::from),
            security_tag: tag.into(),
            command: "/bin/true".into(),
            args: vec!["x".into()],
        }
    }

    fn env(pairs: &[(&str, &str)]) -> Env {
        pairs.iter().map(|(k, v)| (OsString::from(k), OsString::from(v))).collect()
    }

    fn err(tag: &str, base: Option<&str>, e: &[(&str, &str)]) -> String {
        Invocation::new(args(tag, base), &env(e)).unwrap_err().to_string()
    }

    #[test]
    fn basic() {
        let inv = Invocation::new(args("snap.foo.app", None), &env(&[("SNAP_INSTANCE_NAME", "foo")])).unwrap();
        assert_eq!(inv.base, "core");
        assert_eq!(inv.instance.as_str(), "foo");
        assert_eq!(inv.argv, vec![CString::new("/bin/true").unwrap(), CString::new("x").unwrap()]);
        let inv = Invocation::new(args("snap.foo_bar.hook.configure", Some("core22")), &env(&[("SNAP_INSTANCE_NAME", "foo_bar")]))
            .unwrap();
        assert_eq!(inv.base, "core22");
        assert_eq!(inv.instance.instance_key(), Some("bar"));
    }

    #[test]
    fn components() {
        let e = env(&[("SNAP_INSTANCE_NAME", "foo_k"), ("SNAP_COMPONENT_NAME", "foo+comp")]);
        let inv = Invocation::new(args("snap.foo_k+comp.hook.install", None), &e).unwrap();
        assert_eq!(inv.component.unwrap().component, "comp");
        assert_eq!(
            err("snap.foo_k.hook.install", None, &[("SNAP_INSTANCE_NAME", "foo_k"), ("SNAP_COMPONENT_NAME", "foo+comp")]),
            "cannot launch: security tag snap.foo_k.hook.install not allowed"
        );
        assert_eq!(
            err("snap.foo+comp.hook.install", None, &[("SNAP_INSTANCE_NAME", "foo")]),
            "cannot launch: security tag snap.foo+comp.hook.install not allowed"
        );
        assert_eq!(
            err("snap.foo+other.hook.install", None, &[("SNAP_INSTANCE_NAME", "foo"), ("SNAP_COMPONENT_NAME", "foo+comp")]),
            "cannot launch: security tag snap.foo+other.hook.install not allowed"
        );
        assert_eq!(
            err("snap.foo+comp.hook.install", None, &[("SNAP_INSTANCE_NAME", "foo"), ("SNAP_COMPONENT_NAME", "bar+comp")]),
            "cannot use snap component name \"bar+comp\": snap name in component must match snap name in instance"
        );
    }

    #[test]
    fn hostile_inputs_are_refused() {
        let foo = [("SNAP_INSTANCE_NAME", "foo")];
        assert_eq!(err("snap.foo.app", None, &[]), "cannot launch: SNAP_INSTANCE_NAME is not set");
        assert_eq!(
            err("snap.foo.app", None, &[("SNAP_INSTANCE_NAME", "../x")]),
            "cannot use snap instance name \"../x\": snap name must use lower case letters, digits or dashes"
        );
        assert_eq!(err("snap.bar.app", None, &foo), "cannot launch: security tag snap.bar.app not allowed");
        assert_eq!(err("snap.foo.app/../..", None, &foo), "cannot launch: security tag snap.foo.app/../.. not allowed");
        assert_eq!(err("snap.foo.app\n", None, &foo), "cannot launch: security tag snap.foo.app\\n not allowed");
        assert_eq!(err("SNAP.foo.app", None, &foo), "cannot launch: security tag SNAP.foo.app not allowed");
        assert_eq!(err("snap..x", None, &foo), "cannot launch: security tag snap..x not allowed");
        let long = format!("snap.foo.{}", "a".repeat(5000));
        assert!(err(&long, None, &foo).ends_with(" not allowed"));
        assert_eq!(
            err("snap.foo.app", Some("../../tmp/evil"), &foo),
            "cannot use base \"../../tmp/evil\": base snap name must use lower case letters, digits or dashes"
        );
        assert_eq!(
            err("snap.foo.app", Some("core\n"), &foo),
            "cannot use base \"core\\n\": base snap name must use lower case letters, digits or dashes"
        );
        // The instance name must match exactly, including its key.
        assert_eq!(
            err("snap.foo.app", None, &[("SNAP_INSTANCE_NAME", "foo_x")]),
            "cannot launch: security tag snap.foo.app not allowed"
        );
        assert_eq!(
            err("snap.foo_x.app", None, &foo),
            "cannot launch: security tag snap.foo_x.app not allowed"
        );
        // The first SNAP_INSTANCE_NAME wins, as with getenv.
        let dup = [("SNAP_INSTANCE_NAME", "bar"), ("SNAP_INSTANCE_NAME", "foo")];
        assert_eq!(err("snap.foo.app", None, &dup), "cannot launch: security tag snap.foo.app not allowed");
    }
}
