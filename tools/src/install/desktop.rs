//! The desktop integration of an installed snap, as snapd writes it: the
//! snap's `meta/gui/*.desktop` files under `/var/lib/snapd/desktop/applications`
//! (as `<instance>_<name>.desktop`, keeping only the keys snapd keeps, with
//! `Exec=` pointed at the app's `/snap/bin` wrapper), its icons
//! (`meta/gui/icons/**/snap.<snap>.*.{png,svg}`) under
//! `/var/lib/snapd/desktop/icons`, renamed for the instance, and a bash
//! completion link for each app with a `completer`. What a snap provides is
//! worked out first, as data ([`plan`]): a broken desktop file fails the
//! install before anything is written. Once desktop files were written or
//! removed, `update-desktop-database` (when installed) refreshes the MIME
//! cache of their directory, as snapd runs it ([`update_database`]).

use super::wrapper_name;
use crate::admin::Error;
use crate::paths::Paths;
use crate::snapyaml::SnapYaml;
use std::fs;
use std::path::{Path, PathBuf};

/// Where desktop files go.
pub const APPLICATIONS_DIR: &str = "/var/lib/snapd/desktop/applications";
/// Where icons go (a theme tree, as under `meta/gui/icons`).
pub const ICONS_DIR: &str = "/var/lib/snapd/desktop/icons";
/// Where bash-completion finds the snaps' completion scripts.
pub const COMPLETIONS_DIR: &str = "/var/lib/snapd/desktop/bash-completion/completions";
/// The completion script every app with a completer is linked to.
pub const COMPLETE_SH: &str = "/usr/lib/confine/complete.sh";

/// The largest desktop file or icon read from a snap.
const MAX_FILE: u64 = 4 << 20;

/// One thing to put in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A file (mode 0644) with this content.
    File { path: PathBuf, content: Vec<u8> },
    /// A symbolic link to `target`.
    Link { path: PathBuf, target: PathBuf },
}

impl Item {
    pub fn path(&self) -> &Path {
        match self {
            Item::File { path, .. } | Item::Link { path, .. } => path,
        }
    }
}

fn err(msg: impl Into<String>) -> Error {
    Error(msg.into())
}

/// Keys snapd keeps in a desktop file (the Desktop Entry specification's,
/// less `TryExec`, plus two extensions); `*` ones may be localised
/// (`Name[fr]=`).
const KEYS: &[(&str, bool)] = &[
    ("Type", false),
    ("Version", false),
    ("Name", true),
    ("GenericName", true),
    ("NoDisplay", false),
    ("Comment", true),
    ("Icon", false),
    ("Hidden", false),
    ("OnlyShowIn", false),
    ("NotShowIn", false),
    ("Exec", false),
    ("Terminal", false),
    ("Actions", false),
    ("MimeType", false),
    ("Categories", false),
    ("Keywords", true),
    ("StartupNotify", false),
    ("StartupWMClass", false),
    ("PrefersNonDefaultGPU", false),
    ("SingleMainWindow", false),
    ("X-Ayatana-Desktop-Shortcuts", false),
    ("TargetEnvironment", false),
];

/// A locale suffix as snapd accepts it: `[lang_COUNTRY.ENCODING@modifier]`.
fn is_locale(s: &str) -> bool {
    let Some(inner) = s.strip_prefix('[').and_then(|s| s.strip_suffix(']')) else { return false };
    let (rest, modifier) = match inner.split_once('@') {
        Some((r, m)) => (r, Some(m)),
        None => (inner, None),
    };
    let (rest, encoding) = match rest.split_once('.') {
        Some((r, e)) => (r, Some(e)),
        None => (rest, None),
    };
    let (lang, country) = match rest.split_once('_') {
        Some((l, c)) => (l, Some(c)),
        None => (rest, None),
    };
    let all = |s: &str, f: fn(char) -> bool| !s.is_empty() && s.chars().all(f);
    all(lang, |c| c.is_ascii_lowercase())
        && country.is_none_or(|c| all(c, |c| c.is_ascii_uppercase()))
        && encoding.is_none_or(|e| all(e, |c| c.is_ascii_digit() || c.is_ascii_uppercase() || c == '-'))
        && modifier.is_none_or(|m| all(m, |c| c.is_ascii_lowercase()))
}

/// Whether snapd keeps this line: blank lines, comments, the groups it
/// knows, and the keys in [`KEYS`].
fn is_kept(line: &str) -> bool {
    let t = line.trim_start();
    if t.is_empty() || t.starts_with('#') || line == "[Desktop Entry]" {
        return true;
    }
    let group = |prefix: &str, suffix: &str| {
        line.strip_prefix(prefix)
            .and_then(|r| r.strip_suffix(suffix))
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    };
    if group("[Desktop Action ", "]") || group("[", " Shortcut Group]") {
        return true;
    }
    let Some((key, _)) = line.split_once('=') else { return false };
    KEYS.iter().any(|(k, localised)| {
        key == *k || (*localised && key.strip_prefix(k).is_some_and(is_locale))
    })
}

/// The app an `Exec=` value starts, and the line rewritten for its wrapper
/// (`/usr/bin/false` for a daemon, as snapd writes it); a command that names
/// no app is taken to be the app the file is named after.
fn rewrite_exec(yaml: &SnapYaml, instance: &str, file_stem: &str, value: &str) -> Option<(String, String)> {
    let keyed = instance != yaml.name;
    let line_for = |app: &crate::snapyaml::App, rest: &str| {
        if app.daemon.is_some() {
            "Exec=/usr/bin/false".to_string()
        } else {
            format!("Exec=/snap/bin/{}{rest}", wrapper_name(instance, &yaml.name, &app.name))
        }
    };
    for app in yaml.apps.values() {
        // A parallel instance's files name the snap's command.
        let cmd = wrapper_name(if keyed { &yaml.name } else { instance }, &yaml.name, &app.name);
        if value == cmd {
            return Some((app.name.clone(), line_for(app, "")));
        }
        if let Some(rest) = value.strip_prefix(&cmd).filter(|r| r.starts_with(' ')) {
            return Some((app.name.clone(), line_for(app, rest)));
        }
    }
    yaml.apps.get(file_stem).map(|app| (app.name.clone(), line_for(app, "")))
}

/// An `Icon=` value as installed: a theme icon named for the snap is renamed
/// for the instance; a path must be in the snap. `None`: the line is dropped.
fn rewrite_icon(yaml: &SnapYaml, instance: &str, value: &str) -> Option<String> {
    if value.contains('/') {
        let rel = value.strip_prefix("${SNAP}/")?;
        let clean = !rel.is_empty() && rel.split('/').all(|c| !c.is_empty() && c != "." && c != "..");
        return clean.then(|| format!("Icon={value}"));
    }
    let prefix = format!("snap.{}.", yaml.name);
    if let Some(rest) = value.strip_prefix(&prefix) {
        return Some(format!("Icon=snap.{instance}.{rest}"));
    }
    (!value.starts_with("snap.")).then(|| format!("Icon={value}"))
}

/// A desktop file as snapd installs it. Lines with other keys are dropped,
/// `${SNAP}` becomes `/snap/<instance>/current`, and `X-SnapInstanceName` and
/// `X-SnapAppName` tell whose it is. Errors: not text, no `[Desktop Entry]`
/// group first, or an `Exec=` that starts none of the snap's apps.
pub fn sanitize(yaml: &SnapYaml, instance: &str, file_name: &str, raw: &[u8]) -> Result<String, String> {
    let text = std::str::from_utf8(raw).map_err(|_| "it is not UTF-8 text".to_string())?;
    if text.contains('\0') {
        return Err("it is not a text file".into());
    }
    let first_group = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#'));
    if first_group != Some("[Desktop Entry]") {
        return Err("it does not start with a [Desktop Entry] group".into());
    }
    let stem = file_name.strip_suffix(".desktop").unwrap_or(file_name);
    let snap_dir = format!("/snap/{instance}/current");
    let mut out = String::new();
    for (n, line) in text.lines().enumerate() {
        if !is_kept(line) {
            continue;
        }
        let mut line = line.to_string();
        if let Some(value) = line.strip_prefix("Exec=") {
            let Some((app, rewritten)) = rewrite_exec(yaml, instance, stem, value) else {
                return Err(format!("line {}: Exec={value} starts none of the snap's apps", n + 1));
            };
            out.push_str(&format!("X-SnapAppName={app}\n"));
            line = rewritten;
        }
        if let Some(value) = line.strip_prefix("Icon=") {
            match rewrite_icon(yaml, instance, value) {
                Some(l) => line = l,
                None => continue,
            }
        }
        out.push_str(&line.replace("${SNAP}", &snap_dir));
        out.push('\n');
        if line == "[Desktop Entry]" {
            out.push_str(&format!("X-SnapInstanceName={instance}\n"));
        }
    }
    Ok(out)
}

/// Reads a regular file of the snap (never through a symbolic link: the
/// snap's author chooses its links, and the copy is world-readable).
fn read_regular(path: &Path) -> Result<Vec<u8>, String> {
    let m = fs::symlink_metadata(path).map_err(|e| e.to_string())?;
    if !m.file_type().is_file() {
        return Err("it is not a regular file".into());
    }
    if m.len() > MAX_FILE {
        return Err(format!("it is larger than {MAX_FILE} bytes"));
    }
    fs::read(path).map_err(|e| e.to_string())
}

/// The icons under `dir` (relative paths): files `snap.<snap>.*` ending in
/// `.png` or `.svg`, in directories not named `snap.*`.
fn find_icons(dir: &Path, rel: &Path, snap: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir.join(rel)) else { return };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let Ok(t) = e.file_type() else { continue };
        if t.is_dir() && !name.starts_with("snap.") {
            find_icons(dir, &rel.join(&name), snap, out);
        } else if t.is_file()
            && name.starts_with(&format!("snap.{snap}."))
            && (name.ends_with(".png") || name.ends_with(".svg"))
        {
            out.push(rel.join(&name));
        }
    }
}

/// What the revision mounted at `rev_dir` puts in place for `instance`.
pub fn plan(paths: &Paths, rev_dir: &Path, instance: &str, yaml: &SnapYaml) -> Result<Vec<Item>, Error> {
    let mut items = Vec::new();
    let gui = rev_dir.join("meta/gui");
    let mut desktop_files: Vec<String> = fs::read_dir(&gui)
        .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| n.ends_with(".desktop")).collect())
        .unwrap_or_default();
    desktop_files.sort();
    for name in desktop_files {
        let cannot = |why: String| err(format!("cannot use meta/gui/{name} of snap {instance}: {why}"));
        if name.contains(char::is_whitespace) || name.starts_with('.') {
            return Err(cannot("its name is not a valid desktop file name".into()));
        }
        let raw = read_regular(&gui.join(&name)).map_err(cannot)?;
        let content = sanitize(yaml, instance, &name, &raw).map_err(cannot)?;
        items.push(Item::File { path: paths.under(APPLICATIONS_DIR).join(format!("{instance}_{name}")), content: content.into_bytes() });
    }
    let icons_dir = gui.join("icons");
    let mut icons = Vec::new();
    find_icons(&icons_dir, Path::new(""), &yaml.name, &mut icons);
    for rel in icons {
        let cannot = |why: String| err(format!("cannot use icon meta/gui/icons/{} of snap {instance}: {why}", rel.display()));
        let content = read_regular(&icons_dir.join(&rel)).map_err(cannot)?;
        let base = rel.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let renamed = format!("snap.{instance}.{}", &base[format!("snap.{}.", yaml.name).len()..]);
        let dir = rel.parent().unwrap_or(Path::new(""));
        items.push(Item::File { path: paths.under(ICONS_DIR).join(dir).join(renamed), content });
    }
    for app in yaml.apps.values().filter(|a| a.completer.is_some() && a.daemon.is_none()) {
        items.push(Item::Link {
            path: paths.under(COMPLETIONS_DIR).join(wrapper_name(instance, &yaml.name, &app.name)),
            target: PathBuf::from(COMPLETE_SH),
        });
    }
    Ok(items)
}

/// Whether the desktop file at `path` is `instance`'s (its `X-SnapInstanceName`).
fn desktop_file_of(path: &Path, instance: &str) -> bool {
    let text = fs::read_to_string(path).unwrap_or_default();
    text.lines().any(|l| l.strip_prefix("X-SnapInstanceName=") == Some(instance))
}

fn icons_of(dir: &Path, prefix: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let Ok(t) = e.file_type() else { continue };
        if t.is_dir() {
            icons_of(&e.path(), prefix, out);
        } else if e.file_name().to_string_lossy().starts_with(prefix) {
            out.push(e.path());
        }
    }
}

/// What is in place for `instance` now: its desktop files, icons and
/// completion links (to [`COMPLETE_SH`], named like its apps' wrappers).
pub fn installed(paths: &Paths, instance: &str, yaml: &SnapYaml) -> Vec<PathBuf> {
    let mut found = Vec::new();
    if let Ok(d) = fs::read_dir(paths.under(APPLICATIONS_DIR)) {
        let prefix = format!("{instance}_");
        found.extend(
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(&prefix)))
                .filter(|p| desktop_file_of(p, instance)),
        );
    }
    icons_of(&paths.under(ICONS_DIR), &format!("snap.{instance}."), &mut found);
    for app in yaml.apps.values() {
        let link = paths.under(COMPLETIONS_DIR).join(wrapper_name(instance, &yaml.name, &app.name));
        if fs::read_link(&link).is_ok_and(|t| t == Path::new(COMPLETE_SH)) {
            found.push(link);
        }
    }
    found.sort();
    found
}

/// The program that caches which desktop files handle which MIME types
/// (`mimeinfo.cache`), from desktop-file-utils.
pub const UPDATE_DATABASE: &str = "update-desktop-database";

/// Whether `path` is one of the desktop files (not an icon or a link).
pub fn is_desktop_file(paths: &Paths, path: &Path) -> bool {
    path.parent() == Some(paths.under(APPLICATIONS_DIR).as_path())
}

/// Runs `update-desktop-database` on the desktop files' directory, as
/// snapd does after it changed them, when the program is found in `PATH`
/// (nothing to do otherwise: no desktop reads the cache). Returns whether
/// it ran.
pub fn update_database(paths: &Paths) -> Result<bool, String> {
    update_database_in(paths, std::env::var_os("PATH"))
}

/// [`update_database`], the program looked up in `search` (a `PATH`).
fn update_database_in(paths: &Paths, search: Option<std::ffi::OsString>) -> Result<bool, String> {
    let found = search.and_then(|p| std::env::split_paths(&p).map(|d| d.join(UPDATE_DATABASE)).find(|f| f.is_file()));
    let Some(program) = found else { return Ok(false) };
    let dir = paths.under(APPLICATIONS_DIR);
    let out = std::process::Command::new(&program)
        .arg(&dir)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stderr);
        let said = said.trim();
        return Err(format!("cannot {UPDATE_DATABASE} {}: {}{}{said}", dir.display(), out.status, if said.is_empty() { "" } else { ": " }));
    }
    Ok(true)
}

/// Removes what [`installed`] finds, and the directories left empty up to
/// `/var/lib/snapd/desktop`. Returns whether a desktop file was removed.
pub fn remove(paths: &Paths, instance: &str, yaml: &SnapYaml) -> Result<bool, Error> {
    let top = paths.under("/var/lib/snapd/desktop");
    let mut desktop_files = false;
    for path in installed(paths, instance, yaml) {
        desktop_files |= is_desktop_file(paths, &path);
        super::remove_if_present(&path)?;
        let mut dir = path.parent();
        while let Some(d) = dir.filter(|d| d.starts_with(&top) && *d != top) {
            if fs::remove_dir(d).is_err() {
                break;
            }
            dir = d.parent();
        }
    }
    Ok(desktop_files)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use crate::snapyaml;

    fn yaml() -> SnapYaml {
        snapyaml::parse(
            "name: editor\nversion: '1'\napps:\n  editor:\n    command: bin/ed\n    completer: share/ed.bash\n  \
             viewer:\n    command: bin/view\n  sync:\n    command: bin/sync\n    daemon: simple\n    completer: c.sh\n",
        )
        .unwrap()
    }

    #[test]
    fn keeps_snapds_keys_and_rewrites_exec_and_icons() {
        let raw = "# comment\n[Desktop Entry]\nName=Editor\nName[fr]=Éditeur\nName[xx-bad]=no\nTryExec=/usr/bin/ed\n\
                   X-Custom=1\nExec=editor %F\nIcon=${SNAP}/meta/gui/icon.png\nComment=at ${SNAP}\n\
                   [Desktop Action view]\nExec=editor.viewer --view\nIcon=snap.editor.view\n\
                   [Other Group]\nExec=editor.sync\n";
        let out = sanitize(&yaml(), "editor", "editor.desktop", raw.as_bytes()).unwrap();
        assert_eq!(
            out,
            "# comment\n[Desktop Entry]\nX-SnapInstanceName=editor\nName=Editor\nName[fr]=Éditeur\n\
             X-SnapAppName=editor\nExec=/snap/bin/editor %F\nIcon=/snap/editor/current/meta/gui/icon.png\n\
             Comment=at /snap/editor/current\n[Desktop Action view]\nX-SnapAppName=viewer\n\
             Exec=/snap/bin/editor.viewer --view\nIcon=snap.editor.view\nX-SnapAppName=sync\nExec=/usr/bin/false\n"
        );
        // A parallel instance: the files name the snap's commands.
        let out = sanitize(&yaml(), "editor_b", "editor.desktop", b"[Desktop Entry]\nExec=editor.viewer\nIcon=snap.editor.x\n").unwrap();
        assert!(out.contains("\nExec=/snap/bin/editor_b.viewer\n") && out.contains("\nIcon=snap.editor_b.x\n"), "{out}");
        assert!(out.contains("X-SnapInstanceName=editor_b\n"));
    }

    #[test]
    fn drops_icons_outside_the_snap() {
        for icon in ["/etc/icon.png", "${SNAP}/../x.png", "${SNAP}/a/./b.png", "snap.other.icon"] {
            let out = sanitize(&yaml(), "editor", "editor.desktop", format!("[Desktop Entry]\nIcon={icon}\n").as_bytes()).unwrap();
            assert!(!out.contains("Icon="), "{icon}: {out}");
        }
        let out = sanitize(&yaml(), "editor", "editor.desktop", b"[Desktop Entry]\nIcon=text-editor\n").unwrap();
        assert!(out.contains("Icon=text-editor\n"));
    }

    #[test]
    fn an_unknown_exec_falls_back_on_the_file_name_or_fails() {
        let out = sanitize(&yaml(), "editor", "viewer.desktop", b"[Desktop Entry]\nExec=/usr/bin/evil\n").unwrap();
        assert!(out.contains("Exec=/snap/bin/editor.viewer\n"), "{out}");
        let e = sanitize(&yaml(), "editor", "other.desktop", b"[Desktop Entry]\nExec=/usr/bin/evil\n").unwrap_err();
        assert_eq!(e, "line 2: Exec=/usr/bin/evil starts none of the snap's apps");
        assert_eq!(sanitize(&yaml(), "editor", "a.desktop", b"Name=x\n").unwrap_err(), "it does not start with a [Desktop Entry] group");
        assert_eq!(sanitize(&yaml(), "editor", "a.desktop", b"[Desktop Entry]\n\xff\n").unwrap_err(), "it is not UTF-8 text");
        // A prefix of a command is not the command.
        assert!(sanitize(&yaml(), "editor", "x.desktop", b"[Desktop Entry]\nExec=editorx\n").is_err());
    }

    #[test]
    fn locales() {
        for ok in ["[fr]", "[fr_FR]", "[sr_RS@latin]", "[en_US.UTF-8]"] {
            assert!(is_locale(ok), "{ok}");
        }
        for bad in ["[]", "[FR]", "[fr_fr]", "fr", "[fr;x]"] {
            assert!(!is_locale(bad), "{bad}");
        }
    }

    fn snap_dir(files: &[(&str, &[u8])]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (p, c) in files {
            let path = dir.path().join(p);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, c).unwrap();
        }
        dir
    }

    #[test]
    fn plans_writes_and_removes() {
        let snap = snap_dir(&[
            ("meta/gui/editor.desktop", b"[Desktop Entry]\nExec=editor\n"),
            ("meta/gui/icons/hicolor/64x64/apps/snap.editor.editor.png", b"png"),
            ("meta/gui/icons/hicolor/64x64/apps/other.png", b"not named for the snap"),
            ("meta/gui/icons/snap.editor.dir/snap.editor.x.png", b"in a snap.* directory"),
            ("meta/gui/icons/snap.editor.y.txt", b"neither png nor svg"),
        ]);
        std::os::unix::fs::symlink("/etc/shadow", snap.path().join("meta/gui/icons/snap.editor.link.png")).unwrap();
        let root = tempfile::tempdir().unwrap();
        let paths = Paths::new(root.path());
        let items = plan(&paths, snap.path(), "editor", &yaml()).unwrap();
        let names: Vec<String> =
            items.iter().map(|i| i.path().strip_prefix(root.path()).unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(
            names,
            [
                "var/lib/snapd/desktop/applications/editor_editor.desktop",
                "var/lib/snapd/desktop/icons/hicolor/64x64/apps/snap.editor.editor.png",
                "var/lib/snapd/desktop/bash-completion/completions/editor",
            ]
        );
        for item in &items {
            fs::create_dir_all(item.path().parent().unwrap()).unwrap();
            match item {
                Item::File { path, content } => fs::write(path, content).unwrap(),
                Item::Link { path, target } => std::os::unix::fs::symlink(target, path).unwrap(),
            }
        }
        // Another snap's files stay.
        fs::write(paths.under(APPLICATIONS_DIR).join("editor_x.desktop"), "[Desktop Entry]\nX-SnapInstanceName=editor_x\n").unwrap();
        let found = installed(&paths, "editor", &yaml());
        assert_eq!(found.len(), 3, "{found:?}");
        remove(&paths, "editor", &yaml()).unwrap();
        assert!(installed(&paths, "editor", &yaml()).is_empty());
        assert!(!paths.under(ICONS_DIR).exists(), "empty directories go");
        assert!(paths.under(APPLICATIONS_DIR).join("editor_x.desktop").exists());
    }

    #[test]
    fn a_broken_desktop_file_or_a_linked_one_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let paths = Paths::new(root.path());
        let snap = snap_dir(&[("meta/gui/editor.desktop", b"Name=no group\n")]);
        let e = plan(&paths, snap.path(), "editor", &yaml()).unwrap_err();
        assert_eq!(e.0, "cannot use meta/gui/editor.desktop of snap editor: it does not start with a [Desktop Entry] group");
        let snap = snap_dir(&[]);
        fs::create_dir_all(snap.path().join("meta/gui")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", snap.path().join("meta/gui/editor.desktop")).unwrap();
        let e = plan(&paths, snap.path(), "editor", &yaml()).unwrap_err();
        assert_eq!(e.0, "cannot use meta/gui/editor.desktop of snap editor: it is not a regular file");
        assert!(fs::read_dir(root.path()).unwrap().next().is_none(), "nothing is written");
    }

    #[test]
    fn the_desktop_database_is_updated_when_the_program_is_there() {
        let root = tempfile::tempdir().unwrap();
        let paths = Paths::new(root.path());
        let bin = tempfile::tempdir().unwrap();
        let search = || Some(std::ffi::OsString::from(format!("/nonexistent:{}", bin.path().display())));
        // Not installed: nothing to do.
        assert_eq!(update_database_in(&paths, search()), Ok(false));
        let program = bin.path().join(UPDATE_DATABASE);
        let seen = bin.path().join("seen");
        fs::write(&program, format!("#!/bin/sh\necho \"$@\" >{}\n", seen.display())).unwrap();
        fs::set_permissions(&program, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        assert_eq!(update_database_in(&paths, search()), Ok(true));
        let dir = paths.under(APPLICATIONS_DIR);
        assert_eq!(fs::read_to_string(&seen).unwrap(), format!("{}\n", dir.display()));
        fs::write(&program, "#!/bin/sh\necho 'broken cache' >&2; exit 3\n").unwrap();
        assert_eq!(
            update_database_in(&paths, search()),
            Err(format!("cannot update-desktop-database {}: exit status: 3: broken cache", dir.display()))
        );
    }
}
