//! snap-device-helper: its command line and environment, the udev tag to
//! security tag conversion, and what it changes in an existing v1 or v2
//! device cgroup (and that it never creates one).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use super::*;
use crate::cgroup::bpf::{device_key, MINOR_ANY};
use crate::cgroup::v2::BPF_FS_MAGIC;
use crate::cgroup::{CGROUP2_SUPER_MAGIC, CGROUP_SUPER_MAGIC};
use crate::sys::fake::FakeSys;

fn argv(args: &[&str]) -> Vec<OsString> {
    std::iter::once("snap-device-helper").chain(args.iter().copied()).map(OsString::from).collect()
}

fn env(pairs: &[(&str, &str)]) -> Env {
    pairs.iter().map(|(k, v)| (OsString::from(k), OsString::from(v))).collect()
}

fn event(action: Option<&str>, tag: &str, major: Option<&str>, minor: Option<&str>, subsystem: Option<&str>) -> Event {
    Event {
        udev_tag: tag.into(),
        action: action.map(String::from),
        major: major.map(String::from),
        minor: minor.map(String::from),
        subsystem: subsystem.map(String::from),
    }
}

fn tag(t: &str) -> SecurityTag {
    naming::parse_security_tag(t).unwrap()
}

#[test]
fn command_line_forms() {
    let e = env(&[("ACTION", "add"), ("MAJOR", "4"), ("MINOR", "64"), ("SUBSYSTEM", "tty")]);
    let want = event(Some("add"), "snap_foo_bar", Some("4"), Some("64"), Some("tty"));
    // The form the daemon's rules use, and the short one.
    assert_eq!(Event::from_invocation(&argv(&["add", "snap_foo_bar", "/devices/x", "4:64"]), &e).unwrap(), want);
    assert_eq!(Event::from_invocation(&argv(&["snap_foo_bar"]), &e).unwrap(), want);
    // Only the environment counts for the action and the numbers.
    let other = Event::from_invocation(&argv(&["remove", "snap_foo_bar", "/devices/x", "1:1"]), &e).unwrap();
    assert_eq!(other, want);
    assert_eq!(Event::from_invocation(&argv(&["a", "snap_foo_bar", "b", "c", "d"]), &e).unwrap().udev_tag, "snap_foo_bar");
    for bad in [&[][..], &["add", "snap_foo_bar"], &["add", "snap_foo_bar", "/devices/x"]] {
        assert_eq!(
            Event::from_invocation(&argv(bad), &e).unwrap_err().to_string(),
            "cannot run snap-device-helper: incorrect number of arguments",
            "{bad:?}"
        );
    }
    let missing = Event::from_invocation(&argv(&["snap_foo_bar"]), &env(&[])).unwrap();
    assert_eq!(missing, event(None, "snap_foo_bar", None, None, None));
}

#[test]
fn actions() {
    let t = "snap_foo_bar";
    let c = Rule::char(4, 64);
    let b = Rule { kind: DevKind::Block, major: 8, minor: 4 };
    for action in ["add", "bind", "change"] {
        assert_eq!(decide(&event(Some(action), t, Some("4"), Some("64"), Some("tty"))).unwrap(), Verdict::Allow(tag("snap.foo.bar"), c));
        assert_eq!(decide(&event(Some(action), t, Some("8"), Some("4"), Some("block"))).unwrap(), Verdict::Allow(tag("snap.foo.bar"), b));
    }
    assert_eq!(decide(&event(Some("remove"), t, Some("4"), Some("64"), None)).unwrap(), Verdict::Deny(tag("snap.foo.bar"), c));
    assert_eq!(decide(&event(Some("remove"), t, Some("8"), Some("4"), Some("block"))).unwrap(), Verdict::Deny(tag("snap.foo.bar"), b));
    assert!(matches!(decide(&event(Some("unbind"), t, Some("4"), Some("64"), None)).unwrap(), Verdict::Ignore(_)));
    // No device node, or not a device at all: nothing to do, whatever else.
    assert!(matches!(decide(&event(Some("bogus"), "bogus", None, None, None)).unwrap(), Verdict::Ignore(_)));
    for s in ["subsystem", "module", "drivers"] {
        assert!(matches!(decide(&event(Some("add"), "bogus", Some("1"), Some("2"), Some(s))).unwrap(), Verdict::Ignore(_)), "{s}");
    }
    let err = |e: Event| decide(&e).unwrap_err().to_string();
    assert_eq!(err(event(Some("add"), t, Some("4"), None, None)), "cannot handle a device event: incomplete major/minor");
    assert_eq!(err(event(Some("add"), t, None, Some("64"), None)), "cannot handle a device event: incomplete major/minor");
    assert_eq!(err(event(None, t, Some("4"), Some("64"), None)), "cannot handle a device event: no action given");
    assert_eq!(err(event(Some("badaction"), t, Some("4"), Some("64"), None)), "cannot handle a device event: unknown action \"badaction\"");
    assert_eq!(err(event(Some("add"), t, Some("4x"), Some("64"), None)), "cannot use device number \"4x\": it is not a decimal number");
    for bad in ["", "-1", "+4", " 4", "0x4", "4294967296", "99999999999"] {
        assert!(decide(&event(Some("add"), t, Some(bad), Some("1"), None)).is_err(), "{bad:?}");
    }
    // The wildcard minor cannot be asked for.
    assert!(decide(&event(Some("add"), t, Some("4"), Some(&MINOR_ANY.to_string()), None)).is_err());
}

#[test]
fn udev_tags_to_security_tags() {
    let ok = [
        ("snap_foo_bar", "snap.foo.bar"),
        ("snap_foo_Bar-1", "snap.foo.Bar-1"),
        ("snap_foo-2_bar", "snap.foo-2.bar"),
        ("snap_foo_instance_bar", "snap.foo_instance.bar"),
        ("snap_foo_hook_configure", "snap.foo.hook.configure"),
        ("snap_foo_instance_hook_configure", "snap.foo_instance.hook.configure"),
        ("snap_foo__comp_hook_install", "snap.foo+comp.hook.install"),
        ("snap_foo_instance__comp_hook_install", "snap.foo_instance+comp.hook.install"),
        ("snap_a_b", "snap.a.b"),
    ];
    for (udev, want) in ok {
        assert_eq!(security_tag_of(udev).unwrap().tag, want, "{udev}");
    }
    let bad = [
        "",
        "foo_bar",
        "snap",
        "snap_",
        "snap_foo",
        "snap_foobar",
        "snap_foo_",
        "snap__barbar",
        "snap___bar",
        "snap_#_barbar",
        "snap_foo_bar_baz_qux",
        "snap_foo_toolonginstancekey_bar",
        "snap_foo__comp_install",
        "snap_foo__comp",
        "snap_foo__comp__x_hook_y",
        "snap___comp_hook_install",
        "snap_foo___hook_install",
        "snap_foo_bar.baz",
        "snap_foo_hook_Configure",
        "Snap_foo_bar",
        "snap_thisisverylonginstancenameabovelengthlimit_instancekey_bar",
    ];
    for udev in bad {
        let e = security_tag_of(udev).unwrap_err().to_string();
        assert!(e.starts_with(&format!("cannot use udev tag {udev:?}: ")), "{udev}: {e}");
    }
    let long = format!("snap_foo_{}", "a".repeat(300));
    assert!(security_tag_of(&long).unwrap_err().to_string().ends_with("its length is wrong"));
}

fn v1_host() -> FakeSys {
    let sys = FakeSys::new();
    sys.dir("/sys/fs/cgroup/devices", 0o755);
    sys.set_fs_type("/sys/fs/cgroup/devices", CGROUP_SUPER_MAGIC);
    sys
}

fn udev_env(action: &str, major: &str, minor: &str, subsystem: &str) -> Env {
    env(&[("ACTION", action), ("MAJOR", major), ("MINOR", minor), ("SUBSYSTEM", subsystem)])
}

#[test]
fn v1_changes_only_an_existing_group() {
    let sys = v1_host();
    let add = argv(&["add", "snap_foo_bar", "/devices/virtual/tty/ttyS0", "4:64"]);
    // The app never ran: nothing is created.
    assert_eq!(run(&sys, &add, &udev_env("add", "4", "64", "tty")).unwrap(), Verdict::Allow(tag("snap.foo.bar"), Rule::char(4, 64)));
    assert_eq!(sys.effects(), Vec::<String>::new());
    assert!(!sys.path("/sys/fs/cgroup/devices/snap.foo.bar").exists());
    for f in ["devices.allow", "devices.deny", "tasks"] {
        sys.file(&format!("/sys/fs/cgroup/devices/snap.foo.bar/{f}"), b"", 0o644);
    }
    run(&sys, &add, &udev_env("add", "4", "64", "tty")).unwrap();
    run(&sys, &argv(&["snap_foo_bar"]), &udev_env("remove", "8", "4", "block")).unwrap();
    run(&sys, &argv(&["snap_foo_bar"]), &udev_env("unbind", "8", "4", "block")).unwrap();
    // Never "a" (which would take devices from the running app), never a join.
    assert_eq!(sys.effects(), ["write(c 4:64 rwm)", "write(b 8:4 rwm)"]);
    assert_eq!(std::fs::read_to_string(sys.path("/sys/fs/cgroup/devices/snap.foo.bar/devices.allow")).unwrap(), "c 4:64 rwm\n");
    assert_eq!(std::fs::read_to_string(sys.path("/sys/fs/cgroup/devices/snap.foo.bar/devices.deny")).unwrap(), "b 8:4 rwm\n");
}

#[test]
fn v2_changes_only_an_existing_map() {
    let sys = FakeSys::new();
    sys.dir("/sys/fs/cgroup", 0o755);
    sys.set_fs_type("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC);
    sys.dir("/sys/fs/bpf/snap", 0o700);
    sys.set_fs_type("/sys/fs/bpf", BPF_FS_MAGIC);
    let add = argv(&["add", "snap_foo_bar", "/devices/virtual/tty/ttyS0", "4:64"]);
    run(&sys, &add, &udev_env("add", "4", "64", "tty")).unwrap();
    // No map: none is made, no program is loaded.
    assert_eq!(sys.effects(), ["bpf_obj_get(/sys/fs/bpf/snap/snap_foo_bar)"]);
    assert!(sys.bpf.borrow().maps.is_empty());
    sys.pin_map("/sys/fs/bpf/snap/snap_foo_bar", &[device_key(DevKind::Char, 1, 3).to_vec()]);
    run(&sys, &add, &udev_env("add", "4", "64", "tty")).unwrap();
    run(&sys, &argv(&["snap_foo_bar"]), &udev_env("remove", "4", "64", "tty")).unwrap();
    // Removing what is not there is fine.
    run(&sys, &argv(&["snap_foo_bar"]), &udev_env("remove", "8", "4", "block")).unwrap();
    run(&sys, &argv(&["snap_foo_bar"]), &udev_env("change", "8", "4", "block")).unwrap();
    let effects: Vec<String> = sys.effects().into_iter().filter(|c| !c.starts_with("bpf_obj_get")).collect();
    assert_eq!(
        effects,
        ["bpf_map_update(c 4:64, [1])", "bpf_map_delete(c 4:64)", "bpf_map_delete(b 8:4)", "bpf_map_update(b 8:4, [1])"]
    );
    assert!(!sys.calls().iter().any(|c| c.starts_with("bpf_prog") || c.starts_with("bpf_map_create") || c.starts_with("bpf_map_next_key")));
    let keys = sys.map_keys("/sys/fs/bpf/snap/snap_foo_bar");
    assert_eq!(keys, [device_key(DevKind::Block, 8, 4).to_vec(), device_key(DevKind::Char, 1, 3).to_vec()]);
}

#[test]
fn malformed_input_changes_nothing() {
    let sys = v1_host();
    for f in ["devices.allow", "devices.deny", "tasks"] {
        sys.file(&format!("/sys/fs/cgroup/devices/snap.foo.bar/{f}"), b"", 0o644);
    }
    let cases: [(Vec<OsString>, Env); 5] = [
        (argv(&["snap_foo"]), udev_env("add", "4", "64", "tty")),
        (argv(&["snap_foo_bar"]), udev_env("bogus", "4", "64", "tty")),
        (argv(&["snap_foo_bar"]), env(&[("ACTION", "add"), ("MAJOR", "4")])),
        (argv(&["snap_foo_bar"]), udev_env("add", "4", "x", "tty")),
        (argv(&["snap_foo_bar"]), env(&[("ACTION", "add"), ("MAJOR", "4"), ("MINOR", "64"), ("SNAPD_DEBUG", "maybe")])),
    ];
    for (a, e) in cases {
        assert!(run(&sys, &a, &e).is_err(), "{a:?} {e:?}");
    }
    assert_eq!(sys.effects(), Vec::<String>::new());
}
