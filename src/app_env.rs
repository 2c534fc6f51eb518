//! The environment the app starts with: the caller's, minus what a secure
//! (setuid) launch must not pass on, plus what the launcher sets.

use crate::invocation::Invocation;
use crate::settings::Env;
use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStringExt;

/// Variables the dynamic loader removes in secure-execution mode (glibc's
/// "unsecvars"). glibc already strips them before we run; the launcher
/// checks again so it does not depend on how it was linked.
pub const UNSAFE_IN_SECURE_MODE: &[&str] = &[
    "GCONV_PATH",
    "GETCONF_DIR",
    "GLIBC_TUNABLES",
    "HOSTALIASES",
    "LD_AUDIT",
    "LD_DEBUG",
    "LD_DEBUG_OUTPUT",
    "LD_DYNAMIC_WEAK",
    "LD_HWCAP_MASK",
    "LD_LIBRARY_PATH",
    "LD_ORIGIN_PATH",
    "LD_PRELOAD",
    "LD_PROFILE",
    "LD_SHOW_AUXV",
    "LD_USE_LOAD_BIAS",
    "LOCALDOMAIN",
    "LOCPATH",
    "MALLOC_TRACE",
    "NIS_PATH",
    "NLSPATH",
    "RESOLV_HOST_CONF",
    "RES_OPTIONS",
    "TMPDIR",
    "TZDIR",
];

/// The `PATH` of strictly confined apps.
pub const STRICT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/games:/usr/local/games";

/// Builds `envp` for the app.
pub fn build(env: &Env, secure: bool, inv: &Invocation, cookie: Option<&str>) -> Vec<CString> {
    let mut set: Vec<(&str, &str)> = Vec::new();
    if let Some(c) = cookie {
        set.push(("SNAP_COOKIE", c));
        set.push(("SNAP_CONTEXT", c));
    }
    if !inv.classic {
        set.extend([("PATH", STRICT_PATH), ("SHELL", "/bin/bash"), ("TMPDIR", "/tmp"), ("TEMPDIR", "/tmp")]);
    }
    let keep = |k: &OsString| {
        let k = k.as_encoded_bytes();
        let unsafe_here = secure && UNSAFE_IN_SECURE_MODE.iter().any(|u| u.as_bytes() == k);
        let overridden = set.iter().any(|(s, _)| s.as_bytes() == k);
        !unsafe_here && !overridden
    };
    let mut out: Vec<CString> = env
        .iter()
        .filter(|(k, _)| keep(k))
        .filter_map(|(k, v)| {
            let mut entry = k.clone().into_vec();
            entry.push(b'=');
            entry.extend_from_slice(v.as_encoded_bytes());
            CString::new(entry).ok()
        })
        .collect();
    out.extend(set.iter().filter_map(|(k, v)| CString::new(format!("{k}={v}")).ok()));
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use crate::args::Args;

    fn inv(classic: bool) -> Invocation {
        let args = Args { classic, base: None, security_tag: "snap.demo.b".into(), command: "x".into(), args: vec![] };
        Invocation::new(args, &vec![("SNAP_INSTANCE_NAME".into(), "demo".into())]).unwrap()
    }

    fn strings(v: Vec<CString>) -> Vec<String> {
        v.into_iter().map(|c| c.into_string().unwrap()).collect()
    }

    #[test]
    fn classic_keeps_the_environment_and_adds_the_cookie() {
        let env: Env = vec![("A".into(), "1".into()), ("SNAP_COOKIE".into(), "forged".into()), ("B".into(), "".into())];
        assert_eq!(
            strings(build(&env, true, &inv(true), Some("c00kie"))),
            vec!["A=1", "B=", "SNAP_COOKIE=c00kie", "SNAP_CONTEXT=c00kie"]
        );
        assert_eq!(strings(build(&env, true, &inv(true), None)), vec!["A=1", "SNAP_COOKIE=forged", "B="]);
    }

    #[test]
    fn strict_resets_path_shell_and_tmpdir() {
        let env: Env = vec![("PATH".into(), "/home/u/bin".into()), ("PATH".into(), "/x".into()), ("HOME".into(), "/root".into())];
        assert_eq!(
            strings(build(&env, false, &inv(false), None)),
            vec!["HOME=/root".to_string(), format!("PATH={STRICT_PATH}"), "SHELL=/bin/bash".into(), "TMPDIR=/tmp".into(), "TEMPDIR=/tmp".into()]
        );
    }

    #[test]
    fn the_callers_pwd_is_passed_on_as_it_is_and_none_is_made_up() {
        // systemd gives a service the WorkingDirectory= of its unit and a
        // shell exports PWD; the launcher, like snap-confine, neither drops
        // the caller's nor adds one (its own chdir does not change it).
        for classic in [false, true] {
            let env: Env = vec![("PWD".into(), "/var/snap/hello/x1".into()), ("A".into(), "1".into())];
            let out = strings(build(&env, true, &inv(classic), None));
            assert_eq!(out.iter().filter(|e| e.starts_with("PWD=")).collect::<Vec<_>>(), vec!["PWD=/var/snap/hello/x1"]);
            let env: Env = vec![("A".into(), "1".into())];
            assert!(!strings(build(&env, true, &inv(classic), None)).iter().any(|e| e.starts_with("PWD=")));
        }
    }

    #[test]
    fn secure_mode_strips_loader_variables() {
        let env: Env = vec![("LD_PRELOAD".into(), "/tmp/evil.so".into()), ("GCONV_PATH".into(), "/tmp".into()), ("OK".into(), "1".into())];
        assert_eq!(strings(build(&env, true, &inv(true), None)), vec!["OK=1"]);
        // A launch by root (not secure) passes them on, as the loader would.
        assert_eq!(strings(build(&env, false, &inv(true), None)).len(), 3);
    }
}
