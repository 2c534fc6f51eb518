#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
use super::*;

fn snapd_files() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/snapd-fstab");
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".fstab"))
        .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read_to_string(e.path()).unwrap()))
        .collect();
    out.sort();
    out
}

#[test]
fn snapds_own_files_round_trip() {
    let files = snapd_files();
    assert!(files.len() >= 60, "{}", files.len());
    let mut entries = 0;
    for (name, text) in &files {
        let profile = MountProfile::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let without_comments: String = text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).map(|l| format!("{l}\n")).collect();
        assert_eq!(profile.to_string(), without_comments, "{name}");
        assert_eq!(MountProfile::parse(&profile.to_string()).unwrap(), profile, "{name}");
        entries += profile.entries.len();
    }
    assert!(entries > 150, "{entries}");
}

#[test]
fn fields_and_options() {
    let e = MountEntry::parse("tmpfs /opt tmpfs x-snapd.synthetic,x-snapd.needed-by=/opt/foo,mode=0755,uid=0,gid=0 0 0").unwrap();
    assert_eq!((e.name.as_str(), e.dir.as_str(), e.fstype.as_str()), ("tmpfs", "/opt", "tmpfs"));
    assert!(e.is_synthetic() && !e.detach() && !e.is_bind());
    assert_eq!(e.needed_by(), Some("/opt/foo"));
    assert_eq!(e.id(), "/opt");
    assert_eq!(e.opt_str("mode"), Some("0755"));
    assert_eq!(e.origin(), Origin::Other);
    assert_eq!(e.kind(), Kind::Directory);

    let e = MountEntry::parse("none /usr/foo none x-snapd.kind=symlink,x-snapd.symlink=/snap/a/1/foo,x-snapd.origin=layout 0 0").unwrap();
    assert_eq!((e.kind(), e.origin(), e.symlink_target()), (Kind::Symlink, Origin::Layout, Some("/snap/a/1/foo")));
    // "none" is read back as it is written: a name, not nothing.
    assert_eq!(e.name, "none");

    let e = MountEntry::parse("/a /b none rbind,x-snapd.origin=overname,x-snapd.mode=01777,x-snapd.user=0,x-snapd.group=0").unwrap();
    assert!(e.is_bind());
    assert_eq!(e.origin(), Origin::Overname);
    assert_eq!(e.mode(), Ok(Some(0o1777)));
    assert_eq!((e.user(), e.group()), (Ok(Some(0)), Ok(Some(0))));
    assert_eq!((e.dump_frequency, e.check_pass), (0, 0));
    assert_eq!(e.to_string(), "/a /b none rbind,x-snapd.origin=overname,x-snapd.mode=01777,x-snapd.user=0,x-snapd.group=0 0 0");

    for (opt, ok) in [("x-snapd.mode=0755", true), ("x-snapd.mode=755", false), ("x-snapd.mode=0999", false), ("x-snapd.mode=0", false), ("x-snapd.mode=077777", false)] {
        let e = MountEntry { options: vec![opt.into()], ..MountEntry::default() };
        assert_eq!(e.mode().is_ok(), ok, "{opt}");
    }
    let e = MountEntry { options: vec!["x-snapd.user=root".into(), "x-snapd.gid=12".into()], ..MountEntry::default() };
    assert!(e.user().is_err());
    assert_eq!(e.group(), Ok(Some(12)));
    let e = MountEntry { options: vec!["x-snapd.kind=socket".into(), "x-snapd.id=z".into()], ..MountEntry::default() };
    assert_eq!((e.kind(), e.id()), (Kind::Unknown, "z"));
}

#[test]
fn empty_fields_and_defaults() {
    let e = MountEntry::default();
    assert_eq!(e.to_string(), "none none none defaults 0 0");
    let e = MountEntry::parse("a b c").unwrap();
    assert_eq!(e, MountEntry { name: "a".into(), dir: "b".into(), fstype: "c".into(), ..MountEntry::default() });
    assert_eq!(e.to_string(), "a b c defaults 0 0");
    let e = MountEntry::parse("a\tb  c\tro,bind\t+3 -1").unwrap();
    assert_eq!((e.options.clone(), e.dump_frequency, e.check_pass), (vec!["ro".to_string(), "bind".to_string()], 3, -1));
    assert_eq!(MountEntry::parse("a b c d 1 2 # a comment").unwrap().check_pass, 2);
    assert_eq!(MountEntry::parse("a b c #d 1 2").unwrap().options, Vec::<String>::new());
}

#[test]
fn escapes() {
    let e = MountEntry { name: "/a b\tc".into(), dir: "/x\\y\nz".into(), fstype: "none".into(), options: vec!["x-snapd.symlink=/p q".into()], ..MountEntry::default() };
    let line = e.to_string();
    assert_eq!(line, "/a\\040b\\011c /x\\134y\\012z none x-snapd.symlink=/p\\040q 0 0");
    assert_eq!(MountEntry::parse(&line).unwrap(), e);
    // Escapes are read left to right, once: "\134040" is a backslash and "040".
    assert_eq!(unescape("\\134040"), "\\040");
    assert_eq!(unescape("\\041 \\04 \\"), "\\041 \\04 \\");
    assert_eq!(escape("\\040"), "\\134040");
    assert_eq!(unescape("é\\040ü"), "é ü");
}

#[test]
fn bad_lines() {
    for (text, message) in [
        ("a b", "expected between 3 and 6 fields, found 2"),
        ("a b c d e f g", "expected between 3 and 6 fields, found 7"),
        ("a b c d x", "cannot parse dump frequency: \"x\""),
        ("a b c d 0 1.5", "cannot parse check pass number: \"1.5\""),
        ("a b c d 0 99999999999", "cannot parse check pass number: \"99999999999\""),
        ("a b c d 0 +", "cannot parse check pass number: \"+\""),
    ] {
        assert_eq!(MountEntry::parse(text).unwrap_err().message, message, "{text}");
    }
    let e = MountProfile::parse("# c\n\n/a /b none bind 0 0\n/x\n").unwrap_err();
    assert_eq!(e.to_string(), "cannot parse mount entry on line 4: expected between 3 and 6 fields, found 1");
    assert_eq!(MountProfile::parse("").unwrap(), MountProfile::default());
    assert_eq!(MountProfile::default().to_string(), "");
}

#[test]
fn garbage_never_panics() {
    let pieces = ["a", " ", "\t", "\\", "0", "4", "#", ",", "=", "x-snapd.mode=", "\n", "é", "-", "+", "9"];
    let mut x: u64 = 7;
    for _ in 0..20_000 {
        let mut s = String::new();
        for _ in 0..(x % 40) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            s.push_str(pieces[(x % pieces.len() as u64) as usize]);
        }
        if let Ok(p) = MountProfile::parse(&s) {
            for e in &p.entries {
                let _ = (e.mode(), e.user(), e.group(), e.kind(), e.origin());
            }
            // Whatever parses prints as text that reads back to the same
            // text (no options print as "defaults", which reads back as
            // that one option, as in snapd).
            let text = p.to_string();
            assert_eq!(MountProfile::parse(&text).unwrap().to_string(), text, "{s:?}");
        }
    }
}
