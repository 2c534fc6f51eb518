//! Build-time configuration of the launcher: where it is installed (the
//! launcher refuses to run setuid from anywhere else) and its version text.
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=CONFINE_LIBEXECDIR");
    println!("cargo:rerun-if-changed=build.rs");
    let libexec = std::env::var("CONFINE_LIBEXECDIR").unwrap_or_else(|_| "/usr/lib/confine".to_string());
    if !libexec.starts_with('/') || libexec.contains("/../") || libexec.ends_with('/') {
        println!("cargo:warning=CONFINE_LIBEXECDIR must be an absolute path without a trailing slash");
        std::process::exit(1);
    }
    println!("cargo:rustc-env=CONFINE_LIBEXECDIR={libexec}");

    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let commit = Command::new("git")
        .args(["rev-parse", "--short=10", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let full = if commit.is_empty() { version } else { format!("{version}+git.{commit}") };
    println!("cargo:rustc-env=CONFINE_VERSION={full}");
    // A commit moves the branch HEAD names, not HEAD itself: both are
    // watched (and the packed refs, where the branch may live instead).
    if let Ok(head) = std::fs::read_to_string(".git/HEAD") {
        println!("cargo:rerun-if-changed=.git/HEAD");
        if let Some(branch) = head.trim().strip_prefix("ref: ") {
            for file in [format!(".git/{branch}"), ".git/packed-refs".to_string()] {
                if std::path::Path::new(&file).exists() {
                    println!("cargo:rerun-if-changed={file}");
                }
            }
        }
    }
}
