//! "Which interface grants this?" — for AppArmor accesses and system calls.
//!
//! The answers come from the interface data alone (not from a snap's
//! generated profile), so they name interfaces a snap could connect, not
//! only those it has. Abstractions pulled in with `#include` are reported
//! as includes, not looked into.

use std::collections::BTreeMap;

use super::apparmor_rules::{self, Kind, Statement};
use super::{Catalog, Interface};
use crate::seccomp::parse::{Kind as SeccompKind, Rule};

/// An access AppArmor mediates, as a denial reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppArmorAccess {
    /// A file access: the path and the requested permissions (`r`, `w`,
    /// `a`, `l`, `k`, `m`, `x`).
    File {
        path: String,
        perms: String,
    },
    Capability(String),
    /// Sending a signal to a process labelled `peer`.
    Signal {
        peer: String,
    },
    /// `read` or `trace` of a process labelled `peer`.
    Ptrace {
        perm: String,
        peer: String,
    },
    /// A socket of a family (`inet`, `netlink`...) and type (`stream`...).
    Network {
        family: String,
        sock_type: String,
    },
}

/// A rule of an interface that matches a question.
#[derive(Debug, Clone)]
pub struct Grant<'a> {
    pub interface: &'a Interface,
    /// The matching rule, as written in the interface data.
    pub rule: String,
    /// The rule denies rather than grants.
    pub deny: bool,
    /// A file rule that applies only to files the process owns.
    pub owner_only: bool,
}

impl Catalog {
    /// The interfaces whose seccomp lines name `syscall` (allow lines; with
    /// their argument conditions, in `rule`).
    pub fn syscall_grants(&self, syscall: &str) -> Vec<(&Interface, Rule)> {
        let mut out = Vec::new();
        for iface in self.all() {
            for rule in iface.seccomp_rules() {
                if rule.syscall == syscall && rule.kind == SeccompKind::Allow {
                    out.push((iface, rule));
                }
            }
        }
        out
    }

    /// The interface rules that cover an AppArmor access. `vars` gives
    /// values for variables beyond the usual tunables (a snap's
    /// `SNAP_NAME`, say); unknown variables match any path component.
    pub fn apparmor_grants(&self, access: &AppArmorAccess, vars: &BTreeMap<String, Vec<String>>) -> Vec<Grant<'_>> {
        let mut all_vars = apparmor_rules::default_variables();
        all_vars.extend(vars.iter().map(|(k, v)| (k.clone(), v.clone())));
        let mut out = Vec::new();
        for iface in self.all() {
            for st in iface.apparmor_rules() {
                if let Some(owner_only) = covers(&st, access, &all_vars) {
                    out.push(Grant {
                        interface: iface,
                        rule: st.text.clone(),
                        deny: st.deny,
                        owner_only,
                    });
                }
            }
        }
        out
    }
}

fn peer_matches(peer_glob: Option<&String>, peer: &str, vars: &BTreeMap<String, Vec<String>>) -> bool {
    match peer_glob {
        None => true,
        Some(glob) => apparmor_rules::glob_regex(glob, vars).is_some_and(|re| re.is_match(peer)),
    }
}

/// `Some(owner_only)` when the statement covers the access.
fn covers(st: &Statement, access: &AppArmorAccess, vars: &BTreeMap<String, Vec<String>>) -> Option<bool> {
    let hit = |b: bool| b.then_some(false);
    match (&st.kind, access) {
        (Kind::File { glob, perms, owner }, AppArmorAccess::File { path, perms: wanted }) => {
            // Most rules are ruled out by their literal start: only those
            // that may match are compiled (a rule's braces can expand to
            // hundreds of alternatives).
            let literal = glob.find(['*', '?', '[', '{', '@', '\\']).map_or(glob.as_str(), |i| glob.get(..i).unwrap_or(""));
            if !literal.contains("//") && !path.starts_with(literal) {
                return None;
            }
            let re = apparmor_rules::glob_regex(glob, vars)?;
            (re.is_match(path) && apparmor_rules::perms_cover(perms, wanted)).then_some(*owner)
        }
        (Kind::Capability(caps), AppArmorAccess::Capability(cap)) => hit(caps.is_empty() || caps.contains(cap)),
        (Kind::Signal { perms, peer }, AppArmorAccess::Signal { peer: target }) => {
            hit((perms.is_empty() || perms.iter().any(|p| p == "send")) && peer_matches(peer.as_ref(), target, vars))
        }
        (Kind::Ptrace { perms, peer }, AppArmorAccess::Ptrace { perm, peer: target }) => {
            let perm_ok = perms.is_empty()
                || perms.iter().any(|p| p == perm)
                || (perm == "read" && perms.iter().any(|p| p == "trace"));
            hit(perm_ok && peer_matches(peer.as_ref(), target, vars))
        }
        (
            Kind::Network { family, sock_type },
            AppArmorAccess::Network {
                family: f,
                sock_type: t,
            },
        ) => hit(family.as_ref().is_none_or(|x| x == f) && sock_type.as_ref().is_none_or(|x| x == t)),
        _ => None,
    }
}
