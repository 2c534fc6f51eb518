//! The running NVIDIA driver's version, as the kernel module reports it in
//! `/sys/module/nvidia/version`, read the way snap-confine reads it.

use crate::error::{Error, Result};

/// Where the kernel module says which driver is loaded.
pub const VERSION_FILE: &str = "/sys/module/nvidia/version";

/// The most snap-confine reads of the file (its buffer, less the NUL).
pub const MAX_LEN: usize = 127;

/// The loaded driver's version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriverVersion {
    /// The whole string, e.g. `580.159.04` (the micro part's leading zeros
    /// matter: library file names carry it as it is).
    pub raw: String,
    /// The major version, e.g. 580.
    pub major: u32,
}

impl DriverVersion {
    /// Whether the version is only digits separated by single dots, so it
    /// can be put in a file name. Anything else means no library is looked
    /// up by version.
    pub fn is_plain(&self) -> bool {
        !self.raw.is_empty() && self.raw.split('.').all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
    }
}

/// Parses the content of the version file: one trailing newline dropped,
/// the major version read as snap-confine's `sscanf("%d.")` reads it
/// (leading blanks skipped, then digits). `complete` is false when the file
/// held more than [`MAX_LEN`] bytes.
pub fn parse(content: &[u8], complete: bool) -> Result<DriverVersion> {
    if !complete || content.len() > MAX_LEN {
        return Err(Error::new("fit entire nvidia driver version string"));
    }
    let content = content.strip_suffix(b"\n").unwrap_or(content);
    let cannot_parse = || Error::new("parse major version from nvidia driver version string");
    let raw = std::str::from_utf8(content).map_err(|_| cannot_parse())?;
    let digits: String = raw.trim_start().chars().take_while(|c| c.is_ascii_digit()).collect();
    let major = digits.parse::<u32>().map_err(|_| cannot_parse())?;
    Ok(DriverVersion { raw: raw.to_string(), major })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    fn ok(s: &str) -> DriverVersion {
        parse(s.as_bytes(), true).unwrap()
    }

    #[test]
    fn versions_as_drivers_write_them() {
        assert_eq!(ok("580.159.04\n"), DriverVersion { raw: "580.159.04".into(), major: 580 });
        // No newline at all, and leading zeros in the micro part kept.
        assert_eq!(ok("440.48.02"), DriverVersion { raw: "440.48.02".into(), major: 440 });
        assert!(ok("440.48.02").is_plain());
        // Only one newline is dropped.
        assert_eq!(ok("390.157\n\n").raw, "390.157\n");
        assert!(!ok("390.157\n\n").is_plain());
        // A bare major, as sscanf would take it.
        assert_eq!(ok("535").major, 535);
    }

    #[test]
    fn bad_content_is_refused_with_snap_confines_words() {
        for bad in ["", "\n", "garbage", ".580", "-5.1", "\u{1b}[1m580"] {
            let err = parse(bad.as_bytes(), true).unwrap_err().to_string();
            assert_eq!(err, "cannot parse major version from nvidia driver version string", "{bad:?}");
        }
        assert!(parse(&[0xff, 0xfe], true).is_err());
        let long = "5".repeat(MAX_LEN + 1);
        assert_eq!(
            parse(long.as_bytes(), true).unwrap_err().to_string(),
            "cannot fit entire nvidia driver version string"
        );
        assert_eq!(
            parse(b"580.1", false).unwrap_err().to_string(),
            "cannot fit entire nvidia driver version string"
        );
        assert_eq!(ok(&"5".repeat(9)).raw.len(), 9);
    }

    #[test]
    fn odd_characters_are_not_plain() {
        for odd in ["580.159.04 beta", "580..1", "580.", "580.1/../../etc", "580.1*", "580.1\t", " 580.1"] {
            assert!(!ok(odd).is_plain(), "{odd:?}");
        }
    }
}
