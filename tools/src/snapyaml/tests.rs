#![allow(clippy::unwrap_used, clippy::indexing_slicing)]
use super::*;

const FULL: &str = r#"
name: hello
version: 1.0
summary: says hello
base: core22
grade: devel
confinement: strict
environment:
  LANG: C.UTF-8
plugs:
  shared-home:
    interface: home
    read: all
  net: network
slots:
  api:
    interface: content
    content: api
apps:
  hello:
    command: bin/hello --loud
    command-chain: [bin/wrapper]
    plugs: [network-bind, serial]
    environment:
      MODE: fast
  web:
    command: bin/web
    daemon: simple
    restart-condition: always
hooks:
  configure:
    plugs: [log-observe]
  not-a-known-hook: {}
"#;

#[test]
fn parses_everything_it_knows() {
    let y = parse(FULL).unwrap();
    assert_eq!(y.name, "hello");
    assert_eq!(y.version, "1.0");
    assert_eq!(y.base.as_deref(), Some("core22"));
    assert_eq!(y.grade, Grade::Devel);
    assert_eq!(y.confinement, Confinement::Strict);
    assert_eq!(y.environment, vec![("LANG".into(), "C.UTF-8".into())]);
    let hello = &y.apps["hello"];
    assert_eq!(hello.command, "bin/hello --loud");
    assert_eq!(hello.command_chain, vec!["bin/wrapper"]);
    assert_eq!(hello.environment, vec![("MODE".into(), "fast".into())]);
    assert_eq!(y.apps["web"].daemon, Some(Daemon::Simple));
    // Unsupported hook names are dropped.
    assert_eq!(y.hooks.keys().collect::<Vec<_>>(), vec!["configure"]);
    assert_eq!(y.plugs["shared-home"].attrs["read"], serde_json::json!("all"));
}

#[test]
fn binds_plugs_like_snapd() {
    let y = parse(FULL).unwrap();
    // Declared at the top, used by nobody: bound to every app and hook.
    let net = &y.plugs["net"];
    assert_eq!(net.interface, "network");
    assert_eq!(net.apps, vec!["hello", "web"]);
    assert_eq!(net.hooks, vec!["configure"]);
    // Used by an app without a top-level declaration: implicit plug.
    let bind = &y.plugs["network-bind"];
    assert_eq!(bind.interface, "network-bind");
    assert_eq!(bind.apps, vec!["hello"]);
    assert!(bind.hooks.is_empty());
    let log = &y.plugs["log-observe"];
    assert!(log.apps.is_empty());
    assert_eq!(log.hooks, vec!["configure"]);
    let names: Vec<&str> = y.plugs_of("hello", false).iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, vec!["net", "network-bind", "serial", "shared-home"]);
    assert_eq!(y.slots["api"].apps, vec!["hello", "web"]);
}

fn error(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

#[test]
fn errors_name_the_field() {
    let base = "name: a1\nversion: '1'\n";
    assert_eq!(error("version: 1\n"), "cannot use snap.yaml: name: missing");
    assert_eq!(
        error("name: Hello\nversion: 1\n"),
        "cannot use snap.yaml: name: snap name must use lower case letters, digits or dashes"
    );
    assert!(
        error("name: a1\nversion: '-1'\n").starts_with("cannot use snap.yaml: version: \"-1\" is not a valid version")
    );
    assert_eq!(
        error(&format!("{base}confinement: loose\n")),
        "cannot use snap.yaml: confinement: unknown confinement \"loose\" (expected strict, classic or devmode)"
    );
    assert_eq!(
        error(&format!("{base}grade: gold\n")),
        "cannot use snap.yaml: grade: unknown grade \"gold\" (expected stable or devel)"
    );
    assert_eq!(
        error(&format!("{base}apps:\n  x:\n    command: a\n    daemon: forever\n")),
        "cannot use snap.yaml: apps.x.daemon: unknown daemon type \"forever\" (expected simple, forking, oneshot, dbus or notify)"
    );
    assert_eq!(
        error(&format!("{base}apps:\n  x: {{}}\n")),
        "cannot use snap.yaml: apps.x.command: missing"
    );
    assert!(error(&format!("{base}apps:\n  x:\n    command: a;b\n"))
        .starts_with("cannot use snap.yaml: apps.x.command: \"a;b\" is not a valid command"));
    assert_eq!(
        error(&format!("{base}apps:\n  x_y:\n    command: a\n")),
        "cannot use snap.yaml: apps.x_y: \"x_y\" is not a valid app name"
    );
    assert_eq!(
        error(&format!(
            "{base}apps:\n  x:\n    command: a\n    command-chain: [\"a b\"]\n"
        )),
        "cannot use snap.yaml: apps.x.command-chain[0]: \"a b\" is not a valid command chain entry (no spaces)"
    );
    assert_eq!(
        error(&format!("{base}apps:\n  x:\n    command: a\n    plugs: [Bad]\n")),
        "cannot use snap.yaml: apps.x.plugs[0]: \"Bad\" is not a valid name"
    );
    assert_eq!(
        error(&format!("{base}apps:\n  x:\n    command: a\n    stop-command: b\n")),
        "cannot use snap.yaml: apps.x.stop-command: is only for daemons"
    );
    assert_eq!(
        error(&format!(
            "{base}apps:\n  x:\n    command: a\n    environment:\n      1A: b\n"
        )),
        "cannot use snap.yaml: apps.x.environment.1A: is not a valid environment variable name"
    );
    assert_eq!(
        error(&format!("{base}plugs:\n  x_y: home\n")),
        "cannot use snap.yaml: plugs.x_y: \"x_y\" is not a valid plug name"
    );
    assert_eq!(
        error(&format!("{base}plugs:\n  p:\n    interface: Home\n")),
        "cannot use snap.yaml: plugs.p.interface: \"Home\" is not a valid interface name"
    );
    assert_eq!(
        error(&format!("{base}plugs:\n  p:\n    $x: 1\n")),
        "cannot use snap.yaml: plugs.p.$x: attribute names starting with \"$\" are reserved"
    );
    assert_eq!(
        error(&format!("{base}plugs:\n  p: [1]\n")),
        "cannot use snap.yaml: plugs.p: must be empty, an interface name or a map"
    );
    assert_eq!(
        error(&format!("{base}plugs:\n  p:\nslots:\n  p:\n")),
        "cannot use snap.yaml: plugs.p: \"p\" is both a plug and a slot"
    );
    assert_eq!(
        error(&format!("{base}hooks:\n  Configure: {{}}\n")),
        "cannot use snap.yaml: hooks.Configure: \"Configure\" is not a valid hook name"
    );
    assert!(
        error("name: a\nname: b\n").contains("duplicated key"),
        "{}",
        error("name: a\nname: b\n")
    );
    assert!(error("- a\n").contains("the top level must be a map"));
    assert!(error("").contains("the file is empty"));
    assert!(error("name: [\n").starts_with("cannot use snap.yaml: invalid YAML"));
}

#[test]
fn defaults() {
    let y = parse("name: a1\nversion: '1'\napps:\n  a1:\n    command: bin/a\n").unwrap();
    assert_eq!(y.confinement, Confinement::Strict);
    assert_eq!(y.grade, Grade::Stable);
    assert_eq!(y.snap_type, SnapType::App);
    assert!(y.plugs.is_empty() && y.hooks.is_empty());
}

#[test]
fn implicit_hooks_come_from_meta_hooks() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("meta/hooks")).unwrap();
    std::fs::write(dir.path().join("meta/snap.yaml"), "name: a1\nversion: '1'\n").unwrap();
    std::fs::write(dir.path().join("meta/hooks/install"), "#!/bin/sh\n").unwrap();
    std::fs::write(dir.path().join("meta/hooks/README"), "").unwrap();
    let y = SnapYaml::read_dir(dir.path()).unwrap();
    assert_eq!(y.hooks.keys().collect::<Vec<_>>(), vec!["install"]);
    let e = SnapYaml::read_dir(&dir.path().join("nope")).unwrap_err().to_string();
    assert!(e.starts_with("cannot use snap.yaml: cannot read "), "{e}");
}

#[test]
fn unknown_top_level_keys_are_reported() {
    let y = parse("name: ab\nversion: '1'\nwebsite: https://example.com\nicon: x.png\nlinks: {}\n").unwrap();
    assert_eq!(
        y.warnings,
        ["snap.yaml: unknown top-level key \"website\" ignored", "snap.yaml: unknown top-level key \"icon\" ignored"]
    );
    let e = parse("name: ab\nversion: '1'\nlayouts:\n  /usr/x: {type: tmpfs}\n").unwrap_err();
    assert_eq!(e.to_string(), "cannot use snap.yaml: layouts: unknown key: use singular \"layout\" instead of plural \"layouts\"");
}

#[test]
fn layouts_are_parsed_and_checked() {
    let y = parse("name: ab\nversion: '1'\nlayout:\n  /usr/lib/x: {bind: $SNAP/x}\n  /etc/y: {symlink: $SNAP/y}\n").unwrap();
    assert_eq!(y.layout.keys().collect::<Vec<_>>(), ["/etc/y", "/usr/lib/x"]);
    let e = parse("name: ab\nversion: '1'\nlayout:\n  /proc/x: {type: tmpfs}\n").unwrap_err();
    assert_eq!(e.to_string(), "cannot use snap.yaml: layout./proc/x: the layout would make a new top-level directory /proc");
    let e = parse("name: ab\nversion: '1'\nlayout:\n  /var/lib/snapd/x: {type: tmpfs}\n").unwrap_err();
    assert_eq!(e.to_string(), "cannot use snap.yaml: layout./var/lib/snapd/x: the layout is in an off-limits area (/var/lib/snapd)");
}
