//! `confine`: the admin's command. It registers snaps that are on disk,
//! connects their plugs and assigns devices; each change regenerates and
//! loads the affected policy. The work is done by `confine_tools::admin`.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use confine_tools::admin::{self, parse_plug_ref, Admin};
use confine_tools::deploy::Report;
use confine_tools::interfaces::catalog;
use confine_tools::paths::Paths;

const USAGE: &str = "\
Usage: confine COMMAND [ARGS]

Commands:
  register SNAP_DIR --revision N [--name INSTANCE]
                         record the snap in SNAP_DIR, connect what connects
                         automatically, generate and load its policy
  unregister SNAP        forget a snap: remove its policy and connections
  connect SNAP:PLUG [SLOT]
                         connect a plug to a system slot
  disconnect SNAP:PLUG   disconnect a plug
  connections [SNAP]     list the plugs of registered snaps and their slots
  interfaces             list the interfaces and the slots created for them
  add-slot NAME INTERFACE ATTR=VALUE...
                         create a system slot that assigns a device
  remove-slot NAME       remove a slot created with add-slot

Run \"confine COMMAND --help\" for more. Changes need root.
Environment: CONFINE_ROOT moves every file the command reads and writes
under another directory (default /).
";

/// Per-command help.
fn help(command: &str) -> Option<&'static str> {
    Some(match command {
        "register" => {
            "\
Usage: confine register SNAP_DIR --revision N [--name INSTANCE]

Records the snap whose files are in SNAP_DIR (read from SNAP_DIR/meta/snap.yaml)
as revision N (a number, or x and a number for local snaps), under the instance
name INSTANCE (default: the snap's name). Plugs of interfaces that connect
automatically are connected. Then the AppArmor profiles, seccomp filters, udev
rules and device cgroup file of every app and hook are written and loaded.
Registering a snap again (a new revision, say) keeps its connections.
"
        }
        "unregister" => {
            "\
Usage: confine unregister SNAP

Forgets the snap instance SNAP: its connections are dropped, every policy file
written for it is removed and its AppArmor profiles are unloaded.
"
        }
        "connect" => {
            "\
Usage: confine connect SNAP:PLUG [SLOT]

Connects plug PLUG of snap SNAP to SLOT, written system:NAME, :NAME or NAME.
Without SLOT, the slot of the plug's interface (:network for network, ...), or
the only slot created with add-slot for it. The snap's policy is regenerated
and loaded; the old policy stays in force if that fails.
"
        }
        "disconnect" => {
            "\
Usage: confine disconnect SNAP:PLUG

Disconnects the plug and regenerates the snap's policy. A plug that was
connected automatically stays disconnected when the snap is registered again.
"
        }
        "connections" => {
            "\
Usage: confine connections [SNAP]

Lists every plug of the registered snaps (or of SNAP): its interface, the slot
it is connected to (- when none) and whether the connection was made
automatically.
"
        }
        "interfaces" => {
            "\
Usage: confine interfaces

Lists the supported interfaces, whether their plugs connect automatically, what
they grant, and the slots created for them with add-slot.
"
        }
        "add-slot" => {
            "\
Usage: confine add-slot NAME INTERFACE ATTR=VALUE...

Creates system slot NAME of a device interface, assigning devices:
  confine add-slot usb0 serial-port path=/dev/ttyUSB0
  confine add-slot cam custom-device devices=/dev/video0,/dev/media0
Connecting a plug to it tags the devices for the snap's device cgroup.
"
        }
        "remove-slot" => {
            "\
Usage: confine remove-slot NAME

Removes a slot created with add-slot; nothing may be connected to it.
"
        }
        _ => return None,
    })
}

struct Failure(String);

impl From<admin::Error> for Failure {
    fn from(e: admin::Error) -> Self {
        Failure(e.0)
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = match std::env::args_os().skip(1).map(|a| a.into_string()).collect() {
        Ok(a) => a,
        Err(_) => {
            eprintln!("cannot run: the arguments are not UTF-8");
            return ExitCode::FAILURE;
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(message)) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn admin() -> Result<Admin, Failure> {
    Ok(Admin::new(Paths::from_env())?)
}

fn run(args: &[String]) -> Result<(), Failure> {
    let Some((command, rest)) = args.split_first() else {
        return Err(Failure("cannot run: no command given (see confine --help)".into()));
    };
    if matches!(command.as_str(), "--help" | "-h" | "help") {
        match rest.first().and_then(|c| help(c)) {
            Some(text) => print!("{text}"),
            None => print!("{USAGE}"),
        }
        return Ok(());
    }
    if command == "--version" {
        println!("confine {}", env!("CARGO_PKG_VERSION"));
        return Ok(());
    }
    let Some(text) = help(command) else {
        return Err(Failure(format!(
            "cannot run: unknown command {command:?} (see confine --help)"
        )));
    };
    if rest.iter().any(|a| a == "--help" || a == "-h") {
        print!("{text}");
        return Ok(());
    }
    match command.as_str() {
        "register" => register(rest),
        "unregister" => {
            let [snap] = exactly(command, rest)?;
            print_report(&admin()?.unregister(snap)?);
            Ok(())
        }
        "connect" => {
            let (plug, slot) = match rest {
                [p] => (p, None),
                [p, s] => (p, Some(s.as_str())),
                _ => return Err(wrong_args(command)),
            };
            if let Some(r) = admin()?.connect(&parse_plug_ref(plug)?, slot)? {
                print_report(&r);
            }
            Ok(())
        }
        "disconnect" => {
            let [plug] = exactly(command, rest)?;
            print_report(&admin()?.disconnect(&parse_plug_ref(plug)?)?);
            Ok(())
        }
        "connections" => {
            let snap = match rest {
                [] => None,
                [s] => Some(s.as_str()),
                _ => return Err(wrong_args(command)),
            };
            connections(snap)
        }
        "interfaces" => {
            let [] = exactly(command, rest)?;
            interfaces()
        }
        "add-slot" => {
            let [name, interface, attrs @ ..] = rest else {
                return Err(wrong_args(command));
            };
            let cat = catalog().map_err(|e| Failure(e.0))?;
            let attrs = admin::parse_slot_attrs(cat, interface, attrs)?;
            admin()?.add_slot(name, interface, attrs)?;
            Ok(())
        }
        "remove-slot" => {
            let [name] = exactly(command, rest)?;
            admin()?.remove_slot(name)?;
            Ok(())
        }
        _ => Err(Failure(format!(
            "cannot run: unknown command {command:?} (see confine --help)"
        ))),
    }
}

fn wrong_args(command: &str) -> Failure {
    Failure(format!(
        "cannot run {command}: wrong arguments (see confine {command} --help)"
    ))
}

fn exactly<'a, const N: usize>(command: &str, args: &'a [String]) -> Result<&'a [String; N], Failure> {
    if args.iter().any(|a| a.starts_with('-')) {
        let bad = args
            .iter()
            .find(|a| a.starts_with('-'))
            .map(String::as_str)
            .unwrap_or("");
        return Err(Failure(format!("cannot run {command}: unknown option {bad:?}")));
    }
    args.try_into().map_err(|_| wrong_args(command))
}

fn register(args: &[String]) -> Result<(), Failure> {
    let mut dir = None;
    let mut revision = None;
    let mut name = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |flag: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| Failure(format!("cannot run register: {flag} needs a value")))
        };
        match arg.as_str() {
            "--revision" => revision = Some(value("--revision")?),
            "--name" => name = Some(value("--name")?),
            a if a.starts_with("--revision=") => revision = Some(a.trim_start_matches("--revision=").to_owned()),
            a if a.starts_with("--name=") => name = Some(a.trim_start_matches("--name=").to_owned()),
            a if a.starts_with('-') => return Err(Failure(format!("cannot run register: unknown option {a:?}"))),
            a if dir.is_none() => dir = Some(PathBuf::from(a)),
            _ => return Err(wrong_args("register")),
        }
    }
    let (Some(dir), Some(revision)) = (dir, revision) else {
        return Err(Failure(
            "cannot run register: need SNAP_DIR and --revision (see confine register --help)".into(),
        ));
    };
    let r = admin()?.register(&dir, &revision, name.as_deref())?;
    println!("{} {} registered", r.instance, r.revision);
    if !r.auto_connected.is_empty() {
        println!("connected automatically: {}", r.auto_connected.join(", "));
    }
    for u in &r.unknown_interfaces {
        println!("warning: plug {u}: interface not supported, it cannot be connected");
    }
    for d in &r.dropped {
        println!("disconnected {d}: the plug is gone or changed interface");
    }
    print_report(&r.report);
    Ok(())
}

fn print_report(r: &Report) {
    for w in &r.warnings {
        eprintln!("warning: {w}");
    }
}

/// Prints rows as aligned columns.
fn table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$}  "));
            }
        }
        println!("{}", out.trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

fn connections(snap: Option<&str>) -> Result<(), Failure> {
    let rows = admin()?.connections(snap)?;
    if rows.is_empty() {
        println!("No plugs.");
        return Ok(());
    }
    let cells: Vec<Vec<String>> = rows
        .into_iter()
        .map(|r| {
            vec![
                r.interface,
                r.plug,
                r.slot,
                if r.notes.is_empty() { "-".into() } else { r.notes },
            ]
        })
        .collect();
    table(&["Interface", "Plug", "Slot", "Notes"], &cells);
    Ok(())
}

fn interfaces() -> Result<(), Failure> {
    let rows = admin()?.interfaces()?;
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let slots = if r.slots.is_empty() {
                "-".to_owned()
            } else {
                r.slots.join(", ")
            };
            vec![r.name.clone(), r.auto_connect.clone(), slots, r.summary.clone()]
        })
        .collect();
    table(&["Name", "Auto-connect", "Slots", "Summary"], &cells);
    Ok(())
}
