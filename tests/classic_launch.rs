//! The installed setuid launcher, started by `nobody`, running apps with
//! classic confinement: identity, capabilities, seccomp, descriptors,
//! environment, working directory, and the refusals.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod support;
use support::{sh_quote, Scene};

const NO_CAPS: &str = "0000000000000000";

fn scene() -> Scene {
    Scene::new().policy("snap.demo.app", "probe.src")
}

#[test]
fn app_runs_as_the_caller_with_no_capabilities_under_its_filter() {
    let r = scene().run("$L --classic snap.demo.app $P report");
    r.ok();
    assert_eq!(r.get("uid"), "65534,65534,65534");
    assert_eq!(r.get("gid"), "65534,65534,65534");
    for key in ["capinh", "capprm", "capeff", "capamb"] {
        assert_eq!(r.get(key), NO_CAPS, "{key}");
    }
    assert_eq!(r.get("seccomp"), "2");
    assert_eq!(r.get("seccomp_filters"), "2", "deny and allow programs");
    assert_eq!(r.get("nonewprivs"), "0", "the launcher does not set no_new_privs");
}

#[test]
fn seccomp_verdicts_follow_the_policy() {
    let r = scene().run(
        "$L --classic snap.demo.app $P try getppid socket_unix unshare0 socket_inet chroot mknod_fifo tiocsti tiocsti_high",
    );
    r.ok();
    // Allowed, denied by default (EPERM), explicitly denied (EACCES).
    for (call, want) in [
        ("getppid", "ok"),
        ("socket_unix", "ok"),
        ("unshare0", "EPERM"),
        ("socket_inet", "EPERM"),
        ("chroot", "EPERM"),
        ("mknod_fifo", "EPERM"),
        ("tiocsti", "EACCES"),
        ("tiocsti_high", "EACCES"),
    ] {
        assert_eq!(r.get(call), want, "{call}");
    }
}

#[test]
fn the_same_calls_without_a_filter_behave_normally() {
    let r = Scene::new().policy("snap.demo.app", "unrestricted.src").run(
        "$L --classic snap.demo.app $P try unshare0 tiocsti socket_inet; $L --classic snap.demo.app $P report",
    );
    r.ok();
    assert_eq!(r.get("unshare0"), "ok");
    assert_eq!(r.get("tiocsti"), "ENOTTY");
    assert_eq!(r.get("socket_inet"), "ok");
    assert_eq!(r.get("seccomp"), "0", "unrestricted loads no filter");
}

/// A `.bin` compiled by Debian's own snap-seccomp gives the same verdicts
/// under our launcher and under Debian's snap-confine.
#[test]
fn debian_compiled_legacy_policy_behaves_identically_under_both_launchers() {
    let calls = "getppid socket_unix unshare0 socket_inet chroot tiocsti tiocsti_high";
    let r = Scene::new().legacy_policy("snap.demo.app", "probe-legacy.src", "debian").run(&format!(
        "echo ours; $L --classic snap.demo.app $P try {calls}; \
         echo debian; /usr/lib/snapd/snap-confine --classic snap.demo.app $P try {calls}"
    ));
    r.ok();
    let (ours, debian) = r.stdout.split_once("debian\n").unwrap();
    let ours: Vec<&str> = ours.lines().filter(|l| *l != "ours").collect();
    let debian: Vec<&str> = debian.lines().collect();
    assert_eq!(ours, debian, "verdicts differ:\n{r:#?}");
    assert!(ours.contains(&"unshare0=EPERM") && ours.contains(&"tiocsti=EPERM") && ours.contains(&"getppid=ok"), "{r:#?}");
}

#[test]
fn a_legacy_policy_of_ours_is_loaded_when_no_bin2_exists() {
    let r = Scene::new()
        .legacy_policy("snap.demo.app", "probe-legacy.src", "ours")
        .run("$L --classic snap.demo.app $P try unshare0 getppid tiocsti; $L --classic snap.demo.app $P report");
    r.ok();
    assert_eq!(r.get("unshare0"), "EPERM");
    assert_eq!(r.get("tiocsti"), "EPERM");
    assert_eq!(r.get("getppid"), "ok");
    assert_eq!(r.get("seccomp_filters"), "1", "a .bin holds one program");
}

#[test]
fn no_launcher_descriptor_reaches_the_app() {
    let r = scene().run("exec 5</dev/null 7>/dev/null; $L --classic snap.demo.app $P report");
    r.ok();
    let fds: Vec<&str> = r.get("fds").split(' ').map(|f| f.split(':').next().unwrap()).collect();
    assert_eq!(fds, ["0", "1", "2", "5", "7"], "{r:#?}");
}

#[test]
fn closed_standard_descriptors_are_reopened() {
    // glibc's secure start-up already reopens a closed 0 (on /dev/full) in
    // a setuid program; the launcher makes sure of it again either way.
    let r = scene().run("$L --classic snap.demo.app $P report 0<&-");
    r.ok();
    let fd0 = r.get("fds").split(' ').next().unwrap();
    assert!(fd0 == "0:/dev/null" || fd0 == "0:/dev/full", "{r:#?}");
}

#[test]
fn loader_variables_never_reach_the_privileged_launcher_or_the_app() {
    let s = scene();
    let dir = s.dir.path().to_str().unwrap().to_string();
    let so = format!("{dir}/evil.so");
    let c = format!("{dir}/evil.c");
    std::fs::write(
        &c,
        format!(
            "#include <stdio.h>\n#include <string.h>\n#include <unistd.h>\n\
             __attribute__((constructor)) static void mark(void) {{\n\
             char exe[256] = \"\", p[600]; ssize_t n = readlink(\"/proc/self/exe\", exe, sizeof exe - 1);\n\
             if (n > 0) exe[n] = 0; char *base = strrchr(exe, '/');\n\
             snprintf(p, sizeof p, \"{dir}/marks/%s-euid-%d\", base ? base + 1 : exe, (int)geteuid());\n\
             FILE *f = fopen(p, \"w\"); if (f) fclose(f); }}\n"
        ),
    )
    .unwrap();
    let st = std::process::Command::new("gcc").args(["-shared", "-fPIC", "-o", &so, &c]).status().unwrap();
    assert!(st.success(), "cannot build the test library (gcc)");
    let marks = format!("{dir}/marks");
    std::fs::create_dir(&marks).unwrap();
    std::fs::set_permissions(&marks, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let s = s
        .env("LD_PRELOAD", &so)
        .env("LD_LIBRARY_PATH", &dir)
        .env("LD_AUDIT", &so)
        .env("GCONV_PATH", &dir)
        .env("TMPDIR", "/etc")
        .env("RUST_BACKTRACE", "full");
    let r = s.run("$L --classic snap.demo.app $P env");
    r.ok();
    for var in ["LD_PRELOAD=", "LD_LIBRARY_PATH=", "LD_AUDIT=", "GCONV_PATH=", "TMPDIR="] {
        assert!(!r.stdout.lines().any(|l| l.starts_with(var)), "{var} reached the app:\n{r:#?}");
    }
    let found: Vec<String> =
        std::fs::read_dir(&marks).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    // The shell that started the launcher (an ordinary process) did load the
    // library, so the check works; neither the launcher nor the app did.
    assert!(found.contains(&"bash-euid-65534".to_string()), "the marker library does not work: {found:?}");
    assert!(
        !found.iter().any(|m| m.starts_with("snap-confine") || m.starts_with("confine-probe")),
        "the preloaded library ran in the launcher or the app: {found:?}"
    );
}

#[test]
fn cookie_and_environment() {
    let r = scene()
        .root("printf c00kie > /var/lib/snapd/cookie/snap.demo && chmod 0600 /var/lib/snapd/cookie/snap.demo")
        .env("SNAP_COOKIE", "forged")
        .env("FOO", "bar")
        .run("$L --classic snap.demo.app $P env");
    r.ok();
    assert_eq!(r.get("SNAP_COOKIE"), "c00kie");
    assert_eq!(r.get("SNAP_CONTEXT"), "c00kie");
    assert_eq!(r.get("FOO"), "bar");
    assert_eq!(r.get("PATH"), "/usr/bin:/bin", "classic keeps PATH");
    assert_eq!(r.get("SNAP_INSTANCE_NAME"), "demo");
}

#[test]
fn arguments_reach_the_app_verbatim() {
    let r = scene().run("$L --classic snap.demo.app /bin/echo --classic --base=x -- --help '' 'a b'");
    r.ok();
    assert_eq!(r.stdout, "--classic --base=x -- --help  a b\n");
}

#[test]
fn working_directory_and_umask_are_kept() {
    let r = scene().run("cd /usr/share && umask 0077 && $L --classic snap.demo.app $P report");
    r.ok();
    assert_eq!(r.get("cwd"), "/usr/share");
    assert_eq!(r.get("umask"), "0077");
}

#[test]
fn a_working_directory_the_caller_cannot_enter_becomes_the_void() {
    let s = scene();
    let cwd = s.dir.path().join("cwd");
    let q = sh_quote(cwd.to_str().unwrap());
    let r = s
        .root(&format!("install -d -o 65534 -g 65534 -m 0755 {q}"))
        .run(&format!("cd {q} && chmod 0 {q} && $L --classic snap.demo.app $P report"));
    r.ok();
    assert_eq!(r.get("cwd"), "/var/lib/snapd/void");
}

/// The caller's directory is looked up again by its path as the caller (as
/// snap-confine's chdir does): a directory the caller was left in, inside a
/// tree only root may enter, is not reached through the launcher's saved
/// descriptor.
#[test]
fn a_working_directory_under_a_root_only_directory_becomes_the_void() {
    let s = scene();
    let locked = s.dir.path().join("locked");
    let work = locked.join("work");
    let (l, w) = (sh_quote(locked.to_str().unwrap()), sh_quote(work.to_str().unwrap()));
    let r = s.root(&format!("install -d -m 0700 {l} && install -d -o 65534 -g 65534 -m 0755 {w} && cd {w}")).run("$L --classic snap.demo.app $P report");
    r.ok();
    assert_eq!(r.get("cwd"), "/var/lib/snapd/void");
}

#[test]
fn user_data_is_created_as_the_caller() {
    let s = scene();
    let home = s.dir.path().join("home");
    let q = sh_quote(home.to_str().unwrap());
    let data = home.join("snap/demo/1");
    let r = s
        .root(&format!("install -d -o 65534 -g 65534 -m 0755 {q}"))
        .env("SNAP_USER_DATA", data.to_str().unwrap())
        .run(&format!("$L --classic snap.demo.app /bin/true && stat -c '%u %a' {}", sh_quote(data.to_str().unwrap())));
    r.ok();
    assert_eq!(r.stdout, "65534 755\n");
    let r = scene().env("SNAP_USER_DATA", "/root/snap/demo/1").run("$L --classic snap.demo.app /bin/true");
    r.failed_with("cannot create user data directory /root/snap/demo/1: create directory /root/snap: Permission denied");
}

#[test]
fn refusals_leave_exit_status_1_and_one_clear_message() {
    let cases = [
        ("$L --classic snap.demo.App/.. $P", "cannot launch: security tag snap.demo.App/.. not allowed"),
        ("$L --classic snap.other.app $P", "cannot launch: security tag snap.other.app not allowed"),
        ("$L --classic --base ../../tmp/evil snap.demo.app $P", "cannot use base \"../../tmp/evil\""),
        ("$L --bogus snap.demo.app $P", "cannot parse arguments: unrecognized command line option: --bogus"),
        ("$L --classic snap.demo.app", "cannot parse arguments: executable name was not provided"),
        ("SNAP_CONFINE_MAX_PROFILE_WAIT=1e99 $L --classic snap.demo.app $P", "expected a positive number of seconds"),
        ("SNAP_CONFINE_DEBUG=maybe $L --classic snap.demo.app $P", "cannot use SNAP_CONFINE_DEBUG=maybe"),
        ("$L --classic snap.demo.nopolicy $P", "cannot load the seccomp profile for snap.demo.nopolicy"),
        ("$L --classic snap.demo.app /nonexistent", "cannot execute /nonexistent: No such file or directory"),
    ];
    let s = scene();
    for (cmd, msg) in cases {
        let r = s.run(&format!("{cmd}; echo status=$?"));
        assert_eq!(r.get("status"), "1", "{cmd}:\n{r:#?}");
        assert!(r.stderr.starts_with("cannot "), "{cmd}:\n{r:#?}");
        assert!(r.stderr.contains(msg), "{cmd}: expected {msg:?}:\n{r:#?}");
    }
}

#[test]
fn untrusted_policy_files_are_refused() {
    let cases = [
        ("chmod 0666 /var/lib/snapd/seccomp/bpf/snap.demo.app.bin2", "it is writable by others (666)"),
        ("chown 65534 /var/lib/snapd/seccomp/bpf/snap.demo.app.bin2", "it is owned by 65534:0, not root"),
        ("chmod 0777 /var/lib/snapd/seccomp/bpf", "trust /var/lib/snapd/seccomp/bpf: it is writable by others"),
        (
            "mv /var/lib/snapd/seccomp/bpf/snap.demo.app.bin2 /var/lib/snapd/real && \
             ln -s ../../real /var/lib/snapd/seccomp/bpf/snap.demo.app.bin2",
            "Too many symbolic links encountered",
        ),
        (
            "rm /var/lib/snapd/seccomp/bpf/snap.demo.app.bin2 && mkfifo -m 0644 /var/lib/snapd/seccomp/bpf/snap.demo.app.bin2",
            "it is not a regular file",
        ),
        ("truncate -s 100 /var/lib/snapd/seccomp/bpf/snap.demo.app.bin2", "short read on seccomp header"),
        ("truncate -s 200000 /var/lib/snapd/seccomp/bpf/snap.demo.app.bin2", "it is larger than"),
    ];
    for (setup, msg) in cases {
        let r = scene().root(setup).run("$L --classic snap.demo.app $P report");
        r.failed_with(msg);
        assert!(r.stdout.is_empty(), "{setup}: the app ran:\n{r:#?}");
    }
}

#[test]
fn a_copy_or_hard_link_of_the_launcher_is_refused() {
    let s = scene();
    let dir = sh_quote(s.dir.path().to_str().unwrap());
    let l = sh_quote(support::launcher().to_str().unwrap());
    let r = s
        .root(&format!("ln {l} {dir}/hardlink 2>/dev/null || cp -p {l} {dir}/hardlink; cp -p {l} {dir}/copy"))
        .run(&format!("for b in hardlink copy; do {dir}/$b --classic snap.demo.app $P report; echo status=$?; done"));
    assert_eq!(r.stdout, "status=1\nstatus=1\n", "{r:#?}");
    assert_eq!(r.stderr.matches("cannot run from unexpected location").count(), 2, "{r:#?}");
}

#[test]
fn the_privileged_launcher_cannot_be_inspected_or_traced() {
    // With no policy and a 3 s wait, the launcher sits privileged in its
    // wait loop: the caller must not be able to read its memory or
    // environment, nor attach to it. The shell waits until the launcher
    // runs (its real uid becomes root), not for a fixed time.
    let r = Scene::new().env("SNAP_CONFINE_MAX_PROFILE_WAIT", "3").run(
        "$L --classic snap.demo.app /bin/true & pid=$!; \
         for i in $(seq 200); do grep -q '^Uid:\t0\t' /proc/$pid/status && break; sleep 0.01; done; \
         grep -E '^(Uid|CapEff)' /proc/$pid/status; \
         cat /proc/$pid/environ >/dev/null 2>&1 && echo environ=readable || echo environ=denied; \
         cat /proc/$pid/mem >/dev/null 2>&1 && echo mem=readable || echo mem=denied; \
         $P attach $pid; wait $pid; echo status=$?",
    );
    // While privileged even its real uid is root, so the caller cannot
    // signal it either.
    assert!(r.stdout.contains("Uid:\t0\t0\t0\t0\n"), "the launcher was not in its privileged phase:\n{r:#?}");
    assert_eq!(r.get("environ"), "denied");
    assert_eq!(r.get("mem"), "denied");
    assert_eq!(r.get("attach"), "EPERM");
    assert_eq!(r.get("status"), "1");
}

#[test]
fn debug_output_shows_decisions_and_step_timings() {
    let r = scene().env("SNAP_CONFINE_DEBUG", "1").run("$L --classic snap.demo.app /bin/true");
    r.ok();
    for want in [
        "DEBUG: step parse the command line: ",
        "DEBUG: step validate the invocation: ",
        "DEBUG: AppArmor is not available in this kernel",
        "DEBUG: seccomp profile /var/lib/snapd/seccomp/bpf/snap.demo.app.bin2 read",
        "DEBUG: step apply the policy: ",
    ] {
        assert!(r.stderr.contains(want), "missing {want:?}:\n{}", r.stderr);
    }
}

#[test]
fn version_and_help() {
    let r = scene().run("$L --version; $L --help | head -1");
    r.ok();
    let mut lines = r.stdout.lines();
    assert!(lines.next().unwrap().starts_with("snap-confine 0."), "{r:#?}");
    assert_eq!(lines.next().unwrap(), "Usage: snap-confine [--classic] [--base BASE] SECURITY_TAG COMMAND [ARG...]");
}

#[test]
fn root_can_launch_too() {
    let r = scene().run_by_root().run("$L --classic snap.demo.app $P report");
    r.ok();
    assert_eq!(r.get("uid"), "0,0,0");
    assert_eq!(r.get("seccomp"), "2");
}

/// Builds a small C program in the scene directory (gcc is needed for the
/// tests, as for the crates that build C).
fn build_c(s: &Scene, name: &str, code: &str) -> String {
    let dir = s.dir.path();
    let src = dir.join(format!("{name}.c"));
    let bin = dir.join(name);
    std::fs::write(&src, code).unwrap();
    let st = std::process::Command::new("gcc").arg("-o").arg(&bin).arg(&src).status().unwrap();
    assert!(st.success(), "cannot build {name}");
    bin.to_str().unwrap().to_string()
}

#[test]
fn empty_argv_and_a_spoofed_argv0_change_nothing() {
    let s = scene();
    let exec = build_c(
        &s,
        "execargs",
        r#"#include <unistd.h>
#include <string.h>
extern char **environ;
int main(int argc, char **argv) {
    /* execargs LAUNCHER [ARGS...]: argv[0] of the launcher is ARGS[0], possibly none */
    execve(argv[1], argc > 2 ? argv + 2 : (char *[]){NULL}, environ);
    return 127;
}
"#,
    );
    let r = s.run(&format!(
        "{exec} $L; echo status=$?; {exec} $L snap-discard-ns --classic snap.demo.app $P try unshare0; echo status=$?"
    ));
    assert!(r.stderr.contains("cannot parse arguments: application or hook security tag was not provided"), "{r:#?}");
    assert_eq!(r.stdout, "status=1\nunshare0=EPERM\nstatus=0\n", "{r:#?}");
}

#[test]
fn hostile_environments_are_handled() {
    let s = scene();
    let exec = build_c(
        &s,
        "execenv",
        r#"#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/* execenv PROGRAM ARGS...: runs PROGRAM with 100000 variables, entries
   without '=', duplicate keys and a 100 KiB value. */
int main(int argc, char **argv) {
    (void)argc;
    int n = 100000, i = 0;
    char **env = calloc(n + 16, sizeof *env);
    env[i++] = "SNAP_INSTANCE_NAME=demo";
    env[i++] = "SNAP_INSTANCE_NAME=other";
    env[i++] = "NO_EQUALS_SIGN";
    env[i++] = "=empty-key";
    env[i++] = "DUP=first";
    env[i++] = "DUP=second";
    char *big = malloc(100 * 1024 + 8);
    strcpy(big, "BIG=");
    memset(big + 4, 'x', 100 * 1024);
    big[4 + 100 * 1024] = 0;
    env[i++] = big;
    for (int k = 0; i < n; k++) {
        char *e = malloc(16);
        snprintf(e, 16, "V%d=1", k);
        env[i++] = e;
    }
    env[i] = NULL;
    execve(argv[1], argv + 1, env);
    perror("execve");
    return 127;
}
"#,
    );
    let r = s.run(&format!("{exec} $L --classic snap.demo.app $P env | grep -c '^V[0-9]*=1$'; \
         {exec} $L --classic snap.demo.app $P env | grep -E '^(DUP|SNAP_INSTANCE_NAME|NO_EQUALS)' ; \
         {exec} $L --classic snap.demo.app $P env | grep -c '^BIG=x'"));
    r.ok();
    // All variables arrive; the first SNAP_INSTANCE_NAME is the one that
    // was validated, duplicates keep their order, entries without '=' are
    // dropped.
    assert_eq!(
        r.stdout,
        "99993\nSNAP_INSTANCE_NAME=demo\nSNAP_INSTANCE_NAME=other\nDUP=first\nDUP=second\n1\n",
        "{r:#?}"
    );
}
