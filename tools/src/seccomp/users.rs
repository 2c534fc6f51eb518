//! Resolving `u:NAME` and `g:NAME` to numeric ids at compile time.
//!
//! The local databases (`/etc/passwd`, `/etc/group`) are read first. A name
//! they do not list is then looked up with `getent`, which goes through the
//! name service switch and so also finds users kept elsewhere (Ubuntu Core
//! keeps system users in an "extrausers" database). Results are cached for
//! the run.

use std::collections::HashMap;
use std::fs;
use std::path::PathBuf;
use std::process::Command;

/// Which database a name is looked up in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Database {
    Passwd,
    Group,
}

impl Database {
    fn getent_name(self) -> &'static str {
        match self {
            Database::Passwd => "passwd",
            Database::Group => "group",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Database::Passwd => "user",
            Database::Group => "group",
        }
    }
}

/// Looks user and group names up, with a cache.
#[derive(Debug)]
pub struct IdResolver {
    passwd: PathBuf,
    group: PathBuf,
    use_getent: bool,
    cache: HashMap<(Database, String), u32>,
}

impl IdResolver {
    /// The host's databases, with the `getent` fallback.
    pub fn system() -> Self {
        IdResolver {
            passwd: PathBuf::from("/etc/passwd"),
            group: PathBuf::from("/etc/group"),
            use_getent: true,
            cache: HashMap::new(),
        }
    }

    /// Only the given files (no `getent`); for tests and for compiling
    /// policies of another system image.
    pub fn from_files(passwd: impl Into<PathBuf>, group: impl Into<PathBuf>) -> Self {
        IdResolver {
            passwd: passwd.into(),
            group: group.into(),
            use_getent: false,
            cache: HashMap::new(),
        }
    }

    /// The uid of a user.
    pub fn uid(&mut self, name: &str) -> Result<u32, String> {
        self.lookup(Database::Passwd, name)
    }

    /// The gid of a group.
    pub fn gid(&mut self, name: &str) -> Result<u32, String> {
        self.lookup(Database::Group, name)
    }

    fn lookup(&mut self, db: Database, name: &str) -> Result<u32, String> {
        let key = (db, name.to_owned());
        if let Some(id) = self.cache.get(&key) {
            return Ok(*id);
        }
        let path = match db {
            Database::Passwd => &self.passwd,
            Database::Group => &self.group,
        };
        let found = match fs::read_to_string(path) {
            Ok(text) => find_id(&text, name),
            // A missing database is the same as an empty one; getent may
            // still know the name.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        let id = match found {
            Some(id) => Some(id),
            None if self.use_getent => getent(db, name)?,
            None => None,
        }
        .ok_or_else(|| format!("cannot find {} {name:?}", db.what()))?;
        self.cache.insert(key, id);
        Ok(id)
    }
}

/// Finds `name` in the text of a passwd or group file (both keep the id in
/// the third colon-separated field).
pub fn find_id(text: &str, name: &str) -> Option<u32> {
    text.lines().find_map(|line| {
        let mut fields = line.split(':');
        if fields.next()? != name {
            return None;
        }
        fields.nth(1)?.trim().parse().ok()
    })
}

/// Asks `getent`; `Ok(None)` when it says the name does not exist.
fn getent(db: Database, name: &str) -> Result<Option<u32>, String> {
    let output = match Command::new("getent").arg(db.getent_name()).arg(name).output() {
        Ok(output) => output,
        // No getent on this system: only the local files count.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot run getent: {e}")),
    };
    match output.status.code() {
        Some(0) => Ok(find_id(&String::from_utf8_lossy(&output.stdout), name)),
        // getent(1): 2 means "one or more keys not found".
        Some(2) => Ok(None),
        _ => Err(format!(
            "getent {} {name} failed: {}",
            db.getent_name(),
            String::from_utf8_lossy(&output.stderr).trim()
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
        daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
        # not a comment, but harmless\n\
        broken\n\
        snap_daemon:x:584788:584788::/nonexistent:/usr/bin/false\n";

    #[test]
    fn finds_ids_in_the_third_field() {
        assert_eq!(find_id(PASSWD, "root"), Some(0));
        assert_eq!(find_id(PASSWD, "daemon"), Some(1));
        assert_eq!(find_id(PASSWD, "snap_daemon"), Some(584_788));
        assert_eq!(find_id(PASSWD, "nobody"), None);
        assert_eq!(find_id(PASSWD, "broken"), None);
        assert_eq!(find_id(PASSWD, "roo"), None);
        assert_eq!(find_id("x:x:notanumber:0\n", "x"), None);
    }

    #[test]
    fn resolves_from_files_and_caches() {
        let dir = tempfile::tempdir().unwrap();
        let passwd = dir.path().join("passwd");
        let group = dir.path().join("group");
        fs::write(&passwd, PASSWD).unwrap();
        fs::write(&group, "root:x:0:\nsnap_daemon:x:584788:\n").unwrap();
        let mut ids = IdResolver::from_files(&passwd, &group);
        assert_eq!(ids.uid("snap_daemon"), Ok(584_788));
        assert_eq!(ids.gid("snap_daemon"), Ok(584_788));
        assert_eq!(ids.uid("nobody"), Err("cannot find user \"nobody\"".into()));
        assert_eq!(ids.gid("daemon"), Err("cannot find group \"daemon\"".into()));
        // Cached: the file is not read again.
        fs::write(&passwd, "").unwrap();
        assert_eq!(ids.uid("snap_daemon"), Ok(584_788));
    }

    #[test]
    fn missing_files_mean_unknown_names() {
        let mut ids = IdResolver::from_files("/nonexistent/passwd", "/nonexistent/group");
        assert!(ids.uid("root").is_err());
    }

    #[test]
    fn system_root_is_zero() {
        let mut ids = IdResolver::system();
        assert_eq!(ids.uid("root"), Ok(0));
        assert_eq!(ids.gid("root"), Ok(0));
    }
}
