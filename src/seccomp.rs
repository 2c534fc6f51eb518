//! Seccomp: the compiled policy for the security tag is read from the
//! policy cache with the same trust checks as snap-confine (every directory
//! from `/` down and the file itself root-owned and not writable by others,
//! checked on the descriptors we read through), then loaded deny program
//! first, allow program second.
//!
//! `<tag>.bin2` is preferred; when it does not exist the older raw
//! `<tag>.bin` written by snapd up to 2.62 (Debian's 2.57.6) is used, with
//! the optional `global.bin` those versions load for every snap.

use crate::apparmor::Labelled;
use crate::config::SECCOMP_DIR;
use crate::debug::Debug;
use crate::error::{Error, Result};
use crate::fs::read_trusted_file;
use crate::privs::{self, Demoted};
use crate::sys::Sys;
use nix::errno::Errno;
use policy_cache::{parse_bin, parse_bin2, Policy, MAX_BIN2_LEN, MAX_BIN_LEN};
use std::time::Duration;

/// A policy file that was read and parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyFile {
    pub path: String,
    pub policy: Policy,
}

/// Everything to load for one launch, in load order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub files: Vec<PolicyFile>,
}

/// Proof that the filter is in place.
#[derive(Debug)]
pub struct Filtered(());

fn read_policy<S: Sys>(
    sys: &S,
    path: &str,
    max: usize,
    parse: fn(&[u8]) -> std::result::Result<Policy, policy_cache::FormatError>,
) -> Result<Option<PolicyFile>> {
    match read_trusted_file(sys, path, max) {
        Ok(bytes) => {
            let policy = parse(&bytes).map_err(|e| Error::because(format!("use {path}"), e.to_string()))?;
            Ok(Some(PolicyFile { path: path.to_string(), policy }))
        }
        Err(e) if e.errno_value() == Some(Errno::ENOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

fn try_read<S: Sys>(sys: &S, tag: &str) -> Result<Option<Loaded>> {
    let bin2 = format!("{SECCOMP_DIR}/{tag}.bin2");
    if let Some(f) = read_policy(sys, &bin2, MAX_BIN2_LEN, parse_bin2)? {
        return Ok(Some(Loaded { files: vec![f] }));
    }
    let bin = format!("{SECCOMP_DIR}/{tag}.bin");
    if let Some(f) = read_policy(sys, &bin, MAX_BIN_LEN, parse_bin)? {
        let mut files = vec![f];
        let global = format!("{SECCOMP_DIR}/global.bin");
        if let Some(g) = read_policy(sys, &global, MAX_BIN_LEN, parse_bin)? {
            files.push(g);
        }
        return Ok(Some(Loaded { files }));
    }
    Ok(None)
}

/// Reads the policy for `tag`, waiting for it to appear for up to `wait`
/// (polling once a second), since the daemon may still be writing it.
pub fn read_for_tag<S: Sys>(sys: &S, tag: &str, wait: Duration, debug: &Debug) -> Result<Loaded> {
    let within = || format!("load the seccomp profile for {tag}");
    let secs = wait.as_secs();
    for waited in 0..=secs {
        if let Some(loaded) = try_read(sys, tag).map_err(|e| e.within(within()))? {
            for f in &loaded.files {
                debug.say(format_args!("seccomp profile {} read", f.path));
            }
            return Ok(loaded);
        }
        if waited == secs {
            break;
        }
        if waited == 0 {
            debug.say(format_args!("waiting up to {secs} s for the seccomp profile of {tag}"));
        }
        sys.sleep(Duration::from_secs(1));
    }
    Err(Error::because(
        within(),
        format!("neither {SECCOMP_DIR}/{tag}.bin2 nor {tag}.bin exists (waited {secs} s); the snap's policy has not been generated"),
    ))
}

/// Loads the filters. Runs as the caller with `CAP_SYS_ADMIN` raised, after
/// the exec label was set: the filter may deny what setting it needs.
pub fn install<S: Sys>(sys: &S, loaded: &Loaded, d: &Demoted, _label: Labelled, debug: &Debug) -> Result<Filtered> {
    privs::raise_sys_admin(sys, d)?;
    for f in &loaded.files {
        match &f.policy {
            Policy::Unrestricted => debug.say(format_args!("{} is unrestricted: no seccomp filter", f.path)),
            policy => {
                for program in policy.load_order() {
                    sys.load_seccomp(program).map_err(|e| e.within(format!("use {}", f.path)))?;
                }
                debug.say(format_args!("seccomp filter from {} loaded", f.path));
            }
        }
    }
    Ok(Filtered(()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use crate::sys::fake::FakeSys;
    use policy_cache::{encode_bin, encode_bin2, Program, Which};

    fn prog(n: usize) -> Program {
        Program::from_bytes(Which::Allow, &vec![6u8; 8 * n]).unwrap()
    }

    fn policy_dir(sys: &FakeSys) {
        sys.set_root_mode(0o755);
        for d in ["/var", "/var/lib", "/var/lib/snapd", "/var/lib/snapd/seccomp", SECCOMP_DIR] {
            sys.dir(d, 0o755);
        }
    }

    #[test]
    fn prefers_bin2_then_bin_with_global() {
        let sys = FakeSys::new();
        policy_dir(&sys);
        let p2 = Policy::Filtered { allow: prog(3), deny: Some(prog(2)) };
        let p1 = Policy::Filtered { allow: prog(4), deny: None };
        sys.file(&format!("{SECCOMP_DIR}/snap.a.b.bin"), &encode_bin(&p1).unwrap(), 0o644);
        let got = read_for_tag(&sys, "snap.a.b", Duration::ZERO, &Debug::new(false)).unwrap();
        assert_eq!(got.files, vec![PolicyFile { path: format!("{SECCOMP_DIR}/snap.a.b.bin"), policy: p1.clone() }]);
        sys.file(&format!("{SECCOMP_DIR}/global.bin"), &encode_bin(&Policy::Filtered { allow: prog(1), deny: None }).unwrap(), 0o644);
        assert_eq!(read_for_tag(&sys, "snap.a.b", Duration::ZERO, &Debug::new(false)).unwrap().files.len(), 2);
        sys.file(&format!("{SECCOMP_DIR}/snap.a.b.bin2"), &encode_bin2(&p2).unwrap(), 0o644);
        let got = read_for_tag(&sys, "snap.a.b", Duration::ZERO, &Debug::new(false)).unwrap();
        assert_eq!(got.files, vec![PolicyFile { path: format!("{SECCOMP_DIR}/snap.a.b.bin2"), policy: p2 }]);
    }

    #[test]
    fn waits_then_fails_with_a_clear_message() {
        let sys = FakeSys::new();
        let e = read_for_tag(&sys, "snap.a.b", Duration::from_secs(3), &Debug::new(false)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot load the seccomp profile for snap.a.b: neither /var/lib/snapd/seccomp/bpf/snap.a.b.bin2 nor snap.a.b.bin exists \
             (waited 3 s); the snap's policy has not been generated"
        );
        let sleeps = sys.calls().iter().filter(|c| c.starts_with("sleep")).count();
        assert_eq!(sleeps, 3);
    }

    #[test]
    fn refuses_untrusted_or_malformed_files() {
        let sys = FakeSys::new();
        policy_dir(&sys);
        let path = format!("{SECCOMP_DIR}/snap.a.b.bin2");
        sys.file(&path, b"garbage that is not a header", 0o644);
        assert_eq!(
            read_for_tag(&sys, "snap.a.b", Duration::ZERO, &Debug::new(false)).unwrap_err().to_string(),
            format!("cannot load the seccomp profile for snap.a.b: use {path}: short read on seccomp header")
        );
        sys.file(&path, &encode_bin2(&Policy::Unrestricted).unwrap(), 0o666);
        assert_eq!(
            read_for_tag(&sys, "snap.a.b", Duration::from_secs(100), &Debug::new(false)).unwrap_err().to_string(),
            format!("cannot load the seccomp profile for snap.a.b: trust {path}: it is writable by others (666)")
        );
        // A refusal never waits.
        assert!(!sys.calls().iter().any(|c| c.starts_with("sleep")));
        sys.dir(SECCOMP_DIR, 0o757);
        assert!(read_for_tag(&sys, "snap.a.b", Duration::ZERO, &Debug::new(false))
            .unwrap_err()
            .to_string()
            .contains("trust /var/lib/snapd/seccomp/bpf: it is writable by others (757)"));
    }
}
