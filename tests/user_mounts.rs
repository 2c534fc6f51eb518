//! The caller's mount profile (`.user-fstab`) through the installed
//! launcher, started by `nobody`: with our `snap-update-ns` next to the
//! launcher, the launcher applies it itself, so a warm launch (the snap's
//! namespace joined) starts no process at all; with snapd's in its place
//! (as where the launcher stands in for snapd's snap-confine), that one is
//! started, as snapd expects. The launches run under `strace -f`, which
//! records every process and every exec.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod support;
use support::{libexec, Scene};

/// snapd's `snap-update-ns` (Debian's package).
const SNAPD_TOOL: &str = "/usr/lib/snapd/snap-update-ns";

/// A strict scene, run by root, where the caller's profile binds the
/// document portal's directory of snap demo at `$XDG_RUNTIME_DIR/doc`.
fn scene() -> Scene {
    Scene::new()
        .strict()
        .base("core", 1)
        .policy("snap.demo.app", "unrestricted.src")
        .root("mkdir -p /run/user && mount -t tmpfs -o mode=0755 scene-user /run/user")
        .root(
            "install -d -o 65534 -g 65534 -m 0700 /run/user/65534 /run/user/65534/doc /run/user/65534/doc/by-app \
             /run/user/65534/doc/by-app/snap.demo && echo portal >/run/user/65534/doc/by-app/snap.demo/marker",
        )
        .root(
            "install -d -m 0755 /var/lib/snapd/mount && echo '$XDG_RUNTIME_DIR/doc/by-app/snap.demo $XDG_RUNTIME_DIR/doc none \
             bind,rw,x-snapd.ignore-missing 0 0' >/var/lib/snapd/mount/snap.demo.user-fstab",
        )
        .run_by_root()
}

/// The shell lines that launch demo's app as nobody: a cold launch, then a
/// warm one under strace (its record in `$TRACE`), each reading the
/// portal's marker through the bind. `before` runs first, as root.
fn launches(before: &str) -> String {
    let app = "env XDG_RUNTIME_DIR=/run/user/65534 $L snap.demo.app /bin/cat /run/user/65534/doc/marker";
    format!(
        "{before}\n\
         echo cold: $(setpriv --reuid=65534 --regid=65534 --clear-groups -- {app} 2>&1)\n\
         echo warm: $(strace -f -qq -e trace=execve,execveat,fork,vfork,clone,clone3 -o \"$TRACE\" -u nobody {app} 2>&1)\n"
    )
}

/// Runs the launches; returns what they printed and the warm launch's
/// record: the processes it had and its execs. A process is the first
/// one or one made by a fork or a clone without `CLONE_THREAD`: the
/// threads of snapd's Go tool are not processes, and how many it starts
/// depends on how busy the machine is.
fn run(s: Scene, before: &str) -> (String, usize, Vec<String>) {
    let trace = s.dir.path().join("warm.trace");
    // The record is in the scene's directory, which goes with the scene.
    let s = s.env("TRACE", trace.to_str().unwrap());
    let r = s.run(&launches(before));
    r.ok();
    let record = std::fs::read_to_string(&trace).unwrap_or_else(|e| panic!("no strace record ({e}):\n{r:#?}"));
    let made = |l: &&str| {
        let call = l.split_whitespace().nth(1).unwrap_or("");
        ["fork(", "vfork(", "clone(", "clone3("].iter().any(|c| call.starts_with(c)) && !l.contains("CLONE_THREAD")
    };
    let processes = 1 + record.lines().filter(made).count();
    let execs = record.lines().filter(|l| l.contains("execve")).map(str::to_string).collect();
    (r.stdout, processes, execs)
}

#[test]
fn with_our_snap_update_ns_a_warm_launch_applies_the_callers_profile_and_starts_no_process() {
    let (out, processes, execs) = run(scene(), "");
    assert!(out.contains("cold: portal\n"), "the caller's profile applied on a cold launch:\n{out}");
    assert!(out.contains("warm: portal\n"), "and on a warm one:\n{out}");
    assert!(!execs.iter().any(|e| e.contains("snap-update-ns")), "no snap-update-ns was executed: {execs:#?}");
    // env, then the launcher, then the app, all in the one process.
    assert_eq!(processes, 1, "the warm launch started no process: {execs:#?}");
    assert_eq!(execs.len(), 3, "{execs:#?}");
    assert!(execs[1].contains(libexec().join("snap-confine").to_str().unwrap()) && execs[2].contains("/bin/cat"), "{execs:#?}");
}

#[test]
fn with_snapds_snap_update_ns_it_is_started_for_the_callers_profile() {
    assert!(std::path::Path::new(SNAPD_TOOL).exists(), "{SNAPD_TOOL} is missing: apt-get install snapd");
    // snapd's tool bound over ours, in the scene's mount namespace only.
    let ours = libexec().join("snap-update-ns");
    let (out, processes, execs) = run(scene(), &format!("mount --bind {SNAPD_TOOL} {}", ours.display()));
    assert!(out.contains("cold: portal\n") && out.contains("warm: portal\n"), "snapd's applies the caller's profile:\n{out}");
    let tool: Vec<&String> = execs.iter().filter(|e| e.contains("snap-update-ns")).collect();
    assert_eq!(tool.len(), 1, "{execs:#?}");
    assert!(tool[0].contains("--from-snap-confine\", \"--user-mounts\", \"demo\""), "{tool:#?}");
    assert_eq!(processes, 2, "the launcher and snapd's snap-update-ns: {execs:#?}");
}
