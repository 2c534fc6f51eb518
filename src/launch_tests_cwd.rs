//! The working directory the app starts in: the caller's, looked up again
//! by its path as the caller, or the void directory.

use super::*;

#[test]
fn working_directory_falls_back_to_the_void() {
    let sys = system(&filtered());
    sys.fail("fchdir", Errno::EACCES);
    // The first fchdir (the caller's directory) fails, and so does the void:
    // the launch stops.
    let err = classic(&sys).unwrap_err().to_string();
    assert!(err.contains("move to /var/lib/snapd/void"), "{err}");
    let fchdirs = sys.calls().iter().filter(|c| c.starts_with("fchdir(")).count();
    assert_eq!(fchdirs, 2);
}

/// A classic system where the caller was in /home/u/work.
fn classic_in_work_dir() -> FakeSys {
    let sys = system(&filtered());
    sys.dir("/home/u/work", 0o755);
    sys.proc_links.borrow_mut().insert("4242/cwd".into(), "/home/u/work".into());
    sys
}

fn fchdirs(sys: &FakeSys) -> Vec<String> {
    sys.calls().into_iter().filter(|c| c.starts_with("fchdir(")).collect()
}

#[test]
fn classic_launch_enters_the_working_directory_by_its_path() {
    let sys = classic_in_work_dir();
    assert_eq!(classic(&sys).unwrap_err().to_string(), EXEC_RECORDED);
    assert_eq!(fchdirs(&sys), ["fchdir(/home/u/work)"]);
}

/// The path is looked up again as the caller, as snap-confine's chdir by
/// path: a caller who cannot search a directory on the way (a tree under a
/// directory only root may enter) starts in the void, not where the
/// launcher's saved descriptor would have led.
#[test]
fn classic_launch_starts_in_the_void_where_the_caller_cannot_reach_the_directory() {
    for errno in [Errno::EACCES, Errno::EPERM, Errno::ENOENT] {
        let sys = classic_in_work_dir();
        sys.fail("open_in_root(home/u/work)", errno);
        assert_eq!(classic(&sys).unwrap_err().to_string(), EXEC_RECORDED, "{errno}");
        assert_eq!(fchdirs(&sys), [format!("fchdir({VOID_DIR})")], "{errno}");
    }
    // The directory is found but may not be entered.
    let sys = classic_in_work_dir();
    sys.fail("fchdir(/home/u/work)", Errno::EACCES);
    assert_eq!(classic(&sys).unwrap_err().to_string(), EXEC_RECORDED);
    assert_eq!(fchdirs(&sys), ["fchdir(/home/u/work)".to_string(), format!("fchdir({VOID_DIR})")]);
}

#[test]
fn classic_launch_stops_on_an_unexpected_lookup_failure() {
    let sys = classic_in_work_dir();
    sys.fail("open_in_root(home/u/work)", Errno::EIO);
    let err = classic(&sys).unwrap_err().to_string();
    assert!(err.starts_with("cannot find the working directory /home/u/work: "), "{err}");
    assert!(fchdirs(&sys).is_empty() && !sys.calls().iter().any(|c| c.starts_with("execve")));
}

/// Where the path of the working directory is unknown, a classic launch
/// (same root) goes back through the saved descriptor; a launch into a new
/// root cannot, and starts in the void.
#[test]
fn working_directory_without_a_known_path() {
    let sys = system(&filtered());
    assert_eq!(classic(&sys).unwrap_err().to_string(), EXEC_RECORDED);
    assert_eq!(fchdirs(&sys), ["fchdir(/)"], "the saved descriptor (the fake's cwd is its root)");
    let sys = strict_system();
    sys.proc_links.borrow_mut().remove("4242/cwd");
    assert_eq!(strict(&sys).unwrap_err().to_string(), EXEC_RECORDED);
    assert_eq!(fchdirs(&sys), [format!("fchdir({VOID_DIR})")]);
}
