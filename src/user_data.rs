//! `SNAP_USER_DATA` is created before the app starts, as snap-confine does.
//! It runs after the launcher became the caller, with no effective
//! capability, so it can only create what the caller could create anyway.

use crate::error::{Error, Result};
use crate::fs::mkpath;
use crate::settings::{lookup, Env};
use crate::sys::Sys;
use nix::errno::Errno;
use nix::sys::stat::Mode;

/// True for absolute paths without `//`, `.` or `..` components and without
/// a trailing slash.
pub fn is_canonical(path: &str) -> bool {
    path.starts_with('/')
        && path.len() > 1
        && !path.ends_with('/')
        && path.split('/').skip(1).all(|c| !c.is_empty() && c != "." && c != "..")
}

/// `~/snap` of `SNAP_USER_DATA` (`~/snap/<instance>/<revision>`), if it has
/// that shape.
fn snap_dir_of(path: &str) -> Option<&str> {
    let (instance_dir, _revision) = path.rsplit_once('/')?;
    let (snap_dir, _instance) = instance_dir.rsplit_once('/')?;
    (snap_dir.ends_with("/snap") && snap_dir.len() > "/snap".len()).then_some(snap_dir)
}

pub fn create<S: Sys>(sys: &S, env: &Env) -> Result<()> {
    let Some(value) = lookup(env, "SNAP_USER_DATA").filter(|v| !v.is_empty()) else {
        return Ok(());
    };
    let path = value.to_str().filter(|p| is_canonical(p)).ok_or_else(|| {
        Error::because(
            format!("use SNAP_USER_DATA={}", value.to_string_lossy().escape_debug()),
            "user data directory must be an absolute canonical path",
        )
    })?;
    // `~/snap` holds the data of every snap of the user: owner only, as
    // `snap run` makes it (CVE-2021-3155); what is below it is 0755.
    let made = match snap_dir_of(path) {
        Some(dir) => mkpath(sys, dir, Mode::from_bits_truncate(0o700)),
        None => Ok(()),
    };
    match made.and_then(|()| mkpath(sys, path, Mode::from_bits_truncate(0o755))) {
        Ok(()) => Ok(()),
        Err(e) if matches!(e.errno_value(), Some(Errno::EROFS | Errno::EACCES))
            && !path.starts_with("/home/")
            && !path.starts_with("/root/") =>
        {
            Err(e.within(format!(
                "create user data directory {path} (home directories outside of /home need configuration, \
                 see https://snapcraft.io/docs/home-outside-home)"
            )))
        }
        Err(e) => Err(e.within(format!("create user data directory {path}"))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use crate::sys::fake::FakeSys;
    use std::ffi::OsString;

    #[test]
    fn canonical_paths() {
        for ok in ["/a", "/home/u/snap/x/1"] {
            assert!(is_canonical(ok), "{ok}");
        }
        for bad in ["", "/", "a/b", "/a/", "//a", "/a//b", "/a/./b", "/a/../b", "/a/.", "/a/.."] {
            assert!(!is_canonical(bad), "{bad}");
        }
    }

    #[test]
    fn creates_the_directory_or_says_why_not() {
        let sys = FakeSys::new();
        let env = |v: &str| vec![(OsString::from("SNAP_USER_DATA"), OsString::from(v))];
        create(&sys, &env("/home/u/snap/a/1")).unwrap();
        assert!(sys.path("/home/u/snap/a/1").is_dir());
        let mode = |p: &str| std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(sys.path(p)).unwrap().permissions()) & 0o7777;
        // ~/snap is the user's alone; what is below it is readable.
        assert_eq!(mode("/home/u/snap"), 0o700);
        assert_eq!(mode("/home/u/snap/a"), 0o755);
        assert_eq!(mode("/home/u/snap/a/1"), 0o755);
        // An existing ~/snap is left as it is.
        std::fs::set_permissions(sys.path("/home/u/snap"), std::os::unix::fs::PermissionsExt::from_mode(0o750)).unwrap();
        create(&sys, &env("/home/u/snap/b/2")).unwrap();
        assert_eq!(mode("/home/u/snap"), 0o750);
        assert_eq!(snap_dir_of("/home/u/snap/a/1"), Some("/home/u/snap"));
        assert_eq!(snap_dir_of("/snap/a/1"), None);
        assert_eq!(snap_dir_of("/home/u/data/a/1"), None);
        create(&sys, &vec![]).unwrap();
        assert_eq!(
            create(&sys, &env("/home/u/../x")).unwrap_err().to_string(),
            "cannot use SNAP_USER_DATA=/home/u/../x: user data directory must be an absolute canonical path"
        );
        sys.fail("mkdirat(srv", Errno::EACCES);
        assert_eq!(
            create(&sys, &env("/srv/u/snap/a/1")).unwrap_err().to_string(),
            "cannot create user data directory /srv/u/snap/a/1 (home directories outside of /home need configuration, \
             see https://snapcraft.io/docs/home-outside-home): create directory /srv: Permission denied"
        );
    }
}
