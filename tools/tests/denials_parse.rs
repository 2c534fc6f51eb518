//! Table tests of the denial parser and explainer: one record of every
//! kind of operation and mask, in every shape the logs give them, each
//! parsed, classified and explained (snap, app, the missing rule, the
//! interfaces that grant it); then lines cut short or garbled, which are
//! skipped and counted, never a crash.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::Path;

use confine_tools::denials::group::{Collector, Filter};
use confine_tools::denials::record::{Event, Form, Time};
use confine_tools::denials::{explain, parse_line, Context, Line, Record};

#[path = "support/denial_cases.rs"]
mod denial_cases;
use denial_cases::{Case, CASES};

/// A context that knows the interfaces but not the state (connections
/// unknown) and no profile files.
fn ctx() -> Context {
    Context::with_state(Err("no state in this test".into()), Path::new("/nonexistent")).unwrap()
}

fn line_of(c: &Case) -> String {
    c.line.replace("<GS>", "\u{1d}")
}

fn record(line: &str) -> Record {
    match parse_line(line) {
        Line::Record(r) => *r,
        other => panic!("not a record: {other:?}\n{line}"),
    }
}

#[test]
fn every_kind_is_parsed_and_explained() {
    assert!(CASES.len() >= 45, "{}", CASES.len());
    let ctx = ctx();
    for c in CASES {
        let r = record(&line_of(c));
        let (kind, what, profile) = match &r.event {
            Event::AppArmor(e) => ("apparmor", e.operation.clone(), e.profile.clone()),
            Event::Seccomp(e) => (
                "seccomp",
                e.syscall_name.clone().unwrap_or_default(),
                e.label.clone().unwrap_or_default(),
            ),
        };
        assert_eq!(
            (kind, what.as_str(), profile.as_str()),
            (c.kind, c.what, c.profile),
            "{}",
            c.name
        );
        let x = explain(&r, &ctx);
        assert_eq!(x.rule.as_deref(), Some(c.rule), "{}: rule", c.name);
        let refused = x.refused_by.as_ref();
        assert_eq!(refused.and_then(|s| s.snap()), c.snap, "{}: snap", c.name);
        let app = refused.and_then(|s| match s {
            confine_tools::denials::subject::Subject::App { app, .. } => Some(app.as_str()),
            confine_tools::denials::subject::Subject::Hook { hook, .. } => Some(hook.as_str()),
            _ => None,
        });
        assert_eq!(app, c.app, "{}: app", c.name);
        let names: Vec<&str> = x.interfaces.iter().map(|i| i.interface.as_str()).collect();
        assert_eq!(names, c.interfaces, "{}: interfaces", c.name);
        assert!(!x.summary.is_empty() && !x.text.is_empty(), "{}", c.name);
        // An interface that grants it comes with the command that connects it.
        for i in &x.interfaces {
            if let (Some(snap), Some(_)) = (c.snap, c.app) {
                let cmd = format!("sudo confine connect {snap}:{}", i.interface);
                assert_eq!(i.command.as_deref(), Some(cmd.as_str()), "{}", c.name);
            }
        }
    }
}

#[test]
fn specific_fields() {
    let get = |name: &str| -> Record { record(&line_of(CASES.iter().find(|c| c.name == name).unwrap())) };
    let aa = |r: &Record| match &r.event {
        Event::AppArmor(e) => e.clone(),
        _ => panic!("not AppArmor"),
    };
    // Hex-encoded values are decoded; quoted ones with spaces kept whole.
    assert_eq!(aa(&get("hex name")).field("name"), Some("/tmp/my file"));
    assert_eq!(
        aa(&get("quoted name with spaces")).field("name"),
        Some("/home/u/My Documents/notes.txt")
    );
    assert_eq!(
        aa(&get("syslog ISO line, complain mode, hex comm")).field("comm"),
        Some("my app")
    );
    assert!(aa(&get("syslog ISO line, complain mode, hex comm")).allowed());
    // Signals and ptrace.
    let s = aa(&get("signal receive refused by a non-snap profile"));
    assert_eq!(
        (s.field("signal"), s.peer(), s.denied()),
        (Some("term"), Some("snap.htop.htop"), "receive")
    );
    assert_eq!(aa(&get("ptrace readby")).denied(), "readby");
    // Capabilities by name and by number.
    assert_eq!(aa(&get("capable by name")).field("capname"), Some("sys_admin"));
    assert_eq!(aa(&get("capable by number")).number("capability"), Some(12));
    // Sockets.
    let u = aa(&get("unix connect"));
    assert_eq!(
        (
            u.field("family"),
            u.field("sock_type"),
            u.field("protocol"),
            u.field("peer_addr")
        ),
        (Some("unix"), Some("stream"), Some("0"), Some("@/tmp/.X11-unix/X0"))
    );
    // Mounts.
    let m = aa(&get("mount"));
    assert_eq!(
        (m.field("fstype"), m.field("flags"), m.field("error")),
        (Some("tmpfs"), Some("rw, nosuid"), Some("-13"))
    );
    // D-Bus records: the fields inside msg='...', the label as the profile.
    let d = aa(&get("dbus method call (kernel form)"));
    assert_eq!(
        (d.field("member"), d.peer(), d.field("pid")),
        (Some("GetAll"), Some("unconfined"), Some("1234"))
    );
    // seccomp: architecture, number, name, action, label without its mode.
    for (name, arch, nr, call) in [
        ("seccomp x86_64", "x86_64", 141, "setpriority"),
        ("seccomp i386", "i386", 26, "ptrace"),
        ("seccomp auditd with enrichment", "x86_64", 272, "unshare"),
    ] {
        let Event::Seccomp(e) = get(name).event else {
            panic!("{name}")
        };
        assert_eq!(
            (e.arch_name.as_deref(), e.syscall, e.syscall_name.as_deref(), e.code),
            (Some(arch), nr, Some(call), 0x50000),
            "{name}"
        );
        assert_eq!(e.label.as_deref(), Some("snap.a.app"), "{name}");
        assert!(e.action().refused());
    }
    let Event::Seccomp(e) = get("seccomp auditd with enrichment").event else {
        panic!()
    };
    assert_eq!(
        e.field("code"),
        Some("0x50000"),
        "the enrichment after \\x1d is dropped"
    );
}

#[test]
fn the_other_end_is_named() {
    let ctx = ctx();
    let text = |name: &str| -> String {
        let x = explain(&record(&line_of(CASES.iter().find(|c| c.name == name).unwrap())), &ctx);
        x.text
            .iter()
            .map(|p| match p {
                confine_tools::denials::explain::Para::Text(t)
                | confine_tools::denials::explain::Para::Rule(t)
                | confine_tools::denials::explain::Para::Command(t) => t.clone(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let t = text("signal send to a non-snap profile");
    assert!(
        t.contains("The receiver's side: profile testprofile must accept it too"),
        "{t}"
    );
    assert!(t.contains("\nsignal (receive) set=(usr1) peer=snap.a.app,"), "{t}");
    assert!(
        t.contains("No interface grants sending signals to a process under profile testprofile."),
        "{t}"
    );
    let t = text("ptrace trace of a non-snap profile");
    assert!(t.contains("\nptrace (tracedby) peer=snap.a.app,"), "{t}");
    let t = text("signal receive refused by a non-snap profile");
    assert!(
        t.contains("The sender's side: AppArmor checks the sender's profile too"),
        "{t}"
    );
    let t = text("signal send to a snap");
    assert!(t.contains("snaps accept signals from other snaps"), "{t}");
}

#[test]
fn forms_and_times() {
    let form = |name: &str| {
        let r = record(&line_of(CASES.iter().find(|c| c.name == name).unwrap()));
        (r.form, r.time, r.serial)
    };
    let t = |secs, millis| Some(Time { secs, millis });
    assert_eq!(form("kmsg prefix, hook"), (Form::Kernel, t(1600000038, 38), Some(38)));
    assert_eq!(
        form("dmesg prefix, instance key"),
        (Form::Kernel, t(1600000039, 39), Some(39))
    );
    assert_eq!(form("dmesg -T prefix"), (Form::Kernel, t(1600000042, 42), Some(42)));
    assert_eq!(
        form("journal kernel line, snap-update-ns"),
        (Form::Kernel, t(1600000040, 40), Some(40))
    );
    // The journal's audit transport has no stamp, and a syslog time
    // without a year gives none.
    assert_eq!(form("journal audit transport"), (Form::Journal, None, None));
    assert_eq!(
        form("file_mmap (auditd)"),
        (Form::Auditd, t(1547564894, 993), Some(588))
    );
    assert_eq!(form("seccomp auditd with enrichment").0, Form::Auditd);
    assert_eq!(form("ptrace read"), (Form::Kernel, t(1402083549, 185), Some(782)));
    // With journalctl -o short-unix or short-iso, the line's own time is used.
    let r = record(
        r#"1600000050.250000 host audit[9]: AVC apparmor="DENIED" operation="open" profile="snap.a.app" name="/x" pid=9 comm="c" requested_mask="r" denied_mask="r" fsuid=0 ouid=0"#,
    );
    assert_eq!((r.form, r.time), (Form::Journal, t(1600000050, 250)));
    let r = record(
        r#"2020-09-13T12:27:30+0000 host audit[9]: SECCOMP auid=0 uid=0 gid=0 ses=1 subj=snap.a.app pid=9 comm="c" exe="/x" sig=0 arch=c000003e syscall=101 compat=0 ip=0x1 code=0x50000"#,
    );
    assert_eq!((r.form, r.time), (Form::Journal, t(1600000050, 0)));
    // Fields alone, as pasted.
    let r = record(
        r#"apparmor="DENIED" operation="open" profile="snap.a.app" name="/x" requested_mask="r" denied_mask="r""#,
    );
    assert_eq!((r.form, r.time), (Form::Fields, None));
}

/// Lines cut short or garbled, with the reason they are skipped.
const BROKEN: &[(&str, &str)] = &[
    (
        r#"audit: type=1400 audit(1539448717.077:424): apparmor="DENIED" operation="open" profile="snap.htop.htop" name="/proc/lo"#,
        "cut short",
    ),
    (
        r#"audit: type=1400 audit(1539448717.077:424): apparmor="DENIED" operation="open" profile="snap.htop.htop" name="/proc/locks" pid=4782 comm="lsof" requested_mask="r" denied_ma"#,
        "garbled",
    ),
    (r#"audit: type=1400 audit(1539448717.07"#, "no apparmor="),
    (
        r#"audit: type=1400 audit(1539448717.077:424): apparmor="DENIED" operation="open" profile="snap.htop.htop""#,
        "without name=",
    ),
    (
        r#"audit: type=1400 audit(1539448717.077:424): apparmor="DENIED" operation="sig"#,
        "cut short",
    ),
    (
        r#"audit: type=1400 audit(1525183610.173:770): apparmor="DENIED" operation="signal" profile="x" pid=1 comm="htop" requested_mask="receive" denied_mask="receive" signal=term"#,
        "without peer=",
    ),
    (
        r#"type=1400 audit(1.2:3): apparmor="DENIED" operation="open""#,
        "no profile=",
    ),
    (
        r#"type=1400 audit(1.2:3): apparmor="DENIED" operation="open" profile="p" name="/x" pid=abc requested_mask="r""#,
        "pid is not a number",
    ),
    (
        r#"type=1400 audit(1.2:3): apparmor="DENIED" operation="open" profile="p" name=2F746 requested_mask="r""#,
        "hex value of name is cut short",
    ),
    (
        r#"audit: type=1326 audit(1.2:3): auid=0 uid=0 gid=0 ses=1 pid=1 comm="x" exe="/x" sig=0 arch=c000003e sysc"#,
        "without syscall=",
    ),
    (
        r#"audit: type=1326 audit(1.2:3): auid=0 uid=0 gid=0 ses=1 pid=1 comm="x" exe="/x" sig=0 arch=c000003e syscall=1"#,
        "without code=",
    ),
    (
        r#"audit: type=1326 audit(1.2:3): arch=zz syscall=1 code=0x50000"#,
        "arch is not a hex number",
    ),
    (
        r#"audit: type=1326 audit(1.2:3): arch=c000003e syscall=-5 code=0x50000"#,
        "syscall is not a number",
    ),
    ("\u{0}\u{ff}garbage apparmor=\"DEN", "cut short"),
    (
        r#"type=1400 audit(1.2:3): apparmor="DENIED" operation="ptrace" profile="p" requested_mask="read" denied_mask="read""#,
        "without peer=",
    ),
    (
        r#"type=1400 audit(1.2:3): apparmor="DENIED" operation="capable" profile="p" pid=1 comm="x""#,
        "without capname=",
    ),
];

/// Lines that are no record of ours: not counted as skipped.
const OTHER: &[&str] = &[
    "",
    "asdf qwer",
    "[    0.000000] Linux version 6.1.0-13-amd64",
    r#"audit: type=1400 audit(1.2:3): apparmor="STATUS" operation="profile_load" profile="unconfined" name="snap.a.app" pid=1 comm="apparmor_parser""#,
    r#"type=SYSCALL msg=audit(1.2:3): arch=c000003e syscall=2 success=no exit=-13"#,
    r#"type=USER_AVC msg=audit(1.2:3): pid=1 uid=0 msg='avc:  denied  { send_msg } for scontext=x'"#,
    " SUBSYSTEM=tty",
];

#[test]
fn broken_lines_are_skipped_with_the_reason() {
    for (line, why) in BROKEN {
        match parse_line(line) {
            Line::Skipped(reason) => assert!(reason.contains(why), "{line}: {reason}"),
            other => panic!("{line}: {other:?}"),
        }
    }
    for line in OTHER {
        assert_eq!(parse_line(line), Line::Other, "{line}");
    }
    // Counted, next to the good ones.
    let ctx = ctx();
    let mut c = Collector::new(&ctx, Filter::default());
    for l in BROKEN.iter().map(|(l, _)| *l).chain(OTHER.iter().copied()) {
        c.add_line(l);
    }
    for case in CASES {
        c.add_line(&line_of(case));
    }
    assert_eq!(
        (c.skipped, c.other, c.groups.len()),
        (BROKEN.len(), OTHER.len(), CASES.len())
    );
    assert_eq!(c.skip_examples.len(), 5);
    let text = confine_tools::denials::render::totals_text(&c);
    assert!(
        text.contains(&format!(
            "Skipped {} lines that could not be read as records",
            BROKEN.len()
        )),
        "{text}"
    );
}

#[test]
fn repeats_are_grouped_and_duplicates_dropped() {
    let ctx = ctx();
    let mut c = Collector::new(&ctx, Filter::default());
    let a = r#"audit: type=1400 audit(1539448717.077:424): apparmor="DENIED" operation="open" profile="snap.htop.htop" name="/proc/locks" pid=4782 comm="lsof" requested_mask="r" denied_mask="r" fsuid=1000 ouid=0"#;
    c.add_line(a);
    // The same record from another log (dmesg, the journal): dropped.
    c.add_line(&format!("[ 1.5] {a}"));
    c.add_line(&format!("May 01 14:06:50 host kernel: {a}"));
    // The same denial later, by another process: grouped.
    c.add_line(&a.replace("077:424", "999:425").replace("4782", "4790"));
    c.add_line(&a.replace("077:424", "500:426").replace("1539448717", "1539448800"));
    // A different file: another group.
    c.add_line(&a.replace("077:424", "1:427").replace("/proc/locks", "/proc/swaps"));
    assert_eq!(c.groups.len(), 2);
    assert_eq!((c.groups[0].count, c.records, c.duplicates), (3, 4, 2));
    assert_eq!(c.groups[0].first.unwrap().secs, 1539448717);
    assert_eq!(c.groups[0].last.unwrap().secs, 1539448800);
}

#[test]
fn both_ends_of_a_signal_are_matched() {
    let ctx = ctx();
    let mut c = Collector::new(&ctx, Filter::default());
    c.add_line(r#"audit: type=1400 audit(1600000100.001:1): apparmor="DENIED" operation="signal" profile="snap.alpha.app" pid=10 comm="kill" requested_mask="send" denied_mask="send" signal=term peer="testprofile""#);
    c.add_line(r#"audit: type=1400 audit(1600000100.001:2): apparmor="DENIED" operation="signal" profile="testprofile" pid=10 comm="kill" requested_mask="receive" denied_mask="receive" signal=term peer="snap.alpha.app""#);
    c.add_line(r#"audit: type=1400 audit(1600000100.001:3): apparmor="DENIED" operation="signal" profile="snap.beta.app" pid=11 comm="kill" requested_mask="receive" denied_mask="receive" signal=term peer="testprofile""#);
    assert_eq!(c.groups.len(), 3);
    assert!(
        c.groups[0].notes[0].starts_with("Both ends refused: the receiver (profile testprofile)"),
        "{:?}",
        c.groups[0].notes
    );
    assert!(
        c.groups[1].notes[0].starts_with("Both ends refused: the sender (snap alpha (app app))"),
        "{:?}",
        c.groups[1].notes
    );
    assert!(c.groups[2].notes.is_empty());
}

#[test]
fn filters() {
    let ctx = ctx();
    let mut c = Collector::new(
        &ctx,
        Filter {
            since: Some(Time {
                secs: 1600000017,
                millis: 0,
            }),
            snap: Some("b".into()),
        },
    );
    for case in CASES {
        c.add_line(&line_of(case));
    }
    // From that time on, and about snap b on either side.
    let summaries: Vec<&str> = c.groups.iter().map(|g| g.explanation.summary.as_str()).collect();
    assert_eq!(
        summaries,
        vec![
            "AppArmor stopped a process under profile testprofile from sending SIGHUP to a process of snap b (app app)",
            "AppArmor stopped snap a (app app) from tracing a process of snap b (app app) (ptrace trace)",
        ]
    );
    let mut c = Collector::new(
        &ctx,
        Filter {
            since: None,
            snap: Some("b".into()),
        },
    );
    for case in CASES {
        c.add_line(&line_of(case));
    }
    let summaries: Vec<&str> = c.groups.iter().map(|g| g.explanation.summary.as_str()).collect();
    assert_eq!(
        summaries,
        vec![
            "AppArmor stopped snap a (app app) from sending SIGTERM to a process of snap b (app app)",
            "AppArmor stopped a process under profile testprofile from sending SIGHUP to a process of snap b (app app)",
            "AppArmor stopped snap a (app app) from tracing a process of snap b (app app) (ptrace trace)",
        ]
    );
}

#[test]
fn deny_rules_and_owner_rules() {
    let ctx = ctx();
    // home denies writing ~/bin: its deny rule wins over its allow rules.
    let x = explain(
        &record(
            r#"audit: type=1400 audit(1.2:3): apparmor="DENIED" operation="open" profile="snap.a.app" name="/root/bin/x" pid=1 comm="cp" requested_mask="wc" denied_mask="wc" fsuid=0 ouid=0"#,
        ),
        &ctx,
    );
    assert_eq!(x.rule.as_deref(), Some("/root/bin/x w,"));
    assert_eq!(x.interfaces.len(), 1);
    assert!(x.interfaces[0].deny && x.interfaces[0].command.is_none());
    assert_eq!(x.interfaces[0].rule, "audit deny @{HOME}/bin/{,**} wl");
    // An owner rule does not help with another user's file: no command.
    let x = explain(
        &record(
            r#"audit: type=1400 audit(1.2:4): apparmor="DENIED" operation="open" profile="snap.a.app" name="/root/notes.txt" pid=1 comm="cat" requested_mask="r" denied_mask="r" fsuid=1000 ouid=0"#,
        ),
        &ctx,
    );
    assert_eq!(x.interfaces.len(), 1);
    assert!(x.interfaces[0].owner_only && x.interfaces[0].command.is_none());
    // The same file owned by the process: the command is given.
    let x = explain(
        &record(
            r#"audit: type=1400 audit(1.2:5): apparmor="DENIED" operation="open" profile="snap.a.app" name="/root/notes.txt" pid=1 comm="cat" requested_mask="r" denied_mask="r" fsuid=0 ouid=0"#,
        ),
        &ctx,
    );
    assert_eq!(x.interfaces[0].command.as_deref(), Some("sudo confine connect a:home"));
}
