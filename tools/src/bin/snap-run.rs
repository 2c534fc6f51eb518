//! `snap-run SNAP[.APP] [ARG...]`: runs a snap's app in its sandbox, for the
//! calling user. Also reached through the `/snap/bin` wrappers.
#![forbid(unsafe_code)]

use std::process::ExitCode;

fn main() -> ExitCode {
    let argv = std::env::args_os().collect();
    let caller: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    let result = confine_tools::run::parse_args(argv)
        .and_then(|req| confine_tools::run::prepare(&req, std::path::Path::new("/"), &caller));
    let debug = caller.iter().any(|(k, v)| k == "SNAP_CONFINE_DEBUG" && matches!(v.as_str(), "1" | "yes" | "true"));
    let e = match result {
        Ok(launch) => {
            let leaf = confine_tools::run::cgroup::enter_leaf(&launch.tag, &launch.instance);
            if debug {
                eprintln!("DEBUG: snap-run: cgroup: {leaf:?}");
            }
            confine_tools::run::exec(launch)
        }
        Err(e) => e,
    };
    eprintln!("{e}");
    ExitCode::FAILURE
}
