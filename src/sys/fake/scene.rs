//! Building the fake system for a test (files, directories, devices,
//! file system types, ids) and reading back what the code under test did
//! (calls, effects, injected failures).

use super::*;

impl Default for FakeSys {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeSys {
    /// Gives the fake root directory `mode`: a temporary directory is made
    /// 0700, and tests of walks want a root like the real one (0755).
    pub fn set_root_mode(&self, mode: u32) {
        set_mode(self.root.path(), mode);
    }

    pub fn new() -> Self {
        let sys = FakeSys {
            root: tempfile::tempdir().unwrap(),
            calls: RefCell::new(Vec::new()),
            failures: RefCell::new(Vec::new()),
            ids: Cell::new(setuid_ids()),
            at_secure: true,
            exe: crate::config::LAUNCHER_PATH.to_string(),
            lsm_current: "unconfined".into(),
            trusted: None,
            landlock_abi: 7,
            proc_files: RefCell::new(std::collections::HashMap::new()),
            proc_links: RefCell::new(std::collections::HashMap::new()),
            proc_roots: RefCell::new(std::collections::HashMap::new()),
            proc_file_reads: RefCell::new(Vec::new()),
            ns_info: None,
            ns_ids: RefCell::new(Vec::new()),
            initial_caps: CapState { effective: !0 >> 23, permitted: !0 >> 23, inheritable: 0 },
            fs_types: RefCell::new(std::collections::HashMap::new()),
            device_nodes: RefCell::new(std::collections::HashMap::new()),
            joined_pts_dev: Cell::new(None),
            joined: Cell::new(false),
            read_only: RefCell::new(Vec::new()),
            tmpfs_mounts: RefCell::new(Vec::new()),
            bpf: RefCell::new(FakeBpf::default()),
            mounted_at: RefCell::new(Vec::new()),
            memlock: Cell::new((8 << 20, 8 << 20)),
            supplementary: RefCell::new(Vec::new()),
            tool_exit: Cell::new(ToolExit::Code(0)),
            walked: crate::fs::Walked::default(),
            lookups: RefCell::new(Vec::new()),
            linux: crate::sys::linux::LinuxSys::new(),
        };
        // The installed launcher, as the local group policy looks for it.
        sys.file(crate::config::LAUNCHER_PATH, b"", 0o755);
        sys
    }

    /// Makes every later call whose trace starts with `prefix` fail with `errno`.
    pub fn fail(&self, prefix: &str, errno: Errno) {
        self.failures.borrow_mut().push((prefix.to_string(), errno));
    }

    /// The calls made so far.
    pub fn calls(&self) -> Vec<String> {
        self.calls.borrow().clone()
    }

    /// The calls that do more than read: what a reviewer of the order cares about.
    pub fn effects(&self) -> Vec<String> {
        let reads = ["openat(", "read_lsm_attr", "readlink_proc", "lstat_proc", "readlinkat("];
        self.calls().into_iter().filter(|c| !reads.iter().any(|r| c.starts_with(r))).collect()
    }

    /// The failure injected for `call`, if any.
    pub(super) fn injected(&self, call: &str) -> Option<Errno> {
        self.failures.borrow().iter().find(|(p, _)| call.starts_with(p.as_str())).map(|(_, e)| *e)
    }

    pub(super) fn record(&self, call: String) -> std::result::Result<(), Errno> {
        let failure = self.injected(&call);
        self.calls.borrow_mut().push(call);
        match failure {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    pub(super) fn rec(&self, call: String) -> Result<()> {
        self.record(call.clone()).map_err(|e| Error::errno(format!("{call} (injected)"), e))
    }

    /// Creates a file under the fake root (parents included).
    pub fn file(&self, path: &str, content: &[u8], mode: u32) {
        self.walked.forget();
        let p = self.root.path().join(path.trim_start_matches('/'));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, content).unwrap();
        set_mode(&p, mode);
    }

    /// Creates a directory under the fake root (parents included).
    pub fn dir(&self, path: &str, mode: u32) {
        self.walked.forget();
        let p = self.root.path().join(path.trim_start_matches('/'));
        std::fs::create_dir_all(&p).unwrap();
        set_mode(&p, mode);
    }

    /// The real path of `path` under the fake root.
    pub fn path(&self, path: &str) -> std::path::PathBuf {
        self.root.path().join(path.trim_start_matches('/'))
    }

    /// The path under the fake root that an open descriptor refers to.
    pub fn fd_path(&self, fd: BorrowedFd<'_>) -> String {
        let real = std::fs::read_link(format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&fd))).unwrap();
        let rel = real.strip_prefix(self.root.path()).map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
        format!("/{rel}")
    }

    /// Creates `path` as a stand-in for a character device `major:minor`.
    pub fn char_device(&self, path: &str, major: u64, minor: u64) {
        self.walked.forget();
        self.file(path, b"", 0o666);
        self.device_nodes.borrow_mut().insert(path.to_string(), (libc::S_IFCHR, nix::sys::stat::makedev(major, minor)));
    }

    /// Reports filesystem type `magic` for `path` (under the fake root).
    pub fn set_fs_type(&self, path: &str, magic: i64) {
        self.walked.forget();
        self.fs_types.borrow_mut().insert(path.to_string(), magic);
    }

    /// Whether `path` is on a read-only file system: the nearest of the
    /// read-only paths and the tmpfs mounts above it decides.
    pub fn is_read_only(&self, path: &str) -> bool {
        let under = |p: &str| p == "/" || path == p || path.starts_with(&format!("{p}/"));
        let ro = self.read_only.borrow().iter().filter(|p| under(p)).map(|p| p.len()).max();
        let rw = self.tmpfs_mounts.borrow().iter().filter(|p| under(p)).map(|p| p.len()).max();
        ro.is_some_and(|r| rw.is_none_or(|w| w < r))
    }

    pub(super) fn child_path(&self, dir: BorrowedFd<'_>, name: &OsStr) -> String {
        let d = self.fd_path(dir);
        format!("{}/{}", d.trim_end_matches('/'), name.to_string_lossy())
    }

    /// Pins a new map at `path` holding `keys`, as an earlier launch would have.
    pub fn pin_map(&self, path: &str, keys: &[Vec<u8>]) {
        let mut bpf = self.bpf.borrow_mut();
        bpf.maps.push(keys.iter().cloned().collect());
        let index = bpf.maps.len() - 1;
        bpf.pinned.insert(path.to_string(), index);
    }

    /// The keys of the map pinned at `path`.
    pub fn map_keys(&self, path: &str) -> Vec<Vec<u8>> {
        let bpf = self.bpf.borrow();
        bpf.pinned.get(path).map(|i| bpf.maps[*i].iter().cloned().collect()).unwrap_or_default()
    }

    pub(super) fn bpf_handle(&self, object: FakeBpfObject) -> Result<OwnedFd> {
        let fd = self.root()?;
        self.bpf.borrow_mut().fds.insert(std::os::fd::AsRawFd::as_raw_fd(&fd), object);
        Ok(fd)
    }

    pub(super) fn bpf_map_of(&self, fd: BorrowedFd<'_>) -> usize {
        match self.bpf.borrow().fds.get(&std::os::fd::AsRawFd::as_raw_fd(&fd)) {
            Some(FakeBpfObject::Map(i)) => *i,
            other => panic!("not a map descriptor: {other:?}"),
        }
    }
}

fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}
