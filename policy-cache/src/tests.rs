#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use super::*;

fn prog(n: usize, seed: u32) -> Program {
    let ins: Vec<u8> = (0..n)
        .flat_map(|i| Instruction { code: 0x06, jt: i as u8, jf: 0, k: seed + i as u32 }.to_bytes())
        .collect();
    Program::from_bytes(Which::Allow, &ins).unwrap()
}

fn filtered() -> Policy {
    Policy::Filtered { allow: prog(3, 10), deny: Some(prog(2, 20)) }
}

#[test]
fn bin2_round_trip_and_layout() {
    let bytes = encode_bin2(&filtered()).unwrap();
    assert_eq!(bytes.len(), 128 + 24 + 16);
    assert_eq!(&bytes[..4], b"SC\x01\x00");
    assert_eq!(u32::from_ne_bytes(bytes[8..12].try_into().unwrap()), 24);
    assert_eq!(u32::from_ne_bytes(bytes[12..16].try_into().unwrap()), 16);
    assert!(bytes[16..128].iter().all(|&b| b == 0));
    assert_eq!(parse_bin2(&bytes).unwrap(), filtered());
    let un = encode_bin2(&Policy::Unrestricted).unwrap();
    assert_eq!(un.len(), 128);
    assert_eq!(un[3], 1);
    assert_eq!(parse_bin2(&un).unwrap(), Policy::Unrestricted);
}

#[test]
fn load_order_is_deny_then_allow() {
    let p = filtered();
    let order = p.load_order();
    assert_eq!(order[0].instructions()[0].k, 20);
    assert_eq!(order[1].instructions()[0].k, 10);
    assert!(Policy::Unrestricted.load_order().is_empty());
}

fn with_header(f: impl FnOnce(&mut Vec<u8>)) -> Result<Policy, FormatError> {
    let mut b = encode_bin2(&filtered()).unwrap();
    f(&mut b);
    parse_bin2(&b)
}

fn set_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_ne_bytes());
}

#[test]
fn bin2_refusals() {
    assert_eq!(parse_bin2(&[]), Err(FormatError::ShortHeader));
    assert_eq!(parse_bin2(&[0u8; 127]), Err(FormatError::ShortHeader));
    assert_eq!(with_header(|b| b[0] = b'X'), Err(FormatError::BadMagic));
    assert_eq!(with_header(|b| b[2] = 2), Err(FormatError::BadVersion(2)));
    assert_eq!(with_header(|b| b[3] = 4), Err(FormatError::BadFlags(4)));
    assert_eq!(with_header(|b| set_u32(b, 8, 32 * 1024 + 8)), Err(FormatError::TooBig(Which::Allow)));
    assert_eq!(with_header(|b| set_u32(b, 12, u32::MAX)), Err(FormatError::TooBig(Which::Deny)));
    assert_eq!(with_header(|b| set_u32(b, 8, 23)), Err(FormatError::NotMultiple(Which::Allow)));
    assert_eq!(with_header(|b| set_u32(b, 12, 15)), Err(FormatError::NotMultiple(Which::Deny)));
    assert_eq!(
        with_header(|b| b.truncate(b.len() - 1)),
        Err(FormatError::BadFileSize { expected: 168, actual: 167 })
    );
    assert_eq!(
        with_header(|b| b.push(0)),
        Err(FormatError::BadFileSize { expected: 168, actual: 169 })
    );
    // Lengths that claim more than the file holds.
    assert_eq!(
        with_header(|b| set_u32(b, 8, 4096)),
        Err(FormatError::BadFileSize { expected: 128 + 4096 + 16, actual: 168 })
    );
    // Empty programs are only valid when unrestricted.
    let mut b = encode_bin2(&Policy::Unrestricted).unwrap();
    b[3] = 0;
    assert_eq!(parse_bin2(&b), Err(FormatError::Empty(Which::Allow)));
    assert_eq!(
        with_header(|b| {
            set_u32(b, 8, 40);
            set_u32(b, 12, 0);
        }),
        Err(FormatError::Empty(Which::Deny))
    );
    assert_eq!(encode_bin2(&Policy::Filtered { allow: prog(1, 0), deny: None }), Err(FormatError::MissingDeny));
}

#[test]
fn bin_legacy_format() {
    assert_eq!(parse_bin(b"@unrestricted\n").unwrap(), Policy::Unrestricted);
    let raw = prog(4, 1).to_bytes();
    assert_eq!(parse_bin(&raw).unwrap(), Policy::Filtered { allow: prog(4, 1), deny: None });
    assert_eq!(parse_bin(&raw[..31]), Err(FormatError::NotMultiple(Which::Allow)));
    assert_eq!(parse_bin(&[]), Err(FormatError::Empty(Which::Allow)));
    assert_eq!(parse_bin(&vec![0u8; 32 * 1024 + 8]), Err(FormatError::TooBig(Which::Allow)));
    assert_eq!(parse_bin(b"@unrestricted"), Err(FormatError::NotMultiple(Which::Allow)));
    assert_eq!(encode_bin(&Policy::Unrestricted).unwrap(), b"@unrestricted\n");
    assert_eq!(encode_bin(&filtered()), Err(FormatError::DenyInLegacy));
    let p = Policy::Filtered { allow: prog(4, 1), deny: None };
    assert_eq!(parse_bin(&encode_bin(&p).unwrap()).unwrap(), p);
}

#[test]
fn garbage_never_panics() {
    // Deterministic pseudo-random inputs, including ones with a valid magic.
    let mut x: u64 = 7;
    for n in 0..20_000usize {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let len = (x % 400) as usize;
        let mut b: Vec<u8> = (0..len).map(|i| (x >> (i % 56)) as u8).collect();
        if n % 2 == 0 && b.len() >= 4 {
            b[..3].copy_from_slice(b"SC\x01");
        }
        let _ = parse_bin2(&b);
        let _ = parse_bin(&b);
    }
}
