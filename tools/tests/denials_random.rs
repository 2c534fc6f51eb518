//! Random and mutated lines through the denial parser and explainer, so
//! the normal test run does a little of what the fuzz targets in fuzz/ do
//! at length: nothing panics, every line is a record, skipped or other,
//! and a record cut inside a quoted value is never taken for a whole one.
//! `CONFINE_RANDOM_SEED=N` replays a run; `CONFINE_RANDOM_LINES=N` makes it
//! longer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::Path;

use confine_tools::denials::group::{Collector, Filter};
use confine_tools::denials::{parse_line, render, sources, Context, Line};

/// xorshift64*: small, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

fn seeds() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/denials");
    let mut lines: Vec<String> = std::fs::read_to_string(dir.join("real.log"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    lines.extend(
        [
            r#"audit: type=1326 audit(1600000034.034:34): auid=1000 uid=1000 gid=1000 ses=2 subj=snap.a.app (enforce) pid=40 comm="nice" exe="/usr/bin/nice" sig=0 arch=c000003e syscall=141 compat=0 ip=0x7f1234 code=0x50000"#,
            r#"type=SECCOMP msg=audit(1600000036.036:36): auid=1000 subj=snap.a.app pid=42 comm="x" exe="/x" sig=0 arch=40000003 syscall=26 compat=1 ip=0x1 code=0x50000"#,
            r#"audit: type=1107 audit(1600000030.030:30): pid=795 uid=103 subj=unconfined msg='apparmor="DENIED" operation="dbus_method_call"  bus="system" path="/org/freedesktop/hostname1" interface="org.freedesktop.DBus.Properties" member="GetAll" mask="send" name="org.freedesktop.hostname1" pid=1234 label="snap.a.app" peer_pid=800 peer_label="unconfined" exe="/usr/bin/dbus-daemon"'"#,
            r#"6,1234,5678,-;audit: type=1400 audit(1600000026.026:26): apparmor="DENIED" operation="connect" profile="snap.a.app" pid=34 comm="xeyes" family="unix" sock_type="stream" protocol=0 requested_mask="send receive connect" denied_mask="send connect" addr=none peer_addr="@/tmp/.X11-unix/X0" peer="unconfined""#,
            r#"[   12.345678] audit: type=1400 audit(1600000022.022:22): apparmor="DENIED" operation="mount" info="failed flags match" error=-13 profile="snap.a.app" name="/mnt/" pid=30 comm="mount" fstype="tmpfs" srcname="tmpfs" flags="rw, nosuid""#,
            r#"May 01 14:06:50 host audit[47]: AVC apparmor="DENIED" operation="capable" profile="snap-update-ns.a" pid=47 comm="x" capability=21  capname="sys_admin""#,
            r#"audit: type=1400 audit(1600000001.001:1): apparmor="ALLOWED" operation="open" profile="snap.a.hook.configure" name=2F746D702F6D792066696C65 pid=10 comm=6D7920617070 requested_mask="r" denied_mask="r" fsuid=1000 ouid=1000"#,
        ]
        .map(str::to_owned),
    );
    lines
}

const TOKENS: &[&str] = &[
    " ",
    "=",
    "\"",
    "'",
    "\u{1d}",
    "\u{0}",
    "é",
    "type=1400 ",
    "type=1326 ",
    "type=AVC msg=",
    "audit(",
    "audit(1.2:3): ",
    "audit[1]: AVC ",
    "apparmor=\"DENIED\" ",
    "operation=\"signal\" ",
    "operation=\"ptrace\" ",
    "operation=\"mount\" ",
    "operation=\"dbus_bind\" ",
    "profile=\"snap.a.app\" ",
    "profile=\"/usr/bin/{a,*}\" ",
    "peer=\"snap.b.app\" ",
    "peer=2F61 ",
    "name=2F ",
    "name=\"/a b\" ",
    "denied_mask=\"readby\" ",
    "denied_mask=\"send\" ",
    "signal=",
    "family=\"unix\" ",
    "capability=99999999999999999999 ",
    "capability=40 ",
    "pid=-1 ",
    "arch=ffffffff ",
    "syscall=4294967295 ",
    "code=0x7ffc0000",
    "subj=snap.a.app (complain) ",
    "msg='apparmor=\"DENIED\" ",
];

/// A mutated copy of a seed line.
fn mutate(rng: &mut Rng, line: &str) -> String {
    let mut bytes = line.as_bytes().to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(6) {
            0 => bytes.truncate(at),
            1 => {
                if at < bytes.len() {
                    bytes[at] ^= 1 << rng.below(8);
                }
            }
            2 => {
                let t = rng.pick(TOKENS).as_bytes().to_vec();
                bytes.splice(at..at, t);
            }
            3 => {
                let end = (at + rng.below(20)).min(bytes.len());
                bytes.drain(at..end);
            }
            4 => {
                let copy = bytes[at..].to_vec();
                bytes.extend(copy);
            }
            _ => {
                let b = (rng.next() & 0xff) as u8;
                bytes.insert(at, b);
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn random_line(rng: &mut Rng) -> String {
    let mut s = String::new();
    for _ in 0..rng.below(12) {
        if rng.below(3) == 0 {
            let n = rng.below(8);
            s.extend((0..n).map(|_| char::from((rng.next() % 0x7f) as u8)));
        } else {
            s.push_str(rng.pick(TOKENS));
        }
    }
    s
}

#[test]
fn random_and_mutated_lines() {
    let seed: u64 = std::env::var("CONFINE_RANDOM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    let count: usize = std::env::var("CONFINE_RANDOM_LINES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    eprintln!("seed {seed} (CONFINE_RANDOM_SEED={seed} replays it), {count} lines");
    let mut rng = Rng(seed);
    let seeds = seeds();
    let ctx = Context::with_state(Err("random test".into()), Path::new("/nonexistent")).unwrap();
    let mut c = Collector::new(&ctx, Filter::default());
    let mut kinds = [0usize; 3];
    for i in 0..count {
        let line = if i % 3 == 0 {
            random_line(&mut rng)
        } else {
            let s = &seeds[rng.below(seeds.len())];
            mutate(&mut rng, s)
        };
        let k = match parse_line(&line) {
            Line::Record(_) => 0,
            Line::Skipped(why) => {
                assert!(!why.is_empty());
                1
            }
            Line::Other => 2,
        };
        kinds[k] += 1;
        let _ = sources::journal_line(&line);
        // Explaining is slower: every few lines go through the whole
        // collector (parse, explain, group).
        if i % 10 == 0 {
            c.add_line(&line);
        }
    }
    assert_eq!(c.records + c.duplicates + c.skipped + c.other, count.div_ceil(10));
    let _ = render::text(&c);
    let _ = render::json(&c, &[]);
    eprintln!("records {}, skipped {}, other {}", kinds[0], kinds[1], kinds[2]);
    // The mutations keep enough records whole to exercise the explainer.
    assert!(kinds[0] > count / 20 && kinds[1] > count / 20, "{kinds:?}");
}

#[test]
fn every_cut_of_a_record_is_safe() {
    for line in seeds() {
        let mut cut_in_quotes = false;
        let mut quote: Option<char> = None;
        for (at, ch) in line.char_indices() {
            let prefix = &line[..at];
            let result = parse_line(prefix);
            // Cut inside a quoted value: never a record.
            if cut_in_quotes && quote.is_some() {
                assert!(!matches!(result, Line::Record(_)), "{prefix}");
            }
            match (quote, ch) {
                (None, '"' | '\'') if prefix.ends_with('=') => {
                    quote = Some(ch);
                    cut_in_quotes = true;
                }
                (Some(q), c) if c == q => quote = None,
                _ => {}
            }
        }
        assert!(matches!(parse_line(&line), Line::Record(_)), "{line}");
    }
}
