//! systemd units for snaps: a mount unit per revision (where systemd runs)
//! and a service unit per daemon app, written the way snapd writes them,
//! and the few `systemctl` calls that manage them.

use crate::snapyaml::{App, Daemon};
use std::path::Path;
use std::time::Duration;

/// Whether systemd is the service manager here (`sd_booted`).
pub fn is_running(root: &Path) -> bool {
    root == Path::new("/") && Path::new("/run/systemd/system").is_dir()
}

/// systemd's escaping of a path into a unit name (`systemd-escape --path`):
/// `/snap/xkcd-web/44` becomes `snap-xkcd\x2dweb-44`.
pub fn escape_path(path: &str) -> String {
    let trimmed = path.trim_matches('/');
    let mut out = String::new();
    for (i, b) in trimmed.bytes().enumerate() {
        match b {
            b'/' => out.push('-'),
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b':' | b'_' => out.push(char::from(b)),
            b'.' if i > 0 => out.push('.'),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}

/// The mount unit of `/snap/<instance>/<rev>`.
pub fn mount_unit_name(where_: &str) -> String {
    format!("{}.mount", escape_path(where_))
}

pub fn mount_unit(instance: &str, rev: &str, what: &str, where_: &str) -> String {
    format!(
        "[Unit]\n\
         Description=Mount unit for {instance}, revision {rev}\n\
         Before=local-fs.target\n\
         \n\
         [Mount]\n\
         What={what}\n\
         Where={where_}\n\
         Type=squashfs\n\
         Options=nodev,ro,x-gdu.hide,x-gvfs-hide\n\
         LazyUnmount=yes\n\
         \n\
         [Install]\n\
         WantedBy=multi-user.target\n"
    )
}

/// The service unit name of a daemon app.
pub fn service_name(instance: &str, app: &str) -> String {
    format!("snap.{instance}.{app}.service")
}

fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// The service unit of daemon app `app`, run through `snap_run`.
pub fn service_unit(instance: &str, rev: &str, app: &App, snap_run: &str, mount_unit: Option<&str>) -> String {
    let target = if app.name == instance.split('_').next().unwrap_or(instance) {
        instance.to_string()
    } else {
        format!("{instance}.{}", app.name)
    };
    let daemon = app.daemon.unwrap_or(Daemon::Simple);
    let service = &app.service;
    let mut u = String::from("[Unit]\n# Written by confine when the snap was installed; do not edit.\n");
    u += &format!("Description=Service for snap application {instance}.{}\n", app.name);
    if let Some(m) = mount_unit {
        u += &format!("Requires={m}\n");
    }
    u += "Wants=network.target\n";
    u += &format!("After={}network.target\n", mount_unit.map(|m| format!("{m} ")).unwrap_or_default());
    u += "X-Snappy=yes\n\n[Service]\n";
    u += "EnvironmentFile=-/etc/environment\n";
    u += &format!("ExecStart={snap_run} {target}\n");
    u += &format!("SyslogIdentifier={instance}.{}\n", app.name);
    let restart = if daemon == Daemon::Oneshot {
        "no".to_string()
    } else {
        service.restart_condition.clone().unwrap_or_else(|| "on-failure".into())
    };
    u += &format!("Restart={restart}\n");
    if let Some(d) = service.restart_delay {
        u += &format!("RestartSec={}\n", seconds(d));
    }
    u += &format!("WorkingDirectory=/var/snap/{instance}/{rev}\n");
    for (cmd, key) in [
        (&service.stop_command, "ExecStop"),
        (&service.reload_command, "ExecReload"),
        (&service.post_stop_command, "ExecStopPost"),
    ] {
        if cmd.is_some() {
            let which = match key {
                "ExecStop" => "stop",
                "ExecReload" => "reload",
                _ => "post-stop",
            };
            u += &format!("{key}={snap_run} --command={which} {target}\n");
        }
    }
    u += &format!("TimeoutStopSec={}\n", seconds(service.stop_timeout.unwrap_or(Duration::from_secs(30))));
    if let Some(d) = service.start_timeout {
        u += &format!("TimeoutStartSec={}\n", seconds(d));
    }
    let kind = match daemon {
        Daemon::Simple => "simple",
        Daemon::Forking => "forking",
        Daemon::Oneshot => "oneshot",
        Daemon::Dbus => "dbus",
        Daemon::Notify => "notify",
    };
    u += &format!("Type={kind}\n");
    if daemon == Daemon::Oneshot && service.stop_command.is_some() {
        u += "RemainAfterExit=yes\n";
    }
    u += "\n[Install]\nWantedBy=multi-user.target\n";
    u
}

/// Runs `systemctl ARGS`; the error says which command failed.
pub fn systemctl(args: &[&str]) -> Result<(), String> {
    crate::command::run("systemctl", args)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use crate::snapyaml::Service;

    #[test]
    fn escaping() {
        assert_eq!(escape_path("/snap/hello/x1"), "snap-hello-x1");
        assert_eq!(escape_path("/snap/xkcd-webserver/44"), "snap-xkcd\\x2dwebserver-44");
        assert_eq!(mount_unit_name("/snap/a.b/1"), "snap-a.b-1.mount");
    }

    fn app(daemon: Daemon, service: Service) -> App {
        App {
            name: "daemon".into(),
            command: "bin/d".into(),
            command_chain: vec![],
            completer: None,
            daemon: Some(daemon),
            service,
            environment: vec![],
            plugs: vec![],
            slots: vec![],
        }
    }

    #[test]
    fn service_units() {
        let svc = Service {
            stop_command: Some("bin/stop".into()),
            restart_condition: Some("always".into()),
            stop_timeout: Some(Duration::from_secs(10)),
            restart_delay: Some(Duration::from_millis(1500)),
            ..Service::default()
        };
        let u = service_unit("hello", "x2", &app(Daemon::Simple, svc), "/usr/bin/snap-run", Some("snap-hello-x2.mount"));
        let want = "[Unit]\n# Written by confine when the snap was installed; do not edit.\n\
                    Description=Service for snap application hello.daemon\n\
                    Requires=snap-hello-x2.mount\nWants=network.target\nAfter=snap-hello-x2.mount network.target\n\
                    X-Snappy=yes\n\n[Service]\nEnvironmentFile=-/etc/environment\n\
                    ExecStart=/usr/bin/snap-run hello.daemon\nSyslogIdentifier=hello.daemon\nRestart=always\n\
                    RestartSec=1500ms\nWorkingDirectory=/var/snap/hello/x2\n\
                    ExecStop=/usr/bin/snap-run --command=stop hello.daemon\nTimeoutStopSec=10\nType=simple\n\n\
                    [Install]\nWantedBy=multi-user.target\n";
        assert_eq!(u, want);
        let u = service_unit("hello", "1", &app(Daemon::Oneshot, Service { stop_command: Some("x".into()), ..Service::default() }), "/s", None);
        assert!(u.contains("Restart=no\n") && u.contains("Type=oneshot\nRemainAfterExit=yes\n"), "{u}");
        assert!(!u.contains("Requires="), "{u}");
        let u = service_unit("hello", "1", &app(Daemon::Notify, Service::default()), "/s", None);
        assert!(u.contains("Restart=on-failure\n") && u.contains("TimeoutStopSec=30\n") && u.contains("Type=notify\n"), "{u}");
    }
}
