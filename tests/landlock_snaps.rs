//! Landlock with the policy the tools generate, on this host without
//! AppArmor: the example snap `hello` (plugs `home` and `network`, no
//! `network-bind`) installed with `confine install` and run through
//! `snap-run` as nobody and as root. Every file it is refused here is one
//! that file permissions alone would let it reach.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod support;
use std::collections::BTreeMap;
use support::{install_scene, Run, NOBODY};

/// Installs the base and hello, then lays out what the app must not reach:
/// another snap's data, another user's home (writable by all), another
/// snap's directory in nobody's home, and nobody's own documents.
const SETUP: &str = "confine install $EX/debian12.snap >/dev/null && confine install $EX/hello.snap >/dev/null; \
     install -d -m 0755 /var/snap/other/x1 && echo secret > /var/snap/other/x1/secret; \
     install -d -m 0777 /home/alice && echo private > /home/alice/notes && chmod 0666 /home/alice/notes; \
     mkdir -p /home/nobody/Documents /home/nobody/snap/other/x1 /home/nobody/.ssh; \
     echo theirs > /home/nobody/snap/other/x1/data && echo key > /home/nobody/.ssh/id; \
     chown -R 65534:65534 /home/nobody";

/// `snap-run --shell hello` running the probe (`$SNAP/bin/hello`) with
/// each of `probes` (`read PATH...`, `write PATH...`, `try NAME...`).
fn in_hello(who: &str, probes: &[&str]) -> String {
    let body: Vec<String> = probes.iter().map(|p| format!("$SNAP/bin/hello {p}")).collect();
    format!("(cd / && {who} snap-run --shell hello -c '{}')", body.join("; "))
}

fn verdicts(r: &Run) -> BTreeMap<String, String> {
    r.stdout.lines().filter_map(|l| l.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn check(r: &Run, want: &[(&str, &str)]) {
    let got = verdicts(r);
    let wrong: Vec<String> = want
        .iter()
        .filter(|(k, v)| got.get(*k).map(String::as_str) != Some(*v))
        .map(|(k, v)| format!("{k}: want {v}, got {:?}", got.get(*k)))
        .collect();
    assert!(wrong.is_empty(), "{}\n{r:#?}", wrong.join("\n"));
}

#[test]
fn a_strict_snap_reaches_its_own_files_only() {
    let nobody = format!("{NOBODY} XDG_RUNTIME_DIR=/run/user/65534");
    // The app's own /proc entries are writable (a thread's name), those of
    // the processes it starts are not: the rule names the app's pid.
    let comm = format!(
        "(cd / && {nobody} snap-run --shell hello -c 'echo app > /proc/$$/comm && echo comm:app=ok || echo comm:app=refused; \
         sh -c \"echo child > /proc/\\$\\$/comm\" && echo comm:child=ok || echo comm:child=refused')"
    );
    let r = install_scene().run(&format!(
        "{SETUP}; {comm}; {}; {}",
        in_hello(
            &nobody,
            &[
                "read /var/snap/other/x1/secret /home/alice/notes /home/nobody/snap/other/x1/data /home/nobody/.ssh/id \
                 /etc/hostname /etc/os-release /snap/hello/current/meta/snap.yaml",
                "write $SNAP_USER_DATA/w $SNAP_USER_COMMON/w /tmp/w $SNAP_REAL_HOME/Documents/w \
                 $SNAP_REAL_HOME/snap/other/x1/w $SNAP_REAL_HOME/.ssh/w /home/alice/w /home/alice/notes",
                "list / /home /home/alice $SNAP_REAL_HOME",
                "try bind_tcp connect_tcp",
            ],
        ),
        in_hello(
            "env -i PATH=/usr/bin:/bin",
            &[
                "read /etc/shadow /var/snap/other/x1/secret /home/alice/notes",
                "write $SNAP_DATA/w $SNAP_COMMON/w /var/snap/hello/w /var/snap/other/x1/w /home/alice/w /snap/hello/current/w",
                "read /root/.bashrc",
            ],
        ),
    ));
    // Paths as the probe printed them (variables expanded by the shell).
    let udata = "/home/nobody/snap/hello/x1";
    let ucommon = "/home/nobody/snap/hello/common";
    check(
        &r,
        &[
            // nobody: other snaps' data, other users' files, hidden files.
            ("read:/var/snap/other/x1/secret", "EACCES"),
            ("read:/home/alice/notes", "EACCES"),
            ("read:/home/nobody/snap/other/x1/data", "EACCES"),
            ("read:/home/nobody/.ssh/id", "EACCES"),
            ("read:/etc/hostname", "EACCES"),
            ("read:/etc/os-release", "ok"),
            ("read:/snap/hello/current/meta/snap.yaml", "ok"),
            (&format!("write:{udata}/w"), "ok"),
            (&format!("write:{ucommon}/w"), "ok"),
            ("write:/tmp/w", "ok"),
            // home is connected: the user's own files, not ~/snap of another
            // snap, not hidden ones.
            ("write:/home/nobody/Documents/w", "ok"),
            ("write:/home/nobody/snap/other/x1/w", "EACCES"),
            ("write:/home/nobody/.ssh/w", "EACCES"),
            ("write:/home/alice/w", "EACCES"),
            ("write:/home/alice/notes", "EACCES"),
            ("list:/", "EACCES"),
            ("list:/home", "EACCES"),
            ("list:/home/alice", "EACCES"),
            ("list:/home/nobody", "ok"),
            // network is connected, network-bind is not.
            ("bind_tcp", "EACCES"),
            ("connect_tcp", "ECONNREFUSED"),
            ("comm:app", "ok"),
            ("comm:child", "refused"),
            // root inside: the same walls.
            ("read:/etc/shadow", "EACCES"),
            ("write:/var/snap/hello/x1/w", "ok"),
            ("write:/var/snap/hello/common/w", "ok"),
            ("write:/var/snap/hello/w", "EACCES"),
            ("write:/var/snap/other/x1/w", "EACCES"),
            // home is connected and root's home is /root: its hidden files
            // stay out of reach.
            ("read:/root/.bashrc", "EACCES"),
        ],
    );
    // Read-only SNAP: refused by Landlock or by the read-only squashfs,
    // whichever the kernel checks first; never written.
    let snap_w = verdicts(&r).get("write:/snap/hello/current/w").cloned();
    assert!(matches!(snap_w.as_deref(), Some("EACCES") | Some("EROFS")), "{snap_w:?}\n{r:#?}");
    // Root's reads of what nobody could not read either.
    assert_eq!(r.stdout.matches("read:/var/snap/other/x1/secret=EACCES").count(), 2, "{r:#?}");
    assert_eq!(r.stdout.matches("read:/home/alice/notes=EACCES").count(), 2, "{r:#?}");
}

#[test]
fn disconnecting_home_takes_the_home_directory_away() {
    let root = "env -i PATH=/usr/bin:/bin";
    let r = install_scene().run(&format!(
        "{SETUP}; {}; {}; confine disconnect hello:home >/dev/null; {}; {}; \
         echo policy-mentions-home=$(grep -c '@{{HOME}} except' /var/lib/snapd/landlock/snap.hello.hello)",
        in_hello(NOBODY, &["write $SNAP_REAL_HOME/Documents/before"]),
        in_hello(root, &["list /root"]),
        in_hello(NOBODY, &["write $SNAP_REAL_HOME/Documents/after $SNAP_USER_DATA/after"]),
        in_hello(root, &["list /root /root/snap/hello"]),
    ));
    assert_eq!(r.stdout.lines().filter(|l| *l == "list:/root=ok").count(), 1, "root's home is listable while home is connected:\n{r:#?}");
    check(
        &r,
        &[
            ("write:/home/nobody/Documents/before", "ok"),
            ("write:/home/nobody/Documents/after", "EACCES"),
            ("write:/home/nobody/snap/hello/x1/after", "ok"),
            ("list:/root", "EACCES"),
            ("list:/root/snap/hello", "ok"),
            ("policy-mentions-home", "0"),
        ],
    );
}

#[test]
fn the_policy_file_is_written_by_the_tools_and_trusted_only_as_root_s() {
    // A policy someone else could have written is refused: the launch stops.
    let r = install_scene().run(&format!(
        "{SETUP}; stat -c '%U %a' /var/lib/snapd/landlock /var/lib/snapd/landlock/snap.hello.hello; \
         head -1 /var/lib/snapd/landlock/snap.hello.hello; \
         chown 65534 /var/lib/snapd/landlock/snap.hello.hello; {NOBODY} hello; echo status=$?"
    ));
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines[..3], ["root 755", "root 644", "landlock-policy 1"], "{r:#?}");
    assert_eq!(lines.last(), Some(&"status=1"), "{r:#?}");
    assert!(r.stderr.contains("cannot "), "{r:#?}");
}

/// The example snap `personal`: its two personal-files plugs (never
/// connected automatically) give it `~/.config/personal` to read and
/// `~/.personal-notes` to read and write, and nothing else of the home.
/// Its app (`bin/report`) tries each file as nobody, before and after
/// `confine connect`, and after a disconnect.
#[test]
fn personal_files_reach_what_the_plugs_name_and_nothing_else() {
    let files = "install -d -o 65534 -g 65534 /home/nobody/.config /home/nobody/.config/personal /home/nobody/.config/other \
         /home/nobody/.personal-notes /home/nobody/.ssh /home/nobody/Documents; \
         for f in .config/personal/settings .config/other/settings .personal-notes/today .ssh/id Documents/letter; do \
           echo mine > /home/nobody/$f; done; chown -R 65534:65534 /home/nobody";
    let run = |label: &str| format!("echo == {label}; (cd / && {NOBODY} personal)");
    let r = install_scene().run(&format!(
        "confine install $EX/debian12.snap >/dev/null && confine install $EX/personal.snap >/dev/null; {files}; \
         confine connections personal; {}; \
         confine connect personal:dot-config >/dev/null && confine connect personal:notes >/dev/null; {}; \
         confine disconnect personal:notes >/dev/null; {}; \
         ls -A /home/nobody; cat /home/nobody/.personal-notes/today /home/nobody/.config/personal/settings",
        run("unconnected"),
        run("connected"),
        run("notes disconnected"),
    ));
    let section = |label: &str| -> BTreeMap<String, String> {
        let start = format!("== {label}");
        r.stdout
            .lines()
            .skip_while(|l| *l != start)
            .skip(1)
            .take_while(|l| !l.starts_with("== "))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let h = "/home/nobody";
    let paths = [
        format!("read:{h}/.config/personal/settings"),
        format!("read:{h}/.personal-notes/today"),
        format!("read:{h}/.config/other/settings"),
        format!("read:{h}/.ssh/id"),
        format!("read:{h}/Documents/letter"),
        format!("write:{h}/.personal-notes/today"),
        format!("write:{h}/.personal-notes/new"),
        format!("write:{h}/.config/personal/settings"),
        format!("write:{h}/.config/other/settings"),
        format!("write:{h}/new"),
    ];
    let expect = |label: &str, allowed: &[usize]| {
        let got = section(label);
        assert_eq!(got.len(), paths.len(), "{label}: {got:?}\n{r:#?}");
        for (i, p) in paths.iter().enumerate() {
            let want = if allowed.contains(&i) { "ok" } else { "EACCES" };
            assert_eq!(got.get(p).map(String::as_str), Some(want), "{label}: {p}\n{r:#?}");
        }
    };
    // The plugs are declared, not connected.
    assert!(r.stdout.contains("personal-files"), "{r:#?}");
    expect("unconnected", &[]);
    // dot-config is read-only; notes is read-write, new files included.
    expect("connected", &[0, 1, 5, 6]);
    expect("notes disconnected", &[0]);
    // What the app wrote is where the plug said, and only there.
    assert!(r.stdout.contains("mine\nprobe\nmine\n"), "{r:#?}");
    assert!(!r.stdout.lines().any(|l| l == "new"), "{r:#?}");
}
