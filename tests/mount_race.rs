//! The installed `snap-update-ns` racing a swap: a directory on the way to
//! a mount point is exchanged (`renameat2(RENAME_EXCHANGE)`, atomically,
//! in a tight loop) with a symlink to a directory of the host while the
//! tool makes the missing mount point and binds the entry's source there.
//! 1000 tries, each checked on its own: nothing is ever mounted or made
//! through the symlink, only ever on the intended directory. A counter
//! proves the race was run (tries during which the swap happened) and hit
//! (tries whose walk met the symlink and refused it).
//!
//! The race runs as root in a private mount and PID namespace (this test
//! binary started again there by `unshare`), with tmpfs over `/tmp`,
//! `/run/snapd` and `/var/lib/snapd`; the "host" directory is on the real
//! file system under `/var/tmp`, so a followed symlink would write there.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod support;

use nix::fcntl::{renameat2, RenameFlags, AT_FDCWD};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Set for the test started again in the namespaces: the work directory.
const CHILD: &str = "CONFINE_MOUNT_RACE_DIR";
const TEST: &str = "a_directory_swapped_for_a_symlink_while_snap_update_ns_runs_is_never_followed";
const TRIES: u64 = 1000;
/// The snap's writable area (`/tmp` is one snap-update-ns may write in).
const AREA: &str = "/tmp/race";
const MOUNT_POINT: &str = "/tmp/race/a/b/mnt";

#[test]
fn a_directory_swapped_for_a_symlink_while_snap_update_ns_runs_is_never_followed() {
    if let Some(work) = std::env::var_os(CHILD) {
        return race(Path::new(&work));
    }
    support::require_installed();
    // Made and removed out here: whatever a failed race leaves mounted
    // there goes with its namespace first.
    let work = tempfile::Builder::new().prefix("confine-race.").tempdir_in("/var/tmp").unwrap();
    let out = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "--mount", "--propagation", "private", "--"])
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
        .env(CHILD, work.path())
        .current_dir("/")
        .output()
        .expect("run unshare");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}{stderr}");
    assert!(out.status.success(), "the race failed: {stdout}{stderr}");
    assert!(stdout.lines().any(|l| l.starts_with("race: ") && l.contains(&format!("{TRIES} tries"))), "no race was run: {stdout}");
}

/// Where something is mounted or made outside the intended place.
fn violations(host: &Path) -> Vec<String> {
    let host = host.to_str().unwrap();
    let mut found: Vec<String> = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|m| *m == host || m.starts_with(&format!("{host}/")) || (m.starts_with(&format!("{AREA}/")) && *m != MOUNT_POINT))
        .map(|m| format!("mounted on {m}"))
        .collect();
    found.extend(std::fs::read_dir(host).unwrap().map(|e| format!("made {}", e.unwrap().path().display())));
    found
}

fn exchange(a: &str, b: &str) {
    renameat2(AT_FDCWD, a, AT_FDCWD, b, RenameFlags::RENAME_EXCHANGE).unwrap();
}

fn is_symlink(path: &str) -> bool {
    std::fs::symlink_metadata(path).unwrap().file_type().is_symlink()
}

/// In the private namespaces, as root.
fn race(work: &Path) {
    let host = work.join("host");
    std::fs::create_dir(&host).unwrap();
    for dir in ["/tmp", "/run/snapd", "/var/lib/snapd"] {
        mount(Some("race"), dir, Some("tmpfs"), MsFlags::empty(), Some("mode=0755")).unwrap();
    }
    for dir in ["/run/snapd/ns", "/run/snapd/lock", "/var/lib/snapd/mount", "/tmp/race/src", "/tmp/race/a"] {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write("/tmp/race/src/marker", "source").unwrap();
    std::os::unix::fs::symlink(&host, "/tmp/race/evil").unwrap();
    std::fs::write("/var/lib/snapd/mount/snap.race.fstab", format!("/tmp/race/src {MOUNT_POINT} none bind,rw 0 0\n")).unwrap();
    // The launcher holds the snap's lock while the tool runs.
    let lock = std::fs::File::create("/run/snapd/lock/race.lock").unwrap();
    let _lock = nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusive).unwrap_or_else(|_| panic!("cannot lock"));

    // The racer swaps `a` and `evil` while `racing` says so; the lock
    // makes a pause wait for the swap under way.
    let racing = Arc::new(Mutex::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicU64::new(0));
    let racer = {
        let (racing, stop, swaps) = (racing.clone(), stop.clone(), swaps.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let on = racing.lock().unwrap();
                if *on {
                    exchange("/tmp/race/a", "/tmp/race/evil");
                    swaps.fetch_add(1, Ordering::Relaxed);
                }
                drop(on);
                std::thread::yield_now();
            }
        })
    };

    let tool = support::libexec().join("snap-update-ns");
    let (mut raced, mut refused, mut mounted) = (0, 0, 0);
    for i in 0..TRIES {
        let before = swaps.load(Ordering::Relaxed);
        *racing.lock().unwrap() = true;
        let out = Command::new(&tool).args(["--from-snap-confine", "race"]).env_clear().output().unwrap();
        *racing.lock().unwrap() = false;
        if swaps.load(Ordering::Relaxed) > before {
            raced += 1;
        }
        // Back to the intended layout before looking: `a` the directory.
        if is_symlink("/tmp/race/a") {
            exchange("/tmp/race/a", "/tmp/race/evil");
        }
        let bad = violations(&host);
        assert!(bad.is_empty(), "try {i}: {bad:?}\n{}", String::from_utf8_lossy(&out.stderr));
        let current = std::fs::read_to_string("/run/snapd/ns/snap.race.fstab").unwrap_or_default();
        if Path::new(MOUNT_POINT).join("marker").exists() {
            mounted += 1;
            assert!(current.contains(MOUNT_POINT), "try {i}: mounted but not recorded: {current:?}");
            umount2(MOUNT_POINT, MntFlags::MNT_DETACH).unwrap();
        } else {
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("cannot"), "try {i}: nothing mounted and no error: {err}");
            assert!(!current.contains(MOUNT_POINT), "try {i}: recorded but not mounted: {current:?}");
            refused += 1;
        }
        let _ = std::fs::remove_dir_all("/tmp/race/a/b");
        let _ = std::fs::remove_file("/run/snapd/ns/snap.race.fstab");
    }
    stop.store(true, Ordering::Relaxed);
    racer.join().unwrap();
    println!(
        "\nrace: {TRIES} tries, {} swaps, {raced} tries raced (a swap while the tool ran), {refused} refused (the walk met the symlink), {mounted} mounted on the intended directory",
        swaps.load(Ordering::Relaxed)
    );
    assert!(raced > 0, "the swap never happened while the tool ran");
    assert!(refused > 0, "the tool never met the symlink: the race was not hit");
    assert_eq!(refused + mounted, TRIES);

    // The check itself can fail: what a tool that followed the symlink
    // would leave is seen.
    exchange("/tmp/race/a", "/tmp/race/evil");
    mount(Some("/tmp/race/src"), "/tmp/race/a", None::<&str>, MsFlags::MS_BIND, None::<&str>).unwrap();
    exchange("/tmp/race/a", "/tmp/race/evil");
    let bad = violations(&host);
    assert!(bad.contains(&format!("mounted on {}", host.display())), "a mount through the symlink went unseen: {bad:?}");
    umount2(&host, MntFlags::MNT_DETACH).unwrap();
}
