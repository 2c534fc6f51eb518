//! The launcher's own variables (SNAP_CONFINE_DEBUG,
//! SNAP_CONFINE_MAX_PROFILE_WAIT, ...) from an environment: newline-separated
//! `KEY=VALUE` entries, possibly without `=` or repeated. Never a panic;
//! what is accepted is bounded.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

fuzz_target!(|data: &[u8]| {
    let env: confine::settings::Env = data
        .split(|b| *b == b'\n')
        .map(|line| match line.iter().position(|b| *b == b'=') {
            Some(i) => (OsString::from_vec(line[..i].to_vec()), OsString::from_vec(line[i + 1..].to_vec())),
            None => (OsString::from_vec(line.to_vec()), OsString::new()),
        })
        .collect();
    if let Ok(s) = confine::settings::Settings::from_env(&env) {
        let cap = std::time::Duration::from_secs(confine::config::MAX_PROFILE_WAIT_SECS);
        assert!(s.profile_wait <= cap, "a wait over the cap: {:?}", s.profile_wait);
    }
});
