//! Times: reading the ones logs give, printing them (UTC), and `--since`.

use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use super::record::Time;

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day number.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `2018-05-01 14:06:50 UTC`.
pub fn format_utc(t: Time) -> String {
    let secs = t.secs as i64;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

/// Up to three digits of a decimal fraction as milliseconds.
pub fn fraction_to_millis(digits: &str) -> Option<u32> {
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut ms = 0u32;
    for i in 0..3 {
        let d = digits.as_bytes().get(i).map(|c| u32::from(c - b'0')).unwrap_or(0);
        ms = ms * 10 + d;
    }
    Some(ms)
}

/// `1525183610.173000` (journalctl -o short-unix).
pub fn parse_unix(text: &str) -> Option<Time> {
    let (secs, frac) = text.split_once('.')?;
    if secs.len() < 9 || !secs.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(Time {
        secs: secs.parse().ok()?,
        millis: fraction_to_millis(frac)?,
    })
}

fn number<T: std::str::FromStr>(text: &str, from: usize, len: usize) -> Option<T> {
    let part = text.get(from..from + len)?;
    if !part.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    part.parse().ok()
}

/// `2018-05-01T14:06:50[.123456](Z|+02:00|+0200)` (journalctl -o
/// short-iso, rsyslog). Without a zone the time is taken as UTC.
pub fn parse_iso(text: &str) -> Option<Time> {
    let y: i64 = number(text, 0, 4)?;
    let mo: u32 = number(text, 5, 2)?;
    let d: u32 = number(text, 8, 2)?;
    let h: i64 = number(text, 11, 2)?;
    let mi: i64 = number(text, 14, 2)?;
    let (s, mut rest) = match text.get(16..17) {
        Some(":") => (number::<i64>(text, 17, 2)?, text.get(19..)?),
        _ => (0, text.get(16..)?),
    };
    let sep_ok = text.get(4..5) == Some("-")
        && text.get(7..8) == Some("-")
        && matches!(text.get(10..11), Some("T" | " "))
        && text.get(13..14) == Some(":");
    if !sep_ok || !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut millis = 0;
    if let Some(frac) = rest.strip_prefix(['.', ',']) {
        let end = frac.find(|c: char| !c.is_ascii_digit()).unwrap_or(frac.len());
        millis = fraction_to_millis(frac.get(..end)?)?;
        rest = frac.get(end..)?;
    }
    let offset = match rest {
        "" | "Z" => 0,
        zone => {
            let sign = match zone.get(..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let digits: String = zone.get(1..)?.chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 {
                return None;
            }
            let zh: i64 = number(&digits, 0, 2)?;
            let zm: i64 = number(&digits, 2, 2)?;
            sign * (zh * 3600 + zm * 60)
        }
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s - offset;
    Some(Time {
        secs: u64::try_from(secs).ok()?,
        millis,
    })
}

/// Now.
pub fn now() -> Time {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    Time {
        secs: d.as_secs(),
        millis: d.subsec_millis(),
    }
}

/// A relative time such as `10m`, `2h`, `3 days ago`, `-90s`: the number
/// of seconds, when `text` is one.
fn relative_seconds(text: &str) -> Option<u64> {
    let t = text.trim();
    let t = t.strip_suffix("ago").unwrap_or(t).trim();
    let t = t.strip_prefix('-').unwrap_or(t).trim();
    let end = t.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = t.split_at(end);
    let n: u64 = n.parse().ok()?;
    let per = match unit.trim() {
        "s" | "sec" | "secs" | "second" | "seconds" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" => 60,
        "h" | "hour" | "hours" => 3600,
        "d" | "day" | "days" => 86_400,
        "w" | "week" | "weeks" => 604_800,
        _ => return None,
    };
    n.checked_mul(per)
}

/// Reads a `--since` value: `@SECONDS`, a relative time (`10m`, `2h`,
/// `3 days ago`), an ISO 8601 time with a zone, or anything `date -d`
/// understands (`yesterday`, `2024-05-01 14:00`, in local time).
pub fn parse_since(text: &str, now: Time) -> Result<Time, String> {
    let bad = |why: &str| format!("cannot understand the time {text:?}: {why}");
    if let Some(secs) = text.strip_prefix('@') {
        let secs: u64 = secs.parse().map_err(|_| bad("expected @SECONDS"))?;
        return Ok(Time { secs, millis: 0 });
    }
    if let Some(ago) = relative_seconds(text) {
        return Ok(Time {
            secs: now.secs.saturating_sub(ago),
            millis: now.millis,
        });
    }
    let zoned = text.len() > 19 && (text.ends_with('Z') || text.get(19..).is_some_and(|z| z.contains(['+', '-'])));
    if zoned {
        if let Some(t) = parse_iso(text) {
            return Ok(t);
        }
    }
    let out = Command::new("date")
        .args(["-d", text, "+%s"])
        .output()
        .map_err(|e| bad(&format!("cannot run date: {e}")))?;
    let printed = String::from_utf8_lossy(&out.stdout);
    match printed.trim().parse::<u64>() {
        Ok(secs) if out.status.success() => Ok(Time { secs, millis: 0 }),
        _ => Err(bad("use @SECONDS, 10m, 2h, 3d, or a date such as \"2024-05-01 14:00\"")),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn civil_round_trip() {
        for day in [-1000, 0, 1, 59, 365, 10_957, 17_652, 20_000, 50_000] {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
        assert_eq!(
            format_utc(Time {
                secs: 1525183610,
                millis: 173
            }),
            "2018-05-01 14:06:50 UTC"
        );
    }

    #[test]
    fn iso_and_unix() {
        let t = parse_iso("2018-05-01T16:06:50.173+02:00").unwrap();
        assert_eq!((t.secs, t.millis), (1525183610, 173));
        assert_eq!(parse_iso("2018-05-01T14:06:50Z").unwrap().secs, 1525183610);
        assert_eq!(parse_iso("2018-05-01T14:06:50+0000").unwrap().secs, 1525183610);
        assert_eq!(parse_iso("2018-05-01 14:06").unwrap().secs, 1525183560);
        assert!(parse_iso("2018-13-01T14:06:50Z").is_none());
        assert!(parse_iso("May  1 14:06:50").is_none());
        assert_eq!(parse_unix("1525183610.173000").unwrap().millis, 173);
        assert!(parse_unix("12.5").is_none());
    }

    #[test]
    fn since() {
        let now = Time {
            secs: 1_000_000,
            millis: 0,
        };
        assert_eq!(parse_since("@42", now).unwrap().secs, 42);
        assert_eq!(parse_since("10m", now).unwrap().secs, 1_000_000 - 600);
        assert_eq!(parse_since("2 hours ago", now).unwrap().secs, 1_000_000 - 7200);
        assert_eq!(parse_since("-1d", now).unwrap().secs, 1_000_000 - 86_400);
        assert_eq!(parse_since("2018-05-01T14:06:50Z", now).unwrap().secs, 1525183610);
        assert!(parse_since("@x", now).is_err());
        assert!(parse_since("not a time at all", now).is_err());
    }
}
