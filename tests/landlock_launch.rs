//! Landlock on this host, which has no AppArmor: the installed launcher
//! applies the tag's Landlock policy to strict apps, as `nobody` and as
//! root, and the probe inside reports what it can reach. These tests use
//! hand-written policies; `landlock_snaps.rs` uses the ones the policy tools
//! generate for installed snaps.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod support;
use std::collections::BTreeMap;
use support::{Run, Scene};

/// A policy for the probe: it is static, so `/usr/lib/confine` is all it
/// needs to run; the rest is what each test looks at.
const BASE_RULES: &str = "landlock-policy 1\nfs read,execute /usr/lib/confine\nfs read /etc/passwd\nfs read,write /tmp\nfs read,write @{SNAP_USER_DATA}\n";

/// A strict scene for snap.demo.app with `rules` added to [`BASE_RULES`],
/// and files that every user may read or write as far as permissions go:
/// `/home/alice/notes` (0644), `/home/shared` (1777), `/etc/confine-secret`
/// (0644, as `/etc/shadow` would be to root).
fn scene(rules: &str) -> Scene {
    Scene::new()
        .strict()
        .base("core", 1)
        .policy("snap.demo.app", "unrestricted.src")
        .landlock("snap.demo.app", Some(&format!("{BASE_RULES}{rules}")))
        .root("mount -t tmpfs -o mode=0755 scene-home /home")
        .root("install -d -m 0755 /home/alice && echo private > /home/alice/notes")
        .root("install -d -m 1777 /home/shared")
        .root("install -d -o 65534 -g 65534 /home/nobody /home/nobody/data")
        .env("SNAP_INSTANCE_NAME", "demo")
        .env("SNAP_USER_DATA", "/home/nobody/data")
}

/// `name=verdict` lines of the probe, by name.
fn verdicts(r: &Run) -> BTreeMap<String, String> {
    r.stdout.lines().filter_map(|l| l.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn assert_verdicts(r: &Run, want: &[(&str, &str)]) {
    let got = verdicts(r);
    for (k, v) in want {
        assert_eq!(got.get(*k).map(String::as_str), Some(*v), "{k}:\n{r:#?}");
    }
}

const PROBE_FILES: &str = "$L snap.demo.app $P read /etc/passwd /etc/hostname /home/alice/notes; \
     $L snap.demo.app $P write /tmp/t /home/nobody/data/d /home/shared/s; \
     $L snap.demo.app $P list / /home; \
     $L snap.demo.app $P try bind_tcp connect_tcp";

#[test]
fn nobody_reaches_only_what_the_policy_grants() {
    let r = scene("").run(PROBE_FILES);
    r.ok();
    assert_verdicts(
        &r,
        &[
            ("read:/etc/passwd", "ok"),
            // Readable by everyone as far as permissions go, but not granted.
            ("read:/etc/hostname", "EACCES"),
            ("read:/home/alice/notes", "EACCES"),
            ("write:/tmp/t", "ok"),
            // SNAP_USER_DATA as the caller gave it.
            ("write:/home/nobody/data/d", "ok"),
            ("write:/home/shared/s", "EACCES"),
            ("list:/", "EACCES"),
            ("list:/home", "EACCES"),
            // No TCP rule at all: neither bind nor connect.
            ("bind_tcp", "EACCES"),
            ("connect_tcp", "EACCES"),
        ],
    );
}

#[test]
fn root_inside_is_confined_too() {
    // Only places of the scene's own tmpfs are written to, in case the
    // launcher let the writes through.
    let r = scene("").run_by_root().run(
        "$L snap.demo.app $P read /etc/shadow /home/alice/notes /etc/passwd; \
         $L snap.demo.app $P write /home/alice/notes /home/alice/new /tmp/t; \
         $L snap.demo.app $P list /root; echo notes=$(cat /home/alice/notes); test ! -e /home/alice/new && echo new=absent",
    );
    r.ok();
    assert_verdicts(
        &r,
        &[
            ("read:/etc/shadow", "EACCES"),
            ("read:/home/alice/notes", "EACCES"),
            ("read:/etc/passwd", "ok"),
            ("write:/home/alice/notes", "EACCES"),
            ("write:/home/alice/new", "EACCES"),
            ("write:/tmp/t", "ok"),
            ("list:/root", "EACCES"),
            ("notes", "private"),
            ("new", "absent"),
        ],
    );
}

#[test]
fn tcp_ports_and_home_entries_follow_the_policy() {
    let r = scene("net-bind any\nnet-connect 9\nfs-each read,write @{HOME} except data\n")
        .root("install -d -o 65534 -g 65534 /home/nobody/Documents /home/nobody/snap/other /home/nobody/.ssh")
        .root("echo key > /home/nobody/.ssh/id && echo other > /home/nobody/snap/other/data && chown 65534 /home/nobody/.ssh/id /home/nobody/snap/other/data")
        .env("SNAP_REAL_HOME", "/home/nobody")
        .run(
            "$L snap.demo.app $P try bind_tcp connect_tcp; \
             $L snap.demo.app $P write /home/nobody/Documents/d /home/nobody/snap/other/o /home/nobody/.ssh/k /home/nobody/new; \
             $L snap.demo.app $P read /home/nobody/.ssh/id /home/nobody/snap/other/data; \
             $L snap.demo.app $P list /home/nobody",
        );
    r.ok();
    assert_verdicts(
        &r,
        &[
            ("bind_tcp", "ok"),
            // Granted, and refused by the host since nothing listens there.
            ("connect_tcp", "ECONNREFUSED"),
            ("write:/home/nobody/Documents/d", "ok"),
            // Other snaps' data, hidden files, new top-level entries: no.
            ("write:/home/nobody/snap/other/o", "EACCES"),
            ("write:/home/nobody/.ssh/k", "EACCES"),
            ("write:/home/nobody/new", "EACCES"),
            ("read:/home/nobody/.ssh/id", "EACCES"),
            ("read:/home/nobody/snap/other/data", "EACCES"),
            ("list:/home/nobody", "ok"),
        ],
    );
    // `except data`: SNAP_USER_DATA is the only grant there.
    let r = scene("fs-each read @{HOME} except data\n")
        .env("SNAP_REAL_HOME", "/home/nobody")
        .env("SNAP_USER_DATA", "/home/nobody/elsewhere")
        .run("$L snap.demo.app $P write /home/nobody/data/d");
    assert_verdicts(&r, &[("write:/home/nobody/data/d", "EACCES")]);
}

#[test]
fn signals_leave_the_sandbox_only_without_the_signal_scope() {
    // `; true`: the shell stays, as the probe's parent outside the sandbox.
    let r = scene("scope signal\n").run("$L snap.demo.app $P try signal_parent; true");
    assert_verdicts(&r, &[("signal_parent", "EPERM")]);
    let r = scene("").run("$L snap.demo.app $P try signal_parent; true");
    assert_verdicts(&r, &[("signal_parent", "ok")]);
}

#[test]
fn debug_output_names_the_abi_the_rights_and_what_was_left_out() {
    let r = scene("fs read /no/such/dir\nscope signal\nunexpressible dbus (send) bus=session\n")
        .env("SNAP_CONFINE_DEBUG", "1")
        .run("$L snap.demo.app $P try getppid");
    r.ok();
    for want in [
        "Landlock policy /var/lib/snapd/landlock/snap.demo.app read; it will be applied",
        "Landlock ABI 7 enforced: file-system rights 0xffff on 4 paths, TCP 0x3 (0 port rules), scopes 0x2",
        "Landlock: not expressible: dbus (send) bus=session",
        "Landlock: /no/such/dir does not exist here: not granted",
    ] {
        assert!(r.stderr.contains(want), "missing {want:?}:\n{r:#?}");
    }
}

#[test]
fn missing_policy_fails_closed_but_devmode_and_classic_run_without_it() {
    let r = scene("").landlock("snap.demo.app", None).run("$L snap.demo.app $P read /etc/hostname");
    assert_eq!(r.status, 1, "{r:#?}");
    assert_eq!(
        r.stderr.trim_end(),
        "cannot confine snap.demo.app without AppArmor: its Landlock policy /var/lib/snapd/landlock/snap.demo.app \
         does not exist; the snap's policy must be generated again"
    );
    assert!(r.stdout.is_empty(), "{r:#?}");

    let r = scene("")
        .landlock("snap.demo.app", Some("landlock-policy 1\nmode devmode\nfs read /usr\n"))
        .run("$L snap.demo.app $P read /etc/hostname");
    assert_verdicts(&r, &[("read:/etc/hostname", "ok")]);

    let r = Scene::new()
        .policy("snap.demo.app", "unrestricted.src")
        .landlock("snap.demo.app", None)
        .env("SNAP_INSTANCE_NAME", "demo")
        .run("$L --classic snap.demo.app $P read /etc/hostname");
    assert_verdicts(&r, &[("read:/etc/hostname", "ok")]);
}

#[test]
fn a_policy_the_launcher_does_not_understand_is_refused() {
    for (body, error) in [
        ("landlock-policy 2\n", "cannot use /var/lib/snapd/landlock/snap.demo.app: line 1: unsupported format version"),
        ("landlock-policy 1\nfs read relative\n", "line 2: the path must be absolute"),
        ("landlock-policy 1\nfs read /usr\nallow everything\n", "line 3: unknown rule \"allow\""),
    ] {
        let r = scene("").landlock("snap.demo.app", Some(body)).run("$L snap.demo.app /bin/true");
        assert_eq!(r.status, 1, "{r:#?}");
        assert!(r.stderr.starts_with("cannot use /var/lib/snapd/landlock/snap.demo.app: "), "{r:#?}");
        assert!(r.stderr.contains(error), "{error}: {r:#?}");
    }
    // Written by someone other than root: not trusted.
    let r = scene("").root("chown 65534 /var/lib/snapd/landlock/snap.demo.app").run("$L snap.demo.app /bin/true");
    assert_eq!(r.status, 1, "{r:#?}");
    assert!(r.stderr.starts_with("cannot "), "{r:#?}");
}
