#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use super::*;
use crate::args::Args;
use crate::sys::fake::FakeSys;

fn policy(body: &str) -> LandlockPolicy {
    parse(&format!("landlock-policy 1\n{body}")).unwrap()
}

fn vars() -> Vars {
    Vars {
        home: Some("/home/u".into()),
        user_data: Some("/home/u/snap/a/1".into()),
        user_common: Some("/home/u/snap/a/common".into()),
        runtime_dir: None,
        proc_self: Some("/proc/42".into()),
    }
}

const RW: u64 = READ_FILE | READ_DIR | WRITE_FILE | REMOVE_DIR | REMOVE_FILE | MAKE_DIR | MAKE_REG | MAKE_SOCK | MAKE_FIFO | MAKE_SYM | REFER | TRUNCATE;

#[test]
fn plans_expand_variables_and_home_entries() {
    let p = plan(
        &policy(
            "fs read,execute /usr\nfs read,write @{SNAP_USER_DATA}\nfs read,write @{XDG_RUNTIME_DIR}\nfs-each read,write @{HOME} except notes.txt\n\
             net-connect any\nnet-bind 8080\nscope signal\nunexpressible dbus (send) bus=session,\n",
        ),
        &vars(),
        &|dir| {
            assert_eq!(dir, "/home/u");
            vec!["Documents".into(), ".ssh".into(), "snap".into(), "notes.txt".into()]
        },
        &Vec::new,
    );
    assert_eq!(
        p.paths,
        vec![
            ("/usr".to_string(), READ_FILE | READ_DIR | EXECUTE),
            ("/home/u/snap/a/1".to_string(), RW),
            ("/home/u".to_string(), READ_DIR),
            ("/home/u/Documents".to_string(), RW),
        ],
        "hidden entries, other snaps' data and the excepted names stay out"
    );
    assert_eq!(p.connect_ports, None);
    assert_eq!(p.bind_ports, Some(vec![8080]));
    assert_eq!(p.scopes, SCOPE_SIGNAL);
    assert_eq!(
        p.notes,
        vec![
            "@{XDG_RUNTIME_DIR} has no value here: not granted".to_string(),
            "new entries directly in /home/u cannot be created, and the names (not the contents) in its hidden directories can be listed"
                .to_string(),
            "not expressible: dbus (send) bus=session,".to_string(),
        ]
    );
}

#[test]
fn rules_on_one_path_add_up() {
    let p = plan(&policy("fs read /a\nfs execute /b\nfs write,execute /a\n"), &vars(), &|_| vec![], &Vec::new);
    assert_eq!(p.paths, vec![("/a".to_string(), RW | EXECUTE), ("/b".to_string(), EXECUTE)]);
}

#[test]
fn abi_downgrade() {
    let p = plan(
        &policy("fs read,write /tmp\nfs read,write,device /dev/null\nscope signal\nscope abstract-unix-socket\n"),
        &vars(),
        &|_| vec![],
        &Vec::new,
    );
    let is_dir = |p: &str| match p {
        "/tmp" => Some(true),
        "/dev/null" => Some(false),
        _ => None,
    };
    // ABI 1: no refer, truncate, ioctl; TCP and scopes cannot be restricted.
    let (r, notes) = for_abi(&p, 1, &is_dir);
    assert_eq!(r.handled_fs, (1 << 13) - 1);
    assert_eq!(r.rules, vec![("/tmp".to_string(), RW & !(REFER | TRUNCATE)), ("/dev/null".to_string(), READ_FILE | WRITE_FILE)]);
    assert_eq!((r.handled_net, r.scopes), (0, 0));
    assert_eq!(
        notes,
        vec![
            "TCP bind and connect cannot be restricted with Landlock ABI 1 (4 is needed)".to_string(),
            "signals and abstract sockets cannot be scoped with Landlock ABI 1 (6 is needed)".to_string(),
        ]
    );
    // ABI 4: TCP denied (no port granted), no scopes yet.
    let (r, notes) = for_abi(&p, 4, &is_dir);
    assert_eq!(r.handled_fs, ((1 << 13) - 1) | REFER | TRUNCATE);
    assert_eq!((r.handled_net, r.net_rules.len()), (BIND_TCP | CONNECT_TCP, 0));
    assert_eq!(notes.len(), 1);
    // ABI 6 and later: everything, ioctl on devices included; a file rule
    // keeps only rights that apply to files.
    let (r, notes) = for_abi(&p, 7, &is_dir);
    assert_eq!(r.rules[1], ("/dev/null".to_string(), READ_FILE | WRITE_FILE | TRUNCATE | IOCTL_DEV));
    assert_eq!(r.scopes, SCOPE_SIGNAL | SCOPE_ABSTRACT_UNIX_SOCKET);
    assert!(notes.is_empty(), "{notes:?}");
    // A path that does not exist here is noted, not granted.
    let (r, notes) = for_abi(&p, 7, &|p| (p == "/tmp").then_some(true));
    assert_eq!(r.rules.len(), 1);
    assert_eq!(notes, vec!["/dev/null does not exist here: not granted".to_string()]);
}

fn inv(classic: bool) -> Invocation {
    let args = Args { classic, base: None, security_tag: "snap.demo.app".into(), command: "x".into(), args: vec![] };
    Invocation::new(args, &vec![("SNAP_INSTANCE_NAME".into(), "demo".into())]).unwrap()
}

fn with_policy(text: Option<&str>) -> FakeSys {
    let sys = FakeSys::new();
    for d in ["/var", "/var/lib", "/var/lib/snapd", POLICY_DIR] {
        sys.dir(d, 0o755);
    }
    if let Some(t) = text {
        sys.file(&format!("{POLICY_DIR}/snap.demo.app"), t.as_bytes(), 0o644);
    }
    sys
}

#[test]
fn when_a_policy_is_read_and_applied() {
    let enforce = "landlock-policy 1\nfs read /usr\n";
    let no_aa = AppArmor::NotApplicable;
    let aa = AppArmor::Enabled { label: "x".into(), mode: Some("enforce".into()) };
    let d = Debug::new(false);
    assert!(read_for_launch(&with_policy(Some(enforce)), &inv(false), &no_aa, &d).unwrap().is_some());
    assert!(read_for_launch(&with_policy(Some(enforce)), &inv(true), &no_aa, &d).unwrap().is_none(), "classic: never");
    assert!(read_for_launch(&with_policy(Some("landlock-policy 1\nmode devmode\n")), &inv(false), &no_aa, &d).unwrap().is_none());
    assert!(read_for_launch(&with_policy(Some(enforce)), &inv(false), &aa, &d).unwrap().is_none(), "AppArmor confines");
    assert!(read_for_launch(&with_policy(Some("landlock-policy 1\napply always\n")), &inv(false), &aa, &d).unwrap().is_some());
    assert!(read_for_launch(&with_policy(None), &inv(false), &aa, &d).unwrap().is_none());
    assert_eq!(
        read_for_launch(&with_policy(None), &inv(false), &no_aa, &d).unwrap_err().to_string(),
        "cannot confine snap.demo.app without AppArmor: its Landlock policy /var/lib/snapd/landlock/snap.demo.app does not exist; \
         the snap's policy must be generated again"
    );
    let e = read_for_launch(&with_policy(Some("landlock-policy 1\nfly /x\n")), &inv(false), &no_aa, &d).unwrap_err();
    assert_eq!(e.to_string(), "cannot use /var/lib/snapd/landlock/snap.demo.app: line 2: unknown rule \"fly\"");
}

#[test]
fn applying_builds_the_ruleset_for_the_kernel() {
    let mut sys = with_policy(None);
    sys.dir("/usr", 0o755);
    sys.file("/dev/null", b"", 0o666);
    let loaded = Loaded { path: "p".into(), policy: policy("fs read,execute /usr\nfs read,write /dev/null\nnet-bind any\n") };
    let d = crate::privs::Demoted::for_tests();
    apply(&sys, &loaded, &vec![], &d, &Debug::new(false)).unwrap();
    let calls = sys.calls();
    assert_eq!(
        calls[calls.len() - 2..],
        [
            "set_caps(e=sys_admin p=sys_admin i=-)".to_string(),
            "landlock_restrict(abi 7, fs 0xffff, 2 rules, net 0x2, 0 ports, scopes 0x0)".to_string()
        ],
        "CAP_SYS_ADMIN is effective when the ruleset is applied"
    );
    sys.landlock_abi = 0;
    apply(&sys, &loaded, &vec![], &d, &Debug::new(false)).unwrap();
    assert_eq!(sys.calls().iter().filter(|c| c.starts_with("landlock")).count(), 1, "no Landlock: nothing to do");
}

/// `gpu-driver` grants what the launcher found: the host directories each
/// farm's manifest names, and the NVIDIA device nodes; nothing (with a
/// note) where there is no driver.
#[test]
fn the_gpu_driver_rule() {
    let sys = crate::sys::fake::FakeSys::new();
    sys.file(
        "/var/lib/snapd/lib/gl/.confine-driver",
        b"/var/lib/snapd/hostfs/usr/local/nvidia/lib64\n/etc\n/var/lib/snapd/hostfs/../../etc\n",
        0o644,
    );
    sys.file("/var/lib/snapd/lib/vulkan/.confine-driver", b"/var/lib/snapd/hostfs/usr/share/vulkan/icd.d\n", 0o644);
    let list = |d: &str| match d {
        "/dev" => vec!["null".into(), "nvidia0".into(), "nvidiactl".into(), "nvidia-caps".into(), "nvidia-uvm-tools".into()],
        "/dev/nvidia-caps" => vec!["nvidia-cap1".into()],
        _ => vec![],
    };
    let got = driver_grants(&sys, &list);
    let got_paths: Vec<&str> = got.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        got_paths,
        [
            "/var/lib/snapd/hostfs/usr/local/nvidia/lib64",
            "/var/lib/snapd/hostfs/usr/share/vulkan/icd.d",
            "/dev/nvidia0",
            "/dev/nvidiactl",
            "/dev/nvidia-uvm-tools",
            "/dev/nvidia-caps/nvidia-cap1",
        ],
        "paths outside the host tree are not granted"
    );
    assert_eq!(got[0].1, READ_FILE | READ_DIR);
    assert_eq!(got[2].1 & IOCTL_DEV, IOCTL_DEV);
    assert_eq!(got[5].1, READ_FILE | READ_DIR);
    let p = plan(&policy("gpu-driver\n"), &vars(), &|_| vec![], &Vec::new);
    assert_eq!(p.notes, ["gpu-driver: no GPU driver in this sandbox"]);
}

#[test]
fn proc_self_is_the_apps_own_proc_directory() {
    let p = plan(&policy("fs read /proc\nfs read,write @{PROC_SELF}\n"), &vars(), &|_| Vec::new(), &Vec::new);
    assert_eq!(p.paths, vec![("/proc".to_string(), READ_FILE | READ_DIR), ("/proc/42".to_string(), RW)]);
    let none = Vars { proc_self: None, ..vars() };
    let p = plan(&policy("fs read,write @{PROC_SELF}\n"), &none, &|_| Vec::new(), &Vec::new);
    assert!(p.paths.is_empty(), "{:?}", p.paths);
}

#[test]
fn proc_self_takes_only_a_number() {
    let with = |link: Option<&str>| Vars { proc_self: None, ..vars() }.with_proc_self(link.map(OsString::from)).proc_self;
    assert_eq!(with(Some("1234")), Some("/proc/1234".to_string()));
    assert_eq!(with(Some("")), None);
    assert_eq!(with(Some("../etc")), None);
    assert_eq!(with(Some("12/root")), None);
    assert_eq!(with(None), None);
}
