//! The cgroup v2 device filter on this host's kernel, through the same
//! system calls the launcher makes (`LinuxSys`): the kernel's verifier
//! accepts the program, and a process in a cgroup2 group with the filter
//! attached opens only the devices in the map. Needs root and a cgroup2
//! mount (this host: /sys/fs/cgroup/unified; unified hosts: /sys/fs/cgroup).
//! The group it makes is removed, and nothing is pinned.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use confine::cgroup::bpf::{self, device_key, DevKind, MINOR_ANY};
use confine::sys::linux::LinuxSys;
use confine::sys::{BpfMapSpec, BpfProgSpec, Sys};
use std::os::fd::{AsFd, AsRawFd};
use std::path::{Path, PathBuf};
use std::process::Command;

fn cgroup2_root() -> PathBuf {
    for p in ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"] {
        if nix::sys::statfs::statfs(p).is_ok_and(|s| s.filesystem_type().0 == confine::cgroup::CGROUP2_SUPER_MAGIC) {
            return PathBuf::from(p);
        }
    }
    panic!("no cgroup2 mount on this host");
}

/// A cgroup2 group, removed at the end.
struct Group(PathBuf);

impl Drop for Group {
    fn drop(&mut self) {
        for _ in 0..100 {
            if std::fs::remove_dir(&self.0).is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}

/// Opens each path read-only in a shell that joined `group`; prints
/// `<path>=ok` or the shell's complaint.
fn try_open_in(group: &Path, paths: &[&str]) -> String {
    let script = format!(
        "echo $$ > {}/cgroup.procs || exit 9; \
         for p in {}; do if msg=$( (exec 3<\"$p\") 2>&1 ); then echo \"$p=ok\"; else echo \"$p=${{msg##*: }}\"; fi; done",
        group.display(),
        paths.join(" ")
    );
    let out = Command::new("/bin/bash").arg("-c").arg(&script).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_filter_passes_the_verifier_and_filters_devices() {
    assert!(nix::unistd::geteuid().is_root(), "the device filter tests must run as root");
    let sys = LinuxSys::new();
    let root = cgroup2_root();
    let group = Group(root.join(format!("confine-devices-test-{}", std::process::id())));
    std::fs::create_dir(&group.0).unwrap();
    let map = sys
        .bpf_map_create(&BpfMapSpec {
            map_type: bpf::MAP_TYPE_HASH,
            key_size: bpf::KEY_SIZE as u32,
            value_size: bpf::VALUE_SIZE as u32,
            max_entries: bpf::MAX_ENTRIES,
            name: "s_test".into(),
        })
        .unwrap();
    for (kind, major, minor) in [(DevKind::Char, 1, 3), (DevKind::Char, 1, 8), (DevKind::Block, 7, MINOR_ANY)] {
        sys.bpf_map_update(map.as_fd(), &device_key(kind, major, minor), &bpf::ALLOWED).unwrap();
    }
    // Keys can be listed and deleted, as a later launch does.
    let first = sys.bpf_map_next_key(map.as_fd(), None, bpf::KEY_SIZE).unwrap().unwrap();
    let mut keys = vec![first];
    while let Some(k) = sys.bpf_map_next_key(map.as_fd(), keys.last().map(Vec::as_slice), bpf::KEY_SIZE).unwrap() {
        keys.push(k);
    }
    assert_eq!(keys.len(), 3);
    sys.bpf_map_delete(map.as_fd(), &device_key(DevKind::Char, 1, 8)).unwrap();
    assert_eq!(sys.bpf_map_delete(map.as_fd(), &device_key(DevKind::Char, 1, 8)), Err(nix::errno::Errno::ENOENT));
    let prog = sys
        .bpf_prog_load(&BpfProgSpec {
            prog_type: bpf::PROG_TYPE_CGROUP_DEVICE,
            insns: bpf::device_program(map.as_raw_fd()),
            license: bpf::LICENSE.into(),
            name: "s_test".into(),
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let dir = std::fs::File::open(&group.0).unwrap();
    sys.bpf_prog_attach_device(prog.as_fd(), dir.as_fd()).unwrap();
    let out = try_open_in(&group.0, &["/dev/null", "/dev/urandom", "/dev/zero", "/dev/loop0"]);
    assert_eq!(out, "/dev/null=ok\n/dev/urandom=Operation not permitted\n/dev/zero=Operation not permitted\n/dev/loop0=ok\n");
    // Outside the group nothing changed.
    let out = Command::new("/bin/sh").arg("-c").arg("exec 3</dev/zero && echo ok").output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok\n");
}

#[test]
fn a_broken_program_is_refused_with_the_verifier_output() {
    let sys = LinuxSys::new();
    let mut insns = bpf::device_program(-1);
    insns.truncate(3);
    let e = sys
        .bpf_prog_load(&BpfProgSpec {
            prog_type: bpf::PROG_TYPE_CGROUP_DEVICE,
            insns,
            license: bpf::LICENSE.into(),
            name: "s_broken".into(),
        })
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("cannot load the BPF program s_broken: "), "{e}");
    assert!(e.contains("verifier output:\n"), "{e}");
}
