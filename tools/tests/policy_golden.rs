//! Golden tests: the profiles, Landlock policies, seccomp sources, udev rules and device
//! cgroup files generated for the snaps under
//! `tests/fixtures/policy/<case>/`, after the connections listed in each
//! case's `connect` file, must equal the files in `<case>/expected/`.
//!
//! After an intended change, regenerate them with
//! `CONFINE_UPDATE_GOLDEN=1 cargo test -p confine-tools --test policy_golden`
//! and review the diff.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "support/policy.rs"]
mod policy_support;

use std::collections::BTreeMap;
use std::fs;

use confine_tools::deploy::Mode;
use policy_support::{fixture_path, policy_files, scratch_admin, set_up_case, POLICY_CASES};

fn expected(case: &str) -> BTreeMap<String, String> {
    let dir = fixture_path("policy").join(case).join("expected");
    let mut out = BTreeMap::new();
    for kind in ["apparmor", "seccomp", "udev", "cgroup", "landlock"] {
        let Ok(entries) = fs::read_dir(dir.join(kind)) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            out.insert(format!("{kind}/{name}"), fs::read_to_string(e.path()).unwrap());
        }
    }
    out
}

fn update(case: &str, files: &BTreeMap<String, String>) {
    let dir = fixture_path("policy").join(case).join("expected");
    let _ = fs::remove_dir_all(&dir);
    for (name, text) in files {
        let path = dir.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
}

#[test]
fn generated_policy_matches_the_golden_files() {
    let updating = std::env::var_os("CONFINE_UPDATE_GOLDEN").is_some();
    let mut failures = Vec::new();
    for case in POLICY_CASES {
        let root = tempfile::tempdir().unwrap();
        let admin = scratch_admin(root.path(), Mode::Skip);
        set_up_case(&admin, case);
        let got = policy_files(&admin.paths);
        if updating {
            update(case, &got);
            continue;
        }
        let want = expected(case);
        assert!(
            !want.is_empty(),
            "{case}: no golden files; run with CONFINE_UPDATE_GOLDEN=1"
        );
        let names = |m: &BTreeMap<String, String>| m.keys().cloned().collect::<Vec<_>>();
        if names(&got) != names(&want) {
            failures.push(format!(
                "{case}: files differ: got {:?}, expected {:?}",
                names(&got),
                names(&want)
            ));
            continue;
        }
        for (name, text) in &got {
            if want[name] != *text {
                let first = text
                    .lines()
                    .zip(want[name].lines())
                    .position(|(a, b)| a != b)
                    .map(|i| i + 1)
                    .unwrap_or_else(|| text.lines().count().min(want[name].lines().count()) + 1);
                failures.push(format!("{case}: {name} differs from line {first}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n(regenerate with CONFINE_UPDATE_GOLDEN=1 after checking the change)",
        failures.join("\n")
    );
}
