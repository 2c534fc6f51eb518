//! The `.bin2` and `.bin` policy readers the launcher runs as root on the
//! precompiled seccomp policy: any bytes give a policy or an error, never
//! a panic; an accepted policy encodes back to a file that reads the same.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(policy) = policy_cache::parse_bin2(data) {
        let again = policy_cache::encode_bin2(&policy).expect("an accepted policy encodes");
        let back = policy_cache::parse_bin2(&again).expect("an encoded policy reads back");
        assert_eq!(policy_cache::encode_bin2(&back).ok(), Some(again));
        let _ = policy.load_order();
    }
    let _ = policy_cache::parse_bin(data);
});
