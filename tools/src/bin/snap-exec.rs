//! `snap-exec`: the last step inside the sandbox; see `confine_tools::run::exec`.
#![forbid(unsafe_code)]

use confine_tools::run::exec;
use std::process::ExitCode;

fn main() -> ExitCode {
    let env: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    // Its helpers (the completion helper) are next to it.
    let dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.to_string_lossy().into_owned()))
        .unwrap_or_else(|| confine_tools::run::EXEC_SANDBOX.trim_end_matches("/snap-exec").to_string());
    let result = exec::parse_args(std::env::args_os().collect()).and_then(|req| {
        let yaml = exec::read_yaml(&env)?;
        exec::plan(&req, &yaml, env.clone(), &dir)
    });
    let e = match result {
        Ok(program) => {
            let debug = env.iter().any(|(k, v)| (k == "SNAP_CONFINE_DEBUG" || k == "SNAPD_DEBUG") && matches!(v.as_str(), "1" | "yes" | "true"));
            if debug {
                eprintln!("DEBUG: {}", confine::debug::startup_line("snap-exec to app", std::time::SystemTime::now()));
            }
            exec::exec(program)
        }
        Err(e) => e,
    };
    eprintln!("{e}");
    ExitCode::FAILURE
}
