//! `snap-exec`: the last step inside the sandbox; see `confine_tools::run::exec`.
#![forbid(unsafe_code)]

use confine_tools::run::exec;
use std::process::ExitCode;

fn main() -> ExitCode {
    let env: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    let result = exec::parse_args(std::env::args_os().collect()).and_then(|req| {
        let yaml = exec::read_yaml(&env)?;
        exec::plan(&req, &yaml, env.clone())
    });
    let e = match result {
        Ok(program) => exec::exec(program),
        Err(e) => e,
    };
    eprintln!("{e}");
    ExitCode::FAILURE
}
