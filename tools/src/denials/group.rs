//! Collecting records: the same record read from two sources counts once,
//! identical denials are grouped with a count, and the two ends of a
//! refused signal or ptrace are matched up.

use std::collections::{HashMap, HashSet, VecDeque};

use serde::Serialize;

use super::context::Context;
use super::explain::{explain, Explanation, Side};
use super::parse::{parse_line, Line};
use super::record::{Event, Record, Time};

/// Fields that differ between repeats of the same denial.
const VOLATILE: &[&str] = &["pid", "peer_pid", "ip", "ses", "audit_id"];

/// Identical denials.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub count: usize,
    pub first: Option<Time>,
    pub last: Option<Time>,
    /// The first record seen.
    pub record: Record,
    pub explanation: Explanation,
    /// Cross-checks with other groups.
    pub notes: Vec<String>,
}

/// What one line did to the collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// A new denial: the index of its group.
    New(usize),
    /// A repeat of the group with this index.
    Repeat(usize),
    /// The same record again (from another source).
    Duplicate,
    /// Left out by the filters.
    Filtered,
    Skipped,
    Other,
}

/// Which records to keep.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub since: Option<Time>,
    pub snap: Option<String>,
}

/// The records read so far.
pub struct Collector<'a> {
    ctx: &'a Context,
    filter: Filter,
    pub groups: Vec<Group>,
    index: HashMap<String, usize>,
    /// Keys of denials the snap filter left out.
    left_out: HashSet<String>,
    seen: HashSet<(Time, u64, bool)>,
    seen_order: VecDeque<(Time, u64, bool)>,
    /// Lines that looked like records but could not be read, and why (the
    /// first few).
    pub skipped: usize,
    pub skip_examples: Vec<String>,
    /// Lines that were no record of ours.
    pub other: usize,
    /// Records kept (repeats included, duplicates not).
    pub records: usize,
    pub duplicates: usize,
}

/// How many record stamps are remembered to drop duplicates.
const SEEN_LIMIT: usize = 100_000;

impl<'a> Collector<'a> {
    pub fn new(ctx: &'a Context, filter: Filter) -> Self {
        Collector {
            ctx,
            filter,
            groups: Vec::new(),
            index: HashMap::new(),
            left_out: HashSet::new(),
            seen: HashSet::new(),
            seen_order: VecDeque::new(),
            skipped: 0,
            skip_examples: Vec::new(),
            other: 0,
            records: 0,
            duplicates: 0,
        }
    }

    /// Reads one log line.
    pub fn add_line(&mut self, line: &str) -> Added {
        match parse_line(line) {
            Line::Record(r) => self.add(*r),
            Line::Skipped(why) => {
                self.skipped += 1;
                if self.skip_examples.len() < 5 {
                    let mut shown: String = line.chars().take(120).collect();
                    if shown.len() < line.len() {
                        shown.push_str("...");
                    }
                    self.skip_examples.push(format!("{why}: {shown}"));
                }
                Added::Skipped
            }
            Line::Other => {
                self.other += 1;
                Added::Other
            }
        }
    }

    /// Adds one record.
    pub fn add(&mut self, record: Record) -> Added {
        if let (Some(t), Some(serial)) = (record.time, record.serial) {
            let key = (t, serial, matches!(record.event, Event::Seccomp(_)));
            if !self.seen.insert(key) {
                self.duplicates += 1;
                return Added::Duplicate;
            }
            self.seen_order.push_back(key);
            if self.seen_order.len() > SEEN_LIMIT {
                if let Some(old) = self.seen_order.pop_front() {
                    self.seen.remove(&old);
                }
            }
        }
        if let (Some(since), Some(t)) = (self.filter.since, record.time) {
            if t < since {
                return Added::Filtered;
            }
        }
        let key = group_key(&record);
        if let Some(&i) = self.index.get(&key) {
            if let Some(g) = self.groups.get_mut(i) {
                g.count += 1;
                g.first = min_time(g.first, record.time);
                g.last = max_time(g.last, record.time);
                self.records += 1;
                return Added::Repeat(i);
            }
        }
        if self.left_out.contains(&key) {
            return Added::Filtered;
        }
        let explanation = explain(&record, self.ctx);
        if let Some(snap) = &self.filter.snap {
            if !explanation.concerns_snap(snap) {
                self.left_out.insert(key);
                return Added::Filtered;
            }
        }
        self.records += 1;
        let i = self.groups.len();
        self.groups.push(Group {
            count: 1,
            first: record.time,
            last: record.time,
            record,
            explanation,
            notes: Vec::new(),
        });
        self.index.insert(key, i);
        self.cross_check(i);
        Added::New(i)
    }

    /// Matches a signal or ptrace denial with a denial of the same event by
    /// the other end, and notes it on both.
    fn cross_check(&mut self, i: usize) {
        let Some(g) = self.groups.get(i) else { return };
        let Some(me) = ends(g) else { return };
        let mut found = Vec::new();
        for (j, other) in self.groups.iter().enumerate() {
            if j == i {
                continue;
            }
            if let Some(them) = ends(other) {
                if them.op == me.op && them.profile == me.peer && them.peer == me.profile && them.side != me.side {
                    found.push(j);
                }
            }
        }
        for j in found {
            let note_for = |g: &Group| {
                let side = g.explanation.side.map(Side::as_str).unwrap_or("the other end");
                let who = g
                    .explanation
                    .refused_by
                    .as_ref()
                    .map(|s| s.describe())
                    .unwrap_or_default();
                format!(
                    "Both ends refused: {side} ({who}) has its own denial in these records, and both \
                     rules are needed."
                )
            };
            let (a, b) = match (self.groups.get(i), self.groups.get(j)) {
                (Some(a), Some(b)) => (note_for(b), note_for(a)),
                _ => continue,
            };
            if let Some(g) = self.groups.get_mut(i) {
                if !g.notes.contains(&a) {
                    g.notes.push(a);
                }
            }
            if let Some(g) = self.groups.get_mut(j) {
                if !g.notes.contains(&b) {
                    g.notes.push(b);
                }
            }
        }
    }
}

struct Ends<'g> {
    op: &'g str,
    profile: &'g str,
    peer: &'g str,
    side: Side,
}

fn ends(g: &Group) -> Option<Ends<'_>> {
    let Event::AppArmor(e) = &g.record.event else {
        return None;
    };
    if e.operation != "signal" && e.operation != "ptrace" {
        return None;
    }
    Some(Ends {
        op: &e.operation,
        profile: &e.profile,
        peer: e.peer()?,
        side: match g.explanation.side? {
            Side::Sender | Side::Tracer => Side::Sender,
            Side::Receiver | Side::Traced => Side::Receiver,
        },
    })
}

fn min_time(a: Option<Time>, b: Option<Time>) -> Option<Time> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_time(a: Option<Time>, b: Option<Time>) -> Option<Time> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// What makes two records the same denial: everything but the time,
/// the serial, the form of the line and the process ids.
fn group_key(r: &Record) -> String {
    let mut key = String::new();
    let fields = match &r.event {
        Event::AppArmor(e) => {
            key.push_str("apparmor\0");
            &e.fields
        }
        Event::Seccomp(e) => {
            key.push_str("seccomp\0");
            &e.fields
        }
    };
    for (k, v) in fields {
        if VOLATILE.contains(&k.as_str()) {
            continue;
        }
        key.push_str(k);
        key.push('=');
        key.push_str(v);
        key.push('\0');
    }
    key
}
