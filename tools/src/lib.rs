//! Unprivileged tools: they produce the policy the launcher enforces and
//! explain what it denied.
//!
//! * [`snapyaml`]: `meta/snap.yaml`, parsed and validated;
//! * [`interfaces`]: what each interface grants, as data ([`interfaces::catalog`]);
//! * [`policy`]: a snap's AppArmor profiles, seccomp sources, udev rules and
//!   device cgroup file, generated from templates and connected interfaces;
//! * [`seccomp`]: the seccomp compiler;
//! * [`deploy`]: putting a snap's policy in force, all or nothing;
//! * [`state`]: registered snaps and connections, in one locked file;
//! * [`admin`]: the admin command's operations (register, connect, ...);
//! * [`paths`]: every location, under one movable root.
#![forbid(unsafe_code)]

pub mod admin;
pub mod denials;
pub mod deploy;
pub mod interfaces;
pub mod paths;
pub mod policy;
pub mod seccomp;
pub mod snapyaml;
pub mod state;
