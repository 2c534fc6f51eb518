//! Writing a compiled policy so that readers see the old file or the new
//! one, never a part of either: a temporary file in the same directory,
//! flushed to disk, renamed over the target, then the directory flushed.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// Mode of the written files.
pub const MODE: u32 = 0o644;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Removes the temporary file unless disarmed.
struct Cleanup(Option<PathBuf>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = fs::remove_file(path);
        }
    }
}

/// Replaces `path` with `bytes`, atomically, mode 0644.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the output path names no file"))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let (file, tmp) = create_temporary(dir, &name.to_string_lossy())?;
    let mut cleanup = Cleanup(Some(tmp.clone()));
    write_and_sync(file, bytes)?;
    fs::rename(&tmp, path)?;
    cleanup.0 = None;
    // Make the rename itself durable.
    File::open(dir)?.sync_all()
}

fn write_and_sync(mut file: File, bytes: &[u8]) -> io::Result<()> {
    // The mode is set explicitly so the umask does not change it.
    file.set_permissions(Permissions::from_mode(MODE))?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn create_temporary(dir: &Path, base: &str) -> io::Result<(File, PathBuf)> {
    let pid = std::process::id();
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{base}.{pid}.{n}~"));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC)
            .open(&tmp)
        {
            Ok(file) => return Ok((file, tmp)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Removes from `dir` the temporary files of writers that no longer run
/// (killed between creating a temporary file and renaming it). Those of a
/// writer that still runs are left alone.
pub fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let Some(pid) = writer_of(&e.file_name().to_string_lossy()) else { continue };
        if !Path::new("/proc").join(pid.to_string()).exists() {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// The process id in the name of a temporary file (`.<name>.<pid>.<n>~`).
fn writer_of(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?.strip_suffix('~')?;
    let (rest, n) = rest.rsplit_once('.')?;
    let (base, pid) = rest.rsplit_once('.')?;
    n.parse::<u32>().ok()?;
    if base.is_empty() {
        return None;
    }
    pid.parse().ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn replaces_the_file_with_mode_0644_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("snap.a.b.bin2");
        fs::write(&out, b"old").unwrap();
        fs::set_permissions(&out, Permissions::from_mode(0o600)).unwrap();
        write_atomically(&out, b"new content").unwrap();
        assert_eq!(fs::read(&out).unwrap(), b"new content");
        assert_eq!(fs::metadata(&out).unwrap().mode() & 0o7777, 0o644);
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn replaces_a_symlink_not_its_target() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        fs::write(&target, b"keep").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_atomically(&link, b"x").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"keep");
        assert!(!fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    }

    #[test]
    fn missing_directory_is_an_error_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("no/such/dir/out");
        assert!(write_atomically(&out, b"x").is_err());
        assert!(write_atomically(Path::new("/"), b"x").is_err());
    }

    #[test]
    fn temporaries_of_writers_that_are_gone_are_removed() {
        assert_eq!(writer_of(".snap.a.b.bin2.328.0~"), Some(328));
        for other in ["snap.a.b.bin2", ".snap.a.b.bin2.328.0", ".328.0~", ".x.y.0~", ".x.1.y~", "x.1.2~"] {
            assert_eq!(writer_of(other), None, "{other}");
        }
        let dir = tempfile::tempdir().unwrap();
        // A process that has ended (and was reaped) gives a free id.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let gone = child.id();
        child.wait().unwrap();
        let me = std::process::id();
        for name in [format!(".snap.a.b.bin2.{gone}.0~"), format!(".snap.a.b.bin2.{me}.3~"), "snap.a.b.bin2".into()] {
            fs::write(dir.path().join(name), b"x").unwrap();
        }
        remove_stale_temporaries(dir.path());
        let mut names: Vec<String> =
            fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        assert_eq!(names, vec![format!(".snap.a.b.bin2.{me}.3~"), "snap.a.b.bin2".to_string()]);
    }
}
