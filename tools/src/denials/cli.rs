//! `confine denials`: the command line.

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::mpsc;

use crate::paths::Paths;

use super::context::Context;
use super::group::{Added, Collector, Filter};
use super::record::Time;
use super::render;
use super::sources::{self, Source};
use super::time;

/// The options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    pub files: Vec<PathBuf>,
    pub follow: bool,
    pub since: Option<String>,
    pub snap: Option<String>,
    pub json: bool,
}

/// Reads the options of `confine denials`.
pub fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut o = Options::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => it
                    .next()
                    .cloned()
                    .ok_or_else(|| format!("cannot run denials: {name} needs a value")),
            }
        };
        match flag {
            "--file" | "-f" => o.files.push(PathBuf::from(value("--file")?)),
            "--since" => o.since = Some(value("--since")?),
            "--snap" => o.snap = Some(value("--snap")?),
            "--follow" if inline.is_none() => o.follow = true,
            "--json" if inline.is_none() => o.json = true,
            _ => {
                return Err(format!(
                    "cannot run denials: unknown argument {arg:?} (see confine denials --help)"
                ))
            }
        }
    }
    if let Some(s) = &o.snap {
        naming::InstanceName::parse(s).map_err(|e| format!("cannot run denials: {}", e.0))?;
    }
    Ok(o)
}

/// Why output stopped.
enum Stop {
    /// Our reader went away (`confine denials | head`).
    Pipe,
    Fail(String),
}

fn emit(text: &str) -> Result<(), Stop> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Err(Stop::Pipe),
        Err(e) => Err(Stop::Fail(format!("cannot write the output: {e}"))),
    }
}

/// Runs `confine denials ARGS`.
pub fn run(args: &[String]) -> Result<(), String> {
    let options = parse_args(args)?;
    match run_with(&options, &Paths::from_env()) {
        Ok(()) | Err(Stop::Pipe) => Ok(()),
        Err(Stop::Fail(m)) => Err(m),
    }
}

fn run_with(o: &Options, paths: &Paths) -> Result<(), Stop> {
    let since: Option<Time> = match &o.since {
        Some(s) => Some(time::parse_since(s, time::now()).map_err(Stop::Fail)?),
        None => None,
    };
    let ctx = Context::new(paths).map_err(Stop::Fail)?;
    let mut collector = Collector::new(
        &ctx,
        Filter {
            since,
            snap: o.snap.clone(),
        },
    );
    let named = !o.files.is_empty();
    let mut pending: Vec<Source> = if named {
        o.files.iter().cloned().map(Source::File).collect()
    } else {
        sources::default_sources(paths)
    };
    let mut readable = Vec::new();
    let mut warnings = Vec::new();
    let mut kernel_error = None;
    while !pending.is_empty() {
        let source = pending.remove(0);
        match sources::read(&source, since) {
            Ok((lines, read)) => {
                for l in &lines {
                    collector.add_line(l);
                }
                readable.push((source, read));
            }
            Err(e) => {
                let kernel = matches!(source, Source::Kmsg(_) | Source::Dmesg);
                if named {
                    return Err(Stop::Fail(e.message));
                }
                if e.absent {
                    if matches!(source, Source::Kmsg(_)) && paths.is_system() {
                        pending.insert(0, Source::Dmesg);
                    }
                } else if kernel {
                    kernel_error = Some(e.message);
                } else {
                    warnings.push(e.message);
                }
            }
        }
    }
    if let Some(k) = &kernel_error {
        // Nothing else to show: the kernel log was the thing to read.
        if collector.groups.is_empty() && !o.follow {
            return Err(Stop::Fail(k.clone()));
        }
        warnings.insert(0, k.clone());
    }
    if readable.is_empty() && !o.follow {
        return Err(Stop::Fail(
            "cannot find any log to read: no kernel log, journal, /var/log/audit/audit.log or \
             /var/log/kern.log here (give a saved log with --file)"
                .into(),
        ));
    }
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    if o.json && !o.follow {
        let doc = render::json(&collector, &warnings);
        return emit(&format!("{}\n", serde_json::to_string_pretty(&doc).unwrap_or_default()));
    }
    if o.follow {
        for g in &collector.groups {
            emit(&follow_output(o.json, g, None))?;
        }
    } else {
        emit(&render::text(&collector))?;
        if collector.groups.is_empty() && kernel_error.is_none() {
            emit(
                "(Seccomp denials are logged only when /proc/sys/kernel/seccomp/actions_logged lists the \
                 action, errno for calls that failed with EPERM or EACCES.)\n",
            )?;
        }
        return Ok(());
    }
    if readable.is_empty() {
        return Err(Stop::Fail(
            kernel_error.unwrap_or_else(|| "cannot find any log to follow".into()),
        ));
    }
    eprintln!("Watching for new denials (Ctrl-C to stop)...");
    let (tx, rx) = mpsc::channel();
    for (s, read) in readable {
        sources::follow(s, read, tx.clone());
    }
    drop(tx);
    for message in rx {
        match message {
            Ok(line) => match collector.add_line(&line) {
                Added::New(i) => {
                    if let Some(g) = collector.groups.get(i) {
                        emit(&follow_output(o.json, g, None))?;
                    }
                }
                Added::Repeat(i) => {
                    if let Some(g) = collector.groups.get(i) {
                        emit(&follow_output(o.json, g, Some(g.count)))?;
                    }
                }
                _ => {}
            },
            Err(e) => eprintln!("warning: {e}"),
        }
    }
    Ok(())
}

/// What `--follow` prints for a new denial, or a repeat (`count`).
fn follow_output(json: bool, g: &super::group::Group, repeat: Option<usize>) -> String {
    match (json, repeat) {
        (true, None) => {
            let mut v = render::group_json(g);
            if let Some(obj) = v.as_object_mut() {
                obj.insert("event".into(), "denial".into());
            }
            format!("{v}\n")
        }
        (true, Some(n)) => format!(
            "{}\n",
            serde_json::json!({
                "event": "repeat",
                "count": n,
                "summary": g.explanation.summary,
                "last_seen": g.last.map(time::format_utc),
            })
        ),
        (false, None) => format!("{}\n", render::group_text(g)),
        (false, Some(n)) => format!("Again ({n} times so far): {}\n\n", g.explanation.summary),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn options() {
        let o = parse_args(&args(&[
            "--file",
            "a",
            "--file=b",
            "--since",
            "10m",
            "--snap=htop",
            "--json",
            "--follow",
        ]))
        .unwrap();
        assert_eq!(o.files, vec![PathBuf::from("a"), PathBuf::from("b")]);
        assert_eq!(o.since.as_deref(), Some("10m"));
        assert_eq!(o.snap.as_deref(), Some("htop"));
        assert!(o.json && o.follow);
        assert!(parse_args(&args(&["--file"])).unwrap_err().contains("needs a value"));
        assert!(parse_args(&args(&["--bogus"]))
            .unwrap_err()
            .contains("unknown argument"));
        assert!(parse_args(&args(&["--json=1"])).is_err());
        assert!(parse_args(&args(&["--snap", "Bad Name"])).is_err());
    }
}
