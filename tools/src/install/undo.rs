//! The undo log of an install: what each completed step changed, so a
//! failure can put everything back, newest first. The log is also written
//! to a journal file as it grows: an install killed half-way (SIGKILL, a
//! power cut) is rolled back by the next `confine` command that changes
//! anything, or by `confine recover`.

use super::systemd;
use crate::admin::Admin;
use crate::paths::Paths;
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

#[derive(Debug, Serialize, Deserialize)]
pub(super) enum Undo {
    RemoveFile(PathBuf),
    RestoreFile(PathBuf, Vec<u8>),
    /// A symbolic link to put back (path, target).
    RestoreLink(PathBuf, PathBuf),
    RemoveDir(PathBuf),
    Unmount(PathBuf),
    StopUnit(String),
    DisableUnit(String),
    /// Registers the previous revision again (dir, revision), or forgets
    /// the snap when there was none.
    Reregister(String, Option<(PathBuf, String)>),
    /// Points `current` back (or removes it).
    SetCurrent(String, Option<String>),
}

#[derive(Debug)]
pub(super) struct UndoLog {
    steps: Vec<Undo>,
    journal: PathBuf,
}

/// The journal of the change in progress.
pub fn journal_path(paths: &Paths) -> PathBuf {
    paths.state_dir().join("install-journal.json")
}

impl UndoLog {
    pub fn new(paths: &Paths) -> Self {
        UndoLog { steps: Vec::new(), journal: journal_path(paths) }
    }

    /// Records a step, in memory and in the journal (written whole, synced,
    /// then renamed into place).
    pub fn push(&mut self, u: Undo) {
        self.steps.push(u);
        let _ = self.write_journal();
    }

    fn write_journal(&self) -> std::io::Result<()> {
        if let Some(dir) = self.journal.parent() {
            fs::create_dir_all(dir)?;
        }
        let tmp = self.journal.with_extension("new");
        let mut f = fs::File::create(&tmp)?;
        f.write_all(&serde_json::to_vec(&self.steps).unwrap_or_default())?;
        f.sync_all()?;
        fs::rename(&tmp, &self.journal)
    }

    /// Everything succeeded: nothing is undone.
    pub fn commit(&mut self) {
        self.steps.clear();
        let _ = fs::remove_file(&self.journal);
    }

    /// The log of an interrupted change, if its journal exists.
    pub fn recover(paths: &Paths) -> Option<UndoLog> {
        let journal = journal_path(paths);
        // A journal being written when the change was killed.
        let _ = fs::remove_file(journal.with_extension("new"));
        let steps: Vec<Undo> = serde_json::from_slice(&fs::read(&journal).ok()?).unwrap_or_default();
        Some(UndoLog { steps, journal })
    }

    /// Undoes every step, newest first; returns what could not be undone.
    pub fn undo(&mut self, admin: &Admin) -> Vec<String> {
        let mut problems = Vec::new();
        let mut note = |what: String| problems.push(what);
        while let Some(step) = self.steps.pop() {
            match step {
                Undo::RemoveFile(p) => {
                    if let Err(e) = fs::remove_file(&p) {
                        if e.kind() != std::io::ErrorKind::NotFound {
                            note(format!("cannot remove {}: {e}", p.display()));
                        }
                    }
                }
                Undo::RestoreFile(p, bytes) => {
                    if let Err(e) = fs::write(&p, bytes) {
                        note(format!("cannot restore {}: {e}", p.display()));
                    }
                }
                Undo::RestoreLink(p, target) => {
                    let _ = fs::remove_file(&p);
                    if let Err(e) = std::os::unix::fs::symlink(&target, &p) {
                        note(format!("cannot restore {}: {e}", p.display()));
                    }
                }
                Undo::RemoveDir(p) => {
                    let _ = fs::remove_dir_all(&p);
                }
                Undo::Unmount(p) => {
                    // The mount may not have happened.
                    if super::is_mount_point(&p) {
                        let ok = Command::new("umount").arg("-l").arg(&p).status().is_ok_and(|s| s.success());
                        if !ok {
                            note(format!("cannot unmount {}", p.display()));
                        }
                    }
                }
                // Units that were never started or enabled: nothing to do.
                Undo::StopUnit(u) => {
                    let _ = systemd::systemctl(&["stop", &u]);
                }
                Undo::DisableUnit(u) => {
                    let _ = systemd::systemctl(&["disable", &u]);
                }
                Undo::Reregister(instance, previous) => {
                    let registered = crate::state::read(&admin.paths).map(|s| s.snaps.contains_key(&instance)).unwrap_or(true);
                    let r = match previous {
                        Some((dir, rev)) => admin.register(&dir, &rev, Some(&instance)).map(|_| ()),
                        None if registered => admin.unregister(&instance).map(|_| ()),
                        // Killed while its policy was being written, before
                        // the state recorded it.
                        None => admin.remove_everything_of(&instance).map(|_| ()),
                    };
                    if let Err(e) = r {
                        note(e.to_string());
                    }
                }
                Undo::SetCurrent(instance, previous) => {
                    let r = match previous {
                        Some(rev) => super::set_current(&admin.paths, &instance, &rev),
                        None => super::remove_if_present(&admin.paths.snap_mount_dir().join(&instance).join("current")),
                    };
                    if let Err(e) = r {
                        note(e.to_string());
                    }
                }
            }
        }
        if problems.is_empty() {
            let _ = fs::remove_file(&self.journal);
        }
        problems
    }
}
