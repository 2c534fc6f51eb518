//! confine's launcher: builds a snap app's sandbox and executes the app in
//! it. [`launch::run`] is the whole launch, step by step; each step lives in
//! the module named after it. Every system call goes through [`sys::Sys`],
//! and [`sys::linux`] is the only place with `unsafe` code.
#![deny(unsafe_code)]

// Against musl, dlmalloc for every binary of this crate: musl's allocator
// unmaps freed memory at once, about 0.2 ms more per launch (see the
// Makefile for why the launcher is built against musl).
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

pub mod app_env;
pub mod apparmor;
pub mod args;
pub mod cgroup;
pub mod config;
pub mod cookie;
pub mod debug;
pub mod discard;
pub mod error;
pub mod fs;
pub mod gpu;
pub mod group_policy;
pub mod invocation;
pub mod landlock;
pub mod launch;
pub mod lock;
pub mod mount_profile;
pub mod mountinfo;
pub mod ns;
pub mod privs;
pub mod process;
pub mod rootfs;
pub mod seccomp;
pub mod settings;
pub mod signals;
pub mod sys;
pub mod tool_note;
pub mod update_ns;
pub mod user_data;
