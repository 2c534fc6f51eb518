//! Any bytes, as log lines, through the denial parser (and the journal
//! entry reader): nothing may panic, arithmetic overflow included (fuzz
//! builds check it), and what comes out must be consistent.
#![no_main]

use confine_tools::denials::record::Event;
use confine_tools::denials::{parse_line, sources, Line};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for line in text.lines() {
        match parse_line(line) {
            Line::Record(r) => match &r.event {
                Event::AppArmor(e) => {
                    assert!(!e.operation.is_empty() && !e.profile.is_empty());
                    assert!(e.result == "DENIED" || e.result == "ALLOWED");
                }
                Event::Seccomp(e) => {
                    let _ = e.action().describe();
                }
            },
            Line::Skipped(why) => assert!(!why.is_empty()),
            Line::Other => {}
        }
        if let Some(l) = sources::journal_line(line) {
            let _ = parse_line(&l);
        }
    }
});
