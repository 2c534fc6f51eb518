#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
use super::*;
use serde_json::json;

fn attrs(v: serde_json::Value) -> Attrs {
    v.as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn side<'a>(name: &'a str, rev: &'a str, port: &'a str, a: &'a Attrs) -> Side<'a> {
    Side { dirs: SnapDirs { name, revision: rev }, instance: name, name: port, attrs: a }
}

fn lines(entries: &[MountEntry]) -> Vec<String> {
    entries.iter().map(|e| e.to_string()).collect()
}

#[test]
fn content_binds_the_slots_paths_at_the_plugs_target() {
    let p = attrs(json!({"target": "$SNAP/gnome-platform", "default-provider": "platform"}));
    let s = attrs(json!({"content": "gnome-platform", "read": ["$SNAP/lib", "share"], "write": ["$SNAP_DATA/run"]}));
    let plug = side("app", "x2", "gnome-platform", &p);
    let slot = side("platform", "x7", "gnome-platform", &s);
    let x = Computed::Content.plug(&plug, Some(&slot), &Host::default()).unwrap();
    assert_eq!(
        lines(&x.mounts),
        [
            "/snap/platform/x7/lib /snap/app/x2/gnome-platform none bind,ro 0 0",
            "/snap/platform/x7/share /snap/app/x2/gnome-platform none bind,ro 0 0",
            "/var/snap/platform/x7/run /snap/app/x2/gnome-platform none bind 0 0",
        ]
    );
    assert!(x.apparmor.contains("\"/snap/platform/x7/lib/**\" mrkix,\n"), "{}", x.apparmor);
    assert!(x.apparmor.contains("\"/var/snap/platform/x7/run/**\" mrwklix,\n"));
    assert!(x.apparmor_update_ns.contains("mount options=(bind) \"/snap/platform/x7/lib/\" -> \"/snap/app/x2/gnome-platform{,-[0-9]*}/\","));
    assert!(x.apparmor_update_ns.contains("remount options=(bind, ro, nodev) \"/snap/app/x2/gnome-platform{,-[0-9]*}/\","));
    assert!(x.landlock.contains("fs read,write,execute /snap/app/x2/gnome-platform\n"));
    // The slot's side gets the writable share at the plug's place.
    let y = Computed::Content.slot(&plug, &slot).unwrap();
    assert_eq!(y.apparmor, "# The plugging snap's view of what this slot shares writably.\n\"/snap/app/x2/gnome-platform/**\" mrwklix,\n");
}

#[test]
fn content_with_source_puts_each_path_below_the_target() {
    let p = attrs(json!({"target": "$SNAP_DATA/themes"}));
    let s = attrs(json!({"source": {"read": ["$SNAP/share/themes/Adwaita", "$SNAP/share/icons"]}}));
    let x = Computed::Content.plug(&side("app", "1", "themes", &p), Some(&side("gtk", "3", "themes", &s)), &Host::default()).unwrap();
    assert_eq!(
        lines(&x.mounts),
        [
            "/snap/gtk/3/share/themes/Adwaita /var/snap/app/1/themes/Adwaita none bind,ro 0 0",
            "/snap/gtk/3/share/icons /var/snap/app/1/themes/icons none bind,ro 0 0",
        ]
    );
}

#[test]
fn content_tags_and_attributes_are_checked() {
    let p = attrs(json!({"target": "$SNAP/x", "content": "a"}));
    let s = attrs(json!({"content": "b", "read": ["lib"]}));
    let e = Computed::Content.plug(&side("app", "1", "p", &p), Some(&side("prov", "1", "s", &s)), &Host::default()).unwrap_err();
    assert_eq!(e.0, "cannot connect app:p to prov:s: their content tags differ (a and b)");
    // Tags default to the plug's and slot's names.
    let s2 = attrs(json!({"read": ["lib"]}));
    let p2 = attrs(json!({"target": "$SNAP/x"}));
    assert!(Computed::Content.plug(&side("app", "1", "same", &p2), Some(&side("prov", "1", "same", &s2)), &Host::default()).is_ok());
    for (a, msg) in [
        (json!({}), "it must contain a target path"),
        (json!({"target": "../x"}), "not clean"),
        (json!({"target": "$SNAP/x/../../y"}), "not clean"),
        (json!({"target": "$SNAP/x*"}), "reserved AppArmor character"),
        (json!({"target": "x", "default-provider": 3}), "default-provider must be a snap name"),
    ] {
        let e = Computed::Content.validate_plug("p", &attrs(a.clone())).unwrap_err();
        assert!(e.0.contains(msg), "{a}: {}", e.0);
    }
    for (a, msg) in [
        (json!({}), "read or write path must be set"),
        (json!({"read": ["../etc"]}), "not clean"),
        (json!({"read": "lib"}), "must be a list of strings"),
        (json!({"source": {"read": ["a"]}, "read": ["b"]}), "into the \"source\" section"),
    ] {
        let e = Computed::Content.validate_slot("s", &attrs(a.clone())).unwrap_err();
        assert!(e.0.contains(msg), "{a}: {}", e.0);
    }
    assert!(Computed::Desktop.validate_slot("s", &Attrs::new()).is_err());
}

#[test]
fn desktop_binds_the_hosts_fonts_and_the_document_portal() {
    let none = Attrs::new();
    let host = Host { font_dirs: vec!["/usr/share/fonts".into(), "/var/cache/fontconfig".into()] };
    let x = Computed::Desktop.plug(&side("app", "1", "desktop", &none), None, &host).unwrap();
    assert_eq!(
        lines(&x.mounts),
        [
            "/var/lib/snapd/hostfs/usr/share/fonts /usr/share/fonts none bind,ro 0 0",
            "/var/lib/snapd/hostfs/var/cache/fontconfig /var/cache/fontconfig none bind,ro 0 0",
        ]
    );
    assert_eq!(lines(&x.user_mounts), ["$XDG_RUNTIME_DIR/doc/by-app/snap.app $XDG_RUNTIME_DIR/doc none bind,rw,x-snapd.ignore-missing 0 0"]);
    let no_cache = attrs(json!({"mount-host-font-cache": false}));
    let x = Computed::Desktop.plug(&side("app", "1", "desktop", &no_cache), None, &host).unwrap();
    assert_eq!(x.mounts.len(), 1);
    assert!(Computed::Desktop.validate_plug("d", &attrs(json!({"mount-host-font-cache": "no"}))).is_err());
}

#[test]
fn personal_and_system_files() {
    let a = attrs(json!({"read": ["$HOME/.config/app"], "write": ["$HOME/.local/share/app"]}));
    let x = Computed::PersonalFiles.plug(&side("app", "1", "dot-app", &a), None, &Host::default()).unwrap();
    assert!(x.apparmor.contains("owner \"@{HOME}/.config/app{,/,/**}\" rk,\n"), "{}", x.apparmor);
    assert!(x.apparmor.contains("owner \"@{HOME}/.local/share/app{,/,/**}\" rwkl,\n"));
    assert_eq!(x.landlock, "fs read @{HOME}/.config/app\nfs read,write @{HOME}/.local/share/app\n");
    let s = attrs(json!({"read": ["/etc/app"]}));
    let x = Computed::SystemFiles.plug(&side("app", "1", "etc-app", &s), None, &Host::default()).unwrap();
    assert!(x.apparmor.contains("\"/etc/app{,/,/**}\" rk,\n"));
    for (iface, a, msg) in [
        (Computed::PersonalFiles, json!({"read": ["/etc/x"]}), "must start with \"$HOME/\""),
        (Computed::PersonalFiles, json!({"read": ["$HOME/a/$HOME"]}), "$HOME must only be used at the start"),
        (Computed::PersonalFiles, json!({"read": ["$HOME/a/"]}), "cannot end with \"/\""),
        (Computed::PersonalFiles, json!({"read": ["$HOME/a/../b"]}), "try \"$HOME/b\""),
        (Computed::PersonalFiles, json!({"write": ["$HOME/~x"]}), "cannot contain \"~\""),
        (Computed::PersonalFiles, json!({}), "needs a \"read\" or \"write\" attribute"),
        (Computed::SystemFiles, json!({"read": ["etc/x"]}), "must start with \"/\""),
        (Computed::SystemFiles, json!({"read": ["/home/$HOME"]}), "$HOME cannot be used"),
        (Computed::SystemFiles, json!({"read": ["/etc/[x]"]}), "reserved AppArmor character"),
    ] {
        let e = iface.validate_plug("p", &attrs(a.clone())).unwrap_err();
        assert!(e.0.contains(msg), "{a}: {}", e.0);
    }
}

#[test]
fn paths_resolve_as_snapd_resolves_them() {
    let a = Attrs::new();
    let s = side("prov", "5", "x", &a);
    assert_eq!(resolve("lib", &s), "/snap/prov/5/lib");
    assert_eq!(resolve("./lib/", &s), "/snap/prov/5/lib");
    assert_eq!(resolve("$SNAP_COMMON/a", &s), "/var/snap/prov/common/a");
    assert_eq!(resolve("$SNAP_DATA", &s), "/var/snap/prov/5");
    assert_eq!(resolve("$SNAPPY/a", &s), "/snap/prov/5//a");
}
