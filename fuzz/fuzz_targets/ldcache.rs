//! The ld.so cache parser the launcher runs as root on /etc/ld.so.cache:
//! any bytes give entries or an error, never a panic or a read out of
//! bounds.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(entries) = confine::gpu::ldcache::parse(data) {
        for e in &entries {
            let _ = (e.dir(), confine::gpu::ldcache::word_of(e.flags));
        }
    }
});
