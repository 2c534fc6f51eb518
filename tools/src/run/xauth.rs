//! The X11 cookie file. A strictly confined app has a private `/tmp`, so an
//! `XAUTHORITY` in `/tmp` (where some display managers and `ssh -X` put it)
//! is out of its reach: as `snap run` does, snap-run copies the file to
//! `$XDG_RUNTIME_DIR/.Xauthority` (`/run/user/<uid>`, which the app can
//! read) and points `XAUTHORITY` there. Only a clean path into `/tmp`, to a
//! regular file of the caller's that parses as an Xauthority file, is
//! copied; anything else is left as it is.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The largest file copied: a cookie file holds a few hundred bytes.
const MAX_SIZE: u64 = 1 << 20;

/// Checks that `data` is an Xauthority file: one or more entries of a
/// 16-bit family and four 16-bit-length-prefixed fields (libXau's format).
pub fn validate(data: &[u8]) -> Result<(), String> {
    let mut rest = data;
    let mut entries = 0;
    while !rest.is_empty() {
        rest = rest.get(2..).ok_or("a truncated entry")?;
        for _ in 0..4 {
            let len = match rest {
                [hi, lo, ..] => usize::from(u16::from_be_bytes([*hi, *lo])),
                _ => return Err("a truncated entry".into()),
            };
            rest = rest.get(2 + len..).ok_or("a truncated entry")?;
        }
        entries += 1;
    }
    if entries == 0 {
        return Err("it holds no cookie".into());
    }
    Ok(())
}

/// Copies the caller's `XAUTHORITY` (see the module's doc) into `runtime_dir`
/// (`/run/user/<uid>`); returns the new value of `XAUTHORITY`, or `None`
/// when there is nothing to do.
pub fn migrate(xauthority: Option<&str>, uid: u32, runtime_dir: &Path) -> Result<Option<PathBuf>, String> {
    let Some(path) = xauthority.filter(|p| !p.is_empty()) else { return Ok(None) };
    if !runtime_dir.is_dir() || !path.starts_with("/tmp/") {
        return Ok(None);
    }
    // The path itself, without symbolic links or odd components.
    let clean = Path::new(path).components().all(|c| matches!(c, std::path::Component::RootDir | std::path::Component::Normal(_)));
    if !clean || path.contains("//") || path.ends_with('/') {
        return Err(format!("cannot use XAUTHORITY={path}: it is not a clean path"));
    }
    let mut file = match fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot open XAUTHORITY={path}: {e}")),
    };
    if fs::canonicalize(path).ok().as_deref() != Some(Path::new(path)) {
        return Err(format!("cannot use XAUTHORITY={path}: it is not a clean path"));
    }
    let meta = file.metadata().map_err(|e| format!("cannot read {path}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("cannot use XAUTHORITY={path}: it is not a regular file"));
    }
    if meta.uid() != uid {
        return Err(format!("cannot use XAUTHORITY={path}: it is not owned by user {uid}"));
    }
    let mut data = Vec::new();
    Read::take(&mut file, MAX_SIZE + 1).read_to_end(&mut data).map_err(|e| format!("cannot read {path}: {e}"))?;
    if data.len() as u64 > MAX_SIZE {
        return Err(format!("cannot use XAUTHORITY={path}: it is larger than {MAX_SIZE} bytes"));
    }
    let target = runtime_dir.join(".Xauthority");
    if let Ok(mut existing) = File::open(&target) {
        let mut old = Vec::new();
        if Read::take(&mut existing, MAX_SIZE + 1).read_to_end(&mut old).is_ok() && old == data {
            return Ok(Some(target));
        }
    }
    validate(&data).map_err(|e| format!("cannot use XAUTHORITY={path}: it is not an Xauthority file ({e})"))?;
    match fs::remove_file(&target) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot replace {}: {e}", target.display())),
    }
    let mut out = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(&target)
        .map_err(|e| format!("cannot write {}: {e}", target.display()))?;
    if let Err(e) = out.write_all(&data) {
        let _ = fs::remove_file(&target);
        return Err(format!("cannot write {}: {e}", target.display()));
    }
    Ok(Some(target))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    /// One cookie as xauth writes it: family, address, display, name, data.
    pub fn cookie() -> Vec<u8> {
        let mut v = vec![0x01, 0x00];
        for field in [&b"host"[..], b"0", b"MIT-MAGIC-COOKIE-1", &[0xab; 16]] {
            v.extend_from_slice(&(field.len() as u16).to_be_bytes());
            v.extend_from_slice(field);
        }
        v
    }

    #[test]
    fn xauthority_format() {
        validate(&cookie()).unwrap();
        validate(&[cookie(), cookie()].concat()).unwrap();
        assert_eq!(validate(&[]).unwrap_err(), "it holds no cookie");
        let c = cookie();
        assert_eq!(validate(&c[..c.len() - 1]).unwrap_err(), "a truncated entry");
        assert_eq!(validate(b"not a cookie file at all").unwrap_err(), "a truncated entry");
    }

    #[test]
    fn only_clean_paths_into_tmp_are_copied() {
        let run = tempfile::tempdir().unwrap();
        let uid = nix::unistd::getuid().as_raw();
        assert_eq!(migrate(None, uid, run.path()).unwrap(), None);
        assert_eq!(migrate(Some("/home/u/.Xauthority"), uid, run.path()).unwrap(), None, "outside /tmp: left alone");
        assert_eq!(migrate(Some("/tmp/no-such-xauth-file"), uid, run.path()).unwrap(), None);
        assert_eq!(migrate(Some("/tmp/x"), uid, Path::new("/nonexistent")).unwrap(), None, "no runtime directory");
        assert!(migrate(Some("/tmp/../etc/shadow"), uid, run.path()).unwrap_err().ends_with("it is not a clean path"));
        let src = tempfile::Builder::new().prefix("xauth").tempfile_in("/tmp").unwrap();
        let name = src.path().to_str().unwrap().to_string();
        fs::write(&name, cookie()).unwrap();
        let target = migrate(Some(&name), uid, run.path()).unwrap().unwrap();
        assert_eq!(target, run.path().join(".Xauthority"));
        assert_eq!(fs::read(&target).unwrap(), cookie());
        assert_eq!(fs::metadata(&target).unwrap().mode() & 0o777, 0o600);
        // Same content: kept; new content: replaced.
        assert_eq!(migrate(Some(&name), uid, run.path()).unwrap().unwrap(), target);
        fs::write(&name, [cookie(), cookie()].concat()).unwrap();
        migrate(Some(&name), uid, run.path()).unwrap();
        assert_eq!(fs::read(&target).unwrap().len(), 2 * cookie().len());
        // Not an Xauthority file: refused, the old copy stays.
        fs::write(&name, b"junk").unwrap();
        assert!(migrate(Some(&name), uid, run.path()).unwrap_err().contains("it is not an Xauthority file"));
        assert_eq!(fs::read(&target).unwrap().len(), 2 * cookie().len());
        let link = format!("{name}.link");
        std::os::unix::fs::symlink(&name, &link).unwrap();
        assert!(migrate(Some(&link), uid, run.path()).unwrap_err().starts_with("cannot open XAUTHORITY="));
        fs::remove_file(&link).unwrap();
        assert!(migrate(Some(&name), uid + 1, run.path()).unwrap_err().ends_with(&format!("it is not owned by user {}", uid + 1)));
    }
}
