//! The explanation of a record, as data: its summary, the refusing side,
//! the rule that was missing, the interfaces that would allow it, and the
//! text.

use serde::Serialize;

use crate::denials::context::PlugStatus;
use crate::denials::subject::Subject;

/// Which end of a signal or ptrace refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Sender,
    Receiver,
    Tracer,
    Traced,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Sender => "the sender",
            Side::Receiver => "the receiver",
            Side::Tracer => "the tracing process",
            Side::Traced => "the traced process",
        }
    }
}

/// One piece of an explanation's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "text", rename_all = "snake_case")]
pub enum Para {
    /// A sentence or a few.
    Text(String),
    /// A policy rule, shown on a line of its own.
    Rule(String),
    /// A command to run.
    Command(String),
}

/// An interface's rule that covers the access (before the plug's state is
/// known).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Covering {
    pub interface: String,
    /// The rule, as written in the interface's data.
    pub rule: String,
    /// The rule denies rather than allows.
    pub deny: bool,
    /// The rule covers only files the process owns.
    pub owner_only: bool,
}

/// An interface that would allow the access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InterfaceHint {
    pub interface: String,
    /// Its rule that covers the access, as written in its data.
    pub rule: String,
    /// The rule denies rather than allows.
    pub deny: bool,
    /// The rule covers only files the process owns.
    pub owner_only: bool,
    /// Where the snap's plug stands.
    pub plug: PlugStatus,
    /// The command that connects it.
    pub command: Option<String>,
}

/// The explanation of one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// What was denied, to whom, in one sentence.
    pub summary: String,
    /// `apparmor` or `seccomp`.
    pub mechanism: &'static str,
    /// The label whose policy refused (for seccomp: the process's label).
    pub refused_by: Option<Subject>,
    /// For signals and ptrace: which end refused.
    pub side: Option<Side>,
    /// The other end of a signal, ptrace, socket or D-Bus exchange.
    pub other: Option<Subject>,
    /// The rule the refusing profile lacked (AppArmor syntax), or the
    /// system call's name (seccomp).
    pub rule: Option<String>,
    pub interfaces: Vec<InterfaceHint>,
    pub text: Vec<Para>,
}

impl Explanation {
    /// The snap the record is about: the refusing side's, else the other
    /// side's.
    pub fn snap(&self) -> Option<&str> {
        self.refused_by
            .as_ref()
            .and_then(Subject::snap)
            .or_else(|| self.other.as_ref().and_then(Subject::snap))
    }

    /// Whether the record concerns snap `name` (on either side).
    pub fn concerns_snap(&self, name: &str) -> bool {
        self.refused_by.as_ref().is_some_and(|s| s.concerns_snap(name))
            || self.other.as_ref().is_some_and(|s| s.concerns_snap(name))
    }

    pub(super) fn say(&mut self, text: impl Into<String>) {
        self.text.push(Para::Text(text.into()));
    }

    pub(super) fn rule_line(&mut self, rule: impl Into<String>) {
        self.text.push(Para::Rule(rule.into()));
    }

    /// Says who refused (`refused`, as "Refused by ..." goes on) and the
    /// rule its profile lacks, and records the rule.
    pub(super) fn lacks(&mut self, refused: &str, rule: &str) {
        self.say(format!("Refused by {refused}. The rule its profile lacks:"));
        self.rule_line(rule);
        self.rule = Some(rule.to_owned());
    }

    pub(super) fn command(&mut self, cmd: impl Into<String>) {
        self.text.push(Para::Command(cmd.into()));
    }
}
