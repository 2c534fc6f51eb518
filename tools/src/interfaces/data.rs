//! The interface data files, built into the tools.

/// `(name, yaml)` for every file in `tools/data/interfaces/`.
pub(crate) const FILES: &[(&str, &str)] = &[
    ("content", include_str!("../../data/interfaces/content.yaml")),
    (
        "custom-device",
        include_str!("../../data/interfaces/custom-device.yaml"),
    ),
    ("desktop", include_str!("../../data/interfaces/desktop.yaml")),
    (
        "hardware-observe",
        include_str!("../../data/interfaces/hardware-observe.yaml"),
    ),
    ("home", include_str!("../../data/interfaces/home.yaml")),
    ("log-observe", include_str!("../../data/interfaces/log-observe.yaml")),
    (
        "mount-observe",
        include_str!("../../data/interfaces/mount-observe.yaml"),
    ),
    ("network-bind", include_str!("../../data/interfaces/network-bind.yaml")),
    ("network", include_str!("../../data/interfaces/network.yaml")),
    ("opengl", include_str!("../../data/interfaces/opengl.yaml")),
    (
        "personal-files",
        include_str!("../../data/interfaces/personal-files.yaml"),
    ),
    (
        "process-control",
        include_str!("../../data/interfaces/process-control.yaml"),
    ),
    (
        "removable-media",
        include_str!("../../data/interfaces/removable-media.yaml"),
    ),
    ("serial-port", include_str!("../../data/interfaces/serial-port.yaml")),
    ("system-files", include_str!("../../data/interfaces/system-files.yaml")),
    (
        "system-observe",
        include_str!("../../data/interfaces/system-observe.yaml"),
    ),
];
