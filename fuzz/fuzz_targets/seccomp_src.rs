//! The seccomp `.src` parser of the policy tools (snapd's format: syscall
//! names, argument rules, `~` for denials, `#` comments): any text gives a
//! source or an error naming a line, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = confine_tools::seccomp::parse::parse(text);
    for (i, line) in text.lines().enumerate() {
        let _ = confine_tools::seccomp::parse::parse_line(line, i + 1);
    }
});
