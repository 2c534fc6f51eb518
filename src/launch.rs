//! The launch, one step per line, in this order:
//!
//! 1. descriptors 0 to 2 open, non-dumpable;
//! 2. command line and the launcher's own variables parsed;
//! 3. invocation validated (security tag, instance, component, base);
//! 4. install location, not nested in a sandbox, local group policy and
//!    AppArmor confinement of the launcher checked;
//! 5. job-control stops held back and the caller's signals shut out;
//!    capabilities narrowed to what the setup needs;
//! 6. umask and working directory set aside;
//! 7. cookie, seccomp policy and (without AppArmor) Landlock policy read,
//!    before anything is built;
//! 8. strict: the snap's mount namespace joined, or built (the snap's
//!    mount profile applied by `snap-update-ns`) and preserved, then the
//!    command's own namespace with the caller's mount profile (applied by
//!    the launcher itself, as the caller, when that `snap-update-ns` is
//!    ours) and a devpts;
//!    classic, with parallel instances on: a namespace of its own showing
//!    the instance's files under the snap's name;
//! 9. ids become the caller's for good, `SNAP_USER_DATA` created as the caller;
//! 10. AppArmor label for the exec set;
//! 11. umask and working directory restored, as the caller;
//! 12. the caller's signal state given back; Landlock ruleset applied,
//!     where the policy asks for it, then `no_new_privs` for a caller other
//!     than root (nothing else stops a setuid program in the snap there);
//! 13. seccomp filter loaded (with `CAP_SYS_ADMIN`, so `no_new_privs` is not
//!     needed for it: under AppArmor it would stop the exec transition);
//! 14. every capability dropped;
//! 15. exec.

use crate::debug::Debug;
use crate::error::{Error, Result};
use crate::invocation::Invocation;
use crate::settings::{Env, Settings};
use crate::sys::{Ids, Proc, Sys};
use crate::{apparmor, app_env, args, config, cookie, group_policy, landlock, ns, privs, process, seccomp, signals, update_ns, user_data};
use std::ffi::OsString;
use std::os::fd::AsFd;

/// What to do when the launch ends without an exec.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Print this to stdout and exit 0 (`--version`, `--help`).
    Print(String),
}

/// The launch. It returns only on failure or for `--version`/`--help`.
pub fn run<S: Sys>(sys: &S, argv: Vec<OsString>, env: Env) -> Result<Outcome> {
    // Before we open anything: a closed 0, 1 or 2 would otherwise be taken by
    // one of our files and handed to the app as its stdin, stdout or stderr.
    sys.ensure_stdio()?;
    sys.set_dumpable(false)?;
    let secure = sys.at_secure();

    let args = match args::parse(argv)? {
        args::Command::Version => return Ok(Outcome::Print(format!("snap-confine {}\n", config::VERSION))),
        args::Command::Help => return Ok(Outcome::Print(args::HELP.to_string())),
        args::Command::Launch(a) => a,
    };
    let settings = Settings::from_env(&env)?;
    let debug = Debug::new(settings.debug);
    debug.stage("snap-confine enter");
    let ids = sys.ids()?;
    check_secure_mode(&ids, secure)?;
    debug.say(format_args!("ids {ids:?}, secure mode {secure}"));
    debug.step("parse the command line");

    // Validation comes before every privileged side effect.
    let inv = Invocation::new(args, &env)?;
    debug.step("validate the invocation");

    let proc = sys.open_proc()?;
    let exe = check_install_location(sys, &proc, &ids)?;
    check_not_nested(sys, &proc, &debug)?;
    group_policy::check(sys, &proc, &ids, &debug)?;
    let aa = apparmor::probe(sys, &proc, &debug)?;
    apparmor::check_launcher_confinement(&aa, &ids)?;
    debug.step("check the launcher");

    // Before the caller is shut out (privs::acquire) nothing is held that a
    // stop could keep from others.
    let held = signals::hold(sys)?;
    let privileged = privs::acquire(sys, ids)?;
    let saved = process::save_and_sanitize(sys, &proc)?;
    let cookie = cookie::read(sys, &inv, &debug);
    // The policy is read before anything is built, so a missing or bad
    // policy fails the launch with nothing done.
    let policy = seccomp::read_for_tag(sys, &inv.tag.tag, settings.profile_wait, &debug)?;
    let landlock = landlock::read_for_launch(sys, &inv, &aa, &debug)?;
    debug.step("read the policy");

    if inv.classic {
        ns::instances::enter_classic(sys, &proc, &inv, &debug)?;
    } else {
        let calls = update_ns::Calls::new(&inv.instance, &env, &aa, &ids, settings.debug);
        debug.stage("snap-confine mount namespace start");
        ns::enter(sys, &proc, &inv, launcher_dir(&exe)?, &calls, settings.profile_wait, &debug)?;
        debug.stage("snap-confine mount namespace finish");
    }

    let demoted = privs::demote(sys, privileged)?;
    user_data::create(sys, &env)?;
    debug.step("drop to the caller's ids");

    // The label is set before the filter is loaded (the filter could deny
    // the write) and after every helper process has been forked (the exec
    // label is inherited across fork).
    let label = apparmor::change_onexec(sys, &proc, &aa, &inv.tag.tag, &debug)?;
    let envp = app_env::build(&env, secure, &inv, cookie.as_deref());
    // As the caller, so the caller's own permissions decide.
    process::restore(sys, saved, !inv.classic, &debug)?;
    // No lock is held any more: a stop may land from here on.
    signals::release(sys, held)?;
    // In the final namespace, after the last path the launcher itself opens
    // (the working directory), so the ruleset only has to allow the app.
    if let Some(landlock) = &landlock {
        landlock::apply(sys, landlock, &env, &demoted, &debug)?;
        privs::forbid_new_privs(sys, &ids, &aa, &demoted)?;
    }
    // Last: the filter needs CAP_SYS_ADMIN, and after it only capset and
    // execve run.
    let filtered = seccomp::install(sys, &policy, &demoted, label, &debug)?;
    let dropped = privs::drop_all(sys, demoted, filtered)?;
    debug.step("apply the policy");
    debug.stage("snap-confine to snap-exec");
    Err(exec(sys, dropped, &inv, &envp))
}

/// A setuid launch that the kernel did not mark as secure would mean the
/// environment was not scrubbed: refuse it.
fn check_secure_mode(ids: &Ids, secure: bool) -> Result<()> {
    if (ids.ruid != ids.euid || ids.rgid != ids.egid) && !secure {
        return Err(Error::because("trust the environment", "the kernel did not start the launcher in secure mode"));
    }
    Ok(())
}

/// A setuid launch must come from the installed binary: a hard link or copy
/// elsewhere could sit next to helpers the attacker controls, and the
/// launcher's AppArmor profile would not apply to it. Returns the path the
/// launcher runs from.
fn check_install_location<S: Sys>(sys: &S, proc: &Proc, ids: &Ids) -> Result<OsString> {
    let exe = sys.readlink_proc(proc, &format!("{}/exe", sys.pid()))?;
    if !ids.ruid.is_root() && exe != config::LAUNCHER_PATH {
        return Err(Error::because(
            format!("run from unexpected location {}", exe.to_string_lossy()),
            format!("the setuid launcher must be {}", config::LAUNCHER_PATH),
        ));
    }
    Ok(exe)
}

/// The directory the launcher runs from, as snap-confine finds it: it is
/// bound at `/usr/lib/snapd` inside the sandbox and holds `snap-update-ns`.
/// (For a setuid launch it is the install directory; root may run the
/// launcher from elsewhere.)
fn launcher_dir(exe: &OsString) -> Result<&str> {
    let text = exe.to_str().filter(|p| p.starts_with('/') && !p.ends_with(" (deleted)"));
    match text.and_then(|p| p.rsplit_once('/')) {
        Some(("", _)) => Ok("/"),
        Some((dir, _)) => Ok(dir),
        None => Err(Error::because("find the launcher's directory", format!("it runs from {}", exe.to_string_lossy()))),
    }
}

/// A launch from inside a snap's sandbox is refused: it would hand the app
/// the launcher's privileges again (another snap's confinement, its
/// cookie). Where PID 1 can be inspected, the root directory of a sandbox
/// is not PID 1's. PID 1 often cannot be inspected from a sandbox
/// (Landlock and AppArmor refuse to let a confined process look at an
/// unconfined one), nor on some hosts at all; then `/usr` tells: inside a
/// strict sandbox it is a base snap's own (the one mounted at
/// `/snap/<base>/current/usr`), never the host's. That look costs one walk
/// per installed snap, so it is made only when PID 1 cannot tell.
fn check_not_nested<S: Sys>(sys: &S, proc: &Proc, debug: &Debug) -> Result<()> {
    let root = sys.root()?;
    let own = sys.fstat(root.as_fd())?;
    let nested = || Error::because("run inside a snap's sandbox", "the root directory is not the host's");
    match sys.lstat_proc(proc, "1/root/.") {
        Ok(init) if (own.dev, own.ino) == (init.dev, init.ino) => return Ok(()),
        Ok(_) => return Err(nested()),
        Err(e) if matches!(e.errno_value(), Some(nix::errno::Errno::EACCES | nix::errno::Errno::EPERM)) => {
            debug.say(format_args!("the root directory of pid 1 cannot be inspected: {e}"));
        }
        Err(e) => return Err(e.within("find the root directory of pid 1")),
    }
    if let Some(base) = base_of_usr(sys, root.as_fd())? {
        debug.say(format_args!("/usr is that of base snap {base}"));
        return Err(nested());
    }
    Ok(())
}

/// The snap whose current revision's `usr` is `/usr`, looked up under
/// `/snap` (both resolved inside `root`).
fn base_of_usr<S: Sys>(sys: &S, root: std::os::fd::BorrowedFd<'_>) -> Result<Option<String>> {
    use nix::errno::Errno;
    use nix::fcntl::OFlag;
    let flags = OFlag::O_PATH | OFlag::O_DIRECTORY;
    let own = match sys.open_in_root(root, "usr/.", flags) {
        Ok(fd) => sys.fstat(fd.as_fd())?,
        Err(e) if matches!(e.errno_value(), Some(Errno::ENOENT | Errno::ENOTDIR)) => return Ok(None),
        Err(e) => return Err(e.within("open /usr")),
    };
    let snap = match sys.open_in_root(root, "snap", OFlag::O_RDONLY | OFlag::O_DIRECTORY) {
        Ok(fd) => fd,
        Err(e) if matches!(e.errno_value(), Some(Errno::ENOENT | Errno::ENOTDIR)) => return Ok(None),
        Err(e) => return Err(e.within("open /snap")),
    };
    for (name, kind) in sys.read_dir(snap.as_fd())? {
        let Some(name) = name.to_str().filter(|_| kind == crate::sys::EntryKind::Dir) else { continue };
        let usr = format!("snap/{name}/current/usr/.");
        let Ok(fd) = sys.open_in_root(root, &usr, flags) else { continue };
        let st = sys.fstat(fd.as_fd())?;
        if (st.dev, st.ino) == (own.dev, own.ino) {
            return Ok(Some(name.to_string()));
        }
    }
    Ok(None)
}

fn exec<S: Sys>(sys: &S, _dropped: privs::Dropped, inv: &Invocation, envp: &[std::ffi::CString]) -> Error {
    sys.execve(&inv.command, &inv.argv, envp)
}

#[cfg(test)]
#[path = "launch_tests.rs"]
mod tests;
