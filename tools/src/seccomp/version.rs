//! The `version-info` line.
//!
//! snapd copies this line into every `.src` it writes, so any change in it
//! makes every policy look changed and get recompiled. It must therefore
//! change whenever the compiled output could: a new compiler build, another
//! libseccomp version, or the same version with a different syscall table
//! (distributions patch it). The fields are separated by single spaces:
//!
//! 1. `confine-seccomp/<crate version>+<first 16 hex digits of the SHA-256
//!    of this executable>`;
//! 2. the libseccomp version `x.y.z`;
//! 3. the SHA-256 of the system call names libseccomp knows for the
//!    architectures a filter covers here, one name per line, in number
//!    order;
//! 4. the optional features, `:`-separated (`bpf-actlog` when the log action
//!    works), or `-`.

use std::fs;

use libseccomp::{ScmpArch, ScmpSyscall, ScmpVersion};

use sha2::{Digest, Sha256};
use super::{arch, compile, Error};

/// System call numbers probed for names. The architectures libseccomp
/// supports number their calls below this (MIPS starts at 4000, 5000 or
/// 6000); ARM's few private calls above 0xf0000 are left out.
const MAX_SYSCALL_NUMBER: i32 = 8192;

/// The libseccomp version, `x.y.z`.
pub fn library_version() -> Result<String, Error> {
    let v = ScmpVersion::current().map_err(|source| Error::Seccomp {
        what: "get the libseccomp version".into(),
        source,
    })?;
    Ok(format!("{}.{}.{}", v.major, v.minor, v.micro))
}

/// The SHA-256 (hex) of the system call names libseccomp knows for `arches`.
pub fn syscall_names_digest(arches: &[ScmpArch]) -> String {
    let mut hash = Sha256::new();
    for arch in arches {
        for nr in 0..MAX_SYSCALL_NUMBER {
            if let Ok(name) = ScmpSyscall::from_raw_syscall(nr).get_name_by_arch(*arch) {
                hash.update(name.as_bytes());
                hash.update(b"\n");
            }
        }
    }
    hex(&hash.finalize())
}

/// The fingerprint of the running executable.
fn build_id() -> Result<String, Error> {
    let exe = std::env::current_exe().map_err(|source| Error::Io {
        what: "find the running executable".into(),
        source,
    })?;
    let bytes = fs::read(&exe).map_err(|source| Error::Io {
        what: format!("read {}", exe.display()),
        source,
    })?;
    let mut hash = Sha256::new();
    hash.update(&bytes);
    let digest = hex(&hash.finalize());
    Ok(format!(
        "confine-seccomp/{}+{}",
        env!("CARGO_PKG_VERSION"),
        digest.get(..16).unwrap_or(&digest)
    ))
}

/// The whole `version-info` line (without the newline).
pub fn version_info() -> Result<String, Error> {
    let mut arches = vec![ScmpArch::native()];
    arches.extend(arch::host_secondary_arch());
    let features = if compile::log_action_supported() {
        "bpf-actlog"
    } else {
        "-"
    };
    Ok(format!(
        "{} {} {} {}",
        build_id()?,
        library_version()?,
        syscall_names_digest(&arches),
        features
    ))
}

/// Lower-case hex of a digest.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn digest_is_stable_and_depends_on_the_arch() {
        let native = syscall_names_digest(&[ScmpArch::native()]);
        assert_eq!(native.len(), 64);
        assert_eq!(native, syscall_names_digest(&[ScmpArch::native()]));
        assert_ne!(native, syscall_names_digest(&[ScmpArch::native(), ScmpArch::Riscv64]));
        assert_ne!(native, syscall_names_digest(&[]));
    }

    #[test]
    fn library_version_looks_like_one() {
        let v = library_version().unwrap();
        assert_eq!(v.split('.').count(), 3, "{v}");
        assert!(v.split('.').all(|p| p.parse::<u32>().is_ok()), "{v}");
    }
}
