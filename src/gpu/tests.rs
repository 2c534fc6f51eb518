#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use super::farm::{glob_match, Reason};
use super::layout::{Libraries, Rule};
use super::ldcache::{self, CacheEntry, CacheError, Word};
use super::view::{resolve, Refusal, TreeView, Want};
use super::*;

const H200_FILES: &str = include_str!("../../tests/data/gpu/h200-driver-files.txt");
const H200_CACHE: &[u8] = include_bytes!("../../tests/data/gpu/h200-ld.so.cache");

fn version(raw: &str) -> DriverVersion {
    version::parse(raw.as_bytes(), true).unwrap()
}

/// The mount points a package creates.
fn with_mount_points(t: TreeView) -> TreeView {
    t.dir("/var/lib/snapd/lib/gl").dir("/var/lib/snapd/lib/gl32").dir("/var/lib/snapd/lib/vulkan").dir("/var/lib/snapd/lib/glvnd")
}

/// A tree from `find -printf '%M %u:%g %s %p -> %l'` lines.
fn tree_from_listing(text: &str) -> TreeView {
    let mut t = TreeView::default();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let fields: Vec<&str> = line.splitn(4, ' ').collect();
        let (path, target) = fields[3].split_once(" -> ").unwrap();
        t = match fields[0].chars().next() {
            Some('l') => t.link(path, target.trim()),
            Some('d') => t.dir(path),
            _ => t.file(path),
        };
    }
    t
}

fn no_cache() -> std::result::Result<Vec<CacheEntry>, String> {
    Err("there is none".into())
}

fn plan(t: &TreeView, v: &str, base: &str, cache: Vec<CacheEntry>) -> GpuPlan {
    let mut c = move || Ok(cache.clone());
    plan_for(t, version(v), version::VERSION_FILE, base, &mut c)
}

fn links(farm: &Farm) -> Vec<String> {
    farm.links.iter().map(|l| format!("{} -> {}", l.name, l.target)).collect()
}

fn gl(p: &GpuPlan) -> &Farm {
    match &p.libraries {
        Libraries::Farms { gl, .. } => gl,
        other => panic!("no farm: {other:?}"),
    }
}

#[test]
fn glob_matching() {
    assert!(glob_match("libcuda.so*", "libcuda.so.1"));
    assert!(glob_match("libcuda.so*", "libcuda.so"));
    assert!(!glob_match("libcuda.so*", "libcudart.so"));
    assert!(glob_match("libnvrtc*", "libnvrtc-builtins.so.12"));
    assert!(glob_match("icd.d/*nvidia*.json", "icd.d/nvidia_icd.json"));
    assert!(!glob_match("*nvidia*.json", "icd.d/nvidia_icd.json"));
    assert!(glob_match("vdpau/libvdpau_nvidia.so*", "vdpau/libvdpau_nvidia.so.1"));
    assert!(!glob_match("libnvidia-vksc-core.so.*", "libnvidia-vksc-core.so"));
    assert!(glob_match("a?c", "abc") && !glob_match("a?c", "a/c"));
}

#[test]
fn cache_of_the_h200_machine() {
    let entries = ldcache::parse(H200_CACHE).unwrap();
    assert_eq!(entries.len(), 520);
    let cuda: Vec<&CacheEntry> = entries.iter().filter(|e| e.name == "libcuda.so.1").collect();
    assert_eq!(cuda.len(), 2, "{cuda:?}");
    assert!(cuda.iter().any(|e| e.path == "/usr/local/nvidia/lib64/libcuda.so.1" && e.flags == 0x0303));
    assert!(entries.iter().all(|e| ldcache::word_of(e.flags) == Word::Native));
}

#[test]
fn cache_errors() {
    // Truncated anywhere: refused, never read past the end.
    for len in [0, 10, 47, 48, 100, H200_CACHE.len() / 2] {
        let err = ldcache::parse(&H200_CACHE[..len]).unwrap_err();
        assert!(matches!(err, CacheError::Truncated(_) | CacheError::NotACache), "{len}: {err:?}");
    }
    // The other byte order, as glibc marks it.
    let mut other = H200_CACHE.to_vec();
    other[28] = if cfg!(target_endian = "little") { 3 } else { 2 };
    assert_eq!(ldcache::parse(&other), Err(CacheError::OtherEndian));
    other[28] = 1;
    assert_eq!(ldcache::parse(&other), Err(CacheError::BadEndianField));
    // A huge count.
    let mut hostile = H200_CACHE.to_vec();
    hostile[20..24].copy_from_slice(&u32::MAX.to_ne_bytes());
    assert_eq!(ldcache::parse(&hostile), Err(CacheError::Truncated("entries")));
    // An entry pointing past the end.
    let mut hostile = H200_CACHE.to_vec();
    hostile[52..56].copy_from_slice(&(H200_CACHE.len() as u32 + 10).to_ne_bytes());
    assert_eq!(ldcache::parse(&hostile), Err(CacheError::Truncated("strings")));
    // A string that never ends.
    let mut hostile = H200_CACHE.to_vec();
    let last = hostile.len() - 1;
    hostile[last] = b'x';
    hostile[52..56].copy_from_slice(&(last as u32).to_ne_bytes());
    assert_eq!(ldcache::parse(&hostile), Err(CacheError::Truncated("strings")));
    assert_eq!(ldcache::parse(&vec![0u8; ldcache::MAX_LEN + 1]), Err(CacheError::TooLarge(ldcache::MAX_LEN + 1)));
    assert_eq!(ldcache::parse(b"ELF\x7f and more bytes than a header, surely more than forty-eight"), Err(CacheError::NotACache));
}

/// The machine of the H200: NVIDIA's container toolkit layout, found
/// through its ld.so cache.
#[test]
fn toolkit_layout_through_the_cache() {
    let t = with_mount_points(tree_from_listing(H200_FILES));
    let p = plan(&t, "580.159.04", "debian12", ldcache::parse(H200_CACHE).unwrap());
    let Libraries::Farms { rule, gl, gl32 } = &p.libraries else { panic!("{:?}", p.libraries) };
    assert_eq!(
        *rule,
        Rule::LdCache { name: "libnvidia-glcore.so.580.159.04".into(), path: "/usr/local/nvidia/lib64/libnvidia-glcore.so.580.159.04".into() }
    );
    assert!(gl32.is_none());
    assert_eq!(gl.sources, ["/usr/local/nvidia/lib64"]);
    // Every one of the 26 versioned libraries, with its soname links.
    let versioned = gl.links.iter().filter(|l| l.name.ends_with(".so.580.159.04")).count();
    assert_eq!(versioned, 26);
    let l = links(gl);
    for want in [
        "libcuda.so.580.159.04 -> /var/lib/snapd/hostfs/usr/local/nvidia/lib64/libcuda.so.580.159.04",
        "libcuda.so.1 -> libcuda.so.580.159.04",
        "libGLX_nvidia.so.0 -> libGLX_nvidia.so.580.159.04",
        "libnvidia-glsi.so.580.159.04 -> /var/lib/snapd/hostfs/usr/local/nvidia/lib64/libnvidia-glsi.so.580.159.04",
        "libnvidia-tls.so.580.159.04 -> /var/lib/snapd/hostfs/usr/local/nvidia/lib64/libnvidia-tls.so.580.159.04",
        "libcudadebugger.so.1 -> libcudadebugger.so.580.159.04",
    ] {
        assert!(l.contains(&want.to_string()), "{want} missing from {l:#?}");
    }
    // libcudadebugger is in no glob of snap-confine's: it came by version.
    let dbg = gl.links.iter().find(|l| l.name == "libcudadebugger.so.580.159.04").unwrap();
    assert_eq!(dbg.reason, Reason::Versioned);
    let dbg1 = gl.links.iter().find(|l| l.name == "libcudadebugger.so.1").unwrap();
    assert_eq!(dbg1.reason, Reason::LinkToVersioned);
    // Vulkan and EGL: the absolute links of /usr/share resolved to the files.
    let vk = p.vulkan.as_ref().unwrap();
    assert_eq!(
        links(vk),
        ["icd.d/nvidia_icd.json -> /var/lib/snapd/hostfs/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json"]
    );
    assert_eq!(vk.sources, ["/usr/share/vulkan", "/usr/local/nvidia/share/vulkan"]);
    assert_eq!(
        links(p.egl.as_ref().unwrap()),
        ["egl_vendor.d/10_nvidia.json -> /var/lib/snapd/hostfs/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json"]
    );
    assert!(p.host_files().iter().all(|f| f.starts_with("/usr/local/nvidia/")), "{:?}", p.host_files());
}

#[test]
fn toolkit_layout_without_a_cache() {
    let t = with_mount_points(tree_from_listing(H200_FILES));
    let mut c = no_cache;
    let p = plan_for(&t, version("580.159.04"), version::VERSION_FILE, "core22", &mut c);
    let Libraries::Farms { rule, gl, .. } = &p.libraries else { panic!() };
    assert_eq!(*rule, Rule::Fixed);
    // /usr/local/nvidia/lib64 comes first: /usr/local/nvidia/lib is a link to it.
    assert_eq!(gl.sources, ["/usr/local/nvidia/lib64"]);
    assert_eq!(gl.links.len(), gl.links.iter().filter(|l| l.name.contains(".so")).count());
    assert!(p.notes.iter().any(|n| n.contains("ld.so cache is not used: there is none")), "{:?}", p.notes);
}

/// A stale cache entry (an older driver's directory) is passed over.
#[test]
fn stale_cache_entries_are_passed_over() {
    let t = with_mount_points(tree_from_listing(H200_FILES))
        .file("/opt/old/libnvidia-glcore.so.470.1")
        .link("/opt/old/libnvidia-glcore.so.1", "libnvidia-glcore.so.470.1");
    let mut cache = vec![CacheEntry { flags: 0x0303, name: "libnvidia-glcore.so.1".into(), path: "/opt/old/libnvidia-glcore.so.1".into() }];
    cache.extend(ldcache::parse(H200_CACHE).unwrap());
    let p = plan(&t, "580.159.04", "core22", cache);
    assert_eq!(gl(&p).sources, ["/usr/local/nvidia/lib64"]);
}

fn debian(v: &str) -> TreeView {
    let m = "/usr/lib/x86_64-linux-gnu";
    with_mount_points(TreeView::default())
        .file(&format!("{m}/libnvidia-glcore.so.{v}"))
        .file(&format!("{m}/libcuda.so.{v}"))
        .link(&format!("{m}/libcuda.so.1"), &format!("libcuda.so.{v}"))
        .link(&format!("{m}/libcuda.so"), "libcuda.so.1")
        .file(&format!("{m}/libGLX_nvidia.so.{v}"))
        .link(&format!("{m}/libGLX_nvidia.so.0"), &format!("libGLX_nvidia.so.{v}"))
        .file(&format!("{m}/libnvidia-allocator.so.{v}"))
        .link(&format!("{m}/libnvidia-allocator.so.1"), &format!("libnvidia-allocator.so.{v}"))
        .link(&format!("{m}/gbm/nvidia-drm_gbm.so"), "../libnvidia-allocator.so.1")
        .file(&format!("{m}/vdpau/libvdpau_nvidia.so.{v}"))
        .link(&format!("{m}/vdpau/libvdpau_nvidia.so.1"), &format!("libvdpau_nvidia.so.{v}"))
        // A library a newer driver adds, in no glob of snap-confine's.
        .file(&format!("{m}/libnvidia-sandboxutils.so.{v}"))
        .link(&format!("{m}/libnvidia-sandboxutils.so.1"), &format!("libnvidia-sandboxutils.so.{v}"))
        // Not the driver's.
        .file(&format!("{m}/libz.so.1.2.13"))
        .link(&format!("{m}/libz.so.1"), "libz.so.1.2.13")
        .file(&format!("{m}/libGL.so.1.7.0"))
        .link(&format!("{m}/libGL.so.1"), "libGL.so.1.7.0")
        .file(&format!("/usr/lib/i386-linux-gnu/libnvidia-glcore.so.{v}"))
        .file(&format!("/usr/lib/i386-linux-gnu/libcuda.so.{v}"))
        .file("/usr/share/vulkan/icd.d/nvidia_icd.json")
        .file("/usr/share/vulkan/icd.d/intel_icd.x86_64.json")
        .file("/usr/share/glvnd/egl_vendor.d/10_nvidia.json")
        .file("/usr/share/glvnd/egl_vendor.d/50_mesa.json")
}

#[test]
fn debian_multiarch_farm() {
    let p = plan(&debian("535.183.01"), "535.183.01", "core22", vec![]);
    let Libraries::Farms { rule, gl, gl32 } = &p.libraries else { panic!() };
    assert_eq!(*rule, Rule::Multiarch);
    let m = "/var/lib/snapd/hostfs/usr/lib/x86_64-linux-gnu";
    assert_eq!(
        links(gl),
        [
            "gbm/nvidia-drm_gbm.so -> ../libnvidia-allocator.so.1".to_string(),
            "libGLX_nvidia.so.0 -> libGLX_nvidia.so.535.183.01".to_string(),
            format!("libGLX_nvidia.so.535.183.01 -> {m}/libGLX_nvidia.so.535.183.01"),
            "libcuda.so -> libcuda.so.1".into(),
            "libcuda.so.1 -> libcuda.so.535.183.01".into(),
            format!("libcuda.so.535.183.01 -> {m}/libcuda.so.535.183.01"),
            "libnvidia-allocator.so.1 -> libnvidia-allocator.so.535.183.01".into(),
            format!("libnvidia-allocator.so.535.183.01 -> {m}/libnvidia-allocator.so.535.183.01"),
            format!("libnvidia-glcore.so.535.183.01 -> {m}/libnvidia-glcore.so.535.183.01"),
            "libnvidia-sandboxutils.so.1 -> libnvidia-sandboxutils.so.535.183.01".into(),
            format!("libnvidia-sandboxutils.so.535.183.01 -> {m}/libnvidia-sandboxutils.so.535.183.01"),
            "vdpau/libvdpau_nvidia.so.1 -> libvdpau_nvidia.so.535.183.01".into(),
            format!("vdpau/libvdpau_nvidia.so.535.183.01 -> {m}/vdpau/libvdpau_nvidia.so.535.183.01"),
        ]
    );
    assert_eq!(gl.subdirs, ["gbm", "vdpau"]);
    let gl32 = gl32.as_ref().unwrap();
    assert_eq!(gl32.links.len(), 2);
    assert_eq!(links(p.vulkan.as_ref().unwrap()), ["icd.d/nvidia_icd.json -> /var/lib/snapd/hostfs/usr/share/vulkan/icd.d/nvidia_icd.json"]);
    assert_eq!(p.vulkan.as_ref().unwrap().sources, ["/usr/share/vulkan"]);
    assert_eq!(links(p.egl.as_ref().unwrap()).len(), 1);
}

#[test]
fn base_core_also_gets_glvnd() {
    let p = plan(&debian("535.183.01"), "535.183.01", "core", vec![]);
    let l = links(gl(&p));
    assert!(l.contains(&"libGL.so.1 -> libGL.so.1.7.0".to_string()), "{l:?}");
    assert!(l.contains(&"libGL.so.1.7.0 -> /var/lib/snapd/hostfs/usr/lib/x86_64-linux-gnu/libGL.so.1.7.0".to_string()));
    let p = plan(&debian("535.183.01"), "535.183.01", "core18", vec![]);
    assert!(!links(gl(&p)).iter().any(|l| l.starts_with("libGL.so")));
}

#[test]
fn another_driver_version_is_not_this_one() {
    // The multiarch canary is for 535.183.01; the running driver differs.
    let p = plan(&debian("535.183.01"), "550.1", "core22", vec![]);
    assert_eq!(p.libraries, Libraries::Nothing);
    assert!(p.notes.iter().any(|n| n == "no library of driver 550.1 found on this host"), "{:?}", p.notes);
    // The Vulkan and EGL files still come: they name no version.
    assert_eq!(p.vulkan.as_ref().unwrap().links.len(), 1);
}

#[test]
fn fedora_and_arch_biarch() {
    let v = "570.86.16";
    // Arch: /usr/lib and /usr/lib32.
    let arch = with_mount_points(TreeView::default())
        .file(&format!("/usr/lib/libnvidia-glcore.so.{v}"))
        .file(&format!("/usr/lib/libcuda.so.{v}"))
        .link("/usr/lib/libcuda.so.1", &format!("libcuda.so.{v}"))
        .file(&format!("/usr/lib32/libcuda.so.{v}"))
        .link("/usr/lib64", "lib");
    let p = plan(&arch, v, "core24", vec![]);
    let Libraries::Farms { rule, gl, gl32 } = &p.libraries else { panic!("{:?}", p.libraries) };
    assert_eq!(*rule, Rule::Biarch);
    assert_eq!(gl.sources, ["/usr/lib"]);
    assert_eq!(gl.links.len(), 3);
    assert_eq!(links(gl32.as_ref().unwrap()), [format!("libcuda.so.{v} -> /var/lib/snapd/hostfs/usr/lib32/libcuda.so.{v}")]);
    // Fedora: the driver's own directory under the native one.
    let fedora = with_mount_points(TreeView::default())
        .file(&format!("/usr/lib64/nvidia/libnvidia-glcore.so.{v}"))
        .file(&format!("/usr/lib64/nvidia/libcuda.so.{v}"))
        .file(&format!("/usr/lib/nvidia/libcuda.so.{v}"));
    let p = plan(&fedora, v, "core24", vec![]);
    let Libraries::Farms { rule, gl, gl32 } = &p.libraries else { panic!("{:?}", p.libraries) };
    assert_eq!(*rule, Rule::Biarch);
    assert_eq!(gl.sources, ["/usr/lib64", "/usr/lib64/nvidia"]);
    assert_eq!(gl.links.len(), 2);
    assert_eq!(gl32.as_ref().unwrap().sources, ["/usr/lib", "/usr/lib/nvidia"]);
}

#[test]
fn nixos_layout() {
    let v = "565.77";
    let store = "/nix/store/b9x-nvidia-x11-565.77-6.6.70/lib";
    let t = with_mount_points(TreeView::default())
        .link("/run/opengl-driver", "/nix/store/a1z-graphics-drivers")
        .link(&format!("/nix/store/a1z-graphics-drivers/lib/libcuda.so.{v}"), &format!("{store}/libcuda.so.{v}"))
        .link("/nix/store/a1z-graphics-drivers/lib/libcuda.so.1", &format!("{store}/libcuda.so.1"))
        .link("/nix/store/a1z-graphics-drivers/lib/libcuda.so", &format!("{store}/libcuda.so"))
        .file(&format!("{store}/libcuda.so.{v}"))
        .link(&format!("{store}/libcuda.so.1"), &format!("libcuda.so.{v}"))
        .link(&format!("{store}/libcuda.so"), "libcuda.so.1")
        .owned("/nix/store", true, 0o1775)
        .link("/nix/store/a1z-graphics-drivers/share/vulkan/icd.d/nvidia_icd.x86_64.json", "/nix/store/b9x/share/vulkan/icd.d/nvidia_icd.x86_64.json")
        .file("/nix/store/b9x/share/vulkan/icd.d/nvidia_icd.x86_64.json");
    let p = plan(&t, v, "core24", vec![]);
    let Libraries::Farms { rule, gl, .. } = &p.libraries else { panic!("{:?}", p.libraries) };
    assert_eq!(*rule, Rule::Fixed);
    assert_eq!(gl.sources, ["/nix/store/a1z-graphics-drivers/lib"]);
    let target = format!("/var/lib/snapd/hostfs{store}/libcuda.so.{v}");
    assert_eq!(
        links(gl),
        [format!("libcuda.so -> {target}"), format!("libcuda.so.1 -> {target}"), format!("libcuda.so.{v} -> {target}")]
    );
    assert_eq!(
        links(p.vulkan.as_ref().unwrap()),
        ["icd.d/nvidia_icd.x86_64.json -> /var/lib/snapd/hostfs/nix/store/b9x/share/vulkan/icd.d/nvidia_icd.x86_64.json"]
    );
}

#[test]
fn fallback_bind_without_a_canary() {
    let t = with_mount_points(TreeView::default()).file("/usr/lib/nvidia-580/libGL.so.1").dir("/usr/lib32/nvidia-580");
    let p = plan(&t, "580.1", "core22", vec![]);
    assert_eq!(
        p.libraries,
        Libraries::Bind {
            gl: Some(BindDir { source: "/usr/lib/nvidia-580".into(), target: "/var/lib/snapd/lib/gl".into() }),
            gl32: Some(BindDir { source: "/usr/lib32/nvidia-580".into(), target: "/var/lib/snapd/lib/gl32".into() }),
        }
    );
    assert_eq!(
        steps(&p, "/S").iter().map(|s| s.to_string()).take(4).collect::<Vec<_>>(),
        [
            "mount --bind /usr/lib/nvidia-580 /S/var/lib/snapd/lib/gl",
            "mount -o remount,bind,ro,nosuid,nodev /S/var/lib/snapd/lib/gl",
            "mount --bind /usr/lib32/nvidia-580 /S/var/lib/snapd/lib/gl32",
            "mount -o remount,bind,ro,nosuid,nodev /S/var/lib/snapd/lib/gl32",
        ]
    );
    // Another major version's directory is not this driver's.
    let p = plan(&t, "570.1", "core22", vec![]);
    assert_eq!(p.libraries, Libraries::Nothing);
}

#[test]
fn nothing_untrusted_is_used() {
    let v = "535.183.01";
    let m = "/usr/lib/x86_64-linux-gnu";
    // A file another user owns, and one its group can write, are left out.
    let t = debian(v).owned(&format!("{m}/libcuda.so.{v}"), false, 0o755).owned(&format!("{m}/libGLX_nvidia.so.{v}"), true, 0o775);
    let p = plan(&t, v, "core22", vec![]);
    let l = links(gl(&p));
    assert!(!l.iter().any(|x| x.starts_with(&format!("libcuda.so.{v}"))), "{l:?}");
    assert!(!l.iter().any(|x| x.starts_with(&format!("libGLX_nvidia.so.{v}"))), "{l:?}");
    assert!(p.notes.iter().any(|n| n.contains(&format!("{m}/libcuda.so.{v}: not owned by root"))), "{:?}", p.notes);
    // A driver directory another user owns is never used; a symlink that
    // is not root's is never followed.
    let t = with_mount_points(tree_from_listing(H200_FILES)).owned("/usr/local/nvidia/lib64", false, 0o755);
    let p = plan(&t, "580.159.04", "core22", ldcache::parse(H200_CACHE).unwrap());
    assert_eq!(p.libraries, Libraries::Nothing);
    let t = TreeView::default().dir("/home/u/lib").link("/usr/local/nvidia/lib64", "/home/u/lib").owned("/usr/local/nvidia/lib64", false, 0o777);
    assert_eq!(resolve(&t, "/usr/local/nvidia/lib64", Want::Dir), Err(Refusal::UntrustedLink("/usr/local/nvidia/lib64".into())));
    let t = TreeView::default().dir("/opt/x/lib").owned("/opt/x", true, 0o777);
    assert_eq!(resolve(&t, "/opt/x/lib", Want::Dir), Err(Refusal::Untrusted("/opt/x".into())));
    let t = TreeView::default().dir("/tmp/x/lib").owned("/tmp", true, 0o1777);
    assert_eq!(resolve(&t, "/tmp/x/lib", Want::Dir), Ok("/tmp/x/lib".into()));
    // A loop of links ends.
    let t = TreeView::default().link("/a", "/b").link("/b", "/a");
    assert_eq!(resolve(&t, "/a", Want::Dir), Err(Refusal::TooManyLinks));
}

#[test]
fn missing_mount_points_mean_no_farm() {
    let t = debian("535.183.01");
    let mut t2 = TreeView::default();
    for (p, n) in t.nodes {
        if !p.starts_with("/var/lib/snapd/lib/gl") {
            t2.nodes.insert(p, n);
        }
    }
    let p = plan(&t2, "535.183.01", "core22", vec![]);
    assert!(p.farms().iter().all(|f| f.dir != "/var/lib/snapd/lib/gl"));
    assert!(p.notes.iter().any(|n| n == "/var/lib/snapd/lib/gl: it does not exist: nothing is mounted there"), "{:?}", p.notes);
    assert!(steps(&p, "/S").iter().all(|s| !s.to_string().contains("lib/gl ")));
}

#[test]
fn the_steps_of_a_farm() {
    let p = plan(&debian("535.183.01"), "535.183.01", "core22", vec![]);
    let s: Vec<String> = steps(&p, "/S").iter().flat_map(|s| s.to_string().lines().map(str::to_string).collect::<Vec<_>>()).collect();
    let gl = "/S/var/lib/snapd/lib/gl";
    assert_eq!(s[0], format!("mount -t tmpfs -o nosuid,nodev,noexec,mode=0755,uid=0,gid=0 tmpfs {gl}"));
    assert_eq!(s[1], format!("mkdir -m 0755 {gl}/gbm"));
    assert_eq!(s[2], format!("mkdir -m 0755 {gl}/vdpau"));
    assert_eq!(s[3], format!("ln -s libGLX_nvidia.so.535.183.01 {gl}/libGLX_nvidia.so.0"));
    assert!(s.contains(&format!("ln -s ../libnvidia-allocator.so.1 {gl}/gbm/nvidia-drm_gbm.so")));
    assert_eq!(
        s[16],
        format!(
            "printf %s \"/var/lib/snapd/hostfs/usr/lib/x86_64-linux-gnu\\n/var/lib/snapd/hostfs/usr/lib/x86_64-linux-gnu/vdpau\\n\" > {gl}/.confine-driver"
        )
    );
    assert_eq!(s[17], format!("mount -o remount,bind,ro,nosuid,nodev,noexec {gl}"));
    assert!(s.contains(&"mount -o remount,bind,ro,nosuid,nodev,noexec /S/var/lib/snapd/lib/gl32".to_string()));
    assert!(s.contains(&"mount -o remount,bind,ro,nosuid,nodev,noexec /S/var/lib/snapd/lib/vulkan".to_string()));
    assert_eq!(s.last().unwrap(), "mount -o remount,bind,ro,nosuid,nodev,noexec /S/var/lib/snapd/lib/glvnd");
}

mod through_the_seam {
    use super::*;
    use crate::sys::fake::FakeSys;

    fn host() -> FakeSys {
        let sys = FakeSys::new();
        sys.set_root_mode(0o755);
        for d in ["/var/lib/snapd/lib/gl", "/var/lib/snapd/lib/gl32", "/var/lib/snapd/lib/vulkan", "/var/lib/snapd/lib/glvnd"] {
            std::fs::create_dir_all(sys.path(d)).unwrap();
        }
        sys
    }

    fn survey_notes(sys: &FakeSys) -> (Result<Option<GpuPlan>>, Vec<String>) {
        let mut notes = Vec::new();
        let r = survey(sys, "core22", &mut |n| notes.push(n));
        (r, notes)
    }

    #[test]
    fn no_module_no_plan() {
        let sys = host();
        assert_eq!(survey_notes(&sys).0.unwrap(), None);
    }

    #[test]
    fn bad_version_files_are_refused() {
        let sys = host();
        sys.file("/sys/module/nvidia/version", b"garbage\n", 0o444);
        assert_eq!(
            survey_notes(&sys).0.unwrap_err().to_string(),
            "cannot parse major version from nvidia driver version string"
        );
        sys.file("/sys/module/nvidia/version", "5".repeat(200).as_bytes(), 0o444);
        assert_eq!(survey_notes(&sys).0.unwrap_err().to_string(), "cannot fit entire nvidia driver version string");
        // Odd characters: one note, and the launch goes on with no driver.
        sys.file("/sys/module/nvidia/version", b"580.1/../../x\n", 0o444);
        let (r, notes) = survey_notes(&sys);
        assert_eq!(r.unwrap(), None);
        assert_eq!(notes, ["nvidia driver version \"580.1/../../x\" has odd characters: no library farm"]);
    }

    /// The toolkit layout on a real file system, with its real cache.
    #[test]
    fn toolkit_layout_on_disk() {
        let sys = host();
        sys.file("/sys/module/nvidia/version", b"580.159.04\n", 0o444);
        for line in H200_FILES.lines().filter(|l| !l.starts_with('#')) {
            let fields: Vec<&str> = line.splitn(4, ' ').collect();
            let (path, target) = fields[3].split_once(" -> ").unwrap();
            std::fs::create_dir_all(sys.path(path).parent().unwrap()).unwrap();
            if line.starts_with('l') {
                std::os::unix::fs::symlink(target.trim(), sys.path(path)).unwrap();
            } else {
                std::fs::write(sys.path(path), b"").unwrap();
            }
        }
        sys.file("/etc/ld.so.cache", H200_CACHE, 0o644);
        sys.dir("/etc", 0o755);
        let (r, notes) = survey_notes(&sys);
        let p = r.unwrap().unwrap();
        assert_eq!(gl(&p).links.iter().filter(|l| l.name.ends_with(".so.580.159.04")).count(), 26, "{notes:?}");
        assert!(matches!(&p.libraries, Libraries::Farms { rule: Rule::LdCache { .. }, .. }));
        // A cache the launcher cannot trust is not read: the fixed layout
        // still finds the driver.
        sys.file("/etc/ld.so.cache", H200_CACHE, 0o666);
        let (r, notes) = survey_notes(&sys);
        assert!(matches!(&r.unwrap().unwrap().libraries, Libraries::Farms { rule: Rule::Fixed, .. }));
        assert!(notes.iter().any(|n| n.starts_with("the ld.so cache is not used: cannot trust /etc/ld.so.cache")), "{notes:?}");
    }
}

/// Caches written by this machine's ldconfig, in each of its formats, read
/// back: every entry `ldconfig -p` prints is found, with its flags.
#[test]
fn caches_ldconfig_writes_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    std::fs::create_dir(&lib).unwrap();
    // A real library with a soname, under two names as distributions ship them.
    let libz = std::path::Path::new("/lib/x86_64-linux-gnu/libz.so.1");
    let real = std::fs::canonicalize(libz).unwrap();
    std::fs::copy(&real, lib.join("libconfinetest.so.580.1")).unwrap();
    std::os::unix::fs::symlink("libconfinetest.so.580.1", lib.join("libconfinetest.so.1")).unwrap();
    let conf = dir.path().join("ld.so.conf");
    std::fs::write(&conf, format!("{}\n", lib.display())).unwrap();
    for format in ["new", "compat", "old"] {
        let cache = dir.path().join(format!("cache.{format}"));
        let st = std::process::Command::new("ldconfig")
            .args(["-X", "-c", format, "-C"])
            .arg(&cache)
            .arg("-f")
            .arg(&conf)
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(st.success(), "ldconfig -c {format}");
        let entries = ldcache::parse(&std::fs::read(&cache).unwrap()).unwrap();
        let printed = std::process::Command::new("ldconfig").arg("-p").arg("-C").arg(&cache).output().unwrap();
        let printed = String::from_utf8_lossy(&printed.stdout);
        // "\tlibz.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libz.so.1"
        let want: Vec<(String, String)> = printed
            .lines()
            .skip(1)
            .filter_map(|l| {
                let (name, rest) = l.trim().split_once(' ')?;
                Some((name.to_string(), rest.rsplit_once(" => ")?.1.to_string()))
            })
            .collect();
        let got: Vec<(String, String)> = entries.iter().map(|e| (e.name.clone(), e.path.clone())).collect();
        assert_eq!(got, want, "format {format}");
        // libz's soname is libz.so.1: ldconfig names the test library by it.
        let ours: Vec<&CacheEntry> = entries.iter().filter(|e| e.path.starts_with(lib.to_str().unwrap())).collect();
        assert!(!ours.is_empty(), "format {format}: {entries:?}");
        assert!(ours.iter().all(|e| ldcache::word_of(e.flags) == Word::Native), "{ours:?}");
    }
}

#[test]
#[ignore]
fn survey_timing() {
    let sys = crate::sys::linux::LinuxSys::new();
    let t = std::time::Instant::now();
    for _ in 0..200 {
        let _ = survey(&sys, "core22", &mut |_| {}).unwrap();
    }
    eprintln!("survey: {:?} each", t.elapsed() / 200);
    let t = std::time::Instant::now();
    for _ in 0..200 {
        let _ = read_version(&sys).unwrap();
    }
    eprintln!("version: {:?} each", t.elapsed() / 200);
    let t = std::time::Instant::now();
    for _ in 0..200 {
        let _ = read_cache(&sys).unwrap();
    }
    eprintln!("cache: {:?} each", t.elapsed() / 200);
    let view = view::SysView::new(&sys);
    let t = std::time::Instant::now();
    let v = version("580.159.04");
    for _ in 0..200 {
        let view = view::SysView::new(&sys);
        let _ = layout::choose(&view, &v, "core22", &mut || Ok(vec![]), &mut vec![]);
    }
    let _ = view;
    eprintln!("choose without cache: {:?} each", t.elapsed() / 200);
}
