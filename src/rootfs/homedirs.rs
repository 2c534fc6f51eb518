//! Home directories outside `/home`: snapd's `homedirs` setting
//! (`snap set system homedirs=/srv/home,/data/users`), kept in
//! `/var/lib/snapd/system-params` as the line `homedirs=/srv/home,/data/users`.
//! Each one is bound from the host into the snap's root like `/home`, and a
//! preserved namespace without one of them is stale.
//!
//! The file is read only through a root-owned path, without following
//! symlinks, and only when it is a small regular file. Every entry must be
//! an absolute canonical path that is not a system directory nor holds one
//! (the whole setting is refused otherwise, with the entry named). An entry
//! already visible through a host directory (`/home/x`, `/mnt/x`), within
//! another entry, or missing on the host is left out.

use super::plan::{host_mount_paths, is_within};
use crate::debug::Debug;
use crate::error::{Error, Result};
use crate::fs::{open_path, read_trusted_file, Trust};
use nix::errno::Errno;
use nix::fcntl::OFlag;

/// Where snapd keeps the system's parameters.
pub const SYSTEM_PARAMS: &str = "/var/lib/snapd/system-params";

/// The most home directories taken.
pub const MAX_HOMEDIRS: usize = 16;

/// The largest system-params file read.
const MAX_FILE_SIZE: usize = 64 * 1024;

/// The longest entry.
const MAX_PATH: usize = 4096;

/// No home directory may be one of these, within one or hold one: the
/// system's own directories, the snaps, their state and the kernel's.
const FORBIDDEN: &[&str] = &[
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/proc",
    "/root",
    "/run",
    "/sbin",
    "/snap",
    "/sys",
    "/tmp",
    "/usr",
    "/var/lib/snapd",
    "/var/lib/extrausers",
    "/var/log",
    "/var/snap",
    "/var/tmp",
];

fn refused(entry: &str, why: impl std::fmt::Display) -> Error {
    Error::because(format!("use homedirs entry {entry:?} of {SYSTEM_PARAMS}"), why.to_string())
}

/// Checks one entry's form: absolute, canonical, printable.
fn check_form(entry: &str) -> Result<()> {
    if entry.len() > MAX_PATH {
        let start: String = entry.chars().take(64).collect();
        return Err(refused(&format!("{start}..."), format!("it is longer than {MAX_PATH} bytes")));
    }
    if entry.chars().any(char::is_control) {
        return Err(refused(entry, "it holds a control character"));
    }
    let canonical = entry.starts_with('/')
        && entry.len() > 1
        && !entry.ends_with('/')
        && entry[1..].split('/').all(|c| !c.is_empty() && c != "." && c != "..");
    if !canonical {
        return Err(refused(entry, "it is not an absolute canonical path"));
    }
    Ok(())
}

/// The home directories that `text` (the system-params file) lists, to be
/// bound into the snap's root, in their order. `say` hears what is left out
/// and why.
pub fn parse(text: &str, say: &mut dyn FnMut(String)) -> Result<Vec<String>> {
    let Some(value) = text.lines().find_map(|l| l.strip_prefix("homedirs=")) else { return Ok(Vec::new()) };
    let entries: Vec<&str> = value.split(',').filter(|e| !e.is_empty()).collect();
    if entries.len() > MAX_HOMEDIRS {
        return Err(Error::because(
            format!("use homedirs of {SYSTEM_PARAMS}"),
            format!("it lists {} directories, more than {MAX_HOMEDIRS}", entries.len()),
        ));
    }
    for entry in &entries {
        check_form(entry)?;
        if let Some(dir) = FORBIDDEN.iter().find(|d| is_within(entry, d) || is_within(d, entry)) {
            return Err(refused(entry, format!("it is {dir} or within or above it")));
        }
        if let Some(dir) = host_mount_paths().find(|d| is_within(d, entry) && d != entry) {
            return Err(refused(entry, format!("it holds {dir}, which every snap gets from the host")));
        }
    }
    let mut out: Vec<String> = Vec::new();
    for entry in &entries {
        if let Some(dir) = host_mount_paths().find(|d| is_within(entry, d)) {
            say(format!("home directory {entry} is within {dir}, which every snap gets from the host"));
        } else if let Some(other) = entries.iter().find(|o| *o != entry && is_within(entry, o)) {
            say(format!("home directory {entry} is within home directory {other}"));
        } else if !out.iter().any(|o| o == entry) {
            out.push((*entry).to_string());
        }
    }
    Ok(out)
}

/// The home directories of the system-params file that exist on the host,
/// each a directory reached without a symlink. No file: none.
pub fn read<S: crate::sys::Sys>(sys: &S, debug: &Debug) -> Result<Vec<String>> {
    let bytes = match read_trusted_file(sys, SYSTEM_PARAMS, MAX_FILE_SIZE) {
        Ok(b) => b,
        Err(e) if e.errno_value() == Some(Errno::ENOENT) => return Ok(Vec::new()),
        Err(e) => return Err(e.within(format!("read the home directories in {SYSTEM_PARAMS}"))),
    };
    let text = String::from_utf8(bytes).map_err(|_| Error::because(format!("read {SYSTEM_PARAMS}"), "it is not UTF-8"))?;
    let mut out = Vec::new();
    for home in parse(&text, &mut |note| debug.say(format_args!("{note}: not bound")))? {
        match open_path(sys, &home, OFlag::O_PATH | OFlag::O_DIRECTORY, Trust::Any) {
            Ok(_) => out.push(home),
            Err(e) if e.errno_value() == Some(Errno::ENOENT) => {
                debug.say(format_args!("home directory {home} does not exist: not bound"));
            }
            Err(e) => return Err(e.within(format!("use home directory {home} listed in {SYSTEM_PARAMS}"))),
        }
    }
    if !out.is_empty() {
        debug.say(format_args!("home directories bound from the host: {}", out.join(", ")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use crate::sys::fake::FakeSys;

    fn parsed(text: &str) -> (Result<Vec<String>>, Vec<String>) {
        let mut notes = Vec::new();
        let got = parse(text, &mut |n| notes.push(n));
        (got, notes)
    }

    fn refusal(text: &str) -> String {
        parsed(text).0.unwrap_err().to_string()
    }

    #[test]
    fn entries_are_taken_in_order() {
        assert_eq!(parsed("").0.unwrap(), Vec::<String>::new());
        assert_eq!(parsed("homedirs=\n").0.unwrap(), Vec::<String>::new());
        assert_eq!(parsed("other=1\nhomedirs=/srv/home,,/data/users\n").0.unwrap(), ["/srv/home", "/data/users"]);
        assert_eq!(parsed("homedirs=/srv/home,/srv/home").0.unwrap(), ["/srv/home"]);
    }

    #[test]
    fn covered_entries_are_left_out_with_the_reason() {
        let (got, notes) = parsed("homedirs=/home/staff,/srv/home/a,/srv/home,/mnt/users,/media");
        assert_eq!(got.unwrap(), ["/srv/home"]);
        assert_eq!(
            notes,
            [
                "home directory /home/staff is within /home, which every snap gets from the host",
                "home directory /srv/home/a is within home directory /srv/home",
                "home directory /mnt/users is within /mnt, which every snap gets from the host",
                "home directory /media is within /media, which every snap gets from the host",
            ]
        );
    }

    #[test]
    fn malformed_and_system_entries_are_refused() {
        for bad in ["srv/home", "/srv/../etc", "/srv/home/", "/srv//home", "/srv/./home", "/", "/srv/ho\tme"] {
            let text = format!("homedirs={bad}");
            let e = refusal(&text);
            assert!(e.starts_with("cannot use homedirs entry"), "{bad:?}: {e}");
        }
        assert!(refusal("homedirs=srv/home").contains("\"srv/home\" of /var/lib/snapd/system-params: it is not an absolute canonical path"));
        for (bad, why) in [
            ("/etc/homes", "it is /etc or within or above it"),
            ("/var/lib/snapd/hostfs/home", "it is /var/lib/snapd or within or above it"),
            ("/var/lib", "it is /var/lib/snapd or within or above it"),
            ("/run/user", "it is /run or within or above it"),
            ("/proc", "it is /proc or within or above it"),
            ("/snap/x", "it is /snap or within or above it"),
            ("/tmp/h", "it is /tmp or within or above it"),
        ] {
            let e = refusal(&format!("homedirs=/srv/home,{bad}"));
            assert_eq!(e, format!("cannot use homedirs entry {bad:?} of /var/lib/snapd/system-params: {why}"));
        }
        assert_eq!(refusal(&format!("homedirs={}", ["/srv/h"; 17].join(","))), "cannot use homedirs of /var/lib/snapd/system-params: it lists 17 directories, more than 16");
        assert!(refusal(&format!("homedirs=/{}", "a".repeat(5000))).contains("it is longer than 4096 bytes"));
    }

    #[test]
    fn read_takes_what_exists_from_a_trusted_file() {
        let sys = FakeSys::new();
        let debug = Debug::new(false);
        assert_eq!(read(&sys, &debug).unwrap(), Vec::<String>::new());
        sys.dir("/var/lib/snapd", 0o755);
        sys.dir("/srv/home", 0o755);
        sys.file(SYSTEM_PARAMS, b"homedirs=/srv/home,/data/users\n", 0o644);
        assert_eq!(read(&sys, &debug).unwrap(), ["/srv/home"]);
        // A symlink on the way is not followed.
        sys.dir("/data/real", 0o755);
        std::os::unix::fs::symlink("/data/real", sys.path("/data/users")).unwrap();
        let e = read(&sys, &debug).unwrap_err().to_string();
        assert!(e.starts_with("cannot use home directory /data/users listed in /var/lib/snapd/system-params"), "{e}");
        // Nor is a file anyone may write.
        sys.file(SYSTEM_PARAMS, b"homedirs=/srv/home\n", 0o666);
        let e = read(&sys, &debug).unwrap_err().to_string();
        assert!(e.contains("writable by others"), "{e}");
    }
}
