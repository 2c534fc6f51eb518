//! Runs the installed launcher the way users do: setuid root, started by an
//! unprivileged user (`nobody`), against real namespaces and seccomp.
//!
//! Every run happens in its own private mount namespace where
//! `/var/lib/snapd` is a fresh tmpfs holding only the policy the test wrote,
//! so tests neither see nor change the host's state, and can run in
//! parallel.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Where `make install` put the launcher and its tools.
pub fn libexec() -> PathBuf {
    PathBuf::from(std::env::var("CONFINE_LIBEXECDIR").unwrap_or_else(|_| "/usr/lib/confine".into()))
}

pub fn launcher() -> PathBuf {
    libexec().join("snap-confine")
}

pub fn probe() -> PathBuf {
    libexec().join("confine-probe")
}

/// These tests need root (to build the private mount namespace) and the
/// installed setuid launcher. Missing either is a failure, never a skip.
pub fn require_installed() {
    assert!(nix::unistd::geteuid().is_root(), "the host integration tests must run as root");
    let meta = std::fs::metadata(launcher())
        .unwrap_or_else(|e| panic!("{} is missing ({e}): run `make install` first", launcher().display()));
    assert!(
        meta.uid() == 0 && meta.permissions().mode() & 0o4000 != 0,
        "{} is not setuid root: run `make install`",
        launcher().display()
    );
}

pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

/// Compiles a `.src` policy with the installed compiler.
pub fn compile(src: &Path, out: &Path, format: &str) {
    let st = Command::new(libexec().join("confine-seccomp"))
        .arg("compile")
        .arg(format!("--format={format}"))
        .arg(src)
        .arg(out)
        .status()
        .expect("run confine-seccomp");
    assert!(st.success(), "cannot compile {}", src.display());
}

/// Compiles a `.src` policy with Debian's snap-seccomp (raw `.bin`).
pub fn compile_with_debian(src: &Path, out: &Path) {
    let tool = "/usr/lib/snapd/snap-seccomp";
    assert!(Path::new(tool).exists(), "{tool} is missing: apt-get install snapd");
    let st = Command::new(tool).arg("compile").arg(src).arg(out).status().expect("run snap-seccomp");
    assert!(st.success(), "snap-seccomp cannot compile {}", src.display());
}

pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// One launch scene.
pub struct Scene {
    pub dir: tempfile::TempDir,
    setup: Vec<String>,
    env: Vec<(String, String)>,
    user: Option<u32>,
    strict: bool,
}

/// Serialises strict scenes across the threads of a test binary and across
/// test binaries.
struct StrictLock {
    // Field order matters: the file lock is released before the mutex.
    _file: nix::fcntl::Flock<std::fs::File>,
    _guard: std::sync::MutexGuard<'static, ()>,
}

static STRICT: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl StrictLock {
    fn take() -> StrictLock {
        let guard = STRICT.lock().unwrap_or_else(|e| e.into_inner());
        let file = std::fs::File::create(Path::new(env!("CARGO_TARGET_TMPDIR")).join("strict-scenes.lock")).unwrap();
        let file = nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive)
            .unwrap_or_else(|_| panic!("cannot lock the strict scenes"));
        StrictLock { _file: file, _guard: guard }
    }
}

/// The freezer cgroups of snaps on the host right now.
fn freezer_groups() -> Vec<PathBuf> {
    let Ok(dir) = std::fs::read_dir("/sys/fs/cgroup/freezer") else { return Vec::new() };
    dir.flatten().map(|e| e.path()).filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("snap."))).collect()
}

impl Scene {
    pub fn new() -> Scene {
        require_installed();
        // Not under /tmp: strict scenes put a tmpfs over /tmp.
        let dir = tempfile::Builder::new().prefix("confine-scene.").tempdir_in("/var/tmp").unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        Scene {
            dir,
            setup: Vec::new(),
            env: vec![
                ("SNAP_INSTANCE_NAME".into(), "demo".into()),
                ("SNAP_CONFINE_MAX_PROFILE_WAIT".into(), "1".into()),
                ("PATH".into(), "/usr/bin:/bin".into()),
            ],
            user: Some(65534),
            strict: false,
        }
    }

    /// A scene for strict launches: a PID namespace of its own (so PID 1 can
    /// be inspected), and fresh tmpfs over /snap, /run/snapd and /tmp with
    /// the packaging-made /tmp/snap-private-tmp. Bases come from [`Scene::base`].
    pub fn strict(mut self) -> Scene {
        self.strict = true;
        let bases = self.dir.path().join("bases");
        std::fs::create_dir(&bases).unwrap();
        let q = sh_quote(bases.to_str().unwrap());
        self.setup.splice(
            0..0,
            [
                "mount -t tmpfs -o mode=0755 scene-snap /snap".to_string(),
                "mkdir -p /run/snapd && mount -t tmpfs -o mode=0755 scene-run /run/snapd".to_string(),
                "mount -t tmpfs -o mode=1777 scene-tmp /tmp".to_string(),
                "install -d -m 0700 /tmp/snap-private-tmp".to_string(),
                format!("mount -t tmpfs -o mode=0755 scene-bases {q}"),
            ],
        );
        self
    }

    /// Adds base snap `name` revision `rev` (and points `current` at it): the
    /// host's root filesystem with `/usr/share/confine/base-marker` holding
    /// `name/rev`, so an app can tell the base's /usr from the host's.
    pub fn base(mut self, name: &str, rev: u32) -> Scene {
        let layer = self.dir.path().join("bases").join(format!("{name}-{rev}"));
        let l = layer.to_str().unwrap();
        self.setup.push(format!(
            "mkdir -p {l}/upper/usr/share/confine {l}/work /snap/{name}/{rev} && echo {name}/{rev} > {l}/upper/usr/share/confine/base-marker && \
             mount -t overlay -o lowerdir=/,upperdir={l}/upper,workdir={l}/work base-{name}-{rev} /snap/{name}/{rev} && \
             ln -sfn {rev} /snap/{name}/current"
        ));
        self
    }

    /// Installs the policy compiled from `tests/data/<src>` for `tag`.
    pub fn policy(mut self, tag: &str, src: &str) -> Scene {
        let out = self.dir.path().join(format!("{tag}.bin2"));
        compile(&data(src), &out, "bin2");
        self.setup.push(format!("install -m 0644 {} /var/lib/snapd/seccomp/bpf/", sh_quote(out.to_str().unwrap())));
        self
    }

    /// Installs a raw `.bin` policy compiled by `compiler` ("ours" or "debian").
    pub fn legacy_policy(mut self, tag: &str, src: &str, compiler: &str) -> Scene {
        let out = self.dir.path().join(format!("{tag}.bin"));
        match compiler {
            "debian" => compile_with_debian(&data(src), &out),
            _ => compile(&data(src), &out, "bin"),
        }
        self.setup.push(format!("install -m 0644 {} /var/lib/snapd/seccomp/bpf/", sh_quote(out.to_str().unwrap())));
        self
    }

    /// A shell line run as root inside the scene before the launch.
    pub fn root(mut self, line: &str) -> Scene {
        self.setup.push(line.to_string());
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Scene {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn without_env(mut self, key: &str) -> Scene {
        self.env.retain(|(k, _)| k != key);
        self
    }

    pub fn run_by_root(mut self) -> Scene {
        self.user = None;
        self
    }

    /// Runs `command` (a shell snippet, as the user, with the scene's
    /// environment only) in the scene. `$L` is the launcher, `$P` the probe.
    pub fn run(&self, command: &str) -> Run {
        // Only 0, 1 and 2 go in: whatever the test runner inherited stays out.
        let mut script = String::from(
            "set -eu\nfor fd in /proc/$$/fd/*; do fd=${fd##*/}; if [ \"$fd\" -gt 2 ]; then eval \"exec $fd>&-\"; fi; done\n",
        );
        script.push_str("mount -t tmpfs -o mode=0755 scene-snapd /var/lib/snapd\n");
        script.push_str("install -d -m 0755 /var/lib/snapd/seccomp /var/lib/snapd/seccomp/bpf /var/lib/snapd/cookie\n");
        script.push_str("install -d -m 0111 /var/lib/snapd/void\n");
        for line in &self.setup {
            script.push_str(line);
            script.push('\n');
        }
        let mut env = vec!["env".to_string(), "-i".to_string()];
        env.extend(self.env.iter().map(|(k, v)| sh_quote(&format!("{k}={v}"))));
        env.push(format!("L={}", sh_quote(launcher().to_str().unwrap())));
        env.push(format!("P={}", sh_quote(probe().to_str().unwrap())));
        let who = match self.user {
            Some(uid) => format!("setpriv --reuid={uid} --regid={uid} --clear-groups -- "),
            None => String::new(),
        };
        script.push_str(&format!("exec {who}{} /bin/bash -c {}\n", env.join(" "), sh_quote(command)));
        let path = self.dir.path().join("scene.sh");
        std::fs::write(&path, script).unwrap();
        // Strict scenes run one at a time: the freezer cgroups they create
        // are the host's, shared by name, and each scene removes its own.
        let _serial = if self.strict { Some(StrictLock::take()) } else { None };
        let before = freezer_groups();
        let mut cmd = Command::new("unshare");
        if self.strict {
            cmd.args(["--pid", "--fork", "--mount-proc"]);
        }
        let out = cmd
            .args(["--mount", "--propagation", "private", "--", "/bin/bash"])
            .arg(&path)
            .current_dir("/")
            .output()
            .expect("run unshare");
        // Leave the host's cgroups as they were: the scene's processes are
        // gone with its PID namespace, so the groups it made are empty.
        for group in freezer_groups().into_iter().filter(|g| !before.contains(g)) {
            for _ in 0..100 {
                if std::fs::remove_dir(&group).is_ok() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
        Run::from(out)
    }
}

/// What a launch printed and how it ended.
#[derive(Debug)]
pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            status: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    /// The value of `key=` in the probe's output.
    pub fn get(&self, key: &str) -> &str {
        let prefix = format!("{key}=");
        self.stdout
            .lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .unwrap_or_else(|| panic!("no {key}= in the output:\n{self:#?}"))
    }

    pub fn ok(&self) -> &Run {
        assert_eq!(self.status, 0, "the launch failed:\n{self:#?}");
        self
    }

    pub fn failed_with(&self, message: &str) -> &Run {
        assert_eq!(self.status, 1, "expected exit status 1:\n{self:#?}");
        assert!(self.stderr.contains(message), "expected {message:?} in stderr:\n{self:#?}");
        self
    }
}
