//! Every generated profile compiles with the system's apparmor_parser,
//! pinned to AppArmor's 3.0 feature ABI (so the result does not depend on
//! this host's kernel, which may have no AppArmor): the fixture snaps, and a
//! snap that connects every interface in strict, devmode and classic
//! confinement.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "support/policy.rs"]
mod policy_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use confine_tools::admin::{parse_plug_ref, parse_slot_attrs};
use confine_tools::deploy::Mode;
use confine_tools::interfaces::catalog;
use policy_support::{scratch_admin, set_up_case, POLICY_CASES};

const ABI: &str = "/etc/apparmor.d/abi/3.0";

fn parser() -> PathBuf {
    let found = ["/sbin/apparmor_parser", "/usr/sbin/apparmor_parser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    let p = found.unwrap_or_else(|| panic!("\n\n*** apparmor_parser is missing: apt-get install apparmor\n\n"));
    assert!(Path::new(ABI).exists(), "{ABI} is missing: apt-get install apparmor");
    p
}

/// Compiles every profile under `root`; returns how many.
fn compile_all(root: &Path) -> usize {
    let dir = confine_tools::paths::Paths::new(root).apparmor_profiles();
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let out = Command::new(parser())
            .args(["-Q", "-K", "--policy-features", ABI])
            .arg(e.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && !stderr.contains("error"),
            "{} does not compile:\n{stderr}",
            e.path().display()
        );
        n += 1;
    }
    n
}

#[test]
fn fixture_profiles_compile() {
    for case in POLICY_CASES {
        let root = tempfile::tempdir().unwrap();
        let admin = scratch_admin(root.path(), Mode::Skip);
        set_up_case(&admin, case);
        assert!(compile_all(root.path()) >= 2, "{case}");
    }
}

/// A snap with one plug of every interface, all connected, and a layout
/// of every kind.
fn every_interface_yaml(confinement: &str) -> String {
    let mut yaml = format!("name: everything\nversion: '1'\nconfinement: {confinement}\napps:\n  app:\n    command: bin/app\nhooks:\n  configure: {{}}\nplugs:\n");
    for i in catalog().unwrap().all() {
        let attrs = match i.name.as_str() {
            "content" => ", content: stuff, target: $SNAP/shared",
            "personal-files" => ", read: [$HOME/.config/x], write: [$HOME/.local/share/x]",
            "system-files" => ", read: [/etc/x], write: [/var/lib/x]",
            _ => "",
        };
        yaml.push_str(&format!("  p-{0}: {{interface: {0}{attrs}}}\n", i.name));
    }
    yaml.push_str(
        "layout:\n  /usr/lib/x: {bind: $SNAP/x}\n  /etc/x.conf: {bind-file: $SNAP_DATA/x.conf}\n  /usr/share/x: {symlink: $SNAP/x}\n  /var/cache/x: {type: tmpfs, mode: '1777'}\n",
    );
    yaml
}

/// A content provider with an app: read-only and writable shares.
const PROVIDER: &str = "name: provider\nversion: '2'\napps:\n  tool:\n    command: bin/tool\nslots:\n  stuff:\n    interface: content\n    read: [lib]\n    write: [$SNAP_DATA/run]\n";

#[test]
fn every_interface_compiles_in_every_confinement() {
    parser();
    for confinement in ["strict", "devmode", "classic"] {
        let root = tempfile::tempdir().unwrap();
        let snap = root.path().join("snap");
        std::fs::create_dir_all(snap.join("meta")).unwrap();
        std::fs::write(snap.join("meta/snap.yaml"), every_interface_yaml(confinement)).unwrap();
        let provider = root.path().join("provider");
        std::fs::create_dir_all(provider.join("meta")).unwrap();
        std::fs::write(provider.join("meta/snap.yaml"), PROVIDER).unwrap();
        // The library runs the parser itself in check mode.
        let admin = scratch_admin(&root.path().join("root"), Mode::Check);
        admin.register(&provider, "2", None).unwrap();
        admin.register(&snap, "1", None).unwrap();
        let cat = catalog().unwrap();
        admin
            .add_slot(
                "ser",
                "serial-port",
                parse_slot_attrs(cat, "serial-port", &["path=/dev/ttyACM0".into()]).unwrap(),
            )
            .unwrap();
        admin
            .add_slot(
                "dev",
                "custom-device",
                parse_slot_attrs(cat, "custom-device", &["devices=/dev/a,/dev/b/c".into()]).unwrap(),
            )
            .unwrap();
        for i in cat.all() {
            let slot = match i.name.as_str() {
                "serial-port" => Some(":ser"),
                "custom-device" => Some(":dev"),
                "content" => Some("provider:stuff"),
                _ => None,
            };
            admin
                .connect(&parse_plug_ref(&format!("everything:p-{}", i.name)).unwrap(), slot)
                .unwrap();
        }
        let profile = std::fs::read_to_string(admin.paths.apparmor_profiles().join("snap.everything.app")).unwrap();
        if confinement != "classic" {
            for i in cat.all().iter().filter(|i| !i.apparmor.trim().is_empty()) {
                assert!(
                    profile.contains(&format!("(interface {})", i.name)),
                    "{confinement}: {} missing",
                    i.name
                );
            }
        }
        if confinement != "classic" {
            let update_ns = std::fs::read_to_string(admin.paths.apparmor_profiles().join("snap-update-ns.everything")).unwrap();
            for needed in ["# Layout /usr/lib/x: bind $SNAP/x", "# Read-only content sharing everything:p-content -> provider:stuff", "# Mount the document portal"] {
                assert!(update_ns.contains(needed), "{needed}:\n{update_ns}");
            }
            let tool = std::fs::read_to_string(admin.paths.apparmor_profiles().join("snap.provider.tool")).unwrap();
            assert!(tool.contains("\"/snap/everything/1/shared/**\" mrwklix,"), "{tool}");
        }
        // Both apps, the hook and both snap-update-ns profiles.
        assert_eq!(compile_all(&root.path().join("root")), 5, "{confinement}");
    }
}

#[test]
fn a_parse_error_names_the_line_and_keeps_the_old_profile() {
    parser();
    let root = tempfile::tempdir().unwrap();
    let admin = scratch_admin(root.path(), Mode::Check);
    let name = set_up_case(&admin, "hello");
    let profile = admin.paths.apparmor_profiles().join(format!("snap.{name}.hello"));
    let before = std::fs::read_to_string(&profile).unwrap();
    let mut files = admin
        .policy_of(&confine_tools::state::read(&admin.paths).unwrap(), &name)
        .unwrap();
    let broken = before.replace("capability ipc_lock,", "capability ipc_lock,\n  no such rule here,");
    files.apparmor.insert(format!("snap.{name}.hello"), broken.clone());
    let line = broken.lines().position(|l| l.contains("no such rule")).unwrap() + 1;
    let e = confine_tools::deploy::apply(&admin.paths, &admin.parser, &name, Some(&files), false).unwrap_err();
    assert!(e.0.contains(&format!("{} in profile", profile.display())), "{e}");
    assert!(e.0.contains(&format!("at line {line}:")), "line {line}: {e}");
    assert_eq!(std::fs::read_to_string(&profile).unwrap(), before);
}
