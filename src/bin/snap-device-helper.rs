//! snap-device-helper: run by udev for devices tagged for snap apps; allows
//! or denies the device in the app's existing device cgroup (see
//! `confine::cgroup::helper`).
#![deny(unsafe_code)]

use std::ffi::OsString;
use std::io::Write;

fn main() {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let env = std::env::vars_os().collect();
    let code = match confine::cgroup::helper::run(&confine::sys::linux::LinuxSys::new(), &argv, &env) {
        Ok(_) => 0,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "{e}");
            1
        }
    };
    #[allow(clippy::exit)]
    std::process::exit(code)
}
