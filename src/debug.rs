//! Debug output (`SNAP_CONFINE_DEBUG=1`): what the launcher decided, and how
//! long each step of the launch took.

use std::cell::{Cell, RefCell};
use std::fmt::Display;
use std::io::Write;
use std::time::Instant;

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
