//! The system call numbers of x86-64 and x86, built in.
//!
//! `tools/data/seccomp/syscalls.tsv` lists every name libseccomp knows (on
//! any architecture) with its number on x86-64 and on x86 (`-` where the
//! call does not exist; on x86 the socket and IPC calls have their direct
//! numbers, not the multiplexer's). Looking names up here instead of asking
//! libseccomp keeps its large tables out of the compile, which matters for a
//! process that runs for about a millisecond. A name missing from the file
//! (known only to a newer libseccomp) is asked of libseccomp; a unit test
//! checks the file against the libseccomp the tools are built with, and
//! rewrites it with `CONFINE_UPDATE_SYSCALLS=1`.

use std::sync::OnceLock;

use libseccomp::ScmpArch;

/// The data file.
pub const DATA: &str = include_str!("../../data/seccomp/syscalls.tsv");

/// A name and its numbers on x86-64 and x86.
type Entry = (&'static str, Option<i32>, Option<i32>);

fn table() -> &'static [Entry] {
    static TABLE: OnceLock<Vec<Entry>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let num = |s: Option<&'static str>| s.and_then(|s| s.parse::<i32>().ok());
        let mut entries: Vec<Entry> = DATA
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .filter_map(|l| {
                let mut f = l.split('\t');
                let name = f.next()?;
                Some((name, num(f.next()), num(f.next())))
            })
            .collect();
        entries.sort_by(|a, b| a.0.cmp(b.0));
        entries
    })
}

/// What the table says about a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// Listed: the number on the asked architecture, if it has the call.
    Listed(Option<i32>),
    /// Not listed, or an architecture the table does not cover.
    Unlisted,
}

/// The number of `name` on `arch`, from the built-in table.
pub fn lookup(arch: ScmpArch, name: &str) -> Lookup {
    let column = match arch {
        ScmpArch::X8664 => 1,
        ScmpArch::X86 => 2,
        _ => return Lookup::Unlisted,
    };
    let t = table();
    match t.binary_search_by(|e| e.0.cmp(name)) {
        Ok(i) => Lookup::Listed(t.get(i).and_then(|e| if column == 1 { e.1 } else { e.2 })),
        Err(_) => Lookup::Unlisted,
    }
}

/// Whether the table lists `name` (libseccomp knows it on some
/// architecture).
pub fn is_listed(name: &str) -> bool {
    table().binary_search_by(|e| e.0.cmp(name)).is_ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::BTreeSet;

    use libseccomp::ScmpSyscall;

    use super::*;
    use crate::seccomp::native;

    /// Every name libseccomp knows, on any architecture.
    fn libseccomp_names() -> BTreeSet<String> {
        let arches = [
            ScmpArch::X86,
            ScmpArch::X8664,
            ScmpArch::X32,
            ScmpArch::Arm,
            ScmpArch::Aarch64,
            ScmpArch::Mips,
            ScmpArch::Mips64,
            ScmpArch::Mips64N32,
            ScmpArch::Mipsel,
            ScmpArch::Mipsel64,
            ScmpArch::Mipsel64N32,
            ScmpArch::Ppc,
            ScmpArch::Ppc64,
            ScmpArch::Ppc64Le,
            ScmpArch::S390,
            ScmpArch::S390X,
            ScmpArch::Parisc,
            ScmpArch::Parisc64,
            ScmpArch::Riscv64,
        ];
        let mut names = BTreeSet::new();
        for a in arches {
            for nr in 0..8192 {
                if let Ok(n) = ScmpSyscall::from_raw_syscall(nr).get_name_by_arch(a) {
                    names.insert(n);
                }
            }
        }
        names
    }

    /// The number libseccomp gives (as the native generator reads it).
    fn libseccomp_number(arch: ScmpArch, name: &str) -> Option<i32> {
        if let Some(m) = native::multiplexed(arch, name) {
            return m.direct;
        }
        ScmpSyscall::from_name_by_arch(name, arch)
            .ok()
            .map(|s| s.as_raw_syscall())
            .filter(|n| *n >= 0)
    }

    fn render(names: &BTreeSet<String>) -> String {
        let col = |n: Option<i32>| n.map(|n| n.to_string()).unwrap_or_else(|| "-".into());
        let mut out = String::from(
            "# System call numbers on x86-64 and x86 of every name libseccomp knows.\n\
             # Generated from libseccomp by the tools' unit tests\n\
             # (CONFINE_UPDATE_SYSCALLS=1 cargo test -p confine-tools syscalls).\n\
             # name\tx86-64\tx86\n",
        );
        for n in names {
            out.push_str(&format!(
                "{n}\t{}\t{}\n",
                col(libseccomp_number(ScmpArch::X8664, n)),
                col(libseccomp_number(ScmpArch::X86, n))
            ));
        }
        out
    }

    #[test]
    fn the_table_matches_libseccomp() {
        let expected = render(&libseccomp_names());
        if std::env::var_os("CONFINE_UPDATE_SYSCALLS").is_some() {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/seccomp/syscalls.tsv");
            std::fs::write(path, &expected).unwrap();
            return;
        }
        assert!(
            DATA == expected,
            "tools/data/seccomp/syscalls.tsv differs from this libseccomp: regenerate it with \
             CONFINE_UPDATE_SYSCALLS=1 cargo test -p confine-tools syscalls"
        );
    }

    #[test]
    fn lookups() {
        assert_eq!(lookup(ScmpArch::X8664, "read"), Lookup::Listed(Some(0)));
        assert_eq!(lookup(ScmpArch::X86, "read"), Lookup::Listed(Some(3)));
        assert_eq!(lookup(ScmpArch::X86, "socket"), Lookup::Listed(Some(359)));
        assert_eq!(lookup(ScmpArch::X86, "accept"), Lookup::Listed(None));
        assert_eq!(lookup(ScmpArch::X8664, "socketcall"), Lookup::Listed(None));
        assert_eq!(lookup(ScmpArch::X8664, "no_such_call"), Lookup::Unlisted);
        assert_eq!(lookup(ScmpArch::Aarch64, "read"), Lookup::Unlisted);
        assert!(is_listed("cacheflush"));
        assert!(!is_listed("no_such_call"));
    }
}
