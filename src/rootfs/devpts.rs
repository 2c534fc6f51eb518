//! A new devpts instance for each command: the app sees its own pseudo
//! terminals only, never the host's (its inherited stdio still works).

use crate::error::{Context, Error, Result};
use crate::sys::{Source, Sys};
use nix::fcntl::OFlag;
use nix::mount::MsFlags;
use std::os::fd::AsFd;

pub const DEVPTS_OPTIONS: &str = "newinstance,ptmxmode=0666,mode=0620,gid=5";

/// Mounts the new instance on `/dev/pts` and binds its `ptmx` over
/// `/dev/ptmx`. Runs in the command's own mount namespace.
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
