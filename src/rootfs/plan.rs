//! The mount plan: from what is being launched and what the base snap
//! holds, the ordered list of operations that turns an empty scratch
//! directory into the snap's root filesystem. Pure: nothing here touches the
//! system, so the plan is tested as data. [`super::apply`] carries it out.
//!
//! The list of host directories follows snap-confine: the base bound at the
//! root (see [`Root`]), the host directories bound over it (recursive
//! binds made slaves, so mounts on the host reach the snap but not the
//! other way round, except the two bidirectional ones), the
//! launcher's directory at `/usr/lib/snapd`, `/snap`, a few files of `/etc`
//! taken back from the base, and the old root moved to
//! `/var/lib/snapd/hostfs` by `pivot_root`. snap-confine makes each bind a
//! slave on its own; here everything copied from the host is bound first
//! and made slaves at once, by one recursive slave of the new root, before
//! anything is mounted below it (one system call instead of about twenty;
//! the same propagation in the end). The bidirectional ones come after it.
//!
//! Home directories outside `/home` (snapd's `homedirs`) are bound from the
//! host after the host directories. Their mount points are made in a tmpfs
//! root: each directory of the base on the way to one (`/srv` for
//! `/srv/home`) is rebuilt there entry by entry, as the root itself is,
//! instead of being bound whole from the (read-only) base.

use std::fmt;

/// Mount propagation changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    Shared,
    Slave,
    Private,
    Unbindable,
}

/// One operation of the plan. Paths are absolute, as seen before
/// `pivot_root` (or after it, for the steps that follow it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `mount --make-[r]<kind> target`
    Propagate { target: String, kind: Propagation, recursive: bool },
    /// `mount --[r]bind source target`; an optional bind whose source does
    /// not exist is skipped.
    Bind { source: String, target: String, recursive: bool, optional: bool },
    /// `mount -t tmpfs -o data tmpfs target`; `nosuid`, `nodev` and
    /// `noexec` in `data` are mount flags, the rest tmpfs options.
    Tmpfs { target: String, data: String },
    /// `mount -o remount,bind,ro,nosuid,nodev[,noexec] target`
    RemountReadOnly { target: String, noexec: bool },
    /// `mount --[r]bind source target`, the source opened without
    /// following any symlink (a host directory checked to be root's).
    BindFd { source: String, target: String, recursive: bool },
    /// Creates a directory (root-owned) with exactly `mode`.
    Mkdir { path: String, mode: u32 },
    /// Creates a symlink `path` pointing at `target` (root-owned).
    Symlink { path: String, target: String },
    /// Creates an empty regular file (root-owned, 0644), a mount point for a file.
    File { path: String },
    /// A tmpfs filled with directories, symlinks and small files, then
    /// made read-only: a GPU library farm, done from one descriptor of its
    /// mount point.
    Farm(FarmStep),
    /// Sets the mode of an existing directory.
    Chmod { path: String, mode: u32 },
    /// Creates a host directory 0755 root:root if it is missing (for the
    /// bidirectional mounts).
    EnsureHostDir { path: String },
    /// Creates `/var/lib/snapd/hostfs` if missing; it must be root-owned.
    EnsureHostfs { path: String },
    /// `pivot_root new_root put_old`
    PivotRoot { new_root: String, put_old: String },
    /// `umount [--lazy] target`
    Umount { target: String, lazy: bool },
    /// `rmdir path`
    Rmdir { path: String },
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Propagate { target, kind, recursive } => {
                let r = if *recursive { "r" } else { "" };
                let k = match kind {
                    Propagation::Shared => "shared",
                    Propagation::Slave => "slave",
                    Propagation::Private => "private",
                    Propagation::Unbindable => "unbindable",
                };
                write!(f, "mount --make-{r}{k} {target}")
            }
            Step::Bind { source, target, recursive, .. } => {
                write!(f, "mount --{}bind {source} {target}", if *recursive { "r" } else { "" })
            }
            Step::Tmpfs { target, data } => write!(f, "mount -t tmpfs -o {data} tmpfs {target}"),
            Step::RemountReadOnly { target, noexec } => {
                write!(f, "mount -o remount,bind,ro,nosuid,nodev{} {target}", if *noexec { ",noexec" } else { "" })
            }
            Step::BindFd { source, target, recursive } => {
                write!(f, "mount --{}bind {source} {target}", if *recursive { "r" } else { "" })
            }
            Step::Mkdir { path, mode } => write!(f, "mkdir -m {mode:04o} {path}"),
            Step::Symlink { path, target } => write!(f, "ln -s {target} {path}"),
            Step::Farm(farm) => write!(f, "{farm}"),
            Step::File { path } => write!(f, "touch {path}"),
            Step::Chmod { path, mode } => write!(f, "chmod {mode:04o} {path}"),
            Step::EnsureHostDir { path } => write!(f, "mkdir -p -m 0755 {path}"),
            Step::EnsureHostfs { path } => write!(f, "mkdir -p -m 0755 {path}"),
            Step::PivotRoot { new_root, put_old } => write!(f, "pivot_root {new_root} {put_old}"),
            Step::Umount { target, lazy } => write!(f, "umount {}{target}", if *lazy { "--lazy " } else { "" }),
            Step::Rmdir { path } => write!(f, "rmdir {path}"),
        }
    }
}

/// One symlink of a [`FarmStep`]: `name` (relative to the farm, at most
/// one subdirectory down) pointing at `target`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub name: String,
    pub target: String,
}

/// A regular file of a [`FarmStep`] (root-owned, 0644): `name` relative to
/// the farm, holding `content`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FarmFile {
    pub name: String,
    pub content: String,
}

/// [`Step::Farm`]: `mount -t tmpfs -o data tmpfs target`, the directories
/// `subdirs` (0755), the `links` and the `files` in it, then
/// `mount -o remount,bind,ro,nosuid,nodev,noexec target`. The mount point is
/// opened once: its parent is resolved as every step's path is, the tmpfs
/// root is opened from there after the mount, and everything is made
/// relative to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FarmStep {
    pub target: String,
    pub data: String,
    pub subdirs: Vec<String>,
    pub links: Vec<Link>,
    pub files: Vec<FarmFile>,
}

impl fmt::Display for FarmStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dir = &self.target;
        writeln!(f, "mount -t tmpfs -o {} tmpfs {dir}", self.data)?;
        for sub in &self.subdirs {
            writeln!(f, "mkdir -m 0755 {dir}/{sub}")?;
        }
        for l in &self.links {
            writeln!(f, "ln -s {} {dir}/{}", l.target, l.name)?;
        }
        for file in &self.files {
            writeln!(f, "printf %s {:?} > {dir}/{}", file.content, file.name)?;
        }
        write!(f, "mount -o remount,bind,ro,nosuid,nodev,noexec {dir}")
    }
}

/// How a host directory is bound into the snap's root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HostKind {
    /// Recursive bind, then slave: host mounts propagate into the snap.
    Normal,
    /// Like `Normal`, but a missing source is skipped.
    Optional,
    /// Recursive bind that stays shared both ways; the host side is created.
    Bidirectional,
}

/// The host directories of a strict snap, in snap-confine's order.
const HOST_MOUNTS: &[(&str, HostKind)] = &[
    ("/dev", HostKind::Normal),
    ("/etc", HostKind::Normal),
    ("/home", HostKind::Normal),
    ("/root", HostKind::Normal),
    ("/proc", HostKind::Normal),
    ("/sys", HostKind::Normal),
    ("/tmp", HostKind::Normal),
    ("/var/snap", HostKind::Normal),
    ("/var/lib/snapd", HostKind::Normal),
    ("/var/tmp", HostKind::Normal),
    ("/run", HostKind::Normal),
    ("/lib/modules", HostKind::Optional),
    ("/lib/firmware", HostKind::Optional),
    ("/usr/src", HostKind::Normal),
    ("/var/log", HostKind::Normal),
    ("/media", HostKind::Bidirectional),
    ("/run/netns", HostKind::Bidirectional),
    ("/mnt", HostKind::Optional),
    ("/var/lib/extrausers", HostKind::Optional),
];

/// Files and directories of `/etc` that come from the base rather than the
/// host, when both exist with the same type.
pub const ETC_FROM_BASE: &[&str] = &["/etc/alternatives", "/etc/nsswitch.conf", "/etc/apparmor", "/etc/apparmor.d", "/etc/ssl"];

/// Where the old root ends up after `pivot_root`.
pub const HOSTFS: &str = "/var/lib/snapd/hostfs";

/// What the root of the snap's namespace is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    /// The base itself, bound whole (recursively), as snap-confine 2.57.6
    /// does: one mount, and a root nobody can write (a squashfs). The base
    /// has every mount point the plan needs (a base without one fails the
    /// same way in either kind of root).
    Base,
    /// A tmpfs holding each top-level entry of the base, bound from it one
    /// by one, as snap-confine does since 2.59: there the mount points of
    /// home directories outside `/home`, which the base lacks, can be made.
    Tmpfs,
}

impl Root {
    /// The base itself unless home directories must be bound outside
    /// `/home` (snapd's `homedirs`).
    pub fn for_homedirs(homedirs: &[String]) -> Root {
        if homedirs.is_empty() {
            Root::Base
        } else {
            Root::Tmpfs
        }
    }
}

/// One top-level entry of the base snap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaseEntry {
    Dir(String),
    Symlink(String, String),
    File(String),
}

/// Everything the plan depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanInput {
    /// The base's root, e.g. `/snap/core/current`.
    pub base_dir: String,
    /// What the root is.
    pub root: Root,
    /// The base's top-level entries (used for a tmpfs root only).
    pub base_entries: Vec<BaseEntry>,
    /// The scratch directory that becomes `/`.
    pub scratch: String,
    /// The directory holding the launcher, bound at `/usr/lib/snapd`.
    pub launcher_dir: String,
    /// The `/etc` entries (from [`ETC_FROM_BASE`]) to take from the base.
    pub etc_from_base: Vec<String>,
    /// The snap mount directory (`/snap`).
    pub snap_mount_dir: String,
    /// The GPU driver's mounts ([`crate::gpu::steps`]), made last before
    /// `pivot_root`, with paths inside the scratch directory.
    pub driver: Vec<Step>,
    /// The home directories to bind from the host (absolute, canonical,
    /// none within another or within a host directory: see
    /// [`super::homedirs`]).
    pub homedirs: Vec<String>,
    /// The base's directories on the way to them, with their entries (every
    /// one that is in the base; none is a symlink or a file there).
    pub base_dirs: Vec<BaseDir>,
}

/// A directory of the base on the way to a home directory, and its entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseDir {
    /// Its path in the base, e.g. `/srv`.
    pub path: String,
    pub entries: Vec<BaseEntry>,
}

/// True when top-level `name` of the base is covered by a host directory.
fn host_mounted_top_level(name: &str) -> bool {
    HOST_MOUNTS.iter().any(|(p, _)| p.strip_prefix('/') == Some(name))
}

/// The host directories bound into every strict snap's root.
pub fn host_mount_paths() -> impl Iterator<Item = &'static str> {
    HOST_MOUNTS.iter().map(|(p, _)| *p)
}

/// Whether `path` is `dir` or below it (both absolute and canonical).
pub fn is_within(path: &str, dir: &str) -> bool {
    path == dir || dir == "/" || path.strip_prefix(dir).is_some_and(|rest| rest.starts_with('/'))
}

/// Copies the base's entries of directory `dir` (`""` for the root) into
/// the scratch directory: a directory is made and bound from the base, or,
/// when a home directory lies below it, rebuilt from its listing in the
/// same way; a home directory itself only gets its mount point. `made`
/// collects the directories made.
fn replicate(input: &PlanInput, dir: &str, entries: &[BaseEntry], made: &mut Vec<String>, steps: &mut Vec<Step>) {
    let inside = |p: &str| format!("{}{p}", input.scratch);
    let is_top = dir.is_empty();
    for entry in entries {
        match entry {
            BaseEntry::Dir(name) => {
                let path = format!("{dir}/{name}");
                steps.push(Step::Mkdir { path: inside(&path), mode: 0o755 });
                made.push(path.clone());
                let on_the_way = input.homedirs.iter().any(|h| h != &path && is_within(h, &path));
                if on_the_way {
                    // (Not listed: rebuilt empty rather than bound whole.)
                    let listing = input.base_dirs.iter().find(|d| d.path == path).map_or(&[][..], |d| &d.entries[..]);
                    replicate(input, &path, listing, made, steps);
                    continue;
                }
                // Host directories, home directories and /snap are mounted
                // over it below.
                let mounted_over = is_top && (host_mounted_top_level(name) || name == input.snap_mount_dir.trim_start_matches('/'));
                if !mounted_over && !input.homedirs.contains(&path) {
                    steps.push(Step::Bind {
                        source: format!("{}{path}", input.base_dir),
                        target: inside(&path),
                        recursive: true,
                        optional: false,
                    });
                }
            }
            BaseEntry::Symlink(name, target) => {
                steps.push(Step::Symlink { path: inside(&format!("{dir}/{name}")), target: target.clone() });
            }
            BaseEntry::File(name) => {
                let path = format!("{dir}/{name}");
                steps.push(Step::File { path: inside(&path) });
                steps.push(Step::Bind {
                    source: format!("{}{path}", input.base_dir),
                    target: inside(&path),
                    recursive: false,
                    optional: false,
                });
            }
        }
    }
}

/// The steps that build the root filesystem in `input.scratch` and move
/// into it. The caller runs them inside a fresh mount namespace.
pub fn plan(input: &PlanInput) -> Vec<Step> {
    let s = input.scratch.as_str();
    let inside = |p: &str| format!("{s}{p}");
    let mut steps = vec![
        // Mounts made below must not leak to the host, but events from the
        // host must reach us: everything shared first, then slaves.
        Step::Propagate { target: "/".into(), kind: Propagation::Shared, recursive: true },
        // A bind of the scratch onto itself, unbindable, so later recursive
        // binds cannot copy it into itself.
        Step::Bind { source: s.into(), target: s.into(), recursive: false, optional: false },
        Step::Propagate { target: s.into(), kind: Propagation::Unbindable, recursive: false },
    ];
    match input.root {
        Root::Base => {
            steps.push(Step::Bind { source: input.base_dir.clone(), target: s.into(), recursive: true, optional: false });
        }
        Root::Tmpfs => {
            steps.push(Step::Tmpfs { target: s.into(), data: "uid=0,gid=0".into() });
            steps.push(Step::Chmod { path: s.into(), mode: 0o755 });
            let mut made = Vec::new();
            replicate(input, "", &input.base_entries, &mut made, &mut steps);
            // The rest of each home directory's mount point, where the base
            // has nothing: in the tmpfs root or a directory rebuilt in it.
            for home in &input.homedirs {
                let mut path = String::new();
                for part in home.split('/').filter(|p| !p.is_empty()) {
                    path.push('/');
                    path.push_str(part);
                    if !made.contains(&path) {
                        steps.push(Step::Mkdir { path: inside(&path), mode: 0o755 });
                        made.push(path.clone());
                    }
                }
            }
        }
    }
    // The base's bind(s) are slaves before anything is mounted below them
    // (/lib/modules, /usr/src, /var/log): a mount below a shared one would
    // propagate to the base on the host.
    steps.push(Step::Propagate { target: s.into(), kind: Propagation::Slave, recursive: true });
    // Then what comes from the host, bound first and made slaves all at
    // once by a second recursive slave of the scratch root, before anything
    // is mounted below it (`/run/netns` lies in `/run`, the base's files in
    // `/etc`): the host directories (none within another), the home
    // directories outside /home, the launcher's directory and /snap.
    for (path, kind) in HOST_MOUNTS {
        let optional = match kind {
            HostKind::Normal => false,
            HostKind::Optional => true,
            HostKind::Bidirectional => continue,
        };
        steps.push(Step::Bind { source: (*path).into(), target: inside(path), recursive: true, optional });
    }
    for home in &input.homedirs {
        steps.push(Step::BindFd { source: home.clone(), target: inside(home), recursive: true });
    }
    // The launcher's directory, read-only and without setuid: inside the
    // sandbox it provides helpers, never a way back to privileges.
    let libexec = inside("/usr/lib/snapd");
    steps.push(Step::Bind { source: input.launcher_dir.clone(), target: libexec.clone(), recursive: false, optional: false });
    steps.push(Step::RemountReadOnly { target: libexec, noexec: false });
    steps.push(Step::Bind { source: input.snap_mount_dir.clone(), target: inside(&input.snap_mount_dir), recursive: true, optional: false });
    // Host mounts reach the snap, the snap's never the host.
    steps.push(Step::Propagate { target: s.into(), kind: Propagation::Slave, recursive: true });
    // The bidirectional ones stay shared with the host.
    for (path, kind) in HOST_MOUNTS {
        if *kind == HostKind::Bidirectional {
            steps.push(Step::EnsureHostDir { path: (*path).into() });
            steps.push(Step::Bind { source: (*path).into(), target: inside(path), recursive: true, optional: false });
        }
    }
    // The base's files in the host's /etc (none within another), made
    // slaves together.
    for path in &input.etc_from_base {
        steps.push(Step::Bind { source: format!("{}{path}", input.base_dir), target: inside(path), recursive: false, optional: false });
    }
    if !input.etc_from_base.is_empty() {
        steps.push(Step::Propagate { target: inside("/etc"), kind: Propagation::Slave, recursive: true });
    }
    // pivot_root needs put_old to be a private mount point under the new root.
    let hostfs = inside(HOSTFS);
    steps.push(Step::EnsureHostfs { path: HOSTFS.into() });
    steps.push(Step::Bind { source: hostfs.clone(), target: hostfs.clone(), recursive: false, optional: false });
    steps.push(Step::Propagate { target: hostfs.clone(), kind: Propagation::Private, recursive: false });
    steps.extend(input.driver.iter().cloned());
    steps.push(Step::PivotRoot { new_root: s.into(), put_old: hostfs });
    // Now "/" is the snap's root; the old root is at HOSTFS.
    steps.push(Step::Umount { target: format!("{HOSTFS}{s}"), lazy: false });
    steps.push(Step::Rmdir { path: format!("{HOSTFS}{s}") });
    steps.push(Step::Propagate { target: HOSTFS.into(), kind: Propagation::Slave, recursive: true });
    for p in ["/sys", "/dev", "/proc"] {
        steps.push(Step::Umount { target: format!("{HOSTFS}{p}"), lazy: true });
    }
    steps
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    fn input() -> PlanInput {
        PlanInput {
            base_dir: "/snap/core/current".into(),
            root: Root::Tmpfs,
            base_entries: vec![
                BaseEntry::Dir("bin".into()),
                BaseEntry::Dir("dev".into()),
                BaseEntry::Dir("etc".into()),
                BaseEntry::Symlink("lib64".into(), "usr/lib64".into()),
                BaseEntry::File("meta.txt".into()),
                BaseEntry::Dir("snap".into()),
                BaseEntry::Dir("usr".into()),
                BaseEntry::Dir("var".into()),
            ],
            scratch: "/tmp/snap-private-tmp/snap.rootfs_X".into(),
            launcher_dir: "/usr/lib/confine".into(),
            etc_from_base: vec!["/etc/nsswitch.conf".into()],
            snap_mount_dir: "/snap".into(),
            driver: vec![],
            homedirs: vec![],
            base_dirs: vec![],
        }
    }

    #[test]
    fn golden_plan() {
        let got: Vec<String> = plan(&input()).iter().map(|s| s.to_string()).collect();
        let s = "/tmp/snap-private-tmp/snap.rootfs_X";
        let mut want = vec![
            "mount --make-rshared /".to_string(),
            format!("mount --bind {s} {s}"),
            format!("mount --make-unbindable {s}"),
            format!("mount -t tmpfs -o uid=0,gid=0 tmpfs {s}"),
            format!("chmod 0755 {s}"),
            format!("mkdir -m 0755 {s}/bin"),
            format!("mount --rbind /snap/core/current/bin {s}/bin"),
            format!("mkdir -m 0755 {s}/dev"),
            format!("mkdir -m 0755 {s}/etc"),
            format!("ln -s usr/lib64 {s}/lib64"),
            format!("touch {s}/meta.txt"),
            format!("mount --bind /snap/core/current/meta.txt {s}/meta.txt"),
            format!("mkdir -m 0755 {s}/snap"),
            format!("mkdir -m 0755 {s}/usr"),
            format!("mount --rbind /snap/core/current/usr {s}/usr"),
            format!("mkdir -m 0755 {s}/var"),
            format!("mount --rbind /snap/core/current/var {s}/var"),
            format!("mount --make-rslave {s}"),
        ];
        for p in ["/dev", "/etc", "/home", "/root", "/proc", "/sys", "/tmp", "/var/snap", "/var/lib/snapd", "/var/tmp", "/run"] {
            want.push(format!("mount --rbind {p} {s}{p}"));
        }
        for p in ["/lib/modules", "/lib/firmware", "/usr/src", "/var/log", "/mnt", "/var/lib/extrausers"] {
            want.push(format!("mount --rbind {p} {s}{p}"));
        }
        want.extend([
            format!("mount --bind /usr/lib/confine {s}/usr/lib/snapd"),
            format!("mount -o remount,bind,ro,nosuid,nodev {s}/usr/lib/snapd"),
            format!("mount --rbind /snap {s}/snap"),
            // One slave for all of them, before /run/netns is bound in /run.
            format!("mount --make-rslave {s}"),
        ]);
        for p in ["/media", "/run/netns"] {
            want.push(format!("mkdir -p -m 0755 {p}"));
            want.push(format!("mount --rbind {p} {s}{p}"));
        }
        want.extend([
            format!("mount --bind /snap/core/current/etc/nsswitch.conf {s}/etc/nsswitch.conf"),
            format!("mount --make-rslave {s}/etc"),
            "mkdir -p -m 0755 /var/lib/snapd/hostfs".to_string(),
            format!("mount --bind {s}/var/lib/snapd/hostfs {s}/var/lib/snapd/hostfs"),
            format!("mount --make-private {s}/var/lib/snapd/hostfs"),
            format!("pivot_root {s} {s}/var/lib/snapd/hostfs"),
            format!("umount /var/lib/snapd/hostfs{s}"),
            format!("rmdir /var/lib/snapd/hostfs{s}"),
            "mount --make-rslave /var/lib/snapd/hostfs".to_string(),
            "umount --lazy /var/lib/snapd/hostfs/sys".to_string(),
            "umount --lazy /var/lib/snapd/hostfs/dev".to_string(),
            "umount --lazy /var/lib/snapd/hostfs/proc".to_string(),
        ]);
        assert_eq!(got, want);
    }

    #[test]
    fn the_base_is_bound_whole_unless_home_directories_need_a_tmpfs_root() {
        assert_eq!(Root::for_homedirs(&[]), Root::Base);
        assert_eq!(Root::for_homedirs(&["/srv/home".to_string()]), Root::Tmpfs);
        let s = "/tmp/snap-private-tmp/snap.rootfs_X";
        let lines = |root| -> Vec<String> { plan(&PlanInput { root, ..input() }).iter().map(|s| s.to_string()).collect() };
        let (whole, tmpfs) = (lines(Root::Base), lines(Root::Tmpfs));
        let slave = format!("mount --make-rslave {s}");
        let first_slave = |l: &[String]| l.iter().position(|x| *x == slave).unwrap();
        assert_eq!(
            whole[..=first_slave(&whole)],
            [
                "mount --make-rshared /".to_string(),
                format!("mount --bind {s} {s}"),
                format!("mount --make-unbindable {s}"),
                format!("mount --rbind /snap/core/current {s}"),
                slave.clone(),
            ]
        );
        // From there on, the same steps: the host's directories over the
        // base's own mount points.
        assert_eq!(whole[first_slave(&whole)..], tmpfs[first_slave(&tmpfs)..]);
    }

    /// Mounts copied from the host or the base are peers of the host's
    /// until made slaves: anything mounted at or below one of them then
    /// would appear on the host too.
    #[test]
    fn nothing_is_mounted_below_a_mount_still_shared_with_the_host() {
        let mut i = input();
        i.base_entries.push(BaseEntry::Dir("srv".into()));
        i.homedirs = vec!["/srv/home".into(), "/data/staff".into()];
        i.etc_from_base = ETC_FROM_BASE.iter().map(|p| p.to_string()).collect();
        let mut shared: Vec<String> = Vec::new();
        for step in plan(&i) {
            let target = match &step {
                Step::PivotRoot { .. } => break,
                Step::Bind { source, target, .. } if source == target => None,
                Step::Bind { target, .. } | Step::BindFd { target, .. } => Some((target.clone(), true)),
                Step::Tmpfs { target, .. } | Step::Farm(FarmStep { target, .. }) => Some((target.clone(), false)),
                Step::Propagate { target, kind: Propagation::Slave | Propagation::Private, recursive } => {
                    shared.retain(|m| !(m == target || (*recursive && is_within(m, target))));
                    None
                }
                _ => None,
            };
            if let Some((target, is_shared)) = target {
                let above: Vec<&String> = shared.iter().filter(|m| is_within(&target, m)).collect();
                assert!(above.is_empty(), "{step} while {above:?} is shared with the host");
                if is_shared {
                    shared.push(target);
                }
            }
        }
        // Only the bidirectional ones stay shared.
        let s = "/tmp/snap-private-tmp/snap.rootfs_X";
        assert_eq!(shared, [format!("{s}/media"), format!("{s}/run/netns")]);
    }

    #[test]
    fn optional_mounts_are_marked() {
        let optional: Vec<String> = plan(&input())
            .into_iter()
            .filter_map(|s| match s {
                Step::Bind { source, optional: true, .. } => Some(source),
                _ => None,
            })
            .collect();
        assert_eq!(optional, ["/lib/modules", "/lib/firmware", "/mnt", "/var/lib/extrausers"]);
    }

    /// The steps of `plan` that differ from those without home directories.
    fn added_by(homedirs: &[&str], base_dirs: Vec<BaseDir>) -> Vec<String> {
        let plain: Vec<String> = plan(&input()).iter().map(|s| s.to_string()).collect();
        let mut with = input();
        with.base_entries.push(BaseEntry::Dir("srv".into()));
        with.homedirs = homedirs.iter().map(|h| h.to_string()).collect();
        with.base_dirs = base_dirs;
        let mut plain_srv = input();
        plain_srv.base_entries.push(BaseEntry::Dir("srv".into()));
        let plain_srv: Vec<String> = plan(&plain_srv).iter().map(|s| s.to_string()).collect();
        assert_eq!(plain_srv.len(), plain.len() + 2);
        let got: Vec<String> = plan(&with).iter().map(|s| s.to_string()).collect();
        // Everything else is as before, in the same order.
        let kept: Vec<String> = plain_srv.iter().filter(|l| got.contains(l)).cloned().collect();
        let others: Vec<String> = plain_srv.iter().filter(|l| !l.contains("/srv")).cloned().collect();
        assert_eq!(kept.iter().filter(|l| !l.contains("/srv")).cloned().collect::<Vec<_>>(), others);
        got.into_iter().filter(|l| !plain_srv.contains(l)).collect()
    }

    #[test]
    fn a_home_directory_gets_a_mount_point_in_a_rebuilt_base_directory() {
        let s = "/tmp/snap-private-tmp/snap.rootfs_X";
        let srv = BaseDir {
            path: "/srv".into(),
            entries: vec![
                BaseEntry::Dir("www".into()),
                BaseEntry::Symlink("ftp".into(), "/var/ftp".into()),
                BaseEntry::File("README".into()),
                BaseEntry::Dir("home".into()),
            ],
        };
        let got = added_by(&["/srv/home"], vec![srv]);
        assert_eq!(
            got,
            [
                // /srv is no longer bound whole from the base: its entries are.
                format!("mkdir -m 0755 {s}/srv/www"),
                format!("mount --rbind /snap/core/current/srv/www {s}/srv/www"),
                format!("ln -s /var/ftp {s}/srv/ftp"),
                format!("touch {s}/srv/README"),
                format!("mount --bind /snap/core/current/srv/README {s}/srv/README"),
                format!("mkdir -m 0755 {s}/srv/home"),
                format!("mount --rbind /srv/home {s}/srv/home"),
            ]
        );
        let steps = plan(&{
            let mut i = input();
            i.base_entries.push(BaseEntry::Dir("srv".into()));
            i.homedirs = vec!["/srv/home".into()];
            i
        });
        assert!(!steps.iter().any(|s| matches!(s, Step::Bind { source, .. } if source == "/snap/core/current/srv")));
        // The host's directory is opened without following symlinks, and
        // bound after the host directories, before the base's /etc files.
        let at = |want: &dyn Fn(&Step) -> bool| steps.iter().position(want).unwrap();
        let home = at(&|s| matches!(s, Step::BindFd { source, recursive: true, .. } if source == "/srv/home"));
        let extrausers = at(&|s| matches!(s, Step::Bind { source, .. } if source == "/var/lib/extrausers"));
        let nsswitch = at(&|s| matches!(s, Step::Bind { source, .. } if source.ends_with("/etc/nsswitch.conf")));
        assert!(extrausers < home && home < nsswitch);
    }

    #[test]
    fn home_directories_where_the_base_has_nothing_are_made_in_the_tmpfs() {
        let s = "/tmp/snap-private-tmp/snap.rootfs_X";
        // /srv is in the base but empty; /data is not in the base at all.
        let got = added_by(&["/srv/home", "/data/users/staff"], vec![BaseDir { path: "/srv".into(), entries: vec![] }]);
        assert_eq!(
            got,
            [
                format!("mkdir -m 0755 {s}/srv/home"),
                format!("mkdir -m 0755 {s}/data"),
                format!("mkdir -m 0755 {s}/data/users"),
                format!("mkdir -m 0755 {s}/data/users/staff"),
                format!("mount --rbind /srv/home {s}/srv/home"),
                format!("mount --rbind /data/users/staff {s}/data/users/staff"),
            ]
        );
    }

    #[test]
    fn a_home_directory_the_base_has_is_only_a_mount_point() {
        let s = "/tmp/snap-private-tmp/snap.rootfs_X";
        let got = added_by(&["/srv"], vec![]);
        assert_eq!(got, [format!("mount --rbind /srv {s}/srv")]);
        let mut i = input();
        i.base_entries.push(BaseEntry::Dir("srv".into()));
        i.homedirs = vec!["/srv".into()];
        let lines: Vec<String> = plan(&i).iter().map(|s| s.to_string()).collect();
        assert!(!lines.contains(&format!("mount --rbind /snap/core/current/srv {s}/srv")));
        assert_eq!(lines.iter().filter(|l| **l == format!("mkdir -m 0755 {s}/srv")).count(), 1);
    }

    #[test]
    fn within() {
        assert!(is_within("/srv/home", "/srv"));
        assert!(is_within("/srv", "/srv"));
        assert!(is_within("/srv", "/"));
        assert!(!is_within("/srvx", "/srv"));
        assert!(!is_within("/srv", "/srv/home"));
    }

    #[test]
    fn host_directories_are_never_taken_from_the_base() {
        for name in ["dev", "etc", "home", "root", "proc", "sys", "tmp", "run", "media", "mnt"] {
            assert!(host_mounted_top_level(name), "{name}");
        }
        for name in ["usr", "var", "lib", "bin", "snap"] {
            assert!(!host_mounted_top_level(name), "{name}");
        }
    }
}
