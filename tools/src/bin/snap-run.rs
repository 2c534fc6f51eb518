//! `snap-run SNAP[.APP] [ARG...]`: runs a snap's app in its sandbox, for the
//! calling user. Also reached through the `/snap/bin` wrappers. The steps
//! are in `confine_tools::run::front`.
#![forbid(unsafe_code)]

use std::process::ExitCode;

fn main() -> ExitCode {
    let caller: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    ExitCode::from(confine_tools::run::front::main(std::env::args_os().collect(), caller))
}
