//! The security tag, instance and snap name validators the launcher runs on
//! its command line and environment before anything privileged: any text
//! is accepted or refused, never a panic; what is accepted is consistent
//! (its parts validate again on their own).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(tag) = naming::parse_security_tag(text) {
        let instance = naming::InstanceName::parse(&tag.instance);
        assert!(instance.is_ok(), "{text:?}: instance {:?} of an accepted tag", tag.instance);
        assert_eq!(tag.tag, text);
        assert!(text.starts_with("snap."), "{text:?} accepted without the snap. prefix");
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
