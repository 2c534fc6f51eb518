#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use super::*;

#[test]
fn snap_names() {
    let good = ["ab", "a0", "0a", "hello-world", "a-b-c", "network-manager", &"a".repeat(40)];
    for n in good {
        assert_eq!(validate_snap_name(n), Ok(()), "{n}");
    }
    let bad = [
        ("", "snap name must contain at least one letter"),
        ("a", "snap name must be longer than 1 character"),
        ("-ab", "snap name cannot start with a dash"),
        ("ab-", "snap name cannot end with a dash"),
        ("a--b", "snap name cannot contain two consecutive dashes"),
        ("Ab", "snap name must use lower case letters, digits or dashes"),
        ("a_b", "snap name must use lower case letters, digits or dashes"),
        ("a.b", "snap name must use lower case letters, digits or dashes"),
        ("a/b", "snap name must use lower case letters, digits or dashes"),
        ("../../tmp/evil", "snap name must use lower case letters, digits or dashes"),
        ("core\n", "snap name must use lower case letters, digits or dashes"),
        ("сore", "snap name must use lower case letters, digits or dashes"),
        ("123", "snap name must contain at least one letter"),
        ("1-2", "snap name must contain at least one letter"),
    ];
    for (n, msg) in bad {
        assert_eq!(validate_snap_name(n), Err(NameError(msg.into())), "{n:?}");
    }
    assert_eq!(
        validate_snap_name(&"a".repeat(41)),
        Err(NameError("snap name must be shorter than 40 characters".into()))
    );
}

#[test]
fn instance_names() {
    let i = InstanceName::parse("foo_bar1").unwrap();
    assert_eq!((i.snap_name(), i.instance_key()), ("foo", Some("bar1")));
    let i = InstanceName::parse("foo").unwrap();
    assert_eq!((i.snap_name(), i.instance_key()), ("foo", None));
    assert!(InstanceName::parse(&format!("{}_{}", "a".repeat(40), "b".repeat(10))).is_ok());
    let bad = [
        ("foo_", "instance key must contain at least one letter or digit"),
        ("foo_a_b", "snap instance name can contain only one underscore"),
        ("foo_Bar", "instance key must use lower case letters or digits"),
        ("foo_bar-baz", "instance key must use lower case letters or digits"),
        ("foo_toolonginstance", "instance key must be shorter than 10 characters"),
        ("_foo", "snap name must contain at least one letter"),
        ("Foo_bar", "snap name must use lower case letters, digits or dashes"),
    ];
    for (n, msg) in bad {
        assert_eq!(InstanceName::parse(n), Err(NameError(msg.into())), "{n:?}");
    }
    assert_eq!(
        InstanceName::parse(&"a".repeat(52)),
        Err(NameError("snap instance name can be at most 51 characters long".into()))
    );
}

#[test]
fn components() {
    let inst = InstanceName::parse("foo_x").unwrap();
    let c = ComponentRef::parse("foo+comp", &inst).unwrap();
    assert_eq!((c.snap.as_str(), c.component.as_str()), ("foo", "comp"));
    assert_eq!(
        ComponentRef::parse("bar+comp", &inst),
        Err(NameError("snap name in component must match snap name in instance".into()))
    );
    assert_eq!(ComponentRef::parse("foocomp", &inst), Err(NameError("snap component name must contain a +".into())));
    assert_eq!(
        ComponentRef::parse("foo+Comp", &inst),
        Err(NameError("component name must use lower case letters, digits or dashes".into()))
    );
}

#[test]
fn security_tags() {
    let app = |i: &str, a: &str| SecurityTag {
        tag: String::new(),
        instance: i.into(),
        target: TagTarget::App(a.into()),
    };
    let cases = [
        ("snap.network-manager.NetworkManager", app("network-manager", "NetworkManager")),
        ("snap.0name.app", app("0name", "app")),
        ("snap.foo_bar.hook", app("foo_bar", "hook")),
        (
            "snap.foo_instance.hook.bar-baz",
            SecurityTag {
                tag: String::new(),
                instance: "foo_instance".into(),
                target: TagTarget::Hook { component: None, hook: "bar-baz".into() },
            },
        ),
        (
            "snap.foo+comp.hook.install",
            SecurityTag {
                tag: String::new(),
                instance: "foo".into(),
                target: TagTarget::Hook { component: Some("comp".into()), hook: "install".into() },
            },
        ),
    ];
    for (tag, mut want) in cases {
        want.tag = tag.into();
        assert_eq!(parse_security_tag(tag), Ok(want), "{tag}");
    }
    let bad = [
        "snap.name",
        "snap.name.app.hook.f00",
        "snap.foo_toolonginstance.bar-baz",
        "snap.foo+comp.app",
        "SNAP.name.app",
        "snap.Name.app",
        "snap..x",
        "snap.a.b/../..",
        "snap.a.b\n",
        "snap.a.ь",
        "snap.a.hook.Foo",
        "snap.a.hook.",
        "snap.a_.app",
        "snap.a__b.app",
        "snap.a_b_c.app",
        "snap.a.app-",
        "snap.a.-app",
        "snap.a.a--b",
        "snap.-a.app",
        "snap.a+.hook.x",
        "snap.a+b.hook.",
        "",
        "snap.",
        "snap.a.",
        " snap.a.b",
    ];
    for tag in bad {
        assert_eq!(
            parse_security_tag(tag),
            Err(NameError(format!("security tag {} not allowed", tag.escape_debug()))),
            "{tag:?}"
        );
    }
    let long = format!("snap.a.{}", "b".repeat(250));
    assert!(parse_security_tag(&long).is_err());
    let long = format!("snap.a.{}", "b".repeat(4096));
    assert!(parse_security_tag(&long).is_err());
    let max = format!("snap.a.{}", "b".repeat(256 - 7));
    assert!(parse_security_tag(&max).is_ok());
}

#[test]
fn hook_tags_and_derived_names() {
    let t = parse_security_tag("snap.foo.hook.configure").unwrap();
    assert!(t.is_cookie_exempt_hook());
    assert!(!parse_security_tag("snap.foo.app").unwrap().is_cookie_exempt_hook());
    assert!(!parse_security_tag("snap.foo+c.hook.install").unwrap().is_cookie_exempt_hook());
    assert!(!parse_security_tag("snap.0foo.hook.install").unwrap().is_cookie_exempt_hook());
    let t = parse_security_tag("snap.foo+c.hook.install").unwrap();
    assert_eq!(t.unit_name(), "snap.foo\\x2bc.hook.install");
    assert_eq!(parse_security_tag("snap.foo_bar.app").unwrap().udev_tag(), "snap_foo_bar_app");
}

/// A tiny deterministic generator (xorshift) so the cross-check is repeatable.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

/// Random strings built from pieces that matter to the grammar.
fn random_tag(rng: &mut Rng) -> String {
    let pieces = [
        "snap", ".", "-", "_", "+", "hook", "a", "b", "z", "0", "9", "A", "Z", "ab", "x1", "--", "..", "/", "\n", "é",
    ];
    let mut s = String::new();
    if !rng.next().is_multiple_of(4) {
        s.push_str("snap.");
    }
    for _ in 0..(rng.next() % 12) {
        s.push_str(rng.pick(&pieces));
    }
    s
}

#[test]
fn tag_parser_agrees_with_the_regular_expression() {
    let re = regex::Regex::new(
        r"^snap\.([a-z0-9](-?[a-z0-9])*(_[a-z0-9]{1,10})?)(\.[a-zA-Z0-9](-?[a-zA-Z0-9])*|(\+([a-z0-9](-?[a-z0-9])*))?\.hook\.[a-z](-?[a-z0-9])*)$",
    )
    .unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut accepted = 0;
    for _ in 0..300_000 {
        let s = random_tag(&mut rng);
        let ours = parse_security_tag(&s);
        let theirs = re.captures(&s);
        assert_eq!(ours.is_ok(), theirs.is_some(), "disagreement on {s:?}");
        if let (Ok(t), Some(c)) = (ours, theirs) {
            accepted += 1;
            assert_eq!(t.instance, &c[1], "instance of {s:?}");
            let comp = c.get(7).map(|m| m.as_str().to_string());
            match t.target {
                TagTarget::Hook { component, .. } => assert_eq!(component, comp),
                TagTarget::App(_) => assert_eq!(comp, None),
            }
        }
    }
    assert!(accepted > 1000, "the generator produced too few valid tags ({accepted})");
}

#[test]
fn snap_name_check_agrees_with_the_regular_expression() {
    let re = regex::Regex::new(r"^([a-z0-9]+-?)*[a-z](-?[a-z0-9])*$").unwrap();
    let pieces = ["a", "b", "0", "-", "--", "_", "A", "z9", "é"];
    let mut rng = Rng(42);
    for _ in 0..200_000 {
        let mut s = String::new();
        for _ in 0..(rng.next() % 10) {
            s.push_str(rng.pick(&pieces));
        }
        let want = re.is_match(&s) && (2..=40).contains(&s.len());
        assert_eq!(validate_snap_name(&s).is_ok(), want, "{s:?}");
    }
}
