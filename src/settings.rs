//! The launcher's own environment variables, parsed strictly: a value we do
//! not understand stops the launch instead of being guessed at.

use crate::config::{DEFAULT_PROFILE_WAIT_SECS, MAX_PROFILE_WAIT_SECS};
use crate::error::{Error, Result};
use std::ffi::{OsStr, OsString};
use std::time::Duration;

/// The environment as given to us, in order; duplicates are kept.
pub type Env = Vec<(OsString, OsString)>;

/// The first value of `key`, as `getenv` would return it.
pub fn lookup<'a>(env: &'a Env, key: &str) -> Option<&'a OsStr> {
    env.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_os_str())
}

/// What the launcher's own variables ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub debug: bool,
    pub profile_wait: Duration,
}

fn parse_bool(key: &str, value: &OsStr) -> Result<bool> {
    match value.to_str() {
        Some("1" | "yes" | "true") => Ok(true),
        Some("" | "0" | "no" | "false") => Ok(false),
        _ => Err(Error::because(
            format!("use {key}={}", value.to_string_lossy().escape_debug()),
            "expected 1, yes, true, 0, no, false or nothing",
        )),
    }
}

fn parse_wait(value: &OsStr) -> Result<Duration> {
    let text = value.to_str().unwrap_or("");
    let invalid = || {
        Error::because(
            format!("use SNAP_CONFINE_MAX_PROFILE_WAIT={}", value.to_string_lossy().escape_debug()),
            "expected a positive number of seconds",
        )
    };
    if text.is_empty() || text.len() > 64 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    // Digits only: the only way to fail now is overflow, which is capped.
    let secs = text.parse::<u64>().unwrap_or(u64::MAX);
    if secs == 0 {
        return Err(invalid());
    }
    Ok(Duration::from_secs(secs.min(MAX_PROFILE_WAIT_SECS)))
}

impl Settings {
    pub fn from_env(env: &Env) -> Result<Settings> {
        let mut debug = false;
        for key in ["SNAP_CONFINE_DEBUG", "SNAPD_DEBUG"] {
            if let Some(v) = lookup(env, key) {
                debug |= parse_bool(key, v)?;
            }
        }
        let profile_wait = match lookup(env, "SNAP_CONFINE_MAX_PROFILE_WAIT") {
            Some(v) => parse_wait(v)?,
            None => Duration::from_secs(DEFAULT_PROFILE_WAIT_SECS),
        };
        Ok(Settings { debug, profile_wait })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        pairs.iter().map(|(k, v)| (OsString::from(k), OsString::from(v))).collect()
    }

    #[test]
    fn defaults() {
        assert_eq!(Settings::from_env(&env(&[])).unwrap(), Settings { debug: false, profile_wait: Duration::from_secs(120) });
    }

    #[test]
    fn debug_values() {
        for v in ["1", "yes", "true"] {
            assert!(Settings::from_env(&env(&[("SNAP_CONFINE_DEBUG", v)])).unwrap().debug);
            assert!(Settings::from_env(&env(&[("SNAPD_DEBUG", v)])).unwrap().debug);
        }
        for v in ["0", "no", "", "false"] {
            assert!(!Settings::from_env(&env(&[("SNAP_CONFINE_DEBUG", v)])).unwrap().debug);
        }
        assert_eq!(
            Settings::from_env(&env(&[("SNAP_CONFINE_DEBUG", "2")])).unwrap_err().to_string(),
            "cannot use SNAP_CONFINE_DEBUG=2: expected 1, yes, true, 0, no, false or nothing"
        );
        // The first of duplicate keys wins, as with getenv.
        assert!(Settings::from_env(&env(&[("SNAPD_DEBUG", "1"), ("SNAPD_DEBUG", "bogus")])).unwrap().debug);
    }

    #[test]
    fn profile_wait_is_strict_and_capped() {
        let w = |v: &str| Settings::from_env(&env(&[("SNAP_CONFINE_MAX_PROFILE_WAIT", v)])).map(|s| s.profile_wait);
        assert_eq!(w("3").unwrap(), Duration::from_secs(3));
        assert_eq!(w("3600").unwrap(), Duration::from_secs(3600));
        assert_eq!(w("3601").unwrap(), Duration::from_secs(3600));
        assert_eq!(w("99999999999999999999999999").unwrap(), Duration::from_secs(3600));
        for bad in ["", "0", "-1", "1e99", "abc", " 3", "3 ", "+3", "0x10", "٣"] {
            assert_eq!(
                w(bad).unwrap_err().to_string(),
                format!("cannot use SNAP_CONFINE_MAX_PROFILE_WAIT={}: expected a positive number of seconds", bad.escape_debug()),
                "{bad:?}"
            );
        }
        assert!(w(&"9".repeat(65)).is_err());
    }
}
