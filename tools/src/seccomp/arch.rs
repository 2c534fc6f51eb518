//! Which architectures a filter covers.
//!
//! libseccomp always includes the native architecture (the one this program
//! is built for). One more is added, as snapd does:
//!
//! * when the kernel runs the same architecture as userspace, its 32-bit
//!   compat architecture, if it has one (x86-64 → x86, AArch64 → ARM,
//!   big-endian PPC64 → PPC), so 32-bit programs inside the snap are filtered
//!   by the same rules instead of being killed;
//! * when the kernel's architecture differs from userspace (say 32-bit
//!   userspace on a 64-bit kernel), the kernel's architecture, so programs
//!   that call the native 64-bit entry points work too.
//!
//! Calls from any other architecture hit libseccomp's default bad-arch
//! action, which kills the process.

use std::fs;

use libseccomp::ScmpArch;

/// Where the kernel reports its machine name (`uname -m`).
const KERNEL_ARCH_FILE: &str = "/proc/sys/kernel/arch";

/// Maps a kernel machine name (`uname -m`) to a libseccomp architecture.
pub fn arch_of_machine(machine: &str) -> Option<ScmpArch> {
    Some(match machine {
        "x86_64" => ScmpArch::X8664,
        "i386" | "i486" | "i586" | "i686" => ScmpArch::X86,
        "aarch64" | "arm64" => ScmpArch::Aarch64,
        m if m.starts_with("arm") => ScmpArch::Arm,
        "ppc64le" => ScmpArch::Ppc64Le,
        "ppc64" => ScmpArch::Ppc64,
        "ppc" => ScmpArch::Ppc,
        "s390x" => ScmpArch::S390X,
        "s390" => ScmpArch::S390,
        "riscv64" => ScmpArch::Riscv64,
        _ => return None,
    })
}

/// The compat architecture of a 64-bit architecture, if it has one that
/// snapd adds.
pub fn compat_arch(native: ScmpArch) -> Option<ScmpArch> {
    match native {
        ScmpArch::X8664 => Some(ScmpArch::X86),
        ScmpArch::Aarch64 => Some(ScmpArch::Arm),
        ScmpArch::Ppc64 => Some(ScmpArch::Ppc),
        _ => None,
    }
}

/// The architecture to add next to `native`, given the kernel's machine
/// name (`None` when unknown: then the kernel is assumed to match
/// userspace).
pub fn secondary_arch(native: ScmpArch, kernel_machine: Option<&str>) -> Option<ScmpArch> {
    match kernel_machine.and_then(arch_of_machine) {
        Some(kernel) if kernel != native => Some(kernel),
        _ => compat_arch(native),
    }
}

/// The kernel's machine name, if it can be read.
pub fn kernel_machine() -> Option<String> {
    let text = fs::read_to_string(KERNEL_ARCH_FILE).ok()?;
    let machine = text.trim();
    (!machine.is_empty()).then(|| machine.to_owned())
}

/// The secondary architecture for this host.
pub fn host_secondary_arch() -> Option<ScmpArch> {
    secondary_arch(ScmpArch::native(), kernel_machine().as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_kernel_and_userspace_adds_compat() {
        assert_eq!(secondary_arch(ScmpArch::X8664, Some("x86_64")), Some(ScmpArch::X86));
        assert_eq!(secondary_arch(ScmpArch::Aarch64, Some("aarch64")), Some(ScmpArch::Arm));
        assert_eq!(secondary_arch(ScmpArch::Ppc64, Some("ppc64")), Some(ScmpArch::Ppc));
        assert_eq!(secondary_arch(ScmpArch::Ppc64Le, Some("ppc64le")), None);
        assert_eq!(secondary_arch(ScmpArch::S390X, Some("s390x")), None);
        assert_eq!(secondary_arch(ScmpArch::Riscv64, Some("riscv64")), None);
        assert_eq!(secondary_arch(ScmpArch::Arm, Some("armv7l")), None);
    }

    #[test]
    fn different_kernel_adds_the_kernel_arch() {
        assert_eq!(secondary_arch(ScmpArch::X86, Some("x86_64")), Some(ScmpArch::X8664));
        assert_eq!(secondary_arch(ScmpArch::Arm, Some("aarch64")), Some(ScmpArch::Aarch64));
        assert_eq!(secondary_arch(ScmpArch::Ppc, Some("ppc64")), Some(ScmpArch::Ppc64));
    }

    #[test]
    fn unknown_kernel_is_assumed_to_match() {
        assert_eq!(secondary_arch(ScmpArch::X8664, None), Some(ScmpArch::X86));
        assert_eq!(secondary_arch(ScmpArch::X8664, Some("vax")), Some(ScmpArch::X86));
        assert_eq!(secondary_arch(ScmpArch::Riscv64, None), None);
    }

    #[test]
    fn machine_names() {
        assert_eq!(arch_of_machine("i686"), Some(ScmpArch::X86));
        assert_eq!(arch_of_machine("armv8l"), Some(ScmpArch::Arm));
        assert_eq!(arch_of_machine("armv6l"), Some(ScmpArch::Arm));
        assert_eq!(arch_of_machine("arm64"), Some(ScmpArch::Aarch64));
        assert_eq!(arch_of_machine(""), None);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn this_host() {
        if kernel_machine().as_deref() == Some("x86_64") {
            assert_eq!(host_secondary_arch(), Some(ScmpArch::X86));
        }
    }
}
