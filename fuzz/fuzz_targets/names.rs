//! The security tag, instance and snap name validators the launcher runs on
//! its command line and environment before anything privileged: any text
//! is accepted or refused, never a panic; what is accepted is consistent
//! (an instance name's parts validate again on their own; a tag names its
//! instance).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(tag) = naming::parse_security_tag(text) {
        // The tag's own pattern is looser than a snap name (as
        // snap-confine's: "snap.s.a" passes it); the launcher then checks
        // the instance against SNAP_INSTANCE_NAME, which is validated whole.
        let rest = text.strip_prefix("snap.").and_then(|r| r.strip_prefix(tag.instance.as_str()));
        assert!(rest.is_some_and(|r| r.starts_with('.') || r.starts_with('+')), "{text:?}: instance {:?}", tag.instance);
        assert_eq!(tag.tag, text);
        let _ = (tag.unit_name(), tag.udev_tag(), tag.is_cookie_exempt_hook());
    }
    if let Ok(name) = naming::InstanceName::parse(text) {
        assert!(naming::validate_snap_name(name.snap_name()).is_ok(), "{text:?}");
        if let Some(key) = name.instance_key() {
            assert!(naming::validate_instance_key(key).is_ok(), "{text:?}");
        }
        let _ = naming::ComponentRef::parse(text, &name);
    }
    let _ = naming::validate_snap_name(text);
    let _ = naming::validate_instance_key(text);
});
