//! Running a compiled program on a system call without the kernel.
//!
//! This interprets the classic-BPF subset that seccomp accepts over a
//! `struct seccomp_data` (number, audit architecture, instruction pointer,
//! six arguments, laid out in native byte order) and combines several
//! programs the way the kernel does. It lets tests and diagnostics ask what
//! a policy does to any call, including calls nobody wants to make for real.

use std::fmt;

use policy_cache::{Instruction, Policy, Program};

/// Audit architecture of x86-64 (`AUDIT_ARCH_X86_64`).
pub const AUDIT_ARCH_X86_64: u32 = 0xC000_003E;
/// Audit architecture of x86 (`AUDIT_ARCH_I386`).
pub const AUDIT_ARCH_I386: u32 = 0x4000_0003;
/// Audit architecture of AArch64 (`AUDIT_ARCH_AARCH64`).
pub const AUDIT_ARCH_AARCH64: u32 = 0xC000_00B7;
/// Audit architecture of 32-bit ARM (`AUDIT_ARCH_ARM`).
pub const AUDIT_ARCH_ARM: u32 = 0x4000_0028;

/// The input of a seccomp program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeccompData {
    pub nr: i32,
    pub arch: u32,
    pub instruction_pointer: u64,
    pub args: [u64; 6],
}

/// Size of `struct seccomp_data`.
const DATA_LEN: u32 = 64;

impl SeccompData {
    /// A call with the given number and arguments, from the given audit
    /// architecture.
    pub fn new(arch: u32, nr: i32, args: [u64; 6]) -> Self {
        SeccompData {
            nr,
            arch,
            instruction_pointer: 0,
            args,
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(DATA_LEN as usize);
        b.extend_from_slice(&self.nr.to_ne_bytes());
        b.extend_from_slice(&self.arch.to_ne_bytes());
        b.extend_from_slice(&self.instruction_pointer.to_ne_bytes());
        for a in self.args {
            b.extend_from_slice(&a.to_ne_bytes());
        }
        b
    }
}

/// The action part of a seccomp return value (`SECCOMP_RET_ACTION_FULL`).
const ACTION_MASK: u32 = 0xFFFF_0000;
/// The data part of a seccomp return value (`SECCOMP_RET_DATA`).
const DATA_MASK: u32 = 0x0000_FFFF;

/// What a filter decided, decoded from its return value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    KillProcess,
    KillThread,
    Trap(u16),
    Errno(u16),
    UserNotif,
    Trace(u16),
    Log,
    Allow,
    /// An action value the kernel does not define (it treats it as kill).
    Unknown(u32),
}

impl Verdict {
    /// Decodes a return value.
    pub fn from_ret(ret: u32) -> Self {
        let data = (ret & DATA_MASK) as u16;
        match ret & ACTION_MASK {
            0x8000_0000 => Verdict::KillProcess,
            0x0000_0000 => Verdict::KillThread,
            0x0003_0000 => Verdict::Trap(data),
            0x0005_0000 => Verdict::Errno(data),
            0x7fc0_0000 => Verdict::UserNotif,
            0x7ff0_0000 => Verdict::Trace(data),
            0x7ffc_0000 => Verdict::Log,
            0x7fff_0000 => Verdict::Allow,
            _ => Verdict::Unknown(ret),
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::KillProcess => write!(f, "kill-process"),
            Verdict::KillThread => write!(f, "kill-thread"),
            Verdict::Trap(d) => write!(f, "trap({d})"),
            Verdict::Errno(e) => write!(f, "errno({e})"),
            Verdict::UserNotif => write!(f, "user-notif"),
            Verdict::Trace(d) => write!(f, "trace({d})"),
            Verdict::Log => write!(f, "log"),
            Verdict::Allow => write!(f, "allow"),
            Verdict::Unknown(v) => write!(f, "unknown({v:#x})"),
        }
    }
}

/// Why a program could not be run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmulationError {
    /// An opcode outside the seccomp subset, at this instruction index.
    BadInstruction(usize),
    /// A load outside `struct seccomp_data` or unaligned.
    BadLoad(usize),
    /// A jump past the end, or running off the end without returning.
    BadJump(usize),
    /// Division by a zero constant.
    DivisionByZero(usize),
}

impl fmt::Display for EmulationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EmulationError::BadInstruction(i) => write!(f, "unsupported instruction at {i}"),
            EmulationError::BadLoad(i) => write!(f, "invalid load at {i}"),
            EmulationError::BadJump(i) => write!(f, "jump out of the program at {i}"),
            EmulationError::DivisionByZero(i) => write!(f, "division by zero at {i}"),
        }
    }
}

impl std::error::Error for EmulationError {}

// Instruction classes and fields of classic BPF (linux/filter.h).
const CLASS_MASK: u16 = 0x07;
const LD: u16 = 0x00;
const LDX: u16 = 0x01;
const ST: u16 = 0x02;
const STX: u16 = 0x03;
const ALU: u16 = 0x04;
const JMP: u16 = 0x05;
const RET: u16 = 0x06;
const MISC: u16 = 0x07;
const SIZE_MASK: u16 = 0x18;
const SIZE_W: u16 = 0x00;
const MODE_MASK: u16 = 0xe0;
const MODE_IMM: u16 = 0x00;
const MODE_ABS: u16 = 0x20;
const MODE_MEM: u16 = 0x60;
const MODE_LEN: u16 = 0x80;
const OP_MASK: u16 = 0xf0;
const SRC_X: u16 = 0x08;
const RVAL_MASK: u16 = 0x18;
const RVAL_K: u16 = 0x00;
const RVAL_A: u16 = 0x10;
const MEM_WORDS: usize = 16;

/// Runs one program; returns its raw 32-bit return value.
pub fn run(program: &[Instruction], data: &SeccompData) -> Result<u32, EmulationError> {
    let input = data.bytes();
    let load = |pc: usize, k: u32| -> Result<u32, EmulationError> {
        if k & 3 != 0 {
            return Err(EmulationError::BadLoad(pc));
        }
        let at = k as usize;
        let word = input.get(at..at + 4).ok_or(EmulationError::BadLoad(pc))?;
        let mut w = [0u8; 4];
        w.copy_from_slice(word);
        Ok(u32::from_ne_bytes(w))
    };
    let (mut a, mut x) = (0u32, 0u32);
    let mut mem = [0u32; MEM_WORDS];
    let mut pc = 0usize;
    // Jumps only go forward, so a valid program ends within its length.
    loop {
        let ins = *program.get(pc).ok_or(EmulationError::BadJump(pc))?;
        let k = ins.k;
        let code = ins.code;
        let mem_slot = |pc: usize| -> Result<usize, EmulationError> {
            let slot = k as usize;
            if slot < MEM_WORDS {
                Ok(slot)
            } else {
                Err(EmulationError::BadLoad(pc))
            }
        };
        let mut next = pc + 1;
        match code & CLASS_MASK {
            LD | LDX => {
                if code & SIZE_MASK != SIZE_W {
                    return Err(EmulationError::BadInstruction(pc));
                }
                let value = match code & MODE_MASK {
                    MODE_IMM => k,
                    MODE_ABS if code & CLASS_MASK == LD => load(pc, k)?,
                    MODE_MEM => mem.get(mem_slot(pc)?).copied().unwrap_or(0),
                    MODE_LEN => DATA_LEN,
                    _ => return Err(EmulationError::BadInstruction(pc)),
                };
                if code & CLASS_MASK == LD {
                    a = value;
                } else {
                    x = value;
                }
            }
            ST | STX => {
                let value = if code & CLASS_MASK == ST { a } else { x };
                if let Some(slot) = mem.get_mut(mem_slot(pc)?) {
                    *slot = value;
                }
            }
            ALU => {
                let operand = if code & SRC_X != 0 { x } else { k };
                a = match code & OP_MASK {
                    0x00 => a.wrapping_add(operand),
                    0x10 => a.wrapping_sub(operand),
                    0x20 => a.wrapping_mul(operand),
                    0x30 => a.checked_div(operand).ok_or(EmulationError::DivisionByZero(pc))?,
                    0x40 => a | operand,
                    0x50 => a & operand,
                    0x60 => a.checked_shl(operand).unwrap_or(0),
                    0x70 => a.checked_shr(operand).unwrap_or(0),
                    0x80 => a.wrapping_neg(),
                    0x90 => a.checked_rem(operand).ok_or(EmulationError::DivisionByZero(pc))?,
                    0xa0 => a ^ operand,
                    _ => return Err(EmulationError::BadInstruction(pc)),
                };
            }
            JMP => {
                let operand = if code & SRC_X != 0 { x } else { k };
                let op = code & OP_MASK;
                if op == 0x00 {
                    next = next.checked_add(k as usize).ok_or(EmulationError::BadJump(pc))?;
                } else {
                    let taken = match op {
                        0x10 => a == operand,
                        0x20 => a > operand,
                        0x30 => a >= operand,
                        0x40 => a & operand != 0,
                        _ => return Err(EmulationError::BadInstruction(pc)),
                    };
                    next += usize::from(if taken { ins.jt } else { ins.jf });
                }
            }
            RET => {
                return match code & RVAL_MASK {
                    RVAL_K => Ok(k),
                    RVAL_A => Ok(a),
                    _ => Err(EmulationError::BadInstruction(pc)),
                };
            }
            MISC => match code & 0xf8 {
                0x00 => x = a,
                0x80 => a = x,
                _ => return Err(EmulationError::BadInstruction(pc)),
            },
            _ => return Err(EmulationError::BadInstruction(pc)),
        }
        pc = next;
    }
}

/// The action part of a return value as the kernel orders them: smaller is
/// more restrictive.
fn precedence(ret: u32) -> i32 {
    (ret & ACTION_MASK) as i32
}

/// Runs several programs given in load order and combines their results as
/// the kernel does: the most recently loaded program runs first, and a later
/// result replaces the current one only if it is strictly more restrictive.
pub fn run_stack(programs: &[&Program], data: &SeccompData) -> Result<u32, EmulationError> {
    let mut result: Option<u32> = None;
    for program in programs.iter().rev() {
        let ret = run(program.instructions(), data)?;
        result = match result {
            Some(current) if precedence(ret) >= precedence(current) => Some(current),
            _ => Some(ret),
        };
    }
    // No filter at all: everything is allowed.
    Ok(result.unwrap_or(0x7fff_0000))
}

/// What a whole policy does to a call, as loaded by the launcher (deny
/// program first, then allow program).
pub fn evaluate(policy: &Policy, data: &SeccompData) -> Result<Verdict, EmulationError> {
    run_stack(&policy.load_order(), data).map(Verdict::from_ret)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use policy_cache::Which;

    fn ins(code: u16, jt: u8, jf: u8, k: u32) -> Instruction {
        Instruction { code, jt, jf, k }
    }

    fn program(ins: &[Instruction]) -> Program {
        let bytes: Vec<u8> = ins
            .iter()
            .flat_map(|i| {
                let mut b = i.code.to_ne_bytes().to_vec();
                b.push(i.jt);
                b.push(i.jf);
                b.extend_from_slice(&i.k.to_ne_bytes());
                b
            })
            .collect();
        Program::from_bytes(Which::Allow, &bytes).unwrap()
    }

    // "allow nr 39 on x86-64, errno(1) otherwise"
    fn sample() -> Vec<Instruction> {
        vec![
            ins(0x20, 0, 0, 4),                 // ld [4] (arch)
            ins(0x15, 0, 3, AUDIT_ARCH_X86_64), // jeq arch, next, kill
            ins(0x20, 0, 0, 0),                 // ld [0] (nr)
            ins(0x15, 2, 0, 39),                // jeq 39 -> allow
            ins(0x06, 0, 0, 0x0005_0001),       // ret errno(1)
            ins(0x06, 0, 0, 0x8000_0000),       // ret kill process
            ins(0x06, 0, 0, 0x7fff_0000),       // ret allow
        ]
    }

    #[test]
    fn runs_a_small_program() {
        let p = sample();
        let on = |arch, nr| Verdict::from_ret(run(&p, &SeccompData::new(arch, nr, [0; 6])).unwrap());
        assert_eq!(on(AUDIT_ARCH_X86_64, 39), Verdict::Allow);
        assert_eq!(on(AUDIT_ARCH_X86_64, 40), Verdict::Errno(1));
        assert_eq!(on(AUDIT_ARCH_I386, 39), Verdict::KillProcess);
    }

    #[test]
    fn reads_arguments_in_native_order() {
        // ld [16 + 4] is the high word of arg0 on little endian.
        let hi = if cfg!(target_endian = "little") { 20 } else { 16 };
        let p = vec![ins(0x20, 0, 0, hi), ins(0x16, 0, 0, 0)]; // ld; ret a
        let d = SeccompData::new(0, 0, [0x1234_5678_9abc_def0, 0, 0, 0, 0, 0]);
        assert_eq!(run(&p, &d).unwrap(), 0x1234_5678);
    }

    #[test]
    fn alu_memory_and_misc() {
        let p = vec![
            ins(0x00, 0, 0, 6),    // ld #6
            ins(0x04, 0, 0, 4),    // add #4
            ins(0x24, 0, 0, 3),    // mul #3
            ins(0x54, 0, 0, 0xff), // and #0xff
            ins(0x02, 0, 0, 5),    // st M[5]
            ins(0x01, 0, 0, 2),    // ldx #2
            ins(0x3c, 0, 0, 0),    // div x (15)
            ins(0x61, 0, 0, 5),    // ldx M[5]
            ins(0x87, 0, 0, 0),    // txa
            ins(0x45, 1, 0, 2),    // jset #2
            ins(0x06, 0, 0, 1),    // ret #1
            ins(0x16, 0, 0, 0),    // ret a
        ];
        // 30 & 2 != 0, so the jump skips "ret #1".
        assert_eq!(run(&p, &SeccompData::new(0, 0, [0; 6])).unwrap(), 30);
    }

    #[test]
    fn rejects_bad_programs() {
        let d = SeccompData::new(0, 0, [0; 6]);
        assert_eq!(run(&[ins(0x20, 0, 0, 64)], &d), Err(EmulationError::BadLoad(0)));
        assert_eq!(run(&[ins(0x20, 0, 0, 2)], &d), Err(EmulationError::BadLoad(0)));
        assert_eq!(run(&[ins(0x28, 0, 0, 0)], &d), Err(EmulationError::BadInstruction(0)));
        assert_eq!(run(&[ins(0x05, 0, 0, 5)], &d), Err(EmulationError::BadJump(6)));
        assert_eq!(run(&[ins(0x00, 0, 0, 1)], &d), Err(EmulationError::BadJump(1)));
        assert_eq!(run(&[ins(0x34, 0, 0, 0)], &d), Err(EmulationError::DivisionByZero(0)));
    }

    #[test]
    fn stacks_combine_like_the_kernel() {
        let allow_all = program(&[ins(0x06, 0, 0, 0x7fff_0000)]);
        let eperm = program(&[ins(0x06, 0, 0, 0x0005_0001)]);
        let eacces = program(&[ins(0x06, 0, 0, 0x0005_000d)]);
        let log = program(&[ins(0x06, 0, 0, 0x7ffc_0000)]);
        let kill = program(&[ins(0x06, 0, 0, 0x8000_0000)]);
        let d = SeccompData::new(0, 0, [0; 6]);
        let v = |stack: &[&Program]| Verdict::from_ret(run_stack(stack, &d).unwrap());
        assert_eq!(v(&[]), Verdict::Allow);
        assert_eq!(v(&[&eacces, &allow_all]), Verdict::Errno(13));
        // Equal actions: the most recently loaded program's result stays.
        assert_eq!(v(&[&eacces, &eperm]), Verdict::Errno(1));
        assert_eq!(v(&[&eperm, &eacces]), Verdict::Errno(13));
        assert_eq!(v(&[&allow_all, &log]), Verdict::Log);
        assert_eq!(v(&[&eacces, &log]), Verdict::Errno(13));
        assert_eq!(v(&[&kill, &allow_all]), Verdict::KillProcess);
    }

    #[test]
    fn policies() {
        let allow_all = program(&[ins(0x06, 0, 0, 0x7fff_0000)]);
        let eacces = program(&[ins(0x06, 0, 0, 0x0005_000d)]);
        let d = SeccompData::new(0, 0, [0; 6]);
        assert_eq!(evaluate(&Policy::Unrestricted, &d).unwrap(), Verdict::Allow);
        let p = Policy::Filtered {
            allow: allow_all,
            deny: Some(eacces),
        };
        assert_eq!(evaluate(&p, &d).unwrap(), Verdict::Errno(13));
        assert_eq!(Verdict::Errno(13).to_string(), "errno(13)");
    }
}
