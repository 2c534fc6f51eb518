//! The user's whole path through the installed tools, as root installs and
//! `nobody` runs: install the example snaps, run them through their
//! `/snap/bin` wrappers, refresh, remove; and bad input (corrupt files,
//! invalid snap.yaml, name clashes, installs killed half-way), each of
//! which must leave the system as it was.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod support;
use support::{install_scene as scene, sh_quote, snap_file, NOBODY};

/// Everything on the system that names the snap `hello` (not `hello-classic`).
const LEFTOVERS: &str = "{ ls -d /snap/hello /snap/bin/hello /var/snap/hello /home/nobody/snap/hello /run/snapd/ns/hello.mnt \
     /run/snapd/ns/snap.hello.info /tmp/snap-private-tmp/snap.hello /var/lib/confine/snaps/hello_* \
     /var/lib/snapd/seccomp/bpf/snap.hello.* /var/lib/snapd/apparmor/profiles/snap.hello.* \
     /var/lib/snapd/apparmor/profiles/snap-update-ns.hello /var/lib/snapd/cgroup/snap.hello.device /var/lib/snapd/cookie/snap.hello /var/lib/snapd/landlock/snap.hello.* \
     /etc/systemd/system/snap.hello.* /etc/udev/rules.d/70-snap.hello.rules 2>/dev/null; \
     grep -o ' /snap/hello/[^ ]*' /proc/self/mountinfo; grep -c '\"hello\"' /var/lib/confine/state.json; true; }";

#[test]
fn install_run_refresh_and_remove() {
    let r = scene().run(&format!(
        "confine install $EX/debian12.snap && confine install $EX/hello.snap && confine install $EX/hello-classic.snap; \
         echo '== hello'; {NOBODY} hello; \
         echo '== shell'; {NOBODY} snap-run --shell hello -c 'echo $SNAP $SNAP_DATA $SNAP_USER_DATA $SNAP_NAME $SNAP_REVISION $HOME; head -1 /etc/os-release; id -u'; \
         echo '== classic'; {NOBODY} hello-classic; \
         echo '== files'; stat -c '%U %a %n' /home/nobody/snap/hello/x1 /var/snap/hello/x1 /var/snap/hello/common; \
         echo kept > /var/snap/hello/x1/kept; \
         echo '== refresh'; confine install $EX/hello.snap; cat /var/snap/hello/x2/kept; head -1 /snap/hello/x1/meta/snap.yaml; \
         {NOBODY} hello | grep '^HOME'; \
         echo '== remove'; confine remove hello; echo '== leftovers'; {LEFTOVERS}; echo '== end'"
    ));
    let out = &r.stdout;
    let section = |name: &str| -> String {
        let start = out.find(&format!("== {name}\n")).unwrap_or_else(|| panic!("no {name} section:\n{r:#?}"));
        let rest = &out[start + name.len() + 4..];
        rest[..rest.find("\n== ").map(|e| e + 1).unwrap_or(rest.len())].to_string()
    };
    let hello = section("hello");
    for want in [
        "AppArmor label : none (no AppArmor in this kernel)",
        "seccomp        : filter (2 filters)",
        "user ids       : 65534,65534,65534  group ids: 65534,65534,65534",
        "/tmp           : private (/snap-private-tmp/snap.hello/tmp)",
        "HOME           : /home/nobody/snap/hello/x1",
        "SNAP_INSTANCE_NAME: hello",
    ] {
        assert!(hello.lines().any(|l| l == want), "missing {want:?} in:\n{hello}\n{r:#?}");
    }
    assert_eq!(
        section("shell"),
        "/snap/hello/x1 /var/snap/hello/x1 /home/nobody/snap/hello/x1 hello x1 /home/nobody/snap/hello/x1\n\
         PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n65534\n",
        "{r:#?}"
    );
    let cookie = hello.lines().find_map(|l| l.strip_prefix("SNAP_COOKIE    : ")).unwrap_or_default();
    assert!(cookie.len() == 64 && cookie.bytes().all(|b| b.is_ascii_hexdigit()), "the snap's cookie: {cookie:?}");
    let classic = section("classic");
    assert!(classic.contains("seccomp        : off\n") && classic.contains("HOME           : /home/nobody\n"), "{classic}");
    assert_eq!(
        section("files"),
        "nobody 755 /home/nobody/snap/hello/x1\nroot 755 /var/snap/hello/x1\nroot 755 /var/snap/hello/common\n"
    );
    assert_eq!(
        section("refresh"),
        "hello refreshed from revision x1 to x2\n  command: /snap/bin/hello\n  service: snap.hello.daemon.service (no systemd here: not started)\n\
         kept\nname: hello\nHOME           : /home/nobody/snap/hello/x2\n",
        "{r:#?}"
    );
    assert_eq!(section("remove"), "hello removed\n");
    assert_eq!(section("leftovers"), "0\n", "something of hello is left:\n{r:#?}");
}

/// What the system looks like, to compare before and after a refused change.
const SNAPSHOT: &str = "{ find /snap /var/snap /var/lib/confine /var/lib/snapd /etc/systemd/system /etc/udev/rules.d \
     -not -name '*.lock' 2>/dev/null | sort; grep ' /snap/' /proc/self/mountinfo | cut -d' ' -f5 | sort; }";

#[test]
fn bad_snaps_are_refused_with_one_clear_error_and_change_nothing() {
    let s = scene();
    let ok = "name: good\nversion: '1'\nbase: debian12\napps:\n  good:\n    command: bin/good\n";
    let cases: Vec<(String, &str)> = vec![
        ("name: Bad_Name\nversion: '1'\n".into(), "cannot use snap.yaml: name: "),
        ("name: good\napps: {}\n".into(), "cannot use snap.yaml: version: "),
        (ok.replace("  good:\n", "  bad_app!:\n"), "cannot use snap.yaml: apps.bad_app!: "),
        (format!("{ok}    daemon: forever\n"), "cannot use snap.yaml: apps.good.daemon: unknown daemon type \"forever\""),
        (format!("{ok}    plugs: [Bad-Plug]\n"), "cannot use snap.yaml: apps.good.plugs"),
        (ok.replace("version: '1'", "version: '1'\nconfinement: loose"), "cannot use snap.yaml: confinement: "),
        (ok.replace("debian12", "../../etc"), "cannot use snap.yaml: base: "),
        (format!("{ok}    command-chain: ['bin/a b']\n"), "cannot use snap.yaml: apps.good.command-chain"),
        (format!("{ok}    stop-timeout: soon\n    daemon: simple\n"), "cannot use snap.yaml: apps.good.stop-timeout: "),
        ("name: bin\nversion: '1'\napps:\n  x:\n    command: x\n".into(), "cannot install a snap named \"bin\""),
        ("name: hello\nversion: '1'\ntype: base\n".into(), "a snap named hello of another type is installed"),
    ];
    let mut script = format!("confine install $EX/debian12.snap >/dev/null && confine install $EX/hello.snap >/dev/null; before=$({SNAPSHOT}); ");
    for (i, (yaml, _)) in cases.iter().enumerate() {
        let file = snap_file(&s, &format!("case{i}"), yaml, &[]);
        script.push_str(&format!(
            "echo \"== {i}\"; confine install {} 2>&1; echo \"status=$?\"; [ \"$({SNAPSHOT})\" = \"$before\" ] || echo CHANGED; ",
            sh_quote(&file)
        ));
    }
    std::fs::write(s.dir.path().join("corrupt.snap"), b"hsqs this is not a squashfs file").unwrap();
    let corrupt = s.dir.path().join("corrupt.snap");
    script.push_str(&format!(
        "echo '== corrupt'; confine install {} 2>&1; echo \"status=$?\"; [ \"$({SNAPSHOT})\" = \"$before\" ] || echo CHANGED",
        sh_quote(corrupt.to_str().unwrap())
    ));
    let r = s.run(&script);
    for (i, (_, msg)) in cases.iter().enumerate() {
        let start = r.stdout.find(&format!("== {i}\n")).unwrap_or_else(|| panic!("case {i}:\n{r:#?}"));
        let block = &r.stdout[start..];
        let block = &block[..block[3..].find("== ").map(|e| e + 3).unwrap_or(block.len())];
        let lines: Vec<&str> = block.lines().skip(1).collect();
        assert_eq!(lines.len(), 2, "case {i}: one error line and the status:\n{block}");
        assert!(lines[0].starts_with("cannot ") && lines[0].contains(msg), "case {i}: expected {msg:?}:\n{block}");
        assert_eq!(lines[1], "status=1", "case {i}:\n{block}");
    }
    let corrupt = &r.stdout[r.stdout.find("== corrupt").unwrap()..];
    assert!(corrupt.contains("it is not a valid snap") && corrupt.contains("status=1"), "{corrupt}");
    assert!(!r.stdout.contains("CHANGED"), "a refused install changed the system:\n{r:#?}");
}

#[test]
fn an_install_killed_half_way_is_rolled_back() {
    // 30 installs killed at random points (0 to 0.19 s in); after each, `confine recover`
    // must bring the system back exactly to where it was (a system with a
    // base and another snap installed, where hello was installed and removed
    // once: the state directories a removal makes, such as
    // /var/lib/snapd/inhibit, stay, as snapd's do, and an install that ends
    // before it is killed is removed again).
    let r = scene().run(&format!(
        "confine install $EX/debian12.snap >/dev/null; confine install $EX/hello-classic.snap >/dev/null; \
         confine install $EX/hello.snap >/dev/null; confine remove hello >/dev/null; \
         before=$({SNAPSHOT}); killed=0 changed=0; \
         for i in $(seq 30); do \
           confine install $EX/hello.snap >/dev/null 2>&1 & pid=$!; \
           sleep 0.$(( RANDOM % 2 ))$(( RANDOM % 10 )); kill -9 $pid 2>/dev/null; wait $pid; [ $? = 137 ] && killed=$((killed + 1)); \
           confine recover >/dev/null; \
           if [ -e /snap/hello/current ]; then confine remove hello >/dev/null; fi; \
           [ \"$({SNAPSHOT})\" = \"$before\" ] || {{ changed=$((changed + 1)); diff <(echo \"$before\") <(echo \"$({SNAPSHOT})\") | head -5; }}; \
         done; echo killed=$killed changed=$changed"
    ));
    let summary = r.stdout.lines().find(|l| l.starts_with("killed=")).unwrap_or_else(|| panic!("{r:#?}"));
    eprintln!("{summary}");
    assert!(summary.ends_with(" changed=0"), "{r:#?}");
    let killed: u32 = summary.split(' ').next().unwrap().trim_start_matches("killed=").parse().unwrap();
    assert!(killed >= 10, "too few installs were killed half-way ({killed}):\n{r:#?}");
}

#[test]
fn a_roll_back_takes_away_what_an_install_killed_while_writing_the_policy_left() {
    // The state of an install killed while the policy of a snap new to the
    // system was being written: its profiles and programs on disk (some
    // still temporary files of the dead writer), the snap not yet recorded,
    // and the journal's last step its registration. `confine recover` must
    // leave the system as it was before the install (whose directories for
    // the policy of apps, made by the first app installed, stay).
    let r = scene().run(&format!(
        "confine install $EX/debian12.snap >/dev/null; mkdir -p /var/lib/snapd/seccomp/bpf; before=$({SNAPSHOT}); \
         true & wait $!; dead=$!; \
         for f in /var/lib/snapd/apparmor/profiles/snap.hello.hello /var/lib/snapd/apparmor/profiles/snap-update-ns.hello \
                  /var/lib/snapd/seccomp/bpf/snap.hello.hello.bin2 /var/lib/snapd/seccomp/bpf/.snap.hello.daemon.bin2.$dead.0~ \
                  /var/lib/confine/.state.json.$dead.3~; do mkdir -p ${{f%/*}}; echo half > $f; done; \
         echo '[{{\"Reregister\":[\"hello\",null]}}]' > /var/lib/confine/install-journal.json; \
         echo '[' > /var/lib/confine/install-journal.new; \
         confine recover; echo status=$?; \
         [ \"$({SNAPSHOT})\" = \"$before\" ] && echo unchanged || diff <(echo \"$before\") <(echo \"$({SNAPSHOT})\")"
    ));
    assert_eq!(r.stdout.lines().filter(|l| l.starts_with("status=") || *l == "unchanged").collect::<Vec<_>>(), ["status=0", "unchanged"], "{r:#?}");
}

#[test]
fn where_no_systemd_runs_snap_run_makes_the_cgroup_leaf() {
    // This host runs no systemd. Root may create cgroups: each run gets a
    // `snap.<tag>-<uuid>.scope` leaf and the next run removes the empty one
    // of the run before; nobody may not, and stays where it was.
    let r = scene().run(&format!(
        "confine install $EX/debian12.snap >/dev/null && confine install $EX/hello.snap >/dev/null; \
         for i in 1 2; do env -i SNAP_CONFINE_DEBUG=1 PATH=/usr/bin:/bin snap-run --shell hello -c 'grep ^0:: /proc/self/cgroup' 2>&1 | grep -e '^DEBUG: snap-run: no systemd' -e '^DEBUG: snap-run: not tracked' -e '^[^D]'; done; \
         echo leaves=$(ls -d /sys/fs/cgroup/unified/snap.hello.hello-*.scope | wc -l); \
         {NOBODY} SNAP_CONFINE_DEBUG=1 snap-run --shell hello -c 'grep ^0:: /proc/self/cgroup' 2>&1 | grep -e '^DEBUG: snap-run: no systemd' -e '^DEBUG: snap-run: not tracked' -e '^[^D]'"
    ));
    // The scene's processes are gone: remove what is left on the host.
    for e in std::fs::read_dir("/sys/fs/cgroup/unified").unwrap().flatten() {
        if e.file_name().to_string_lossy().starts_with("snap.hello.hello-") {
            std::fs::remove_dir(e.path()).unwrap();
        }
    }
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 7, "{r:#?}");
    let leaf = |l: &str| l.strip_prefix("0::/snap.hello.hello-").and_then(|l| l.strip_suffix(".scope")).map(str::to_string);
    for i in [0, 2] {
        assert!(lines[i].starts_with("DEBUG: snap-run: no systemd here: in the cgroup /sys/fs/cgroup/unified/snap.hello.hello-"), "{r:#?}");
    }
    let (first, second) = (leaf(lines[1]).unwrap(), leaf(lines[3]).unwrap());
    assert_eq!(first.len(), 36, "a uuid: {first}");
    assert_ne!(first, second);
    assert_eq!(lines[4], "leaves=1", "the first run's empty leaf was removed: {r:#?}");
    assert!(lines[5].starts_with("DEBUG: snap-run: not tracked: cannot create /sys/fs/cgroup/unified/snap.hello.hello-"), "{r:#?}");
    assert!(lines[5].ends_with("Permission denied (os error 13)"), "{r:#?}");
    assert_eq!(lines[6], "0::/", "{r:#?}");
}
