#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use super::*;

fn args(v: &[&str]) -> Vec<OsString> {
    v.iter().map(OsString::from).collect()
}

/// A snap under `root`; the temporary homes of the tests are allowed as homedirs.
fn installed_snap(root: &Path, yaml: &str) {
    std::fs::create_dir_all(root.join("var/lib/snapd")).unwrap();
    std::fs::write(root.join("var/lib/snapd/system-params"), format!("homedirs={}\n", std::env::temp_dir().display())).unwrap();
    let dir = root.join("snap/hello/x3/meta");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("snap.yaml"), yaml).unwrap();
    std::os::unix::fs::symlink("x3", root.join("snap/hello/current")).unwrap();
}

fn launch(root: &Path, caller: &[(String, String)], argv: &[&str]) -> Result<Launch, Error> {
    let req = parse_args(args(argv)).unwrap();
    let r = resolve(&req, root, None)?;
    prepare(&req, &r, root, caller)
}

#[test]
fn launches_strict_and_classic_apps() {
    let root = tempfile::tempdir().unwrap();
    installed_snap(
        root.path(),
        "name: hello\nversion: '1'\nbase: debian12\napps:\n  hello:\n    command: bin/hello\n  tool:\n    command: bin/tool\n  d:\n    command: bin/d\n    daemon: simple\n",
    );
    let home = tempfile::tempdir().unwrap();
    let caller = vec![("HOME".to_string(), home.path().to_string_lossy().into_owned())];
    let l = launch(root.path(), &caller, &["snap-run", "hello", "x"]).unwrap();
    assert_eq!(l.argv, args(&[LAUNCHER, "--base", "debian12", "snap.hello.hello", EXEC_SANDBOX, "hello.hello", "x"]));
    assert!(home.path().join("snap/hello/x3").is_dir());
    assert!(home.path().join("snap/hello/common").is_dir());
    assert_eq!(std::fs::read_link(home.path().join("snap/hello/current")).unwrap(), Path::new("x3"));
    let l = launch(root.path(), &caller, &["snap-run", "hello.tool"]).unwrap();
    assert_eq!(l.argv[3], "snap.hello.tool");
    let l = launch(root.path(), &caller, &["snap-run", "--command=complete", "hello.tool", "9", "1"]).unwrap();
    assert_eq!(l.argv[4..], args(&[EXEC_SANDBOX, "--command=complete", "hello.tool", "9", "1"]));
    let req = parse_args(args(&["snap-run", "hello.d"])).unwrap();
    assert!(resolve(&req, root.path(), None).unwrap().is_service());
    assert!(!resolve(&parse_args(args(&["snap-run", "hello"])).unwrap(), root.path(), None).unwrap().is_service());
    assert_eq!(launch(root.path(), &caller, &["snap-run", "hello.nope"]).unwrap_err().0, "cannot run hello.nope: snap hello has no app \"nope\"");
    assert_eq!(launch(root.path(), &caller, &["snap-run", "absent"]).unwrap_err().0, "cannot find snap \"absent\": it is not installed");
    assert_eq!(
        launch(root.path(), &caller, &["snap-run", "--hook=install", "hello"]).unwrap_err().0,
        "cannot run hook \"install\" of hello: the snap has no such hook"
    );
    let root = tempfile::tempdir().unwrap();
    installed_snap(root.path(), "name: hello\nversion: '1'\nconfinement: classic\napps:\n  hello:\n    command: bin/hello\n");
    let l = launch(root.path(), &caller, &["snap-run", "hello"]).unwrap();
    assert_eq!(l.argv, args(&[LAUNCHER, "--classic", "snap.hello.hello", EXEC_HOST, "hello.hello"]));
}

#[test]
fn a_home_outside_home_needs_homedirs() {
    let root = tempfile::tempdir().unwrap();
    installed_snap(root.path(), "name: hello\nversion: '1'\napps:\n  hello:\n    command: bin/hello\n");
    std::fs::remove_file(root.path().join("var/lib/snapd/system-params")).unwrap();
    // A temporary directory is outside /home: refused for a strict snap,
    // before anything is made.
    let home = tempfile::tempdir().unwrap();
    let caller = vec![("HOME".to_string(), home.path().to_string_lossy().into_owned())];
    let e = launch(root.path(), &caller, &["snap-run", "hello"]).unwrap_err().0;
    assert!(e.starts_with(&format!("cannot run hello: the home directory {} is outside /home", home.path().display())), "{e}");
    assert!(!home.path().join("snap").exists());
    let parent = home.path().parent().unwrap().to_str().unwrap();
    std::fs::write(root.path().join("var/lib/snapd/system-params"), format!("homedirs={parent}\n")).unwrap();
    launch(root.path(), &caller, &["snap-run", "hello"]).unwrap();
    assert!(home.path().join("snap/hello/x3").is_dir());
}

/// Two commands of a snap started at once after a refresh both point
/// `~/snap/<snap>/current` at the new revision: neither fails, and no
/// temporary link is left behind.
#[test]
fn commands_started_at_once_after_a_refresh_all_update_the_current_link() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path().to_string_lossy().into_owned();
    let current = home.path().join("snap/hello/current");
    for round in 0..200 {
        make_user_dirs(&h, "hello", "x1").unwrap();
        assert_eq!(std::fs::read_link(&current).unwrap(), Path::new("x1"));
        let results: Vec<Result<(), Error>> = std::thread::scope(|s| {
            let runs: Vec<_> = (0..4).map(|_| s.spawn(|| make_user_dirs(&h, "hello", "x2"))).collect();
            runs.into_iter().map(|r| r.join().unwrap()).collect()
        });
        for r in results {
            assert!(r.is_ok(), "round {round}: {:?}", r.err().map(|e| e.0));
        }
        assert_eq!(std::fs::read_link(&current).unwrap(), Path::new("x2"));
    }
    let mut left: Vec<String> = std::fs::read_dir(home.path().join("snap/hello")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    left.sort();
    assert_eq!(left, ["common", "current", "x1", "x2"]);
}
