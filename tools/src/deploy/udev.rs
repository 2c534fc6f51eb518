//! Telling udev that rules changed, as snapd does: reload the rules,
//! re-trigger devices, wait for the queue to settle. Only on the real
//! system, and only when udev runs (not in containers or the test VM).

use std::path::Path;

use crate::paths::Paths;

/// udev's control socket; without it udev is not running.
const CONTROL: &str = "/run/udev/control";

fn run(args: &[&str]) -> Result<(), String> {
    crate::command::run("udevadm", args)
}

/// Reloads udev's rules and re-triggers devices; returns a warning when
/// that failed (the rules are in place and apply from the next event).
pub fn reload(paths: &Paths) -> Option<String> {
    if !paths.is_system() || !Path::new(CONTROL).exists() {
        return None;
    }
    let steps: [&[&str]; 4] = [
        &["control", "--reload-rules"],
        &["trigger", "--subsystem-nomatch=input"],
        &["trigger", "--property-match=ID_INPUT_JOYSTICK=1"],
        &["settle", "--timeout=10"],
    ];
    for args in steps {
        if let Err(e) = run(args) {
            return Some(e);
        }
    }
    None
}
