//! snap-run around the launcher, through the installed tools, as `snap run`
//! users expect it: the desktop files, icons and completion links `confine
//! install` writes (and `confine remove` takes away), the bash completion of
//! an app through its completer in the sandbox, the waits and refusals of
//! snapd's inhibition lock, `--trace-exec` and `--strace`; and bad input (a
//! broken desktop file, a malformed lock file, a completer that hangs), each
//! refused with one `cannot ...` line that changes nothing. (Scopes made by
//! systemd are tested in the VM: integration/suites/run.sh.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod support;
use support::{install_scene as scene, sh_quote, snap_file, NOBODY};

/// The part of `out` after the line `== name`, up to the next such line.
fn section(out: &str, name: &str) -> String {
    let start = out.find(&format!("== {name}\n")).unwrap_or_else(|| panic!("no {name} section:\n{out}"));
    let rest = &out[start + name.len() + 4..];
    rest[..rest.find("\n== ").map(|e| e + 1).unwrap_or(rest.len())].to_string()
}

/// What the desktop integration left on the system.
const DESKTOP: &str = "find /var/lib/snapd/desktop 2>/dev/null | sort";

const GUI_YAML: &str = "name: gui\nversion: '1'\nbase: debian12\napps:\n  gui:\n    command: bin/gui\n    completer: share/gui.bash\n  \
                        slow:\n    command: bin/gui\n    completer: share/slow.bash\n  d:\n    command: bin/gui\n    daemon: simple\n";

#[test]
fn desktop_files_icons_and_completion() {
    let s = scene();
    let gui = sh_quote(&snap_file(
        &s,
        "gui",
        GUI_YAML,
        &[
            ("bin/gui", "#!/bin/sh\necho gui\n"),
            (
                "meta/gui/gui.desktop",
                "[Desktop Entry]\nType=Application\nName=Gui\nTryExec=/usr/bin/evil\nX-Evil=1\nExec=gui %U\nIcon=${SNAP}/meta/gui/icon.svg\n\
                 [Desktop Action d]\nExec=gui.d\n",
            ),
            ("meta/gui/icons/hicolor/64x64/apps/snap.gui.gui.png", "PNG"),
            ("meta/gui/icons/hicolor/64x64/apps/other.png", "not the snap's"),
            ("share/gui.bash", "complete -W '--color --count --verbose' gui\n"),
            ("share/slow.bash", "_slow() { sleep 60; }; complete -F _slow gui.slow\n"),
        ],
    ));
    let broken = sh_quote(&snap_file(
        &s,
        "broken",
        "name: broken\nversion: '1'\nbase: debian12\napps:\n  broken:\n    command: bin/b\n",
        &[("meta/gui/evil.desktop", "[Desktop Entry]\nName=Broken\nExec=/usr/bin/evil\n")],
    ));
    // A stand-in for desktop-file-utils' update-desktop-database, first in PATH.
    let udd = s.dir.path().join("udd");
    std::fs::create_dir(&udd).unwrap();
    let udd = sh_quote(udd.to_str().unwrap());
    let r = s.run(&format!(
        "printf '#!/bin/sh\\necho \"$*\" >>{udd}/calls\\n' >{udd}/update-desktop-database; chmod 755 {udd}/update-desktop-database; \
         export PATH={udd}:$PATH; \
         confine install $EX/debian12.snap >/dev/null && confine install {gui} >/dev/null; \
         echo '== database'; cat {udd}/calls; \
         echo '== files'; {DESKTOP}; \
         echo '== desktop'; cat /var/lib/snapd/desktop/applications/gui_gui.desktop; \
         echo '== link'; readlink /var/lib/snapd/desktop/bash-completion/completions/gui; \
         echo '== complete'; cd /tmp && {NOBODY} snap-run --command=complete gui 9 9 8 1 ' ' 'gui --co' gui --co; echo status=$?; \
         echo '== hang'; SECONDS=0; {NOBODY} snap-run --command=complete gui.slow 9 9 9 1 ' ' 'gui.slow ' gui.slow ''; echo status=$? \
         within=$(( SECONDS < 15 )); \
         echo '== broken'; before=$({DESKTOP}; ls /snap); confine install {broken}; echo status=$?; \
         [ \"$({DESKTOP}; ls /snap)\" = \"$before\" ] || echo CHANGED; \
         echo '== remove'; confine remove gui; {DESKTOP}; \
         echo '== database after'; cat {udd}/calls; \
         echo '== database fails'; printf '#!/bin/sh\\necho no space >&2; exit 1\\n' >{udd}/update-desktop-database; \
         confine install {gui}; echo status=$?; {DESKTOP}; echo '== end'"
    ));
    let out = &r.stdout;
    assert_eq!(
        section(out, "files"),
        "/var/lib/snapd/desktop\n/var/lib/snapd/desktop/applications\n/var/lib/snapd/desktop/applications/gui_gui.desktop\n\
         /var/lib/snapd/desktop/bash-completion\n/var/lib/snapd/desktop/bash-completion/completions\n\
         /var/lib/snapd/desktop/bash-completion/completions/gui\n/var/lib/snapd/desktop/bash-completion/completions/gui.slow\n\
         /var/lib/snapd/desktop/icons\n/var/lib/snapd/desktop/icons/hicolor\n/var/lib/snapd/desktop/icons/hicolor/64x64\n\
         /var/lib/snapd/desktop/icons/hicolor/64x64/apps\n/var/lib/snapd/desktop/icons/hicolor/64x64/apps/snap.gui.gui.png\n",
        "{r:#?}"
    );
    assert_eq!(
        section(out, "desktop"),
        "[Desktop Entry]\nX-SnapInstanceName=gui\nType=Application\nName=Gui\nX-SnapAppName=gui\nExec=/snap/bin/gui %U\n\
         Icon=/snap/gui/current/meta/gui/icon.svg\n[Desktop Action d]\nX-SnapAppName=d\nExec=/usr/bin/false\n",
        "{r:#?}"
    );
    assert_eq!(section(out, "link"), "/usr/lib/confine/complete.sh\n");
    // snapd's answer: compopt options, bounce, an empty line, the words.
    assert_eq!(section(out, "complete"), "\n\n\n--color\n--count\nstatus=0\n", "{r:#?}");
    assert_eq!(section(out, "hang"), "status=1 within=1\n", "{r:#?}");
    assert!(r.stderr.contains("cannot complete gui.slow: its completer did not answer in 5 s"), "{r:#?}");
    let broken = section(out, "broken");
    assert!(
        broken.starts_with("status=1\n") && !broken.contains("CHANGED"),
        "a broken desktop file is refused and changes nothing:\n{r:#?}"
    );
    assert!(
        r.stderr.contains("cannot use meta/gui/evil.desktop of snap broken: line 3: Exec=/usr/bin/evil starts none of the snap's apps"),
        "{r:#?}"
    );
    assert_eq!(
        section(out, "remove"),
        "gui removed\n/var/lib/snapd/desktop\n",
        "the desktop files, icons and links go with the snap:\n{r:#?}"
    );
    // Run on the desktop files' directory once gui's were written (not for
    // debian12, which has none, nor for the refused snap), again once removed.
    let apps = "/var/lib/snapd/desktop/applications";
    assert_eq!(section(out, "database"), format!("{apps}\n"), "{r:#?}");
    assert_eq!(section(out, "database after"), format!("{apps}\n{apps}\n"), "{r:#?}");
    // When it fails, so does the install, and nothing is left.
    assert_eq!(section(out, "database fails"), "status=1\n/var/lib/snapd/desktop\n", "{r:#?}");
    assert!(r.stderr.contains(&format!("cannot update-desktop-database {apps}: exit status: 1: no space")), "{r:#?}");
}

#[test]
fn refresh_and_removal_hold_the_app_back() {
    let r = scene().run(&format!(
        "confine install $EX/debian12.snap >/dev/null && confine install $EX/hello.snap >/dev/null; cd /tmp; \
         mkdir -p /var/lib/snapd/inhibit; \
         echo '== remove'; printf remove > /var/lib/snapd/inhibit/hello.lock; {NOBODY} snap-run hello; echo status=$?; \
         echo '== malformed'; printf 'refresh\\0junk' > /var/lib/snapd/inhibit/hello.lock; before=$(ls -R /home/nobody); \
         {NOBODY} snap-run hello; echo status=$?; [ \"$(ls -R /home/nobody)\" = \"$before\" ] || echo CHANGED; \
         echo '== refresh'; printf refresh > /var/lib/snapd/inhibit/hello.lock; \
         ({NOBODY} snap-run --shell hello -c 'echo REV=$SNAP_REVISION' > /tmp/waited 2>&1 &) ; sleep 2; \
         grep -c REV= /tmp/waited; confine install $EX/hello.snap | head -1; \
         for i in $(seq 100); do grep -q REV= /tmp/waited && break; sleep 0.1; done; cat /tmp/waited; \
         echo '== lock'; cat /var/lib/snapd/inhibit/hello.lock; echo; ls /var/lib/snapd/inhibit; \
         echo '== removed'; confine remove hello; ls /var/lib/snapd/inhibit; echo '== end'"
    ));
    let out = &r.stdout;
    assert_eq!(section(out, "remove"), "status=1\n", "{r:#?}");
    assert!(r.stderr.contains("cannot run \"hello\": snap is being removed\n"), "{r:#?}");
    assert_eq!(section(out, "malformed"), "status=1\n", "a malformed lock file changes nothing: {r:#?}");
    assert!(r.stderr.contains("cannot run \"hello\": cannot read /var/lib/snapd/inhibit/hello.lock: "), "{r:#?}");
    assert_eq!(
        section(out, "refresh"),
        "0\nhello refreshed from revision x1 to x2\nsnap package \"hello\" is being refreshed, please wait\nREV=x2\n",
        "the app waits for the refresh, then runs the new revision:\n{r:#?}"
    );
    assert_eq!(section(out, "lock"), "\nhello.lock\n", "the refresh is over: {r:#?}");
    assert_eq!(section(out, "removed"), "hello removed\n", "the lock goes with the snap: {r:#?}");
}

#[test]
fn trace_exec_and_strace() {
    let r = scene().run(
        "confine install $EX/debian12.snap >/dev/null && confine install $EX/hello.snap >/dev/null; cd /tmp; \
         echo '== trace-exec'; snap-run --trace-exec --shell hello -c '/bin/true; echo ran' 2>&1 | sed 's/[0-9.]*s /Ns /'; \
         echo '== strace'; snap-run --strace='-e trace=openat' --shell hello -c 'cat /etc/hostname >/dev/null; echo ran' 2>&1 | \
         grep -c -e 'snap-confine' -e 'seccomp/bpf'; echo '== strace-app'; \
         snap-run --strace='-e trace=openat' --shell hello -c 'cat /etc/hostname >/dev/null' 2>&1 | grep -c '/etc/hostname'; echo '== end'",
    );
    let out = &r.stdout;
    let trace = section(out, "trace-exec");
    assert!(trace.starts_with("ran\nSlowest "), "{r:#?}");
    assert!(trace.contains("Ns /bin/true\n") && trace.contains("Total time: "), "{r:#?}");
    assert_eq!(section(out, "strace"), "0\n", "the launcher's own calls are hidden: {r:#?}");
    assert_ne!(section(out, "strace-app"), "0\n", "the app's calls are shown: {r:#?}");
}
