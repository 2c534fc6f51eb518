//! snap-confine: the setuid launcher. The steps of a launch are listed, in
//! order, in `src/launch.rs`.
#![deny(unsafe_code)]

use confine::launch::{run, Outcome};
use confine::settings::Env;
use std::ffi::OsString;
use std::io::Write;

fn main() {
    // A panic must not print anything from the environment; with
    // `panic = "abort"` the process then ends without unwinding.
    std::panic::set_hook(Box::new(|info| {
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        let _ = writeln!(std::io::stderr(), "cannot continue: internal error{at}");
    }));
    let argv: Vec<OsString> = std::env::args_os().collect();
    let env: Env = std::env::vars_os().collect();
    let code = match run(&confine::sys::linux::LinuxSys::new(), argv, env) {
        Ok(Outcome::Print(text)) => {
            let _ = std::io::stdout().write_all(text.as_bytes());
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
