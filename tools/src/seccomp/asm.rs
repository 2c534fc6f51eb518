//! A tiny assembler for seccomp's classic BPF.
//!
//! Code is written as a list of [`Op`]s with symbolic jump targets. Classic
//! BPF only jumps forward, and a conditional jump reaches at most 255
//! instructions ahead, so the list is assembled backwards: when a jump is
//! placed, everything after it is already placed and every distance is
//! known. A target that is too far is reached through a trampoline placed
//! right after the jump (an unconditional `ja`, which has a 32-bit offset, or
//! a copy of the `ret` itself).

use policy_cache::Instruction;

/// Loads the 32-bit word at this offset of `struct seccomp_data` into A.
const LD_W_ABS: u16 = 0x20;
/// `A &= k`.
const ALU_AND_K: u16 = 0x54;
/// Unconditional jump by k.
const JMP_JA: u16 = 0x05;
/// Returns k.
const RET_K: u16 = 0x06;

/// A conditional jump comparing A with a constant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Test {
    /// `A == k`
    Eq,
    /// `A > k` (unsigned)
    Gt,
    /// `A >= k` (unsigned)
    Ge,
}

impl Test {
    fn code(self) -> u16 {
        match self {
            Test::Eq => 0x15,
            Test::Gt => 0x25,
            Test::Ge => 0x35,
        }
    }
}

/// A label's number.
pub type LabelId = u32;

/// Where a jump goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A label placed with [`Op::Label`] later in the list.
    Label(LabelId),
    /// Return this value (a `ret` is shared when one is close enough).
    Ret(u32),
}

/// One step of a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `A = data[offset]` (32 bits).
    Load(u32),
    /// `A &= mask`.
    And(u32),
    /// `if A <test> k goto yes else goto no`.
    Jump {
        test: Test,
        k: u32,
        yes: Target,
        no: Target,
    },
    /// `goto target`.
    Goto(Target),
    /// `return value`.
    Ret(u32),
    /// Marks the position of a label.
    Label(LabelId),
}

/// Why a program could not be assembled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AsmError {
    /// A jump to a label that is not placed after it.
    UnknownLabel(LabelId),
    /// A label at the very end, with no instruction to land on.
    LabelAtEnd(LabelId),
}

impl std::fmt::Display for AsmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AsmError::UnknownLabel(l) => write!(f, "jump to label {l}, which does not follow it"),
            AsmError::LabelAtEnd(l) => write!(f, "label {l} is at the end of the program"),
        }
    }
}

/// Positions are counted from the end of the program: the last instruction
/// is 0. A forward jump from `from` to `to` skips `from - to - 1`
/// instructions.
const UNPLACED: u32 = u32::MAX;

struct Backwards {
    /// The instructions, last one first.
    out: Vec<Instruction>,
    /// Position of the instruction each label lands on ([`UNPLACED`]
    /// until the label is seen).
    labels: Vec<u32>,
    /// Position of the nearest `ret` of each value.
    rets: Vec<(u32, usize)>,
}

impl Backwards {
    fn next_pos(&self) -> usize {
        self.out.len()
    }

    fn push(&mut self, code: u16, jt: u8, jf: u8, k: u32) -> usize {
        let pos = self.out.len();
        self.out.push(Instruction { code, jt, jf, k });
        pos
    }

    fn push_ret(&mut self, value: u32) -> usize {
        let pos = self.push(RET_K, 0, 0, value);
        match self.rets.iter_mut().find(|(v, _)| *v == value) {
            Some(entry) => entry.1 = pos,
            None => self.rets.push((value, pos)),
        }
        pos
    }

    /// The position of a target, if it is already placed.
    fn position(&self, target: Target) -> Result<Option<usize>, AsmError> {
        match target {
            Target::Label(l) => match self.labels.get(l as usize).copied() {
                Some(pos) if pos != UNPLACED => Ok(Some(pos as usize)),
                _ => Err(AsmError::UnknownLabel(l)),
            },
            Target::Ret(v) => Ok(self.rets.iter().find(|(value, _)| *value == v).map(|(_, p)| *p)),
        }
    }

    /// The position of an instruction that leads to `target` and that a
    /// conditional jump placed next can reach, leaving `slack` in case more
    /// trampolines are placed before that jump. Places a trampoline when
    /// the target is too far, and a `ret` when none of that value exists.
    fn reach(&mut self, target: Target, slack: usize) -> Result<usize, AsmError> {
        let from = self.next_pos();
        let limit = usize::from(u8::MAX) - slack;
        match (self.position(target)?, target) {
            (Some(to), _) if from - to - 1 <= limit => Ok(to),
            (_, Target::Ret(v)) => Ok(self.push_ret(v)),
            (Some(to), Target::Label(_)) => {
                let skip = u32::try_from(from - to - 1).unwrap_or(u32::MAX);
                Ok(self.push(JMP_JA, 0, 0, skip))
            }
            (None, Target::Label(l)) => Err(AsmError::UnknownLabel(l)),
        }
    }

    fn jump(&mut self, test: Test, k: u32, yes: Target, no: Target) -> Result<(), AsmError> {
        // Placing the second trampoline moves the first target one
        // instruction further away: hence the slack.
        let to_no = self.reach(no, 1)?;
        let to_yes = self.reach(yes, 0)?;
        let from = self.next_pos();
        let jt = u8::try_from(from - to_yes - 1).unwrap_or(u8::MAX);
        let jf = u8::try_from(from - to_no - 1).unwrap_or(u8::MAX);
        self.push(test.code(), jt, jf, k);
        Ok(())
    }

    fn goto(&mut self, target: Target) -> Result<(), AsmError> {
        match target {
            Target::Ret(v) => {
                self.push_ret(v);
            }
            Target::Label(_) => {
                let from = self.next_pos();
                let Some(to) = self.position(target)? else {
                    return Ok(());
                };
                if from - to - 1 > 0 {
                    let skip = u32::try_from(from - to - 1).unwrap_or(u32::MAX);
                    self.push(JMP_JA, 0, 0, skip);
                }
            }
        }
        Ok(())
    }
}

/// Assembles a program. `labels` is the number of distinct labels used.
pub fn assemble(ops: &[Op], labels: u32) -> Result<Vec<Instruction>, AsmError> {
    let mut b = Backwards {
        out: Vec::with_capacity(ops.len() + ops.len() / 8),
        labels: vec![UNPLACED; labels as usize],
        rets: Vec::new(),
    };
    for op in ops.iter().rev() {
        match *op {
            Op::Load(offset) => {
                b.push(LD_W_ABS, 0, 0, offset);
            }
            Op::And(mask) => {
                b.push(ALU_AND_K, 0, 0, mask);
            }
            Op::Ret(value) => {
                b.push_ret(value);
            }
            Op::Goto(target) => b.goto(target)?,
            Op::Jump { test, k, yes, no } => {
                if yes == no {
                    b.goto(yes)?;
                } else {
                    b.jump(test, k, yes, no)?;
                }
            }
            Op::Label(l) => {
                let pos = b.next_pos().checked_sub(1).ok_or(AsmError::LabelAtEnd(l))?;
                match (b.labels.get_mut(l as usize), u32::try_from(pos)) {
                    (Some(slot), Ok(pos)) => *slot = pos,
                    _ => return Err(AsmError::UnknownLabel(l)),
                }
            }
        }
    }
    b.out.reverse();
    Ok(b.out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::seccomp::bpf::{run, SeccompData};

    #[test]
    fn short_jumps_and_shared_returns() {
        let ops = [
            Op::Load(0),
            Op::Jump {
                test: Test::Eq,
                k: 1,
                yes: Target::Ret(7),
                no: Target::Label(0),
            },
            Op::Label(0),
            Op::Jump {
                test: Test::Ge,
                k: 10,
                yes: Target::Ret(7),
                no: Target::Ret(9),
            },
        ];
        let p = assemble(&ops, 1).unwrap();
        let v = |nr| run(&p, &SeccompData::new(0, nr, [0; 6])).unwrap();
        assert_eq!(v(1), 7);
        assert_eq!(v(2), 9);
        assert_eq!(v(11), 7);
        // Both returns are shared: ld, jeq, jge, ret 7, ret 9.
        assert_eq!(p.len(), 5);
    }

    #[test]
    fn far_targets_get_trampolines() {
        // A jump over 600 instructions, to a label and to a return.
        let mut ops = vec![
            Op::Load(0),
            Op::Jump {
                test: Test::Eq,
                k: 1,
                yes: Target::Label(0),
                no: Target::Label(1),
            },
            Op::Label(1),
            Op::Jump {
                test: Test::Eq,
                k: 2,
                yes: Target::Ret(100),
                no: Target::Label(2),
            },
            Op::Label(2),
        ];
        for i in 0..600 {
            ops.push(Op::Jump {
                test: Test::Eq,
                k: 1000 + i,
                yes: Target::Ret(5),
                no: Target::Label(3 + i),
            });
            ops.push(Op::Label(3 + i));
        }
        ops.push(Op::Ret(100));
        ops.push(Op::Label(0));
        ops.push(Op::Ret(42));
        let p = assemble(&ops, 603).unwrap();
        let v = |nr| run(&p, &SeccompData::new(0, nr, [0; 6])).unwrap();
        assert_eq!(v(1), 42);
        assert_eq!(v(2), 100);
        assert_eq!(v(1000), 5);
        assert_eq!(v(1599), 5);
        assert_eq!(v(3), 100);
    }

    #[test]
    fn unknown_labels_are_errors() {
        let ops = [Op::Goto(Target::Label(0)), Op::Ret(1)];
        assert!(assemble(&ops, 1).is_err());
        assert_eq!(assemble(&[Op::Ret(1), Op::Label(0)], 1), Err(AsmError::LabelAtEnd(0)));
    }
}
