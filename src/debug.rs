//! Debug output (`SNAP_CONFINE_DEBUG=1`): what the launcher decided, and how
//! long each step of the launch took.

use std::cell::{Cell, RefCell};
use std::fmt::Display;
use std::io::Write;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// A start-up stage as snapd's tools read it (snap-confine, `snap run` and
/// snap-exec all print these under debug):
/// `-- snap startup {"stage":"snap-confine enter", "time":"1700000000.123456"}`.
pub fn startup_line(stage: &str, at: SystemTime) -> String {
    let t = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    format!("-- snap startup {{\"stage\":\"{stage}\", \"time\":\"{}.{:06}\"}}", t.as_secs(), t.subsec_micros())
}

pub struct Debug {
    enabled: bool,
    start: Instant,
    last: Cell<Instant>,
    /// Tests collect the lines here instead of printing them.
    captured: Option<RefCell<Vec<String>>>,
}

impl Debug {
    pub fn new(enabled: bool) -> Debug {
        let now = Instant::now();
        Debug { enabled, start: now, last: Cell::new(now), captured: None }
    }

    #[cfg(test)]
    pub fn capturing() -> Debug {
        Debug { captured: Some(RefCell::new(Vec::new())), ..Debug::new(true) }
    }

    #[cfg(test)]
    pub fn lines(&self) -> Vec<String> {
        self.captured.as_ref().map(|c| c.borrow().clone()).unwrap_or_default()
    }

    /// Prints one debug line.
    pub fn say(&self, msg: impl Display) {
        if !self.enabled {
            return;
        }
        let line = format!("DEBUG: {msg}");
        match &self.captured {
            Some(c) => c.borrow_mut().push(line),
            // Never panic on a closed or broken stderr.
            None => {
                let _ = writeln!(std::io::stderr(), "{line}");
            }
        }
    }

    /// Marks a start-up stage (see [`startup_line`]).
    pub fn stage(&self, name: &str) {
        if self.enabled {
            self.say(startup_line(name, SystemTime::now()));
        }
    }

    /// Marks the end of a step, with its duration and the time since start.
    pub fn step(&self, name: &str) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        let took = now.duration_since(self.last.replace(now));
        let total = now.duration_since(self.start);
        self.say(format_args!(
            "step {name}: {:.3} ms (at {:.3} ms)",
            took.as_secs_f64() * 1e3,
            total.as_secs_f64() * 1e3
        ));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use std::time::Duration;

    #[test]
    fn startup_lines_read_as_snapd_writes_them() {
        let at = UNIX_EPOCH + Duration::from_micros(1_700_000_000_000_042);
        assert_eq!(
            startup_line("snap-confine enter", at),
            r#"-- snap startup {"stage":"snap-confine enter", "time":"1700000000.000042"}"#
        );
        let d = Debug::capturing();
        d.stage("snap-confine to snap-exec");
        let lines = d.lines();
        assert_eq!(lines.len(), 1);
        assert!(lines[0].starts_with(r#"DEBUG: -- snap startup {"stage":"snap-confine to snap-exec", "time":""#), "{lines:?}");
        Debug::new(false).stage("not printed");
    }
}
