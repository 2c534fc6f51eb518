//! The precompiled seccomp policy files the launcher loads.
//!
//! Two formats exist:
//!
//! * `.bin2` (snapd 2.63 and later): a 128-byte header in native byte order
//!   (`"SC"`, version 1, flags with bit 0 = unrestricted, 4 bytes padding,
//!   the byte length of the allow program, the byte length of the deny
//!   program, 112 reserved bytes), then the allow program, then the deny
//!   program. Both programs are raw arrays of `struct sock_filter`.
//! * `.bin` (snapd up to 2.62, including Debian's 2.57.6): one raw allow
//!   program with no header, or the literal text `@unrestricted\n`.
//!
//! Readers and writers live together here so the launcher (reader) and the
//! compiler (writer) cannot drift apart. The Landlock policy format, the
//! other file the launcher enforces, is in [`landlock`]; snapd's mount
//! profiles, which the policy tools write and `snap-update-ns` applies, in
//! [`fstab`].
#![forbid(unsafe_code)]

pub mod fstab;
pub mod landlock;

use std::fmt;

/// Size of the `.bin2` header.
pub const HEADER_LEN: usize = 128;
/// Size of one BPF instruction (`struct sock_filter`).
pub const INSTRUCTION_LEN: usize = 8;
/// Largest program accepted, in bytes (BPF_MAXINSNS instructions).
pub const MAX_PROGRAM_LEN: usize = 32 * 1024;
/// Largest `.bin2` file: header and two full programs.
pub const MAX_BIN2_LEN: usize = HEADER_LEN + 2 * MAX_PROGRAM_LEN;
/// Largest `.bin` file.
pub const MAX_BIN_LEN: usize = MAX_PROGRAM_LEN;
/// Content of an unrestricted `.bin` file.
pub const UNRESTRICTED_BIN: &[u8] = b"@unrestricted\n";

const MAGIC: &[u8; 2] = b"SC";
const VERSION: u8 = 1;
const FLAG_UNRESTRICTED: u8 = 1;

/// One classic BPF instruction, as `struct sock_filter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instruction {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

impl Instruction {
    fn from_bytes(b: [u8; INSTRUCTION_LEN]) -> Self {
        let [c0, c1, jt, jf, k0, k1, k2, k3] = b;
        Instruction { code: u16::from_ne_bytes([c0, c1]), jt, jf, k: u32::from_ne_bytes([k0, k1, k2, k3]) }
    }

    fn to_bytes(self) -> [u8; INSTRUCTION_LEN] {
        let [c0, c1] = self.code.to_ne_bytes();
        let [k0, k1, k2, k3] = self.k.to_ne_bytes();
        [c0, c1, self.jt, self.jf, k0, k1, k2, k3]
    }
}

/// A non-empty BPF program of at most `MAX_PROGRAM_LEN` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program(Vec<Instruction>);

impl Program {
    /// Decodes a program from its raw bytes (native byte order).
    pub fn from_bytes(which: Which, bytes: &[u8]) -> Result<Self, FormatError> {
        if bytes.len() > MAX_PROGRAM_LEN {
            return Err(FormatError::TooBig(which));
        }
        if !bytes.len().is_multiple_of(INSTRUCTION_LEN) {
            return Err(FormatError::NotMultiple(which));
        }
        if bytes.is_empty() {
            return Err(FormatError::Empty(which));
        }
        let mut out = Vec::with_capacity(bytes.len() / INSTRUCTION_LEN);
        for chunk in bytes.chunks_exact(INSTRUCTION_LEN) {
            let mut b = [0u8; INSTRUCTION_LEN];
            b.copy_from_slice(chunk);
            out.push(Instruction::from_bytes(b));
        }
        Ok(Program(out))
    }

    /// The instructions.
    pub fn instructions(&self) -> &[Instruction] {
        &self.0
    }

    /// The raw bytes of the program.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.iter().flat_map(|i| i.to_bytes()).collect()
    }

    /// Length in bytes.
    pub fn byte_len(&self) -> usize {
        self.0.len() * INSTRUCTION_LEN
    }
}

/// Which program of a policy a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Allow,
    Deny,
}

impl fmt::Display for Which {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Which::Allow => "allow",
            Which::Deny => "deny",
        })
    }
}

/// A seccomp policy for one security tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Policy {
    /// Load no filter at all (classic snaps).
    Unrestricted,
    /// The allow program (a default action plus allowed calls) and, in the
    /// `.bin2` format, the deny program (explicit denials, default allow).
    Filtered { allow: Program, deny: Option<Program> },
}

impl Policy {
    /// The programs in the order they must be loaded: deny first, then allow.
    /// The kernel runs the most recently loaded filter first, and when two
    /// filters return errors of equal precedence the later one's errno wins,
    /// so loading allow last lets explicit denials (EACCES) show through only
    /// where the allow program permits the call.
    pub fn load_order(&self) -> Vec<&Program> {
        match self {
            Policy::Unrestricted => Vec::new(),
            Policy::Filtered { allow, deny } => deny.iter().chain(std::iter::once(allow)).collect(),
        }
    }
}

/// Why a policy file was refused. The texts follow snap-confine's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormatError {
    ShortHeader,
    BadMagic,
    BadVersion(u8),
    BadFlags(u8),
    TooBig(Which),
    NotMultiple(Which),
    Empty(Which),
    BadFileSize { expected: usize, actual: usize },
    DenyInLegacy,
    MissingDeny,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatError::ShortHeader => write!(f, "short read on seccomp header"),
            FormatError::BadMagic => write!(f, "unexpected seccomp header"),
            FormatError::BadVersion(v) => write!(f, "unexpected seccomp file version: {v}"),
            FormatError::BadFlags(v) => write!(f, "unexpected seccomp header flags: {v:#x}"),
            FormatError::TooBig(w) => write!(f, "{w} filter size too big"),
            FormatError::NotMultiple(w) => write!(f, "{w} filter size not multiple of sock_filter"),
            FormatError::Empty(w) => write!(f, "{w} filter may only be empty in unrestricted profiles"),
            FormatError::BadFileSize { expected, actual } => {
                write!(f, "unexpected filesize {actual} != {expected}")
            }
            FormatError::DenyInLegacy => write!(f, "the .bin format cannot hold a deny filter"),
            FormatError::MissingDeny => write!(f, "the .bin2 format needs a deny filter"),
        }
    }
}

impl std::error::Error for FormatError {}

fn u32_at(b: &[u8], at: usize) -> usize {
    let mut w = [0u8; 4];
    if let Some(s) = b.get(at..at + 4) {
        w.copy_from_slice(s);
    }
    u32::from_ne_bytes(w) as usize
}

/// Parses a whole `.bin2` file.
pub fn parse_bin2(file: &[u8]) -> Result<Policy, FormatError> {
    let header = file.get(..HEADER_LEN).ok_or(FormatError::ShortHeader)?;
    if header.get(..2) != Some(MAGIC.as_slice()) {
        return Err(FormatError::BadMagic);
    }
    let version = header.get(2).copied().unwrap_or(0);
    if version != VERSION {
        return Err(FormatError::BadVersion(version));
    }
    let flags = header.get(3).copied().unwrap_or(0);
    if flags & !FLAG_UNRESTRICTED != 0 {
        return Err(FormatError::BadFlags(flags));
    }
    let allow_len = u32_at(header, 8);
    let deny_len = u32_at(header, 12);
    for (which, len) in [(Which::Allow, allow_len), (Which::Deny, deny_len)] {
        if len > MAX_PROGRAM_LEN {
            return Err(FormatError::TooBig(which));
        }
        if !len.is_multiple_of(INSTRUCTION_LEN) {
            return Err(FormatError::NotMultiple(which));
        }
    }
    let expected = HEADER_LEN + allow_len + deny_len;
    if file.len() != expected {
        return Err(FormatError::BadFileSize { expected, actual: file.len() });
    }
    if flags & FLAG_UNRESTRICTED != 0 {
        return Ok(Policy::Unrestricted);
    }
    let body = file.get(HEADER_LEN..).unwrap_or(&[]);
    let (allow, deny) = body.split_at(allow_len.min(body.len()));
    let allow = Program::from_bytes(Which::Allow, allow)?;
    let deny = Program::from_bytes(Which::Deny, deny)?;
    Ok(Policy::Filtered { allow, deny: Some(deny) })
}

/// Parses a whole `.bin` file.
pub fn parse_bin(file: &[u8]) -> Result<Policy, FormatError> {
    if file == UNRESTRICTED_BIN {
        return Ok(Policy::Unrestricted);
    }
    Ok(Policy::Filtered { allow: Program::from_bytes(Which::Allow, file)?, deny: None })
}

/// Encodes a policy as a `.bin2` file.
pub fn encode_bin2(policy: &Policy) -> Result<Vec<u8>, FormatError> {
    let (flags, allow, deny) = match policy {
        Policy::Unrestricted => (FLAG_UNRESTRICTED, Vec::new(), Vec::new()),
        Policy::Filtered { allow, deny: Some(deny) } => (0, allow.to_bytes(), deny.to_bytes()),
        Policy::Filtered { deny: None, .. } => return Err(FormatError::MissingDeny),
    };
    let mut out = Vec::with_capacity(HEADER_LEN + allow.len() + deny.len());
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.push(flags);
    out.extend_from_slice(&[0u8; 4]);
    out.extend_from_slice(&u32::try_from(allow.len()).map_err(|_| FormatError::TooBig(Which::Allow))?.to_ne_bytes());
    out.extend_from_slice(&u32::try_from(deny.len()).map_err(|_| FormatError::TooBig(Which::Deny))?.to_ne_bytes());
    out.resize(HEADER_LEN, 0);
    out.extend_from_slice(&allow);
    out.extend_from_slice(&deny);
    Ok(out)
}

/// Encodes a policy as a `.bin` file (no deny program possible).
pub fn encode_bin(policy: &Policy) -> Result<Vec<u8>, FormatError> {
    match policy {
        Policy::Unrestricted => Ok(UNRESTRICTED_BIN.to_vec()),
        Policy::Filtered { allow, deny: None } => Ok(allow.to_bytes()),
        Policy::Filtered { deny: Some(_), .. } => Err(FormatError::DenyInLegacy),
    }
}

#[cfg(test)]
mod tests;
