//! Signals while the launcher is privileged.
//!
//! The caller cannot signal the launcher once its real uid is root too
//! ([`crate::privs::acquire`]), but the caller's terminal still can: the
//! job-control stops it sends (`SIGTSTP` on Ctrl-Z, `SIGTTIN` and `SIGTTOU`
//! for a background process using the terminal) are held back until the
//! setup is over, so no stop lands while the launcher holds a lock that
//! every launch of the snap needs. `SIGXFSZ` is ignored meanwhile, so a
//! file-size limit makes a write fail cleanly (`EFBIG`) instead of killing
//! the launcher half-way through writing a root-owned file.
//!
//! Before the exec the caller's signal mask and `SIGXFSZ` come back, and a
//! stop that arrived meanwhile is delivered then. `SIGPIPE` goes back to its
//! default: the Rust runtime ignores it at start-up, and an ignored signal
//! stays ignored across exec, which the app did not ask for.

use crate::error::Result;
use crate::sys::Sys;
use nix::sys::signal::{SigSet, Signal};

/// The stops a terminal sends without any permission check.
pub const JOB_CONTROL: [Signal; 3] = [Signal::SIGTSTP, Signal::SIGTTIN, Signal::SIGTTOU];

/// What [`hold`] changed, to give back in [`release`].
#[derive(Debug)]
pub struct Held {
    mask: SigSet,
    xfsz_ignored: bool,
}

/// Holds back job-control stops and ignores `SIGXFSZ`.
pub fn hold<S: Sys>(sys: &S) -> Result<Held> {
    let mask = sys.block_signals(&JOB_CONTROL)?;
    let xfsz_ignored = sys.set_signal_ignored(Signal::SIGXFSZ, true)?;
    Ok(Held { mask, xfsz_ignored })
}

/// Gives the caller's signal state back (see the module's text).
pub fn release<S: Sys>(sys: &S, held: Held) -> Result<()> {
    sys.set_signal_ignored(Signal::SIGPIPE, false)?;
    sys.set_signal_ignored(Signal::SIGXFSZ, held.xfsz_ignored)?;
    sys.set_signal_mask(&held.mask)
}
