//! snapd's run inhibition lock: while a snap is refreshed or removed,
//! `/var/lib/snapd/inhibit/<instance>.lock` holds a hint (`refresh`,
//! `remove`, ...; empty when the snap may run) and `<instance>.<hint>` the
//! revision that was current before, as JSON (`{"previous":"x1"}`). Writers
//! (`confine install` and `remove`, snapd) change them under an exclusive
//! `flock` of the lock file; `snap-run` reads them under a shared one and
//! keeps it until the app is tracked in its cgroup, so a refresh cannot start
//! between the check and the moment the app can be seen running.

use nix::fcntl::{Flock, FlockArg};
use std::fs::{self, File};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The directory of the locks, under the root.
pub const DIR: &str = "/var/lib/snapd/inhibit";

/// The most a lock or info file may hold.
const MAX_SIZE: u64 = 4096;

/// Why `snap run` is held back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hint {
    /// Not inhibited (an empty lock file).
    Free,
    Refresh,
    Remove,
    Disable,
    /// Another hint snapd knows (`gate-refresh`, `pre-download`, ...): wait.
    Other(String),
}

impl Hint {
    fn parse(text: &str) -> Option<Hint> {
        Some(match text {
            "" => Hint::Free,
            "refresh" => Hint::Refresh,
            "remove" => Hint::Remove,
            "disable" => Hint::Disable,
            "lock" => return None,
            t if t.len() <= 32 && t.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') => Hint::Other(t.to_string()),
            _ => return None,
        })
    }

    pub fn as_str(&self) -> &str {
        match self {
            Hint::Free => "",
            Hint::Refresh => "refresh",
            Hint::Remove => "remove",
            Hint::Disable => "disable",
            Hint::Other(h) => h,
        }
    }
}

/// What the lock says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    pub hint: Hint,
    /// The revision current before the change (none when not inhibited).
    pub previous: Option<String>,
}

/// The lock file of `instance` under `root`.
pub fn lock_file(root: &Path, instance: &str) -> PathBuf {
    dir(root).join(format!("{instance}.lock"))
}

fn dir(root: &Path) -> PathBuf {
    root.join(DIR.trim_start_matches('/'))
}

fn info_file(root: &Path, instance: &str, hint: &Hint) -> PathBuf {
    dir(root).join(format!("{instance}.{}", hint.as_str()))
}

fn read_bounded(f: &mut File, what: &Path) -> Result<String, String> {
    let mut buf = Vec::new();
    Read::take(&mut *f, MAX_SIZE + 1).read_to_end(&mut buf).map_err(|e| format!("cannot read {}: {e}", what.display()))?;
    if buf.len() as u64 > MAX_SIZE {
        return Err(format!("cannot read {}: it is larger than {MAX_SIZE} bytes", what.display()));
    }
    String::from_utf8(buf).map_err(|_| format!("cannot read {}: it is not text", what.display()))
}

/// Reads the lock of `instance` and keeps it locked (shared) in the
/// returned handle; `None` when there is no lock file (a snap never
/// refreshed or removed).
pub fn read(root: &Path, instance: &str) -> Result<Option<(Flock<File>, State)>, String> {
    let path = lock_file(root, instance);
    let file = match fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC).open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot open {}: {e}", path.display())),
    };
    if !file.metadata().map(|m| m.is_file()).unwrap_or(false) {
        return Err(format!("cannot use {}: it is not a regular file", path.display()));
    }
    let mut lock = Flock::lock(file, FlockArg::LockShared).map_err(|(_, e)| format!("cannot lock {}: {e}", path.display()))?;
    let text = read_bounded(&mut lock, &path)?;
    let hint = Hint::parse(text.trim_end_matches('\n'))
        .ok_or_else(|| format!("cannot read {}: {:?} is not an inhibition hint", path.display(), text.escape_debug().to_string()))?;
    if hint == Hint::Free {
        return Ok(Some((lock, State { hint, previous: None })));
    }
    let info = info_file(root, instance, &hint);
    let previous = match fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC).open(&info) {
        Ok(mut f) => Some(parse_info(&read_bounded(&mut f, &info)?).map_err(|e| format!("cannot read {}: {e}", info.display()))?),
        // snapd 2.57 wrote no info file.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("cannot open {}: {e}", info.display())),
    };
    Ok(Some((lock, State { hint, previous })))
}

/// The previous revision in an info file: `{"previous":"x1"}` (or a number).
fn parse_info(text: &str) -> Result<String, String> {
    #[derive(serde::Deserialize)]
    struct Info {
        previous: serde_json::Value,
    }
    let info: Info = serde_json::from_str(text).map_err(|e| format!("it is not inhibition info: {e}"))?;
    let rev = match info.previous {
        serde_json::Value::String(s) => s,
        serde_json::Value::Number(n) => n.to_string(),
        other => return Err(format!("{other} is not a revision")),
    };
    crate::admin::validate_revision(&rev).map_err(|e| e.to_string())?;
    Ok(rev)
}

fn open_for_change(root: &Path, instance: &str) -> Result<Flock<File>, String> {
    let d = dir(root);
    fs::create_dir_all(&d).map_err(|e| format!("cannot create {}: {e}", d.display()))?;
    let path = lock_file(root, instance);
    let file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(&path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, e)| format!("cannot lock {}: {e}", path.display()))
}

/// Holds `snap run` of `instance` back with `hint`, recording `previous`.
/// Waits for the runs being started to be tracked first (their shared locks).
pub fn set(root: &Path, instance: &str, hint: &Hint, previous: &str) -> Result<(), String> {
    let mut lock = open_for_change(root, instance)?;
    let info = info_file(root, instance, hint);
    fs::write(&info, format!("{{\"previous\":\"{previous}\"}}")).map_err(|e| format!("cannot write {}: {e}", info.display()))?;
    let path = lock_file(root, instance);
    let write = |f: &mut File| -> std::io::Result<()> {
        f.set_len(0)?;
        f.rewind()?;
        f.write_all(hint.as_str().as_bytes())?;
        f.sync_all()
    };
    write(&mut lock).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Lets `snap run` of `instance` go again (an empty hint).
pub fn clear(root: &Path, instance: &str) -> Result<(), String> {
    if !lock_file(root, instance).exists() {
        return Ok(());
    }
    let lock = open_for_change(root, instance)?;
    let path = lock_file(root, instance);
    lock.set_len(0).and_then(|()| lock.sync_all()).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    remove_info_files(root, instance)
}

/// Removes the lock of a snap that is gone.
pub fn remove(root: &Path, instance: &str) -> Result<(), String> {
    let path = lock_file(root, instance);
    if !path.exists() {
        return Ok(());
    }
    let _lock = open_for_change(root, instance)?;
    remove_info_files(root, instance)?;
    fs::remove_file(&path).map_err(|e| format!("cannot remove {}: {e}", path.display()))
}

fn remove_info_files(root: &Path, instance: &str) -> Result<(), String> {
    let Ok(entries) = fs::read_dir(dir(root)) else { return Ok(()) };
    let prefix = format!("{instance}.");
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.strip_prefix(&prefix).is_some_and(|rest| rest != "lock" && !rest.contains('.')) {
            fs::remove_file(e.path()).map_err(|err| format!("cannot remove {}: {err}", e.path().display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    fn state(root: &Path, i: &str) -> Option<State> {
        read(root, i).unwrap().map(|(_, s)| s)
    }

    #[test]
    fn set_clear_and_remove() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        assert_eq!(state(r, "hello"), None);
        set(r, "hello", &Hint::Refresh, "x1").unwrap();
        assert_eq!(fs::read_to_string(lock_file(r, "hello")).unwrap(), "refresh");
        assert_eq!(fs::read_to_string(r.join("var/lib/snapd/inhibit/hello.refresh")).unwrap(), r#"{"previous":"x1"}"#);
        assert_eq!(state(r, "hello"), Some(State { hint: Hint::Refresh, previous: Some("x1".into()) }));
        // Another instance's files are its own.
        set(r, "hello_foo", &Hint::Remove, "x2").unwrap();
        clear(r, "hello").unwrap();
        assert_eq!(state(r, "hello"), Some(State { hint: Hint::Free, previous: None }));
        assert!(!r.join("var/lib/snapd/inhibit/hello.refresh").exists());
        assert!(r.join("var/lib/snapd/inhibit/hello_foo.remove").exists());
        remove(r, "hello").unwrap();
        assert_eq!(state(r, "hello"), None);
        assert_eq!(state(r, "hello_foo").unwrap().hint, Hint::Remove);
        clear(r, "absent").unwrap();
        assert!(!lock_file(r, "absent").exists(), "clearing creates nothing");
    }

    #[test]
    fn what_snapd_writes_is_read() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        let d = r.join("var/lib/snapd/inhibit");
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join("a.lock"), "gate-refresh").unwrap();
        fs::write(d.join("a.gate-refresh"), r#"{"previous":"42"}"#).unwrap();
        assert_eq!(state(r, "a"), Some(State { hint: Hint::Other("gate-refresh".into()), previous: Some("42".into()) }));
        fs::write(d.join("b.lock"), "refresh").unwrap();
        assert_eq!(state(r, "b"), Some(State { hint: Hint::Refresh, previous: None }), "snapd 2.57 wrote no info file");
        fs::write(d.join("c.lock"), "disable").unwrap();
        fs::write(d.join("c.disable"), r#"{"previous":7}"#).unwrap();
        assert_eq!(state(r, "c").unwrap().previous.as_deref(), Some("7"));
    }

    #[test]
    fn malformed_files_are_refused() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        let d = r.join("var/lib/snapd/inhibit");
        fs::create_dir_all(&d).unwrap();
        let e = |name: &str| read(r, name).unwrap_err();
        fs::write(d.join("a.lock"), "Refresh!").unwrap();
        assert!(e("a").ends_with("a.lock: \"Refresh!\" is not an inhibition hint"), "{}", e("a"));
        fs::write(d.join("b.lock"), [0xff, 0xfe]).unwrap();
        assert!(e("b").ends_with("b.lock: it is not text"), "{}", e("b"));
        fs::write(d.join("c.lock"), "x".repeat(5000)).unwrap();
        assert!(e("c").ends_with("c.lock: it is larger than 4096 bytes"), "{}", e("c"));
        fs::write(d.join("d.lock"), "refresh").unwrap();
        fs::write(d.join("d.refresh"), "{previous: x1}").unwrap();
        assert!(e("d").contains("d.refresh: it is not inhibition info: "), "{}", e("d"));
        fs::write(d.join("d.refresh"), r#"{"previous":"../x"}"#).unwrap();
        assert!(e("d").contains("cannot use revision \"../x\""), "{}", e("d"));
        fs::create_dir(d.join("e.lock")).unwrap();
        assert!(e("e").ends_with("e.lock: it is not a regular file"), "{}", e("e"));
        std::os::unix::fs::symlink("/etc/passwd", d.join("f.lock")).unwrap();
        assert!(e("f").starts_with("cannot open "), "{}", e("f"));
    }
}
