//! The scene the denial tests share: fixture paths and a scratch root
//! with Firefox's profile file and snap htop registered. Included by the
//! `denials_*` test files with `#[path]`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::fs;
use std::path::{Path, PathBuf};

use confine_tools::paths::Paths;
use confine_tools::state::{self, Connection, SnapState, State};

/// A fixture under `tests/fixtures/denials/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/denials")
        .join(name)
}

pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            fs::copy(e.path(), target).unwrap();
        }
    }
}

/// A root with Firefox's profile file, and snap htop registered:
/// process-control connected, system-observe not, mount-observe
/// disconnected by the admin, network connected automatically.
pub fn scratch_root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture("root"), dir.path());
    let paths = Paths::new(dir.path());
    let yaml = fs::read_to_string(fixture("snaps/htop/meta/snap.yaml")).unwrap();
    state::update(&paths, |s: &mut State| -> Result<(), state::Error> {
        s.snaps.insert(
            "htop".into(),
            SnapState {
                revision: "x1".into(),
                snap_dir: "/snap/htop/x1".into(),
                snap_yaml: yaml.clone(),
                implicit_hooks: Vec::new(),
            },
        );
        for (plug, auto) in [("process-control", false), ("network", true)] {
            s.connections.insert(
                state::plug_ref("htop", plug),
                Connection {
                    interface: plug.into(),
                    slot: format!("system:{plug}"),
                    auto,
                },
            );
        }
        s.undesired.insert("htop:mount-observe".into());
        Ok(())
    })
    .unwrap();
    dir
}
