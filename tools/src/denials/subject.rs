//! Who a label is: a snap's app or hook, a snap's mount helper, an
//! unconfined process, or some other profile.

use serde::Serialize;

use naming::{parse_security_tag, TagTarget};

use super::parse::strip_mode;

/// The owner of an AppArmor label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Subject {
    /// `snap.<snap>.<app>`.
    App {
        label: String,
        snap: String,
        app: String,
    },
    /// `snap.<snap>.hook.<hook>` or `snap.<snap>+<component>.hook.<hook>`.
    Hook {
        label: String,
        snap: String,
        hook: String,
        component: Option<String>,
    },
    /// `snap-update-ns.<snap>`: the helper that sets up the snap's mounts.
    UpdateNs {
        label: String,
        snap: String,
    },
    Unconfined,
    /// Any other profile.
    Profile {
        label: String,
    },
}

impl Subject {
    /// Classifies a label (a mode suffix such as ` (enforce)` is ignored).
    pub fn of(label: &str) -> Subject {
        let label = strip_mode(label.trim());
        if label == "unconfined" {
            return Subject::Unconfined;
        }
        if let Some(snap) = label.strip_prefix("snap-update-ns.") {
            if parse_security_tag(&format!("snap.{snap}.x")).is_ok() {
                return Subject::UpdateNs {
                    label: label.to_owned(),
                    snap: snap.to_owned(),
                };
            }
        }
        match parse_security_tag(label) {
            Ok(tag) => match tag.target {
                TagTarget::App(app) => Subject::App {
                    label: label.to_owned(),
                    snap: tag.instance,
                    app,
                },
                TagTarget::Hook { component, hook } => Subject::Hook {
                    label: label.to_owned(),
                    snap: tag.instance,
                    hook,
                    component,
                },
            },
            Err(_) => Subject::Profile {
                label: label.to_owned(),
            },
        }
    }

    /// The label as AppArmor writes it.
    pub fn label(&self) -> &str {
        match self {
            Subject::App { label, .. }
            | Subject::Hook { label, .. }
            | Subject::UpdateNs { label, .. }
            | Subject::Profile { label } => label,
            Subject::Unconfined => "unconfined",
        }
    }

    /// The snap instance, for a snap's label.
    pub fn snap(&self) -> Option<&str> {
        match self {
            Subject::App { snap, .. } | Subject::Hook { snap, .. } | Subject::UpdateNs { snap, .. } => Some(snap),
            _ => None,
        }
    }

    /// An app or hook of a snap (whose policy interfaces change).
    pub fn is_snap_runnable(&self) -> bool {
        matches!(self, Subject::App { .. } | Subject::Hook { .. })
    }

    /// In words: `snap htop (app htop)`, `profile /usr/bin/foo`...
    pub fn describe(&self) -> String {
        match self {
            Subject::App { snap, app, .. } => format!("snap {snap} (app {app})"),
            Subject::Hook {
                snap,
                hook,
                component: None,
                ..
            } => format!("snap {snap} (hook {hook})"),
            Subject::Hook {
                snap,
                hook,
                component: Some(c),
                ..
            } => format!("snap {snap} (hook {hook} of component {c})"),
            Subject::UpdateNs { snap, label } => format!("the mount helper of snap {snap} ({label})"),
            Subject::Unconfined => "an unconfined process".to_owned(),
            Subject::Profile { label } => format!("profile {label}"),
        }
    }

    /// Like [`Subject::describe`], for the process on the other side:
    /// `a process of snap b (app app)`, `a process under profile foo`.
    pub fn describe_process(&self) -> String {
        match self {
            Subject::Unconfined => "an unconfined process".to_owned(),
            Subject::Profile { label } => format!("a process under profile {label}"),
            other => format!("a process of {}", other.describe()),
        }
    }

    /// Whether `name` (an instance or a snap name) is this label's snap.
    pub fn concerns_snap(&self, name: &str) -> bool {
        self.snap()
            .is_some_and(|s| s == name || s.split('_').next() == Some(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(
            Subject::of("snap.htop.htop"),
            Subject::App {
                label: "snap.htop.htop".into(),
                snap: "htop".into(),
                app: "htop".into()
            }
        );
        assert_eq!(
            Subject::of("snap.a_x.hook.configure (enforce)"),
            Subject::Hook {
                label: "snap.a_x.hook.configure".into(),
                snap: "a_x".into(),
                hook: "configure".into(),
                component: None
            }
        );
        assert!(matches!(Subject::of("snap-update-ns.ab"), Subject::UpdateNs { .. }));
        assert_eq!(Subject::of("unconfined"), Subject::Unconfined);
        assert!(matches!(
            Subject::of("/usr/lib/firefox/firefox{,*[^s][^h]}"),
            Subject::Profile { .. }
        ));
        assert!(matches!(Subject::of("snap.Bad..x"), Subject::Profile { .. }));
        assert!(Subject::of("snap.a_x.app").concerns_snap("a"));
        assert!(!Subject::of("snap.ab.app").concerns_snap("a"));
    }
}
