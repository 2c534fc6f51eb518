//! Parallel instances (`confine install --name hello_foo`) through the
//! installed tools and launcher: an instance beside its snap, each with its
//! own files, data, wrappers and cookie, the instance's apps seeing its
//! files under the snap's name; and removing one leaves the other alone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod support;
use support::{install_scene as scene, NOBODY};

const FEATURE: &str = "mkdir -p /var/lib/snapd/features && touch /var/lib/snapd/features/parallel-instances";

#[test]
fn an_instance_needs_the_feature() {
    let r = scene().run(
        "confine install $EX/hello-classic.snap --name hello-classic_foo; echo rc=$?; ls /snap /var/snap; \
         confine install $EX/hello-classic.snap --name other_foo; echo rc=$?",
    );
    assert!(r.stderr.contains("parallel instances are not enabled"), "{r:#?}");
    assert!(r.stdout.starts_with("rc=1\n"), "{r:#?}");
    assert!(!r.stdout.contains("hello-classic"), "nothing was installed: {r:#?}");
    let r = scene().root(FEATURE).run("confine install $EX/hello-classic.snap --name other_foo; echo rc=$?");
    assert!(r.stderr.contains("the snap is named hello-classic, an instance of it is hello-classic_<key>"), "{r:#?}");
    let r = scene().root(FEATURE).run("confine install $EX/hello-classic.snap --name hello-classic_BAD; echo rc=$?");
    assert!(r.stderr.contains("instance key must use lower case letters or digits"), "{r:#?}");
}

#[test]
fn a_classic_instance_beside_its_snap() {
    let r = scene().root(FEATURE).run(&format!(
        "confine install $EX/debian12.snap >/dev/null && confine install $EX/hello-classic.snap >/dev/null && \
         confine install $EX/hello-classic.snap --name hello-classic_foo; \
         echo plain > /var/snap/hello-classic/common/marker; echo instance > /var/snap/hello-classic_foo/common/marker; \
         echo '== plain'; {NOBODY} snap-run --shell hello-classic -c 'echo $SNAP_INSTANCE_NAME $SNAP_NAME $SNAP $SNAP_USER_DATA; cat $SNAP_COMMON/marker'; \
         echo '== instance'; {NOBODY} snap-run --shell hello-classic_foo -c 'echo $SNAP_INSTANCE_NAME $SNAP_NAME $SNAP $SNAP_USER_DATA; cat $SNAP_COMMON/marker; ls /snap/hello-classic'; \
         echo '== wrapper'; {NOBODY} hello-classic_foo | grep SNAP_INSTANCE_NAME; \
         echo '== cookies'; ls /var/lib/snapd/cookie; ls -d /home/nobody/snap/*; \
         echo '== remove'; confine remove hello-classic_foo; ls /snap /var/snap /snap/bin; cat /var/snap/hello-classic/common/marker; \
         {NOBODY} snap-run --shell hello-classic -c 'cat $SNAP_COMMON/marker'; echo '== end'"
    ));
    let out = &r.stdout;
    let section = |name: &str| -> String {
        let start = out.find(&format!("== {name}\n")).unwrap_or_else(|| panic!("no {name} section:\n{r:#?}"));
        let rest = &out[start + name.len() + 4..];
        rest[..rest.find("\n== ").map(|e| e + 1).unwrap_or(rest.len())].to_string()
    };
    assert_eq!(
        section("plain"),
        "hello-classic hello-classic /snap/hello-classic/x1 /home/nobody/snap/hello-classic/x1\nplain\n",
        "{r:#?}"
    );
    assert_eq!(
        section("instance"),
        "hello-classic_foo hello-classic /snap/hello-classic/x1 /home/nobody/snap/hello-classic_foo/x1\ninstance\ncurrent\nx1\n",
        "the instance sees its own data under the snap's name: {r:#?}"
    );
    assert_eq!(section("wrapper"), "SNAP_INSTANCE_NAME: hello-classic_foo\n", "{r:#?}");
    let cookies = section("cookies");
    assert!(cookies.contains("snap.hello-classic\n") && cookies.contains("snap.hello-classic_foo\n"), "{cookies}");
    assert!(cookies.contains("/home/nobody/snap/hello-classic_foo\n"), "{cookies}");
    let removed = section("remove");
    assert!(removed.starts_with("hello-classic_foo removed\n"), "{removed}");
    assert!(!removed.lines().skip(1).any(|l| l.contains("hello-classic_foo")), "the instance is gone: {removed}");
    assert!(removed.contains("hello-classic\n"), "the snap is not: {removed}");
    assert!(removed.ends_with("plain\nplain\n"), "the snap's data and app are untouched: {r:#?}");
}

#[test]
fn removing_the_snap_keeps_its_instance() {
    let r = scene().root(FEATURE).run(&format!(
        "confine install $EX/debian12.snap >/dev/null && confine install $EX/hello-classic.snap >/dev/null && \
         confine install $EX/hello-classic.snap --name hello-classic_foo >/dev/null; \
         echo instance > /var/snap/hello-classic_foo/common/marker; confine remove hello-classic; \
         ls -A /snap/hello-classic /var/snap/hello-classic; echo '== run'; \
         {NOBODY} snap-run --shell hello-classic_foo -c 'cat $SNAP_COMMON/marker; ls /snap/hello-classic'"
    ));
    assert_eq!(r.stdout, "hello-classic removed\n/snap/hello-classic:\n\n/var/snap/hello-classic:\n== run\ninstance\ncurrent\nx1\n", "{r:#?}");
}
