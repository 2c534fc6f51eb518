//! The cgroup v2 device filter: an eBPF program of type
//! `BPF_PROG_TYPE_CGROUP_DEVICE`, built here instruction by instruction,
//! that looks every device access up in a hash map of allowed devices.
//!
//! A map key is 9 packed bytes: the type (`b'c'` or `b'b'`), then the major
//! and the minor as native-endian `u32`; a minor of [`MINOR_ANY`] allows
//! every minor of that major. The value is one byte (1). These are the map
//! and key formats of snap-confine, so the map is shared with its
//! `snap-device-helper` and with ours.
//!
//! The verdict ignores the kind of access (read, write, mknod): a device is
//! either allowed or not.

use crate::sys::BpfInsn;

/// The minor number that stands for every minor of a major.
pub const MINOR_ANY: u32 = u32::MAX;
/// Size of a map key: type, major, minor.
pub const KEY_SIZE: usize = 9;
/// Size of a map value.
pub const VALUE_SIZE: usize = 1;
/// The value stored for every allowed device.
pub const ALLOWED: [u8; VALUE_SIZE] = [1];
/// How many devices one map holds.
pub const MAX_ENTRIES: u32 = 1000;
/// `BPF_MAP_TYPE_HASH`.
pub const MAP_TYPE_HASH: u32 = 1;
/// `BPF_PROG_TYPE_CGROUP_DEVICE`.
pub const PROG_TYPE_CGROUP_DEVICE: u32 = 15;
/// The license the kernel requires for the helpers the program calls.
pub const LICENSE: &str = "GPL";

/// `BPF_DEVCG_DEV_BLOCK` and `BPF_DEVCG_DEV_CHAR`: the low 16 bits of
/// `access_type` in `struct bpf_cgroup_dev_ctx`.
pub const DEVCG_DEV_BLOCK: u32 = 1;
pub const DEVCG_DEV_CHAR: u32 = 2;
/// `BPF_DEVCG_ACC_*`: the high 16 bits of `access_type`.
pub const DEVCG_ACC_MKNOD: u32 = 1;
pub const DEVCG_ACC_READ: u32 = 2;
pub const DEVCG_ACC_WRITE: u32 = 4;

/// `struct bpf_cgroup_dev_ctx`: offsets of its three `u32` fields.
pub const CTX_ACCESS_TYPE: i16 = 0;
pub const CTX_MAJOR: i16 = 4;
pub const CTX_MINOR: i16 = 8;

/// `BPF_FUNC_map_lookup_elem`.
pub const FUNC_MAP_LOOKUP_ELEM: i32 = 1;
/// `BPF_PSEUDO_MAP_FD`: the source register value that marks a 64-bit
/// immediate load as a map descriptor.
pub const PSEUDO_MAP_FD: u8 = 1;

/// Opcode parts (`linux/bpf_common.h`, `linux/bpf.h`).
pub mod op {
    pub const LD: u8 = 0x00;
    pub const LDX: u8 = 0x01;
    pub const ST: u8 = 0x02;
    pub const STX: u8 = 0x03;
    pub const ALU: u8 = 0x04;
    pub const JMP: u8 = 0x05;
    pub const ALU64: u8 = 0x07;
    pub const W: u8 = 0x00;
    pub const B: u8 = 0x10;
    pub const DW: u8 = 0x18;
    pub const IMM: u8 = 0x00;
    pub const MEM: u8 = 0x60;
    pub const K: u8 = 0x00;
    pub const X: u8 = 0x08;
    pub const ADD: u8 = 0x00;
    pub const AND: u8 = 0x50;
    pub const MOV: u8 = 0xb0;
    pub const JA: u8 = 0x00;
    pub const JEQ: u8 = 0x10;
    pub const JNE: u8 = 0x50;
    pub const CALL: u8 = 0x80;
    pub const EXIT: u8 = 0x90;
}

/// Registers: r0 return value, r1 to r5 arguments (clobbered by calls),
/// r6 to r9 kept across calls, r10 the read-only frame pointer.
const R0: u8 = 0;
const R1: u8 = 1;
const R2: u8 = 2;
const R3: u8 = 3;
const R6: u8 = 6;
const R10: u8 = 10;

/// Where the key lives on the stack, relative to the frame pointer. The
/// verifier wants aligned stack accesses: with the type byte at an address
/// one below a multiple of 8, the major and minor that follow are 4-byte
/// aligned.
const KEY_AT: i16 = -25;
const KEY_TYPE: i16 = 0;
const KEY_MAJOR: i16 = 1;
const KEY_MINOR: i16 = 5;

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> BpfInsn {
    BpfInsn { code, dst, src, off, imm }
}
fn mov_imm(dst: u8, imm: i32) -> BpfInsn {
    insn(op::ALU64 | op::MOV | op::K, dst, 0, 0, imm)
}
fn mov_reg(dst: u8, src: u8) -> BpfInsn {
    insn(op::ALU64 | op::MOV | op::X, dst, src, 0, 0)
}
fn load_u32(dst: u8, src: u8, off: i16) -> BpfInsn {
    insn(op::LDX | op::MEM | op::W, dst, src, off, 0)
}
fn store_u32(dst: u8, off: i16, src: u8) -> BpfInsn {
    insn(op::STX | op::MEM | op::W, dst, src, off, 0)
}
fn store_u8(dst: u8, off: i16, src: u8) -> BpfInsn {
    insn(op::STX | op::MEM | op::B, dst, src, off, 0)
}
fn store_imm_u32(dst: u8, off: i16, imm: i32) -> BpfInsn {
    insn(op::ST | op::MEM | op::W, dst, 0, off, imm)
}
fn jump_if(cond: u8, reg: u8, imm: i32, skip: i16) -> BpfInsn {
    insn(op::JMP | cond | op::K, reg, 0, skip, imm)
}
/// The two slots of a 64-bit immediate load of a map descriptor.
fn load_map(dst: u8, map_fd: i32) -> [BpfInsn; 2] {
    [insn(op::LD | op::IMM | op::DW, dst, PSEUDO_MAP_FD, 0, map_fd), insn(0, 0, 0, 0, 0)]
}

/// The device filter for the map open as `map_fd`:
///
/// ```text
///     key.major = ctx.major; key.minor = ctx.minor
///     type = ctx.access_type & 0xffff
///     key.type = 'b' if type is block, 'c' if char, else deny
///     allow if key is in the map
///     key.minor = MINOR_ANY; allow if key is in the map
///     deny
/// ```
pub fn device_program(map_fd: i32) -> Vec<BpfInsn> {
    let mut p = vec![
        // r6 = &key, on the stack.
        mov_reg(R6, R10),
        insn(op::ALU64 | op::ADD | op::K, R6, 0, 0, i32::from(KEY_AT)),
        load_u32(R2, R1, CTX_MAJOR),
        store_u32(R6, KEY_MAJOR, R2),
        load_u32(R2, R1, CTX_MINOR),
        store_u32(R6, KEY_MINOR, R2),
        load_u32(R2, R1, CTX_ACCESS_TYPE),
        insn(op::ALU | op::AND | op::K, R2, 0, 0, 0xffff),
        // r3 = the key's type byte.
        mov_imm(R3, i32::from(b'b')),
        jump_if(op::JEQ, R2, DEVCG_DEV_BLOCK as i32, 3), // to "store the type"
        mov_imm(R3, i32::from(b'c')),
        jump_if(op::JEQ, R2, DEVCG_DEV_CHAR as i32, 1), // to "store the type"
        insn(op::JMP | op::JA, 0, 0, 12, 0),            // neither: to "deny"
        // Store the type, look the exact device up.
        store_u8(R6, KEY_TYPE, R3),
    ];
    p.extend(load_map(R1, map_fd));
    p.extend([
        mov_reg(R2, R6),
        insn(op::JMP | op::CALL, 0, 0, 0, FUNC_MAP_LOOKUP_ELEM),
        jump_if(op::JNE, R0, 0, 8), // found: to "allow"
        // Every minor of the major?
        store_imm_u32(R6, KEY_MINOR, MINOR_ANY as i32),
    ]);
    p.extend(load_map(R1, map_fd));
    p.extend([
        mov_reg(R2, R6),
        insn(op::JMP | op::CALL, 0, 0, 0, FUNC_MAP_LOOKUP_ELEM),
        jump_if(op::JNE, R0, 0, 2), // found: to "allow"
        // deny:
        mov_imm(R0, 0),
        insn(op::JMP | op::EXIT, 0, 0, 0, 0),
        // allow:
        mov_imm(R0, 1),
        insn(op::JMP | op::EXIT, 0, 0, 0, 0),
    ]);
    p
}

/// A device type as it appears in map keys and in v1 rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DevKind {
    Char,
    Block,
}

impl DevKind {
    pub fn letter(self) -> char {
        match self {
            DevKind::Char => 'c',
            DevKind::Block => 'b',
        }
    }
}

/// The map key for a device (`minor` [`MINOR_ANY`] for every minor).
pub fn device_key(kind: DevKind, major: u32, minor: u32) -> [u8; KEY_SIZE] {
    let mut key = [0u8; KEY_SIZE];
    let (t, rest) = key.split_at_mut(1);
    let (maj, min) = rest.split_at_mut(4);
    if let Some(b) = t.first_mut() {
        // The letter is ASCII: 'c' or 'b'.
        *b = kind.letter() as u8;
    }
    maj.copy_from_slice(&major.to_ne_bytes());
    min.copy_from_slice(&minor.to_ne_bytes());
    key
}

/// The object name of the map and program for a udev tag: `s_` and as much
/// of the rest after `snap_` as fits in 15 bytes, `-` and `+` made `_`.
pub fn object_name(udev_tag: &str) -> String {
    let rest = udev_tag.strip_prefix("snap_").unwrap_or(udev_tag);
    let mut name = String::from("s_");
    name.extend(rest.chars().map(|c| if c == '-' || c == '+' { '_' } else { c }).take(13));
    name
}

#[cfg(test)]
#[path = "bpf_tests.rs"]
pub(crate) mod tests;
