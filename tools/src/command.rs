//! Running the system's own tools (systemctl, udevadm).

use std::process::Command;

/// Runs `program args...`, quietly; on failure the error names the command
/// and carries what it printed on stderr.
pub fn run(program: &str, args: &[&str]) -> Result<(), String> {
    let what = || format!("{program} {}", args.join(" "));
    let out = Command::new(program).args(args).output().map_err(|e| format!("cannot run {}: {e}", what()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("cannot run {}: {}", what(), String::from_utf8_lossy(&out.stderr).trim()))
    }
}
