//! The systemd units written for snaps pass `systemd-analyze verify`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use confine_tools::install::systemd::{mount_unit, mount_unit_name, service_name, service_unit};
use confine_tools::install::SNAP_RUN;
use confine_tools::snapyaml;
use std::process::Command;

#[test]
fn generated_units_pass_systemd_analyze_verify() {
    assert!(std::path::Path::new(SNAP_RUN).exists(), "{SNAP_RUN} is missing: run `make install` first");
    let yaml = snapyaml::parse(
        "name: web-app\nversion: '2'\napps:\n  \
           simple:\n    command: bin/s\n    daemon: simple\n    stop-command: bin/stop\n    reload-command: bin/reload\n    post-stop-command: bin/post\n    restart-condition: always\n    restart-delay: 2s\n    stop-timeout: 1m30s\n    start-timeout: 45s\n  \
           oneshot:\n    command: bin/o\n    daemon: oneshot\n    stop-command: bin/stop\n  \
           notify:\n    command: bin/n\n    daemon: notify\n    restart-condition: never\n  \
           forking:\n    command: bin/f\n    daemon: forking\n",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let where_ = "/snap/web-app/x3";
    let mount = mount_unit_name(where_);
    assert_eq!(mount, "snap-web\\x2dapp-x3.mount");
    std::fs::write(dir.path().join(&mount), mount_unit("web-app", "x3", "/var/lib/confine/snaps/web-app_x3.snap", where_)).unwrap();
    let mut files = vec![dir.path().join(&mount)];
    for app in yaml.apps.values() {
        let name = service_name("web-app", &app.name);
        let path = dir.path().join(&name);
        std::fs::write(&path, service_unit("web-app", "x3", app, SNAP_RUN, Some(&mount))).unwrap();
        files.push(path);
    }
    let out = Command::new("systemd-analyze").arg("verify").arg("--man=no").args(&files).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.trim().is_empty(), "systemd-analyze verify: {stderr}");
    let simple = std::fs::read_to_string(dir.path().join("snap.web-app.simple.service")).unwrap();
    for line in [
        "ExecStart=/usr/bin/snap-run web-app.simple",
        "ExecStop=/usr/bin/snap-run --command=stop web-app.simple",
        "ExecReload=/usr/bin/snap-run --command=reload web-app.simple",
        "ExecStopPost=/usr/bin/snap-run --command=post-stop web-app.simple",
        "Restart=always",
        "RestartSec=2",
        "TimeoutStopSec=90",
        "TimeoutStartSec=45",
        "WorkingDirectory=/var/snap/web-app/x3",
        "Requires=snap-web\\x2dapp-x3.mount",
    ] {
        assert!(simple.lines().any(|l| l == line), "missing {line}:\n{simple}");
    }
    let notify = std::fs::read_to_string(dir.path().join("snap.web-app.notify.service")).unwrap();
    assert!(notify.contains("Restart=no\n") && notify.contains("Type=notify\n"), "{notify}");
}
