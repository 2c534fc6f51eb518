//! The `confine` admin command as a process: subcommands, output, help,
//! errors (text starting with "cannot", exit status 1) and the root check.
//! Everything runs under a scratch `CONFINE_ROOT`, with profiles compiled
//! (not loaded) by the real apparmor_parser.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "support/policy.rs"]
mod policy_support;

use std::process::{Command, Output};

#[path = "support/cli.rs"]
mod cli;

use cli::{fails, ok};
use policy_support::fixture_path;

#[test]
fn register_connect_list_disconnect_unregister() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    let hello = fixture_path("policy/hello");
    let out = ok(r, &["register", hello.to_str().unwrap(), "--revision", "17"]);
    assert_eq!(
        out,
        "hello 17 registered\nconnected automatically: home, network, network-bind\n"
    );
    let table = ok(r, &["connections", "hello"]);
    assert_eq!(
        table,
        "Interface        Plug                   Slot                 Notes\n\
         home             hello:home             system:home          auto\n\
         network          hello:network          system:network       auto\n\
         network-bind     hello:network-bind     system:network-bind  auto\n\
         process-control  hello:process-control  -                    -\n\
         system-observe   hello:system-observe   -                    -\n"
    );
    assert_eq!(ok(r, &["connect", "hello:process-control"]), "");
    assert!(ok(r, &["connections"]).contains("process-control  hello:process-control  system:process-control  manual"));
    let profile = std::fs::read_to_string(r.join("var/lib/snapd/apparmor/profiles/snap.hello.hello")).unwrap();
    assert!(profile.contains("signal (send) peer=unconfined,"));
    assert_eq!(ok(r, &["disconnect", "hello:process-control"]), "");
    let profile = std::fs::read_to_string(r.join("var/lib/snapd/apparmor/profiles/snap.hello.hello")).unwrap();
    assert!(!profile.contains("signal (send) peer=unconfined,"));
    ok(r, &["unregister", "hello"]);
    assert_eq!(ok(r, &["connections"]), "No plugs.\n");
    assert_eq!(
        std::fs::read_dir(r.join("var/lib/snapd/apparmor/profiles"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn slots_and_interfaces() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    ok(
        r,
        &[
            "register",
            fixture_path("policy/sensor").to_str().unwrap(),
            "--revision",
            "40",
        ],
    );
    ok(r, &["add-slot", "ttys1", "serial-port", "path=/dev/ttyS1"]);
    let list = ok(r, &["interfaces"]);
    assert!(list.starts_with("Name "), "{list}");
    assert!(
        list.contains("serial-port       no                  :ttys1 (path=/dev/ttyS1)"),
        "{list}"
    );
    assert!(list.contains("home              on classic systems  -"), "{list}");
    ok(r, &["connect", "sensor:serial"]);
    let rules = std::fs::read_to_string(r.join("etc/udev/rules.d/70-snap.sensor.rules")).unwrap();
    assert!(rules.contains("KERNEL==\"ttyS1\", TAG+=\"snap_sensor_read\""));
    assert_eq!(
        fails(r, &["remove-slot", "ttys1"]),
        "cannot remove slot ttys1: sensor:serial connected to it"
    );
    assert_eq!(
        fails(r, &["add-slot", "bad", "serial-port", "path=/etc/passwd"]),
        "cannot add slot bad: cannot use \"/etc/passwd\" as attribute \"path\" of interface serial-port: it must match ^/dev/tty(S|USB|ACM|AMA|XRUSB|mxc|O|SAC|GS|THS|LP)[0-9]+$"
    );
}

#[test]
fn errors_and_help() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    assert_eq!(fails(r, &[]), "cannot run: no command given (see confine --help)");
    assert_eq!(
        fails(r, &["frobnicate"]),
        "cannot run: unknown command \"frobnicate\" (see confine --help)"
    );
    assert_eq!(
        fails(r, &["connect", "nocolon"]),
        "cannot use \"nocolon\": expected SNAP:PLUG"
    );
    assert_eq!(
        fails(r, &["connect", "a:b"]),
        "cannot find snap \"a\": it is not registered"
    );
    assert_eq!(
        fails(r, &["disconnect"]),
        "cannot run disconnect: wrong arguments (see confine disconnect --help)"
    );
    assert_eq!(
        fails(r, &["unregister", "--force", "x"]),
        "cannot run unregister: unknown option \"--force\""
    );
    assert_eq!(
        fails(r, &["register", "/x"]),
        "cannot run register: need SNAP_DIR and --revision (see confine register --help)"
    );
    assert_eq!(
        fails(r, &["register", "/x", "--revision"]),
        "cannot run register: --revision needs a value"
    );
    assert!(fails(r, &["register", "/nonexistent", "--revision", "1"])
        .starts_with("cannot read /nonexistent/meta/snap.yaml"));
    let bad = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(bad.path().join("meta")).unwrap();
    std::fs::write(
        bad.path().join("meta/snap.yaml"),
        "name: x1\nversion: '1'\napps:\n  a:\n    command: run\n    daemon: forever\n",
    )
    .unwrap();
    assert_eq!(
        fails(r, &["register", bad.path().to_str().unwrap(), "--revision=1"]),
        "cannot use snap.yaml: apps.a.daemon: unknown daemon type \"forever\" (expected simple, forking, oneshot, dbus or notify)"
    );
    let usage = ok(r, &["--help"]);
    for command in [
        "register",
        "unregister",
        "connect",
        "disconnect",
        "connections",
        "interfaces",
        "add-slot",
        "remove-slot",
    ] {
        assert!(
            usage.contains(&format!("  {command}")),
            "{command} missing from the usage"
        );
        let help = ok(r, &[command, "--help"]);
        assert!(help.starts_with(&format!("Usage: confine {command}")), "{help}");
        assert_eq!(ok(r, &["help", command]), help);
    }
}

/// On the real system (no CONFINE_ROOT) only root may change anything; the
/// refusal comes before any file is touched.
#[test]
fn only_root_changes_the_system() {
    let run = |args: &[&str]| -> Output {
        let mut c = if nix::unistd::geteuid().is_root() {
            let mut c = Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]);
            c.arg(env!("CARGO_BIN_EXE_confine"));
            c
        } else {
            Command::new(env!("CARGO_BIN_EXE_confine"))
        };
        c.args(args).env_remove("CONFINE_ROOT").output().unwrap()
    };
    for (args, what) in [
        (&["connect", "a:b"][..], "connect a:b"),
        (&["disconnect", "a:b"][..], "disconnect a:b"),
        (&["unregister", "a"][..], "unregister a"),
        (&["remove-slot", "x"][..], "remove slot x"),
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(
            String::from_utf8_lossy(&out.stderr).trim_end(),
            format!("cannot {what}: only root may change the policy (permission denied)")
        );
    }
    // The snap is read before the check (its name is in the message): a
    // copy the unprivileged user can read, wherever the tree was cloned.
    let snap = tempfile::tempdir().unwrap();
    std::fs::set_permissions(snap.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let copied = Command::new("cp").arg("-r").arg(fixture_path("policy/hello")).arg(snap.path()).status().unwrap();
    assert!(copied.success());
    Command::new("chmod").arg("-R").arg("a+rX").arg(snap.path()).status().unwrap();
    let out = run(&[
        "register",
        snap.path().join("hello").to_str().unwrap(),
        "--revision",
        "1",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim_end(),
        "cannot register hello: only root may change the policy (permission denied)"
    );
    // Reading the catalog needs no privilege.
    assert!(run(&["interfaces"]).status.success());
}
