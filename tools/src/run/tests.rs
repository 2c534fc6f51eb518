#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use super::*;

fn args(v: &[&str]) -> Vec<OsString> {
    v.iter().map(OsString::from).collect()
}

#[test]
fn command_lines() {
    let r = parse_args(args(&["/usr/bin/snap-run", "--shell", "hello.app", "-x", "--y"])).unwrap();
    assert_eq!(r, Request { command: Some("shell".into()), hook: None, target: "hello.app".into(), args: args(&["-x", "--y"]) });
    let r = parse_args(args(&["snap-run", "--hook=configure", "hello"])).unwrap();
    assert_eq!(r.hook.as_deref(), Some("configure"));
    // Through a wrapper the link's name is the target, and every argument is the app's.
    let r = parse_args(args(&["/snap/bin/hello.app", "--shell"])).unwrap();
    assert_eq!(r, Request { command: None, hook: None, target: "hello.app".into(), args: args(&["--shell"]) });
    assert!(parse_args(args(&["snap-run"])).unwrap_err().0.starts_with("cannot parse arguments: no snap given"));
    assert!(parse_args(args(&["snap-run", "--bogus", "x"])).unwrap_err().0.starts_with("cannot parse arguments: unknown option --bogus"));
}

fn installed_snap(root: &Path, yaml: &str) {
    let dir = root.join("snap/hello/x3/meta");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("snap.yaml"), yaml).unwrap();
    std::os::unix::fs::symlink("x3", root.join("snap/hello/current")).unwrap();
}

#[test]
fn launches_strict_and_classic_apps() {
    let root = tempfile::tempdir().unwrap();
    installed_snap(
        root.path(),
        "name: hello\nversion: '1'\nbase: debian12\napps:\n  hello:\n    command: bin/hello\n  tool:\n    command: bin/tool\n",
    );
    let home = tempfile::tempdir().unwrap();
    let caller = vec![("HOME".to_string(), home.path().to_string_lossy().into_owned())];
    let l = prepare(&parse_args(args(&["snap-run", "hello", "x"])).unwrap(), root.path(), &caller).unwrap();
    assert_eq!(
        l.argv,
        args(&[LAUNCHER, "--base", "debian12", "snap.hello.hello", EXEC_SANDBOX, "hello.hello", "x"])
    );
    assert!(home.path().join("snap/hello/x3").is_dir());
    assert!(home.path().join("snap/hello/common").is_dir());
    assert_eq!(std::fs::read_link(home.path().join("snap/hello/current")).unwrap(), Path::new("x3"));
    let l = prepare(&parse_args(args(&["snap-run", "hello.tool"])).unwrap(), root.path(), &caller).unwrap();
    assert_eq!(l.argv[3], "snap.hello.tool");
    assert_eq!(
        prepare(&parse_args(args(&["snap-run", "hello.nope"])).unwrap(), root.path(), &caller).unwrap_err().0,
        "cannot run hello.nope: snap hello has no app \"nope\""
    );
    assert_eq!(
        prepare(&parse_args(args(&["snap-run", "absent"])).unwrap(), root.path(), &caller).unwrap_err().0,
        "cannot find snap \"absent\": it is not installed"
    );
    let root = tempfile::tempdir().unwrap();
    installed_snap(root.path(), "name: hello\nversion: '1'\nconfinement: classic\napps:\n  hello:\n    command: bin/hello\n");
    let l = prepare(&parse_args(args(&["snap-run", "hello"])).unwrap(), root.path(), &caller).unwrap();
    assert_eq!(l.argv, args(&[LAUNCHER, "--classic", "snap.hello.hello", EXEC_HOST, "hello.hello"]));
}
