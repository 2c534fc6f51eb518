//! Twenty `confine connect` processes started at once, each connecting a
//! different plug of the same snap: every connection must be in the state
//! and in the policy afterwards (the state lock serialises them; none
//! overwrites another's change).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::process::{Command, Stdio};

const PLUGS: usize = 20;

#[test]
fn concurrent_connects_lose_nothing() {
    let root = tempfile::tempdir().unwrap();
    let snap = root.path().join("snap");
    std::fs::create_dir_all(snap.join("meta")).unwrap();
    let mut yaml = String::from("name: busy\nversion: '1'\napps:\n  app:\n    command: bin/app\nplugs:\n");
    let interfaces = [
        "removable-media",
        "log-observe",
        "mount-observe",
        "hardware-observe",
        "system-observe",
    ];
    for i in 0..PLUGS {
        yaml.push_str(&format!("  p{i}: {}\n", interfaces[i % interfaces.len()]));
    }
    std::fs::write(snap.join("meta/snap.yaml"), yaml).unwrap();
    let confine = |args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_confine"));
        c.args(args)
            .env("CONFINE_ROOT", root.path().join("root"))
            .env("CONFINE_APPARMOR", "check")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        c
    };
    let out = confine(&["register", snap.to_str().unwrap(), "--revision", "1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let children: Vec<_> = (0..PLUGS)
        .map(|i| confine(&["connect", &format!("busy:p{i}")]).spawn().unwrap())
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }

    let paths = confine_tools::paths::Paths::new(root.path().join("root"));
    let state = confine_tools::state::read(&paths).unwrap();
    let connected: Vec<String> = state.connections.keys().cloned().collect();
    assert_eq!(connected.len(), PLUGS, "{connected:?}");
    // The policy on disk is the one of the last change: every interface in.
    let profile = std::fs::read_to_string(paths.apparmor_profiles().join("snap.busy.app")).unwrap();
    for iface in interfaces {
        assert!(profile.contains(&format!("(interface {iface})")), "{iface} missing");
    }
    // Nothing half-written is left behind.
    let leftovers: Vec<String> = std::fs::read_dir(paths.state_dir())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !matches!(n.as_str(), "state.json" | "state.lock" | "seccomp-version-info"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
