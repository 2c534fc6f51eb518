//! The GPU driver's userspace in strict snaps, on this host (no AppArmor:
//! Landlock confines the app), through the installed launcher as `nobody`.
//! Each scene fakes NVIDIA's driver in its private namespace: a version in
//! `/sys/module/nvidia/version` (a tmpfs over `/sys/module`), the libraries
//! of the H200 machine in `tests/data/gpu` laid out as NVIDIA's container
//! toolkit lays them out under `/usr/local/nvidia`, and an ld.so cache that
//! names them (made by `ldconfig`, bound over `/etc/ld.so.cache`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod support;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::{sh_quote, Run, Scene};

const POLICY: &str = "landlock-policy 1\n\
    fs read,execute /usr\nfs read,execute /bin\nfs read,execute /lib\nfs read,execute /lib64\n\
    fs read /etc/ld.so.cache\nfs read /etc/passwd\nfs read,write /tmp\nfs read /var/lib/snapd/lib\n";

/// The fake driver files, made once per test binary.
fn fake_driver() -> PathBuf {
    static MADE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    MADE.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fake-nvidia-h200");
        let _ = std::fs::remove_dir_all(&dir);
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let st = Command::new(repo.join("integration/fake-nvidia-driver"))
            .arg(repo.join("tests/data/gpu/h200-driver-files.txt"))
            .arg(&dir)
            .status()
            .unwrap();
        assert!(st.success(), "cannot make the fake driver");
        std::fs::write(dir.join("ld.so.conf"), "/usr/local/nvidia/lib64\n").unwrap();
        dir
    })
    .clone()
}

/// A strict scene with the fake driver at `version` and `rules` added to
/// the Landlock policy.
fn scene(version: &str, rules: &str) -> Scene {
    let d = fake_driver();
    let d = sh_quote(d.to_str().unwrap());
    Scene::new()
        .strict()
        .base("core", 1)
        .policy("snap.demo.app", "unrestricted.src")
        .landlock("snap.demo.app", Some(&format!("{POLICY}{rules}")))
        .env("SNAP_INSTANCE_NAME", "demo")
        .root("mount -t tmpfs -o mode=0755 scene-modules /sys/module && mkdir /sys/module/nvidia")
        .root(&format!("printf '%s\\n' {} > /sys/module/nvidia/version", sh_quote(version)))
        .root(&format!("mount -t tmpfs -o mode=0755 scene-local /usr/local && cp -a {d}/usr/local/. /usr/local/"))
        .root(&format!("ldconfig -X -C /tmp/scene-ld.so.cache -f {d}/ld.so.conf && mount --bind /tmp/scene-ld.so.cache /etc/ld.so.cache"))
        .root("install -d -m 0755 /var/lib/snapd/lib/gl /var/lib/snapd/lib/gl32 /var/lib/snapd/lib/vulkan /var/lib/snapd/lib/glvnd")
}

/// The links of the farm at `dir` as the app sees them, `name -> target`.
const LIST_FARM: &str = "$L snap.demo.app /bin/sh -c 'cd /var/lib/snapd/lib/gl && for f in *; do [ -L \"$f\" ] || continue; echo \"$f -> $(readlink $f)\"; done'";

fn lines_with<'a>(r: &'a Run, needle: &str) -> Vec<&'a str> {
    r.stdout.lines().filter(|l| l.contains(needle)).collect()
}

#[test]
fn the_app_sees_the_farm_confine_gpu_describes() {
    let r = scene("580.159.04", "gpu-driver\n").run(&format!(
        "/usr/lib/confine/confine gpu --json >/tmp/plan.json; echo plan=$?; {LIST_FARM}; \
         cat /tmp/plan.json"
    ));
    r.ok();
    let (farm, json) = r.stdout.split_once('{').unwrap();
    let plan: serde_json::Value = serde_json::from_str(&format!("{{{json}")).unwrap();
    assert_eq!(plan["libraries"]["rule"], "ld.so cache: libnvidia-glcore.so.580.159.04 => /usr/local/nvidia/lib64/libnvidia-glcore.so.580.159.04");
    let want: Vec<String> = plan["libraries"]["farms"][0]["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| format!("{} -> {}", l["name"].as_str().unwrap(), l["target"].as_str().unwrap()))
        .collect();
    let got: Vec<&str> = farm.lines().filter(|l| l.contains(" -> ")).collect();
    assert_eq!(got, want, "the app sees what confine gpu says");
    assert_eq!(got.len(), 70);
    assert!(got.contains(&"libcuda.so.1 -> libcuda.so.580.159.04"));
    assert!(got.contains(&"libnvidia-glsi.so.580.159.04 -> /var/lib/snapd/hostfs/usr/local/nvidia/lib64/libnvidia-glsi.so.580.159.04"));
}

#[test]
fn the_libraries_are_reachable_and_nothing_else_of_the_host() {
    let probe = "$L snap.demo.app $P read /var/lib/snapd/lib/gl/libcuda.so.1 /var/lib/snapd/lib/gl/libGLX_nvidia.so.0 \
                 /var/lib/snapd/hostfs/usr/local/nvidia/lib64/libcuda.so.580.159.04 \
                 /var/lib/snapd/hostfs/etc/hostname /var/lib/snapd/hostfs/usr/bin/env; \
                 $L snap.demo.app $P write /var/lib/snapd/lib/gl/new";
    let r = scene("580.159.04", "gpu-driver\n").run(probe);
    r.ok();
    for want in [
        "read:/var/lib/snapd/lib/gl/libcuda.so.1=ok",
        "read:/var/lib/snapd/lib/gl/libGLX_nvidia.so.0=ok",
        "read:/var/lib/snapd/hostfs/usr/local/nvidia/lib64/libcuda.so.580.159.04=ok",
        // Readable as far as permissions go, but no farm points there.
        "read:/var/lib/snapd/hostfs/etc/hostname=EACCES",
        "read:/var/lib/snapd/hostfs/usr/bin/env=EACCES",
        "write:/var/lib/snapd/lib/gl/new=EROFS",
    ] {
        assert!(r.stdout.lines().any(|l| l == want), "{want}:\n{r:#?}");
    }
    // Without the rule (no opengl interface), the driver stays out of reach.
    let r = scene("580.159.04", "").run(probe);
    r.ok();
    assert!(r.stdout.lines().any(|l| l == "read:/var/lib/snapd/lib/gl/libcuda.so.1=EACCES"), "{r:#?}");
}

#[test]
fn a_file_root_does_not_own_stays_out() {
    let r = scene("580.159.04", "gpu-driver\n")
        .root("chown 65534 /usr/local/nvidia/lib64/libnvidia-glsi.so.580.159.04")
        .run(&format!("SNAP_CONFINE_DEBUG=1 {LIST_FARM} 2>&1"));
    r.ok();
    assert!(lines_with(&r, "libnvidia-glsi.so.580.159.04 ->").is_empty(), "{r:#?}");
    assert_eq!(
        lines_with(&r, "DEBUG: GPU: /var/lib/snapd/lib/gl: /usr/local/nvidia/lib64/libnvidia-glsi.so.580.159.04: not owned by root").len(),
        1,
        "{r:#?}"
    );
    assert!(!lines_with(&r, "libcuda.so.580.159.04 ->").is_empty());
}

#[test]
fn versions_that_name_no_file_and_no_driver() {
    // Content snap-confine refuses: the launch fails with its words.
    let r = scene("not-a-version", "gpu-driver\n").run("$L snap.demo.app /bin/true");
    r.failed_with("cannot parse major version from nvidia driver version string");
    // A version with odd characters: one debug line, the launch goes on
    // as with no driver.
    let r = scene("580.159.04/../../x", "gpu-driver\n").run(&format!("SNAP_CONFINE_DEBUG=1 {LIST_FARM} 2>&1"));
    r.ok();
    assert_eq!(lines_with(&r, "has odd characters: no library farm").len(), 1, "{r:#?}");
    assert!(lines_with(&r, " -> ").is_empty(), "{r:#?}");
    // Another driver's libraries are not this one's.
    let r = scene("550.1", "gpu-driver\n").run(&format!("SNAP_CONFINE_DEBUG=1 {LIST_FARM} 2>&1"));
    r.ok();
    assert!(lines_with(&r, " -> ").is_empty(), "{r:#?}");
    assert_eq!(lines_with(&r, "DEBUG: GPU: no library of driver 550.1 found on this host").len(), 1, "{r:#?}");
}
