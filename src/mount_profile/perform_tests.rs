//! Updates carried out behind the syscall seam: the fake records every
//! mount, makes the files the walks make under its root, refuses writes
//! under read-only paths (`EROFS`) until a tmpfs is mounted there, and
//! reports file system types and devices per subtree.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use super::super::{update, Outcome, Request, Target};
use super::*;
use crate::mount_profile::assume::{SQUASHFS_MAGIC, TMPFS_MAGIC};
use crate::sys::fake::FakeSys;
use policy_cache::fstab::MountProfile;

const EXT4: i64 = 0xef53;
const ROOTFS: &str = "tmpfs / tmpfs x-snapd.origin=rootfs 0 0\n";

/// The snap `app` (revision 1) in a namespace as the launcher builds it.
pub fn namespace() -> FakeSys {
    let sys = FakeSys::new();
    sys.dir("/usr/lib/gconv", 0o755);
    sys.file("/usr/lib/libc.so.6", b"elf", 0o644);
    std::os::unix::fs::symlink("libfoo.so.1", sys.path("/usr/lib/libfoo.so")).unwrap();
    sys.dir("/usr/share/doc", 0o755);
    sys.file("/etc/hosts", b"127.0.0.1 localhost\n", 0o644);
    sys.dir("/etc/ssl", 0o755);
    sys.dir("/var/lib", 0o755);
    sys.dir("/snap/app/1/webkit", 0o755);
    sys.dir("/snap/app/1/platform", 0o755);
    sys.file("/snap/app/1/share/app.conf", b"conf\n", 0o644);
    sys.file("/snap/platform/1/lib/libplatform.so", b"elf", 0o644);
    sys.dir("/var/snap/app/1", 0o755);
    sys.dir("/tmp", 0o1777);
    sys.dir("/run/snapd/ns", 0o755);
    sys.set_fs_type("/", TMPFS_MAGIC);
    sys.set_fs_type("/usr", SQUASHFS_MAGIC);
    sys.set_fs_type("/snap", SQUASHFS_MAGIC);
    sys.set_fs_type("/var", SQUASHFS_MAGIC);
    for host in ["/etc", "/var/snap", "/tmp", "/run"] {
        sys.set_fs_type(host, EXT4);
    }
    for ro in ["/usr", "/snap", "/var"] {
        sys.read_only.borrow_mut().push(ro.into());
    }
    // /var/snap is the host's, bound over the base's /var.
    sys.tmpfs_mounts.borrow_mut().push("/var/snap".into());
    sys
}

pub const DESIRED: &str = "\
/snap/app/1/webkit /usr/lib/webkit none rbind,rw,x-snapd.origin=layout 0 0
/snap/app/1/share/app.conf /etc/app.conf none bind,rw,x-snapd.kind=file,x-snapd.origin=layout 0 0
none /usr/share/app none x-snapd.kind=symlink,x-snapd.symlink=/snap/app/1/share,x-snapd.origin=layout 0 0
tmpfs /var/cache/app tmpfs x-snapd.mode=0700,x-snapd.origin=layout 0 0
/snap/platform/1/lib /snap/app/1/platform none bind,ro 0 0
";

fn run(sys: &FakeSys, current: &str, desired: &str) -> (Outcome, crate::error::Result<()>) {
    let proc = sys.open_proc().unwrap();
    let (current, desired) = (MountProfile::parse(current).unwrap(), MountProfile::parse(desired).unwrap());
    let req = Request { instance: "app", snap_name: "app", target: &Target::System, current: &current, desired: &desired };
    update(sys, &proc, &req, &crate::debug::Debug::new(false))
}

/// The calls that change the namespace, in order.
fn effects(sys: &FakeSys) -> Vec<String> {
    let keep = ["mount(", "umount(", "mkdirat(", "symlinkat(", "unlinkat("];
    sys.calls().into_iter().filter(|c| keep.iter().any(|k| c.starts_with(k))).collect()
}

#[test]
fn construction_makes_mimics_where_it_cannot_write_and_records_them() {
    let sys = namespace();
    let (outcome, result) = run(&sys, ROOTFS, DESIRED);
    result.unwrap();
    let saved = outcome.current.to_string();
    let n = |by: &str| format!("x-snapd.synthetic,x-snapd.needed-by={by}");
    let want = [
        ROOTFS.trim_end().to_string(),
        "/snap/platform/1/lib /snap/app/1/platform none bind,ro 0 0".into(),
        // /etc is the host's: a mimic, never a file written there.
        format!("tmpfs /etc tmpfs {},mode=0755,uid={},gid={} 0 0", n("/etc/app.conf"), owner().0, owner().1),
        format!("/etc/hosts /etc/hosts none bind,x-snapd.kind=file,{} 0 0", n("/etc/app.conf")),
        format!("/etc/ssl /etc/ssl none rbind,{},x-snapd.detach 0 0", n("/etc/app.conf")),
        "/snap/app/1/share/app.conf /etc/app.conf none bind,rw,x-snapd.kind=file,x-snapd.origin=layout 0 0".into(),
        // /usr/lib is read-only: a mimic with the library bound back and
        // the symlink made again (symlinks are not recorded).
        format!("tmpfs /usr/lib tmpfs {},mode=0755,uid={},gid={} 0 0", n("/usr/lib/webkit"), owner().0, owner().1),
        // (The fake's installed launcher.)
        format!("/usr/lib/confine /usr/lib/confine none rbind,{},x-snapd.detach 0 0", n("/usr/lib/webkit")),
        format!("/usr/lib/gconv /usr/lib/gconv none rbind,{},x-snapd.detach 0 0", n("/usr/lib/webkit")),
        format!("/usr/lib/libc.so.6 /usr/lib/libc.so.6 none bind,x-snapd.kind=file,{} 0 0", n("/usr/lib/webkit")),
        "/snap/app/1/webkit /usr/lib/webkit none rbind,rw,x-snapd.origin=layout 0 0".into(),
        format!("tmpfs /usr/share tmpfs {},mode=0755,uid={},gid={} 0 0", n("/usr/share/app"), owner().0, owner().1),
        format!("/usr/share/doc /usr/share/doc none rbind,{},x-snapd.detach 0 0", n("/usr/share/app")),
        "none /usr/share/app none x-snapd.kind=symlink,x-snapd.symlink=/snap/app/1/share,x-snapd.origin=layout 0 0".into(),
        // /var/cache is missing: the mimic goes over /var.
        format!("tmpfs /var tmpfs {},mode=0755,uid={},gid={} 0 0", n("/var/cache/app"), owner().0, owner().1),
        format!("/var/lib /var/lib none rbind,{},x-snapd.detach 0 0", n("/var/cache/app")),
        format!("/var/snap /var/snap none rbind,{},x-snapd.detach 0 0", n("/var/cache/app")),
        "tmpfs /var/cache/app tmpfs x-snapd.mode=0700,x-snapd.origin=layout 0 0".into(),
    ];
    assert_eq!(saved.lines().collect::<Vec<_>>(), want);
    let calls = effects(&sys);
    // Nothing was made in the host's /etc before the tmpfs went over it.
    let tmpfs_etc = calls.iter().position(|c| c.starts_with("mount(tmpfs, /etc,")).unwrap();
    let file = calls.iter().position(|c| c.starts_with("mount(fd, /etc/app.conf,")).unwrap();
    assert!(tmpfs_etc < file, "{calls:#?}");
    assert!(!calls[..tmpfs_etc].iter().any(|c| c.contains("app.conf")), "{calls:#?}");
    // The mimic's steps, in order.
    let mimic: Vec<String> = calls.iter().filter(|c| c.contains("/usr/lib") && c.starts_with("mount")).cloned().collect();
    assert_eq!(
        mimic,
        [
            "mount(fd, /tmp/.snap/usr/lib, -, MS_BIND|MS_REC, -)",
            "mount(-, /tmp/.snap/usr/lib, -, MS_REC|MS_PRIVATE, -)",
            "mount(tmpfs, /usr/lib, tmpfs, MS_NOSUID|MS_NODEV, mode=0755,uid=0,gid=0)",
            "mount(fd, /usr/lib/confine, -, MS_BIND|MS_REC, -)",
            "mount(fd, /usr/lib/gconv, -, MS_BIND|MS_REC, -)",
            "mount(fd, /usr/lib/libc.so.6, -, MS_BIND, -)",
            "mount(-, /tmp/.snap/usr/lib, -, MS_REC|MS_PRIVATE, -)",
            "mount(fd, /usr/lib/webkit, -, MS_BIND|MS_REC, -)",
        ]
        .map(|s| s.replace("uid=0,gid=0", &format!("uid={},gid={}", owner().0, owner().1)))
    );
    assert!(calls.contains(&"umount(/tmp/.snap/usr/lib, lazy)".to_string()));
    // Content is bound read-only, keeping the source's flags.
    assert!(calls.contains(&"mount(-, /snap/app/1/platform, -, MS_RDONLY|MS_REMOUNT|MS_BIND, -)".to_string()), "{calls:#?}");
    // The tmpfs layout gets its mode on the mount point it made.
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(sys.path("/var/cache/app")).unwrap().permissions().mode() & 0o7777, 0o700);
    // ... and on the tmpfs itself.
    assert!(calls.contains(&"mount(tmpfs, /var/cache/app, tmpfs, MS_NOSUID|MS_NODEV, mode=0700)".to_string()), "{calls:#?}");
    assert!(std::fs::read_link(sys.path("/usr/share/app")).is_ok());
}

/// The owner of the fake's directories (the test's own ids).
fn owner() -> (u32, u32) {
    (nix::unistd::getuid().as_raw(), nix::unistd::getgid().as_raw())
}

#[test]
fn a_disconnect_unmounts_the_content_and_keeps_the_rest() {
    let sys = namespace();
    let (first, result) = run(&sys, ROOTFS, DESIRED);
    result.unwrap();
    let before = effects(&sys).len();
    let without_content: String = DESIRED.lines().filter(|l| !l.starts_with("/snap/platform")).map(|l| format!("{l}\n")).collect();
    let (second, result) = run(&sys, &first.current.to_string(), &without_content);
    result.unwrap();
    let calls = effects(&sys).split_off(before);
    // The mount point is on the snap's squashfs: it stays.
    assert_eq!(calls, ["mount(-, /snap/app/1/platform, -, MS_REC|MS_PRIVATE, -)", "umount(/snap/app/1/platform, lazy)"]);
    let (first_text, second_text) = (first.current.to_string(), second.current.to_string());
    let gone: Vec<&str> = first_text.lines().filter(|l| !second_text.lines().any(|m| m == *l)).collect();
    assert_eq!(gone, ["/snap/platform/1/lib /snap/app/1/platform none bind,ro 0 0"]);
    // And connecting again mounts it again, nothing else.
    let before = effects(&sys).len();
    let (third, result) = run(&sys, &second.current.to_string(), DESIRED);
    result.unwrap();
    let calls = effects(&sys).split_off(before);
    assert!(calls.iter().all(|c| c.contains("/snap/app/1/platform")), "{calls:#?}");
    assert_eq!(third.current.entries.len(), first.current.entries.len());
}

#[test]
fn planted_symlinks_are_refused() {
    let sys = namespace();
    // The slot snap's exported directory is a symlink to the host's /etc.
    std::fs::remove_dir_all(sys.path("/snap/platform/1/lib")).unwrap();
    std::os::unix::fs::symlink("/etc", sys.path("/snap/platform/1/lib")).unwrap();
    let (outcome, result) = run(&sys, ROOTFS, "/snap/platform/1/lib /snap/app/1/platform none bind,ro 0 0\n");
    // Content is skipped (reported), never bound.
    result.unwrap();
    assert_eq!(outcome.skipped.len(), 1);
    assert!(outcome.skipped[0].1.contains("not a directory"), "{:?}", outcome.skipped);
    assert!(!effects(&sys).iter().any(|c| c.contains("/snap/app/1/platform")), "{:?}", effects(&sys));

    // A layout whose source is a symlink the snap ships fails the update.
    std::os::unix::fs::symlink("/etc", sys.path("/snap/app/1/evil")).unwrap();
    let (_, result) = run(&sys, ROOTFS, "/snap/app/1/evil /opt/evil none rbind,rw,x-snapd.origin=layout 0 0\n");
    let e = result.unwrap_err().to_string();
    assert!(e.contains("cannot apply mount -o rbind,rw,x-snapd.origin=layout /snap/app/1/evil /opt/evil"), "{e}");
    assert!(!effects(&sys).iter().any(|c| c.starts_with("mount(fd, /opt/evil")), "{:?}", effects(&sys));

    // A mount point the snap ships as a symlink, or reached through one.
    std::os::unix::fs::symlink("/etc", sys.path("/snap/app/1/lib")).unwrap();
    for dir in ["/snap/app/1/lib", "/snap/app/1/lib/sub"] {
        let (_, result) = run(&sys, ROOTFS, &format!("/snap/app/1/webkit {dir} none rbind,rw,x-snapd.origin=layout 0 0\n"));
        assert!(result.is_err(), "{dir}");
        assert!(!effects(&sys).iter().any(|c| c.contains(&format!(", {dir},"))), "{:?}", effects(&sys));
    }
    assert!(!sys.path("/etc/sub").exists());
}

#[test]
fn a_failed_mimic_is_undone() {
    let sys = namespace();
    sys.fail("mount(fd, /usr/lib/libc.so.6", Errno::EPERM);
    let (outcome, result) = run(&sys, ROOTFS, "/snap/app/1/webkit /usr/lib/webkit none rbind,rw,x-snapd.origin=layout 0 0\n");
    let e = result.unwrap_err().to_string();
    assert!(e.contains("create writable mimic over \"/usr/lib\""), "{e}");
    let calls = effects(&sys);
    let after: Vec<&str> = calls.iter().map(String::as_str).skip_while(|c| !c.starts_with("mount(fd, /usr/lib/libc.so.6")).skip(1).collect();
    assert_eq!(
        after,
        [
            "mount(-, /usr/lib/gconv, -, MS_REC|MS_PRIVATE, -)",
            "umount(/usr/lib/gconv, lazy)",
            "unlinkat(gconv, dir)",
            "mount(-, /usr/lib/confine, -, MS_REC|MS_PRIVATE, -)",
            "umount(/usr/lib/confine, lazy)",
            "unlinkat(confine, dir)",
            // The squashfs's own /usr/lib is not removed.
            "umount(/usr/lib)",
            "mount(-, /tmp/.snap/usr/lib, -, MS_REC|MS_PRIVATE, -)",
            "umount(/tmp/.snap/usr/lib, lazy)",
            "unlinkat(lib, dir)",
        ]
    );
    // Nothing of the mimic is recorded as mounted.
    assert_eq!(outcome.current.to_string(), ROOTFS);
}

#[test]
fn mounts_never_land_where_they_reach_the_host() {
    let sys = namespace();
    sys.dir("/media", 0o755);
    let (outcome, result) = run(&sys, ROOTFS, "/snap/platform/1/lib /media/x none bind,ro 0 0\n");
    result.unwrap();
    assert!(outcome.skipped[0].1.contains("mounts there reach the host"), "{:?}", outcome.skipped);
    assert!(!effects(&sys).iter().any(|c| c.contains("/media")));
}

#[test]
fn missing_entries_marked_so_are_ignored_quietly() {
    let sys = namespace();
    let (outcome, result) = run(&sys, ROOTFS, "/run/user/1000/doc/by-app/snap.app /run/user/1000/doc none bind,rw,x-snapd.ignore-missing 0 0\n");
    result.unwrap();
    assert!(outcome.skipped.is_empty() && outcome.made.len() == 1, "{outcome:?}");
    assert!(!sys.path("/run/user").exists());
}

#[test]
fn options_split_into_flags_and_data() {
    let (f, d) = split_options(&["rbind".into(), "ro".into(), "nosuid".into(), "mode=0755".into(), "x-snapd.origin=layout".into(), "rslave".into()]);
    assert_eq!(f, MsFlags::MS_BIND | MsFlags::MS_REC | MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_SLAVE);
    assert_eq!(d, ["mode=0755"]);
}

#[test]
fn a_mimic_opens_each_directory_on_the_way_once_per_change() {
    let sys = namespace();
    for i in 0..60 {
        sys.dir(&format!("/usr/lib/lib{i}"), 0o755);
    }
    let (outcome, result) = run(&sys, ROOTFS, "/snap/app/1/webkit /usr/lib/webkit none rbind,rw,x-snapd.origin=layout 0 0\n");
    result.unwrap();
    // The rootfs kept; the tmpfs, the 60 libraries, gconv, libc, the
    // fake's launcher (bound back); the layout.
    assert_eq!(outcome.made.len(), 66, "{:#?}", outcome.made);
    let calls = sys.calls();
    let opens = |name: &str| calls.iter().filter(|c| **c == format!("openat({name})")).count();
    let total = calls.iter().filter(|c| c.starts_with("openat(")).count();
    // Each bound-back library is opened as the mount point it made and as
    // a source (3 times), and the directories above it once per change or
    // after a mount over them, not once per library: a walk from the root
    // for each path opened /usr 334 times here, and 1254 files in all.
    assert_eq!(opens("lib7"), 3, "{calls:#?}");
    assert!(opens("usr") <= 6, "/usr opened {} times", opens("usr"));
    assert!(opens("lib") <= 12, "/usr/lib opened {} times", opens("lib"));
    assert!(total <= 4 * 60, "{total} opens");
}
