//! The device filter, run in a small eBPF interpreter that knows exactly
//! the instructions the filter uses and checks what the kernel's verifier
//! would (aligned stack accesses, no read of unwritten stack, registers set
//! before use, jumps in range, a 0 or 1 verdict). The real verifier sees the
//! program in the VM suites (`devices-v2`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use super::*;
use std::collections::BTreeSet;

const CTX_BASE: u64 = 0x1_0000_0000;
const STACK_BASE: u64 = 0x2_0000_0000;
const STACK_SIZE: u64 = 512;
const VALUE_PTR: u64 = 0x3_0000_0000;
const MAP_FD: i32 = 7;

/// Runs `prog` for one device access against a map holding `keys`.
pub fn run(prog: &[BpfInsn], keys: &BTreeSet<Vec<u8>>, access_type: u32, major: u32, minor: u32) -> u64 {
    let ctx: Vec<u8> = [access_type, major, minor].iter().flat_map(|v| v.to_ne_bytes()).collect();
    let mut stack = [0u8; STACK_SIZE as usize];
    let mut written = [false; STACK_SIZE as usize];
    let mut regs: [Option<u64>; 11] = [None; 11];
    regs[1] = Some(CTX_BASE);
    regs[10] = Some(STACK_BASE + STACK_SIZE);
    let reg = |regs: &[Option<u64>; 11], r: u8| regs[usize::from(r)].unwrap_or_else(|| panic!("r{r} read before it is set"));
    let stack_at = |addr: u64, size: u64| -> usize {
        assert!(addr >= STACK_BASE && addr + size <= STACK_BASE + STACK_SIZE, "stack access out of range at {addr:#x}");
        assert_eq!((addr - STACK_BASE) % size, 0, "misaligned stack access of {size} bytes at {addr:#x}");
        (addr - STACK_BASE) as usize
    };
    let mut pc = 0usize;
    for _ in 0..10_000 {
        let i = prog.get(pc).unwrap_or_else(|| panic!("jump out of the program to {pc}"));
        let next = pc + 1;
        let class = i.code & 0x07;
        let size = match i.code & 0x18 {
            op::W => 4,
            op::B => 1,
            op::DW => 8,
            _ => 2,
        };
        let jump = |cond: bool| if cond { (next as i64 + i64::from(i.off)) as usize } else { next };
        pc = match (class, i.code) {
            (op::ALU64, c) if c == op::ALU64 | op::MOV | op::K => {
                regs[usize::from(i.dst)] = Some(i64::from(i.imm) as u64);
                next
            }
            (op::ALU64, c) if c == op::ALU64 | op::MOV | op::X => {
                regs[usize::from(i.dst)] = Some(reg(&regs, i.src));
                next
            }
            (op::ALU64, c) if c == op::ALU64 | op::ADD | op::K => {
                assert_ne!(i.dst, 10, "r10 is read-only");
                regs[usize::from(i.dst)] = Some(reg(&regs, i.dst).wrapping_add(i64::from(i.imm) as u64));
                next
            }
            (op::ALU, c) if c == op::ALU | op::AND | op::K => {
                let v = (reg(&regs, i.dst) as u32) & (i.imm as u32);
                regs[usize::from(i.dst)] = Some(u64::from(v));
                next
            }
            (op::LDX, _) => {
                assert_eq!(i.code & 0xe0, op::MEM);
                let addr = reg(&regs, i.src).wrapping_add(i64::from(i.off) as u64);
                assert_eq!(size, 4, "only 32-bit loads from the context");
                assert!(addr >= CTX_BASE && addr + 4 <= CTX_BASE + 12 && addr % 4 == 0, "bad context load at {addr:#x}");
                let at = (addr - CTX_BASE) as usize;
                regs[usize::from(i.dst)] = Some(u64::from(u32::from_ne_bytes(ctx[at..at + 4].try_into().unwrap())));
                next
            }
            (op::STX | op::ST, _) => {
                assert_eq!(i.code & 0xe0, op::MEM);
                let addr = reg(&regs, i.dst).wrapping_add(i64::from(i.off) as u64);
                let at = stack_at(addr, size);
                let value = if class == op::STX { reg(&regs, i.src) } else { i64::from(i.imm) as u64 };
                stack[at..at + size as usize].copy_from_slice(&value.to_le_bytes()[..size as usize]);
                written[at..at + size as usize].fill(true);
                next
            }
            (op::LD, c) if c == op::LD | op::IMM | op::DW => {
                assert_eq!(i.src, PSEUDO_MAP_FD, "only map descriptors are loaded");
                assert_eq!(i.imm, MAP_FD, "the map descriptor is the one given");
                let second = prog.get(next).expect("second half of a 64-bit load");
                assert_eq!((second.code, second.imm), (0, 0));
                regs[usize::from(i.dst)] = Some(u64::from(i.imm as u32));
                next + 1
            }
            (op::JMP, c) if c == op::JMP | op::CALL => {
                assert_eq!(i.imm, FUNC_MAP_LOOKUP_ELEM);
                assert_eq!(reg(&regs, 1), MAP_FD as u64, "r1 is the map");
                let at = stack_at(reg(&regs, 2), 1);
                assert!(written[at..at + KEY_SIZE].iter().all(|w| *w), "the key is read before it is written");
                let found = keys.contains(&stack[at..at + KEY_SIZE].to_vec());
                regs[0] = Some(if found { VALUE_PTR } else { 0 });
                regs[1..=5].fill(None);
                next
            }
            (op::JMP, c) if c == op::JMP | op::EXIT => {
                let v = reg(&regs, 0);
                assert!(v <= 1, "a device program returns 0 or 1, not {v}");
                return v;
            }
            (op::JMP, c) if c == op::JMP | op::JA => jump(true),
            (op::JMP, c) if c == op::JMP | op::JEQ | op::K => jump(reg(&regs, i.dst) == i64::from(i.imm) as u64),
            (op::JMP, c) if c == op::JMP | op::JNE | op::K => jump(reg(&regs, i.dst) != i64::from(i.imm) as u64),
            _ => panic!("instruction {i:?} at {pc} is not one the filter uses"),
        };
    }
    panic!("the program does not end")
}

fn keys(list: &[(DevKind, u32, u32)]) -> BTreeSet<Vec<u8>> {
    list.iter().map(|(k, ma, mi)| device_key(*k, *ma, *mi).to_vec()).collect()
}

const C: u32 = DEVCG_DEV_CHAR;
const B: u32 = DEVCG_DEV_BLOCK;
const R: u32 = DEVCG_ACC_READ << 16;
const W: u32 = DEVCG_ACC_WRITE << 16;
const M: u32 = DEVCG_ACC_MKNOD << 16;

#[test]
fn verdicts() {
    let prog = device_program(MAP_FD);
    let map = keys(&[
        (DevKind::Char, 1, 3),
        (DevKind::Char, 136, MINOR_ANY),
        (DevKind::Block, 8, 0),
        (DevKind::Char, 4, 64),
        (DevKind::Block, 7, MINOR_ANY),
    ]);
    // (device type, major, minor, access) -> allowed
    let table: &[(u32, u32, u32, u32, u64)] = &[
        (C, 1, 3, R, 1),
        (C, 1, 3, W, 1),
        (C, 1, 3, M, 1),
        (C, 1, 3, R | W | M, 1),
        (C, 1, 3, 0, 1),
        (C, 1, 4, R, 0),
        (C, 1, 11, W, 0),
        (C, 3, 1, R, 0),
        (B, 1, 3, R, 0),
        (C, 136, 0, R | W, 1),
        (C, 136, 4095, R, 1),
        (C, 136, MINOR_ANY, R, 1),
        (B, 136, 0, R, 0),
        (C, 137, 0, R, 0),
        (C, 135, 0, R, 0),
        (B, 8, 0, R | W, 1),
        (B, 8, 0, M, 1),
        (B, 8, 1, R, 0),
        (C, 8, 0, R, 0),
        (C, 4, 64, R | W, 1),
        (C, 4, 65, R, 0),
        (B, 4, 64, R, 0),
        (B, 7, 0, R, 1),
        (B, 7, 12345, M, 1),
        (C, 7, 0, R, 0),
        // Neither a block nor a character device: denied whatever the map says.
        (0, 1, 3, R, 0),
        (3, 1, 3, R, 0),
        (0xffff, 1, 3, R, 0),
        // Large numbers are not truncated anywhere.
        (C, 1 << 20, 3, R, 0),
        (C, 1 + (1 << 16), 3, R, 0),
        (C, 1, 3 + (1 << 16), R, 0),
    ];
    for &(kind, major, minor, access, want) in table {
        let got = run(&prog, &map, access | kind, major, minor);
        assert_eq!(got, want, "type {kind} {major}:{minor} access {:#x}", access >> 16);
    }
}

#[test]
fn an_empty_map_denies_everything() {
    let prog = device_program(MAP_FD);
    for (kind, major, minor) in [(C, 1, 3), (C, 5, 2), (B, 8, 0), (C, 136, 1)] {
        assert_eq!(run(&prog, &BTreeSet::new(), kind | R, major, minor), 0);
    }
}

#[test]
fn the_high_bits_of_a_minor_matter_only_as_the_wildcard() {
    let prog = device_program(MAP_FD);
    let map = keys(&[(DevKind::Char, 10, MINOR_ANY - 1)]);
    assert_eq!(run(&prog, &map, C | R, 10, MINOR_ANY - 1), 1);
    assert_eq!(run(&prog, &map, C | R, 10, MINOR_ANY - 2), 0);
}

#[test]
fn program_shape() {
    let prog = device_program(42);
    assert_eq!(prog.len(), 29);
    let maps: Vec<_> = prog.iter().filter(|i| i.code == op::LD | op::IMM | op::DW).collect();
    assert_eq!(maps.len(), 2);
    assert!(maps.iter().all(|i| i.imm == 42 && i.src == PSEUDO_MAP_FD && i.dst == 1));
    let last = prog.last().unwrap();
    assert_eq!(last.code, op::JMP | op::EXIT);
    // Registers stay in range.
    assert!(prog.iter().all(|i| i.dst <= 10 && (i.src <= 10 || i.src == PSEUDO_MAP_FD)));
}

#[test]
fn keys_are_packed() {
    let k = device_key(DevKind::Char, 0x0102_0304, MINOR_ANY);
    assert_eq!(k.len(), 9);
    assert_eq!(k[0], b'c');
    assert_eq!(&k[1..5], &0x0102_0304u32.to_ne_bytes());
    assert_eq!(&k[5..9], &[0xff; 4]);
    assert_eq!(device_key(DevKind::Block, 8, 0)[0], b'b');
}

#[test]
fn object_names() {
    assert_eq!(object_name("snap_demo_app"), "s_demo_app");
    assert_eq!(object_name("snap_foo-bar_baz"), "s_foo_bar_baz");
    assert_eq!(object_name("snap_foo+comp_hook_install"), "s_foo_comp_hook");
    assert_eq!(object_name("snap_a-very-long-snap-name_app").len(), 15);
}
