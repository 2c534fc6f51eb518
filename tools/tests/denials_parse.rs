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

struct Case {
    name: &'static str,
    line: &'static str,
    /// `apparmor` or `seccomp`.
    kind: &'static str,
    /// The operation, or the system call's name.
    what: &'static str,
    /// The profile, or the seccomp record's label.
    profile: &'static str,
    /// The refusing side's snap and app (or hook).
    snap: Option<&'static str>,
    app: Option<&'static str>,
    /// The rule the explanation writes.
    rule: &'static str,
    /// The interfaces it names as granting the access.
    interfaces: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        name: "hex name",
        line: r#"audit: type=1400 audit(1600000001.001:1): apparmor="DENIED" operation="open" profile="snap.a.app" name=2F746D702F6D792066696C65 pid=10 comm="cat" requested_mask="r" denied_mask="r" fsuid=1000 ouid=1000"#,
        kind: "apparmor",
        what: "open",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#""/tmp/my file" r,"#,
        interfaces: &[],
    },
    Case {
        name: "quoted name with spaces",
        line: r#"type=AVC msg=audit(1600000002.002:2): apparmor="DENIED" operation="open" profile="snap.a.app" name="/home/u/My Documents/notes.txt" pid=11 comm="cat" requested_mask="rw" denied_mask="w" fsuid=1000 ouid=1000"#,
        kind: "apparmor",
        what: "open",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#""/home/u/My Documents/notes.txt" w,"#,
        interfaces: &["home"],
    },
    Case {
        name: "mknod",
        line: r#"audit: type=1400 audit(1600000003.003:3): apparmor="DENIED" operation="mknod" profile="snap.a.app" name="/run/a.fifo" pid=12 comm="mkfifo" requested_mask="c" denied_mask="c" fsuid=0 ouid=0"#,
        kind: "apparmor",
        what: "mknod",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#"/run/a.fifo w,"#,
        interfaces: &[],
    },
    Case {
        name: "mkdir",
        line: r#"audit: type=1400 audit(1600000004.004:4): apparmor="DENIED" operation="mkdir" profile="snap.a.app" name="/var/lib/a/" pid=13 comm="mkdir" requested_mask="c" denied_mask="c" fsuid=0 ouid=0"#,
        kind: "apparmor",
        what: "mkdir",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#"/var/lib/a/ w,"#,
        interfaces: &[],
    },
    Case {
        name: "unlink",
        line: r#"audit: type=1400 audit(1600000005.005:5): apparmor="DENIED" operation="unlink" profile="snap.a.app" name="/media/usb/old.txt" pid=14 comm="rm" requested_mask="d" denied_mask="d" fsuid=1000 ouid=1000"#,
        kind: "apparmor",
        what: "unlink",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#"/media/usb/old.txt w,"#,
        interfaces: &["removable-media"],
    },
    Case {
        name: "rename_src",
        line: r#"audit: type=1400 audit(1600000006.006:6): apparmor="DENIED" operation="rename_src" profile="snap.a.app" name="/etc/hosts" pid=15 comm="mv" requested_mask="wrd" denied_mask="wrd" fsuid=0 ouid=0"#,
        kind: "apparmor",
        what: "rename_src",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#"/etc/hosts rw,"#,
        interfaces: &[],
    },
    Case {
        name: "rename_dest",
        line: r#"audit: type=1400 audit(1600000007.007:7): apparmor="DENIED" operation="rename_dest" profile="snap.a.app" name="/etc/hosts.new" pid=15 comm="mv" requested_mask="wc" denied_mask="wc" fsuid=0 ouid=0"#,
        kind: "apparmor",
        what: "rename_dest",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#"/etc/hosts.new w,"#,
        interfaces: &[],
    },
    Case {
        name: "link",
        line: r#"audit: type=1400 audit(1600000008.008:8): apparmor="DENIED" operation="link" profile="snap.a.app" name="/tmp/../etc/l" pid=16 comm="ln" requested_mask="l" denied_mask="l" fsuid=0 ouid=0 target="/etc/passwd""#,
        kind: "apparmor",
        what: "link",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#"/tmp/../etc/l l,"#,
        interfaces: &[],
    },
    Case {
        name: "exec",
        line: r#"audit: type=1400 audit(1600000009.009:9): apparmor="DENIED" operation="exec" profile="snap.a.app" name="/usr/bin/ionice" pid=17 comm="sh" requested_mask="x" denied_mask="x" fsuid=0 ouid=0"#,
        kind: "apparmor",
        what: "exec",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#"/usr/bin/ionice ix,"#,
        interfaces: &["process-control"],
    },
    Case {
        name: "file_mmap (auditd)",
        line: r#"type=AVC msg=audit(1547564894.993:588): apparmor="DENIED" operation="file_mmap" profile="hello-world-c" name="/lib64/libc-2.27.so" pid=5121 comm="hello-world-c" requested_mask="m" denied_mask="m" fsuid=0 ouid=0"#,
        kind: "apparmor",
        what: "file_mmap",
        profile: r#"hello-world-c"#,
        snap: None,
        app: None,
        rule: r#"/lib64/libc-2.27.so m,"#,
        interfaces: &[],
    },
    Case {
        name: "file_lock",
        line: r#"audit: type=1400 audit(1600000010.010:10): apparmor="DENIED" operation="file_lock" profile="snap.a.app" name="/var/log/syslog" pid=18 comm="flock" requested_mask="k" denied_mask="k" fsuid=0 ouid=0"#,
        kind: "apparmor",
        what: "file_lock",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#"/var/log/syslog k,"#,
        interfaces: &[],
    },
    Case {
        name: "chmod",
        line: r#"audit: type=1400 audit(1600000011.011:11): apparmor="DENIED" operation="chmod" profile="snap.a.app" name="/etc/motd" pid=19 comm="chmod" requested_mask="w" denied_mask="w" fsuid=0 ouid=0"#,
        kind: "apparmor",
        what: "chmod",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#"/etc/motd w,"#,
        interfaces: &[],
    },
    Case {
        name: "chown",
        line: r#"audit: type=1400 audit(1600000012.012:12): apparmor="DENIED" operation="chown" profile="snap.a.app" name="/etc/motd" pid=20 comm="chown" requested_mask="w" denied_mask="w" fsuid=0 ouid=0"#,
        kind: "apparmor",
        what: "chown",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#"/etc/motd w,"#,
        interfaces: &[],
    },
    Case {
        name: "truncate",
        line: r#"audit: type=1400 audit(1600000013.013:13): apparmor="DENIED" operation="truncate" profile="snap.a.app" name="/var/log/app.log" pid=21 comm="truncate" requested_mask="w" denied_mask="w" fsuid=0 ouid=0"#,
        kind: "apparmor",
        what: "truncate",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#"/var/log/app.log w,"#,
        interfaces: &[],
    },
    Case {
        name: "capable by name",
        line: r#"audit: type=1400 audit(1600000014.014:14): apparmor="DENIED" operation="capable" profile="snap.a.app" pid=22 comm="mount" capability=21  capname="sys_admin""#,
        kind: "apparmor",
        what: "capable",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#"capability sys_admin,"#,
        interfaces: &[],
    },
    Case {
        name: "capable by number",
        line: r#"audit: type=1400 audit(1600000015.015:15): apparmor="DENIED" operation="capable" profile="snap.a.app" pid=23 comm="ip" capability=12"#,
        kind: "apparmor",
        what: "capable",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#"capability net_admin,"#,
        interfaces: &[],
    },
    Case {
        name: "signal send to a snap",
        line: r#"audit: type=1400 audit(1600000016.016:16): apparmor="DENIED" operation="signal" profile="snap.a.app" pid=24 comm="kill" requested_mask="send" denied_mask="send" signal=term peer="snap.b.app""#,
        kind: "apparmor",
        what: "signal",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#"signal (send) set=(term) peer=snap.b.app,"#,
        interfaces: &["process-control"],
    },
    Case {
        name: "signal send to unconfined",
        line: r#"audit: type=1400 audit(1600000017.017:17): apparmor="DENIED" operation="signal" profile="snap.a.app" pid=25 comm="kill" requested_mask="send" denied_mask="send" signal=kill peer="unconfined""#,
        kind: "apparmor",
        what: "signal",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#"signal (send) set=(kill) peer=unconfined,"#,
        interfaces: &["process-control"],
    },
    Case {
        name: "signal receive refused by a non-snap profile",
        line: r#"audit: type=1400 audit(1525183610.173:770): apparmor="DENIED" operation="signal" profile="/usr/lib/firefox/firefox{,*[^s][^h]}" pid=32120 comm="htop" requested_mask="receive" denied_mask="receive" signal=term peer="snap.htop.htop""#,
        kind: "apparmor",
        what: "signal",
        profile: r#"/usr/lib/firefox/firefox{,*[^s][^h]}"#,
        snap: None,
        app: None,
        rule: r#"signal (receive) set=(term) peer=snap.htop.htop,"#,
        interfaces: &[],
    },
    Case {
        name: "signal receive refused by a snap",
        line: r#"audit: type=1400 audit(1600000018.018:18): apparmor="DENIED" operation="signal" profile="snap.b.app" pid=26 comm="kill" requested_mask="receive" denied_mask="receive" signal=hup peer="testprofile""#,
        kind: "apparmor",
        what: "signal",
        profile: r#"snap.b.app"#,
        snap: Some("b"),
        app: Some("app"),
        rule: r#"signal (receive) set=(hup) peer=testprofile,"#,
        interfaces: &[],
    },
    Case {
        name: "signal send to a non-snap profile",
        line: r#"audit: type=1400 audit(1600000044.044:44): apparmor="DENIED" operation="signal" profile="snap.a.app" pid=51 comm="kill" requested_mask="send" denied_mask="send" signal=usr1 peer="testprofile""#,
        kind: "apparmor",
        what: "signal",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#"signal (send) set=(usr1) peer=testprofile,"#,
        interfaces: &[],
    },
    Case {
        name: "ptrace trace of a non-snap profile",
        line: r#"audit: type=1400 audit(1600000045.045:45): apparmor="DENIED" operation="ptrace" profile="snap.a.app" pid=52 comm="gdb" requested_mask="trace" denied_mask="trace" peer="/usr/bin/evince""#,
        kind: "apparmor",
        what: "ptrace",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#"ptrace (trace) peer=/usr/bin/evince,"#,
        interfaces: &[],
    },
    Case {
        name: "ptrace read",
        line: r#"type=1400 audit(1402083549.185:782): apparmor="DENIED" operation="ptrace" profile="foo" pid=29142 comm="cat" requested_mask="read" denied_mask="read" peer="unconfined""#,
        kind: "apparmor",
        what: "ptrace",
        profile: r#"foo"#,
        snap: None,
        app: None,
        rule: r#"ptrace (read) peer=unconfined,"#,
        interfaces: &[],
    },
    Case {
        name: "ptrace trace",
        line: r#"audit: type=1400 audit(1600000019.019:19): apparmor="DENIED" operation="ptrace" profile="snap.a.app" pid=27 comm="strace" requested_mask="trace" denied_mask="trace" peer="snap.b.app""#,
        kind: "apparmor",
        what: "ptrace",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#"ptrace (trace) peer=snap.b.app,"#,
        interfaces: &["process-control"],
    },
    Case {
        name: "ptrace tracedby",
        line: r#"audit: type=1400 audit(1600000020.020:20): apparmor="DENIED" operation="ptrace" profile="/usr/bin/evince" pid=28 comm="gdb" requested_mask="tracedby" denied_mask="tracedby" peer="snap.a.app""#,
        kind: "apparmor",
        what: "ptrace",
        profile: r#"/usr/bin/evince"#,
        snap: None,
        app: None,
        rule: r#"ptrace (tracedby) peer=snap.a.app,"#,
        interfaces: &[],
    },
    Case {
        name: "ptrace readby",
        line: r#"audit: type=1400 audit(1600000021.021:21): apparmor="DENIED" operation="ptrace" profile="testprofile" pid=29 comm="ps" requested_mask="readby" denied_mask="readby" peer="snap.a.app""#,
        kind: "apparmor",
        what: "ptrace",
        profile: r#"testprofile"#,
        snap: None,
        app: None,
        rule: r#"ptrace (readby) peer=snap.a.app,"#,
        interfaces: &[],
    },
    Case {
        name: "mount",
        line: r#"audit: type=1400 audit(1600000022.022:22): apparmor="DENIED" operation="mount" info="failed flags match" error=-13 profile="snap.a.app" name="/mnt/" pid=30 comm="mount" fstype="tmpfs" srcname="tmpfs" flags="rw, nosuid""#,
        kind: "apparmor",
        what: "mount",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#"mount fstype=tmpfs options=(rw,nosuid) tmpfs -> /mnt/,"#,
        interfaces: &[],
    },
    Case {
        name: "umount",
        line: r#"audit: type=1400 audit(1600000023.023:23): apparmor="DENIED" operation="umount" info="failed mntpnt match" error=-13 profile="snap.a.app" name="/mnt/" pid=31 comm="umount""#,
        kind: "apparmor",
        what: "umount",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#"umount /mnt/,"#,
        interfaces: &[],
    },
    Case {
        name: "pivot_root",
        line: r#"audit: type=1400 audit(1600000024.024:24): apparmor="DENIED" operation="pivotroot" info="failed mntpnt match" error=-13 profile="snap.a.app" name="/newroot/" pid=32 comm="pivot_root" srcname="/newroot/old/""#,
        kind: "apparmor",
        what: "pivotroot",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#"pivot_root oldroot=/newroot/old/ /newroot/,"#,
        interfaces: &[],
    },
    Case {
        name: "unix create",
        line: r#"audit: type=1400 audit(1600000025.025:25): apparmor="DENIED" operation="create" profile="snap.a.app" pid=33 comm="nc" family="unix" sock_type="stream" protocol=0 requested_mask="create" denied_mask="create""#,
        kind: "apparmor",
        what: "create",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#"unix (create) type=stream,"#,
        interfaces: &[],
    },
    Case {
        name: "unix connect",
        line: r#"audit: type=1400 audit(1600000026.026:26): apparmor="DENIED" operation="connect" profile="snap.a.app" pid=34 comm="xeyes" family="unix" sock_type="stream" protocol=0 requested_mask="send receive connect" denied_mask="send connect" addr=none peer_addr="@/tmp/.X11-unix/X0" peer="unconfined""#,
        kind: "apparmor",
        what: "connect",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#"unix (send, connect) type=stream peer=(label=unconfined, addr="@/tmp/.X11-unix/X0"),"#,
        interfaces: &[],
    },
    Case {
        name: "inet create",
        line: r#"audit: type=1400 audit(1600000027.027:27): apparmor="DENIED" operation="create" profile="snap.a.app" pid=35 comm="curl" family="inet" sock_type="stream" protocol=6 requested_mask="create" denied_mask="create""#,
        kind: "apparmor",
        what: "create",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#"network inet stream,"#,
        interfaces: &["network", "network-bind"],
    },
    Case {
        name: "inet6 bind",
        line: r#"audit: type=1400 audit(1600000028.028:28): apparmor="DENIED" operation="bind" profile="snap.a.app" pid=36 comm="server" family="inet6" sock_type="dgram" protocol=17 requested_mask="bind" denied_mask="bind""#,
        kind: "apparmor",
        what: "bind",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#"network inet6 dgram,"#,
        interfaces: &["network", "network-bind"],
    },
    Case {
        name: "netlink sendmsg",
        line: r#"audit: type=1400 audit(1600000029.029:29): apparmor="DENIED" operation="sendmsg" profile="snap.a.app" pid=37 comm="ip" family="netlink" sock_type="raw" protocol=0 requested_mask="send" denied_mask="send""#,
        kind: "apparmor",
        what: "sendmsg",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#"network netlink raw,"#,
        interfaces: &["hardware-observe"],
    },
    Case {
        name: "dbus method call (kernel form)",
        line: r#"audit: type=1107 audit(1600000030.030:30): pid=795 uid=103 auid=4294967295 ses=4294967295 subj=unconfined msg='apparmor="DENIED" operation="dbus_method_call"  bus="system" path="/org/freedesktop/hostname1" interface="org.freedesktop.DBus.Properties" member="GetAll" mask="send" name="org.freedesktop.hostname1" pid=1234 label="snap.a.app" peer_pid=800 peer_label="unconfined" exe="/usr/bin/dbus-daemon" sauid=103 hostname=? addr=? terminal=?'"#,
        kind: "apparmor",
        what: "dbus_method_call",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#"dbus (send) bus=system path=/org/freedesktop/hostname1 interface=org.freedesktop.DBus.Properties member=GetAll peer=(name=org.freedesktop.hostname1, label=unconfined),"#,
        interfaces: &["system-observe"],
    },
    Case {
        name: "dbus bind (auditd form)",
        line: r#"type=USER_AVC msg=audit(1600000031.031:31): pid=795 uid=103 auid=4294967295 ses=4294967295 subj=unconfined msg='apparmor="DENIED" operation="dbus_bind"  bus="session" name="org.example.Foo" mask="bind" pid=1235 label="snap.a.app" exe="/usr/bin/dbus-daemon" sauid=103 hostname=? addr=? terminal=?'"#,
        kind: "apparmor",
        what: "dbus_bind",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#"dbus (bind) bus=session name=org.example.Foo,"#,
        interfaces: &[],
    },
    Case {
        name: "change_profile",
        line: r#"audit: type=1400 audit(1600000032.032:32): apparmor="DENIED" operation="change_profile" info="label not found" error=-2 profile="snap.a.app" pid=38 comm="aa-exec" target="other""#,
        kind: "apparmor",
        what: "change_profile",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#"change_profile -> other,"#,
        interfaces: &[],
    },
    Case {
        name: "change_onexec",
        line: r#"audit: type=1400 audit(1600000033.033:33): apparmor="DENIED" operation="change_onexec" profile="snap.a.app" name="unconfined" pid=39 comm="aa-exec" target="unconfined""#,
        kind: "apparmor",
        what: "change_onexec",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#"change_profile -> unconfined,"#,
        interfaces: &[],
    },
    Case {
        name: "seccomp x86_64",
        line: r#"audit: type=1326 audit(1600000034.034:34): auid=1000 uid=1000 gid=1000 ses=2 subj=snap.a.app (enforce) pid=40 comm="nice" exe="/usr/bin/nice" sig=0 arch=c000003e syscall=141 compat=0 ip=0x7f1234 code=0x50000"#,
        kind: "seccomp",
        what: "setpriority",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#"setpriority"#,
        interfaces: &["process-control"],
    },
    Case {
        name: "seccomp i386",
        line: r#"audit: type=1326 audit(1600000035.035:35): auid=1000 uid=1000 gid=1000 ses=2 subj=snap.a.app (enforce) pid=41 comm="gdb32" exe="/usr/bin/gdb32" sig=0 arch=40000003 syscall=26 compat=1 ip=0xf7f1234 code=0x50000"#,
        kind: "seccomp",
        what: "ptrace",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#"ptrace"#,
        interfaces: &["process-control"],
    },
    Case {
        name: "seccomp auditd with enrichment",
        line: r#"type=SECCOMP msg=audit(1600000036.036:36): auid=1000 uid=1000 gid=1000 ses=2 subj=snap.a.app pid=42 comm="unshare" exe="/usr/bin/unshare" sig=0 arch=c000003e syscall=272 compat=0 ip=0x7f1234 code=0x50000<GS>AUID="user" UID="user" GID="user" ARCH=x86_64 SYSCALL=unshare"#,
        kind: "seccomp",
        what: "unshare",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#"unshare"#,
        interfaces: &[],
    },
    Case {
        name: "seccomp without label",
        line: r#"audit: type=1326 audit(1600000037.037:37): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=43 comm="sh" exe="/usr/bin/dash" sig=0 arch=c000003e syscall=16 compat=0 ip=0x7f code=0x50000"#,
        kind: "seccomp",
        what: "ioctl",
        profile: r#""#,
        snap: None,
        app: None,
        rule: r#"ioctl"#,
        interfaces: &[],
    },
    Case {
        name: "kmsg prefix, hook",
        line: r#"6,1234,5678,-;audit: type=1400 audit(1600000038.038:38): apparmor="DENIED" operation="open" profile="snap.a.hook.configure" name="/etc/shadow" pid=44 comm="cat" requested_mask="r" denied_mask="r" fsuid=0 ouid=0"#,
        kind: "apparmor",
        what: "open",
        profile: r#"snap.a.hook.configure"#,
        snap: Some("a"),
        app: Some("configure"),
        rule: r#"/etc/shadow r,"#,
        interfaces: &[],
    },
    Case {
        name: "dmesg prefix, instance key",
        line: r#"[   12.345678] audit: type=1400 audit(1600000039.039:39): apparmor="DENIED" operation="open" profile="snap.a_x.app" name="/var/log/syslog" pid=45 comm="tail" requested_mask="r" denied_mask="r" fsuid=0 ouid=0"#,
        kind: "apparmor",
        what: "open",
        profile: r#"snap.a_x.app"#,
        snap: Some("a_x"),
        app: Some("app"),
        rule: r#"/var/log/syslog r,"#,
        interfaces: &["log-observe"],
    },
    Case {
        name: "journal kernel line, snap-update-ns",
        line: r#"May 01 14:06:50 host kernel: audit: type=1400 audit(1600000040.040:40): apparmor="DENIED" operation="open" profile="snap-update-ns.a" name="/snap/a/1/lib/" pid=46 comm="snap-update-ns" requested_mask="c" denied_mask="c" fsuid=0 ouid=0"#,
        kind: "apparmor",
        what: "open",
        profile: r#"snap-update-ns.a"#,
        snap: Some("a"),
        app: None,
        rule: r#"/snap/a/1/lib/ w,"#,
        interfaces: &[],
    },
    Case {
        name: "journal audit transport",
        line: r#"May 01 14:06:50 host audit[47]: AVC apparmor="DENIED" operation="open" profile="snap.a.app" name="/proc/1/mounts" pid=47 comm="df" requested_mask="r" denied_mask="r" fsuid=1000 ouid=0"#,
        kind: "apparmor",
        what: "open",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#"/proc/1/mounts r,"#,
        interfaces: &["mount-observe"],
    },
    Case {
        name: "syslog ISO line, complain mode, hex comm",
        line: r#"2020-09-13T12:26:41.123456+00:00 host kernel: [12345.678901] audit: type=1400 audit(1600000041.041:41): apparmor="ALLOWED" operation="open" profile="snap.a.app" name="/dev/ttyUSB0" pid=48 comm=6D7920617070 requested_mask="wr" denied_mask="wr" fsuid=0 ouid=0"#,
        kind: "apparmor",
        what: "open",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#"/dev/ttyUSB0 rw,"#,
        interfaces: &[],
    },
    Case {
        name: "dmesg -T prefix",
        line: r#"[Tue May  1 14:06:50 2018] audit: type=1400 audit(1600000042.042:42): apparmor="DENIED" operation="open" profile="snap.a.app" name="/home/u/.ssh/id_rsa" pid=49 comm="cat" requested_mask="r" denied_mask="r" fsuid=1000 ouid=1000"#,
        kind: "apparmor",
        what: "open",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#"/home/u/.ssh/id_rsa r,"#,
        interfaces: &[],
    },
    Case {
        name: "owner mismatch",
        line: r#"audit: type=1400 audit(1600000043.043:43): apparmor="DENIED" operation="open" profile="snap.a.app" name="/etc/ssl/private/key.pem" pid=50 comm="cat" requested_mask="r" denied_mask="r" fsuid=1000 ouid=0"#,
        kind: "apparmor",
        what: "open",
        profile: r#"snap.a.app"#,
        snap: Some("a"),
        app: Some("app"),
        rule: r#"/etc/ssl/private/key.pem r,"#,
        interfaces: &[],
    },
];

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
