//! The snap's mount namespace: built once from the base snap, with the
//! snap's mount profile applied by `snap-update-ns`, preserved under
//! `/run/snapd/ns`, joined by later commands of the same snap, with a
//! devpts instance of its own; then, where the caller has a mount profile,
//! a namespace of the command's own for it.

pub mod fixups;
pub mod instances;
pub mod preserve;

use crate::cgroup;
use crate::debug::Debug;
use crate::error::{Context, Error, Result};
use crate::fs::{open_path, Trust};
use crate::invocation::Invocation;
use crate::lock::{self, Lock};
use crate::mountinfo;
use crate::rootfs::{self, devpts, Base, SNAP_MOUNT_DIR};
use crate::sys::{Proc, Source, Sys};
use crate::update_ns::{self, Calls, Tool};
use nix::fcntl::OFlag;
use nix::mount::MsFlags;
use preserve::NS_DIR;
use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;

/// Moves into the mount namespace of PID 1, so that a launch from inside
/// another snap's sandbox builds from the host's view.
///
/// When PID 1 cannot be inspected at all (some container sandboxes deny it
/// even to root), the launch fails: building from an unknown view and
/// preserving it for everyone would be worse.
pub fn join_init_mount_ns<S: Sys>(sys: &S, proc: &Proc, debug: &Debug) -> Result<()> {
    let init = sys.readlink_proc(proc, "1/ns/mnt").map_err(|e| {
        e.within("read mount namespace identifier of pid 1")
            .with_hint("this system's PID 1 cannot be inspected; run inside a PID namespace (unshare -p -f -m --mount-proc)")
    })?;
    let own = sys.readlink_proc(proc, &format!("{}/ns/mnt", sys.pid()))?;
    if init != own {
        debug.say(format_args!("joining the mount namespace of pid 1 ({})", init.to_string_lossy()));
        let fd = sys.open_ns(proc, Some(1), "mnt")?;
        sys.setns_mount(fd.as_fd())?;
    }
    Ok(())
}

fn mounts<S: Sys>(sys: &S, proc: &Proc) -> Result<Vec<mountinfo::MountEntry>> {
    let text = sys.read_proc(proc, &format!("{}/mountinfo", sys.pid()), 8 << 20)?;
    mountinfo::parse(&String::from_utf8_lossy(&text))
}

fn propagate<S: Sys>(sys: &S, path: &str, flags: MsFlags, what: &str) -> Result<()> {
    let root = sys.root()?;
    let fd = sys.open_in_root(root.as_fd(), path.trim_start_matches('/'), OFlag::O_PATH | OFlag::O_DIRECTORY)?;
    sys.mount(Source::None, fd.as_fd(), path, None, flags, None)
        .map_err(|e| Error::errno(format!("perform operation: mount {what} {path}"), e))
}

fn self_bind<S: Sys>(sys: &S, path: &str) -> Result<()> {
    let root = sys.root()?;
    let fd = sys.open_in_root(root.as_fd(), path.trim_start_matches('/'), OFlag::O_PATH | OFlag::O_DIRECTORY)?;
    sys.mount(Source::Path(path), fd.as_fd(), path, None, MsFlags::MS_BIND | MsFlags::MS_REC, None)
        .map_err(|e| Error::errno(format!("perform operation: mount --rbind {path} {path}"), e))
}

/// Binds the private tmp base onto itself, by descriptor, after the
/// checks of [`rootfs::tmp::open_private_tmp_base`].
fn self_bind_private_tmp<S: Sys>(sys: &S) -> Result<()> {
    let base = rootfs::tmp::open_private_tmp_base(sys)?;
    let path = rootfs::tmp::PRIVATE_TMP_BASE;
    sys.mount(Source::Fd(base.as_fd()), base.as_fd(), path, None, MsFlags::MS_BIND | MsFlags::MS_REC, None)
        .map_err(|e| Error::errno(format!("perform operation: mount --rbind {path} {path}"), e))
}

/// Once per boot, under the global lock: `/snap` must propagate mounts to
/// the snaps (shared), and `/run/snapd/ns` must be a private mount point so
/// the preserved namespaces do not propagate anywhere. So must the private
/// tmp base `/tmp/snap-private-tmp`: a launch's scratch root is bound
/// there while `/` is shared, and a mount under a mount shared with the
/// host's reaches the host's namespace too; a launch killed before it
/// unmounts its scratch root (at the end of the build) would leave it
/// mounted there for good.
///
/// Usually all of this is in place already: then nothing is changed and
/// the global lock is not taken; otherwise the state is checked again under
/// the lock before anything is changed.
///
/// `strict`: a strict launch (one that builds a root file system) is
/// coming; `instances`: parallel instances are on.
pub fn init_global<S: Sys>(sys: &S, proc: &Proc, strict: bool, instances: bool, debug: &Debug) -> Result<()> {
    if global_todo(sys, proc, strict, instances)? == GlobalTodo::default() {
        return Ok(());
    }
    let _global = lock::acquire(sys, proc, "", debug)?;
    lock::mkpath_root(sys, NS_DIR)?;
    let todo = global_todo(sys, proc, strict, instances)?;
    if todo.share_snap {
        debug.say("making /snap a shared mount point");
        self_bind(sys, SNAP_MOUNT_DIR)?;
        propagate(sys, SNAP_MOUNT_DIR, MsFlags::MS_SHARED | MsFlags::MS_REC, "--make-rshared")?;
    }
    if todo.bind_ns_dir {
        self_bind(sys, NS_DIR)?;
    }
    if todo.bind_ns_dir || todo.privatize_ns_dir {
        propagate(sys, NS_DIR, MsFlags::MS_PRIVATE, "--make-private")?;
    }
    if todo.bind_private_tmp {
        debug.say(format_args!("making {} a private mount point", rootfs::tmp::PRIVATE_TMP_BASE));
        self_bind_private_tmp(sys)?;
    }
    if todo.bind_private_tmp || todo.privatize_private_tmp {
        // Checked again: what is mounted there now is what is made private.
        rootfs::tmp::open_private_tmp_base(sys)?;
        propagate(sys, rootfs::tmp::PRIVATE_TMP_BASE, MsFlags::MS_PRIVATE, "--make-private")?;
    }
    // Parallel instances: /snap and /var/snap become shared mount points
    // of their own, so an instance's namespace can make them slaves.
    for dir in todo.share_for_instances {
        debug.say(format_args!("making {dir} a shared mount point for parallel instances"));
        self_bind(sys, dir)?;
        propagate(sys, dir, MsFlags::MS_SHARED | MsFlags::MS_REC, "--make-rshared")?;
    }
    Ok(())
}

/// What the global set-up still has to do.
#[derive(Debug, Default, PartialEq, Eq)]
struct GlobalTodo {
    share_snap: bool,
    bind_ns_dir: bool,
    privatize_ns_dir: bool,
    bind_private_tmp: bool,
    privatize_private_tmp: bool,
    /// With parallel instances: which of `/snap` and `/var/snap` are not
    /// yet shared mount points.
    share_for_instances: Vec<&'static str>,
}

fn global_todo<S: Sys>(sys: &S, proc: &Proc, strict: bool, instances: bool) -> Result<GlobalTodo> {
    let entries = mounts(sys, proc)?;
    let shared = |p: &str| mountinfo::last_at(&entries, p).is_some_and(|e| e.is_shared());
    let ns_dir = mountinfo::last_at(&entries, NS_DIR);
    let private_tmp = mountinfo::last_at(&entries, rootfs::tmp::PRIVATE_TMP_BASE);
    let share_for_instances = if instances {
        [SNAP_MOUNT_DIR, instances::SNAP_DATA_DIR].into_iter().filter(|d| !shared(d)).collect()
    } else {
        Vec::new()
    };
    Ok(GlobalTodo {
        // A /snap made shared for instances is shared already.
        share_snap: !shared("/") && !shared(SNAP_MOUNT_DIR) && !share_for_instances.contains(&SNAP_MOUNT_DIR),
        bind_ns_dir: ns_dir.is_none(),
        privatize_ns_dir: ns_dir.is_some_and(|e| e.is_shared()),
        bind_private_tmp: strict && private_tmp.is_none(),
        privatize_private_tmp: strict && private_tmp.is_some_and(|e| e.is_shared()),
        share_for_instances,
    })
}

/// Refuses to start a snap that is being removed.
fn check_not_removed<S: Sys>(sys: &S, instance: &str) -> Result<()> {
    let path = format!("/var/lib/snapd/inhibit/{instance}.remove");
    match open_path(sys, &path, OFlag::O_PATH, Trust::Any) {
        Ok(o) if o.stat.is_file() => Err(Error::because(format!("run snap {instance}"), "it is being removed")),
        _ => Ok(()),
    }
}

/// How the snap's namespace was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reached {
    Joined,
    Built,
}

/// Unshares a mount namespace whose id is greater than `original`'s.
///
/// The kernel lets a mount namespace be bound (preserved) only into a
/// namespace older than itself, judged by id; since Linux 6.18 ids are
/// handed out from per-CPU batches, so a new namespace can get a smaller id
/// than an older one on another CPU, and preserving it fails with EINVAL.
/// Unsharing again on each CPU in turn finds a larger id.
fn unshare_newer_than<S: Sys>(sys: &S, proc: &Proc, original: BorrowedFd<'_>, debug: &Debug) -> Result<()> {
    sys.unshare_mount_ns()?;
    let Some(old) = sys.mount_ns_id(original)? else { return Ok(()) };
    let newer = |sys: &S| -> Result<bool> {
        let own = sys.open_ns(proc, None, "mnt")?;
        Ok(sys.mount_ns_id(own.as_fd())?.map_or(true, |id| id > old))
    };
    if newer(sys)? {
        return Ok(());
    }
    let cpus = sys.cpu_affinity()?;
    let mut ordered = false;
    'sweeps: for _ in 0..4 {
        for cpu in &cpus {
            sys.set_cpu_affinity(&[*cpu])?;
            sys.setns_mount(original)?;
            sys.unshare_mount_ns()?;
            if newer(sys)? {
                ordered = true;
                break 'sweeps;
            }
        }
    }
    sys.set_cpu_affinity(&cpus)?;
    debug.say(format_args!("re-created the mount namespace to get an id above the original's: {ordered}"));
    if ordered {
        Ok(())
    } else {
        Err(Error::because("create a mount namespace that can be preserved", "its id stays below the original's"))
    }
}

/// What building and entering the namespaces needs besides the snap: the
/// directory the launcher runs from, and `snap-update-ns` with what it is
/// asked to do in this launch.
struct Setup<'a> {
    launcher_dir: &'a str,
    tool: Option<Tool>,
    calls: &'a Calls,
    /// The home directories outside `/home` bound from the host.
    homedirs: Vec<String>,
}

/// Enters the snap's preserved namespace, or builds and preserves it.
/// Called with the per-snap lock held.
fn join_or_build<S: Sys>(
    sys: &S,
    proc: &Proc,
    inv: &Invocation,
    base: &Base,
    setup: &Setup<'_>,
    debug: &Debug,
) -> Result<Reached> {
    let instance = inv.instance.as_str();
    let original = sys.open_ns(proc, None, "mnt")?;
    let open_ns_dir = || open_path(sys, NS_DIR, OFlag::O_PATH | OFlag::O_DIRECTORY, Trust::RootOwned).map(|o| o.fd);
    let existing = match open_ns_dir() {
        Ok(dir) => preserve::open(sys, proc, dir.as_fd(), instance)?.map(|p| (dir, p)),
        Err(e) if e.errno_value() == Some(nix::errno::Errno::ENOENT) => None,
        Err(e) => return Err(e),
    };
    if let Some((ns_dir, preserved)) = existing {
        let recorded = preserve::recorded_base(sys, ns_dir.as_fd(), instance)?;
        let base_changed = recorded.as_deref().is_some_and(|b| b != base.requested);
        let dev = preserve::base_device(sys, base)?;
        sys.setns_mount(preserved.fd.as_fd()).context(|| format!("join {NS_DIR}/{instance}.mnt"))?;
        let fresh = preserve::uses_base_device(sys, proc, dev)?;
        let homes_missing = missing_homedir(sys, proc, &setup.homedirs)?;
        if fresh && !base_changed && homes_missing.is_none() {
            debug.say(format_args!("joined the preserved mount namespace of {instance}"));
            return Ok(Reached::Joined);
        }
        if !base_changed && cgroup::snap_in_use(sys, proc, instance).context(|| format!("tell whether snap {instance} is running"))? {
            debug.say(format_args!("the namespace of {instance} is stale but in use: joining it anyway"));
            return Ok(Reached::Joined);
        }
        let why = match (base_changed, fresh, homes_missing) {
            (true, _, _) => "the base snap changed".to_string(),
            (false, false, _) => "the base snap was refreshed".to_string(),
            (false, true, home) => format!("home directory {} is not mounted in it", home.unwrap_or_default()),
        };
        debug.say(format_args!("discarding the namespace of {instance}: {why}"));
        sys.setns_mount(original.as_fd())?;
        preserve::discard(sys, ns_dir.as_fd(), instance)?;
    }
    // Only a build needs the global set-up (a preserved namespace implies
    // it was done); taking the global lock inside the snap's lock is the
    // only order in which the two are ever taken.
    init_global(sys, proc, true, instances::enabled(sys), debug)?;
    debug.step("set up the global mount state");
    let ns_dir = open_ns_dir()?;
    // The current profile starts with a tmpfs root, so snap-update-ns
    // (snapd's, since 2.57.6, and ours) keeps it and may write in it.
    preserve::write_rootfs_profile(sys, ns_dir.as_fd(), instance, rootfs::plan::Root::for_homedirs(&setup.homedirs))?;
    let built = build(sys, proc, original.as_fd(), instance, base, setup, debug)
        .and_then(|()| {
            let new_ns = sys.open_ns(proc, None, "mnt")?;
            preserve::capture(sys, original.as_fd(), new_ns.as_fd(), ns_dir.as_fd(), instance, base)
        });
    if let Err(e) = built {
        // The namespace dies with us; nothing may describe it.
        preserve::forget_profile(sys, ns_dir.as_fd(), instance);
        return Err(e);
    }
    debug.say(format_args!("built and preserved the mount namespace of {instance}"));
    Ok(Reached::Built)
}

/// The first of `homedirs` that is not a mount point in the current
/// namespace (a namespace built before it was listed is stale).
fn missing_homedir<S: Sys>(sys: &S, proc: &Proc, homedirs: &[String]) -> Result<Option<String>> {
    if homedirs.is_empty() {
        return Ok(None);
    }
    let entries = mounts(sys, proc)?;
    Ok(homedirs.iter().find(|h| mountinfo::last_at(&entries, h).is_none()).cloned())
}

/// Builds the snap's namespace in a new one and applies its mount profile.
fn build<S: Sys>(
    sys: &S,
    proc: &Proc,
    original: BorrowedFd<'_>,
    instance: &str,
    base: &Base,
    setup: &Setup<'_>,
    debug: &Debug,
) -> Result<()> {
    unshare_newer_than(sys, proc, original, debug)?;
    // A step of its own: the copy of every mount is not the GPU survey's
    // (the next step's when a driver is loaded) nor the root file system's.
    debug.step("unshare the mount namespace");
    rootfs::build(sys, instance, base, setup.launcher_dir, &setup.homedirs, debug)?;
    debug.step("build the root file system");
    update_ns::apply(sys, proc, setup.tool.as_ref(), &setup.calls.system, instance, debug)?;
    debug.step("apply the snap's mount profile");
    // Every mount of the snap's namespace becomes shared (and stays a slave
    // of the host's): the commands' namespaces are made slaves of it, so
    // what snap-update-ns mounts later (snapd runs it on `snap connect` of
    // a running snap) reaches the commands, and nothing flows back.
    propagate(sys, "/", MsFlags::MS_SHARED | MsFlags::MS_REC, "--make-rshared")
}

/// The command's own namespace, where one is needed: for the caller's
/// mount profile (applied by the launcher itself when the `snap-update-ns`
/// next to it is ours), which must stay out of the shared namespace, and
/// for a devpts of its own when the preserved namespace it joined shows
/// the host's (`own_devpts`: one preserved before the launcher mounted a
/// devpts instance in the snap's namespace). Otherwise the command stays in
/// the snap's namespace, as root's commands do under snap-confine 2.57.6: a
/// copy of every mount of it (made here, and torn down when the command
/// ends) is what a namespace of its own would cost.
fn enter_command_ns<S: Sys>(sys: &S, proc: &Proc, inv: &Invocation, setup: &Setup<'_>, own_devpts: bool, debug: &Debug) -> Result<()> {
    let user = update_ns::user_call(sys, setup.calls, debug)?;
    if user.is_none() && !own_devpts {
        return Ok(());
    }
    sys.unshare_mount_ns()?;
    propagate(sys, "/", MsFlags::MS_SLAVE | MsFlags::MS_REC, "--make-rslave")?;
    if let Some(user) = user {
        update_ns::apply_user(sys, proc, setup.tool.as_ref(), user, &inv.instance, debug)?;
    }
    if own_devpts {
        debug.say("the snap's namespace shows the host's devpts: the command gets one of its own");
        devpts::setup(sys)?;
    }
    Ok(())
}

/// The strict sandbox: the device cgroup set up, the snap's namespace
/// (joined or built, with a devpts instance of its own), the command's own
/// namespace where it needs one, then on cgroup v1 the moves into the device
/// and freezer cgroups, one right after the other (see
/// [`cgroup::Joining`]). `launcher_dir` is the directory
/// the launcher runs from (bound at `/usr/lib/snapd`, and where
/// `snap-update-ns` is); `profile_wait` bounds the wait for the daemon's
/// device checkpoint.
pub fn enter<S: Sys>(
    sys: &S,
    proc: &Proc,
    inv: &Invocation,
    launcher_dir: &str,
    calls: &Calls,
    profile_wait: Duration,
    debug: &Debug,
) -> Result<Reached> {
    join_init_mount_ns(sys, proc, debug)?;
    // Opened in the host's view before anything is built, and executed by
    // descriptor in whichever namespace needs it.
    let homedirs = rootfs::homedirs::read(sys, debug)?;
    let setup = Setup { launcher_dir, tool: update_ns::open_tool(sys, launcher_dir)?, calls, homedirs };
    let instance = inv.instance.as_str();
    // The host's devpts, to tell it from the snap namespace's own.
    let host_pts = devpts::device(sys);
    let _lock: Lock = lock::acquire(sys, proc, instance, debug)?;
    check_not_removed(sys, instance)?;
    let base = rootfs::locate_base(sys, &inv.base)?;
    let devices = cgroup::devices::setup(sys, proc, inv, &base, profile_wait, debug)?;
    let groups: Vec<cgroup::Tasks> = devices.into_tasks().into_iter().chain(cgroup::open_freezer(sys, instance)?).collect();
    let joining = cgroup::Joining::new(groups);
    debug.step("set up the device cgroup");
    let reached = join_or_build(sys, proc, inv, &base, &setup, debug)?;
    debug.step(if reached == Reached::Joined { "join the snap's mount namespace" } else { "build the snap's mount namespace" });
    fixups::apply(sys, debug)?;
    let own_devpts = reached == Reached::Joined && devpts::device(sys) == host_pts;
    // Under the lock: snap-update-ns --from-snap-confine checks it is held.
    enter_command_ns(sys, proc, inv, &setup, own_devpts, debug)?;
    debug.step("set up the command's namespace");
    // Under the lock, after every snap-update-ns (see cgroup::Joining).
    joining.finish(sys, debug)?;
    debug.step("join the device and freezer cgroups");
    Ok(reached)
}
