//! The mountinfo parser the launcher runs on /proc/self/mountinfo (paths
//! with spaces, newlines, backslashes and octal escapes in them): any text
//! gives entries or an error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(entries) = confine::mountinfo::parse(text) {
        assert!(entries.len() <= text.lines().count(), "more entries than lines");
        for e in &entries {
            let _ = confine::mountinfo::last_at(&entries, &e.mount_point);
        }
    }
});
