//! The snap cookie, exported to apps (not to snap hooks) as `SNAP_COOKIE`
//! and `SNAP_CONTEXT`. A missing or unusable cookie is not an error, as in
//! snap-confine, but it is only ever read through a root-owned path.

use crate::config::COOKIE_DIR;
use crate::debug::Debug;
use crate::fs::read_trusted_file;
use crate::invocation::Invocation;
use crate::sys::Sys;

const MAX_COOKIE_LEN: usize = 254;

pub fn read<S: Sys>(sys: &S, inv: &Invocation, debug: &Debug) -> Option<String> {
    if inv.tag.is_cookie_exempt_hook() {
        return None;
    }
    let path = format!("{COOKIE_DIR}/snap.{}", inv.instance);
    match read_trusted_file(sys, &path, MAX_COOKIE_LEN) {
        Ok(bytes) if !bytes.is_empty() && bytes.iter().all(|b| b.is_ascii_graphic()) => {
            String::from_utf8(bytes).ok()
        }
        Ok(_) => {
            debug.say(format_args!("ignoring {path}: it is not a printable cookie"));
            None
        }
        Err(e) => {
            debug.say(format_args!("no snap cookie: {e}"));
            None
        }
    }
}
