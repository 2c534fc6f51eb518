//! What a policy means, decided from its rules without any BPF.
//!
//! This is the yardstick both backends are measured against: for any call
//! (architecture, number, arguments) it says which rules match and what a
//! filter should return. It reads the rules the way the generators do: a
//! rule matches when all its conditions hold; on 32-bit architectures only
//! the low 32 bits of an argument and of the compared value count; on x86 a
//! rule for a socket or IPC call also matches the multiplexer (`socketcall`,
//! `ipc`) when its first argument is the call's number.
//!
//! It also answers "which lines allow (or deny) this call", which is what a
//! denial explainer needs.

use std::collections::HashMap;

use libseccomp::ScmpArch;
#[cfg(test)]
use libseccomp::ScmpSyscall;

use super::compile::{Condition, Resolved};
use super::native;
use super::parse::{Comparison, Kind};

/// Whether one condition holds for an argument value.
pub fn condition_holds(c: &Condition, arg: u64, narrow: bool) -> bool {
    let (arg, datum) = if narrow {
        (arg & 0xFFFF_FFFF, c.datum & 0xFFFF_FFFF)
    } else {
        (arg, c.datum)
    };
    match c.comparison {
        Comparison::Equal => arg == datum,
        Comparison::NotEqual => arg != datum,
        Comparison::Less => arg < datum,
        Comparison::LessOrEqual => arg <= datum,
        Comparison::Greater => arg > datum,
        Comparison::GreaterOrEqual => arg >= datum,
        Comparison::MaskedEqual(mask) => {
            let mask = if narrow { mask & 0xFFFF_FFFF } else { mask };
            arg & mask == datum
        }
    }
}

/// A call as a filter sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Call {
    pub audit_arch: u32,
    pub nr: i32,
    pub args: [u64; 6],
}

/// How a rule reaches a call number.
#[derive(Debug, Clone)]
enum Route<'a> {
    /// The rule's own system call.
    Direct(&'a Resolved),
    /// Through a multiplexer, with these conditions (the call number as
    /// first argument).
    Multiplexed(&'a Resolved, Vec<Condition>),
}

struct ArchRules<'a> {
    arch: ScmpArch,
    audit: u32,
    narrow: bool,
    by_number: HashMap<i32, Vec<Route<'a>>>,
}

/// The rules of a policy indexed by architecture and call number.
pub struct Semantics<'a> {
    arches: Vec<ArchRules<'a>>,
}

impl<'a> Semantics<'a> {
    /// Indexes `rules` for `arches` (the architectures the filters cover;
    /// only those the native generator knows are indexed).
    pub fn new(rules: &'a [Resolved], arches: &[ScmpArch]) -> Self {
        let mut out = Vec::new();
        for &arch in arches {
            let Some(audit) = native::audit_arch(arch) else {
                continue;
            };
            let mut by_number: HashMap<i32, Vec<Route<'a>>> = HashMap::new();
            for rule in rules {
                if let Some(nr) = native::number(arch, &rule.syscall) {
                    by_number.entry(nr).or_default().push(Route::Direct(rule));
                }
                if let Some(m) = native::multiplexed(arch, &rule.syscall) {
                    let conditions = native::multiplexed_conditions(m.call, &rule.conditions);
                    by_number
                        .entry(m.mux)
                        .or_default()
                        .push(Route::Multiplexed(rule, conditions));
                }
            }
            out.push(ArchRules {
                arch,
                audit,
                narrow: native::is_narrow(arch),
                by_number,
            });
        }
        Semantics { arches: out }
    }

    /// The rules of `kind` that match `call`, in file order (a rule appears
    /// once even if it matches both directly and through a multiplexer).
    pub fn matching(&self, kind: Kind, call: &Call) -> Vec<&'a Resolved> {
        let Some(a) = self.arches.iter().find(|a| a.audit == call.audit_arch) else {
            return Vec::new();
        };
        let mut found: Vec<&'a Resolved> = Vec::new();
        for route in a.by_number.get(&call.nr).map(Vec::as_slice).unwrap_or(&[]) {
            let (rule, conditions) = match route {
                Route::Direct(rule) => (*rule, rule.conditions.as_slice()),
                Route::Multiplexed(rule, conditions) => (*rule, conditions.as_slice()),
            };
            let hit = conditions.iter().all(|c| {
                let arg = usize::try_from(c.index)
                    .ok()
                    .and_then(|i| call.args.get(i))
                    .copied()
                    .unwrap_or(0);
                condition_holds(c, arg, a.narrow)
            });
            if hit && rule.kind == kind && !found.iter().any(|r| std::ptr::eq(*r, rule)) {
                found.push(rule);
            }
        }
        found.sort_by_key(|r| r.line);
        found
    }

    /// What a filter returns for `call`: the action of the first rule of
    /// `kind` that matches ([`Resolved::action`]), `default` when none does,
    /// and the bad-architecture action (kill) for architectures the filter
    /// does not cover and for x32 calls on x86-64.
    pub fn result(&self, kind: Kind, default: u32, call: &Call) -> u32 {
        let Some(a) = self.arches.iter().find(|a| a.audit == call.audit_arch) else {
            return native::RET_KILL_THREAD;
        };
        let raw = call.nr as u32;
        if a.arch == ScmpArch::X8664 && raw >= 0x4000_0000 && raw != u32::MAX {
            return native::RET_KILL_THREAD;
        }
        self.matching(kind, call).first().map_or(default, |r| r.action())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::seccomp::{compile, parse, IdResolver};

    fn rules(text: &str) -> Vec<Resolved> {
        let source = parse::parse(text).unwrap();
        compile::resolve(&source, &mut IdResolver::system()).unwrap().0
    }

    fn call(arch: ScmpArch, name: &str, args: [u64; 6]) -> Call {
        Call {
            audit_arch: native::audit_arch(arch).unwrap(),
            nr: ScmpSyscall::from_name_by_arch(name, arch).unwrap().as_raw_syscall(),
            args,
        }
    }

    #[test]
    fn finds_the_lines_that_allow_a_call() {
        let r = rules("read\nsocket AF_UNIX\nsocket AF_INET\n~ioctl - 4294967295|21522\nioctl\n");
        let s = Semantics::new(&r, &[ScmpArch::X8664, ScmpArch::X86]);
        let lines = |kind, c: Call| s.matching(kind, &c).iter().map(|r| r.line).collect::<Vec<_>>();
        assert_eq!(
            lines(Kind::Allow, call(ScmpArch::X8664, "socket", [2, 0, 0, 0, 0, 0])),
            vec![3]
        );
        assert_eq!(
            lines(Kind::Allow, call(ScmpArch::X8664, "socket", [16, 0, 0, 0, 0, 0])),
            Vec::<usize>::new()
        );
        // On x86 both socket rules also allow socketcall(SYS_SOCKET, ...).
        let sc = Call {
            audit_arch: native::audit_arch(ScmpArch::X86).unwrap(),
            nr: 102,
            args: [1, 0, 0, 0, 0, 0],
        };
        assert_eq!(lines(Kind::Allow, sc), vec![2, 3]);
        let tiocsti = call(ScmpArch::X8664, "ioctl", [0, 0x1_0000_5412, 0, 0, 0, 0]);
        assert_eq!(lines(Kind::Deny, tiocsti), vec![4]);
        assert_eq!(lines(Kind::Allow, tiocsti), vec![5]);
    }

    #[test]
    fn results_and_bad_architectures() {
        let r = rules("read\n");
        let s = Semantics::new(&r, &[ScmpArch::X8664]);
        let res = |c: Call| s.result(Kind::Allow, 5, &c);
        assert_eq!(res(call(ScmpArch::X8664, "read", [0; 6])), native::RET_ALLOW);
        assert_eq!(res(call(ScmpArch::X8664, "write", [0; 6])), 5);
        let x32 = Call {
            audit_arch: 0xC000_003E,
            nr: 0x4000_0000,
            args: [0; 6],
        };
        assert_eq!(res(x32), native::RET_KILL_THREAD);
        let minus_one = Call { nr: -1, ..x32 };
        assert_eq!(res(minus_one), 5);
        assert_eq!(res(call(ScmpArch::X86, "read", [0; 6])), native::RET_KILL_THREAD);
    }

    #[test]
    fn narrow_arguments_compare_low_words() {
        let c = Condition {
            index: 0,
            comparison: Comparison::Equal,
            datum: 5,
        };
        assert!(condition_holds(&c, 0x1_0000_0005, true));
        assert!(!condition_holds(&c, 0x1_0000_0005, false));
    }
}
