//! snap-run's D-Bus calls, through zbus: systemd's `StartTransientUnit`,
//! which puts the app in its own scope, and the desktop notice shown while a
//! refresh holds an app back. Buses are never started: the session bus is
//! used only where one runs.

use std::collections::HashMap;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use zbus::blocking::connection::Builder;
use zbus::blocking::{Connection, MessageIterator};
use zbus::zvariant::{OwnedObjectPath, Value};

/// Which bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bus {
    Session,
    System,
}

impl Bus {
    pub fn name(self) -> &'static str {
        match self {
            Bus::Session => "session bus",
            Bus::System => "system bus",
        }
    }
}

/// How long a call may take before we give up on it.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// The session bus of the caller: `DBUS_SESSION_BUS_ADDRESS`, else
/// `/run/user/<uid>/bus` when it is a socket (what dbus-user-session and
/// systemd's user instance make).
pub fn session_address(uid: u32, env: &[(String, String)]) -> Option<String> {
    use std::os::unix::fs::FileTypeExt;
    if let Some((_, a)) = env.iter().find(|(k, v)| k == "DBUS_SESSION_BUS_ADDRESS" && !v.is_empty()) {
        return Some(a.clone());
    }
    let socket = format!("/run/user/{uid}/bus");
    std::fs::metadata(&socket).ok().filter(|m| m.file_type().is_socket()).map(|_| format!("unix:path={socket}"))
}

/// The system bus: `DBUS_SYSTEM_BUS_ADDRESS`, else D-Bus's standard socket.
fn system_address(env: &[(String, String)]) -> String {
    env.iter()
        .find(|(k, v)| k == "DBUS_SYSTEM_BUS_ADDRESS" && !v.is_empty())
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| "unix:path=/run/dbus/system_bus_socket".to_string())
}

/// Connects to `bus`.
pub fn connect(bus: Bus, uid: u32, env: &[(String, String)]) -> Result<Connection, String> {
    let address = match bus {
        Bus::Session => session_address(uid, env).ok_or("no session bus runs for this user")?,
        Bus::System => system_address(env),
    };
    Builder::address(address.as_str())
        .and_then(|b| b.method_timeout(CALL_TIMEOUT).build())
        .map_err(|e| format!("cannot connect to the {} at {address}: {e}", bus.name()))
}

/// Why a scope was not made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeError {
    /// Nothing on this bus can make it (no systemd there, no permission,
    /// systemd too old): another bus, or no scope.
    Unavailable(String),
    /// systemd refused or failed.
    Failed(String),
}

const SYSTEMD: &str = "org.freedesktop.systemd1";
const SYSTEMD_PATH: &str = "/org/freedesktop/systemd1";
const MANAGER: &str = "org.freedesktop.systemd1.Manager";

/// Asks systemd on `conn` for the transient scope `unit` holding process
/// `pid` (`StartTransientUnit(unit, "fail", [("PIDs", [pid])], [])`, as
/// systemd-run does). With `wait`, also waits for the job to finish (its
/// `JobRemoved` signal) and fails unless it is done.
pub fn start_scope(conn: &Connection, unit: &str, pid: u32, wait: Option<Duration>) -> Result<(), ScopeError> {
    // Subscribed before the call, so the signal cannot be missed.
    let jobs = match wait {
        Some(_) => {
            let rule = format!("type='signal',sender='{SYSTEMD}',interface='{MANAGER}',member='JobRemoved',path='{SYSTEMD_PATH}'");
            Some(
                MessageIterator::for_match_rule(rule.as_str(), conn, Some(64))
                    .map_err(|e| ScopeError::Unavailable(format!("cannot subscribe to systemd's job signals: {e}")))?,
            )
        }
        None => None,
    };
    let properties: Vec<(&str, Value<'_>)> = vec![("PIDs", Value::from(vec![pid]))];
    let aux: Vec<(&str, Vec<(&str, Value<'_>)>)> = Vec::new();
    let reply = conn
        .call_method(Some(SYSTEMD), SYSTEMD_PATH, Some(MANAGER), "StartTransientUnit", &(unit, "fail", properties, aux))
        .map_err(|e| scope_error(unit, e))?;
    let job: OwnedObjectPath = reply
        .body()
        .deserialize()
        .map_err(|e| ScopeError::Failed(format!("cannot create transient scope {unit}: odd reply from systemd: {e}")))?;
    let (Some(jobs), Some(wait)) = (jobs, wait) else { return Ok(()) };
    match wait_for_job(jobs, &job, wait) {
        Some(result) if result == "done" => Ok(()),
        Some(result) => Err(ScopeError::Failed(format!("cannot create transient scope {unit}: its job {} ended {result:?}", job.as_str()))),
        None => Err(ScopeError::Failed(format!("cannot create transient scope {unit}: not done after {} s", wait.as_secs()))),
    }
}

/// The result of job `job`, from the `JobRemoved(id, job, unit, result)`
/// signals; `None` when it did not come in time.
fn wait_for_job(jobs: MessageIterator, job: &OwnedObjectPath, wait: Duration) -> Option<String> {
    let (tx, rx) = mpsc::channel::<(OwnedObjectPath, String)>();
    // The reader blocks on the bus; it ends with the process (it execs).
    std::thread::spawn(move || {
        for msg in jobs.flatten() {
            if let Ok((_id, path, _unit, result)) = msg.body().deserialize::<(u32, OwnedObjectPath, String, String)>() {
                if tx.send((path, result)).is_err() {
                    return;
                }
            }
        }
    });
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        let (path, result) = rx.recv_timeout(left).ok()?;
        if &path == job {
            return Some(result);
        }
    }
}

fn scope_error(unit: &str, e: zbus::Error) -> ScopeError {
    if let zbus::Error::MethodError(name, detail, _) = &e {
        let detail = detail.clone().unwrap_or_default();
        return match name.as_str() {
            // Nothing owns systemd's name here (or cannot be started), the
            // API is missing, or this user may not ask.
            "org.freedesktop.DBus.Error.NameHasNoOwner"
            | "org.freedesktop.DBus.Error.ServiceUnknown"
            | "org.freedesktop.DBus.Error.Spawn.ChildExited"
            | "org.freedesktop.DBus.Error.UnknownMethod"
            | "org.freedesktop.DBus.Error.AccessDenied"
            | "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired" => {
                ScopeError::Unavailable(format!("systemd cannot make {unit} here: {name}: {detail}"))
            }
            "org.freedesktop.systemd1.UnitExists" => ScopeError::Failed(format!("cannot create transient scope: scope {unit:?} clashed: {detail}")),
            _ => ScopeError::Failed(format!("cannot create transient scope {unit}: {name}: {detail}")),
        };
    }
    ScopeError::Unavailable(format!("cannot ask systemd for {unit}: {e}"))
}

const NOTIFICATIONS: &str = "org.freedesktop.Notifications";
const NOTIFICATIONS_PATH: &str = "/org/freedesktop/Notifications";

/// Shows a desktop notice (the freedesktop notification service of the
/// session); returns its id, to close it later.
pub fn notify(conn: &Connection, summary: &str, body: &str) -> Result<u32, String> {
    let actions: Vec<&str> = Vec::new();
    let mut hints: HashMap<&str, Value<'_>> = HashMap::new();
    hints.insert("urgency", Value::U8(1));
    hints.insert("desktop-entry", Value::from("snap-run"));
    let reply = conn
        .call_method(
            Some(NOTIFICATIONS),
            NOTIFICATIONS_PATH,
            Some(NOTIFICATIONS),
            "Notify",
            &("snap-run", 0u32, "", summary, body, actions, hints, -1i32),
        )
        .map_err(|e| format!("cannot show a notice: {e}"))?;
    reply.body().deserialize::<u32>().map_err(|e| format!("cannot show a notice: {e}"))
}

/// Closes a notice shown by [`notify`].
pub fn close_notice(conn: &Connection, id: u32) {
    let _ = conn.call_method(Some(NOTIFICATIONS), NOTIFICATIONS_PATH, Some(NOTIFICATIONS), "CloseNotification", &(id,));
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn addresses() {
        let env = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
        assert_eq!(session_address(4_000_000, &env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/x")).as_deref(), Some("unix:path=/x"));
        assert_eq!(session_address(4_000_000, &env("DBUS_SESSION_BUS_ADDRESS", "")), None, "no bus is started");
        assert_eq!(system_address(&[]), "unix:path=/run/dbus/system_bus_socket");
        assert_eq!(system_address(&env("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/y")), "unix:path=/y");
        let e = connect(Bus::Session, 4_000_000, &[]).unwrap_err();
        assert_eq!(e, "no session bus runs for this user");
        let e = connect(Bus::System, 0, &env("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/bus")).unwrap_err();
        assert!(e.starts_with("cannot connect to the system bus at unix:path=/nonexistent/bus: "), "{e}");
    }
}
