//! `snap-discard-ns [--snap-already-locked] INSTANCE`: removes the
//! preserved mount namespace of a snap (and its companion files), so the
//! next launch builds a fresh one. For root (the snap tools call it when a
//! snap is removed or refreshed).

use crate::debug::Debug;
use crate::error::{Error, Result};
use crate::fs::{open_path, Trust};
use crate::lock::{self, LOCK_DIR};
use crate::ns::{self, preserve};
use crate::settings::{Env, Settings};
use crate::sys::Sys;
use naming::InstanceName;
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use std::ffi::{OsStr, OsString};
use std::os::fd::AsFd;

pub const USAGE: &str = "Usage: snap-discard-ns [--snap-already-locked] INSTANCE";

pub fn run<S: Sys>(sys: &S, argv: Vec<OsString>, env: Env) -> Result<Option<String>> {
    let args: Vec<String> = argv.into_iter().skip(1).map(|a| a.to_string_lossy().into_owned()).collect();
    let (locked, name) = match args.as_slice() {
        [flag] if flag == "--help" => return Ok(Some(format!("{USAGE}\n"))),
        [name] => (false, name),
        [flag, name] if flag == "--snap-already-locked" || flag == "--from-snap-confine" => (true, name),
        _ => return Err(Error::because("parse arguments", USAGE)),
    };
    let instance = InstanceName::parse(name).map_err(|e| Error::because(format!("use snap instance name {name:?}"), e.to_string()))?;
    if !sys.ids()?.euid.is_root() {
        return Err(Error::because("discard mount namespaces", "snap-discard-ns must run as root"));
    }
    let debug = Debug::new(Settings::from_env(&env)?.debug);
    let proc = sys.open_proc()?;
    ns::join_init_mount_ns(sys, &proc, &debug)?;
    let _lock = if locked {
        let dir = open_path(sys, LOCK_DIR, OFlag::O_PATH | OFlag::O_DIRECTORY, Trust::RootOwned)?;
        let fd = sys.openat(dir.fd.as_fd(), OsStr::new(&format!("{instance}.lock")), OFlag::O_RDWR, Mode::empty())?;
        if sys.try_lock(fd.as_fd())? {
            return Err(Error::because(
                format!("discard the namespace of {instance}"),
                "its lock is not held, but --snap-already-locked was given",
            ));
        }
        None
    } else {
        Some(lock::acquire(sys, &proc, instance.as_str(), &debug)?)
    };
    let ns_dir = match open_path(sys, preserve::NS_DIR, OFlag::O_PATH | OFlag::O_DIRECTORY, Trust::RootOwned) {
        Ok(o) => o.fd,
        Err(e) if e.errno_value() == Some(Errno::ENOENT) => return Ok(None),
        Err(e) => return Err(e),
    };
    preserve::discard(sys, ns_dir.as_fd(), instance.as_str())?;
    debug.say(format_args!("discarded the mount namespace of {instance}"));
    Ok(None)
}
