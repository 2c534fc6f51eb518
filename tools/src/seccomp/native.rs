//! Our own BPF generator: the same verdicts as libseccomp's, for every call
//! on every architecture, produced in microseconds instead of milliseconds.
//!
//! libseccomp spends almost all of a compile building and de-duplicating
//! its decision tree. A policy is much simpler than what libseccomp
//! supports: a filter only has to answer "which rule matches this call
//! first" (the allow filter's rules all allow; each explicit denial returns
//! its errno). The program this module writes, per architecture:
//!
//! 1. compare the audit architecture, go to the next one when it differs
//!    (after the last one: the bad-architecture action, kill);
//! 2. on x86-64, kill x32 calls (`nr >= 0x40000000`, except `-1`), as
//!    libseccomp does for filters without the x32 ABI;
//! 3. a binary search over the call numbers that have rules, ending in the
//!    rule action (a call with an unconditional rule) or in the call's rules;
//! 4. each rule is a chain of argument tests, each failing test goes to the
//!    next rule, the last one to the default action.
//!
//! Argument tests read 32-bit halves: on 64-bit architectures a comparison
//! looks at the high word first, on 32-bit ones only at the low word (the
//! kernel passes 32-bit values there). On x86 the socket and IPC calls are
//! also reachable through `socketcall` and `ipc`; as libseccomp does, a rule
//! for such a call also matches the multiplexer with the call's number as
//! first argument (the real arguments are in memory the filter cannot read;
//! libseccomp keeps the conditions on the other positions, and so do we).
//!
//! Only the architectures whose output was cross-checked against
//! libseccomp are handled ([`supports`]); anything else is compiled by
//! libseccomp.

use libseccomp::{ScmpArch, ScmpSyscall};
use policy_cache::{Instruction, Program, Which};

use super::asm::{self, LabelId, Op, Target, Test};
use super::compile::{Condition, Resolved};
use super::parse::{Comparison, Kind};
use super::syscalls;

/// `SECCOMP_RET_ALLOW`.
pub const RET_ALLOW: u32 = 0x7fff_0000;
/// `SECCOMP_RET_LOG`.
pub const RET_LOG: u32 = 0x7ffc_0000;
/// `SECCOMP_RET_ERRNO` without the errno.
pub const RET_ERRNO: u32 = 0x0005_0000;
/// libseccomp's default bad-architecture action (`SCMP_ACT_KILL`, which
/// kills the thread).
pub const RET_KILL_THREAD: u32 = 0;

/// Offset of the call number in `struct seccomp_data`.
const DATA_NR: u32 = 0;
/// Offset of the audit architecture.
const DATA_ARCH: u32 = 4;
/// Offset of the first argument.
const DATA_ARGS: u32 = 16;

/// The x32 ABI bit of x86-64 call numbers.
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// How one architecture is filtered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ArchInfo {
    arch: ScmpArch,
    audit: u32,
    wide: bool,
    x32_guard: bool,
    multiplexed: bool,
}

fn arch_info(arch: ScmpArch) -> Option<ArchInfo> {
    match arch {
        ScmpArch::X8664 => Some(ArchInfo {
            arch,
            audit: 0xC000_003E,
            wide: true,
            x32_guard: true,
            multiplexed: false,
        }),
        ScmpArch::X86 => Some(ArchInfo {
            arch,
            audit: 0x4000_0003,
            wide: false,
            x32_guard: false,
            multiplexed: true,
        }),
        _ => None,
    }
}

/// Whether this generator handles filters for these architectures.
pub fn supports(native: ScmpArch, secondary: Option<ScmpArch>) -> bool {
    arch_info(native).is_some() && secondary.is_none_or(|a| arch_info(a).is_some() && a != native)
}

/// `socketcall` and `ipc` on x86.
const X86_SOCKETCALL: i32 = 102;
const X86_IPC: i32 = 117;

/// The calls reachable through x86's `socketcall`: name, call number
/// (linux/net.h), and the direct system call x86 has had since Linux 4.3
/// for most of them.
const SOCKET_CALLS: &[(&str, u32, Option<i32>)] = &[
    ("socket", 1, Some(359)),
    ("bind", 2, Some(361)),
    ("connect", 3, Some(362)),
    ("listen", 4, Some(363)),
    ("accept", 5, None),
    ("getsockname", 6, Some(367)),
    ("getpeername", 7, Some(368)),
    ("socketpair", 8, Some(360)),
    ("send", 9, None),
    ("recv", 10, None),
    ("sendto", 11, Some(369)),
    ("recvfrom", 12, Some(371)),
    ("shutdown", 13, Some(373)),
    ("setsockopt", 14, Some(366)),
    ("getsockopt", 15, Some(365)),
    ("sendmsg", 16, Some(370)),
    ("recvmsg", 17, Some(372)),
    ("accept4", 18, Some(364)),
    ("recvmmsg", 19, Some(337)),
    ("sendmmsg", 20, Some(345)),
];

/// The calls reachable through x86's `ipc`: name, call number
/// (linux/ipc.h), and the direct system call x86 has had since Linux 5.1
/// for most of them.
const IPC_CALLS: &[(&str, u32, Option<i32>)] = &[
    ("semop", 1, None),
    ("semget", 2, Some(393)),
    ("semctl", 3, Some(394)),
    ("semtimedop", 4, None),
    ("msgsnd", 11, Some(400)),
    ("msgrcv", 12, Some(401)),
    ("msgget", 13, Some(399)),
    ("msgctl", 14, Some(402)),
    ("shmat", 21, Some(397)),
    ("shmdt", 22, Some(398)),
    ("shmget", 23, Some(395)),
    ("shmctl", 24, Some(396)),
];

/// How a multiplexed call is reached on an architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Multiplexed {
    /// The multiplexer's number (`socketcall`, `ipc`).
    pub mux: i32,
    /// The call's number there (its first argument).
    pub call: u32,
    /// The call's own system call number, if the architecture has one.
    pub direct: Option<i32>,
}

/// How `syscall` is reached on `arch` if it is one of the calls `arch`
/// multiplexes: `socket` on x86 is `socketcall(1, ...)` and call 359.
pub fn multiplexed(arch: ScmpArch, syscall: &str) -> Option<Multiplexed> {
    if !arch_info(arch).is_some_and(|a| a.multiplexed) {
        return None;
    }
    [(SOCKET_CALLS, X86_SOCKETCALL), (IPC_CALLS, X86_IPC)]
        .into_iter()
        .find_map(|(calls, mux)| {
            calls
                .iter()
                .find(|(name, _, _)| *name == syscall)
                .map(|(_, call, direct)| Multiplexed {
                    mux,
                    call: *call,
                    direct: *direct,
                })
        })
}

/// The conditions of a rule when it is reached through a multiplexer, as
/// libseccomp writes them: the first argument must be the call's number;
/// conditions on the other arguments stay on the same positions (where the
/// multiplexer has other values, but that is what libseccomp compares).
pub fn multiplexed_conditions(call: u32, conditions: &[Condition]) -> Vec<Condition> {
    let mut out = vec![Condition {
        index: 0,
        comparison: Comparison::Equal,
        datum: u64::from(call),
    }];
    out.extend(conditions.iter().filter(|c| c.index != 0).copied());
    out
}

/// The number of `syscall` on `arch`, if it has one there (without the
/// multiplexer).
pub fn number(arch: ScmpArch, syscall: &str) -> Option<i32> {
    if let syscalls::Lookup::Listed(nr) = syscalls::lookup(arch, syscall) {
        return nr;
    }
    if let Some(m) = multiplexed(arch, syscall) {
        return m.direct;
    }
    ScmpSyscall::from_name_by_arch(syscall, arch)
        .ok()
        .map(|s| s.as_raw_syscall())
        .filter(|nr| *nr >= 0)
}

/// Whether `arch` passes only 32-bit arguments (filters then compare the
/// low words only).
pub fn is_narrow(arch: ScmpArch) -> bool {
    arch_info(arch).is_some_and(|a| !a.wide)
}

/// The audit architecture value of `arch`, for the architectures this
/// generator handles.
pub fn audit_arch(arch: ScmpArch) -> Option<u32> {
    arch_info(arch).map(|a| a.audit)
}

/// The rules of one call.
enum CallRules {
    /// An unconditional rule: every call returns this action.
    Always(u32),
    /// Rules tried in order, each an action and its conditions.
    Tried(Vec<(u32, Vec<Condition>)>),
}

/// What one filter matches: per architecture, the calls and their rules.
struct Table {
    arch: ArchInfo,
    calls: Vec<(u32, CallRules)>,
}

/// Builds the table of one architecture from the rules of one kind.
fn table(arch: ArchInfo, rules: &[&Resolved]) -> Table {
    // (number, action, conditions) in file order, then grouped by number.
    let mut raw: Vec<(u32, u32, Vec<Condition>)> = Vec::with_capacity(rules.len() + 8);
    for rule in rules {
        if let Some(nr) = number(arch.arch, &rule.syscall).and_then(|n| u32::try_from(n).ok()) {
            raw.push((nr, rule.action(), rule.conditions.clone()));
        }
        if let Some(m) = multiplexed(arch.arch, &rule.syscall) {
            if let Ok(mux) = u32::try_from(m.mux) {
                raw.push((mux, rule.action(), multiplexed_conditions(m.call, &rule.conditions)));
            }
        }
    }
    raw.sort_by_key(|(nr, _, _)| *nr);
    let mut calls: Vec<(u32, CallRules)> = Vec::with_capacity(raw.len());
    for (nr, action, conditions) in raw {
        let rule = if conditions.is_empty() { CallRules::Always(action) } else { CallRules::Tried(vec![(action, conditions)]) };
        match calls.last_mut() {
            Some((last, rules)) if *last == nr => match (rules, rule) {
                (CallRules::Always(_), _) => {}
                (rules, always @ CallRules::Always(_)) => *rules = always,
                (CallRules::Tried(list), CallRules::Tried(more)) => list.extend(more),
            },
            _ => calls.push((nr, rule)),
        }
    }
    Table { arch, calls }
}

/// Hands out label numbers.
struct Labels(u32);

impl Labels {
    fn fresh(&mut self) -> LabelId {
        self.0 += 1;
        self.0 - 1
    }
}

/// Splits a 64-bit value into its high and low words.
fn words(v: u64) -> (u32, u32) {
    ((v >> 32) as u32, (v & 0xFFFF_FFFF) as u32)
}

fn arg_offsets(index: u32) -> (u32, u32) {
    let base = DATA_ARGS + 8 * index;
    if cfg!(target_endian = "little") {
        (base + 4, base)
    } else {
        (base, base + 4)
    }
}

/// Emits one condition: on success continue after it, on failure go to
/// `fail`.
fn emit_condition(ops: &mut Vec<Op>, labels: &mut Labels, wide: bool, c: &Condition, fail: Target) {
    let (hi_off, lo_off) = arg_offsets(c.index);
    let (d_hi, d_lo) = words(c.datum);
    let pass = labels.fresh();
    let ok = Target::Label(pass);
    if !wide {
        // Only the low word exists.
        match c.comparison {
            Comparison::Equal => word(ops, lo_off, Test::Eq, d_lo, ok, fail),
            Comparison::NotEqual => word(ops, lo_off, Test::Eq, d_lo, fail, ok),
            Comparison::Greater => word(ops, lo_off, Test::Gt, d_lo, ok, fail),
            Comparison::GreaterOrEqual => word(ops, lo_off, Test::Ge, d_lo, ok, fail),
            Comparison::Less => word(ops, lo_off, Test::Ge, d_lo, fail, ok),
            Comparison::LessOrEqual => word(ops, lo_off, Test::Gt, d_lo, fail, ok),
            Comparison::MaskedEqual(mask) => {
                let (_, m_lo) = words(mask);
                masked_word(ops, lo_off, m_lo, d_lo, ok, fail);
            }
        }
        ops.push(Op::Label(pass));
        return;
    }
    let next = labels.fresh();
    let lo = Target::Label(next);
    match c.comparison {
        Comparison::Equal => {
            word(ops, hi_off, Test::Eq, d_hi, lo, fail);
            ops.push(Op::Label(next));
            word(ops, lo_off, Test::Eq, d_lo, ok, fail);
        }
        Comparison::NotEqual => {
            word(ops, hi_off, Test::Eq, d_hi, lo, ok);
            ops.push(Op::Label(next));
            word(ops, lo_off, Test::Eq, d_lo, fail, ok);
        }
        Comparison::Greater | Comparison::GreaterOrEqual | Comparison::Less | Comparison::LessOrEqual => {
            // x > d (or >=): high word above, or equal and low word above.
            let (yes, no) = match c.comparison {
                Comparison::Greater | Comparison::GreaterOrEqual => (ok, fail),
                _ => (fail, ok),
            };
            let lo_test = match c.comparison {
                Comparison::Greater | Comparison::LessOrEqual => Test::Gt,
                _ => Test::Ge,
            };
            let equal_hi = labels.fresh();
            word(ops, hi_off, Test::Gt, d_hi, yes, Target::Label(equal_hi));
            ops.push(Op::Label(equal_hi));
            ops.push(Op::Jump {
                test: Test::Eq,
                k: d_hi,
                yes: lo,
                no,
            });
            ops.push(Op::Label(next));
            word(ops, lo_off, lo_test, d_lo, yes, no);
        }
        Comparison::MaskedEqual(mask) => {
            let (m_hi, m_lo) = words(mask);
            masked_word(ops, hi_off, m_hi, d_hi, lo, fail);
            ops.push(Op::Label(next));
            masked_word(ops, lo_off, m_lo, d_lo, ok, fail);
        }
    }
    ops.push(Op::Label(pass));
}

/// Loads a word and tests it: if it passes `test`, go to `yes`, else `no`.
fn word(ops: &mut Vec<Op>, offset: u32, test: Test, k: u32, yes: Target, no: Target) {
    ops.push(Op::Load(offset));
    ops.push(Op::Jump { test, k, yes, no });
}

/// `(word & mask) == datum`.
fn masked_word(ops: &mut Vec<Op>, offset: u32, mask: u32, datum: u32, yes: Target, no: Target) {
    if mask == 0 {
        // Nothing to read: the test is a constant.
        ops.push(Op::Goto(if datum == 0 { yes } else { no }));
        return;
    }
    ops.push(Op::Load(offset));
    if mask != u32::MAX {
        ops.push(Op::And(mask));
    }
    ops.push(Op::Jump {
        test: Test::Eq,
        k: datum,
        yes,
        no,
    });
}

/// The call numbers and where each goes, searched with a balanced tree of
/// `>=` tests down to small runs of `==` tests. A holds the call number.
fn emit_dispatch(ops: &mut Vec<Op>, labels: &mut Labels, entries: &[(u32, Target)], default: Target) {
    const RUN: usize = 4;
    if entries.len() <= RUN {
        for (nr, target) in entries {
            let next = labels.fresh();
            ops.push(Op::Jump {
                test: Test::Eq,
                k: *nr,
                yes: *target,
                no: Target::Label(next),
            });
            ops.push(Op::Label(next));
        }
        ops.push(Op::Goto(default));
        return;
    }
    let (low, high) = entries.split_at(entries.len() / 2);
    let Some((pivot, _)) = high.first() else {
        return;
    };
    let right = labels.fresh();
    let left = labels.fresh();
    ops.push(Op::Jump {
        test: Test::Ge,
        k: *pivot,
        yes: Target::Label(right),
        no: Target::Label(left),
    });
    ops.push(Op::Label(left));
    emit_dispatch(ops, labels, low, default);
    ops.push(Op::Label(right));
    emit_dispatch(ops, labels, high, default);
}

fn emit_arch(ops: &mut Vec<Op>, labels: &mut Labels, t: &Table, default: u32, next_arch: Target) {
    let matched = labels.fresh();
    ops.push(Op::Load(DATA_ARCH));
    ops.push(Op::Jump {
        test: Test::Eq,
        k: t.arch.audit,
        yes: Target::Label(matched),
        no: next_arch,
    });
    ops.push(Op::Label(matched));
    ops.push(Op::Load(DATA_NR));
    if t.arch.x32_guard {
        let high = labels.fresh();
        let dispatch = labels.fresh();
        ops.push(Op::Jump {
            test: Test::Ge,
            k: X32_SYSCALL_BIT,
            yes: Target::Label(high),
            no: Target::Label(dispatch),
        });
        ops.push(Op::Label(high));
        ops.push(Op::Jump {
            test: Test::Eq,
            k: u32::MAX,
            yes: Target::Label(dispatch),
            no: Target::Ret(RET_KILL_THREAD),
        });
        ops.push(Op::Label(dispatch));
    }
    let mut entries = Vec::with_capacity(t.calls.len());
    let mut blocks = Vec::new();
    for (nr, rules) in &t.calls {
        match rules {
            CallRules::Always(action) => entries.push((*nr, Target::Ret(*action))),
            CallRules::Tried(list) => {
                let l = labels.fresh();
                entries.push((*nr, Target::Label(l)));
                blocks.push((l, list));
            }
        }
    }
    emit_dispatch(ops, labels, &entries, Target::Ret(default));
    for (label, rules) in blocks {
        ops.push(Op::Label(label));
        for (action, conditions) in rules {
            let next_rule = labels.fresh();
            for c in conditions {
                emit_condition(ops, labels, t.arch.wide, c, Target::Label(next_rule));
            }
            ops.push(Op::Ret(*action));
            ops.push(Op::Label(next_rule));
        }
        ops.push(Op::Ret(default));
    }
}

/// Writes one filter: `kind` selects the rules (allow or `~` lines), a
/// matching rule returns its action ([`Resolved::action`]), everything
/// else returns `default`.
pub fn filter(
    rules: &[Resolved],
    kind: Kind,
    default: u32,
    arches: &[ScmpArch],
    which: Which,
) -> Result<Program, String> {
    let chosen: Vec<&Resolved> = rules.iter().filter(|r| r.kind == kind).collect();
    // About two instructions per call and six per condition, per arch.
    let estimate: usize = chosen.iter().map(|r| 3 + 6 * r.conditions.len()).sum();
    let mut ops = Vec::with_capacity(estimate * arches.len() + 32);
    let mut labels = Labels(0);
    let infos: Vec<ArchInfo> = arches
        .iter()
        .map(|a| arch_info(*a).ok_or_else(|| format!("no native generator for architecture {a:?}")))
        .collect::<Result<_, _>>()?;
    let count = infos.len();
    for (i, info) in infos.into_iter().enumerate() {
        let next = if i + 1 == count {
            Target::Ret(RET_KILL_THREAD)
        } else {
            Target::Label(labels.fresh())
        };
        let t = table(info, &chosen);
        emit_arch(&mut ops, &mut labels, &t, default, next);
        if let Target::Label(l) = next {
            ops.push(Op::Label(l));
        }
    }
    let code = asm::assemble(&ops, labels.0).map_err(|e| format!("cannot assemble the {which} filter: {e}"))?;
    let bytes: Vec<u8> = code.iter().flat_map(|i| instruction_bytes(*i)).collect();
    Program::from_bytes(which, &bytes).map_err(|e| format!("cannot encode the {which} filter: {e}"))
}

fn instruction_bytes(i: Instruction) -> [u8; 8] {
    let [c0, c1] = i.code.to_ne_bytes();
    let [k0, k1, k2, k3] = i.k.to_ne_bytes();
    [c0, c1, i.jt, i.jf, k0, k1, k2, k3]
}
