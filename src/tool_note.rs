//! The ELF note that marks our own `snap-update-ns`.
//!
//! The launcher runs whichever `snap-update-ns` is installed next to it:
//! ours, or snapd's where the launcher stands in for snapd's snap-confine.
//! When it is ours, the launcher applies the caller's mount profile itself
//! (the same code, see [`crate::update_ns`]) instead of starting it; snapd's
//! is always started, as snapd expects. Ours says so with a note in its
//! program headers, which sit at the start of the file: name `confine`,
//! type [`NOTE_TYPE`], description `snap-update-ns`. The launcher reads the
//! first [`HEAD_LEN`] bytes of the file and looks for it ([`is_marked`]); a
//! file it cannot make sense of is not ours.

/// How much of the file is read to find the note.
pub const HEAD_LEN: usize = 4096;
/// The note's owner name.
pub const NOTE_NAME: &[u8] = b"confine";
/// The note's type (the owner's own numbering).
pub const NOTE_TYPE: u32 = 1;
/// The note's description.
pub const NOTE_DESC: &[u8] = b"snap-update-ns";

/// The note, as it is stored: three 32-bit words (name size with its NUL,
/// description size, type), the name and the description, each padded to
/// 4 bytes.
#[repr(C, align(4))]
pub struct Note(pub [u8; 36]);

/// The note our `snap-update-ns` carries (x86-64 and the other
/// little-endian 64-bit targets).
pub const NOTE: Note = Note([
    8, 0, 0, 0, // the name's size, with its NUL
    14, 0, 0, 0, // the description's size
    1, 0, 0, 0, // NOTE_TYPE
    b'c', b'o', b'n', b'f', b'i', b'n', b'e', 0, // NOTE_NAME
    b's', b'n', b'a', b'p', b'-', b'u', b'p', b'd', b'a', b't', b'e', b'-', b'n', b's', 0, 0, // NOTE_DESC
]);

fn u16_at(b: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?)))
}

fn u32_at(b: &[u8], at: usize) -> Option<usize> {
    usize::try_from(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?)).ok()
}

fn u64_at(b: &[u8], at: usize) -> Option<usize> {
    usize::try_from(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?)).ok()
}

const PT_NOTE: usize = 4;

/// Whether `head`, the start of an executable, is a little-endian ELF64
/// file with our note in a `PT_NOTE` segment that lies within `head`.
pub fn is_marked(head: &[u8]) -> bool {
    marked(head).unwrap_or(false)
}

fn marked(head: &[u8]) -> Option<bool> {
    // ELF64, little-endian.
    if head.get(..6)? != b"\x7fELF\x02\x01" {
        return Some(false);
    }
    let (phoff, phentsize, phnum) = (u64_at(head, 0x20)?, u16_at(head, 0x36)?, u16_at(head, 0x38)?);
    if phentsize < 56 {
        return Some(false);
    }
    for i in 0..phnum {
        let ph = phoff.checked_add(i.checked_mul(phentsize)?)?;
        if u32_at(head, ph)? != PT_NOTE {
            continue;
        }
        let (offset, size, align) = (u64_at(head, ph + 8)?, u64_at(head, ph + 32)?, u64_at(head, ph + 48)?);
        let Some(notes) = offset.checked_add(size).and_then(|end| head.get(offset..end)) else { continue };
        if notes_hold_ours(notes, if align == 8 { 8 } else { 4 }) {
            return Some(true);
        }
    }
    Some(false)
}

/// Walks the notes of one segment (padded to `align`).
fn notes_hold_ours(mut notes: &[u8], align: usize) -> bool {
    let pad = |n: usize| n.checked_add(align - 1).map(|x| x & !(align - 1));
    while notes.len() >= 12 {
        let (Some(namesz), Some(descsz), Some(kind)) = (u32_at(notes, 0), u32_at(notes, 4), u32_at(notes, 8)) else { return false };
        let (Some(name_len), Some(desc_len)) = (pad(namesz), pad(descsz)) else { return false };
        let Some(name) = notes.get(12..12 + namesz) else { return false };
        let Some(desc) = notes.get(12 + name_len..12 + name_len + descsz) else { return false };
        if kind == NOTE_TYPE as usize && name.strip_suffix(b"\0") == Some(NOTE_NAME) && desc == NOTE_DESC {
            return true;
        }
        let Some(rest) = notes.get(12 + name_len + desc_len..) else { return false };
        notes = rest;
    }
    false
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
/// For tests: a minimal ELF64 file: its header, `notes` as a `PT_NOTE` segment
/// (the program headers first: a `PT_LOAD`, then the note's).
pub fn elf(notes: &[u8], align: u64) -> Vec<u8> {
    let mut f = vec![0u8; 64];
    f[..6].copy_from_slice(b"\x7fELF\x02\x01");
    f[0x20..0x28].copy_from_slice(&64u64.to_le_bytes());
    f[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
    f[0x38..0x3a].copy_from_slice(&2u16.to_le_bytes());
    let mut load = vec![0u8; 56];
    load[..4].copy_from_slice(&1u32.to_le_bytes());
    let mut note = vec![0u8; 56];
    note[..4].copy_from_slice(&4u32.to_le_bytes());
    note[8..16].copy_from_slice(&(64u64 + 112).to_le_bytes());
    note[32..40].copy_from_slice(&(notes.len() as u64).to_le_bytes());
    note[48..56].copy_from_slice(&align.to_le_bytes());
    f.extend(load);
    f.extend(note);
    f.extend_from_slice(notes);
    f
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    /// GNU's build-id note, as every binary has one.
    fn build_id() -> Vec<u8> {
        let mut n = Vec::new();
        n.extend(4u32.to_le_bytes());
        n.extend(8u32.to_le_bytes());
        n.extend(3u32.to_le_bytes());
        n.extend(b"GNU\0");
        n.extend([0xab; 8]);
        n
    }

    #[test]
    fn our_note_is_found_beside_others() {
        let ours = NOTE.0.to_vec();
        assert!(is_marked(&elf(&ours, 4)));
        assert!(is_marked(&elf(&[build_id(), ours.clone()].concat(), 4)));
        assert!(is_marked(&elf(&[ours.clone(), build_id()].concat(), 4)));
    }

    #[test]
    fn other_files_are_not_ours() {
        // snapd's: a Go build id note, no note of ours.
        let mut go = Vec::new();
        go.extend(4u32.to_le_bytes());
        go.extend(16u32.to_le_bytes());
        go.extend(4u32.to_le_bytes());
        go.extend(b"Go\0\0");
        go.extend([7u8; 16]);
        assert!(!is_marked(&elf(&[build_id(), go].concat(), 4)));
        assert!(!is_marked(b"#!/bin/sh\necho snap-update-ns confine\n"));
        assert!(!is_marked(b""));
        assert!(!is_marked(b"\x7fELF\x02\x01"));
        // Our note with another type, another name, another description.
        for (at, byte) in [(8, 2u8), (12, b'C'), (20, b'S')] {
            let mut n = NOTE.0.to_vec();
            n[at] = byte;
            assert!(!is_marked(&elf(&n, 4)), "{at}");
        }
        // 32-bit and big-endian files are not read.
        let mut f = elf(&NOTE.0, 4);
        f[4] = 1;
        assert!(!is_marked(&f));
        let mut f = elf(&NOTE.0, 4);
        f[5] = 2;
        assert!(!is_marked(&f));
    }

    #[test]
    fn a_note_past_the_head_or_malformed_is_not_ours() {
        let f = elf(&NOTE.0, 4);
        // Cut short: the segment is not all there.
        assert!(!is_marked(&f[..f.len() - 1]));
        // A size that runs past the segment, one that overflows.
        let mut n = NOTE.0.to_vec();
        n[4..8].copy_from_slice(&1000u32.to_le_bytes());
        assert!(!is_marked(&elf(&n, 4)));
        n[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(!is_marked(&elf(&n, 4)));
        // Program headers past the end of the head.
        let mut f = elf(&NOTE.0, 4);
        f[0x20..0x28].copy_from_slice(&(HEAD_LEN as u64).to_le_bytes());
        assert!(!is_marked(&f));
    }
}
