//! The mount profile parser `snap-update-ns` runs as root on the profiles
//! in /var/lib/snapd/mount and /run/snapd/ns: any text gives entries or an
//! error, never a panic, and what it gives is written back the same way:
//! writing then parsing again gives the same text, and from then on the same
//! entries. (An entry without options is written `defaults`, which reads
//! back as that one option, as in snapd: the first round may differ there.)
#![no_main]
use libfuzzer_sys::fuzz_target;
use policy_cache::fstab::MountProfile;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(profile) = MountProfile::parse(text) {
        let written = profile.to_string();
        let again = MountProfile::parse(&written).expect("a written profile parses");
        assert_eq!(again.to_string(), written, "text round trip of {text:?}");
        let third = MountProfile::parse(&again.to_string()).expect("a written profile parses");
        assert_eq!(third, again, "entries round trip of {written:?}");
        for (a, b) in again.entries.iter().zip(&profile.entries) {
            let options = if b.options.is_empty() { vec!["defaults".to_owned()] } else { b.options.clone() };
            assert_eq!((&a.name, &a.dir, &a.fstype, &a.options), (&b.name, &b.dir, &b.fstype, &options));
        }
        for e in &profile.entries {
            let _ = (e.kind(), e.origin(), e.mode(), e.detach());
        }
    }
});
