//! A new devpts instance for the snap's namespace, as snap-confine mounts
//! it: the snap's commands see their own pseudo terminals only, never the
//! host's (their inherited stdio still works).

use crate::error::{Context, Error, Result};
use crate::sys::{Source, Sys};
use nix::fcntl::OFlag;
use nix::mount::MsFlags;
use std::os::fd::AsFd;

pub const DEVPTS_OPTIONS: &str = "newinstance,ptmxmode=0666,mode=0620,gid=5";

/// The device of `/dev/pts` in the current namespace (`None` when there is
/// none): equal to the host's, it is the host's instance.
pub fn device<S: Sys>(sys: &S) -> Option<u64> {
    let root = sys.root().ok()?;
    let pts = sys.open_in_root(root.as_fd(), "dev/pts", OFlag::O_PATH | OFlag::O_DIRECTORY).ok()?;
    sys.fstat(pts.as_fd()).ok().map(|st| st.dev)
}

/// Mounts the new instance on `/dev/pts` and binds its `ptmx` over
/// `/dev/ptmx`. Runs in the snap's namespace as it is built (or in a
/// command's own, for a namespace preserved without one).
pub fn setup<S: Sys>(sys: &S) -> Result<()> {
    let root = sys.root()?;
    // Both must exist before anything is mounted over them.
    for p in ["dev/pts/ptmx", "dev/ptmx"] {
        sys.open_in_root(root.as_fd(), p, OFlag::O_PATH).context(|| format!("find /{p}"))?;
    }
    let pts = sys.open_in_root(root.as_fd(), "dev/pts", OFlag::O_PATH | OFlag::O_DIRECTORY)?;
    sys.mount(Source::Path("devpts"), pts.as_fd(), "/dev/pts", Some("devpts"), MsFlags::empty(), Some(DEVPTS_OPTIONS))
        .map_err(|e| Error::errno(format!("perform operation: mount -t devpts -o {DEVPTS_OPTIONS} devpts /dev/pts"), e))?;
    let ptmx = sys.open_in_root(root.as_fd(), "dev/pts/ptmx", OFlag::O_PATH)?;
    let target = sys.open_in_root(root.as_fd(), "dev/ptmx", OFlag::O_PATH)?;
    sys.mount(Source::Fd(ptmx.as_fd()), target.as_fd(), "/dev/ptmx", None, MsFlags::MS_BIND, None)
        .map_err(|e| Error::errno("perform operation: mount --bind /dev/pts/ptmx /dev/ptmx", e))
}
