#![allow(clippy::unwrap_used, clippy::indexing_slicing)]
use std::fs;
use std::path::{Path, PathBuf};

use super::*;
use crate::deploy::Mode;

const YAML: &str = "name: demo\nversion: '1.0'\napps:\n  app:\n    command: bin/app\n    plugs: [network, home, process-control, serial]\n  tool:\n    command: bin/tool\n    plugs: [network-bind]\nplugs:\n  serial: serial-port\n  big-home:\n    interface: home\n    read: all\n  odd: no-such-interface\n";

struct Fixture {
    _dir: tempfile::TempDir,
    admin: Admin,
    snap_dir: PathBuf,
}

fn fixture(yaml: &str) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let snap_dir = dir.path().join("snap/demo/1");
    fs::create_dir_all(snap_dir.join("meta/hooks")).unwrap();
    fs::write(snap_dir.join("meta/snap.yaml"), yaml).unwrap();
    fs::write(snap_dir.join("meta/hooks/install"), "#!/bin/sh\n").unwrap();
    let mut admin = Admin::new(Paths::new(dir.path().join("root")))
        .unwrap()
        .with_version_info("test");
    admin.parser.mode = Mode::Skip;
    Fixture {
        _dir: dir,
        admin,
        snap_dir,
    }
}

fn plug(s: &str) -> PlugRef {
    parse_plug_ref(s).unwrap()
}

fn profile(f: &Fixture, name: &str) -> String {
    fs::read_to_string(f.admin.paths.apparmor_profiles().join(name)).unwrap()
}

fn rows(f: &Fixture) -> Vec<(String, String, String)> {
    f.admin
        .connections(None)
        .unwrap()
        .into_iter()
        .map(|r| (r.plug, r.slot, r.notes))
        .collect()
}

#[test]
fn register_connects_what_connects_automatically() {
    let f = fixture(YAML);
    let r = f.admin.register(&f.snap_dir, "1", None).unwrap();
    assert_eq!(r.instance, "demo");
    assert_eq!(r.auto_connected, vec!["home", "network", "network-bind"]);
    assert_eq!(r.unknown_interfaces, vec!["odd (no-such-interface)"]);
    assert_eq!(
        rows(&f),
        vec![
            ("demo:big-home".into(), "-".into(), String::new()),
            ("demo:home".into(), "system:home".into(), "auto".into()),
            ("demo:network".into(), "system:network".into(), "auto".into()),
            ("demo:network-bind".into(), "system:network-bind".into(), "auto".into()),
            ("demo:odd".into(), "-".into(), "unsupported interface".into()),
            ("demo:process-control".into(), "-".into(), String::new()),
            ("demo:serial".into(), "-".into(), String::new()),
        ]
    );
    for name in [
        "snap.demo.app",
        "snap.demo.tool",
        "snap.demo.hook.install",
        "snap-update-ns.demo",
    ] {
        assert!(f.admin.paths.apparmor_profiles().join(name).exists(), "{name}");
    }
    assert!(profile(&f, "snap.demo.app").contains("# plug network (interface network)"));
    assert!(!profile(&f, "snap.demo.tool").contains("# plug network (interface network)"));
    assert!(profile(&f, "snap.demo.tool").contains("# plug network-bind (interface network-bind)"));
    assert!(f.admin.paths.seccomp_dir().join("snap.demo.app.bin2").exists());
    assert!(f.admin.paths.device_file("demo").exists());
}

#[test]
fn home_is_manual_on_ubuntu_core() {
    let f = fixture(YAML);
    let os = f.admin.paths.os_release();
    fs::create_dir_all(os.parent().unwrap()).unwrap();
    fs::write(&os, "NAME=\"Ubuntu Core\"\nID=ubuntu-core\n").unwrap();
    let r = f.admin.register(&f.snap_dir, "1", None).unwrap();
    assert_eq!(r.auto_connected, vec!["network", "network-bind"]);
}

#[test]
fn connect_and_disconnect() {
    let f = fixture(YAML);
    f.admin.register(&f.snap_dir, "1", None).unwrap();
    assert!(!profile(&f, "snap.demo.app").contains("signal (send) peer=unconfined"));
    let r = f.admin.connect(&plug("demo:process-control"), None).unwrap().unwrap();
    assert!(r.written.iter().any(|p| p.ends_with("snap.demo.app")));
    assert!(!r.written.iter().any(|p| p.ends_with("snap.demo.tool")), "{r:?}");
    assert!(profile(&f, "snap.demo.app").contains("signal (send) peer=unconfined"));
    // Again: nothing to do.
    assert_eq!(
        f.admin
            .connect(&plug("demo:process-control"), Some(":process-control"))
            .unwrap(),
        None
    );
    f.admin.disconnect(&plug("demo:process-control")).unwrap();
    assert!(!profile(&f, "snap.demo.app").contains("signal (send) peer=unconfined"));
    let e = f.admin.disconnect(&plug("demo:process-control")).unwrap_err().0;
    assert_eq!(e, "cannot disconnect demo:process-control: it is not connected");
}

#[test]
fn disconnected_auto_connections_stay_disconnected() {
    let f = fixture(YAML);
    f.admin.register(&f.snap_dir, "1", None).unwrap();
    f.admin.disconnect(&plug("demo:network")).unwrap();
    let r = f.admin.register(&f.snap_dir, "2", None).unwrap();
    assert!(!r.auto_connected.contains(&"network".to_owned()));
    let rows = rows(&f);
    assert!(
        rows.contains(&("demo:network".into(), "-".into(), "disconnected by the admin".into())),
        "{rows:?}"
    );
    // Connecting by hand clears it.
    f.admin.connect(&plug("demo:network"), None).unwrap();
    assert!(rows_contains(&f, "demo:network", "system:network", "manual"));
}

fn rows_contains(f: &Fixture, p: &str, s: &str, n: &str) -> bool {
    rows(f).contains(&(p.into(), s.into(), n.into()))
}

#[test]
fn revisions_change_the_profiles() {
    let f = fixture(YAML);
    f.admin.register(&f.snap_dir, "1", None).unwrap();
    assert!(profile(&f, "snap.demo.app").contains("@{SNAP_REVISION}=\"1\""));
    f.admin.register(&f.snap_dir, "x2", None).unwrap();
    assert!(profile(&f, "snap.demo.app").contains("@{SNAP_REVISION}=\"x2\""));
}

#[test]
fn devices_are_assigned_through_admin_slots() {
    let f = fixture(YAML);
    f.admin.register(&f.snap_dir, "1", None).unwrap();
    let e = f.admin.connect(&plug("demo:serial"), None).unwrap_err().0;
    assert!(
        e.starts_with("cannot connect demo:serial: no serial-port slot exists"),
        "{e}"
    );
    let cat = catalog().unwrap();
    let attrs = slots::parse_attrs(cat, "serial-port", &["path=/dev/ttyUSB0".into()]).unwrap();
    f.admin.add_slot("usb0", "serial-port", attrs.clone()).unwrap();
    assert!(f
        .admin
        .add_slot("usb0", "serial-port", attrs)
        .unwrap_err()
        .0
        .contains("exists"));
    f.admin.connect(&plug("demo:serial"), None).unwrap();
    let rules = fs::read_to_string(f.admin.paths.udev_rules("demo")).unwrap();
    assert!(
        rules.contains("SUBSYSTEM==\"tty\", KERNEL==\"ttyUSB0\", TAG+=\"snap_demo_app\""),
        "{rules}"
    );
    assert!(profile(&f, "snap.demo.app").contains("/dev/ttyUSB0 rwk,"));
    let e = f.admin.remove_slot("usb0").unwrap_err().0;
    assert_eq!(e, "cannot remove slot usb0: demo:serial connected to it");
    f.admin.disconnect(&plug("demo:serial")).unwrap();
    assert!(!f.admin.paths.udev_rules("demo").exists());
    f.admin.remove_slot("usb0").unwrap();

    // A custom device by path.
    let yaml = YAML.replace("serial: serial-port", "serial: custom-device");
    let g = fixture(&yaml);
    g.admin.register(&g.snap_dir, "1", None).unwrap();
    let attrs = slots::parse_attrs(cat, "custom-device", &["devices=/dev/foo0,/dev/bar/1".into()]).unwrap();
    g.admin.add_slot("foo", "custom-device", attrs).unwrap();
    g.admin.connect(&plug("demo:serial"), Some("system:foo")).unwrap();
    let rules = fs::read_to_string(g.admin.paths.udev_rules("demo")).unwrap();
    assert!(
        rules.contains("KERNEL==\"foo0\", TAG+=\"snap_demo_app\"")
            && rules.contains("KERNEL==\"bar/1\", TAG+=\"snap_demo_app\""),
        "{rules}"
    );
    let rows = g.admin.interfaces().unwrap();
    let custom = rows.iter().find(|r| r.name == "custom-device").unwrap();
    assert_eq!(custom.slots, vec![":foo (devices=/dev/foo0,/dev/bar/1)"]);
}

#[test]
fn slot_errors() {
    let f = fixture(YAML);
    f.admin.register(&f.snap_dir, "1", None).unwrap();
    let cat = catalog().unwrap();
    let none = SlotAttrs::new();
    assert!(f
        .admin
        .add_slot("network", "serial-port", none.clone())
        .unwrap_err()
        .0
        .contains("implicit slot of interface network"));
    assert!(f
        .admin
        .add_slot("x", "home", none.clone())
        .unwrap_err()
        .0
        .contains("takes no slot attributes"));
    assert!(f
        .admin
        .add_slot("x", "serial-port", none)
        .unwrap_err()
        .0
        .contains("without attribute \"path\""));
    assert!(slots::parse_attrs(cat, "serial-port", &["path".into()]).is_err());
    let e = f
        .admin
        .connect(&plug("demo:process-control"), Some(":home"))
        .unwrap_err()
        .0;
    assert_eq!(
        e,
        "cannot connect demo:process-control: slot :home is of interface home, not process-control"
    );
    let e = f
        .admin
        .connect(&plug("demo:process-control"), Some(":nope"))
        .unwrap_err()
        .0;
    assert_eq!(e, "cannot connect demo:process-control: there is no slot :nope");
    let e = f.admin.connect(&plug("demo:odd"), None).unwrap_err().0;
    assert_eq!(
        e,
        "cannot connect demo:odd: interface no-such-interface is not supported"
    );
    let e = f.admin.connect(&plug("demo:nope"), None).unwrap_err().0;
    assert_eq!(e, "cannot find plug \"nope\" of snap demo");
    let e = f.admin.connect(&plug("other:x"), None).unwrap_err().0;
    assert_eq!(e, "cannot find snap \"other\": it is not registered");
}

#[test]
fn unregister_removes_every_file() {
    let f = fixture(YAML);
    f.admin.register(&f.snap_dir, "1", None).unwrap();
    f.admin.register(&f.snap_dir, "1", Some("demo_two")).unwrap();
    f.admin.unregister("demo").unwrap();
    let remaining = |dir: &Path| -> Vec<String> {
        fs::read_dir(dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(remaining(&f.admin.paths.apparmor_profiles())
        .iter()
        .all(|n| n.contains("demo_two")));
    assert!(remaining(&f.admin.paths.seccomp_dir())
        .iter()
        .all(|n| n.contains("demo_two")));
    assert_eq!(
        remaining(&f.admin.paths.landlock_dir()).len(),
        3,
        "the policies of demo_two stay"
    );
    assert!(remaining(&f.admin.paths.landlock_dir())
        .iter()
        .all(|n| n.starts_with("snap.demo_two.")));
    assert!(!f.admin.paths.device_file("demo").exists());
    assert!(f
        .admin
        .connections(None)
        .unwrap()
        .iter()
        .all(|r| r.plug.starts_with("demo_two:")));
    assert_eq!(
        f.admin.unregister("demo").unwrap_err().0,
        "cannot unregister demo: it is not registered"
    );
    f.admin.unregister("demo_two").unwrap();
    assert!(remaining(&f.admin.paths.apparmor_profiles()).is_empty());
    assert!(remaining(&f.admin.paths.landlock_dir()).is_empty());
    assert!(state::read(&f.admin.paths).unwrap().connections.is_empty());
}

#[test]
fn register_errors() {
    let f = fixture(YAML);
    let e = f.admin.register(&f.snap_dir, "0", None).unwrap_err().0;
    assert!(e.starts_with("cannot use revision \"0\""), "{e}");
    let e = f.admin.register(&f.snap_dir, "1", Some("other")).unwrap_err().0;
    assert!(e.contains("the instance name must be the snap's name (demo)"), "{e}");
    let e = f.admin.register(&f.snap_dir, "1", Some("demo_TOO")).unwrap_err().0;
    assert!(e.starts_with("cannot use instance name \"demo_TOO\""), "{e}");
    let e = f.admin.register(Path::new("/nonexistent"), "1", None).unwrap_err().0;
    assert!(e.starts_with("cannot read /nonexistent/meta/snap.yaml"), "{e}");
    fs::write(
        f.snap_dir.join("meta/snap.yaml"),
        "name: demo\nversion: 1\nconfinement: loose\n",
    )
    .unwrap();
    let e = f.admin.register(&f.snap_dir, "1", None).unwrap_err().0;
    assert_eq!(
        e,
        "cannot use snap.yaml: confinement: unknown confinement \"loose\" (expected strict, classic or devmode)"
    );
    assert!(!f.admin.paths.state_file().exists());
}

#[test]
fn plugs_that_disappear_lose_their_connections() {
    let f = fixture(YAML);
    f.admin.register(&f.snap_dir, "1", None).unwrap();
    f.admin.connect(&plug("demo:process-control"), None).unwrap();
    fs::write(
        f.snap_dir.join("meta/snap.yaml"),
        "name: demo\nversion: '2'\napps:\n  app:\n    command: bin/app\n",
    )
    .unwrap();
    let r = f.admin.register(&f.snap_dir, "2", None).unwrap();
    assert!(r.dropped.contains(&"demo:process-control".to_owned()), "{r:?}");
    assert!(!f.admin.paths.apparmor_profiles().join("snap.demo.tool").exists());
}

#[test]
fn the_compiler_line_is_cached_per_executable() {
    let f = fixture(YAML);
    let mut admin = Admin::new(f.admin.paths.clone()).unwrap();
    admin.parser.mode = Mode::Skip;
    admin.register(&f.snap_dir, "1", None).unwrap();
    let line = cached_version_info(&admin.paths).unwrap();
    assert!(line.starts_with("confine-seccomp/"), "{line}");
    let src = fs::read_to_string(admin.paths.seccomp_dir().join("snap.demo.app.src")).unwrap();
    assert!(src.starts_with(&format!("# snap-seccomp version information:\n# {line}\n")));
    // Another executable (a different key) does not get this line.
    fs::write(version_cache(&admin.paths), format!("0 0 0 0.0\n{line}\n")).unwrap();
    assert_eq!(cached_version_info(&admin.paths), None);
}

#[test]
fn landlock_policies_follow_registration_and_connections() {
    let mut f = fixture(YAML);
    f.admin.landlock_always = false;
    f.admin.register(&f.snap_dir, "1", None).unwrap();
    let dir = f.admin.paths.landlock_dir();
    let read = |name: &str| fs::read_to_string(dir.join(name)).unwrap();
    for tag in ["snap.demo.app", "snap.demo.tool", "snap.demo.hook.install"] {
        let text = read(tag);
        assert!(text.contains("\nmode enforce\napply without-apparmor\n"), "{tag}");
        policy_cache::landlock::parse(&text).unwrap();
    }
    let app = read("snap.demo.app");
    assert!(app.contains("\nnet-connect any\n") && app.contains("@{HOME} except bin"), "{app}");
    assert!(app.contains("\nscope signal\n"));
    assert!(read("snap.demo.tool").contains("\nnet-bind any\n"));
    f.admin.connect(&plug("demo:process-control"), None).unwrap();
    assert!(!read("snap.demo.app").contains("\nscope signal\n"));
    f.admin.disconnect(&plug("demo:network")).unwrap();
    assert!(!read("snap.demo.app").contains("net-connect"));
    // CONFINE_LANDLOCK=always, as the command passes it on.
    f.admin.landlock_always = true;
    f.admin.register(&f.snap_dir, "2", None).unwrap();
    assert!(read("snap.demo.app").contains("\nmode enforce\napply always\n"));
    assert!(read("snap.demo.app").contains("/snap/demo/2\n"));
}

#[test]
fn the_landlock_variable() {
    use std::ffi::OsStr;
    assert!(!landlock_always_from(None).unwrap());
    assert!(!landlock_always_from(Some(OsStr::new(""))).unwrap());
    assert!(!landlock_always_from(Some(OsStr::new("without-apparmor"))).unwrap());
    assert!(landlock_always_from(Some(OsStr::new("always"))).unwrap());
    assert_eq!(
        landlock_always_from(Some(OsStr::new("yes"))).unwrap_err().0,
        "cannot use CONFINE_LANDLOCK=yes: it must be always or without-apparmor"
    );
}
