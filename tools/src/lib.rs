//! Unprivileged tools: they produce the policy the launcher enforces and
//! explain what it denied.
#![forbid(unsafe_code)]

pub mod denials;
pub mod seccomp;
