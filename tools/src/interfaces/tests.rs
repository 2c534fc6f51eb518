#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
use std::collections::BTreeMap;

use serde_json::json;

use super::*;

fn cat() -> &'static Catalog {
    catalog().unwrap()
}

/// Slot attributes an interface accepts (none for most).
pub(crate) fn sample_attrs(i: &Interface) -> SlotAttrs {
    let mut attrs = SlotAttrs::new();
    for a in &i.slot_attributes {
        let value = match a.name.as_str() {
            "path" => json!("/dev/ttyUSB0"),
            "devices" => json!(["/dev/foo0", "/dev/input/event3"]),
            other => panic!("no sample value for slot attribute {other} of {}", i.name),
        };
        attrs.insert(a.name.clone(), value);
    }
    attrs
}

#[test]
fn every_data_file_is_built_in_and_loads() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/interfaces");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .trim_end_matches(".yaml")
                .to_owned()
        })
        .collect();
    on_disk.sort();
    let built_in: Vec<&str> = cat().all().iter().map(|i| i.name.as_str()).collect();
    assert_eq!(on_disk, built_in);
}

#[test]
fn the_required_interfaces_exist_with_their_auto_connection() {
    let expect = [
        ("network", AutoConnect::Always),
        ("network-bind", AutoConnect::Always),
        ("home", AutoConnect::OnClassic),
        ("process-control", AutoConnect::Never),
        ("system-observe", AutoConnect::Never),
        ("mount-observe", AutoConnect::Never),
        ("log-observe", AutoConnect::Never),
        ("hardware-observe", AutoConnect::Never),
        ("removable-media", AutoConnect::Never),
        ("serial-port", AutoConnect::Never),
        ("custom-device", AutoConnect::Never),
    ];
    for (name, auto) in expect {
        let i = cat().get(name).unwrap_or_else(|| panic!("{name} is missing"));
        assert_eq!(i.auto_connect, auto, "{name}");
        assert!(!i.summary.is_empty(), "{name}");
    }
}

#[test]
fn syscall_questions() {
    let names = |s: &str| -> Vec<String> { cat().syscall_grants(s).iter().map(|(i, _)| i.name.clone()).collect() };
    assert_eq!(names("listen"), vec!["network-bind", "opengl"]);
    assert_eq!(names("ptrace"), vec!["process-control"]);
    let binds = names("bind");
    assert!(
        binds.contains(&"network".to_owned()) && binds.contains(&"network-bind".to_owned()),
        "{binds:?}"
    );
    let sockets = cat().syscall_grants("socket");
    assert!(sockets
        .iter()
        .any(|(i, r)| i.name == "hardware-observe" && r.args.len() == 2));
    assert!(names("mount").is_empty());
}

#[test]
fn apparmor_questions() {
    let none = BTreeMap::new();
    let ask = |a: AppArmorAccess| -> Vec<String> {
        cat()
            .apparmor_grants(&a, &none)
            .iter()
            .map(|g| g.interface.name.clone())
            .collect()
    };
    let file = |p: &str, perms: &str| AppArmorAccess::File {
        path: p.into(),
        perms: perms.into(),
    };
    assert_eq!(ask(file("/proc/locks", "r")), vec!["system-observe"]);
    assert_eq!(ask(file("/proc/1234/fdinfo/3", "r")), vec!["system-observe"]);
    assert!(ask(file("/proc/1234/fdinfo/3", "w")).is_empty());
    assert_eq!(ask(file("/var/log/syslog", "r")), vec!["log-observe"]);
    assert_eq!(ask(file("/media/usb/x", "w")), vec!["removable-media"]);
    assert_eq!(ask(file("/home/joe/doc.txt", "w")), vec!["home"]);
    assert!(ask(file("/home/joe/.ssh/id_rsa", "r")).is_empty());
    assert_eq!(ask(AppArmorAccess::Capability("kill".into())), vec!["process-control"]);
    assert_eq!(
        ask(AppArmorAccess::Signal {
            peer: "snap.other.app".into()
        }),
        vec!["process-control"]
    );
    assert_eq!(
        ask(AppArmorAccess::Signal {
            peer: "unconfined".into()
        }),
        vec!["process-control"]
    );
    let read = ask(AppArmorAccess::Ptrace {
        perm: "read".into(),
        peer: "unconfined".into(),
    });
    assert_eq!(read, vec!["process-control", "system-observe"]);
    let trace = ask(AppArmorAccess::Ptrace {
        perm: "trace".into(),
        peer: "unconfined".into(),
    });
    assert_eq!(trace, vec!["process-control"]);
    let net = ask(AppArmorAccess::Network {
        family: "inet".into(),
        sock_type: "stream".into(),
    });
    assert_eq!(net, vec!["network", "network-bind"]);
    // Deny rules are reported as such.
    let bin = cat().apparmor_grants(&file("/root/bin/x", "w"), &none);
    assert!(bin.iter().any(|g| g.interface.name == "home" && g.deny), "{bin:?}");
    // Owner-only rules are flagged.
    let home = cat().apparmor_grants(&file("/root/notes", "r"), &none);
    assert!(home.iter().all(|g| g.owner_only));
}

#[test]
fn slot_attributes_are_checked_and_filled_in() {
    let serial = cat().get("serial-port").unwrap();
    assert!(serial.needs_slot_attributes() && serial.is_device_interface());
    let attrs = |v: serde_json::Value| -> SlotAttrs { serde_json::from_value(v).unwrap() };
    let r = serial.render(&attrs(json!({"path": "/dev/ttyUSB0"}))).unwrap();
    assert!(r.apparmor.contains("/dev/ttyUSB0 rwk,"), "{}", r.apparmor);
    assert_eq!(r.udev, vec![r#"SUBSYSTEM=="tty", KERNEL=="ttyUSB0""#]);
    assert_eq!(
        serial.render(&SlotAttrs::new()).unwrap_err().0,
        "cannot use a serial-port slot without attribute \"path\" (the device node of the port)"
    );
    let e = serial.render(&attrs(json!({"path": "/dev/sda"}))).unwrap_err().0;
    assert!(
        e.starts_with("cannot use \"/dev/sda\" as attribute \"path\" of interface serial-port"),
        "{e}"
    );
    let e = serial
        .render(&attrs(json!({"path": "/dev/ttyS0", "mode": "x"})))
        .unwrap_err()
        .0;
    assert_eq!(
        e,
        "cannot use attribute \"mode\": interface serial-port has no such slot attribute"
    );

    let custom = cat().get("custom-device").unwrap();
    let r = custom
        .render(&attrs(json!({"devices": ["/dev/foo0", "/dev/input/event3"]})))
        .unwrap();
    assert!(
        r.apparmor.contains("/dev/foo0 rwk,\n/dev/input/event3 rwk,\n"),
        "{}",
        r.apparmor
    );
    assert_eq!(r.udev, vec![r#"KERNEL=="foo0""#, r#"KERNEL=="input/event3""#]);
    for bad in [
        "/dev/../etc/shadow",
        "/dev/./x",
        "/etc/passwd",
        "/dev/a b",
        "/dev/x*",
        "/dev/.hidden",
    ] {
        assert!(custom.render(&attrs(json!({ "devices": [bad] }))).is_err(), "{bad}");
    }
    // Interfaces without attributes take none.
    assert!(cat().get("network").unwrap().render(&attrs(json!({"x": 1}))).is_err());
}

#[test]
fn broken_data_is_refused() {
    assert!(Catalog::from_files(&[("x", "summary: [")]).is_err());
    assert!(Catalog::from_files(&[("x", "summary: a\nnonsense: 1\n")])
        .unwrap_err()
        .0
        .contains("unknown field"));
    assert!(Catalog::from_files(&[("x", "seccomp: |\n  socket AF_NOPE\n")])
        .unwrap_err()
        .0
        .contains("seccomp"));
    assert!(Catalog::from_files(&[("x", "auto-connect: maybe\n")]).is_err());
    assert!(Catalog::from_files(&[("x", "slot-attributes:\n  p:\n    what: x\n")])
        .unwrap_err()
        .0
        .contains("needs a pattern"));
}

#[test]
fn every_interface_has_landlock_lines_that_render_and_parse() {
    // (Computed interfaces' lines come from their attributes: tested in
    // computed_tests.rs.)
    for (name, text) in data::FILES {
        let yaml = YamlLoader::load_from_str(text).unwrap();
        assert!(
            yaml[0]["landlock"].as_str().is_some() || Computed::from_name(name).is_some_and(|c| c != Computed::Desktop),
            "{name} has no landlock block"
        );
    }
    for i in cat().all().iter().filter(|i| i.computed.is_none() || i.name == "desktop") {
        let r = i.render(&sample_attrs(i)).unwrap();
        let rules: Vec<landlock::Rule> = r
            .landlock
            .lines()
            .filter_map(|l| landlock_rule(l).unwrap_or_else(|e| panic!("{}: {e}", i.name)))
            .collect();
        // Nothing at all only where the interface grants nothing Landlock
        // can say, and then it says so.
        assert!(!rules.is_empty(), "{}: empty landlock block", i.name);
        let text = format!("landlock-policy 1\n{}", r.landlock);
        assert_eq!(landlock::parse(&text).unwrap().rules, rules, "{}", i.name);
        assert!(!r.landlock.contains("${"), "{}: {}", i.name, r.landlock);
    }
    let serial = cat().get("serial-port").unwrap();
    let r = serial.render(&sample_attrs(serial)).unwrap();
    assert!(r.landlock.contains("fs read,write,device /dev/ttyUSB0\n"), "{}", r.landlock);
    let custom = cat().get("custom-device").unwrap();
    let r = custom.render(&sample_attrs(custom)).unwrap();
    assert!(
        r.landlock.contains("fs read,write,device /dev/foo0\nfs read,write,device /dev/input/event3\n"),
        "{}",
        r.landlock
    );
    assert_eq!(cat().get("process-control").unwrap().landlock_unscope, vec![Scope::Signal]);
    assert!(cat().all().iter().filter(|i| i.name != "process-control").all(|i| i.landlock_unscope.is_empty()));
}

#[test]
fn broken_landlock_data_is_refused() {
    let e = |yaml: &str| Catalog::from_files(&[("x", yaml)]).unwrap_err().0;
    assert_eq!(
        e("landlock: |\n  fs read relative\n"),
        "cannot load interface x: landlock: cannot use Landlock line \"fs read relative\": \
         the path must be absolute and canonical, or start with a known variable"
    );
    assert!(e("landlock: |\n  mode devmode\n").ends_with("only rules may be given here"));
    assert!(e("landlock: |\n  apply always\n").ends_with("only rules may be given here"));
    assert!(e("landlock: |\n  landlock-policy 1\n").contains("unknown rule"));
    assert!(e("landlock-unscope: [everything]\n").contains("landlock-unscope must list"));
    assert!(e("landlock-unscope: signal\n").contains("landlock-unscope must be a list"));
    let ok = Catalog::from_files(&[("x", "landlock-unscope: [abstract-unix-socket]\nlandlock: |\n  # a comment\n  scope signal\n")]).unwrap();
    assert_eq!(ok.all()[0].landlock_unscope, vec![Scope::AbstractUnixSocket]);
    // Lines naming slot attributes are checked once filled in.
    let x = Catalog::from_files(&[(
        "x",
        "slot-attributes:\n  p:\n    pattern: '^/dev/[a-z]+$'\nlandlock: |\n  fs read ${p}\n",
    )])
    .unwrap();
    let attrs: SlotAttrs = serde_json::from_value(json!({"p": "/dev/a"})).unwrap();
    assert_eq!(x.all()[0].render(&attrs).unwrap().landlock, "fs read /dev/a\n");
}
