//! `snap-exec`: runs inside the sandbox, as the app's user, right before the
//! app. It reads the snap's `meta/snap.yaml` (the revision comes from
//! `SNAP_REVISION`), restores the `SNAP_SAVED_*` variables of classic apps,
//! applies the snap's and the app's `environment` (expanding `$VARS`), and
//! executes the app's command behind its `command-chain`.

use super::env::SAVED_PREFIX;
use super::expand::expand;
use super::Error;
use crate::snapyaml::SnapYaml;
use std::ffi::OsString;
use std::path::Path;

/// What snap-exec was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecRequest {
    pub command: Option<String>,
    pub hook: Option<String>,
    pub target: String,
    pub args: Vec<OsString>,
}

pub const USAGE: &str = "Usage: snap-exec [--command=shell|complete|stop|reload|post-stop] [--hook=HOOK] SNAP[.APP] [ARG...]";

/// The bash completion helper, next to snap-exec: it runs the snap's
/// `completer` for `--command=complete` (snapd's protocol, see
/// `packaging/completion/etelpmoc.sh`).
pub const COMPLETION_HELPER: &str = "etelpmoc.sh";

fn err(msg: impl Into<String>) -> Error {
    Error(msg.into())
}

pub fn parse_args(argv: Vec<OsString>) -> Result<ExecRequest, Error> {
    let mut rest: Vec<OsString> = argv.into_iter().skip(1).collect();
    let (mut command, mut hook) = (None, None);
    while let Some(first) = rest.first().and_then(|a| a.to_str()).filter(|a| a.starts_with("--")).map(str::to_owned) {
        rest.remove(0);
        if let Some(c) = first.strip_prefix("--command=") {
            command = Some(c.to_string());
        } else if let Some(h) = first.strip_prefix("--hook=") {
            hook = Some(h.to_string());
        } else {
            return Err(err(format!("cannot snap-exec: unknown option {first}\n{USAGE}")));
        }
    }
    if hook.is_some() && (command.is_some() || rest.len() > 1) {
        return Err(err("cannot snap-exec: --hook takes no --command and no arguments"));
    }
    if rest.is_empty() {
        return Err(err(format!("cannot snap-exec: no target\n{USAGE}")));
    }
    let target = rest.remove(0).to_string_lossy().into_owned();
    Ok(ExecRequest { command, hook, target, args: rest })
}

fn set(env: &mut Vec<(String, String)>, k: &str, v: String) {
    env.retain(|(key, _)| key != k);
    env.push((k.to_string(), v));
}

/// The program, its arguments and environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
}

/// Works out what to execute for `req`, from `yaml` and the environment;
/// `helper_dir` is snap-exec's own directory.
pub fn plan(req: &ExecRequest, yaml: &SnapYaml, mut env: Vec<(String, String)>, helper_dir: &str) -> Result<Program, Error> {
    let snap = env
        .iter()
        .find(|(k, _)| k == "SNAP")
        .map(|(_, v)| v.clone())
        .ok_or_else(|| err("cannot snap-exec: SNAP is not set"))?;
    let (chain, app_env, command_line) = match &req.hook {
        Some(h) => {
            let hook = yaml.hooks.get(h).ok_or_else(|| err(format!("cannot snap-exec: no hook {h:?}")))?;
            (hook.command_chain.clone(), hook.environment.clone(), format!("meta/hooks/{h}"))
        }
        None => {
            let app_name = req.target.split_once('.').map(|(_, a)| a).unwrap_or(&yaml.name);
            let app = yaml.apps.get(app_name).ok_or_else(|| err(format!("cannot snap-exec: no app {app_name:?}")))?;
            // Classic apps get back what the launcher's loader would have dropped.
            let saved: Vec<(String, String)> = env
                .iter()
                .filter_map(|(k, v)| k.strip_prefix(SAVED_PREFIX).map(|name| (name.to_string(), v.clone())))
                .collect();
            env.retain(|(k, _)| !k.starts_with(SAVED_PREFIX));
            for (k, v) in saved {
                set(&mut env, &k, v);
            }
            let line = match req.command.as_deref() {
                None | Some("") => app.command.clone(),
                Some("shell") => String::new(),
                Some("complete") => {
                    app.completer.clone().ok_or_else(|| err(format!("cannot snap-exec: app {app_name:?} has no completer")))?
                }
                Some("stop") => app.service.stop_command.clone().ok_or_else(|| err("cannot snap-exec: no stop-command"))?,
                Some("reload") => app.service.reload_command.clone().ok_or_else(|| err("cannot snap-exec: no reload-command"))?,
                Some("post-stop") => {
                    app.service.post_stop_command.clone().ok_or_else(|| err("cannot snap-exec: no post-stop-command"))?
                }
                Some(other) => return Err(err(format!("cannot snap-exec: cannot use {other:?} command"))),
            };
            (app.command_chain.clone(), app.environment.clone(), line)
        }
    };
    for (k, v) in yaml.environment.iter().chain(app_env.iter()) {
        let value = {
            let lookup = |name: &str| env.iter().find(|(key, _)| key == name).map(|(_, v)| v.clone());
            expand(v, &lookup)
        };
        set(&mut env, k, value);
    }
    let lookup = |name: &str| env.iter().find(|(key, _)| key == name).map(|(_, v)| v.clone());
    let mut argv: Vec<String> = chain.iter().map(|c| format!("{snap}/{c}")).collect();
    if req.command.as_deref() == Some("shell") {
        argv = vec!["/bin/bash".to_string()];
    } else if req.command.as_deref() == Some("complete") {
        // bash runs the helper, which sources the completer and answers.
        argv.extend(["/bin/bash".to_string(), format!("{helper_dir}/{COMPLETION_HELPER}"), format!("{snap}/{command_line}")]);
    } else {
        let mut words = command_line.split_whitespace();
        let first = words.next().ok_or_else(|| err("cannot snap-exec: empty command"))?;
        argv.push(format!("{snap}/{first}"));
        argv.extend(words.map(|w| expand(w, &lookup)).filter(|w| !w.is_empty()));
    }
    argv.extend(req.args.iter().map(|a| a.to_string_lossy().into_owned()));
    Ok(Program { argv, env })
}

/// Reads the snap.yaml of the running snap (`$SNAP/meta/snap.yaml`).
pub fn read_yaml(env: &[(String, String)]) -> Result<SnapYaml, Error> {
    let snap = env.iter().find(|(k, _)| k == "SNAP").map(|(_, v)| v.clone()).ok_or_else(|| err("cannot snap-exec: SNAP is not set"))?;
    SnapYaml::read_dir(Path::new(&snap)).map_err(|e| err(format!("cannot snap-exec: {e}")))
}

/// Executes the program; returns only on failure.
pub fn exec(p: Program) -> Error {
    use std::os::unix::process::CommandExt;
    let Some((program, args)) = p.argv.split_first() else { return err("cannot snap-exec: nothing to execute") };
    let e = std::process::Command::new(program).args(args).env_clear().envs(p.env).exec();
    err(format!("cannot snap-exec: cannot execute {program}: {e}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    fn yaml() -> SnapYaml {
        crate::snapyaml::parse(
            "name: hello\nversion: '1'\nenvironment:\n  GREETING: hi\n  LIBS: $SNAP/lib\napps:\n  hello:\n    command: bin/hello --from $SNAP_NAME $NOPE\n    command-chain: [bin/wrap]\n    completer: share/complete.sh\n    environment:\n      LIBS: $LIBS:$SNAP/usr/lib\n  d:\n    command: bin/d\n    daemon: simple\n    stop-command: bin/stop\nhooks:\n  configure:\n    environment:\n      H: '1'\n",
        )
        .unwrap()
    }

    fn env() -> Vec<(String, String)> {
        vec![
            ("SNAP".into(), "/snap/hello/x1".into()),
            ("SNAP_NAME".into(), "hello".into()),
            ("SNAP_SAVED_LD_LIBRARY_PATH".into(), "/opt".into()),
        ]
    }

    fn req(args: &[&str]) -> ExecRequest {
        let mut v: Vec<OsString> = vec!["snap-exec".into()];
        v.extend(args.iter().map(OsString::from));
        parse_args(v).unwrap()
    }

    fn get<'a>(p: &'a Program, k: &str) -> Option<&'a str> {
        p.env.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str())
    }

    #[test]
    fn app_command_with_chain_environment_and_saved_variables() {
        let p = plan(&req(&["hello.hello", "a b"]), &yaml(), env(), "/usr/lib/snapd").unwrap();
        assert_eq!(p.argv, ["/snap/hello/x1/bin/wrap", "/snap/hello/x1/bin/hello", "--from", "hello", "a b"]);
        assert_eq!(get(&p, "GREETING"), Some("hi"));
        assert_eq!(get(&p, "LIBS"), Some("/snap/hello/x1/lib:/snap/hello/x1/usr/lib"));
        assert_eq!(get(&p, "LD_LIBRARY_PATH"), Some("/opt"));
        assert_eq!(get(&p, "SNAP_SAVED_LD_LIBRARY_PATH"), None);
    }

    #[test]
    fn other_commands_and_hooks() {
        assert_eq!(plan(&req(&["--command=stop", "hello.d"]), &yaml(), env(), "/usr/lib/snapd").unwrap().argv, ["/snap/hello/x1/bin/stop"]);
        assert_eq!(plan(&req(&["--command=shell", "hello.hello"]), &yaml(), env(), "/usr/lib/snapd").unwrap().argv, ["/bin/bash"]);
        let h = plan(&req(&["--hook=configure", "hello"]), &yaml(), env(), "/usr/lib/snapd").unwrap();
        assert_eq!(h.argv, ["/snap/hello/x1/meta/hooks/configure"]);
        assert_eq!(get(&h, "H"), Some("1"));
        assert_eq!(get(&h, "SNAP_SAVED_LD_LIBRARY_PATH"), Some("/opt"), "hooks keep the saved variables");
        assert_eq!(plan(&req(&["--command=reload", "hello.d"]), &yaml(), env(), "/usr/lib/snapd").unwrap_err().0, "cannot snap-exec: no reload-command");
        assert_eq!(plan(&req(&["--command=fly", "hello.hello"]), &yaml(), env(), "/usr/lib/snapd").unwrap_err().0, "cannot snap-exec: cannot use \"fly\" command");
        assert!(parse_args(vec!["x".into(), "--hook=a".into(), "s".into(), "extra".into()]).is_err());
        let c = plan(&req(&["--command=complete", "hello.hello", "9", "63", "5"]), &yaml(), env(), "/usr/lib/snapd").unwrap();
        assert_eq!(
            c.argv,
            ["/snap/hello/x1/bin/wrap", "/bin/bash", "/usr/lib/snapd/etelpmoc.sh", "/snap/hello/x1/share/complete.sh", "9", "63", "5"]
        );
        assert_eq!(
            plan(&req(&["--command=complete", "hello.d"]), &yaml(), env(), "/usr/lib/snapd").unwrap_err().0,
            "cannot snap-exec: app \"d\" has no completer"
        );
        assert_eq!(plan(&req(&["hello.nope"]), &yaml(), env(), "/usr/lib/snapd").unwrap_err().0, "cannot snap-exec: no app \"nope\"");
    }
}
