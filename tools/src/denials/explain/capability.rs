//! Capability records: the capability by name and what it is for.

use crate::interfaces::AppArmorAccess;

use crate::denials::context::Context;
use crate::denials::record::AppArmorEvent;
use crate::denials::subject::Subject;

use super::common::{
    actor, from_grants, interface_hints, local_include_advice, new, nothing_grants, process,
    refuser, snap_variables, stopped,
};
use super::types::Explanation;

/// The capabilities by number (`capability=21`).
const CAPABILITIES: &[&str] = &[
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "kill",
    "setgid",
    "setuid",
    "setpcap",
    "linux_immutable",
    "net_bind_service",
    "net_broadcast",
    "net_admin",
    "net_raw",
    "ipc_lock",
    "ipc_owner",
    "sys_module",
    "sys_rawio",
    "sys_chroot",
    "sys_ptrace",
    "sys_pacct",
    "sys_admin",
    "sys_boot",
    "sys_nice",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "mknod",
    "lease",
    "audit_write",
    "audit_control",
    "setfcap",
    "mac_override",
    "mac_admin",
    "syslog",
    "wake_alarm",
    "block_suspend",
    "audit_read",
    "perfmon",
    "bpf",
    "checkpoint_restore",
];

/// What a capability is for, for the common ones.
fn capability_purpose(cap: &str) -> Option<&'static str> {
    Some(match cap {
        "chown" => "changing the owner of files",
        "dac_override" => "reading and writing files regardless of their permissions",
        "dac_read_search" => "reading files and searching directories regardless of their permissions",
        "fowner" => "acting on files owned by other users",
        "kill" => "signalling processes of other users",
        "setuid" | "setgid" => "changing user or group identity",
        "net_admin" => "configuring the network",
        "net_raw" => "raw and packet sockets",
        "net_bind_service" => "listening on ports below 1024",
        "sys_admin" => "system administration: mounts, namespaces and much more",
        "sys_ptrace" => "tracing processes of other users",
        "sys_module" => "loading kernel modules",
        "sys_nice" => "raising priorities",
        "sys_resource" => "going over resource limits",
        "sys_rawio" => "raw I/O ports and devices",
        "mknod" => "creating device nodes",
        "syslog" => "reading and controlling the kernel log",
        _ => return None,
    })
}

pub(super) fn capability(e: &AppArmorEvent, ctx: &Context, who: &Subject) -> Explanation {
    let cap = e
        .field("capname")
        .map(str::to_owned)
        .or_else(|| {
            e.number("capability")
                .and_then(|n| usize::try_from(n).ok())
                .and_then(|n| CAPABILITIES.get(n))
                .map(|c| (*c).to_owned())
        })
        .unwrap_or_else(|| "?".to_owned());
    let purpose = capability_purpose(&cap).map(|p| format!(" ({p})")).unwrap_or_default();
    let mut x = new(
        stopped(e, &actor(who), &format!("using the capability {cap}{purpose}")),
        "apparmor",
        who,
    );
    if let Some(p) = process(e, None) {
        x.say(p);
    }
    let rule = format!("capability {cap},");
    x.lacks(&refuser(who), &rule);
    match who {
        Subject::App { .. } | Subject::Hook { .. } => {
            let grants = from_grants(
                ctx.catalog
                    .apparmor_grants(&AppArmorAccess::Capability(cap.clone()), &snap_variables(who)),
            );
            if grants.is_empty() {
                nothing_grants(&mut x, who, &format!("capability {cap}"));
            } else {
                interface_hints(&mut x, ctx, who, grants, None);
            }
        }
        Subject::UpdateNs { .. } => nothing_grants(&mut x, who, &format!("capability {cap}")),
        Subject::Profile { label } => local_include_advice(&mut x, ctx, label, &[rule]),
        Subject::Unconfined => {}
    }
    x
}
