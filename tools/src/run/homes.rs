//! Home directories outside `/home`. A strictly confined app sees the host's
//! `/home` and `/root`; other places where homes live are listed in snapd's
//! `homedirs` setting (`snap set system homedirs=/srv/home,/data/users`),
//! which snapd keeps in `/var/lib/snapd/system-params` as a line
//! `homedirs=/srv/home,/data/users`. The launcher binds each of them into
//! the sandbox; snap-run refuses, with the reason, a user whose home is in
//! none of them (the launcher could not make the app's data there).

use std::path::Path;

/// snapd's system parameters file.
pub const SYSTEM_PARAMS: &str = "/var/lib/snapd/system-params";

/// The homes every strict app sees.
const ALWAYS: &[&str] = &["/home", "/root"];

/// The `homedirs` of a system-params file's text (none when unset). Each
/// must be an absolute, canonical path.
pub fn parse(text: &str) -> Result<Vec<String>, String> {
    let Some(value) = text.lines().find_map(|l| l.strip_prefix("homedirs=")) else { return Ok(Vec::new()) };
    value
        .split(',')
        .filter(|d| !d.is_empty())
        .map(|d| {
            if confine::user_data::is_canonical(d) {
                Ok(d.to_string())
            } else {
                Err(format!("homedirs={value}: {d:?} is not an absolute canonical path"))
            }
        })
        .collect()
}

/// The `homedirs` of `root`'s system-params file.
pub fn read(root: &Path) -> Result<Vec<String>, String> {
    let path = root.join(SYSTEM_PARAMS.trim_start_matches('/'));
    match std::fs::read(&path) {
        Ok(bytes) if bytes.len() <= 64 * 1024 => {
            let text = String::from_utf8(bytes).map_err(|_| format!("cannot read {}: it is not text", path.display()))?;
            parse(&text).map_err(|e| format!("cannot use {}: {e}", path.display()))
        }
        Ok(_) => Err(format!("cannot read {}: it is larger than 64 KiB", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// Whether `path` is `dir` or inside it.
fn is_within(path: &str, dir: &str) -> bool {
    path.strip_prefix(dir).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Checks that a strict app can have its data in `home`: it is under
/// `/home`, `/root` or one of `homedirs`.
pub fn check(home: &str, homedirs: &[String]) -> Result<(), String> {
    if ALWAYS.iter().copied().chain(homedirs.iter().map(String::as_str)).any(|d| is_within(home, d)) {
        return Ok(());
    }
    let parent = Path::new(home).parent().map(|p| p.display().to_string()).unwrap_or_default();
    let listed = if homedirs.is_empty() { String::from("none") } else { homedirs.join(",") };
    let what = format!("the home directory {home} is outside /home, and homedirs ({listed}) in {SYSTEM_PARAMS} does not list it");
    if parent.is_empty() || parent == "/" {
        // A directory of its own at the top: no setting takes it in.
        return Err(format!("{what}: a strictly confined app needs a home in a directory of homes"));
    }
    Err(format!("{what}: snapd lists it with `snap set system homedirs={parent}`"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn parses_what_snapd_writes() {
        assert_eq!(parse("").unwrap(), Vec::<String>::new());
        assert_eq!(parse("homedirs=\n").unwrap(), Vec::<String>::new());
        assert_eq!(parse("other=1\nhomedirs=/srv/home,/data/users\n").unwrap(), ["/srv/home", "/data/users"]);
        assert!(parse("homedirs=srv/home").unwrap_err().contains("\"srv/home\" is not an absolute canonical path"));
        assert!(parse("homedirs=/srv/../etc").is_err());
        assert!(parse("homedirs=/srv/home/").is_err());
    }

    #[test]
    fn homes() {
        check("/home/u", &[]).unwrap();
        check("/root", &[]).unwrap();
        check("/srv/home/u", &["/srv/home".into()]).unwrap();
        check("/srv/home", &["/srv/home".into()]).unwrap();
        let e = check("/srv/home/u", &[]).unwrap_err();
        assert_eq!(
            e,
            "the home directory /srv/home/u is outside /home, and homedirs (none) in /var/lib/snapd/system-params does not list it: \
             snapd lists it with `snap set system homedirs=/srv/home`"
        );
        assert!(check("/srv/homex/u", &["/srv/home".into()]).is_err());
        assert!(check("/nonexistent", &[]).unwrap_err().ends_with("does not list it: a strictly confined app needs a home in a directory of homes"));
        assert!(check("/homex/u", &[]).is_err());
    }

    #[test]
    fn reads_the_file_under_a_root() {
        let root = tempfile::tempdir().unwrap();
        assert_eq!(read(root.path()).unwrap(), Vec::<String>::new());
        std::fs::create_dir_all(root.path().join("var/lib/snapd")).unwrap();
        std::fs::write(root.path().join("var/lib/snapd/system-params"), "homedirs=/srv/home\n").unwrap();
        assert_eq!(read(root.path()).unwrap(), ["/srv/home"]);
        std::fs::write(root.path().join("var/lib/snapd/system-params"), [0xff]).unwrap();
        assert!(read(root.path()).unwrap_err().ends_with("it is not text"));
    }
}
