#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
use super::*;
use crate::sys::fake::FakeSys;
use naming::InstanceName;

#[test]
fn user_profiles_are_expanded_for_the_user() {
    let mut p = MountProfile::parse(
        "$XDG_RUNTIME_DIR/doc/by-app/snap.app $XDG_RUNTIME_DIR/doc none bind,rw,x-snapd.ignore-missing 0 0\n\
         $HOME/snap/app_foo $HOME/snap/app none rbind,x-snapd.origin=overname 0 0\n\
         $HOMEWARD/x $XDG_RUNTIME_DIRx none bind 0 0\n",
    )
    .unwrap();
    expand_user(&mut p, 1000, Some("/home/u")).unwrap();
    assert_eq!(
        p.to_string(),
        "/run/user/1000/doc/by-app/snap.app /run/user/1000/doc none bind,rw,x-snapd.ignore-missing 0 0\n\
         /home/u/snap/app_foo /home/u/snap/app none rbind,x-snapd.origin=overname 0 0\n\
         $HOMEWARD/x $XDG_RUNTIME_DIRx none bind 0 0\n"
    );
    let mut p = MountProfile::parse("$HOME/snap/a_b $HOME/snap/a none rbind 0 0\n").unwrap();
    let e = expand_user(&mut p, 1000, None).unwrap_err().to_string();
    assert!(e.contains("the user's home directory is not known"), "{e}");
}

#[test]
fn homes_are_checked() {
    let sys = FakeSys::new();
    sys.dir("/home/u", 0o755);
    std::os::unix::fs::symlink(sys.path("/home/u"), sys.path("/home/link")).unwrap();
    let me = nix::unistd::getuid().as_raw();
    let h = |s: &str, uid| plausible_home(&sys, Some(OsStr::new(s)), uid);
    assert_eq!(h("/home/u", me).as_deref(), Some("/home/u"));
    assert_eq!(h("/home/u", me + 1), None, "someone else's");
    for bad in ["/home/link", "/home/u/", "home/u", "/home/../home/u", "", "/", "/home/missing"] {
        assert_eq!(h(bad, me), None, "{bad}");
    }
    assert_eq!(plausible_home(&sys, None, me), None);
}

#[test]
fn profiles_must_be_roots_and_well_formed() {
    let sys = FakeSys::new();
    sys.set_root_mode(0o755);
    for d in ["/var", "/var/lib", "/var/lib/snapd", "/var/lib/snapd/mount"] {
        sys.dir(d, 0o755);
    }
    assert_eq!(load(&sys, &desired_system_profile("app")).unwrap(), MountProfile::default());
    sys.file("/var/lib/snapd/mount/snap.app.fstab", b"/a /b none bind 0 0\n", 0o644);
    assert_eq!(load(&sys, &desired_system_profile("app")).unwrap().entries.len(), 1);
    sys.file("/var/lib/snapd/mount/snap.app.fstab", b"/a /b\n", 0o644);
    let e = load(&sys, &desired_system_profile("app")).unwrap_err().to_string();
    assert!(e.contains("line 1: expected between 3 and 6 fields"), "{e}");
    sys.file("/var/lib/snapd/mount/snap.app.fstab", b"/a /b none bind 0 0\n", 0o666);
    let e = load(&sys, &desired_system_profile("app")).unwrap_err().to_string();
    assert!(e.contains("it is writable by others"), "{e}");
}

#[test]
fn the_current_profile_is_saved_atomically() {
    let sys = FakeSys::new();
    sys.set_root_mode(0o755);
    for d in ["/run", "/run/snapd", "/run/snapd/ns"] {
        sys.dir(d, 0o755);
    }
    let p = MountProfile::parse("tmpfs / tmpfs x-snapd.origin=rootfs 0 0\n/a /b none bind,ro 0 0\n").unwrap();
    save_current(&sys, "app", &p).unwrap();
    assert_eq!(std::fs::read_to_string(sys.path("/run/snapd/ns/snap.app.fstab")).unwrap(), p.to_string());
    let calls: Vec<String> = sys.calls().into_iter().filter(|c| c.starts_with("openat(snap.") || c.starts_with("renameat") || c.starts_with("fchown")).collect();
    let (uid, gid) = sys.trusted_owner();
    assert_eq!(calls, ["openat(snap.app.fstab.XXXXXX)".to_string(), format!("fchown({uid},{gid})"), "renameat(snap.app.fstab.XXXXXX, snap.app.fstab)".into()]);
    // A failed rename leaves no temporary file.
    sys.fail("renameat", Errno::EIO);
    assert!(save_current(&sys, "app", &p).is_err());
    let names: Vec<String> = std::fs::read_dir(sys.path("/run/snapd/ns")).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["snap.app.fstab"]);
}

#[test]
fn a_users_update_runs_without_a_current_profile() {
    let sys = crate::mount_profile::perform::tests::namespace();
    sys.set_root_mode(0o755);
    for d in ["/var/lib/snapd/mount", "/home/u/snap/app_foo", "/home/u/snap/app", "/run/user/1000"] {
        sys.dir(d, 0o755);
    }
    sys.set_fs_type("/home", 0xef53);
    sys.file(
        "/var/lib/snapd/mount/snap.app_foo.user-fstab",
        b"$XDG_RUNTIME_DIR/doc/by-app/snap.app_foo $XDG_RUNTIME_DIR/doc none bind,rw,x-snapd.ignore-missing 0 0\n\
          $HOME/snap/app_foo $HOME/snap/app none rbind,x-snapd.origin=overname 0 0\n",
        0o644,
    );
    let proc = sys.open_proc().unwrap();
    let instance = InstanceName::parse("app_foo").unwrap();
    let outcome = update_user(&sys, &proc, &instance, 1000, Some("/home/u".into()), &Debug::new(false)).unwrap();
    let mounts: Vec<String> = sys.calls().into_iter().filter(|c| c.starts_with("mount(")).collect();
    assert_eq!(mounts, ["mount(fd, /home/u/snap/app, -, MS_BIND|MS_REC, -)"]);
    assert_eq!(outcome.made.len(), 1);
    // Nothing is written as the current profile of a user's namespace.
    assert!(!sys.calls().iter().any(|c| c.starts_with("renameat")));
}
