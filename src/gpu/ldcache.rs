//! The dynamic linker's cache, `/etc/ld.so.cache`, as glibc's ldconfig
//! writes it: the "new" format (`glibc-ld.so.cache1.1`), alone or after the
//! old `ld.so-1.7.0` table (`ldconfig -c compat`), or the old table alone.
//! Only what is needed to find where libraries live is read: each entry's
//! flags, name and path. Every offset is checked against the file; a file
//! written for the other byte order is refused, never misread.

use std::fmt;

/// Where glibc keeps the cache.
pub const CACHE_FILE: &str = "/etc/ld.so.cache";
/// The largest cache read (glibc's own caches are a few hundred KiB).
pub const MAX_LEN: usize = 16 << 20;

const OLD_MAGIC: &[u8] = b"ld.so-1.7.0";
const NEW_MAGIC: &[u8] = b"glibc-ld.so.cache1.1";
/// `struct cache_file`: magic (11 bytes, padded to 12), `nlibs`.
const OLD_HEADER: usize = 16;
/// `struct file_entry`: flags, key, value.
const OLD_ENTRY: usize = 12;
/// `struct cache_file_new`: magic and version (20), nlibs, len_strings,
/// flags (1) and padding (3), extension offset, 3 unused words.
const NEW_HEADER: usize = 48;
/// `struct file_entry_new`: flags, key, value, osversion, hwcap (u64).
const NEW_ENTRY: usize = 24;

/// `FLAG_ELF_LIBC6`: an ELF library for glibc.
pub const FLAG_ELF_LIBC6: i32 = 0x0003;
/// The type part of the flags.
pub const FLAG_TYPE_MASK: i32 = 0x00ff;
/// The architecture part of the flags.
pub const FLAG_ARCH_MASK: i32 = 0xff00;
/// `FLAG_X8664_LIB64`.
pub const FLAG_X8664_LIB64: i32 = 0x0300;
/// `FLAG_AARCH64_LIB64`.
pub const FLAG_AARCH64_LIB64: i32 = 0x0a00;

/// One library the cache knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheEntry {
    /// `FLAG_*` bits: library type and architecture.
    pub flags: i32,
    /// The name programs ask for (the soname), e.g. `libcuda.so.1`.
    pub name: String,
    /// Where it is, e.g. `/usr/local/nvidia/lib64/libcuda.so.1`.
    pub path: String,
}

impl CacheEntry {
    /// The directory holding the library.
    pub fn dir(&self) -> &str {
        match self.path.rsplit_once('/') {
            Some(("", _)) => "/",
            Some((dir, _)) => dir,
            None => "",
        }
    }
}

/// Which libraries an entry's flags say it is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Word {
    /// This machine's own architecture (`x86_64`: 64-bit).
    Native,
    /// The 32-bit twin (`i386` on `x86_64`).
    Compat32,
    Other,
}

/// The native architecture's flag bits, as ldconfig sets them on this build.
pub fn native_arch_flags() -> i32 {
    if cfg!(target_arch = "x86_64") {
        FLAG_X8664_LIB64
    } else if cfg!(target_arch = "aarch64") {
        FLAG_AARCH64_LIB64
    } else {
        0
    }
}

/// Classifies an entry's flags for this machine.
pub fn word_of(flags: i32) -> Word {
    if flags & FLAG_TYPE_MASK != FLAG_ELF_LIBC6 {
        return Word::Other;
    }
    let arch = flags & FLAG_ARCH_MASK;
    if arch == native_arch_flags() {
        Word::Native
    } else if arch == 0 && native_arch_flags() != 0 {
        // On x86_64 and aarch64, glibc libraries without an architecture
        // flag are the 32-bit ones (i386, arm).
        Word::Compat32
    } else {
        Word::Other
    }
}

/// Why a cache was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheError {
    /// Neither magic string at the start.
    NotACache,
    /// The header says the file was written for the other byte order.
    OtherEndian,
    /// The header's byte order field is the "invalid" value.
    BadEndianField,
    /// A count or offset points past the end of the file.
    Truncated(&'static str),
    TooLarge(usize),
}

impl fmt::Display for CacheError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CacheError::NotACache => write!(f, "it is not a glibc ld.so cache"),
            CacheError::OtherEndian => write!(f, "it was written for the other byte order"),
            CacheError::BadEndianField => write!(f, "its byte order field is invalid"),
            CacheError::Truncated(what) => write!(f, "it is truncated ({what})"),
            CacheError::TooLarge(n) => write!(f, "it is larger than {} bytes ({n})", MAX_LEN),
        }
    }
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    let bytes: [u8; 4] = data.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_ne_bytes(bytes))
}

fn i32_at(data: &[u8], at: usize) -> Option<i32> {
    u32_at(data, at).map(|v| v as i32)
}

/// The NUL-terminated string at `at` (within `data`); `None` when it is not
/// UTF-8, an error when it runs past the end.
fn string_at(data: &[u8], at: usize) -> Result<Option<&str>, CacheError> {
    let rest = data.get(at..).ok_or(CacheError::Truncated("strings"))?;
    let end = rest.iter().position(|b| *b == 0).ok_or(CacheError::Truncated("strings"))?;
    Ok(rest.get(..end).and_then(|s| std::str::from_utf8(s).ok()))
}

/// Keeps an entry whose name and path are UTF-8 and whose name `keep` wants.
fn push(out: &mut Vec<CacheEntry>, flags: i32, name: Option<&str>, path: Option<&str>, keep: &dyn Fn(&str) -> bool) {
    if let (Some(name), Some(path)) = (name, path) {
        if keep(name) {
            out.push(CacheEntry { flags, name: name.to_string(), path: path.to_string() });
        }
    }
}

fn align8(n: usize) -> usize {
    n.div_ceil(8) * 8
}

/// Reads the entries of a cache. Entries whose name or path is not UTF-8
/// are left out; anything structurally wrong refuses the whole file.
pub fn parse(data: &[u8]) -> Result<Vec<CacheEntry>, CacheError> {
    parse_names(data, &|_| true)
}

/// [`parse`], keeping only the entries whose name `keep` wants (every entry
/// is still checked).
pub fn parse_names(data: &[u8], keep: &dyn Fn(&str) -> bool) -> Result<Vec<CacheEntry>, CacheError> {
    if data.len() > MAX_LEN {
        return Err(CacheError::TooLarge(data.len()));
    }
    if data.starts_with(NEW_MAGIC) {
        return parse_new(data, keep);
    }
    if !data.starts_with(OLD_MAGIC) {
        return Err(CacheError::NotACache);
    }
    let nlibs = u32_at(data, 12).ok_or(CacheError::Truncated("header"))? as usize;
    let entries_end = nlibs
        .checked_mul(OLD_ENTRY)
        .and_then(|n| n.checked_add(OLD_HEADER))
        .filter(|end| *end <= data.len())
        .ok_or(CacheError::Truncated("old entries"))?;
    // "compat": the new format follows the old table, and is what glibc reads.
    let new_at = align8(entries_end);
    if let Some(new) = data.get(new_at..).filter(|rest| rest.starts_with(NEW_MAGIC)) {
        return parse_new(new, keep);
    }
    // Old format alone: offsets count from the end of the table.
    let strings = data.get(entries_end..).unwrap_or(&[]);
    entries(data, OLD_HEADER, OLD_ENTRY, nlibs, strings, keep)
}

/// Reads `count` entries of `stride` bytes from `first` on (each starts
/// with flags, key and value); keys and values are offsets into `strings`.
fn entries(
    data: &[u8],
    first: usize,
    stride: usize,
    count: usize,
    strings: &[u8],
    keep: &dyn Fn(&str) -> bool,
) -> Result<Vec<CacheEntry>, CacheError> {
    let mut out = Vec::new();
    for i in 0..count {
        let at = first + i * stride;
        let (Some(flags), Some(key), Some(value)) = (i32_at(data, at), u32_at(data, at + 4), u32_at(data, at + 8)) else {
            return Err(CacheError::Truncated("entry"));
        };
        push(&mut out, flags, string_at(strings, key as usize)?, string_at(strings, value as usize)?, keep);
    }
    Ok(out)
}

fn parse_new(data: &[u8], keep: &dyn Fn(&str) -> bool) -> Result<Vec<CacheEntry>, CacheError> {
    let header = data.get(..NEW_HEADER).ok_or(CacheError::Truncated("header"))?;
    let nlibs = u32_at(header, 20).ok_or(CacheError::Truncated("header"))? as usize;
    let endian = header.get(28).copied().unwrap_or(0) & 3;
    let own = if cfg!(target_endian = "little") { 2 } else { 3 };
    match endian {
        0 => {} // written before glibc recorded the byte order: taken as ours
        1 => return Err(CacheError::BadEndianField),
        e if e != own => return Err(CacheError::OtherEndian),
        _ => {}
    }
    nlibs
        .checked_mul(NEW_ENTRY)
        .and_then(|n| n.checked_add(NEW_HEADER))
        .filter(|end| *end <= data.len())
        .ok_or(CacheError::Truncated("entries"))?;
    // In the new format offsets count from the start of its header.
    entries(data, NEW_HEADER, NEW_ENTRY, nlibs, data, keep)
}
