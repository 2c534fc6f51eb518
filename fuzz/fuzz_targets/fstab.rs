//! The mount profile parser `snap-update-ns` runs as root on the profiles
//! in /var/lib/snapd/mount and /run/snapd/ns: any text gives entries or an
//! error, never a panic, and what it gives is written back the same way
//! (writing then parsing again gives the same entries).
#![no_main]
use libfuzzer_sys::fuzz_target;
use policy_cache::fstab::MountProfile;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(profile) = MountProfile::parse(text) {
        let written = profile.to_string();
        let again = MountProfile::parse(&written).expect("a written profile parses");
        assert_eq!(again, profile, "round trip of {written:?}");
        for e in &profile.entries {
            let _ = (e.kind(), e.origin(), e.mode(), e.detach());
        }
    }
});
