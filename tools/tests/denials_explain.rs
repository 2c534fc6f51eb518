//! The explanations of the five records from users' reports, word for
//! word (`fixtures/denials/real.log` → `real.expected`), against a scratch
//! root where snap htop is registered with some plugs connected and
//! Firefox's profile file exists; and how the advice changes with what is
//! known about the snap.
//!
//! `CONFINE_UPDATE_DENIALS=1 cargo test -p confine-tools --test
//! denials_explain` rewrites the expected text (review the diff).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::fs;
use std::path::Path;

use confine_tools::denials::context::PlugStatus;
use confine_tools::denials::explain::{Para, Side};
use confine_tools::denials::{explain, explain_text, parse_line, Context, Line};
use confine_tools::paths::Paths;
use confine_tools::state::{self, SnapState, State};

#[path = "support/denials.rs"]
mod denials_support;
use denials_support::{fixture, scratch_root};

fn check_golden(name: &str, actual: &str) {
    let path = fixture(name);
    if std::env::var_os("CONFINE_UPDATE_DENIALS").is_some() {
        fs::write(&path, actual).unwrap();
        return;
    }
    let expected = fs::read_to_string(&path).unwrap();
    if expected != actual {
        for (i, (e, a)) in expected.lines().zip(actual.lines()).enumerate() {
            if e != a {
                panic!(
                    "{name} differs at line {}:\nexpected: {e}\nactual:   {a}\n\nwhole output:\n{actual}",
                    i + 1
                );
            }
        }
        panic!("{name} differs in length:\n{actual}");
    }
}

#[test]
fn the_five_real_records() {
    let root = scratch_root();
    let ctx = Context::new(&Paths::new(root.path())).unwrap();
    let text = fs::read_to_string(fixture("real.log")).unwrap();
    let out = explain_text(&text, &ctx);
    check_golden("real.expected", &out);

    // The points the explanations must make, whatever the wording.
    let blocks: Vec<&str> = out.split("\n\n").collect();
    assert_eq!(blocks.len(), 6, "{out}");
    let firefox = blocks[0];
    for needle in [
        "snap htop (app htop) from sending SIGTERM",
        "Refused by the receiver: profile /usr/lib/firefox/firefox{,*[^s][^h]}, which\n  is not a snap's",
        "      signal (receive) set=(term) peer=snap.htop.htop,\n",
        "      signal (receive) peer=snap.htop.htop,\n",
        "/etc/apparmor.d/local/usr.bin.firefox",
        "sudo apparmor_parser -r /etc/apparmor.d/usr.bin.firefox",
    ] {
        assert!(firefox.contains(needle), "missing {needle:?} in\n{firefox}");
    }
    let fdinfo = blocks[1];
    for needle in [
        "snap htop (app htop) from reading /proc/3480/fdinfo/3",
        "      /proc/3480/fdinfo/3 r,\n",
        "Interface system-observe grants it",
        "htop:system-observe is not connected",
        "      sudo confine connect htop:system-observe",
    ] {
        assert!(fdinfo.contains(needle), "missing {needle:?} in\n{fdinfo}");
    }
    let locks = blocks[2];
    assert!(locks.contains("      /proc/locks r,\n"), "{locks}");
    assert!(
        locks.contains("      sudo confine connect htop:system-observe"),
        "{locks}"
    );
    let ptrace = blocks[3];
    for needle in [
        "profile foo from reading the state of an\nunconfined process (ptrace read)",
        "Refused by the tracing process: profile foo",
        "      ptrace (read) peer=unconfined,\n",
    ] {
        assert!(ptrace.contains(needle), "missing {needle:?} in\n{ptrace}");
    }
    let mmap = blocks[4];
    for needle in [
        "profile hello-world-c from mapping\n/lib64/libc-2.27.so as executable code",
        "      /lib64/libc-2.27.so m,\n",
        "#include <abstractions/base>",
    ] {
        assert!(mmap.contains(needle), "missing {needle:?} in\n{mmap}");
    }
    assert_eq!(blocks[5], "5 distinct denials (5 records).\n");
}

fn explained(line: &str, ctx: &Context) -> confine_tools::denials::Explanation {
    let Line::Record(r) = parse_line(line) else {
        panic!("{line}")
    };
    explain(&r, ctx)
}

fn texts(x: &confine_tools::denials::Explanation) -> String {
    x.text
        .iter()
        .map(|p| match p {
            Para::Text(t) | Para::Rule(t) | Para::Command(t) => t.as_str(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_state_decides_the_advice() {
    let root = scratch_root();
    let ctx = Context::new(&Paths::new(root.path())).unwrap();
    let line = |op: &str, rest: &str| {
        format!(
            r#"audit: type=1400 audit(1.2:3): apparmor="DENIED" operation="{op}" profile="snap.htop.htop" pid=1 comm="htop" {rest}"#
        )
    };
    // Connected already: no command, and a hint that the denial is older.
    let x = explained(
        &line(
            "signal",
            r#"requested_mask="send" denied_mask="send" signal=kill peer="snap.other.app""#,
        ),
        &ctx,
    );
    assert_eq!(x.side, Some(Side::Sender));
    assert_eq!(
        x.interfaces[0].plug,
        PlugStatus::Connected {
            plug: "htop:process-control".into()
        }
    );
    assert_eq!(x.interfaces[0].command, None);
    assert!(
        texts(&x).contains("probably older than the connection"),
        "{}",
        texts(&x)
    );
    // Disconnected by the admin.
    let x = explained(
        &line(
            "open",
            r#"name="/proc/1/mounts" requested_mask="r" denied_mask="r" fsuid=0 ouid=0"#,
        ),
        &ctx,
    );
    assert_eq!(
        x.interfaces[0].plug,
        PlugStatus::DisconnectedByAdmin {
            plug: "htop:mount-observe".into()
        }
    );
    assert_eq!(
        x.interfaces[0].command.as_deref(),
        Some("sudo confine connect htop:mount-observe")
    );
    // Not declared: said so, and the command still given.
    let x = explained(
        &line(
            "open",
            r#"name="/var/log/syslog" requested_mask="r" denied_mask="r" fsuid=0 ouid=0"#,
        ),
        &ctx,
    );
    assert_eq!(x.interfaces[0].plug, PlugStatus::NotDeclared);
    assert!(
        texts(&x).contains("Snap htop does not declare a plug of interface log-observe"),
        "{}",
        texts(&x)
    );
    assert_eq!(
        x.interfaces[0].command.as_deref(),
        Some("sudo confine connect htop:log-observe")
    );
    // A snap that is not registered.
    let x = explained(
        r#"audit: type=1400 audit(1.2:3): apparmor="DENIED" operation="capable" profile="snap.other.app" pid=1 comm="x" capability=5  capname="kill""#,
        &ctx,
    );
    assert_eq!(x.interfaces[0].plug, PlugStatus::NotRegistered);
    assert_eq!(x.rule.as_deref(), Some("capability kill,"));
    // A state that cannot be read: unknown, with the reason.
    let blind = Context::with_state(
        Err("the list of connections is readable by root only: run with sudo to see it".into()),
        Path::new("/nonexistent"),
    )
    .unwrap();
    let x = explained(
        &line(
            "open",
            r#"name="/proc/locks" requested_mask="r" denied_mask="r" fsuid=1000 ouid=0"#,
        ),
        &blind,
    );
    assert!(matches!(x.interfaces[0].plug, PlugStatus::Unknown { .. }));
    assert!(
        texts(&x).contains("readable by root only: run with sudo"),
        "{}",
        texts(&x)
    );
    assert_eq!(
        x.interfaces[0].command.as_deref(),
        Some("sudo confine connect htop:system-observe")
    );
}

#[test]
fn non_snap_profiles_get_their_local_include() {
    let root = scratch_root();
    let ctx = Context::new(&Paths::new(root.path())).unwrap();
    // A named profile found in its file: the exact local include.
    let x = explained(
        r#"audit: type=1400 audit(1.2:3): apparmor="DENIED" operation="signal" profile="testprofile" pid=7 comm="kill" requested_mask="receive" denied_mask="receive" signal=term peer="snap.alpha.app""#,
        &ctx,
    );
    let t = texts(&x);
    assert!(t.contains("defined in /etc/apparmor.d/denials.testprofile, whose local include is /etc/apparmor.d/local/denials.testprofile"), "{t}");
    assert!(
        t.contains("sudo apparmor_parser -r /etc/apparmor.d/denials.testprofile"),
        "{t}"
    );
    // A plain path profile not found: the usual naming.
    let x = explained(
        r#"audit: type=1400 audit(1.2:3): apparmor="DENIED" operation="open" profile="/usr/bin/evince" name="/snap/x" pid=7 comm="evince" requested_mask="r" denied_mask="r" fsuid=0 ouid=0"#,
        &ctx,
    );
    assert!(
        texts(&x).contains("/etc/apparmor.d/local/usr.bin.evince"),
        "{}",
        texts(&x)
    );
    // The firefox record without its profile file: named after the file,
    // which the glob does not give.
    let bare = Context::with_state(Err("x".into()), Path::new("/nonexistent")).unwrap();
    let x = explained(
        fs::read_to_string(fixture("real.log")).unwrap().lines().next().unwrap(),
        &bare,
    );
    let t = texts(&x);
    assert!(t.contains("a glob, which does not give the name of its file"), "{t}");
    assert!(t.contains("/etc/apparmor.d/local/FILE"), "{t}");
}

#[test]
fn seccomp_explanations() {
    let bare = Context::with_state(Err("x".into()), Path::new("/nonexistent")).unwrap();
    let x = explained(
        r#"audit: type=1326 audit(1.2:3): auid=0 uid=0 gid=0 ses=1 subj=snap.alpha.app (enforce) pid=9 comm="nice" exe="/usr/bin/nice" sig=0 arch=c000003e syscall=141 compat=0 ip=0x1 code=0x50000"#,
        &bare,
    );
    assert_eq!(x.mechanism, "seccomp");
    assert_eq!(x.rule.as_deref(), Some("setpriority"));
    assert_eq!(x.interfaces[0].interface, "process-control");
    let t = texts(&x);
    assert!(t.contains("setpriority PRIO_PROCESS 0 <=19"), "{t}");
    assert!(t.contains("only when logging is on"), "{t}");
    // No interface allows it.
    let x = explained(
        r#"audit: type=1326 audit(1.2:3): auid=0 uid=0 gid=0 ses=1 subj=snap.alpha.app pid=9 comm="x" exe="/x" sig=0 arch=c000003e syscall=165 compat=0 ip=0x1 code=0x50000"#,
        &bare,
    );
    assert_eq!(x.rule.as_deref(), Some("mount"));
    assert!(x.interfaces.is_empty());
    assert!(
        texts(&x).contains("No interface's seccomp rules allow mount."),
        "{}",
        texts(&x)
    );
    // An unknown architecture keeps the number.
    let x = explained(
        r#"audit: type=1326 audit(1.2:3): subj=snap.alpha.app pid=9 comm="x" sig=0 arch=1234 syscall=7 code=0x0"#,
        &bare,
    );
    assert!(x.summary.contains("number 7 (unknown on 0x1234)"), "{}", x.summary);
    assert!(x.summary.contains("killed the thread"), "{}", x.summary);
}

#[test]
fn records_from_the_vm_suite() {
    // Snaps alpha (process-control and system-observe declared, not
    // connected) and beta (no plugs), as the VM suite registers them.
    let root = scratch_root();
    let paths = Paths::new(root.path());
    state::update(&paths, |s: &mut State| -> Result<(), state::Error> {
        let yaml = |name: &str, plugs: &str| {
            format!("name: {name}\nversion: '1'\napps:\n  app:\n    command: bin/app\n{plugs}")
        };
        for (name, plugs) in [
            ("alpha", "plugs:\n  process-control:\n  system-observe:\n"),
            ("beta", ""),
        ] {
            s.snaps.insert(
                name.into(),
                SnapState {
                    revision: "1".into(),
                    snap_dir: format!("/snap/{name}/1"),
                    snap_yaml: yaml(name, plugs),
                    implicit_hooks: Vec::new(),
                },
            );
        }
        Ok(())
    })
    .unwrap();
    let ctx = Context::new(&paths).unwrap();
    let text = fs::read_to_string(fixture("vm-guest.log")).unwrap();
    let mut c = confine_tools::denials::Collector::new(&ctx, confine_tools::denials::Filter::default());
    for l in text.lines() {
        c.add_line(l);
    }
    assert_eq!((c.groups.len(), c.skipped), (7, 0));
    let row = |i: usize| {
        let x = &c.groups[i].explanation;
        let interfaces: Vec<String> = x
            .interfaces
            .iter()
            .map(|h| format!("{} {:?}", h.interface, h.command))
            .collect();
        (
            x.snap().map(str::to_owned),
            x.rule.clone().unwrap_or_default(),
            x.side,
            interfaces,
        )
    };
    let some = |s: &str| Some(s.to_owned());
    let cmd = |s: &str| format!("Some(\"sudo confine connect {s}\")");
    assert_eq!(
        row(0),
        (
            some("alpha"),
            "/proc/locks r,".into(),
            None,
            vec![format!("system-observe {}", cmd("alpha:system-observe"))]
        )
    );
    assert_eq!(
        row(1),
        (
            some("beta"),
            "/proc/locks r,".into(),
            None,
            vec![format!("system-observe {}", cmd("beta:system-observe"))]
        )
    );
    assert_eq!(
        row(2),
        (
            some("alpha"),
            "signal (send) set=(term) peer=testprofile,".into(),
            Some(Side::Sender),
            vec![]
        )
    );
    // testprofile's own denial: the snap is the other side.
    assert_eq!(
        row(3),
        (
            some("alpha"),
            "signal (receive) set=(term) peer=snap.alpha.app,".into(),
            Some(Side::Receiver),
            vec![]
        )
    );
    assert!(texts(&c.groups[3].explanation).contains("/etc/apparmor.d/local/denials.testprofile"));
    assert!(c.groups[3].notes[0].starts_with("Both ends refused"));
    assert_eq!(
        row(4),
        (
            some("beta"),
            "signal (receive) set=(term) peer=testprofile,".into(),
            Some(Side::Receiver),
            vec![]
        )
    );
    assert_eq!(
        row(5),
        (
            some("alpha"),
            "ptrace (read) peer=unconfined,".into(),
            Some(Side::Tracer),
            vec![
                format!("process-control {}", cmd("alpha:process-control")),
                format!("system-observe {}", cmd("alpha:system-observe"))
            ]
        )
    );
    assert_eq!(
        row(6),
        (
            some("alpha"),
            "setpriority".into(),
            None,
            vec![format!("process-control {}", cmd("alpha:process-control"))]
        )
    );
}
