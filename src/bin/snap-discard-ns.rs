//! snap-discard-ns: discards the preserved mount namespace of a snap.
#![deny(unsafe_code)]

use std::ffi::OsString;
use std::io::Write;

fn main() {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let env = std::env::vars_os().collect();
    let code = match confine::discard::run(&confine::sys::linux::LinuxSys::new(), argv, env) {
        Ok(text) => {
            if let Some(t) = text {
                let _ = std::io::stdout().write_all(t.as_bytes());
            }
            0
        }
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "{e}");
            1
        }
    };
    #[allow(clippy::exit)]
    std::process::exit(code)
}
