//! `confine`: the admin's command. It registers snaps that are on disk,
//! connects their plugs and assigns devices; each change regenerates and
//! loads the affected policy. The work is done by `confine_tools::admin`.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use confine_tools::admin::{self, parse_plug_ref, Admin};
use confine_tools::deploy::namespace::Refreshed;
use confine_tools::deploy::Report;
use confine_tools::interfaces::catalog;
use confine_tools::paths::Paths;

const USAGE: &str = "\
Usage: confine COMMAND [ARGS]

Commands:
  install FILE.snap [--name INSTANCE]
                         install a snap file (a new local revision when the
                         snap is installed already); --name SNAP_KEY installs
                         a parallel instance
  remove SNAP            remove a snap and everything made for it
  recover                roll back an install that was interrupted
  register SNAP_DIR --revision N [--name INSTANCE]
                         record the snap in SNAP_DIR, connect what connects
                         automatically, generate and load its policy
  unregister SNAP        forget a snap: remove its policy and connections
  connect SNAP:PLUG [SLOT]
                         connect a plug to a system slot, or a content plug
                         to another snap's slot
  disconnect SNAP:PLUG   disconnect a plug
  connections [SNAP]     list the plugs of registered snaps and their slots
  interfaces             list the interfaces and the slots created for them
  add-slot NAME INTERFACE ATTR=VALUE...
                         create a system slot that assigns a device
  remove-slot NAME       remove a slot created with add-slot
  denials [--file PATH] [--follow] [--since TIME] [--snap NAME] [--json]
                         explain AppArmor and seccomp denials found in the logs
  gpu [--base BASE] [--json]
                         what strict snaps get of this machine's GPU driver

Run \"confine COMMAND --help\" for more. Changes need root.
Environment: CONFINE_ROOT moves every file the command reads and writes
under another directory (default /). CONFINE_LANDLOCK=always has the launcher
apply the Landlock policies on top of AppArmor too (by default only where the
kernel has no AppArmor).
";

/// Per-command help.
fn help(command: &str) -> Option<&'static str> {
    Some(match command {
        "install" => {
            "\
Usage: confine install FILE.snap [--name INSTANCE]

Installs the snap in FILE.snap (a squashfs file): it is kept under
/var/lib/confine/snaps, mounted read-only at /snap/<name>/<rev> (a systemd mount
unit where systemd runs), /snap/<name>/current points at it, its data directories
/var/snap/<name>/<rev> and /var/snap/<name>/common are created (the data of the
previous revision is copied), its policy is generated and loaded, /snap/bin
wrappers are made for its apps and systemd units for its daemons (started where
systemd runs). Installing a snap that is installed already makes a new revision;
the previous one stays mounted. A failure at any step undoes the steps before.

With --name SNAP_KEY (KEY: 1 to 10 lower case letters and digits) the snap is
installed as a parallel instance beside the snap itself, with files, data,
wrappers (/snap/bin/SNAP_KEY), cookie, /tmp and mount namespace of its own; its
apps see its files as /snap/SNAP and /var/snap/SNAP, as snapd's parallel
instances do (snapd's feature file /var/lib/snapd/features/parallel-instances
must exist for the launcher to map them).
"
        }
        "recover" => {
            "\
Usage: confine recover

Rolls back an install that was interrupted (killed, or the machine stopped):
every step it had made is undone, newest first. install and remove do this
first on their own.
"
        }
        "remove" => {
            "\
Usage: confine remove SNAP

Stops the snap's daemons, discards its preserved mount namespace, removes its
policy (unloading its AppArmor profiles), unmounts every revision and removes
every file made for it: wrappers, units, data directories, users' ~/snap/SNAP,
its private /tmp and its cgroups.
"
        }
        "register" => {
            "\
Usage: confine register SNAP_DIR --revision N [--name INSTANCE]

Records the snap whose files are in SNAP_DIR (read from SNAP_DIR/meta/snap.yaml)
as revision N (a number, or x and a number for local snaps), under the instance
name INSTANCE (default: the snap's name). Plugs of interfaces that connect
automatically are connected. Then the AppArmor profiles, seccomp filters,
Landlock policies (/var/lib/snapd/landlock/<tag>, but for classic snaps), udev
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

A content plug connects to another snap's slot, written PROVIDER:SLOT (or
PROVIDER: for its only slot with the plug's content tag); without SLOT, to its
default provider's slot, or the only registered one with its content tag. The
provider's files are bound at the plug's target in the snap's mount namespace:
a running snap's namespace is updated at once (snap-update-ns), one that nothing
of the snap uses is discarded and built afresh at the next launch. Disconnecting
unmounts them from the running snap too.
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
        "denials" => {
            "\
Usage: confine denials [--file PATH]... [--follow] [--since TIME] [--snap NAME] [--json]

Reads the AppArmor and seccomp audit records of the kernel log (/dev/kmsg, or
dmesg), the journal, /var/log/audit/audit.log and /var/log/kern.log, and explains
each denial: the snap and app (or hook) refused, by AppArmor or by seccomp, which
side refused a signal or ptrace, the rule that was missing, the interface that
would grant it, whether the snap has it connected, and the command that connects
it. Identical denials are shown once, with a count.

  --file PATH    read records from PATH instead (- for standard input); may be
                 given more than once
  --follow       keep watching for new denials
  --since TIME   only denials at or after TIME: @SECONDS, 10m, 2h, 3d, or a date
                 (\"2024-05-01 14:00\", local time)
  --snap NAME    only denials that involve snap NAME (on either side)
  --json         print JSON instead of text

Reading the kernel log needs root, or kernel.dmesg_restrict=0. Whether a plug is
connected is known only to root (the list of connections is root's). Seccomp
denials are logged only when /proc/sys/kernel/seccomp/actions_logged lists the
action (errno, for calls that failed with EPERM or EACCES).
"
        }
        "gpu" => confine_tools::gpu::HELP,
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
        "install" => {
            let (mut file, mut name) = (None, None);
            let mut it = rest.iter();
            while let Some(a) = it.next() {
                match a.as_str() {
                    "--name" => name = Some(it.next().ok_or_else(|| Failure("cannot run install: --name needs a value".into()))?.as_str()),
                    n if n.starts_with("--name=") => name = Some(n.trim_start_matches("--name=")),
                    o if o.starts_with('-') => return Err(Failure(format!("cannot run install: unknown option {o:?}"))),
                    f if file.is_none() => file = Some(f),
                    _ => return Err(wrong_args(command)),
                }
            }
            let file = file.ok_or_else(|| wrong_args(command))?;
            let done = admin()?.install(std::path::Path::new(file), name)?;
            match &done.previous {
                Some(p) => println!("{} refreshed from revision {p} to {}", done.instance, done.revision),
                None => println!("{} revision {} installed", done.instance, done.revision),
            }
            for w in &done.wrappers {
                println!("  command: {}", w.display());
            }
            for s in &done.services {
                println!("  service: {s}{}", if done.started { " (started)" } else { " (no systemd here: not started)" });
            }
            if !done.auto_connected.is_empty() {
                println!("  connected: {}", done.auto_connected.join(", "));
            }
            for w in &done.warnings {
                eprintln!("warning: {w}");
            }
            Ok(())
        }
        "remove" => {
            let [snap] = exactly(command, rest)?;
            admin()?.remove(snap)?;
            println!("{snap} removed");
            Ok(())
        }
        "recover" => {
            let [] = exactly(command, rest)?;
            if admin()?.recover()? {
                println!("an interrupted install was rolled back");
            }
            Ok(())
        }
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
        "denials" => confine_tools::denials::cli::run(rest).map_err(Failure),
        "gpu" => confine_tools::gpu::run(rest).map_err(Failure),
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
    for w in &r.warnings {
        eprintln!("warning: {w}");
    }
    print_report(&r.report);
    Ok(())
}

fn print_report(r: &Report) {
    for w in &r.warnings {
        eprintln!("warning: {w}");
    }
    match r.namespace {
        Some(Refreshed::Updated) => println!("the running snap's mount namespace was updated"),
        Some(Refreshed::Discarded) => println!("the snap's mount namespace was discarded (nothing of it ran); its next launch builds it afresh"),
        _ => {}
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
