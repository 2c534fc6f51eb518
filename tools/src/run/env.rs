//! The environment of a snap app, as `snap run` computes it before the
//! launcher runs: the caller's environment plus the `SNAP_*` variables, with
//! `HOME` and `XDG_RUNTIME_DIR` moved for strictly confined snaps and the
//! variables a secure-mode loader would drop kept as `SNAP_SAVED_*` for
//! classic ones.

use crate::snapyaml::{Confinement, SnapYaml};

/// glibc's "unsecvars", which a setuid launcher's loader removes.
pub const UNSAFE_VARS: &[&str] = &[
    "GCONV_PATH", "GETCONF_DIR", "GLIBC_TUNABLES", "HOSTALIASES", "LD_AUDIT", "LD_DEBUG", "LD_DEBUG_OUTPUT",
    "LD_DYNAMIC_WEAK", "LD_HWCAP_MASK", "LD_LIBRARY_PATH", "LD_ORIGIN_PATH", "LD_PRELOAD", "LD_PROFILE",
    "LD_SHOW_AUXV", "LD_USE_LOAD_BIAS", "LOCALDOMAIN", "LOCPATH", "MALLOC_TRACE", "NIS_PATH", "NLSPATH",
    "RESOLV_HOST_CONF", "RES_OPTIONS", "TMPDIR", "TZDIR",
];

pub const SAVED_PREFIX: &str = "SNAP_SAVED_";

/// Who runs the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub uid: u32,
    pub euid: u32,
    pub home: String,
}

/// What is being run.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    pub yaml: &'a SnapYaml,
    pub instance: &'a str,
    pub revision: &'a str,
    /// The app, or `None` for a hook.
    pub app: Option<&'a str>,
}

fn set(env: &mut Vec<(String, String)>, key: &str, value: String) {
    env.retain(|(k, _)| k != key);
    env.push((key.to_string(), value));
}

/// The dpkg architecture name of this machine.
pub fn dpkg_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "i386",
        "aarch64" => "arm64",
        "arm" => "armhf",
        "powerpc64" => "ppc64el",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        other => other,
    }
}

/// Builds the app's environment from the caller's.
pub fn snap_env(caller: &[(String, String)], t: &Target<'_>, user: &User) -> Vec<(String, String)> {
    let name = &t.yaml.name;
    let mut env: Vec<(String, String)> = caller.to_vec();
    let key = t.instance.split_once('_').map(|(_, k)| k.to_string()).unwrap_or_default();
    let user_data = format!("{}/snap/{}/{}", user.home, t.instance, t.revision);
    let user_common = format!("{}/snap/{}/common", user.home, t.instance);
    let vars = [
        ("SNAP", format!("/snap/{name}/{}", t.revision)),
        ("SNAP_COMMON", format!("/var/snap/{name}/common")),
        ("SNAP_DATA", format!("/var/snap/{name}/{}", t.revision)),
        ("SNAP_NAME", name.clone()),
        ("SNAP_INSTANCE_NAME", t.instance.to_string()),
        ("SNAP_INSTANCE_KEY", key),
        ("SNAP_VERSION", t.yaml.version.clone()),
        ("SNAP_REVISION", t.revision.to_string()),
        ("SNAP_ARCH", dpkg_arch().to_string()),
        ("SNAP_LIBRARY_PATH", "/var/lib/snapd/lib/gl:/var/lib/snapd/lib/gl32:/var/lib/snapd/void".to_string()),
        ("SNAP_REEXEC", String::new()),
        ("SNAP_UID", user.uid.to_string()),
        ("SNAP_EUID", user.euid.to_string()),
        ("SNAP_USER_DATA", user_data.clone()),
        ("SNAP_USER_COMMON", user_common),
        ("SNAP_REAL_HOME", user.home.clone()),
    ];
    for (k, v) in vars {
        set(&mut env, k, v);
    }
    if let Some(app) = t.app {
        set(&mut env, "SNAP_APP_NAME", app.to_string());
    }
    if t.yaml.confinement == Confinement::Classic {
        // The launcher's loader would drop these: keep them under another
        // name for snap-exec to put back (apps only).
        env.retain(|(k, _)| !k.starts_with(SAVED_PREFIX));
        env = env
            .into_iter()
            .map(|(k, v)| if UNSAFE_VARS.contains(&k.as_str()) { (format!("{SAVED_PREFIX}{k}"), v) } else { (k, v) })
            .collect();
    } else {
        set(&mut env, "HOME", user_data);
        set(&mut env, "XDG_RUNTIME_DIR", format!("/run/user/{}/snap.{}", user.euid, t.instance));
    }
    env
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    fn yaml(confinement: &str) -> SnapYaml {
        crate::snapyaml::parse(&format!(
            "name: hello\nversion: '1.0'\nconfinement: {confinement}\napps:\n  hello:\n    command: bin/hello\n"
        ))
        .unwrap()
    }

    fn get<'a>(env: &'a [(String, String)], k: &str) -> Option<&'a str> {
        env.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str())
    }

    #[test]
    fn strict_moves_home() {
        let y = yaml("strict");
        let user = User { uid: 1000, euid: 1000, home: "/home/u".into() };
        let caller = vec![("HOME".into(), "/home/u".into()), ("LD_PRELOAD".into(), "x".into())];
        let env = snap_env(&caller, &Target { yaml: &y, instance: "hello", revision: "x2", app: Some("hello") }, &user);
        assert_eq!(get(&env, "SNAP"), Some("/snap/hello/x2"));
        assert_eq!(get(&env, "SNAP_DATA"), Some("/var/snap/hello/x2"));
        assert_eq!(get(&env, "SNAP_USER_DATA"), Some("/home/u/snap/hello/x2"));
        assert_eq!(get(&env, "HOME"), Some("/home/u/snap/hello/x2"));
        assert_eq!(get(&env, "SNAP_REAL_HOME"), Some("/home/u"));
        assert_eq!(get(&env, "XDG_RUNTIME_DIR"), Some("/run/user/1000/snap.hello"));
        assert_eq!(get(&env, "SNAP_APP_NAME"), Some("hello"));
        assert_eq!(get(&env, "LD_PRELOAD"), Some("x"), "strict: left to the loader to drop");
        assert_eq!(env.iter().filter(|(k, _)| k == "HOME").count(), 1);
    }

    #[test]
    fn classic_keeps_home_and_saves_unsafe_variables() {
        let y = yaml("classic");
        let user = User { uid: 0, euid: 0, home: "/root".into() };
        let caller = vec![
            ("HOME".into(), "/root".into()),
            ("LD_LIBRARY_PATH".into(), "/opt/lib".into()),
            ("SNAP_SAVED_FORGED".into(), "x".into()),
        ];
        let env = snap_env(&caller, &Target { yaml: &y, instance: "hello", revision: "1", app: Some("hello") }, &user);
        assert_eq!(get(&env, "HOME"), Some("/root"));
        assert_eq!(get(&env, "SNAP_SAVED_LD_LIBRARY_PATH"), Some("/opt/lib"));
        assert_eq!(get(&env, "LD_LIBRARY_PATH"), None);
        assert_eq!(get(&env, "SNAP_SAVED_FORGED"), None);
        assert_eq!(get(&env, "XDG_RUNTIME_DIR"), None);
    }
}
