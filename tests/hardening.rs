//! The findings of the launcher's security review, each reproduced against
//! the installed setuid launcher as an attacker would try it (started by
//! `nobody`, on this host's Landlock confinement): every test here failed
//! before its fix.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod support;
use support::{sh_quote, Scene};

/// The seccomp policy the policy tools generate for the example `hello`
/// (the default template, no plug connected): the real thing, not a test
/// policy.
const HELLO_POLICY: &str = "../../tools/tests/fixtures/policy/hello/expected/seccomp/snap.hello.hello.src";

fn strict() -> Scene {
    Scene::new()
        .strict()
        .base("core", 1)
        .policy("snap.demo.tool", "unrestricted.src")
        .policy("snap.other.app", "unrestricted.src")
}

/// Runs as nobody (the scene itself runs as root).
const AS_NOBODY: &str = "setpriv --reuid=65534 --regid=65534 --clear-groups --";

#[test]
fn the_caller_cannot_stop_or_kill_a_launcher_that_holds_up_others() {
    // Root holds the snap's lock, so nobody's launch waits for it,
    // privileged; nobody then tries to stop and to kill it. Before, the
    // stop landed, and a launcher stopped while holding the lock made every
    // other launch of the snap fail after 30 s.
    let r = strict().run_by_root().run(&format!(
        "export SNAP_INSTANCE_NAME=demo SNAP_CONFINE_DEBUG=1; \
         install -d -m 0755 /run/snapd/lock && install -m 0600 /dev/null /run/snapd/lock/demo.lock; \
         exec 9</run/snapd/lock/demo.lock; flock -x 9; \
         {AS_NOBODY} $L snap.demo.tool /bin/echo ran 2>/tmp/debug & pid=$!; \
         for i in $(seq 3000); do grep -q 'waiting for /run/snapd/lock/demo.lock' /tmp/debug && break; sleep 0.01; done; \
         grep -q 'waiting for' /tmp/debug && echo waiting; \
         for sig in STOP TSTP TERM; do {AS_NOBODY} kill -$sig $pid 2>/dev/null && echo $sig=sent || echo $sig=refused; done; \
         grep -E '^State:' /proc/$pid/status; \
         flock -u 9; exec 9<&-; kill -CONT $pid; wait $pid; echo status=$?"
    ));
    assert!(r.stdout.contains("waiting\n"), "{r:#?}");
    for sig in ["STOP", "TSTP", "TERM"] {
        assert!(r.stdout.contains(&format!("{sig}=refused\n")), "{sig} reached the launcher:\n{r:#?}");
    }
    assert!(r.stdout.contains("ran\nstatus=0\n"), "{r:#?}");
}

#[test]
fn a_strict_app_cannot_make_new_namespaces_with_clone_or_clone3() {
    // The real generated policy: clone with a CLONE_NEW* flag is denied,
    // clone3 fails with ENOSYS so that libc's threads and processes fall
    // back to clone. Before, the app made a child in a new user and network
    // namespace, holding every capability there.
    let r = strict().policy("snap.demo.app", HELLO_POLICY).run(
        "$L snap.demo.app $P try clone_plain clone_newuser clone_newns clone_newnet clone3_plain clone3_newuser thread unshare0",
    );
    r.ok();
    for (call, want) in [
        ("clone_plain", "ok"),
        ("clone_newuser", "EACCES"),
        ("clone_newns", "EACCES"),
        ("clone_newnet", "EACCES"),
        ("clone3_plain", "ENOSYS"),
        ("clone3_newuser", "ENOSYS"),
        ("thread", "ok"),
        ("unshare0", "EPERM"),
    ] {
        assert_eq!(r.get(call), want, "{call}:\n{r:#?}");
    }
}

#[test]
fn a_file_size_limit_fails_a_cold_launch_cleanly() {
    // Before, SIGXFSZ killed the launcher while it wrote the namespace's
    // records, leaving those root-owned files empty.
    let r = strict().run(
        "prlimit --fsize=0 $L snap.demo.tool /bin/echo ran; echo status=$?; ls -A /run/snapd/ns; \
         $L snap.demo.tool /bin/echo ran again; cat /run/snapd/ns/snap.demo.info",
    );
    assert!(r.stdout.starts_with("status=1\n"), "{r:#?}");
    // The first record written (the current mount profile, then the base).
    assert!(r.stderr.contains("cannot write /run/snapd/ns/snap.demo.") && r.stderr.contains("File too large"), "{r:#?}");
    assert!(!r.stdout.contains("snap.demo.info\n") && !r.stdout.contains("snap.demo.fstab\n"), "a record was left behind:\n{r:#?}");
    assert!(!r.stdout.contains(".tmp"), "a temporary record was left behind:\n{r:#?}");
    assert!(r.stdout.ends_with("ran again\nbase-snap-name=core\n"), "{r:#?}");
}

#[test]
fn the_launcher_refuses_to_run_nested_in_a_sandbox() {
    // The base is the host's root, so the setuid launcher is in it at its
    // install path. Before, an app ran it again and a classic launch of
    // another snap handed it that snap's root-only cookie.
    let cookie = "printf s3cr3t > /var/lib/snapd/cookie/snap.other && chmod 0600 /var/lib/snapd/cookie/snap.other";
    let nested = "$L snap.demo.tool /usr/bin/env SNAP_INSTANCE_NAME=other $L --classic snap.other.app /bin/sh -c 'echo cookie=$SNAP_COOKIE'; \
                  echo status=$?";
    // A root app (no no_new_privs): the launcher itself finds it is nested.
    let r = strict().root(cookie).run_by_root().env("SNAP_INSTANCE_NAME", "demo").run(nested);
    assert_eq!(r.get("status"), "1", "{r:#?}");
    assert!(r.stderr.contains("cannot run inside a snap's sandbox: the root directory is not the host's"), "{r:#?}");
    // A user's app (which runs with no_new_privs here, so the setuid bit
    // gives nothing anyway): the cookie stays root's.
    let r = strict().root(cookie).run(nested);
    assert!(!r.stdout.contains("s3cr3t"), "the cookie leaked:\n{r:#?}");
    assert_eq!(r.get("status"), "1", "{r:#?}");
    assert!(r.stderr.contains("cannot run inside a snap's sandbox: the root directory is not the host's"), "{r:#?}");
    // Outside, the same classic launch works.
    let r = strict().root(cookie).run("SNAP_INSTANCE_NAME=other $L --classic snap.other.app /bin/sh -c 'echo cookie=$SNAP_COOKIE'");
    assert_eq!(r.get("cookie"), "s3cr3t", "{r:#?}");
}

#[test]
fn an_absolute_symlink_in_the_base_never_points_a_mount_at_a_host_path() {
    // The base's /var is a symlink to /srv/var (absolute), and the host
    // has a /srv/var too. Mount targets are resolved inside the new root,
    // so /var/snap of the host lands on the base's /srv/var/snap, where
    // the app finds it through the symlink; before, the targets resolved
    // on the host, and the launch put mounts on the host's /srv/var.
    let bases = Scene::new();
    let layer = bases.dir.path().join("absolute");
    let l = sh_quote(layer.to_str().unwrap());
    let var_dirs = "snap,tmp,log,lib/snapd/hostfs,lib/extrausers";
    let r = strict()
        .root("mount -t tmpfs -o mode=0755 scene-srv /srv")
        .root(&format!("mkdir -p /srv/var/{{{var_dirs}}} && echo host-srv > /srv/var/snap/marker"))
        .root("mkdir -p /var/snap && mount -t tmpfs -o mode=0755 scene-var-snap /var/snap && echo host-var-snap > /var/snap/marker")
        .root(&format!(
            "mkdir -p {l}/upper/srv/var/{{{var_dirs}}} {l}/work /snap/abs/1 && ln -s /srv/var {l}/upper/var && \
             mount -t overlay -o lowerdir=/,upperdir={l}/upper,workdir={l}/work base-abs /snap/abs/1 && ln -s 1 /snap/abs/current"
        ))
        .run("$L --base abs snap.demo.tool /bin/sh -c 'readlink /var; cat /var/snap/marker'");
    r.ok();
    assert_eq!(r.stdout, "/srv/var\nhost-var-snap\n", "{r:#?}");
    drop(bases);
}

#[test]
fn a_setuid_program_in_the_base_gives_nothing_under_landlock() {
    // No AppArmor here: Landlock and seccomp confine the app, and neither
    // stops a setuid-root program. The launcher sets no_new_privs for a
    // caller other than root; before, this printed 0.
    let r = strict()
        .root("cp /usr/bin/id /snap/core/1/usr/local/bin/suid-id && chmod 4755 /snap/core/1/usr/local/bin/suid-id")
        .run("$L snap.demo.tool /usr/local/bin/suid-id -u; $L snap.demo.tool /bin/grep NoNewPrivs /proc/self/status");
    r.ok();
    assert_eq!(r.stdout, "65534\nNoNewPrivs:\t1\n", "{r:#?}");
    // Root keeps what root has (root daemons need their capabilities).
    let r = strict().run_by_root().run("SNAP_INSTANCE_NAME=demo $L snap.demo.tool /bin/grep NoNewPrivs /proc/self/status");
    assert_eq!(r.stdout, "NoNewPrivs:\t0\n", "{r:#?}");
}

#[test]
fn home_snap_is_made_for_the_user_alone() {
    // Before, the launcher made a missing ~/snap 0755 (snap run makes it
    // 0700, CVE-2021-3155): whatever the umask, it is 0700 now.
    for umask in ["000", "022", "077"] {
        let r = Scene::new()
            .policy("snap.demo.tool", "unrestricted.src")
            .root("mount -t tmpfs -o mode=0755 scene-home /home && install -d -o 65534 -g 65534 -m 0755 /home/nobody")
            .env("SNAP_USER_DATA", "/home/nobody/snap/demo/x1")
            .run(&format!(
                "umask {umask}; $L --classic snap.demo.tool /bin/true && stat -c '%n %a %U' /home/nobody/snap /home/nobody/snap/demo /home/nobody/snap/demo/x1"
            ));
        r.ok();
        assert_eq!(
            r.stdout,
            "/home/nobody/snap 700 nobody\n/home/nobody/snap/demo 755 nobody\n/home/nobody/snap/demo/x1 755 nobody\n",
            "umask {umask}:\n{r:#?}"
        );
    }
}

#[test]
fn too_few_descriptors_are_not_called_a_missing_base() {
    // Before, a low RLIMIT_NOFILE made the launch fail with "cannot locate
    // base snap core", as if the base were not installed.
    let r = strict().run(
        "for n in $(seq 4 24); do prlimit --nofile=$n $L snap.demo.tool /bin/true 2>&1 | sed \"s/^/$n: /\"; done",
    );
    // Each failure names the real cause; before, the base lookup failed
    // with a bare "cannot locate base snap core".
    let failures: Vec<&str> = r.stdout.lines().collect();
    assert!(!failures.is_empty(), "no limit was low enough to fail:\n{r:#?}");
    for line in failures {
        assert!(line.contains("Too many open files"), "{line}:\n{r:#?}");
    }
}
