//! Unprivileged tools: they produce the policy the launcher enforces and
//! explain what it denied.
//!
//! * [`snapyaml`]: `meta/snap.yaml`, parsed and validated;
//! * [`interfaces`]: what each interface grants, as data ([`interfaces::catalog`]);
//! * [`policy`]: a snap's AppArmor profiles, Landlock policies, seccomp sources, udev rules and
//!   device cgroup file, generated from templates and connected interfaces;
//! * [`seccomp`]: the seccomp compiler;
//! * [`deploy`]: putting a snap's policy in force, all or nothing;
//! * [`state`]: registered snaps and connections, in one locked file;
//! * [`admin`]: the admin command's operations (register, connect, ...);
//! * [`install`]: installing and removing snap files (mounts, wrappers, units);
//! * [`run`]: `snap-run` and `snap-exec`, the way from a command to the app;
//! * [`inhibit`]: snapd's run inhibition lock, held while a snap is refreshed or removed;
//! * [`gpu`]: `confine gpu`, what strict snaps get of the GPU driver;
//! * [`paths`]: every location, under one movable root;
//! * [`command`]: running systemctl and udevadm.
#![forbid(unsafe_code)]

pub mod admin;
pub mod command;
pub mod denials;
pub mod deploy;
pub mod gpu;
pub mod inhibit;
pub mod install;
pub mod interfaces;
pub mod paths;
pub mod policy;
pub mod run;
pub mod seccomp;
pub mod snapyaml;
pub mod state;
