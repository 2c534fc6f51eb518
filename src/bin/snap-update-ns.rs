//! snap-update-ns: applies a snap's mount profile to its namespace (see
//! `confine::mount_profile::tool`).
#![deny(unsafe_code)]

use std::ffi::OsString;
use std::io::Write;

/// The note that tells the launcher this `snap-update-ns` is ours (see
/// `confine::tool_note`): the linker keeps it with the other notes, in a
/// `PT_NOTE` segment at the start of the file.
// SAFETY: `link_section` only names the section this constant data goes
// to; nothing reads or writes it at run time (the lint counts it as unsafe).
#[allow(unsafe_code)]
#[used]
#[link_section = ".note.confine"]
static NOTE: confine::tool_note::Note = confine::tool_note::NOTE;

fn main() {
    std::panic::set_hook(Box::new(|info| {
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        let _ = writeln!(std::io::stderr(), "cannot update snap namespace: internal error{at}");
    }));
    let argv: Vec<OsString> = std::env::args_os().collect();
    let env = std::env::vars_os().collect();
    let code = match confine::mount_profile::tool::run(&confine::sys::linux::LinuxSys::new(), argv, env) {
        Ok(text) => {
            if let Some(t) = text {
                let _ = std::io::stdout().write_all(t.as_bytes());
            }
            0
        }
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "{}", e.within("update snap namespace"));
            1
        }
    };
    #[allow(clippy::exit)]
    std::process::exit(code)
}
