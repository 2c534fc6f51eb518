//! Reading AppArmor and seccomp audit records and explaining them.
//!
//! When a confined app fails with EACCES or EPERM, the kernel's audit
//! record is often the only trace. This module turns such records into
//! plain words: which snap and app (or hook) was refused, by AppArmor or by
//! seccomp, which side refused a signal or ptrace, the rule the profile
//! lacked in AppArmor syntax, the interface that would grant it, whether
//! the snap has it connected, and the command that connects it.
//!
//! * [`parse`]: log lines (kernel, `/dev/kmsg`, `dmesg`, journal, auditd,
//!   syslog, bare fields) to [`record::Record`]s; lines cut short or
//!   garbled are skipped with the reason, never a crash;
//! * [`explain`]: a record to an [`explain::Explanation`], with the
//!   interface catalog and, when readable, the state of connections
//!   ([`context`]);
//! * [`group`]: duplicates (the same record from two logs) dropped,
//!   identical denials counted, both ends of a signal or ptrace matched;
//! * [`render`]: text or JSON;
//! * [`sources`]: where the records are read from, once or following;
//! * [`cli`]: `confine denials`.

pub mod cli;
pub mod context;
pub mod explain;
pub mod group;
pub mod parse;
pub mod record;
pub mod render;
pub mod sources;
pub mod subject;
pub mod time;

pub use context::Context;
pub use explain::{explain, Explanation};
pub use group::{Collector, Filter, Group};
pub use parse::{parse_line, Line};
pub use record::{Event, Record};

/// Explains every record in `text` (a log, or pasted lines) with `ctx`:
/// the grouped denials, as the command prints them.
pub fn explain_text(text: &str, ctx: &Context) -> String {
    let mut c = Collector::new(ctx, Filter::default());
    for line in text.lines() {
        c.add_line(line);
    }
    render::text(&c)
}
